/**
 * The service-call queue and its loop check, with fake instances: calls run one at a time in
 * order, deadlines end a running call (and restart its instance) or a queued one (without), and a
 * call that would wait on itself, in one chain or across two, is refused at once.
 */
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/capability';
import { KernelError, requestedPermissions, grantsFrom, serviceSettings, type ModuleInfo } from '../../src/common';
import type { Lifecycle } from '../../src/kernel/lifecycle';
import { Services } from '../../src/kernel/services';

type Serve = (fn: string, input: Uint8Array) => Promise<Uint8Array>;

const enc = new TextEncoder();
const dec = new TextDecoder();

const info = (name: string): ModuleInfo =>
  ({ name, sha256: 'same', grants: {}, manifest: {}, kind: 'wasm', command: false, exports: ['f', 'g', 'h', 'x', 'spin'].map((n) => ({ name: n, kind: 'function' })) }) as unknown as ModuleInfo;

/** A kernel with one fake instance per name, each serving with `impl[name]`. */
function setup(impl: Record<string, Serve>) {
  const restarts: string[] = [];
  const denied: string[] = [];
  let pid = 1;
  const pids = new Map<string, number>();
  const services: Services = new Services({
    lookup: async (name) => (impl[name] === undefined ? undefined : info(name)),
    start: async (name) => {
      const p = pid++;
      pids.set(name, p);
      const serve = impl[name];
      if (serve === undefined) throw new Error('no such module');
      const hosted = { serve, running: Promise.resolve(), exited: new Promise(() => {}), kill: async () => {} };
      const lc = {
        ready: { info: info(name) },
        latest: { info: info(name) },
        updatePending: false,
        row: { pid: p, state: 'running' },
        whenRunning: async () => hosted,
        restartNow: async () => void restarts.push(name),
      };
      return lc as unknown as Lifecycle;
    },
    denied: (caller, permission) => void denied.push(`${caller.name} ${permission}`),
    directCaller: () => false,
    resume: async () => {},
  });
  const caller = (name: string): Caller => ({ pid: pids.get(name) ?? -1, name, grants: { publish: [], subscribe: [], kernel: [], call: ['a', 'b', 'c'] }, incarnation: 1 });
  return { services, restarts, denied, caller };
}

const code = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof KernelError ? e.code : String(e)),
  );

