/**
 * Permissions beyond WASI: what a manifest asks for, what the person grants, and the checks the
 * kernel and its glue make. Deny by default: what is not granted is refused.
 */
import { KernelError } from './errors';
import { isModuleName, isTopic } from './names';
import { isHostPattern, serviceSettings } from './service-manifest';
import type { Grants, KernelCall, ModuleManifest, ModuleSymbol } from './types';

export const KERNEL_CALLS: readonly KernelCall[] = ['list', 'spawn', 'kill', 'ps'];
const KINDS = ['publish', 'subscribe', 'kernel', 'run', 'call', 'kv', 'http'] as const;
type Kind = (typeof KINDS)[number];
/**
 * Execution modes a module must be granted: `run:inpage` (on the page's own thread), and for a JS
 * module `run:worker` (a worker of the app's origin); neither is isolated from the app.
 */
const GRANTED_MODES = ['inpage', 'worker'];

/** Grants that allow nothing. */
export function noGrants(): Grants {
  return { publish: [], subscribe: [], kernel: [] };
}

/** Extism's namespace of host functions: a plugin importing from it asks for `call:` it (ADR 0035). */
const HOST_FUNCTIONS = 'extism:host/user';

/**
 * The permissions a manifest asks for, as `kind:value` strings, with those the module's `imports`
 * imply (Extism's host functions); throws on a malformed request.
 */
export function requestedPermissions(manifest: ModuleManifest, imports: readonly ModuleSymbol[] = []): string[] {
  const p = manifest.permissions;
  // An Extism plugin's allowed_hosts are asked for as http permissions: the person grants them;
  // its host functions, as the call permission of their namespace.
  const settings = serviceSettings(manifest);
  const hosts = [
    ...(typeof settings === 'string' ? [] : settings.allowedHosts.map((h) => `http:${h}`)),
    ...(imports.some((i) => i.module === HOST_FUNCTIONS) ? [`call:${HOST_FUNCTIONS}`] : []),
  ];
  if (p === undefined) return [...(manifest.mode === 'inpage' ? ['run:inpage'] : []), ...hosts];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new KernelError('registry/invalid-manifest', 'manifest "permissions" must be an object');
  }
  const out: string[] = [];
  for (const [kind, list] of Object.entries(p as Record<string, unknown>)) {
    if (!(KINDS as readonly string[]).includes(kind)) continue; // later capabilities; ignored here
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      throw new KernelError('registry/invalid-manifest', `manifest "permissions.${kind}" must be a list of strings`);
    }
    for (const value of list as string[]) {
      const ok =
        kind === 'kernel'
          ? (KERNEL_CALLS as readonly string[]).includes(value)
          : kind === 'run'
            ? GRANTED_MODES.includes(value)
            : kind === 'call'
              ? isModuleName(value) || value === HOST_FUNCTIONS
              : kind === 'kv'
                ? isKvPermission(value)
                : kind === 'http'
                  ? isHostPattern(value)
                  : isTopic(value, true);
      if (!ok) throw new KernelError('registry/invalid-manifest', `"${value}" is not a valid ${kind} permission`);
      out.push(`${kind}:${value}`);
    }
  }
  // A manifest that asks to run on the page asks for the grant it needs.
  if (manifest.mode === 'inpage') out.push('run:inpage');
  return [...new Set([...out, ...hosts])];
}

/** Grants: what was asked AND given (`'all'` gives everything asked); anything else is ignored. */
export function grantsFrom(requested: readonly string[], given: 'all' | readonly string[] | undefined): Grants {
  const grants = noGrants();
  const chosen = given === 'all' ? requested : requested.filter((r) => given?.includes(r));
  for (const perm of chosen) {
    const [kind, value] = splitPermission(perm);
    (grants[kind] ??= []).push(value);
  }
  return grants;
}

/** The grants as `kind:value` strings (for the shell and for revoking). */
export function grantList(g: Grants): string[] {
  return KINDS.flatMap((k) => (g[k] ?? []).map((v) => `${k}:${v}`));
}

function splitPermission(perm: string): [Kind, string] {
  const at = perm.indexOf(':');
  return [perm.slice(0, at) as Kind, perm.slice(at + 1)];
}

/** In words a person understands. */
export function describePermission(perm: string): string {
  const [kind, value] = splitPermission(perm);
  if (kind === 'publish') return `send messages on ${value === '*' ? 'any topic' : `"${value}"`}`;
  if (kind === 'subscribe') return `read messages on ${value === '*' ? 'any topic' : `"${value}"`}`;
  if (kind === 'run' && value === 'worker') return "run as a JS module in a worker of the app's origin: not isolated from the app's storage and network";
  if (kind === 'kv') return `${value.startsWith('read:') ? 'read' : 'change'} the stored values of group "${value.slice(value.indexOf(':') + 1)}"`;
  if (kind === 'call' && value === HOST_FUNCTIONS) return "call the host functions the page provides to Extism plugins (extism:host/user)";
  if (kind === 'call') return `call the functions of the service module "${value}"`;
  if (kind === 'http') return `send HTTP requests to ${value === '*' ? 'any host' : /[*?]/.test(value) ? `hosts matching "${value}"` : `"${value}"`}`;
  if (kind === 'run') return 'run on the page itself: fastest, but not isolated from the app, and a loop holds the page until its next call';
  const calls: Record<string, string> = {
    list: 'see which modules are installed',
    spawn: 'start other modules',
    kill: 'stop running processes',
    ps: 'see which processes run',
  };
  return calls[value] ?? perm;
}

/** A kv permission's value: `read:<group>` or `write:<group>` (a group is named like a module). */
function isKvPermission(value: string): boolean {
  const at = value.indexOf(':');
  return (value.slice(0, at) === 'read' || value.slice(0, at) === 'write') && isModuleName(value.slice(at + 1));
}

/** Whether grants allow `access` to a key-value group. */
export function kvAllowed(g: Grants, access: 'read' | 'write', group: string): boolean {
  return (g.kv ?? []).includes(`${access}:${group}`);
}
