/**
 * A libp2p stream seen as frames: one reader (frames.ts) and one ordered write queue with
 * back-pressure. The stream's `send` accepts bytes even when it answers "full", so the queue
 * here holds what is not yet handed over and waits for the stream's drain; `queued` is what a
 * Link's `writable()` watches. The handshake reads frames with `next()`, then the link takes
 * over with `onFrame`, and no frame can fall between the two.
 */
import { KernelError } from '../../common';
import { FrameReader, type Frame } from './frames';

/** The part of a libp2p `Stream` used here (a structural type: tests pair two in memory). */
export interface ByteStream {
  send(data: Uint8Array): boolean;
  onDrain(): Promise<void>;
  close(): Promise<void>;
  abort(err: Error): void;
  addEventListener(type: 'message', fn: (e: { data: { subarray(): Uint8Array } }) => void): void;
  addEventListener(type: 'close', fn: () => void): void;
}

/** Frames over a ByteStream. */
export class FramedStream {
  readonly #stream: ByteStream;
  readonly #reader = new FrameReader();
  #pending: Frame[] = [];
  #waiter: ((f: Frame | undefined) => void) | undefined;
  #handler: ((f: Frame) => void) | undefined;
  #queue: Uint8Array[] = [];
  #flushing = false;
  #closed = false;
  /** Bytes written and not yet handed to the stream. */
  queued = 0;
  /** Called once when the stream closes, is reset, or carries bytes that are no frame. */
  onClose: ((why: KernelError | undefined) => void) | undefined;
  /** Called each time `queued` falls (the link wakes its `writable()` waiters). */
  onDrained: (() => void) | undefined;

  constructor(stream: ByteStream) {
    this.#stream = stream;
    stream.addEventListener('message', (e) => {
      let frames: Frame[];
      try {
        frames = this.#reader.push(e.data.subarray());
      } catch (err) {
        this.#end(err instanceof KernelError ? err : new KernelError('ipc/malformed', String(err)));
        return;
      }
      for (const f of frames) this.#deliver(f);
    });
    stream.addEventListener('close', () => this.#end(undefined));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The next frame, for the handshake; undefined once the stream has closed. */
  next(timeoutMs: number): Promise<Frame | undefined> {
    const f = this.#pending.shift();
    if (f !== undefined) return Promise.resolve(f);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new KernelError('kernel/timeout', `no answer on the link in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = (frame) => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve(frame);
      };
    });
  }

  /** Hands every frame from now on (and any already read) to `fn`. */
  set onFrame(fn: (f: Frame) => void) {
    this.#handler = fn;
    const early = this.#pending;
    this.#pending = [];
    for (const f of early) fn(f);
  }

  #deliver(f: Frame): void {
    if (this.#waiter !== undefined) this.#waiter(f);
    else if (this.#handler !== undefined) this.#handler(f);
    else this.#pending.push(f);
  }

  #end(why: KernelError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiter?.(undefined);
    if (why !== undefined) this.#stream.abort(why);
    this.onClose?.(why);
  }

  /** Queues framed bytes; never blocks. */
  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#queue.push(bytes);
    this.queued += bytes.length;
    if (!this.#flushing) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      for (let b = this.#queue.shift(); b !== undefined; b = this.#queue.shift()) {
        if (this.#closed) return;
        const room = this.#stream.send(b);
        this.queued -= b.length;
        this.onDrained?.();
        if (!room) await this.#stream.onDrain();
      }
    } catch (e) {
      this.#end(new KernelError('ipc/closed', `the link's stream failed: ${e instanceof Error ? e.message : String(e)}`));
    } finally {
      this.#flushing = false;
    }
  }

  /** Resolves once everything queued is handed to the stream (or it has closed). */
  async flushed(): Promise<void> {
    while (!this.#closed && (this.#queue.length > 0 || this.#flushing)) await new Promise((r) => setTimeout(r, 10));
  }

  /** Closes the stream gracefully after what is queued, or aborts it when `abort` is set. */
  async close(abort?: KernelError): Promise<void> {
    if (abort !== undefined) {
      this.#end(abort);
      return;
    }
    await this.flushed();
    try {
      await this.#stream.close();
    } catch {
      // Already reset by the other side: closed either way.
    }
    this.#end(undefined);
  }
}
