/** Page-side helpers for kernel tests: run a module to completion and collect what it printed. */
import type { Page } from 'playwright-core';
import { moduleBytes } from './harness';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
  reason: string | undefined;
  message: string | undefined;
}

export interface RunOptions {
  args?: string[];
  env?: Record<string, string>;
  stdin?: string;
  preopens?: string[];
  files?: Record<string, string>;
  mounts?: Record<string, 'tmp' | 'home'>;
  tty?: boolean;
  mode?: 'worker' | 'iframe' | 'inpage';
}

/** Installs built modules or fixtures by name (bytes read from disk, passed into the page). */
export async function install(page: Page, ...names: string[]): Promise<void> {
  for (const name of names) {
    await page.evaluate(
      async ([n, bytes]) => {
        await window.kernel.install(new Uint8Array(bytes), { name: n });
      },
      [name, moduleBytes(name)] as const,
    );
  }
}

/** Spawns a module, feeds stdin, reads stdout/stderr to the end, waits for the exit code. */
export function run(page: Page, name: string, opts: RunOptions = {}): Promise<RunResult> {
  return page.evaluate(
    async ([n, o]) => {
      const enc = new TextEncoder();
      const files: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries(o.files ?? {})) files[k] = enc.encode(v);
      const p = await window.kernel.spawn(n, {
        args: o.args ?? [],
        env: o.env ?? {},
        preopens: o.preopens ?? [],
        files,
        tty: o.tty ?? false,
        ...(o.mounts !== undefined ? { mounts: o.mounts } : {}),
        ...(o.mode !== undefined ? { mode: o.mode } : {}),
        ...(o.stdin !== undefined ? { stdin: enc.encode(o.stdin) } : {}),
      });
      if (o.stdin === undefined) await p.stdin.close();
      const text = (s: ReadableStream<Uint8Array>) => new Response(s).text();
      const [stdout, stderr, code] = await Promise.all([text(p.stdout), text(p.stderr), p.exit]);
      const row = window.kernel.processes().find((x) => x.pid === p.pid);
      return { stdout, stderr, code, reason: row?.reason, message: row?.message };
    },
    [name, opts] as const,
  );
}

/** The registry as IndexedDB holds it: module names and stored blob count. */
export async function snapshot(p: Page): Promise<{ names: string[]; blobs: number }> {
  return p.evaluate(async () => {
    const names = (await window.kernel.modules()).map((m) => m.name).sort();
    const blobs = await new Promise<number>((ok, fail) => {
      const req = indexedDB.open('webmk');
      req.onsuccess = () => {
        const tx = req.result.transaction('blobs');
        const c = tx.objectStore('blobs').count();
        c.onsuccess = () => {
          ok(c.result);
          req.result.close();
        };
        c.onerror = () => fail(c.error);
      };
      req.onerror = () => fail(req.error);
    });
    return { names, blobs };
  });
}

/** Installs a module granting `grant` ('all' or a list). */
export async function installWith(page: Page, name: string, grant: 'all' | string[] | undefined): Promise<void> {
  await page.evaluate(
    async ([n, bytes, g]) => {
      await window.kernel.install(new Uint8Array(bytes), { name: n, ...(g !== undefined ? { grant: g } : {}) });
    },
    [name, moduleBytes(name), grant] as const,
  );
}

/**
 * Starts a module in the background (in `opts.mode`, else as configured); its stdout accumulates
 * in `window.__out[pid]` and its exit code lands in `window.__exit[pid]`; with `keepStdin`, its
 * stdin stays open as `window.__stdin[pid]` (a writer), else it is closed. Returns the pid.
 */
