/** Topics, patterns and grants: deny by default, grant only what was asked. */
import { describe, expect, it } from 'vitest';
import { grantList, grantsFrom, isTopic, requestedPermissions, topicAllowed, topicMatches } from '../../src/common';
import { KernelError } from '../../src/common/errors';

describe('topics', () => {
  it('accepts printable topics and trailing-wildcard patterns only', () => {
    expect(isTopic('sensors/temp')).toBe(true);
    expect(isTopic('a b')).toBe(false);
    expect(isTopic('')).toBe(false);
    expect(isTopic('x'.repeat(256))).toBe(false);
    expect(isTopic('a/*')).toBe(false);
    expect(isTopic('a/*', true)).toBe(true);
    expect(isTopic('*', true)).toBe(true);
    expect(isTopic('a*/b', true)).toBe(false);
    expect(isTopic('a/*/b', true)).toBe(false);
  });

  it('matches exact names, prefixes and everything', () => {
    expect(topicMatches('a/b', 'a/b')).toBe(true);
    expect(topicMatches('a/b', 'a/bc')).toBe(false);
    expect(topicMatches('a/*', 'a/b/c')).toBe(true);
    expect(topicMatches('a/*', 'ab/c')).toBe(false);
    expect(topicMatches('*', 'anything')).toBe(true);
  });

  it('allows a subscription pattern only inside a granted pattern', () => {
    expect(topicAllowed(['control/*'], 'control/speed')).toBe(true);
    expect(topicAllowed(['control/*'], 'control/a/*')).toBe(true);
    expect(topicAllowed(['control/speed'], 'control/*')).toBe(false);
    expect(topicAllowed([], 'x')).toBe(false);
  });
});

describe('grants', () => {
  const manifest = { permissions: { publish: ['sensors/temp'], subscribe: ['control/*'], kernel: ['list', 'spawn'] } };

  it('reads what a manifest asks for', () => {
    expect(requestedPermissions(manifest)).toEqual(['publish:sensors/temp', 'subscribe:control/*', 'kernel:list', 'kernel:spawn']);
    expect(requestedPermissions({})).toEqual([]);
  });

  it('rejects a malformed request with registry/invalid-manifest', () => {
    for (const bad of [{ permissions: [] }, { permissions: { publish: 'x' } }, { permissions: { kernel: ['reboot'] } }, { permissions: { publish: ['a b'] } }]) {
      let code = '';
      try {
        requestedPermissions(bad);
      } catch (e) {
        code = (e as KernelError).code;
      }
      expect(code).toBe('registry/invalid-manifest');
    }
  });

  it('grants nothing by default, all on request, and never what was not asked', () => {
    const asked = requestedPermissions(manifest);
    expect(grantsFrom(asked, undefined)).toEqual({ publish: [], subscribe: [], kernel: [] });
    expect(grantList(grantsFrom(asked, 'all'))).toEqual(asked);
    expect(grantsFrom(asked, ['kernel:list', 'kernel:kill', 'publish:other'])).toEqual({ publish: [], subscribe: [], kernel: ['list'] });
  });
});
