/**
 * Asking before a device runs anything here (no browser; the devices database is absent, so
 * nothing is remembered): tabs pass unasked; a device waits for an answer; a yes at the lookup
 * lets one spawn through; deny, silence past the bound, and an ended link all refuse with
 * `remote/refused`.
 */
import { describe, expect, it } from 'vitest';
import { RemoteRequests } from '../../src/kernel/remote-requests';
import type { Link, LinkEnd } from '../../src/remote';

function link(kind: 'tab' | 'device'): Link & { end(): void } {
  let end!: (e: LinkEnd) => void;
  const ended = new Promise<LinkEnd>((r) => (end = r));
  return {
    peer: 'peer-1',
    kind,
    name: 'Phone',
    send: () => {},
    writable: async () => {},
    onMessage: null,
    ended,
    close: () => end({ reason: 'local', undelivered: 0 }),
    end: () => end({ reason: 'link-lost', undelivered: 0 }),
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );
}

/** Waits until `r` has a request waiting; returns its id. */
async function waiting(r: RemoteRequests): Promise<number> {
  while (r.list().length === 0) await new Promise((ok) => setTimeout(ok, 1));
  return r.list()[0]!.id;
}

describe('remote requests', () => {
  it('a tab runs unasked', async () => {
    const r = new RemoteRequests(() => {});
    await expect(r.admit(link('tab'), 'cat', 'spawn')).resolves.toBeUndefined();
    expect(r.list()).toEqual([]);
  });

  it('a device waits; once at the lookup lets exactly one spawn through', async () => {
    let changes = 0;
    const r = new RemoteRequests(() => changes++);
    const l = link('device');
    const asked = r.admit(l, 'cat', 'lookup');
    const id = await waiting(r);
    expect(r.list()[0]).toMatchObject({ node: 'peer-1', nodeName: 'Phone', module: 'cat' });
    r.answer(id, 'once');
    await asked;
    await r.admit(l, 'cat', 'spawn');
    // A second spawn without a lookup asks again.
    const again = r.admit(l, 'cat', 'spawn');
    r.answer(await waiting(r), 'deny');
    expect(await codeOf(again)).toBe('remote/refused');
    expect(changes).toBe(4);
  });

  it('refuses when denied, when unanswered in time, and when the link ends', async () => {
    const r = new RemoteRequests(() => {}, 20);
    const l = link('device');
    expect(await codeOf(r.admit(l, 'cat', 'lookup'))).toBe('remote/refused');
    const gone = r.admit(l, 'cat', 'lookup');
    await waiting(r);
    l.end();
    expect(await codeOf(gone)).toBe('remote/refused');
    expect(r.list()).toEqual([]);
    expect(() => r.answer(99, 'once')).toThrow(/no remote request/);
  });
});
