/**
 * Remote processes over a pair of in-memory links (no browser): what the caller writes to stdin
 * reaches the process on the other node and its output comes back; a caller that does not read
 * stdout holds the process's output back (credit), instead of the link buffering without end;
 * a lost link ends the process for its caller with `link-lost` and kills it on the other node.
 */
import { describe, expect, it } from 'vitest';
import type { ProcessExit } from '../../src/common';
import type { HostStart } from '../../src/hosts';
import { Ring, allocateRing, ringReadable, ringWritable } from '../../src/ipc';
import type { Link, LinkEnd } from '../../src/remote';
import { Session, type SessionDeps } from '../../src/remote/session';
import type { ServedProcess } from '../../src/remote/serve';

/** One end of an in-memory link pair; messages are structured-cloned and delivered in a later task. */
class MemLink implements Link {
  readonly kind = 'tab' as const;
  onMessage: ((m: unknown) => void) | null = null;
  other: MemLink | undefined;
  sent = 0;
  delivered = 0;
  private done: LinkEnd | undefined;
  private settle!: (e: LinkEnd) => void;
  readonly ended = new Promise<LinkEnd>((ok) => (this.settle = ok));
  constructor(readonly peer: string) {}
  send(m: unknown): void {
    if (this.done !== undefined) throw Object.assign(new Error('ended'), { code: 'remote/link-lost' });
    this.sent++;
    const copy = structuredClone(m);
    setTimeout(() => {
      const o = this.other;
      if (o === undefined || o.done !== undefined) return;
      this.delivered++;
      o.onMessage?.(copy);
    }, 0);
  }
  writable(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {
    this.end('local');
    this.other?.end('closed');
  }
  end(reason: LinkEnd['reason']): void {
    if (this.done !== undefined) return;
    this.done = { reason, undelivered: this.sent - this.delivered };
    this.settle(this.done);
  }
}

function pair(): [MemLink, MemLink] {
  const a = new MemLink('bbbbbbbbbbbbbbbb');
  const b = new MemLink('aaaaaaaaaaaaaaaa');
  a.other = b;
  b.other = a;
  return [a, b];
}

const noBus = { bus: () => undefined, windows: () => undefined, install: () => Promise.reject(new Error('no')) };

/** Deps of the caller's side: it serves nothing. */
const callerDeps: SessionDeps = { ...noBus, spawned: () => {}, lookup: async () => undefined, admit: async () => {}, spawn: () => Promise.reject(new Error('no')), ended: () => undefined };

/** Deps of the serving side, running `make()` for every spawn. */
function serverDeps(make: () => ServedProcess, killed: number[]): SessionDeps {
  return {
    ...noBus,
    spawned: () => {},
    lookup: async () => undefined,
    admit: async () => {},
    spawn: async () => {
      const p = make();
      return { ...p, kill: async () => void killed.push(p.pid) };
    },
    ended: () => ({ reason: 'exited' }),
  };
}

function start(rings: { stdin: SharedArrayBuffer; stdout: SharedArrayBuffer; stderr: SharedArrayBuffer }): HostStart {
  return { pid: 7, name: 'x', args: ['x'], env: [], preopens: [], files: [], tty: false, stdoutIsPipe: false, keepStdio: false, ...rings, node: 'bbbbbbbbbbbbbbbb' } as unknown as HostStart;
}

const grants = { publish: [], subscribe: [] };

describe('remote session', () => {
  it('carries stdin to the process there and its output back, then its exit', async () => {
    const [a, b] = pair();
    // stdin -> stdout; exit 0 at the end of stdin.
    const echo = (): ServedProcess => {
      const out = new TransformStream<Uint8Array, Uint8Array>();
      const w = out.writable.getWriter();
      let done!: (c: number) => void;
      const exit = new Promise<number>((ok) => (done = ok));
      const stdin = new WritableStream<Uint8Array>({
        write: (c) => w.write(c),
        close: async () => {
          await w.close();
          done(0);
        },
      });
      return { pid: 3, stdin, stdout: out.readable, stderr: new ReadableStream({ start: (c) => c.close() }), exit, kill: async () => {}, grants };
    };
    const caller = new Session(a, callerDeps);
    new Session(b, serverDeps(echo, []));
    const rings = { stdin: allocateRing(1024), stdout: allocateRing(1024), stderr: allocateRing(1024) };
    const hosted = caller.caller.spawn(start(rings));
    await hosted.running;
    const w = ringWritable(new Ring(rings.stdin)).getWriter();
    await w.write(new TextEncoder().encode('hello across\n'));
    await w.close();
    const out = await new Response(ringReadableUntil(rings.stdout, 13)).text();
    expect(out).toBe('hello across\n');
    expect(await hosted.exited).toEqual({ code: 0, reason: 'exited' });
  });

  it('holds the output back while the caller does not read it', async () => {
    const [a, b] = pair();
    let pulled = 0;
    const CHUNK = 16 * 1024;
    const flood = (): ServedProcess => ({
      pid: 4,
      stdin: new WritableStream(),
      stdout: new ReadableStream<Uint8Array>({
        pull(c) {
          pulled += CHUNK;
          c.enqueue(new Uint8Array(CHUNK));
        },
      }, { highWaterMark: 0 }),
      stderr: new ReadableStream({ start: (c) => c.close() }),
      exit: new Promise<number>(() => {}),
      kill: async () => {},
      grants,
    });
    new Session(a, callerDeps).caller.spawn(start({ stdin: allocateRing(1024), stdout: allocateRing(64 * 1024), stderr: allocateRing(1024) }));
    new Session(b, serverDeps(flood, []));
    // Until the flood stops: the pulls stand still for 20 ticks in a row (load-tolerant, no fixed sleep).
    let still = 0;
    for (let i = 0; i < 5000 && still < 20; i++) {
      const before = pulled;
      await new Promise((ok) => setTimeout(ok, 2));
      still = pulled === before ? still + 1 : 0;
    }
    expect(still).toBe(20);
    // At most the credit window (1 MiB) on the way plus the ring's 64 KiB and a chunk or two.
    expect(pulled).toBeGreaterThan(64 * 1024);
    expect(pulled).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024 + 2 * CHUNK);
  });

  it('a lost link ends the process for its caller with link-lost and kills it there', async () => {
    const [a, b] = pair();
    const killed: number[] = [];
    const idle = (): ServedProcess => ({ pid: 5, stdin: new WritableStream(), stdout: new ReadableStream(), stderr: new ReadableStream(), exit: new Promise<number>(() => {}), kill: async () => {}, grants });
    const caller = new Session(a, callerDeps);
    new Session(b, serverDeps(idle, killed));
    const hosted = caller.caller.spawn(start({ stdin: allocateRing(1024), stdout: allocateRing(1024), stderr: allocateRing(1024) }));
    await hosted.running;
    a.end('link-lost');
    b.end('link-lost');
    const end: ProcessExit = await hosted.exited;
    expect(end).toMatchObject({ code: 129, reason: 'link-lost' });
    await new Promise((ok) => setTimeout(ok, 5));
    expect(killed).toEqual([5]);
  });
});

/** A ring's reader that stops after `n` bytes (the caller's side never closes a restartable ring). */
function ringReadableUntil(sab: SharedArrayBuffer, n: number): ReadableStream<Uint8Array> {
  const r = ringReadable(new Ring(sab)).getReader();
  let got = 0;
  return new ReadableStream({
    async pull(c) {
      if (got >= n) return c.close();
      const { value, done } = await r.read();
      if (done) return c.close();
      got += value.length;
      c.enqueue(value);
    },
  });
}
