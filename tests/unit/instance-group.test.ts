/**
 * Instance groups (ADR 0033), the kernel's half: which names `inProcess` accepts (spawn and
 * manifest), and which providers join a process's group: only those it imports from, was granted
 * `call:` for, and that are installed service modules; the spawn's list over the manifest's.
 */
import { describe, expect, it } from 'vitest';
import { checkInProcess, type ModuleInfo, type ModuleManifest } from '../../src/common';
import { instanceGroup } from '../../src/kernel/instance-group';
import type { Ready } from '../../src/kernel/lifecycle';
import type { Runnable } from '../../src/kernel/runnable';
import { checkSpawnOptions } from '../../src/kernel/spawn-options';
import { effectiveSpawn } from '../../src/kernel/spawn-config';
import { parseManifest } from '../../src/registry/manifest';

const EMPTY = new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));

function info(name: string, o: { command?: boolean; imports?: string[]; call?: string[]; manifest?: ModuleManifest; kind?: 'wasm' | 'js' } = {}): ModuleInfo {
  return {
    name,
    version: '1.0.0',
    description: '',
    size: 1,
    sha256: name.padEnd(64, '0'),
    installedAt: 0,
    kind: o.kind ?? 'wasm',
    command: o.command ?? false,
    imports: (o.imports ?? []).map((m) => ({ module: m, name: 'f', kind: 'function' as const })),
    exports: [],
    capabilities: [],
    manifest: o.manifest ?? {},
    requested: [],
    grants: { publish: [], subscribe: [], kernel: [], call: o.call ?? [] },
    config: {},
    package: name,
  };
}

const installed = [info('lib'), info('other'), info('cmd', { command: true }), info('script', { kind: 'js' })];
const catalog = {
  lookup: async (name: string) => installed.find((m) => m.name === name),
  runnable: async (): Promise<Runnable> => ({ kind: 'wasm', module: EMPTY, bytes: new Uint8Array(8), maxPages: 16 }),
};

async function groupOf(importer: ModuleInfo, spawn: Record<string, unknown> = {}): Promise<string[]> {
  const ready: Ready = { info: importer, o: effectiveSpawn(checkSpawnOptions(spawn), importer), runnable: await catalog.runnable() };
  return ((await instanceGroup(ready, catalog)) ?? []).map((g) => g.name);
}

describe('inProcess names', () => {
  it('are a list of module names, duplicates dropped, at most 8', () => {
    expect(checkInProcess(['a', 'b', 'a'], 'x')).toEqual(['a', 'b']);
    expect(typeof checkInProcess('a', 'x')).toBe('string');
    expect(typeof checkInProcess(['a b'], 'x')).toBe('string');
    expect(typeof checkInProcess(Array.from({ length: 9 }, (_, i) => `m${i}`), 'x')).toBe('string');
  });

  it('a spawn option or a manifest field that is not one is refused', () => {
    expect(() => checkSpawnOptions({ inProcess: 'lib' })).toThrow(/inProcess/);
    expect(() => parseManifest('{"inProcess":"lib"}', 'm')).toThrow(/inProcess/);
    expect(parseManifest('{"inProcess":["lib"]}', 'm').inProcess).toEqual(['lib']);
  });
});

describe('who joins a process\'s group', () => {
  const importer = info('app', { command: true, imports: ['lib', 'other', 'cmd', 'script', 'gone'], call: ['lib', 'cmd', 'script', 'gone'] });

  it('an installed service module it imports from and may call', async () => {
    expect(await groupOf(importer, { inProcess: ['lib'] })).toEqual(['lib']);
  });

  it('not one it was not granted call: for, nor a command, a JS module, one not installed, one it does not import', async () => {
    expect(await groupOf(importer, { inProcess: ['other', 'cmd', 'script', 'gone'] })).toEqual([]);
    expect(await groupOf(info('app', { command: true, imports: [], call: ['lib'] }), { inProcess: ['lib'] })).toEqual([]);
  });

  it('the manifest\'s list unless the spawn gives one; none outside worker and inpage modes', async () => {
    const withManifest = info('app', { command: true, imports: ['lib'], call: ['lib'], manifest: { inProcess: ['lib'] } });
    expect(await groupOf(withManifest)).toEqual(['lib']);
    expect(await groupOf(withManifest, { inProcess: [] })).toEqual([]);
    expect(await groupOf(withManifest, { mode: 'iframe' })).toEqual([]);
  });
});
