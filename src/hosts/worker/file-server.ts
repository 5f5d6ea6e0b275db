/**
 * The page's handle on the file server (ADR 0025): started with the first process that keeps a
 * home in OPFS, it gets each such process's channel at its start and is told at its end. A
 * channel whose process ended on its own is kept for the next start once the server has let go of
 * it (ADR 0031): its memory is touched already, which a new one pays for at its first use.
 */
import serverUrl from '../../opfs/worker-entry.ts?worker&url';
import { FILE_PROTOCOL, FromFileServer, ToFileServer, allocateFileChannel, closeFileChannel, parseFromFileServer, reuseFileChannel, type NoSpaceMessage } from '../../ipc';

/** Channels kept for reuse: each holds up to 9 MiB of touched memory. */
const SPARE_CHANNELS = 2;

export class FileServer {
  private worker: Worker | undefined;
  /** Channels served now, by id: closed if the server dies, so no process waits on it for ever. */
  private readonly channels = new Map<SharedArrayBuffer, number>();
  /** Channels detached from a process that ended on its own, by id, until the server lets go of them. */
  private readonly returning = new Map<number, SharedArrayBuffer>();
  private readonly spare: SharedArrayBuffer[] = [];
  private nextId = 1;

  /** `noSpace` hears of each write a full disk refused. */
  constructor(private readonly noSpace: (m: NoSpaceMessage) => void = () => {}) {}

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const w = new Worker(serverUrl, { type: 'module', name: 'webmk: files' });
    w.onmessage = (e: MessageEvent<unknown>) => {
      const m = parseFromFileServer(e.data);
      if (m?.type === FromFileServer.nospace) this.noSpace(m);
      if (m?.type !== FromFileServer.released) return;
      const channel = this.returning.get(m.id);
      this.returning.delete(m.id);
      if (channel !== undefined && this.spare.length < SPARE_CHANNELS) this.spare.push(channel);
    };
    w.onerror = (e) => {
      e.preventDefault();
      this.dispose(); // its processes get EIO; the next home starts a new server
    };
    this.worker = w;
    return w;
  }

  /** A channel served in `module`'s home for process `pid`. */
  attach(pid: number, module: string): SharedArrayBuffer {
    const kept = this.spare.pop();
    if (kept !== undefined) reuseFileChannel(kept);
    const channel = kept ?? allocateFileChannel();
    const id = this.nextId++;
    this.channels.set(channel, id);
    this.started().postMessage({ v: FILE_PROTOCOL, type: ToFileServer.attach, id, pid, module, channel });
    return channel;
  }

  /**
   * The process of `channel` has ended. `reusable`: it ended on its own, so its worker will not
   * touch the channel again (a worker ended by the page may run on for a while: its channel is
   * never handed to another process).
   */
  detach(channel: SharedArrayBuffer, reusable = false): void {
    closeFileChannel(channel);
    const id = this.channels.get(channel);
    this.channels.delete(channel);
    if (this.worker === undefined || id === undefined) return;
    if (reusable) this.returning.set(id, channel);
    this.worker.postMessage({ v: FILE_PROTOCOL, type: ToFileServer.detach, id });
  }

  dispose(): void {
    for (const c of this.channels.keys()) closeFileChannel(c);
    this.channels.clear();
    this.returning.clear();
    this.spare.length = 0;
    this.worker?.terminate();
    this.worker = undefined;
  }
}
