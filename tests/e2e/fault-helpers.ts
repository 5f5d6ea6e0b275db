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

/** What IndexedDB holds: each module's name, its recorded sha-256 and the sha-256 of the bytes stored for it; every blob's key. */
export interface Stored {
  modules: Array<{ name: string; sha256: string; stored: string | null }>;
  blobs: string[];
}

/** Reads the registry straight from IndexedDB and hashes the stored bytes. */
export function stored(page: Page): Promise<Stored> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((ok, fail) => {
      const req = indexedDB.open('webmk');
      req.onsuccess = () => ok(req.result);
      req.onerror = () => fail(req.error);
    });
    const all = <T>(store: string) =>
      new Promise<T[]>((ok, fail) => {
        const r = db.transaction(store).objectStore(store).getAll();
        r.onsuccess = () => ok(r.result as T[]);
        r.onerror = () => fail(r.error);
      });
    const mods = await all<{ name: string; sha256: string }>('modules');
    const blobs = await all<{ sha256: string; bytes: ArrayBuffer }>('blobs');
    db.close();
    const hex = async (b: ArrayBuffer) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))].map((x) => x.toString(16).padStart(2, '0')).join('');
    const hashes = new Map<string, string>();
    for (const b of blobs) hashes.set(b.sha256, await hex(b.bytes));
    return {
      modules: mods.map((m) => ({ name: m.name, sha256: m.sha256, stored: hashes.get(m.sha256) ?? null })).sort((a, b) => a.name.localeCompare(b.name)),
      blobs: blobs.map((b) => b.sha256).sort(),
    };
  });
}

/**
 * Builds, in the page, `hello` padded with a custom section of `mib` MiB of bytes from `seed`
 * (different seeds, different modules); keeps it in `window.__big` and returns its sha-256.
 */
export function makeBig(page: Page, hello: number[], mib: number, seed: number): Promise<string> {
  return page.evaluate(
    async ([h, m, s]) => {
      const padding = new Uint8Array(m * 1024 * 1024);
      let x = s >>> 0 || 1;
      for (let i = 0; i < padding.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        padding[i] = x & 0xff;
      }
      const name = new TextEncoder().encode('padding');
      let size = 1 + name.length + padding.length;
      const leb: number[] = [];
      do {
        leb.push((size & 0x7f) | (size > 0x7f ? 0x80 : 0));
        size >>>= 7;
      } while (size > 0);
      const head = new Uint8Array([...h, 0, ...leb, name.length, ...name]);
      const bytes = new Uint8Array(head.length + padding.length);
      bytes.set(head);
      bytes.set(padding, head.length);
      (window as unknown as { __big: Uint8Array }).__big = bytes;
      return [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
    },
    [hello, mib, seed] as const,
  );
}
