/** The kernel's `home.*` calls refuse a process that was not given a home, and a path that leaves it. */
import { describe, expect, it } from 'vitest';
import { CallTable, type Caller } from '../../src/capability';
import { registerHomeCalls } from '../../src/kernel/home-calls';

const caller = (pid: number): Caller => ({ pid, name: 'files', grants: { kernel: [] } as unknown as Caller['grants'], incarnation: 1 });
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);

describe('home calls', () => {
  it('refuse, with kernel/denied, a process without a home', async () => {
    const calls = new CallTable();
    registerHomeCalls(calls, (pid, mount) => (pid === 1 && (mount === undefined || mount === '/home') ? 'files' : undefined));
    for (const call of ['home.read', 'home.write', 'home.mkdir', 'home.remove']) {
      expect(await code(calls.dispatch(caller(2), call, { path: 'a.txt', bytes: new Uint8Array(1) }))).toBe('kernel/denied');
      // Nor a directory it was not given, nor a mount that is not a guest directory.
      expect(await code(calls.dispatch(caller(1), call, { path: 'a.txt', bytes: new Uint8Array(1), mount: '/data' }))).toBe('kernel/denied');
      expect(await code(calls.dispatch(caller(1), call, { path: 'a.txt', bytes: new Uint8Array(1), mount: 7 }))).toBe('kernel/bad-argument');
    }
  });

  it('refuse paths that leave the home, with kernel/bad-argument', async () => {
    const calls = new CallTable();
    registerHomeCalls(calls, () => 'files');
    for (const path of ['../x', 'a/../../x', '.', '', '/']) {
      expect(await code(calls.dispatch(caller(1), 'home.remove', { path }))).toBe('kernel/bad-argument');
    }
    expect(await code(calls.dispatch(caller(1), 'home.write', { path: 'a', bytes: 'not bytes' }))).toBe('kernel/bad-argument');
  });
});
