/**
 * A module's stored configuration: what `kernel.configure` accepts, what a manifest may say, how
 * a spawn, the configuration and the manifest combine, and the order modules start at boot.
 */
import { describe, expect, it } from 'vitest';
import { checkModuleConfig, manifestConfig, isKernelError, type ModuleConfig, type ModuleInfo, type ModuleManifest } from '../../src/common';
import { autostartPlan, effectiveSpawn, manifestSettings } from '../../src/kernel/spawn-config';
import { checkSpawnOptions } from '../../src/kernel/spawn-options';

function moduleInfo(name: string, config: ModuleConfig = {}, manifest: ModuleManifest = {}): ModuleInfo {
  return {
    name,
    version: '1.0.0',
    description: '',
    size: 1,
    sha256: '0'.repeat(64),
    installedAt: 0,
    command: true,
    imports: [],
    exports: [],
    capabilities: [],
    manifest,
    requested: [],
    grants: { publish: [], subscribe: [], kernel: [] },
    config,
  };
}

describe('checkModuleConfig', () => {
  it('accepts every field, checked, and gives back a fresh object', () => {
    const input = {
      mode: 'iframe',
      restart: { restart: 'transient', intensity: 2, backoff: { initialMs: 10 } },
      watchdogMs: 250,
      autostart: true,
      startOrder: -3,
      args: ['a', 'b c'],
    };
    const out = checkModuleConfig(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect((out as ModuleConfig).args).not.toBe(input.args);
  });

  it('takes {} (nothing configured) and leaves out a field set to undefined', () => {
    expect(checkModuleConfig({})).toEqual({});
    expect(checkModuleConfig({ watchdogMs: undefined, autostart: false })).toEqual({ autostart: false });
  });

  it('says what is wrong with each kind of bad value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [null, /must be an object/],
      [[], /must be an object/],
      ['autostart', /must be an object/],
      [{ mode: 'thread' }, /mode must be one of/],
      [{ restart: 'always' }, /restart must be an object/],
      [{ restart: { restart: 'transient', intensity: -1 } }, /intensity/],
      [{ watchdogMs: 5 }, /at least 10/],
      [{ autostart: 'yes' }, /autostart must be true or false/],
      [{ startOrder: 1.5 }, /startOrder must be an integer/],
      [{ startOrder: Number.NaN }, /startOrder must be an integer/],
      [{ startOrder: '1' }, /startOrder must be an integer/],
      [{ args: 'a b' }, /args must be an array of strings/],
      [{ args: ['a', 1] }, /args must be an array of strings/],
      [{ watchdogMS: 100 }, /"watchdogMS" is not a configuration field/],
      [JSON.parse('{"__proto__": {"autostart": true}}'), /"__proto__" is not a configuration field/],
    ];
    for (const [input, problem] of bad) expect(checkModuleConfig(input), JSON.stringify(input)).toMatch(problem);
  });

  it('reads only own fields: an inherited one is not configuration', () => {
    expect(checkModuleConfig(Object.create({ autostart: true }))).toEqual({});
  });
});

describe('manifestConfig', () => {
  it('picks the configuration fields of a manifest and ignores the rest (args included)', () => {
    expect(manifestConfig({ name: 'x', autostart: true, startOrder: 4, args: ['no'], restart: { restart: 'permanent' } })).toEqual({
      autostart: true,
      startOrder: 4,
      restart: { restart: 'permanent' },
    });
  });

  it('refuses a malformed one', () => {
    expect(manifestConfig({ autostart: 1 })).toMatch(/autostart/);
    expect(manifestConfig({ mode: 'everywhere' })).toMatch(/mode/);
  });

  it('manifestSettings drops only the malformed field of a module stored before the checks', () => {
    expect(manifestSettings({ autostart: 'yes', watchdogMs: 50, startOrder: 2 })).toEqual({ watchdogMs: 50, startOrder: 2 });
  });
});

