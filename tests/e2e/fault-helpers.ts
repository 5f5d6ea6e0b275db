/**
 * What every fault test checks after its fault: the kernel still answers (a bystander `cat` started
 * before the fault still echoes, and a new spawn runs), no process is left in `starting`, and the
 * page still runs its tasks and frames.
 */
import type { Page } from 'playwright-core';

interface Bystander {
  pid: number;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  reader: ReadableStreamDefaultReader<Uint8Array>;
}

/** Starts a `cat` that must outlive the fault (`cat` must be installed); returns its pid. */
export function startBystander(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const p = await window.kernel.spawn('cat');
    const w = window as unknown as { __bystander: Bystander };
    w.__bystander = { pid: p.pid, writer: p.stdin.getWriter(), reader: p.stdout.getReader() };
    return p.pid;
  });
}

/** What the page and the kernel are like after a fault. */
export interface Health {
  /** What the bystander echoed of a line written to it after the fault. */
  echo: string;
  /** What a fresh `hello` printed and how it ended. */
  spawned: { code: number; greeted: boolean };
  /** Pids still in `starting`. */
  starting: number[];
  /** A timer and an animation frame both came round on the page. */
  responsive: boolean;
}

/** Checks the bystander, a new spawn, the process table and the page (`hello` must be installed). */
export function health(page: Page): Promise<Health> {
  return page.evaluate(async () => {
    const k = window.kernel;
    const { writer, reader } = (window as unknown as { __bystander: Bystander }).__bystander;
    const line = `still here ${Math.random()}\n`;
    await writer.write(new TextEncoder().encode(line));
    let echo = '';
    const dec = new TextDecoder();
    while (!echo.includes('\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      echo += dec.decode(value, { stream: true });
    }
    const p = await k.spawn('hello');
    await p.stdin.close();
    const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exit]);
    await new Promise((ok) => setTimeout(ok, 0));
    await new Promise((ok) => requestAnimationFrame(ok));
    const starting = k.processes().filter((x) => x.state === 'starting').map((x) => x.pid);
    return { echo: echo === line ? 'echoed' : echo, spawned: { code, greeted: stdout.startsWith('hello, world\n') }, starting, responsive: true };
  });
}

/** The state a healthy kernel and page are in (compare with `toEqual`). */
export const HEALTHY = { echo: 'echoed', spawned: { code: 0, greeted: true }, starting: [], responsive: true };

/** A process's row: state, exit code, reason and message. */
export function row(page: Page, pid: number): Promise<{ state?: string; exitCode?: number; reason?: string; message?: string }> {
  return page.evaluate((p) => {
    const r = window.kernel.processes().find((x) => x.pid === p);
    return { state: r?.state, exitCode: r?.exitCode, reason: r?.reason, message: r?.message };
  }, pid);
}

/** Waits until process `pid` is `exited`. */
export async function waitEnded(page: Page, pid: number): Promise<void> {
  await page.waitForFunction((p) => window.kernel.processes().find((x) => x.pid === p)?.state === 'exited', pid);
}