describe('service calls', () => {
  it('runs calls one at a time, in order', async () => {
    let running = 0;
    let most = 0;
    const { services } = setup({
      a: async (_fn, input) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return input;
      },
    });
    const outs = await Promise.all(['1', '2', '3', '4'].map((i) => services.call(undefined, 'a', 'f', i, undefined)));
    expect(outs.map((o) => dec.decode(o))).toEqual(['1', '2', '3', '4']);
    expect(most).toBe(1);
  });

  it('refuses an unknown module and function, and a module call without its grant (logged)', async () => {
    const { services, denied } = setup({ a: async (_f, i) => i });
    expect(await code(services.call(undefined, 'zz', 'f', '', undefined))).toBe('kernel/unknown-module');
    expect(await code(services.call(undefined, 'a', 'nope', '', undefined))).toBe('service/no-such-function');
    const stranger: Caller = { pid: 99, name: 'stranger', grants: { publish: [], subscribe: [], kernel: [] }, incarnation: 1 };
    expect(await code(services.call(stranger, 'a', 'f', '', undefined))).toBe('kernel/denied');
    expect(denied).toEqual(['stranger call:a']);
  });

  it('refuses A -> A and A -> B -> A at once with service/call-loop, and both go on', async () => {
    let self = '';
    let loop = '';
    const t = setup({
      a: async (fn, input) => {
        if (fn === 'f') self = await code(t.services.call(t.caller('a'), 'a', 'g', '', undefined));
        if (fn === 'g') return dec.decode(input) === 'via b' ? enc.encode('never') : input;
        if (fn === 'h') return t.services.call(t.caller('a'), 'b', 'g', '', undefined);
        return enc.encode('a done');
      },
      b: async (fn) => {
        if (fn === 'g') loop = await code(t.services.call(t.caller('b'), 'a', 'g', 'via b', undefined));
        return enc.encode('b done');
      },
    });
    await t.services.call(undefined, 'a', 'f', '', undefined);
    expect(self).toBe('service/call-loop');
    await t.services.call(undefined, 'b', 'x', '', undefined); // b starts
    expect(dec.decode(await t.services.call(undefined, 'a', 'h', '', undefined))).toBe('b done');
    expect(loop).toBe('service/call-loop');
    expect(dec.decode(await t.services.call(undefined, 'a', 'x', '', undefined))).toBe('a done');
  });

  it('refuses a loop across two chains: A waits, queued on B, while B (serving another call) calls A', async () => {
    let releaseB!: () => void;
    const bMayCall = new Promise<void>((r) => (releaseB = r));
    let crossed = '';
    const t = setup({
      a: async (fn) => {
        if (fn === 'h') return t.services.call(t.caller('a'), 'b', 'x', '', undefined);
        return enc.encode('a');
      },
      b: async (fn) => {
        if (fn === 'g') {
          await bMayCall;
          crossed = await code(t.services.call(t.caller('b'), 'a', 'x', '', undefined));
        }
        return enc.encode('b');
      },
    });
    await t.services.call(undefined, 'a', 'x', '', undefined);
    await t.services.call(undefined, 'b', 'x', '', undefined);
    const first = t.services.call(undefined, 'b', 'g', '', undefined); // b busy, waiting for the signal
    await new Promise((r) => setTimeout(r, 5));
    const second = t.services.call(undefined, 'a', 'h', '', undefined); // a queues behind it on b
    await new Promise((r) => setTimeout(r, 5));
    releaseB();
    expect(dec.decode(await first)).toBe('b');
    expect(dec.decode(await second)).toBe('b');
    expect(crossed).toBe('service/call-loop');
  });

  it('ends a call running past its deadline with kernel/timeout and restarts the instance; a queued one past its deadline fails without', async () => {
    const t = setup({
      a: (fn, input) => (fn === 'spin' ? new Promise<Uint8Array>(() => {}) : Promise.resolve(input)),
    });
    await t.services.call(undefined, 'a', 'f', '', undefined);
    const spin = code(t.services.call(undefined, 'a', 'spin', '', { timeoutMs: 60 }));
    const queued = code(t.services.call(undefined, 'a', 'f', '', { timeoutMs: 20 }));
    expect(await spin).toBe('kernel/timeout');
    expect(await queued).toBe('kernel/timeout');
    expect(t.restarts).toEqual(['a']);
    expect(await code(t.services.call(undefined, 'a', 'f', 'ok', undefined))).toBe('ok');
  });
});

describe('the call grant', () => {
  it('is asked as permissions.call with module names, and granted like the others', () => {
    const asked = requestedPermissions({ permissions: { call: ['plugin', 'other'] } });
    expect(asked).toEqual(['call:plugin', 'call:other']);
    expect(grantsFrom(asked, ['call:plugin']).call).toEqual(['plugin']);
    expect(() => requestedPermissions({ permissions: { call: ['not a name'] } })).toThrow(KernelError);
  });
});

describe("a manifest's service field", () => {
  it('gives config strings and a deadline; anything malformed is a message, and __proto__ is a plain key', () => {
    expect(serviceSettings({})).toMatchObject({ config: {} });
    expect(serviceSettings({ service: { config: { a: 'b' }, timeoutMs: 500 } })).toMatchObject({ config: { a: 'b' }, timeoutMs: 500 });
    for (const bad of [3, [], { config: [] }, { config: { a: 1 } }, { timeoutMs: 0 }, { timeoutMs: 700_000 }, { timeoutMs: '5' }]) {
      expect(typeof serviceSettings({ service: bad })).toBe('string');
    }
    const tricky = serviceSettings(JSON.parse('{"service":{"config":{"__proto__":"x"}}}') as Record<string, unknown>);
    expect(typeof tricky === 'object' && Object.getPrototypeOf(tricky.config) === Object.prototype).toBe(true);
    expect(typeof tricky === 'object' && Object.keys(tricky.config)).toEqual(['__proto__']);
  });
});
