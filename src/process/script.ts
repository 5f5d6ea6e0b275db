/**
 * Runs a JS module in this realm: imports it from its `blob:` URL and calls its `main` (the
 * default export, or an export named `main`) with one handle, the module's only way to the
 * system (pntOS's mediator): its args and env, its standard streams, exit, the bus with its
 * grants, and the kernel calls it was granted. Everything the handle does goes through the same
 * rings and calls a WebAssembly process uses.
 */
import { EXIT_CODES, KernelError, isTopic, topicAllowed, type ProcessExit } from '../common';
import { BUS_LIMITS, BusArena, Ring, WatchWriter, fromBase64, killedFlag, ringReadable, type FromWorkerMessage, type StartMessage } from '../ipc';
import { ProcessKilled, createGuestContext, type GuestContext, type RunningProcess } from './guest';
import { scriptKv, type ScriptKv } from './script-kv';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Thrown by `webmk.exit(code)`: unwinds the module's code to its end. */
class ScriptExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** A message a subscription received. */
export interface ScriptMessage {
  topic: string;
  data: Uint8Array;
  /** The data as UTF-8 text. */
  text(): string;
}

/** What a JS module's `main` is given. */
export interface ScriptHandle {
  /** argv: the module's name, then its arguments. */
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly stdin: ReadableStream<Uint8Array>;
  readonly stdout: WritableStream<Uint8Array>;
  readonly stderr: WritableStream<Uint8Array>;
  /** stdin as lines of text, without their line ends. */
  lines(): AsyncIterable<string>;
  /** Writes text to stdout; settles once it is in the pipe (a full pipe holds it back). */
  print(text: string): Promise<void>;
  /** Writes text to stderr. */
  eprint(text: string): Promise<void>;
  /** Ends the module with `code` (what `main` returns does the same). */
  exit(code?: number): never;
  readonly bus: {
    /** Publishes to every current subscriber; throws `bus/denied` without the grant, `bus/too-large` past 64 KiB. */
    publish(topic: string, data: string | Uint8Array): void;
    /** Subscribes (`prefix/*` patterns too); throws `bus/denied` without the grant. */
    subscribe(pattern: string): Promise<AsyncIterable<ScriptMessage> & { close(): Promise<void> }>;
  };
  /**
   * Calls function `fn` of service module `module` (as `kernel.call` does); resolves with its
   * output. Needs the grant `call:<module>`; rejects with the codes of `kernel.call`.
   */
  call(module: string, fn: string, input?: string | Uint8Array): Promise<Uint8Array>;
  /** The key-value store, per group as granted (`kv:read:<group>`, `kv:write:<group>`). */
  readonly kv: ScriptKv;
  readonly kernel: {
    list(): Promise<string>;
    ps(): Promise<string>;
    spawn(name: string, args?: string[]): Promise<number>;
    kill(pid: number): Promise<void>;
  };
}

/**
 * What the iframe mode's container offers every realm in it: one opaque origin, so a
 * BroadcastChannel (or a nested worker, which has one) would join a JS module to the other
 * processes of the container without the kernel. A contained module gets neither.
 */
const CONTAINER_WIDE = ['BroadcastChannel', 'Worker', 'SharedWorker'];

/** Takes from this realm what reaches the container's other realms; a worker runs one JS module, then ends. */
function containRealm(): void {
  const scope = globalThis as unknown as Record<string, unknown>;
  for (const name of CONTAINER_WIDE) delete scope[name];
}

/** Starts the JS module `m` names; `exit` settles on every way it can end. */
export function runScript(m: StartMessage, post: (msg: FromWorkerMessage, transfer?: Transferable[]) => void, onRunning: () => void): RunningProcess {
  const { ctx, settle } = createGuestContext(m, post, () => undefined);
  const out = new Ring(m.stdout);
  const err = new Ring(m.stderr);
  const exit = (async (): Promise<ProcessExit> => {
    try {
      let mod: Record<string, unknown>;
      if (m.relayed === true) containRealm();
      try {
        mod = (await import(/* @vite-ignore */ m.scriptUrl ?? '')) as Record<string, unknown>;
      } catch (e) {
        return { code: EXIT_CODES.failed, reason: 'failed', message: `could not load the module: ${describe(e)}` };
      }
      const main = typeof mod.default === 'function' ? mod.default : mod.main;
      if (typeof main !== 'function') {
        return { code: EXIT_CODES.failed, reason: 'failed', message: 'a JS module exports a main function (as its default export or as `main`)' };
      }
      onRunning();
      try {
        const r: unknown = await (main as (h: ScriptHandle) => unknown)(handle(m, ctx, out, err));
        return { code: typeof r === 'number' && Number.isInteger(r) ? r : 0, reason: 'exited' };
      } catch (e) {
        if (e instanceof ScriptExit) return { code: e.code, reason: 'exited' };
        return { code: EXIT_CODES.crashed, reason: 'crashed', message: describe(e) };
      }
    } finally {
      if (!m.keepStdio) {
        out.closeWriter();
        err.closeWriter();
        new Ring(m.stdin).closeReader();
      }
    }
  })();
  return { exit, settle };
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Writes all of `bytes` into a ring as room appears; a gone reader takes nothing more. */
async function writeAll(ring: Ring, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length && !ring.readerClosed) {
    const n = ring.write(done === 0 ? bytes : bytes.subarray(done));
    done += n;
    if (n === 0) await ring.writable();
  }
}

function writable(ring: Ring, bracket: Bracket): WritableStream<Uint8Array> {
  return new WritableStream({
    write: bracket((chunk: Uint8Array) => {
      if (!(chunk instanceof Uint8Array)) throw new TypeError('write Uint8Array chunks');
      return writeAll(ring, chunk);
    }),
  });
}

