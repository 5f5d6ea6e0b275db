/**
 * The page's handle on the file server (ADR 0025): started with the first process that keeps a
 * home in OPFS, it gets each such process's channel at its start and is told at its end.
 */
import serverUrl from '../../opfs/worker-entry.ts?worker&url';
import { FILE_PROTOCOL, ToFileServer, allocateFileChannel, closeFileChannel, parseFromFileServer, type NoSpaceMessage } from '../../ipc';

export class FileServer {
  private worker: Worker | undefined;
  /** Channels served now: closed if the server dies, so no process waits on it for ever. */
  private readonly channels = new Set<SharedArrayBuffer>();

  /** `noSpace` hears of each write a full disk refused. */
  constructor(private readonly noSpace: (m: NoSpaceMessage) => void = () => {}) {}

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const w = new Worker(serverUrl, { type: 'module', name: 'webmk: files' });
    w.onmessage = (e: MessageEvent<unknown>) => {
      const m = parseFromFileServer(e.data);
      if (m !== null) this.noSpace(m);
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
    const channel = allocateFileChannel();
    this.channels.add(channel);
    this.started().postMessage({ v: FILE_PROTOCOL, type: ToFileServer.attach, pid, module, channel });
    return channel;
  }

  /** The process of `channel` has ended. */
  detach(channel: SharedArrayBuffer): void {
    closeFileChannel(channel);
    this.channels.delete(channel);
    this.worker?.postMessage({ v: FILE_PROTOCOL, type: ToFileServer.detach, channel });
  }

  dispose(): void {
    for (const c of this.channels) closeFileChannel(c);
    this.channels.clear();
    this.worker?.terminate();
    this.worker = undefined;
  }
}