describe('effectiveSpawn: spawn options, then configuration, then manifest, then defaults', () => {
  const manifest = { restart: { restart: 'transient', intensity: 1 }, watchdogMs: 200 };
  const config: ModuleConfig = { restart: { restart: 'permanent', intensity: 2 }, watchdogMs: 300, args: ['from', 'config'] };

  it('defaults: worker, no args, no policy, no watchdog', () => {
    expect(effectiveSpawn(checkSpawnOptions({}), moduleInfo('m'))).toMatchObject({ mode: 'worker', args: [], restart: undefined, watchdogMs: undefined });
  });

  it('the manifest fills in what nothing else gives', () => {
    const o = effectiveSpawn(checkSpawnOptions({}), moduleInfo('m', {}, manifest));
    expect(o).toMatchObject({ restart: { restart: 'transient', intensity: 1 }, watchdogMs: 200, args: [] });
  });

  it('the configuration beats the manifest', () => {
    const o = effectiveSpawn(checkSpawnOptions({}), moduleInfo('m', config, manifest));
    expect(o).toMatchObject({ restart: { restart: 'permanent', intensity: 2 }, watchdogMs: 300, args: ['from', 'config'] });
  });

  it('the spawn beats the configuration, setting by setting; a policy is one setting', () => {
    const o = effectiveSpawn(checkSpawnOptions({ restart: { restart: 'temporary' }, args: [] }), moduleInfo('m', config, manifest));
    expect(o.restart).toEqual({ restart: 'temporary' });
    expect(o.args).toEqual([]);
    expect(o.watchdogMs).toBe(300);
  });

  it('refuses a mode that cannot run yet, wherever it comes from, and a spawn may ask for worker over it', () => {
    const refused = (asked: unknown, info: ModuleInfo): string => {
      try {
        effectiveSpawn(checkSpawnOptions(asked), info);
        return 'ran';
      } catch (e) {
        return isKernelError(e, 'kernel/bad-argument') ? String(e.details.from) : 'other';
      }
    };
    expect(refused({}, moduleInfo('m', { mode: 'remote' }))).toBe('configuration');
    expect(refused({}, moduleInfo('m', {}, { mode: 'remote' }))).toBe('manifest');
    expect(refused({ mode: 'remote' }, moduleInfo('m'))).toBe('spawn');
    expect(refused({ mode: 'worker' }, moduleInfo('m', { mode: 'remote' }, { mode: 'remote' }))).toBe('ran');
    expect(refused({}, moduleInfo('m', { mode: 'worker' }, { mode: 'remote' }))).toBe('ran');
  });

  it('a spawn with an unknown mode is a bad argument before anything is looked up', () => {
    expect(() => checkSpawnOptions({ mode: 'thread' })).toThrow(/mode/);
  });
});

describe('autostartPlan', () => {
  it('takes the modules set to autostart, in ascending startOrder, ties by name', () => {
    const plan = autostartPlan([
      moduleInfo('c', { autostart: true, startOrder: 1 }),
      moduleInfo('a', { autostart: true, startOrder: 2 }),
      moduleInfo('b', { autostart: true, startOrder: 1 }),
      moduleInfo('off', { startOrder: 0 }),
      moduleInfo('neg', { autostart: true, startOrder: -1 }),
      moduleInfo('zero', { autostart: true }),
    ]);
    expect(plan).toEqual([
      { name: 'neg', startOrder: -1 },
      { name: 'zero', startOrder: 0 },
      { name: 'b', startOrder: 1 },
      { name: 'c', startOrder: 1 },
      { name: 'a', startOrder: 2 },
    ]);
  });

  it('the configuration beats the manifest for autostart and startOrder', () => {
    const plan = autostartPlan([
      moduleInfo('manifest-on', {}, { autostart: true, startOrder: 5 }),
      moduleInfo('config-off', { autostart: false }, { autostart: true }),
      moduleInfo('config-on', { autostart: true }, { autostart: false, startOrder: 9 }),
      moduleInfo('reordered', { startOrder: 1 }, { autostart: true, startOrder: 7 }),
    ]);
    expect(plan).toEqual([
      { name: 'reordered', startOrder: 1 },
      { name: 'manifest-on', startOrder: 5 },
      { name: 'config-on', startOrder: 9 },
    ]);
  });

  it('ties by code-point order, not the locale', () => {
    const names = autostartPlan(['b', 'B', 'a', 'A', '_x', '0'].map((n) => moduleInfo(n, { autostart: true }))).map((e) => e.name);
    expect(names).toEqual(['0', 'A', 'B', '_x', 'a', 'b']);
  });
});
