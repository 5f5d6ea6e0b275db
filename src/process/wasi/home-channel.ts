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

/** A run of bytes of one open file: gathered to be written, or read ahead, in a room of the channel. */
interface Run {
  id: number;
  at: number;
  n: number;
}

/** The one request that may be in flight while the process goes on: a write sent, or a read brought ahead. */
type Inflight = { op: 'write'; id: number } | { op: 'read'; id: number; at: number; room: 0 | 1 };

/**
 * The file server, through this process's channel. Sequential writes are gathered in one room of
 * the channel and sent without waiting when it is full, the next gathered in the other room while
 * the server writes (so the module computes while the disk works); everything gathered is sent
 * and answered before any other request. A read brings as much as a room holds, for the next
 * reads to take without a request: each request costs two thread switches. Reads that follow one
 * another ask for the next room's worth before the module has taken this one's, so the server
 * reads while the module copies (ADR 0031). A write the server refuses fails the next write or
 * commit of its file.
 */
export class Channel {
  private readonly rooms: [Uint8Array, Uint8Array];
  /** The room being gathered in (the other may be in flight). */
  private cur: 0 | 1 = 0;
  private gathered: Run | undefined;
  private inflight: Inflight | undefined;
  /** What the last read brought, and the room it is in. */
  private ahead: (Run & { room: 0 | 1 }) | undefined;
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

  /** Takes the answer of the request in flight: a write's refusal is kept for its file; a read's answer is returned. */
  private settle(): FileReply | undefined {
    const f = this.inflight;
    if (f === undefined) return undefined;
    this.inflight = undefined;
    const r = takeFileReply(this.sab).value as FileReply;
    if (f.op === 'write' && !r.ok) this.refused.set(f.id, ERRNO[r.code] ?? wasi.ERRNO_IO);
    return r;
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
    this.inflight = { op: 'write', id: g.id };
    this.cur = this.cur === 0 ? 1 : 0;
  }

  /** Sends everything gathered and takes every answer (a read brought ahead is dropped). */
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
    // What was read ahead is stale now, and its rooms are for writes.
    if (this.inflight?.op === 'read') this.settle();
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
      const pos = at + done;
      const a = this.ahead;
      if (a !== undefined && a.id === id && pos >= a.at && pos < a.at + a.n) {
        const from = pos - a.at;
        const n = Math.min(dst.length - done, a.n - from);
        dst.set(this.rooms[a.room].subarray(from, from + n), done);
        done += n;
        continue;
      }
      const next = this.bring(id, pos, end);
      if (next === undefined) break;
      // A read from the start, or one that goes on where the last ended, asks for what follows
      // now, into the other room (a read here and there does not).
      const onward = pos === 0 || (a !== undefined && a.id === id && pos === a.at + a.n);
      if (onward && next.at + next.n < end) this.readAhead(id, next.at + next.n, end, next.room === 0 ? 1 : 0);
      this.ahead = next;
    }
    return done;
  }

  /** The bytes of file `id` from `pos`: those read ahead if they are these, else asked for now. */
  private bring(id: number, pos: number, end: number): (Run & { room: 0 | 1 }) | undefined {
    const f = this.inflight;
    if (f?.op === 'read' && f.id === id && f.at === pos) {
      const r = this.settle();
      const n = r?.ok === true ? (r.value as number) : 0;
      return n > 0 ? { id, at: pos, n, room: f.room } : undefined;
    }
    const r = this.ask({ op: 'read', id, at: pos, len: Math.min(this.rooms[0].length, end - pos) });
    if (typeof r === 'number' || r.value === 0) return undefined;
    return { id, at: pos, n: r.value as number, room: 0 };
  }

  /** Asks for the bytes from `pos` into `room` without waiting (nothing else is in flight). */
  private readAhead(id: number, pos: number, end: number, room: 0 | 1): void {
    if (this.inflight !== undefined || this.gathered !== undefined) return;
    if (sendFileRequest(this.sab, { op: 'read', id, at: pos, len: Math.min(this.rooms[0].length, end - pos) }, 0, room)) this.inflight = { op: 'read', id, at: pos, room };
  }
}