/**
 * Brackets a handle call for the watchdog: the module is "in a host call" from the call until
 * what it returns settles (waiting on stdin or the bus is not computing). Without a watchdog,
 * the function as it is.
 */
type Bracket = <A extends unknown[], R>(f: (...args: A) => R) => (...args: A) => R;

function bracketFor(watch: WatchWriter | undefined, killed: () => boolean): Bracket {
  return (f) =>
    (...args) => {
      // A module the kernel ended (on the page it cannot be interrupted) stops at its next call.
      if (killed()) throw new ProcessKilled('the process was killed');
      if (watch === undefined) return f(...args);
      watch.enter();
      let r;
      try {
        r = f(...args);
      } catch (e) {
        watch.leave();
        throw e;
      }
      if (r instanceof Promise) return r.finally(() => watch.leave()) as typeof r;
      watch.leave();
      return r;
    };
}

/** A stream whose every read is a bracketed handle call. */
function watchedReadable(source: ReadableStream<Uint8Array>, bracket: Bracket): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const read = bracket(() => reader.read());
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

function handle(m: StartMessage, ctx: GuestContext, out: Ring, err: Ring): ScriptHandle {
  const w = bracketFor(m.watch === undefined ? undefined : new WatchWriter(m.watch), killedFlag(m.syscall));
  const stdin = watchedReadable(ringReadable(new Ring(m.stdin)), w);
  const env = Object.fromEntries(m.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return {
    args: [...m.args],
    env,
    stdin,
    stdout: writable(out, w),
    stderr: writable(err, w),
    lines: () => lines(stdin),
    print: w((text: string) => writeAll(out, enc.encode(text))),
    eprint: w((text: string) => writeAll(err, enc.encode(text))),
    exit: (code = 0) => {
      throw new ScriptExit(Number.isInteger(code) ? code : 1);
    },
    bus: bus(ctx, w),
    call: w(async (module: string, fn: string, input: string | Uint8Array = new Uint8Array(0)) => {
      const bytes = typeof input === 'string' ? enc.encode(input) : input;
      if (!(bytes instanceof Uint8Array)) throw new KernelError('kernel/bad-argument', 'the input must be a string or a Uint8Array');
      const out = await ctx.call('service.call', { module, fn, input: bytes.slice() });
      if (typeof out !== 'string') throw new KernelError('ipc/malformed', 'a service call answered in an unknown shape');
      return fromBase64(out);
    }),
    kv: scriptKv(ctx, w),
    kernel: {
      list: w(async () => String(await ctx.call('kernel.list', null))),
      ps: w(async () => String(await ctx.call('kernel.ps', null))),
      spawn: w(async (name: string, args: string[] = []) => Number(await ctx.call('kernel.spawn', { name, args }))),
      kill: w(async (pid: number) => void (await ctx.call('kernel.kill', { pid }))),
    },
  };
}

async function* lines(stdin: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const reader = stdin.getReader();
  const text = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += text.decode(value, { stream: true });
    let at: number;
    while ((at = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, at).replace(/\r$/, '');
      pending = pending.slice(at + 1);
    }
  }
  pending += text.decode();
  if (pending !== '') yield pending;
}

function bus(ctx: GuestContext, w: Bracket): ScriptHandle['bus'] {
  const sab = ctx.shared.bus;
  const arena = sab === undefined ? null : new BusArena(sab);
  const refuse = (action: 'publish' | 'subscribe', topic: string): never => {
    ctx.notify('bus.denied', { action, topic });
    throw new KernelError('bus/denied', `not granted ${action}:${topic}`);
  };
  return {
    publish: w((topic: string, data: string | Uint8Array) => {
      ctx.checkAlive();
      if (arena === null) throw new KernelError('kernel/not-isolated', 'this realm has no bus');
      if (typeof topic !== 'string' || !isTopic(topic)) throw new KernelError('bus/invalid-topic', `"${String(topic)}" is not a valid topic`);
      const bytes = typeof data === 'string' ? enc.encode(data) : data;
      if (!(bytes instanceof Uint8Array)) throw new KernelError('kernel/bad-argument', 'data must be a string or a Uint8Array');
      if (bytes.length > BUS_LIMITS.maxMessage) throw new KernelError('bus/too-large', `a message is at most ${BUS_LIMITS.maxMessage} bytes`, { size: bytes.length });
      if (!topicAllowed(ctx.grants.publish, topic)) refuse('publish', topic);
      if (ctx.relayed) ctx.notify('bus.publish', { topic, data: bytes.slice() });
      else arena.publish(topic, bytes, ctx.pid, false);
    }),
    subscribe: w(async (pattern: string) => {
      if (arena === null) throw new KernelError('kernel/not-isolated', 'this realm has no bus');
      if (typeof pattern !== 'string' || !isTopic(pattern, true)) throw new KernelError('bus/invalid-topic', `"${String(pattern)}" is not a valid topic pattern`);
      if (!topicAllowed(ctx.grants.subscribe, pattern)) refuse('subscribe', pattern);
      const { slot, gen } = (await ctx.call('bus.subscribe', { pattern })) as { slot: number; gen: number };
      let open = true;
      const wait = w((seen: number) => arena.waitDoorbellAsync(slot, seen));
      return {
        async *[Symbol.asyncIterator]() {
          while (open && arena.isOpen(slot, gen)) {
            const seen = arena.doorbell(slot);
            const f = arena.takeFrame(slot);
            if (f !== null) {
              yield { topic: f.topic, data: f.data, text: () => dec.decode(f.data) };
              continue;
            }
            await wait(seen);
          }
        },
        close: w(async () => {
          open = false;
          await ctx.call('bus.unsubscribe', { slot });
        }),
      };
    }),
  };
}
