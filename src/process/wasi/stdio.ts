/**
 * Standard streams on ring buffers. A worker reads stdin by blocking on its ring with
 * `Atomics.wait` (interactive programs just work) and writes stdout/stderr into rings the page
 * drains; no message per write.
 */
import { Fd, wasi } from '@bjorn3/browser_wasi_shim';
import { Ring } from '../../ipc';

/** What a write does once the reading side has gone away. */
export type OnReaderGone = 'discard' | 'epipe';

function streamStat(tty: boolean): wasi.Fdstat {
  // wasi-libc's isatty() is "a character device without seek/tell rights": a terminal is
  // line-buffered by stdio, anything else fully buffered, as on any OS.
  return new wasi.Fdstat(tty ? wasi.FILETYPE_CHARACTER_DEVICE : wasi.FILETYPE_UNKNOWN, 0);
}

/** The reading end of a ring as a WASI fd (stdin). */
export class RingReaderFd extends Fd {
  readonly ring: Ring;
  private readonly tty: boolean;

  constructor(ring: Ring, tty: boolean) {
    super();
    this.ring = ring;
    this.tty = tty;
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    return { ret: wasi.ERRNO_SUCCESS, fdstat: streamStat(this.tty) };
  }

  /** Blocks until at least one byte or end of stream; never returns more than `size`. */
  override fd_read(size: number): { ret: number; data: Uint8Array } {
    if (this.ring.waitReadable() === 'closed') return { ret: wasi.ERRNO_SUCCESS, data: new Uint8Array(0) };
    const data = new Uint8Array(Math.min(size, this.ring.available()));
    this.ring.read(data);
    return { ret: wasi.ERRNO_SUCCESS, data };
  }

  /** Reads straight into guest memory: blocks for the first byte, then takes what is there. */
  readInto(dst: Uint8Array): number {
    if (dst.length === 0) return 0;
    if (this.ring.waitReadable() === 'closed') return 0;
    return this.ring.read(dst);
  }

  override fd_close(): number {
    this.ring.closeReader();
    return wasi.ERRNO_SUCCESS;
  }
}

/** The writing end of a ring as a WASI fd (stdout, stderr). */
export class RingWriterFd extends Fd {
  readonly ring: Ring;
  private readonly tty: boolean;
  private readonly onReaderGone: OnReaderGone;

  constructor(ring: Ring, tty: boolean, onReaderGone: OnReaderGone) {
    super();
    this.ring = ring;
    this.tty = tty;
    this.onReaderGone = onReaderGone;
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    return { ret: wasi.ERRNO_SUCCESS, fdstat: streamStat(this.tty) };
  }

  /** Whether a write after the reader has gone fails with EPIPE (else it is discarded). */
  get epipe(): boolean {
    return this.onReaderGone === 'epipe';
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    const r = this.writeAll(data);
    return typeof r === 'number' ? { ret: wasi.ERRNO_SUCCESS, nwritten: r } : { ret: r.errno, nwritten: 0 };
  }

  /**
   * Writes every byte, blocking while the ring is full (back-pressure). Returns the count, or
   * `{ errno }` when the reader has gone and this stream reports EPIPE.
   */
  writeAll(src: Uint8Array): number | { errno: number } {
    let done = 0;
    while (done < src.length) {
      if (this.ring.readerClosed) {
        if (this.onReaderGone === 'epipe') return done > 0 ? done : { errno: wasi.ERRNO_PIPE };
        return src.length;
      }
      const n = this.ring.write(done === 0 ? src : src.subarray(done));
      done += n;
      if (n === 0) this.ring.waitWritable();
    }
    return done;
  }

  override fd_close(): number {
    this.ring.closeWriter();
    return wasi.ERRNO_SUCCESS;
  }
}
