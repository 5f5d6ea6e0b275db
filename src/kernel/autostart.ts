/**
 * Starting the modules configured to start when the app opens (`kernel.autostart`): one after
 * another in their start order, each spawn settled before the next, a failure noted and passed
 * over. What each did is kept for whoever asks later (`kernel.autostarted`).
 */
import { KernelError, type ModuleInfo, type ProcessInfo } from '../common';
import { autostartPlan } from './spawn-config';
import type { AutostartResult, Process, SpawnOptions } from './types';

/** What autostart needs of the kernel. */
export interface AutostartHost {
  modules(): Promise<ModuleInfo[]>;
  spawn(name: string, opts: SpawnOptions): Promise<Process>;
  processes(): ProcessInfo[];
}

/**
 * Starts every module the plan lists with its configured args (the spawn gives none, so the
 * configuration's apply). Nobody types to or reads from such a process: its stdin is at end of
 * file and its output is discarded, as for a module's child; it talks over the bus.
 */
export async function runAutostart(k: AutostartHost): Promise<AutostartResult[]> {
  const results: AutostartResult[] = [];
  for (const { name, startOrder } of autostartPlan(await k.modules())) {
    try {
      const p = await k.spawn(name, {});
      void p.stdin.close().catch(() => {});
      void p.stdout.cancel().catch(() => {});
      void p.stderr.cancel().catch(() => {});
      const args = k.processes().find((r) => r.pid === p.pid)?.args.slice(1) ?? [];
      results.push({ name, startOrder, status: 'started', pid: p.pid, args });
    } catch (e) {
      const err = e instanceof KernelError ? e : new KernelError('kernel/spawn-failed', e instanceof Error ? e.message : String(e));
      results.push({ name, startOrder, status: 'failed', code: err.code, message: err.message });
    }
  }
  return results;
}
