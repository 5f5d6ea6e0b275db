/**
 * Bus topics across a link (src/remote/bus-bridge.ts) with two in-memory buses: what one side
 * hears crosses and is published on the other; a topic both published and heard on both sides
 * (a module that publishes and subscribes to it) crosses once and does not loop.
 */
import { describe, expect, it } from 'vitest';
import { BusBridge, type BusLike } from '../../src/remote/bus-bridge';

/** A bus that delivers synchronously to every subscriber whose pattern matches. */
function memBus(): BusLike & { log: string[] } {
  const subs: Array<{ pattern: string; fn: (d: Uint8Array, t: string) => void }> = [];
  const matches = (p: string, t: string) => (p.endsWith('/*') ? t.startsWith(p.slice(0, -1)) : p === t);
  const bus = {
    log: [] as string[],
    publish(topic: string, data: Uint8Array) {
      bus.log.push(`${topic}=${new TextDecoder().decode(data)}`);
      for (const s of [...subs]) if (matches(s.pattern, topic)) s.fn(data, topic);
    },
    subscribe(pattern: string, fn: (d: Uint8Array, t: string) => void) {
      const s = { pattern, fn };
      subs.push(s);
      return () => void subs.splice(subs.indexOf(s), 1);
    },
  };
  return bus;
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('bus bridge', () => {
  it('carries what each side hears to the other, once, even when both hear the same topics', () => {
    const here = memBus();
    const there = memBus();
    let toThere: BusBridge | undefined;
    let toHere: BusBridge | undefined;
    // Caller side hears what the process may subscribe to; the other side what it may publish.
    toThere = new BusBridge(here, (t, d) => toHere?.deliver(t, d));
    toHere = new BusBridge(there, (t, d) => toThere?.deliver(t, d));
    toThere.listen(['chat/*']);
    toHere.listen(['chat/*']);
    here.publish('chat/a', enc('from here'));
    there.publish('chat/a', enc('from there'));
    expect(here.log).toEqual(['chat/a=from here', 'chat/a=from there']);
    expect(there.log).toEqual(['chat/a=from here', 'chat/a=from there']);
    // The same bytes again still cross (the echo was counted once, not remembered for ever).
    here.publish('chat/a', enc('from here'));
    expect(there.log.filter((l) => l === 'chat/a=from here')).toHaveLength(2);
  });

  it('stops hearing once closed', () => {
    const here = memBus();
    const sent: string[] = [];
    const b = new BusBridge(here, (t) => sent.push(t));
    b.listen(['x/*', 'bad pattern is refused quietly']);
    here.publish('x/1', enc('1'));
    b.close();
    here.publish('x/2', enc('2'));
    b.deliver('x/3', enc('3'));
    expect(sent).toEqual(['x/1']);
    expect(here.log).toEqual(['x/1=1', 'x/2=2']);
  });
});
