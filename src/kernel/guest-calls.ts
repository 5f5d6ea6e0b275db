/**
 * The kernel's own calls for modules (`kernel.list`, `kernel.ps`, `kernel.spawn`,
 * `kernel.kill`), each gated by its grant. A child spawned by a module gets an empty stdin and
 * its output is discarded: modules talk through the bus.
 */
import type { CallTable, Caller } from '../capability';
import { KernelError, type KernelCall, type ModuleInfo, type ProcessInfo } from '../common';
import type { Process, SpawnOptions } from './types';

/** What the calls need of the kernel. */
export interface KernelCallHost {
  modules(): Promise<ModuleInfo[]>;
  processes(): ProcessInfo[];
  spawn(name: string, opts: SpawnOptions): Promise<Process>;
  kill(pid: number): Promise<void>;
  denied(caller: Caller, permission: string): void;
}

/** Registers `kernel.list`, `kernel.ps`, `kernel.spawn` and `kernel.kill` on the call table. */
export function registerKernelCalls(calls: CallTable, k: KernelCallHost): void {
  const need = (caller: Caller, call: KernelCall): void => {
    if (caller.grants.kernel.includes(call)) return;
    k.denied(caller, `kernel:${call}`);
    throw new KernelError('kernel/denied', `"${caller.name}" was not granted kernel:${call}`);
  };
  calls.handle('kernel.list', async (caller) => {
    need(caller, 'list');
    const lines = (await k.modules()).map((m) => `${m.name} ${m.version} ${m.size}\n`);
    return { value: lines.join('') };
  });
  calls.handle('kernel.ps', (caller) => {
    need(caller, 'ps');
    const lines = k.processes().map((p) => `${p.pid} ${p.name} ${p.state}\n`);
    return { value: lines.join('') };
  });
  calls.handle('kernel.spawn', async (caller, args) => {
    need(caller, 'spawn');
    const a = args as { name?: unknown; args?: unknown } | null;
    if (typeof a?.name !== 'string' || !Array.isArray(a.args) || !a.args.every((x) => typeof x === 'string')) {
      throw new KernelError('kernel/bad-argument', 'spawn takes a name and string arguments');
    }
    const p = await k.spawn(a.name, { args: a.args as string[] });
    void p.stdin.close().catch(() => {});
    void p.stdout.cancel().catch(() => {});
    void p.stderr.cancel().catch(() => {});
    return { value: p.pid };
  });
  calls.handle('kernel.kill', async (caller, args) => {
    need(caller, 'kill');
    const pid = (args as { pid?: unknown } | null)?.pid;
    if (typeof pid !== 'number' || k.processes().find((p) => p.pid === pid && p.state !== 'exited') === undefined) {
      throw new KernelError('kernel/unknown-process', `no running process ${String(pid)}`);
    }
    await k.kill(pid);
    return { value: null };
  });
}
