/**
 * A service's calls across the page/container boundary (ADR 0032): what the page sends parses,
 * and an answer from the untrusted frame is held to the codes a service call may end with.
 */
import { describe, expect, it } from 'vitest';
import { parseFromFrame, parseToFrame } from '../../src/ipc/frame-parse';
import { KernelError } from '../../src/common/errors';

function code(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return e instanceof KernelError ? e.code : `threw ${String(e)}`;
  }
}

describe('serve, page to frame', () => {
  it('accepts a call with its input and deadline', () => {
    const input = new Uint8Array([1, 2, 3]);
    expect(parseToFrame({ v: 1, type: 'serve', sid: 2, id: 7, fn: 'echo', input, until: 1e12 })).toEqual({ v: 1, type: 'serve', sid: 2, id: 7, fn: 'echo', input, until: 1e12 });
    expect(parseToFrame({ v: 1, type: 'serve', sid: 2, id: 8, fn: 'echo', input })).not.toHaveProperty('until');
  });

  it('refuses a call without its fields', () => {
    for (const m of [
      { v: 1, type: 'serve', sid: 2, id: 7, fn: 'echo' },
      { v: 1, type: 'serve', sid: 2, id: 7, fn: 3, input: new Uint8Array(0) },
      { v: 1, type: 'serve', sid: 0, id: 7, fn: 'echo', input: new Uint8Array(0) },
      { v: 1, type: 'serve', sid: 2, id: 7, fn: 'echo', input: [1, 2] },
      { v: 1, type: 'serve', sid: 2, id: 7, fn: 'echo', input: new Uint8Array(0), until: 'soon' },
    ]) {
      expect(code(() => parseToFrame(m))).toBe('ipc/malformed');
    }
  });

  it('refuses a start whose service fields are malformed', () => {
    const start = { v: 1, type: 'start', sid: 1, pid: 1, name: 'p', sha256: 'x', maxPages: 1, args: [], env: [], preopens: [], files: [], tty: false, stdoutIsPipe: false, grants: {}, rings: { stdin: 16, stdout: 16, stderr: 16 } };
    expect(code(() => parseToFrame({ ...start, serve: true, serviceConfig: { a: 'b' }, extism: { maxBytes: 65536 } }))).toBe('accepted');
    expect(code(() => parseToFrame({ ...start, serve: 'yes' }))).toBe('ipc/malformed');
    expect(code(() => parseToFrame({ ...start, serve: true, serviceConfig: { a: 1 } }))).toBe('ipc/malformed');
    expect(code(() => parseToFrame({ ...start, serve: true, extism: { maxBytes: 'all' } }))).toBe('ipc/malformed');
    expect(code(() => parseToFrame({ ...start, serve: true, extism: { linked: [{ name: 'math', bytes: new Uint8Array(8) }] } }))).toBe('accepted');
    expect(code(() => parseToFrame({ ...start, serve: true, extism: { linked: [{ name: 'math' }] } }))).toBe('ipc/malformed');
    expect(code(() => parseToFrame({ ...start, serve: true, extism: { linked: { name: 'math', bytes: new Uint8Array(8) } } }))).toBe('ipc/malformed');
  });
});

describe('served, frame to page', () => {
  it('accepts an output and a service error', () => {
    expect(parseFromFrame({ v: 1, type: 'served', sid: 2, id: 7, ok: true, output: new Uint8Array([9]) })).toMatchObject({ ok: true, output: new Uint8Array([9]) });
    const failed = parseFromFrame({ v: 1, type: 'served', sid: 2, id: 7, ok: false, error: { code: 'service/no-such-function', message: 'no' } });
    expect(failed).toMatchObject({ ok: false, error: { code: 'service/no-such-function' } });
  });

  it('turns a code a service cannot answer with (a denial, a timeout) into service/error', () => {
    for (const c of ['kernel/denied', 'kernel/timeout', 'service/call-loop', 'nonsense']) {
      const m = parseFromFrame({ v: 1, type: 'served', sid: 2, id: 7, ok: false, error: { code: c, message: 'forged' } });
      expect(m).toMatchObject({ ok: false, error: { code: 'service/error' } });
    }
  });

  it('refuses an answer without its output or ids', () => {
    for (const m of [
      { v: 1, type: 'served', sid: 2, id: 7, ok: true },
      { v: 1, type: 'served', sid: 2, id: 7, ok: true, output: 'bytes' },
      { v: 1, type: 'served', sid: 2, ok: true, output: new Uint8Array(0) },
      { v: 1, type: 'served', sid: -1, id: 7, ok: false },
      { v: 1, type: 'served', sid: 2, id: 7, ok: 'yes' },
    ]) {
      expect(code(() => parseFromFrame(m))).toBe('ipc/malformed');
    }
  });
});
