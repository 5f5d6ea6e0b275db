/**
 * An Extism manifest's fields under a module's `service` (ADR 0026): allowed_hosts with Extism's
 * wildcard rule, asked for as `http:` permissions; memory limits; timeout_ms; linked modules.
 */
import { describe, expect, it } from 'vitest';
import { grantsFrom, hostAllowed, requestedPermissions, serviceSettings } from '../../src/common';

describe('allowed_hosts', () => {
  it("matches Extism's glob: * is any run of characters, nothing else is special", () => {
    expect(hostAllowed('example.com', ['example.com'])).toBe(true);
    expect(hostAllowed('api.example.com', ['example.com'])).toBe(false);
    expect(hostAllowed('api.example.com', ['*.example.com'])).toBe(true);
    expect(hostAllowed('a.b.example.com', ['*.example.com'])).toBe(true);
    expect(hostAllowed('example.com', ['*.example.com'])).toBe(false);
    expect(hostAllowed('examplexcom', ['example.com'])).toBe(false);
    expect(hostAllowed('anything.at.all', ['*'])).toBe(true);
    expect(hostAllowed('127.0.0.1', ['127.0.0.*'])).toBe(true);
    expect(hostAllowed('localhost', [])).toBe(false);
    expect(hostAllowed('api1.test', ['api?.test'])).toBe(true);
    expect(hostAllowed('api12.test', ['api?.test'])).toBe(false);
  });

  it('are asked for as http permissions, given only when granted', () => {
    const manifest = { service: { allowed_hosts: ['*.Example.com', 'api.test'] }, permissions: { http: ['other.test'] } };
    const asked = requestedPermissions(manifest);
    expect(asked.sort()).toEqual(['http:*.example.com', 'http:api.test', 'http:other.test']);
    expect(grantsFrom(asked, ['http:api.test']).http).toEqual(['api.test']);
    expect(grantsFrom(asked, undefined).http).toBeUndefined();
    expect(() => requestedPermissions({ permissions: { http: ['no spaces'] } })).toThrow();
  });
});

describe("the rest of an Extism manifest's fields", () => {
  it('reads memory, timeout_ms and wasm, and refuses malformed ones', () => {
    const s = serviceSettings({
      service: { timeout_ms: 250, memory: { max_pages: 16, max_http_response_bytes: 1000, max_var_bytes: 64 }, wasm: [{ name: 'math', module: 'mathlib' }, { name: 'fmt' }] },
    });
    expect(s).toEqual({
      config: {},
      timeoutMs: 250,
      allowedHosts: [],
      memory: { maxPages: 16, maxHttpResponseBytes: 1000, maxVarBytes: 64 },
      wasm: [
        { name: 'math', module: 'mathlib' },
        { name: 'fmt', module: 'fmt' },
      ],
    });
    for (const bad of [
      { memory: { max_pages: 0 } },
      { memory: { max_pages: 1.5 } },
      { memory: [] },
      { wasm: {} },
      { wasm: [{ name: 'a' }, { name: 'a' }] },
      { wasm: [{ module: 'x' }] },
      { allowed_hosts: 'example.com' },
      { allowed_hosts: ['http://example.com'] },
      { timeout_ms: 0 },
    ]) {
      expect(typeof serviceSettings({ service: bad })).toBe('string');
    }
  });

  it('reads allowed_paths as mounts of the home or an empty folder, and refuses host paths', () => {
    expect(serviceSettings({ service: { allowed_paths: { home: '/data', tmp: '/scratch' } } })).toMatchObject({ allowedPaths: { '/data': 'home', '/scratch': 'tmp' } });
    for (const bad of [{ '/etc': '/etc' }, { home: 'data' }, { home: '/a/../b' }, { tmp: 3 }, ['home']]) {
      expect(typeof serviceSettings({ service: { allowed_paths: bad } })).toBe('string');
    }
  });
});
