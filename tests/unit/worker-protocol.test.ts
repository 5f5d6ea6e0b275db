/** Hostile and malformed messages across the page/worker boundary are refused with a code. */
import { describe, expect, it } from 'vitest';
import { parseFromWorker, parseToWorker } from '../../src/ipc/worker-parse';
import { KernelError } from '../../src/common/errors';

function code(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return e instanceof KernelError ? e.code : `threw ${String(e)}`;
  }
}

describe('parseFromWorker', () => {
  it('accepts the messages the worker sends', () => {
    expect(parseFromWorker({ v: 1, type: 'ready' })).toEqual({ v: 1, type: 'ready' });
    expect(parseFromWorker({ v: 1, type: 'ready', lock: 'webmk:worker:1' })).toEqual({ v: 1, type: 'ready', lock: 'webmk:worker:1' });
    expect(parseFromWorker({ v: 1, type: 'exited', pid: 3, code: 0, reason: 'exited' })).toMatchObject({ pid: 3, reason: 'exited' });
    expect(parseFromWorker({ v: 1, type: 'call', pid: 3, id: 1, call: 'bus.subscribe', args: { pattern: 'a' }, reply: 'sab' })).toMatchObject({ call: 'bus.subscribe' });
  });

  it('refuses garbage, unknown types, wrong versions, forged fields', () => {
    const hostile: unknown[] = [
      null,
      42,
      'ready',
      [],
      { type: 'ready' },
      { v: 2, type: 'ready' },
      { v: 1, type: 'nonsense' },
      { v: 1, type: 'exited', pid: '3', code: 0, reason: 'exited' },
      { v: 1, type: 'exited', pid: 3, code: 0, reason: 'rooted' },
      { v: 1, type: 'exited', pid: 3.5, code: 0, reason: 'exited' },
      { v: 1, type: 'call', pid: 3, id: 1, call: 'x', reply: 'telepathy' },
      JSON.parse('{"v":1,"type":"__proto__","__proto__":{"type":"ready"}}'),
      { v: 1, type: 'constructor' },
      { v: 1, type: 'ready', lock: 'someone-elses-lock' },
      { v: 1, type: 'ready', lock: 42 },
    ];
    for (const m of hostile) expect(code(() => parseFromWorker(m))).toBe('ipc/malformed');
  });

  it('does not let a __proto__ key smuggle fields in', () => {
    const m = JSON.parse('{"v":1,"type":"exited","pid":1,"code":0,"__proto__":{"reason":"exited"}}');
    expect(code(() => parseFromWorker(m))).toBe('ipc/malformed');
  });
});

describe('parseToWorker', () => {
  it('refuses a start without its shared buffers', () => {
    expect(code(() => parseToWorker({ v: 1, type: 'start', pid: 1, args: [], env: [] }))).toBe('ipc/malformed');
    expect(code(() => parseToWorker({ v: 1, type: 'stop' }))).toBe('ipc/malformed');
  });

  it('parses a reply and rebuilds its error', () => {
    const r = parseToWorker({ v: 1, type: 'reply', pid: 1, id: 2, ok: false, error: { code: 'bus/denied', message: 'no' } });
    expect(r).toMatchObject({ type: 'reply', ok: false, error: { code: 'bus/denied' } });
  });
});

describe("a service start's Extism fields", () => {
  // The smallest module: magic and version.
  const module = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  const sab = (): SharedArrayBuffer => new SharedArrayBuffer(64);
  const start = (extism: unknown): unknown => ({
    v: 1,
    type: 'start',
    pid: 1,
    module,
    args: [],
    env: [],
    preopens: [],
    files: [],
    stdin: sab(),
    stdout: sab(),
    stderr: sab(),
    tty: false,
    stdoutIsPipe: false,
    keepStdio: true,
    serve: true,
    maxPages: 16,
    grants: { publish: [], subscribe: [], kernel: [] },
    syscall: sab(),
    shared: {},
    ...(extism !== undefined ? { extism } : {}),
  });

  it('takes limits and linked compiled modules, and refuses anything else in their place', () => {
    expect(code(() => parseToWorker(start(undefined)))).toBe('accepted');
    expect(code(() => parseToWorker(start({ maxBytes: 65536, maxVarBytes: 10, linked: [{ name: 'math', module }] })))).toBe('accepted');
    for (const bad of [7, { maxBytes: '1' }, { maxBytes: 1.5 }, { linked: {} }, { linked: [{ name: 'math', module: new Uint8Array(8) }] }, { linked: [{ module }] }]) {
      expect(code(() => parseToWorker(start(bad)))).toBe('ipc/malformed');
    }
  });

  it("takes an instance group's compiled providers with their config and limits (ADR 0033), and refuses anything else", () => {
    const withGroup = (group: unknown): unknown => ({ ...(start(undefined) as object), serve: false, group });
    expect(code(() => parseToWorker(withGroup([{ name: 'plugin', module, config: { k: 'v' }, extism: { maxBytes: 65536 } }])))).toBe('accepted');
    for (const bad of [{}, [{ name: 'plugin', module }], [{ name: 'plugin', module: new Uint8Array(8), config: {} }], [{ module, config: {} }], [{ name: 'p', module, config: { k: 1 } }], [{ name: 'p', module, config: {}, extism: { maxBytes: '1' } }]]) {
      expect(code(() => parseToWorker(withGroup(bad)))).toBe('ipc/malformed');
    }
  });
});
