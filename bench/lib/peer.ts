/**
 * The other node of the remote figure, in a frame of the bench page: a kernel on the given
 * database (it finds the figure's kernel as a node), or for the raw baselines a BroadcastChannel
 * echo and a held Web Lock. It marks its body `data-peer="ready"` once it is.
 */
import { createKernel } from '../../src/kernel';

export async function startPeer(db: string, raw: boolean): Promise<void> {
  if (raw) {
    await new Promise<void>((held) => {
      void navigator.locks.request(`bench-raw-lock/${db}`, () => {
        held();
        return new Promise<void>(() => {});
      });
    });
    const ch = new BroadcastChannel(`bench-echo/${db}`);
    ch.onmessage = (e: MessageEvent) => ch.postMessage({ to: 'back', msg: (e.data as { msg: unknown }).msg });
  } else {
    const kernel = createKernel({ dbName: db });
    await kernel.ready;
  }
  document.body.dataset.peer = 'ready';
}