export function startBackground(
  page: Page,
  name: string,
  args: string[],
  opts: { mode?: 'worker' | 'iframe' | 'inpage' | 'remote'; node?: string; env?: Record<string, string>; keepStdin?: boolean; mounts?: Record<string, 'home' | 'tmp'>; restart?: Record<string, unknown> } = {},
): Promise<number> {
  const where = {
    ...(opts.restart !== undefined ? { restart: opts.restart } : {}),
    ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
    ...(opts.node !== undefined ? { node: opts.node } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    ...(opts.mounts !== undefined ? { mounts: opts.mounts } : {}),
  };
  return page.evaluate(
    async ([n, a, m, keep]) => {
      const w = window as unknown as { __out: Record<number, string>; __exit: Record<number, number>; __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> };
      w.__out ??= {};
      w.__exit ??= {};
      w.__stdin ??= {};
      const p = await window.kernel.spawn(n, { args: a, ...m });
      if (keep) w.__stdin[p.pid] = p.stdin.getWriter();
      else await p.stdin.close();
      w.__out[p.pid] = '';
      void (async () => {
        const dec = new TextDecoder();
        const reader = p.stdout.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          w.__out[p.pid] += dec.decode(value, { stream: true });
        }
      })();
      void p.exit.then((c) => (w.__exit[p.pid] = c));
      return p.pid;
    },
    [name, args, where, opts.keepStdin === true] as const,
  );
}

/** Waits until the background process's stdout contains `text`. */
export async function waitOutput(page: Page, pid: number, text: string): Promise<string> {
  await page.waitForFunction(
    ([p, t]) => ((window as unknown as { __out: Record<number, string> }).__out[p] ?? '').includes(t),
    [pid, text] as const,
  );
  return output(page, pid);
}

/** Waits for the background process's exit code (and its output to end). */
export async function waitExit(page: Page, pid: number): Promise<number> {
  await page.waitForFunction((p) => (window as unknown as { __exit: Record<number, number> }).__exit[p] !== undefined, pid);
  return page.evaluate((p) => (window as unknown as { __exit: Record<number, number> }).__exit[p] as number, pid);
}

export function output(page: Page, pid: number): Promise<string> {
  return page.evaluate((p) => (window as unknown as { __out: Record<number, string> }).__out[p] ?? '', pid);
}

/** An unsigned LEB128, as the wasm binary format writes lengths. */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** A module's bytes with its `webmk.manifest` section replaced by `manifest`. */
export function withManifest(bytes: number[], manifest: unknown): number[] {
  const out = bytes.slice(0, 8);
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    let size = 0;
    let shift = 0;
    let i = at + 1;
    for (;;) {
      const b = bytes[i++] as number;
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    const end = i + size;
    const nameLength = bytes[i] as number; // short names: one LEB byte
    const name = String.fromCharCode(...bytes.slice(i + 1, i + 1 + nameLength));
    if (!(bytes[start] === 0 && name === 'webmk.manifest')) out.push(...bytes.slice(start, end));
    at = end;
  }
  const name = [...'webmk.manifest'].map((c) => c.charCodeAt(0));
  const payload = [...leb(name.length), ...name, ...new TextEncoder().encode(JSON.stringify(manifest))];
  return [...out, 0, ...leb(payload.length), ...payload];
}

/**
 * What the app's BroadcastChannel `name` hears while `act` runs (something that posts on it
 * from another realm), ended by a same-origin control post: the control proves the listener
 * works, so a missing message means the other realm's post did not reach the app.
 */
export async function heardOnAppChannel(page: Page, name: string, act: () => Promise<unknown>): Promise<unknown[]> {
  await page.evaluate((n) => {
    const w = window as unknown as { __heard: unknown[]; __chan: BroadcastChannel };
    w.__heard = [];
    w.__chan = new BroadcastChannel(n);
    w.__chan.onmessage = (e) => w.__heard.push(e.data);
  }, name);
  await act();
  await page.evaluate((n) => {
    const c = new BroadcastChannel(n);
    c.postMessage('control');
    c.close();
  }, name);
  await page.waitForFunction(() => (window as unknown as { __heard: unknown[] }).__heard.includes('control'));
  return page.evaluate(() => {
    const w = window as unknown as { __heard: unknown[]; __chan: BroadcastChannel };
    w.__chan.close();
    return w.__heard;
  });
}
