/**
 * A network namespace of the test's own making, with only loopback: whatever runs in it (a
 * relay, a static server, Chromium processes standing in for two devices) reaches nothing
 * outside, and nothing outside reaches it. A holder process (`unshare -n ... sleep`) keeps it
 * alive; every other process joins it with `nsenter --net=/proc/<holder>/ns/net`, so the test
 * itself stays in vitest and drives the browsers with playwright as usual.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why namespaces cannot be made here, or undefined when they can (checked synchronously, at collection). */
export function namespaceUnavailable(): string | undefined {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (r.error !== undefined) return `unshare cannot run: ${r.error.message}`;
  if (r.status !== 0) return `unshare -n is not permitted here (${(r.stderr || '').trim() || `exit ${r.status}`}); this test needs root or user namespaces`;
  const n = spawnSync('nsenter', ['--version'], { encoding: 'utf8' });
  if (n.error !== undefined) return `nsenter is missing: ${n.error.message}`;
  return undefined;
}

/** A running namespace. */
export interface Namespace {
  /** `/proc/<holder>/ns/net`. */
  readonly path: string;
  /** Starts `command` inside the namespace. */
  spawn(command: string, args: string[], cwd?: string): ChildProcess;
  /**
   * An executable that runs `program` inside the namespace (for playwright's `executablePath`);
   * the program's pid is written to `<path>.pid` (the script execs it, so the pid is the same).
   */
  wrap(program: string): string;
  close(): void;
}

/** Makes a namespace with loopback up. */
export async function makeNamespace(): Promise<Namespace> {
  const holder = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && echo up && exec sleep 3600'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('up')) resolve();
    });
    holder.on('exit', (code) => reject(new Error(`the namespace holder exited (${code})`)));
  });
  const path = `/proc/${holder.pid}/ns/net`;
  const dir = mkdtempSync(join(tmpdir(), 'webmk-netns-'));
  const children: ChildProcess[] = [];
  return {
    path,
    spawn(command, args, cwd) {
      const child = spawn('nsenter', [`--net=${path}`, command, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
    wrap(program) {
      const file = join(dir, `in-netns-${children.length}-${Math.random().toString(36).slice(2)}.sh`);
      writeFileSync(file, `#!/bin/sh\necho $$ > ${file}.pid\nexec nsenter --net=${path} ${program} "$@"\n`);
      chmodSync(file, 0o755);
      return file;
    },
    close() {
      for (const c of children) c.kill('SIGKILL');
      holder.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the first line of `child`'s stdout that `pick` accepts (its value). */
export function firstLine<T>(child: ChildProcess, pick: (line: string) => T | undefined, timeoutMs = 90_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let text = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no expected output in ${timeoutMs} ms: ${text}${err}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
      for (const line of text.split('\n')) {
        const v = pick(line);
        if (v !== undefined) {
          clearTimeout(timer);
          resolve(v);
          return;
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before the expected output: ${text}${err}`)));
  });
}
