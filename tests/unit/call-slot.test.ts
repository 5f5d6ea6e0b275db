/**
 * The call space of direct service calls (ADR 0027), on one thread: slots handed out oldest-freed
 * first with a fresh serial, the wait-for graph a caller follows before it claims a slot, a path
 * that no longer holds sending the caller back to the kernel, and the sweep after a caller ended.
 * (Two real workers calling through a slot are in tests/e2e/services-direct.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { CallSpace, CallState, SLOT, SlotPool, allocateCallSpace, callDirect, type DirectGrant } from '../../src/ipc';

const space = (): CallSpace => new CallSpace(allocateCallSpace());
const grant = (s: CallSpace, slot: number, serial: number): DirectGrant => ({ slot, serial, epoch: s.epoch(), timeoutMs: 1000, counter: 0 });
const caller = (me?: number) => ({ pid: 7, me, until: Infinity });

describe('call slots', () => {
  it('hands slots out oldest-freed first, each opening with a new serial', () => {
    const s = space();
    const pool = new SlotPool(s);
    const a = pool.take();
    const b = pool.take();
    expect([a?.slot, b?.slot]).toEqual([0, 1]);
    expect(b?.serial).toBeGreaterThan(a?.serial ?? Infinity);
    pool.release(0);
    expect(pool.take()?.slot).toBe(2);
  });

  it('refuses a call that would wait on itself, through any number of services, before it claims the slot', () => {
    const s = space();
    const pool = new SlotPool(s);
    const [a, b, c] = [pool.take(), pool.take(), pool.take()];
    if (a === undefined || b === undefined || c === undefined) throw new Error('no slots');
    s.setWaiting(b.slot, c.slot + 1); // b waits on c
    s.setWaiting(c.slot, a.slot + 1); // c waits on a
    expect(callDirect(s, grant(s, b.slot, b.serial), 'echo', new Uint8Array(1), caller(a.slot))).toEqual({ kind: 'loop', target: b.slot });
    expect(s.waiting(a.slot)).toBe(0);
    expect(s.state(b.slot).state).toBe(CallState.IDLE);
    // A wait only the kernel knows: the direct path cannot decide, the kernel does.
    s.setWaiting(c.slot, -1);
    expect(callDirect(s, grant(s, b.slot, b.serial), 'echo', new Uint8Array(1), caller(a.slot))).toEqual({ kind: 'fallback' });
  });

  it('sends the caller back to the kernel once its path no longer holds: epoch, serial, closing, ended, too large', () => {
    const s = space();
    const pool = new SlotPool(s);
    const a = pool.take();
    if (a === undefined) throw new Error('no slot');
    const g = grant(s, a.slot, a.serial);
    s.bumpEpoch();
    expect(callDirect(s, g, 'echo', new Uint8Array(1), caller()).kind).toBe('fallback');
    const fresh = grant(s, a.slot, a.serial);
    expect(callDirect(s, { ...fresh, serial: a.serial + 1 }, 'echo', new Uint8Array(1), caller()).kind).toBe('fallback');
    expect(callDirect(s, fresh, 'echo', new Uint8Array(300 * 1024), caller()).kind).toBe('fallback');
    s.close(a.slot);
    expect(callDirect(s, fresh, 'echo', new Uint8Array(1), caller()).kind).toBe('fallback');
    s.reopen(a.slot);
    pool.release(a.slot);
    expect(callDirect(s, fresh, 'echo', new Uint8Array(1), caller()).kind).toBe('fallback');
  });

  it('a call that finds the slot busy past its deadline times out without having run', () => {
    const s = space();
    const a = new SlotPool(s).take();
    if (a === undefined) throw new Error('no slot');
    Atomics.store(s.words(a.slot), SLOT.STATE, CallState.RUNNING);
    const out = callDirect(s, grant(s, a.slot, a.serial), 'echo', new Uint8Array(1), { pid: 7, me: undefined, until: Date.now() + 20 });
    expect(out).toEqual({ kind: 'timeout', ran: false });
    expect(s.counted(0)).toEqual({ calls: 1, errors: 1 });
  });

  it('sweeps the calls of a caller that ended: withdrawn, dropped, or orphaned while running', () => {
    const s = space();
    const pool = new SlotPool(s);
    const slots = [pool.take(), pool.take(), pool.take()].map((x) => x?.slot ?? -1);
    const states = [CallState.REQUEST, CallState.DONE_OK, CallState.RUNNING];
    slots.forEach((slot, i) => {
      Atomics.store(s.words(slot), SLOT.CALLER, 7);
      Atomics.store(s.words(slot), SLOT.STATE, states[i] ?? CallState.IDLE);
    });
    expect(s.sweep(7)).toEqual([slots[2]]);
    expect(slots.map((slot) => s.state(slot).state)).toEqual([CallState.IDLE, CallState.IDLE, CallState.ORPHANED]);
  });
});
