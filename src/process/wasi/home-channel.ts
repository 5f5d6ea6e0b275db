/**
 * A process's side of its channel to the file server (ADR 0025, src/ipc/file-channel.ts): the
 * requests of home-opfs.ts, with writes gathered and reads brought ahead.
 */
import { wasi } from '@bjorn3/browser_wasi_shim';
import { callFileServer, fileChannelData, sendFileRequest, takeFileReply, type FileFailure, type FileOp, type FileReply } from '../../ipc';
import type { Errno } from './vfs';

const ERRNO: Record<FileFailure, Errno> = {
  notfound: wasi.ERRNO_NOENT,
  exists: wasi.ERRNO_EXIST,
  notdir: wasi.ERRNO_NOTDIR,
  isdir: wasi.ERRNO_ISDIR,
  nospace: wasi.ERRNO_NOSPC,
  inval: wasi.ERRNO_INVAL,
  io: wasi.ERRNO_IO,
  closed: wasi.ERRNO_IO,
};

/** A run of bytes of one open file: gathered to be written, or read ahead, in the channel. */
interface Run {
  id: number;
  at: number;
  n: number;
}

/**
 * The file server, through this process's channel. Sequential writes are gathered in one room of
 * the channel and sent without waiting when it is full, the next gathered in the other room while
 * the server writes (so the module computes while the disk works); everything gathered is sent
 * and answered before any other request. A read brings as much as a room holds, for the next
 * reads to take without a request: each request costs two thread switches. A write the server
 * refuses fails the next write or commit of its file.
 */
export class Channel {
  private readonly rooms: [Uint8Array, Uint8Array];
  /** The room being gathered in (the other may be in flight). */
  private cur: 0 | 1 = 0;
  private gathered: Run | undefined;
  /** The file of a write sent and not yet answered. */
  private inflight: number | undefined;
  /** What the last read brought, in room 0. */
  private ahead: Run | undefined;
  private readonly refused = new Map<number, Errno>();

  constructor(private readonly sab: SharedArrayBuffer) {
    this.rooms = [fileChannelData(sab, 0), fileChannelData(sab, 1)];
  }

  /** Asks and waits; answers the reply's value, or an errno. */
  ask(op: FileOp, bytes?: Uint8Array): { value: unknown } | Errno {
    this.drain();
    this.ahead = undefined;
    const { value } = callFileServer(this.sab, op, bytes, 0);
    const r = value as FileReply;
    return r.ok ? { value: r.value } : (ERRNO[r.code] ?? wasi.ERRNO_IO);
  }

  /** Takes the answer of the write in flight; a refusal is kept for its file. */
  private settle(): void {
    const id = this.inflight;
    if (id === undefined) return;
    this.inflight = undefined;
    const r = takeFileReply(this.sab).value as FileReply;
    if (!r.ok) this.refused.set(id, ERRNO[r.code] ?? wasi.ERRNO_IO);
  }

  /** Sends what was gathered without waiting for it; the next is gathered in the other room. */
  private launch(): void {
    const g = this.gathered;
    if (g === undefined) return;
    this.gathered = undefined;
    this.settle();
    if (!sendFileRequest(this.sab, { op: 'write', id: g.id, at: g.at }, g.n, this.cur)) {
      this.refused.set(g.id, wasi.ERRNO_IO);
      return;
    }
    this.inflight = g.id;
    this.cur = this.cur === 0 ? 1 : 0;
  }

  /** Sends everything gathered and takes every answer. */
  private drain(): void {
    this.launch();
    this.settle();
  }

  /** A refusal of a write of file `id` sent earlier, once. */
  private refusal(id: number): Errno {
    const err = this.refused.get(id) ?? wasi.ERRNO_SUCCESS;
    this.refused.delete(id);
    return err;
  }

  /** Writes `data` at `at` of file `id`: gathered when it follows what is, sent when a room is full. */
  write(id: number, at: number, data: Uint8Array): Errno {
    const err = this.refusal(id);
    if (err !== wasi.ERRNO_SUCCESS) return err;
    const room = this.rooms[0].length;
    const g = this.gathered;
    if (g !== undefined && (g.id !== id || g.at + g.n !== at || g.n + data.length > room)) this.launch();
    this.ahead = undefined;
    if (data.length >= room) {
      for (let done = 0; done < data.length; done += room) {
        const r = this.ask({ op: 'write', id, at: at + done }, data.subarray(done, done + room));
        if (typeof r === 'number') return r;
      }
      return wasi.ERRNO_SUCCESS;
    }
    const run = this.gathered ?? { id, at, n: 0 };
    this.rooms[this.cur].set(data, run.n);
    run.n += data.length;
    this.gathered = run;
    return wasi.ERRNO_SUCCESS;
  }

  /** Sends and settles every write (before a commit): a refusal of file `id`'s, if any. */
  flush(id: number): Errno {
    this.drain();
    return this.refusal(id);
  }

  /** Reads into `dst` from `at` of file `id`, as far as `end`; answers how many bytes. */
  read(id: number, at: number, dst: Uint8Array, end: number): number {
    let done = 0;
    while (done < dst.length && at + done < end) {
      const a = this.ahead;
      if (a !== undefined && a.id === id && at + done >= a.at && at + done < a.at + a.n) {
        const from = at + done - a.at;
        const n = Math.min(dst.length - done, a.n - from);
        dst.set(this.rooms[0].subarray(from, from + n), done);
        done += n;
        continue;
      }
      const r = this.ask({ op: 'read', id, at: at + done, len: Math.min(this.rooms[0].length, end - at - done) });
      if (typeof r === 'number' || r.value === 0) break;
      this.ahead = { id, at: at + done, n: r.value as number };
    }
    return done;
  }
}
