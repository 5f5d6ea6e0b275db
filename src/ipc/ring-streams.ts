/**
 * The page's ends of a process's standard streams: WHATWG streams over the rings the worker
 * uses. The page never blocks: it sleeps with `Atomics.waitAsync` and respects back-pressure
 * both ways (a full stdin ring holds the writer's promise; an unread stdout fills its ring).
 */
import { Ring } from './ring';

/** Largest chunk handed to a stdout reader at once. */
const MAX_CHUNK = 256 * 1024;

/** A ring's reading end as a ReadableStream; cancelling it discards what the module writes. */
export function ringReadable(ring: Ring): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const chunk = ring.readChunk(MAX_CHUNK);
          if (chunk !== null) {
            controller.enqueue(chunk);
            return;
          }
          if ((await ring.readable()) === 'closed' && ring.available() === 0) {
            controller.close();
            return;
          }
        }
      },
      cancel() {
        ring.closeReader();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A ring's writing end as a WritableStream; closing it is end of file for the module. */
export function ringWritable(ring: Ring): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError('stdin takes Uint8Array chunks');
      let done = 0;
      while (done < chunk.length) {
        if (ring.readerClosed) return; // the process is gone or closed stdin: like a closed pipe
        const n = ring.write(done === 0 ? chunk : chunk.subarray(done));
        done += n;
        if (n === 0) await ring.writable();
      }
    },
    close() {
      ring.closeWriter();
    },
    abort() {
      ring.closeWriter();
    },
  });
}

/** Feeds `source` into `sink` and closes it; errors end the feed quietly (the module sees EOF). */
export function feed(source: Uint8Array | ReadableStream<Uint8Array>, sink: WritableStream<Uint8Array>): void {
  if (source instanceof Uint8Array) {
    const writer = sink.getWriter();
    writer.write(source).then(() => writer.close()).catch(() => {});
    return;
  }
  source.pipeTo(sink).catch(() => {});
}
