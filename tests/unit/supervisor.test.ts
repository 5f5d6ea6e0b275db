import { describe, expect, it } from 'vitest';
import { checkRestartPolicy, checkWatchdogMs, type ProcessExit } from '../../src/common';
import { RestartHistory, abnormal, policyOf } from '../../src/kernel/supervisor';

const crashed: ProcessExit = { code: 134, reason: 'crashed' };
const clean: ProcessExit = { code: 0, reason: 'exited' };
const failing: ProcessExit = { code: 1, reason: 'exited' };

describe('restart decisions', () => {
  it('temporary never restarts; transient only after an abnormal end; permanent after any', () => {
    const t = new RestartHistory(policyOf({ restart: 'temporary' }));
    expect(t.decide(crashed, false, 10, 0).kind).toBe('stop');
    const tr = new RestartHistory(policyOf({ restart: 'transient' }));
    expect(tr.decide(clean, false, 10, 0).kind).toBe('stop');
    expect(tr.decide(failing, false, 10, 0).kind).toBe('restart');
    expect(tr.decide({ code: 137, reason: 'watchdog-expired' }, false, 10, 1).kind).toBe('restart');
    const p = new RestartHistory(policyOf({ restart: 'permanent' }));
    expect(p.decide(clean, false, 10, 0).kind).toBe('restart');
  });

  it('an end someone asked for is never restarted', () => {
    const p = new RestartHistory(policyOf({ restart: 'permanent' }));
    expect(p.decide({ code: 137, reason: 'killed' }, true, 10, 0).kind).toBe('stop');
  });

  it('more than intensity restarts within periodMs is the limit; older ones age out', () => {
    const h = new RestartHistory(policyOf({ restart: 'transient', intensity: 2, periodMs: 1000 }));
    expect(h.decide(crashed, false, 1, 0).kind).toBe('restart');
    expect(h.decide(crashed, false, 1, 100).kind).toBe('restart');
    expect(h.decide(crashed, false, 1, 200).kind).toBe('limit');
    const aged = new RestartHistory(policyOf({ restart: 'transient', intensity: 2, periodMs: 1000 }));
    aged.decide(crashed, false, 1, 0);
    aged.decide(crashed, false, 1, 100);
    expect(aged.decide(crashed, false, 1, 1100).kind).toBe('restart');
  });

  it('backoff grows by its factor to its cap and starts over after a run of resetAfterMs', () => {
    const h = new RestartHistory(policyOf({ restart: 'permanent', intensity: 100, backoff: { initialMs: 100, factor: 3, maxMs: 1000, resetAfterMs: 5000 } }));
    const delays = [0, 1, 2, 3, 4].map((i) => h.decide(crashed, false, 10, i));
    expect(delays.map((d) => (d.kind === 'restart' ? d.delayMs : -1))).toEqual([100, 300, 900, 1000, 1000]);
    const after = h.decide(crashed, false, 5000, 10);
    expect(after).toEqual({ kind: 'restart', delayMs: 100 });
  });

  it('reset forgets the history', () => {
    const h = new RestartHistory(policyOf({ restart: 'transient', intensity: 1 }));
    h.decide(crashed, false, 1, 0);
    expect(h.decide(crashed, false, 1, 1).kind).toBe('limit');
    h.reset();
    expect(h.decide(crashed, false, 1, 2)).toEqual({ kind: 'restart', delayMs: 100 });
  });

  it('abnormal means anything but exit(0)', () => {
    expect([clean, failing, crashed].map(abnormal)).toEqual([false, true, true]);
  });
});

describe('checking supervision settings', () => {
  it('accepts a policy and keeps only what it knows', () => {
    expect(checkRestartPolicy({ restart: 'transient', intensity: 2, backoff: { initialMs: 5, extra: 1 }, extra: true })).toEqual({
      restart: 'transient',
      intensity: 2,
      backoff: { initialMs: 5 },
    });
  });

  it('says what is wrong with a bad one', () => {
    for (const bad of [null, 'permanent', { restart: 'always' }, { restart: 'permanent', intensity: 1.5 }, { restart: 'permanent', periodMs: -1 }, { restart: 'permanent', backoff: 3 }, { restart: 'permanent', backoff: { factor: 0.5 } }]) {
      expect(typeof checkRestartPolicy(bad)).toBe('string');
    }
    expect(checkWatchdogMs(250)).toBe(250);
    for (const bad of [0, 5, -1, Infinity, '100']) expect(typeof checkWatchdogMs(bad)).toBe('string');
  });
});
