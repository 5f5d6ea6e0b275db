/**
 * The bus as a module sees it: `webmk_publish`, `webmk_subscribe`, `webmk_recv`, ... (imports
 * of the module `webmk`, see modules/include/webmk.h). Runs in the module's worker. Publishing
 * writes straight into the subscribers' inboxes; receiving sleeps on the inbox's doorbell.
 * Every call returns a count or a negative errno; none throws into the guest.
 */
import { Errno, isKernelError, isTopic, topicAllowed } from '../../common';
import { BUS_LIMITS, BusArena } from '../../ipc';
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
    subscribe: (topicPtr, topicLen) => {
      if (arena === null) return -Errno.NOSYS;
      const pattern = topicAt(topicPtr, topicLen, true);
      if (pattern === null) return -Errno.INVAL;
      if (!topicAllowed(ctx.grants.subscribe, pattern)) {
        ctx.notify('bus.denied', { action: 'subscribe', topic: pattern });
        return -Errno.ACCES;
      }
      try {
        const r = ctx.callSync('bus.subscribe', { pattern }) as { slot: number; gen: number };
        const id = nextSub++;
        subs.set(id, { slot: r.slot, gen: r.gen, topic: new Uint8Array(BUS_LIMITS.maxTopic), topicLen: 0 });
        return id;
      } catch (e) {
        if (e instanceof ProcessKilled) throw e;
        if (isKernelError(e, 'bus/denied')) return -Errno.ACCES;
        if (isKernelError(e, 'bus/too-large')) return -Errno.NOSPC;
        return -Errno.INVAL;
      }
    },
    recv: (sub, bufPtr, cap, timeoutMs) => {
      const s = subs.get(sub);
      if (arena === null || s === undefined) return -Errno.BADF;
      const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
      for (;;) {
        if (!arena.isOpen(s.slot, s.gen)) return -Errno.BADF;
        const seen = arena.doorbell(s.slot);
        const length = arena.nextLength(s.slot);
        if (length >= 0) {
          if (length > cap >>> 0) return -Errno.MSGSIZE; // it stays queued
          const dst = bytes(bufPtr, length);
          if (dst === null) return -Errno.INVAL;
          const got = arena.take(s.slot, dst, s.topic);
          if (got === null) continue;
          s.topicLen = got.topic.length;
          return got.dataLen;
        }
        const left = deadline - performance.now();
        if (left <= 0) return -Errno.AGAIN;
        arena.waitDoorbell(s.slot, seen, left);
        ctx.checkAlive();
      }
    },
    unsubscribe: (sub) => {
      const s = subs.get(sub);
      if (s === undefined) return -Errno.BADF;
      subs.delete(sub);
      try {
        ctx.callSync('bus.unsubscribe', { slot: s.slot });
      } catch (e) {
        if (e instanceof ProcessKilled) throw e;
        // already gone: the end result is the same
      }
      return 0;
    },
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
