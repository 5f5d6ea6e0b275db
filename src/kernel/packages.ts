/** `kernel.packages()`: the registry's package records joined with the process table and the trusted keys. */
import type { ModuleInfo, PackageInfo, PackageModuleStatus, PackageRecord, ProcessInfo, TrustedKey } from '../common';

/** Each package with its signature state, its dependents and every module's status now. */
export function packageInfos(records: PackageRecord[], modules: ModuleInfo[], procs: ProcessInfo[], keys: TrustedKey[]): PackageInfo[] {
  const trusted = new Set(keys.map((k) => k.publicKey));
  const byName = new Map(modules.map((m) => [m.name, m]));
  return records.map(({ manifestText: _m, signatureText: _s, ...p }) => ({
    ...p,
    dependencies: { ...p.dependencies },
    signature: p.publisher === null ? 'unsigned' : trusted.has(p.publisher) ? 'trusted' : 'untrusted-key',
    dependents: records.filter((o) => o.name !== p.name && p.name in o.dependencies).map((o) => o.name),
    modules: p.modules.flatMap((name) => {
      const m = byName.get(name);
      return m === undefined ? [] : [moduleStatus(m, procs)];
    }),
  }));
}

function moduleStatus(m: ModuleInfo, procs: ProcessInfo[]): PackageModuleStatus {
  const mine = procs.filter((p) => p.name === m.name);
  const pids = mine.filter((p) => p.state !== 'exited').map((p) => p.pid);
  const last = mine.filter((p) => p.state === 'exited').sort((a, b) => (b.endedAt ?? 0) - (a.endedAt ?? 0))[0];
  const failed = last !== undefined && (last.reason === 'failed' || last.reason === 'crashed' || last.reason === 'restart-limit');
  const running = mine.filter((p) => p.state !== 'exited').map((p) => ({ pid: p.pid, version: p.version ?? m.version, sha256: p.sha256 ?? m.sha256 }));
  const base = { name: m.name, version: m.version, kind: m.kind, sha256: m.sha256, pids, refCount: pids.length, running };
  if (pids.length > 0) return { ...base, state: 'running' };
  if (failed) return { ...base, state: 'error', error: last.message ?? last.reason ?? 'failed' };
  return { ...base, state: 'installed' };
}
