/**
 * The pure parts of sending modules, windows and snapshots across a link (ADR 0029), no browser:
 * a device's install request says so and lets the spawn that follows through once; the new
 * messages parse, and malformed ones are refused; a snapshot with 64-bit globals survives the
 * link's value set; a restart policy's `fallback` is checked.
 */
import { describe, expect, it } from 'vitest';
import { checkRestartPolicy } from '../../src/common';
import { RemoteRequests } from '../../src/kernel/remote-requests';
import { policyOf } from '../../src/kernel/supervisor';
import type { Link, LinkEnd } from '../../src/remote';
import { parseRemote } from '../../src/remote/parse';
import { fromWire, toWire } from '../../src/remote/snapshot-wire';

function link(): Link {
  let end!: (e: LinkEnd) => void;
  const ended = new Promise<LinkEnd>((r) => (end = r));
  return { peer: 'peer-2', kind: 'device', name: 'Tablet', send: () => {}, writable: async () => {}, onMessage: null, ended, close: () => end({ reason: 'local', undelivered: 0 }) };
}

async function waiting(r: RemoteRequests): Promise<number> {
  while (r.list().length === 0) await new Promise((ok) => setTimeout(ok, 1));
  return r.list()[0]!.id;
}

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

describe('sending modules along', () => {
  it('an install request names its size; allowed once, the spawn that follows goes through unasked', async () => {
    const r = new RemoteRequests(() => {});
    const l = link();
    const asked = r.admit(l, 'cat', 'install', 12_345);
    await waiting(r);
    expect(r.list()[0]).toMatchObject({ module: 'cat', install: { bytes: 12_345 } });
    r.answer(r.list()[0]!.id, 'once');
    await asked;
    await expect(r.admit(l, 'cat', 'spawn')).resolves.toBeUndefined();
    expect(r.list()).toEqual([]);
  });
});

describe('new remote messages', () => {
  it('parse when well formed', () => {
    expect(parseRemote({ v: 1, type: 'carry', id: 3, name: 'cat', package: new Uint8Array([1, 2]) })).toMatchObject({ type: 'carry', name: 'cat' });
    expect(parseRemote({ v: 1, type: 'win-frame', id: 3, width: 2, height: 2, data: new Uint8Array(4) })).toMatchObject({ type: 'win-frame', width: 2 });
    expect(parseRemote({ v: 1, type: 'win-input', id: 3, event: [3, 10, 20, 0, 0, 0] })).toMatchObject({ event: [3, 10, 20, 0, 0, 0] });
    expect(parseRemote({ v: 1, type: 'win-ack', id: 3 })).toMatchObject({ type: 'win-ack' });
  });

  it('are refused when malformed', () => {
    expect(codeOf(() => parseRemote({ v: 1, type: 'carry', id: 3, name: 'cat', package: 'bytes' }))).toBe('remote/malformed');
    expect(codeOf(() => parseRemote({ v: 1, type: 'win-open', id: 3, width: 0, height: 10 }))).toBe('remote/malformed');
    expect(codeOf(() => parseRemote({ v: 1, type: 'win-input', id: 3, event: [1, 2, 3] }))).toBe('remote/malformed');
    expect(codeOf(() => parseRemote({ v: 1, type: 'win-input', id: 3, event: [1, 2, 3, 4, 5, 2 ** 40] }))).toBe('remote/malformed');
    const spawn = { name: 'x', pid: 1, args: [], env: [], tty: false, preopens: [], files: [] };
    expect(codeOf(() => parseRemote({ v: 1, type: 'spawn', id: 3, spawn: { ...spawn, resume: { sha256: 'h', snapshot: { memory: new Uint8Array(3) } } } }))).toBe('remote/malformed');
  });
});

describe('snapshots across a link', () => {
  it('keep 64-bit globals exact and refuse forged ones', () => {
    const snap = { v: 1 as const, memory: new Uint8Array(65536), globals: [['sp', 1024], ['big', 2n ** 62n + 7n]] as Array<[string, number | bigint]>, data: 16, monotonicNs: 5, parkedIn: 'fd_read', providers: {} };
    const wire = structuredClone(toWire(snap));
    expect(JSON.stringify(wire.globals)).toBe(JSON.stringify([['sp', 'n', 1024], ['big', 'b', (2n ** 62n + 7n).toString()]]));
    expect(fromWire(wire)).toEqual(snap);
    expect(codeOf(() => fromWire({ ...wire, globals: [['x', 'b', '1e9']] }))).toBe('remote/malformed');
    expect(codeOf(() => fromWire({ ...wire, data: 70000 }))).toBe('remote/malformed');
  });
});

describe('restart fallback', () => {
  it('is "local", a node id, or absent', () => {
    expect(checkRestartPolicy({ restart: 'transient', fallback: 'local' })).toEqual({ restart: 'transient', fallback: 'local' });
    expect(checkRestartPolicy({ restart: 'transient', fallback: '0123456789abcdef' })).toEqual({ restart: 'transient', fallback: '0123456789abcdef' });
    expect(checkRestartPolicy({ restart: 'transient', fallback: '' })).toBe('restart.fallback must be "local" or a node id');
    expect(checkRestartPolicy({ restart: 'transient', fallback: 3 })).toBe('restart.fallback must be "local" or a node id');
    expect(policyOf({ restart: 'permanent', fallback: 'local' }).fallback).toBe('local');
    expect(policyOf({ restart: 'permanent' }).fallback).toBeUndefined();
  });
});
