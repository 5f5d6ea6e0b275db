/**
 * The bus as a module sees it: `webmk_publish`, `webmk_subscribe`, `webmk_recv`, ... (imports
 * of the module `webmk`, see modules/include/webmk.h). Runs in the module's worker. Publishing
 * writes straight into the subscribers' inboxes; receiving sleeps on the inbox's doorbell.
 * Every call returns a count or a negative errno; none throws into the guest.
 */
import { Errno, isKernelError, isTopic, topicAllowed } from '../../common';
import { BUS_LIMITS, BusArena, sleepUnthrottled } from '../../ipc';
import { ProcessKilled, type GuestContext, type GuestImports } from '../guest';

interface GuestSub {
  slot: number;
  gen: number;
  /** The topic of the message last received, in `topic[0..topicLen)`. */
  topic: Uint8Array;
  topicLen: number;
}

const dec = new TextDecoder('utf-8', { fatal: true });

/** Builds the bus imports of one process. */
export function busImports(ctx: GuestContext): GuestImports {
  const sab = ctx.shared.bus;
  const arena = sab === undefined ? null : new BusArena(sab);
  const subs = new Map<number, GuestSub>();
  const mayPublish = new Map<string, boolean>();
  let nextSub = 0;
  // A migratable process keeps its subscriptions (their kernel slots) across a move (ADR 0019).
  const kept = ctx.parking?.kept('bus') as { nextSub?: unknown; subs?: unknown } | undefined;
  if (kept !== undefined && typeof kept.nextSub === 'number' && Array.isArray(kept.subs)) {
    nextSub = kept.nextSub;
    for (const e of kept.subs as unknown[]) {
      if (!Array.isArray(e) || !e.every((x) => typeof x === 'number')) continue;
      const [id = -1, slot = -1, gen = 0] = e as number[];
      subs.set(id, { slot, gen, topic: new Uint8Array(BUS_LIMITS.maxTopic), topicLen: 0 });
    }
  }
  ctx.parking?.keep('bus', () => ({ nextSub, subs: [...subs].map(([id, s]) => [id, s.slot, s.gen]) }));
  // A publisher mostly repeats one topic: remember the last one's bytes, text and verdict.
  let last: { bytes: Uint8Array; topic: string; allowed: boolean } | null = null;

  /** The guest's bytes at [ptr, ptr+len), or null when out of bounds. */
  const bytes = (ptr: number, len: number): Uint8Array | null => {
    const mem = ctx.memory();
    const p = ptr >>> 0;
    const n = len >>> 0;
    return p + n <= mem.length ? mem.subarray(p, p + n) : null;
  };
  const topicAt = (ptr: number, len: number, pattern: boolean): string | null => {
    const b = bytes(ptr, len);
    if (b === null || b.length > BUS_LIMITS.maxTopic) return null;
    try {
      const t = dec.decode(b);
      return isTopic(t, pattern) ? t : null;
    } catch {
      return null;
    }
  };

  /** A plain import, or a suspending one where the realm may not block. */
  const blocking = (f: (...args: number[]) => number | Promise<number>): GuestImports[string] =>
    ctx.suspend ? ctx.suspending(async (...args) => f(...args)) : (f as (...args: number[]) => number);

  return {
    publish: (topicPtr, topicLen, dataPtr, len) => {
      ctx.checkAlive();
      if (arena === null) return -Errno.NOSYS;
      const raw = bytes(topicPtr, topicLen);
      const data = bytes(dataPtr, len);
      if (raw === null || data === null) return -Errno.INVAL;
      if (data.length > BUS_LIMITS.maxMessage) return -Errno.MSGSIZE;
      if (last === null || !sameBytes(last.bytes, raw)) {
        const topic = topicAt(topicPtr, topicLen, false);
        if (topic === null) return -Errno.INVAL;
        let allowed = mayPublish.get(topic);
        if (allowed === undefined) {
          allowed = topicAllowed(ctx.grants.publish, topic);
          if (mayPublish.size < 4096) mayPublish.set(topic, allowed);
        }
        last = { bytes: raw.slice(), topic, allowed };
      }
      if (!last.allowed) {
        ctx.notify('bus.denied', { action: 'publish', topic: last.topic });
        return -Errno.ACCES;
      }
      if (ctx.relayed) ctx.notify('bus.publish', { topic: last.topic, data: data.slice() });
      else arena.publish(last.topic, data, ctx.pid, true);
      return 0;
    },
    subscribe: blocking((topicPtr = 0, topicLen = 0) => {
      if (arena === null) return -Errno.NOSYS;
      const pattern = topicAt(topicPtr, topicLen, true);
      if (pattern === null) return -Errno.INVAL;
      if (!topicAllowed(ctx.grants.subscribe, pattern)) {
        ctx.notify('bus.denied', { action: 'subscribe', topic: pattern });
        return -Errno.ACCES;
      }
      const opened = (answer: unknown): number => {
        const r = answer as { slot: number; gen: number };
        const id = nextSub++;
        subs.set(id, { slot: r.slot, gen: r.gen, topic: new Uint8Array(BUS_LIMITS.maxTopic), topicLen: 0 });
        return id;
      };
      const refused = (e: unknown): number => {
        if (e instanceof ProcessKilled) throw e;
        if (isKernelError(e, 'bus/denied')) return -Errno.ACCES;
        if (isKernelError(e, 'bus/too-large')) return -Errno.NOSPC;
        return -Errno.INVAL;
      };
      if (ctx.suspend) return ctx.call('bus.subscribe', { pattern }).then(opened, refused);
      try {
        return opened(ctx.callSync('bus.subscribe', { pattern }));
      } catch (e) {
        return refused(e);
      }
    }),
    recv: blocking((sub = 0, bufPtr = 0, cap = 0, timeoutMs = 0) => {
      const s = subs.get(sub);
      if (arena === null || s === undefined) return -Errno.BADF;
      const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
      /**
       * The next message, or how long to wait for one (a number below 0 is an errno). While it
       * waits it is marked parked, holding no message; the page may then fence the inbox to end
       * it between two messages (an update), and a fenced reader takes nothing (bus-inbox.ts).
       */
      const attempt = (): { done: number } | { wait: number; seen: number } => {
        for (;;) {
          if (!arena.isOpen(s.slot, s.gen)) return unparked(-Errno.BADF);
          const seen = arena.doorbell(s.slot);
          const length = arena.nextLength(s.slot);
          const left = deadline - performance.now();
          if (length >= 0) {
            arena.markParked(s.slot, false);
            if (arena.fenced(s.slot)) {
              if (left <= 0) return { done: -Errno.AGAIN };
              arena.markParked(s.slot, true);
              return { wait: left, seen };
            }
            ctx.checkAlive(); // a process ended under the fence takes nothing once the fence is down
            if (length > cap >>> 0) return { done: -Errno.MSGSIZE }; // it stays queued
            const dst = bytes(bufPtr, length);
            if (dst === null) return { done: -Errno.INVAL };
            const got = arena.take(s.slot, dst, s.topic);
            if (got === null) continue;
            s.topicLen = got.topic.length;
            return { done: got.dataLen };
          }
          if (left <= 0) return unparked(-Errno.AGAIN);
          arena.markParked(s.slot, true);
          return { wait: left, seen };
        }
      };
      const unparked = (errno: number): { done: number } => {
        arena.markParked(s.slot, false);
        return { done: errno };
      };
      if (ctx.suspend) {
        return (async () => {
          for (;;) {
            const r = attempt();
            if ('done' in r) return r.done;
            const doorbell = arena.waitDoorbellAsync(s.slot, r.seen);
            await (Number.isFinite(r.wait) ? Promise.race([doorbell, sleepUnthrottled(r.wait)]) : doorbell);
            ctx.checkAlive();
          }
        })();
      }
      for (;;) {
        const r = attempt();
        if ('done' in r) return r.done;
        // Nothing queued: a safe point, if the kernel asks (it rings the doorbell to say so).
        if (ctx.parking?.shouldPark() === true) return ctx.parking.park('recv');
        arena.waitDoorbell(s.slot, r.seen, r.wait);
        ctx.checkAlive();
      }
    }),
    unsubscribe: blocking((sub = 0) => {
      const s = subs.get(sub);
      if (s === undefined) return -Errno.BADF;
      subs.delete(sub);
      // Already gone is the same end result.
      const gone = (e: unknown): number => {
        if (e instanceof ProcessKilled) throw e;
        return 0;
      };
      if (ctx.suspend) return ctx.call('bus.unsubscribe', { slot: s.slot }).then(() => 0, gone);
      try {
        ctx.callSync('bus.unsubscribe', { slot: s.slot });
      } catch (e) {
        return gone(e);
      }
      return 0;
    }),
    recv_topic: (sub, bufPtr, cap) => {
      const s = subs.get(sub);
      if (s === undefined) return -Errno.BADF;
      const n = Math.min(cap >>> 0, s.topicLen);
      const dst = bytes(bufPtr, n);
      if (dst === null) return -Errno.INVAL;
      dst.set(s.topic.subarray(0, n));
      return s.topicLen;
    },
    dropped: (sub) => {
      const s = subs.get(sub);
      if (arena === null || s === undefined) return -Errno.BADF;
      return Math.min(arena.dropped(s.slot), 0x7fffffff);
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
