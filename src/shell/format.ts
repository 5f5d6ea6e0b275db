/** Words and numbers as the shell shows them to people. */
import type { Capability, ProcessInfo } from '../kernel';

/** Bytes as KiB with one decimal (`12.3 KiB`). */
export function formatKiB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A size in the largest binary unit that keeps it at least 1 (`512 B`, `3.4 MiB`, `9.8 GiB`). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A duration as `42s`, `3m 07s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** How a process ended, in a few words (`exit 0`, `killed`, `crashed: unreachable`). */
export function describeEnd(info: ProcessInfo | undefined, exitCode?: number): string {
  const code = info?.exitCode ?? exitCode;
  switch (info?.reason) {
    case 'killed':
      return 'killed';
    case 'crashed':
      return info.message ? `crashed: ${info.message}` : 'crashed';
    case 'memory-exceeded':
      return 'memory limit exceeded';
    case 'failed':
      return info.message ? `failed to start: ${info.message}` : 'failed to start';
    case 'no-memory-slot':
      return 'no wasm memory slot free';
    case 'watchdog-expired':
      return 'stopped by its watchdog';
    case 'restart-limit':
      return `gave up after ${info.restarts} ${info.restarts === 1 ? 'restart' : 'restarts'}`;
    case 'shutdown':
      return 'shut down';
    default:
      return code === undefined ? 'exited' : `exited with code ${code}`;
  }
}

/** An error's code and message, as `code: message` when it has a code (a KernelError). */
export function describeError(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' && message !== '' ? message : String(e);
    return typeof code === 'string' ? `${code}: ${text}` : text;
  }
  return String(e);
}

/** Short words and a longer explanation for each capability a module asks for. */
export const CAPABILITY_WORDS: Record<Capability, { label: string; title: string }> = {
  args: { label: 'arguments', title: 'Reads its command-line arguments' },
  env: { label: 'environment', title: 'Reads environment variables' },
  stdin: { label: 'stdin', title: 'Reads typed input' },
  stdout: { label: 'output', title: 'Writes to the terminal' },
  files: { label: 'files', title: 'Opens, reads or writes files' },
  clock: { label: 'clock', title: 'Reads the time' },
  random: { label: 'random', title: 'Uses random numbers' },
  sleep: { label: 'sleep', title: 'Waits for time to pass or for events' },
  exit: { label: 'exit', title: 'Ends itself with an exit code' },
  sockets: { label: 'network', title: 'Uses sockets' },
  webmk: { label: 'webmk', title: 'Uses webmk system calls' },
  extism: { label: 'Extism plugin', title: "Uses Extism's host ABI: a service, called with kernel.call or from Services and store" },
  'unknown-imports': { label: 'unknown imports', title: 'Imports functions webmk does not provide' },
};

/** Why a process was last restarted, in a few words (`after crashed`, `after exit 3`). */
export function describeRestart(info: ProcessInfo): string {
  const last = info.lastExit;
  if (last === undefined) return '';
  return last.reason === 'exited' ? `after exit ${last.code}` : `after ${last.reason}`;
}
