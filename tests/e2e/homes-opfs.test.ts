/**
 * A module's home kept in OPFS by the file server (ADR 0025): files of any size read and written
 * from the worker, seen by the next open of another process and by the page; a write not closed
 * never replaces the good file; renames in, out of and inside the home; a process hibernated and
 * resumed keeps writing its home.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, run, startBackground, waitExit, waitOutput } from './kernel-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

const HOME = { '/home': 'home' } as const;
const MiB = 1024 * 1024;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  await install(page, 'files', 'fsbench');
  await page.evaluate(async (bytes) => {
    await window.kernel.install(new Uint8Array(bytes), { name: 'homeprobe', migratable: true });
  }, moduleBytes('homeprobe'));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Puts `size` bytes (byte i is i mod 251) into a module's home from the page; answers their sum. */
function putPattern(module: string, name: string, size: number): Promise<number> {
  return page.evaluate(
    async ([m, n, s]) => {
      const bytes = new Uint8Array(s);
      let sum = 0;
      for (let i = 0; i < s; i++) sum += bytes[i] = i % 251;
      const w = await (await (await window.kernel.home(m)).getFileHandle(n, { create: true })).createWritable();
      await w.write(bytes);
      await w.close();
      return sum;
    },
    [module, name, size] as const,
  );
}

/** The text of a file in a home (null where there is none), read by the page. */
function pageRead(module: string, path: string): Promise<string | null> {
  return page.evaluate(
    async ([m, p]) => {
      let dir = await window.kernel.home(m);
      const names = p.split('/');
      const leaf = names.pop() as string;
      try {
        for (const n of names) dir = await dir.getDirectoryHandle(n);
        return await (await (await dir.getFileHandle(leaf)).getFile()).text();
      } catch {
        return null;
      }
    },
    [module, path] as const,
  );
}

function send(pid: number, line: string): Promise<void> {
  return page.evaluate(
    async ([p, l]) => {
      const w = window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> };
      await w.__stdin[p]?.write(new TextEncoder().encode(l));
    },
    [pid, line] as const,
  );
}

describe('a home kept in OPFS', () => {
  it('reads a file of megabytes the page put there, and the next open of another process sees what one wrote', async () => {
    const sum = await putPattern('homeprobe', 'in.bin', 3 * MiB + 17);
    const r = await run(page, 'homeprobe', { args: ['size', '/home/in.bin'], mounts: HOME });
    expect(r.stdout).toBe(`size=${3 * MiB + 17} sum=${sum}\n`);
    // fsbench writes its pattern in 1 MiB pieces; the page and another process see it whole.
    const size = 5 * MiB;
    expect((await run(page, 'fsbench', { args: ['write', '/home/out.bin', String(size), String(MiB)], mounts: HOME })).code).toBe(0);
    expect((await run(page, 'fsbench', { args: ['read', '/home/out.bin', String(MiB)], mounts: HOME })).stdout).toMatch(new RegExp(`^read ${size} [\\d.]+ ok\\n$`));
    const seen = await page.evaluate(async () => (await (await (await window.kernel.home('fsbench')).getFileHandle('out.bin')).getFile()).size);
    expect(seen).toBe(size);
  });

  it('reads right where a read ahead is left, dropped for a read elsewhere, or overtaken by a write', async () => {
    await putPattern('homeprobe', 'seek.bin', 10 * MiB);
    const sum = (at: number, len: number): number => {
      let s = 0;
      for (let i = at; i < at + len; i++) s += i % 251;
      return s;
    };
    const tail = [...Array(16).keys()].map((k) => {
      const i = 7 * MiB + 4 + k;
      return k >= 6 && k < 10 ? 'WXYZ'.charCodeAt(k - 6) : i % 251;
    });
    const hex = tail.map((b) => b.toString(16).padStart(2, '0')).join('');
    const want = [sum(0, MiB), sum(MiB, 4 * MiB), sum(9 * MiB + 5, 4096), sum(2 * MiB, MiB), sum(3 * MiB, MiB), sum(6 * MiB, MiB)].join(' ');
    expect((await run(page, 'homeprobe', { args: ['seek', '/home/seek.bin'], mounts: HOME })).stdout).toBe(`${want} ${hex}\n`);
  });

  it('keeps the good file when a process is killed while it writes a new one', async () => {
    await page.evaluate(async () => {
      const w = await (await (await window.kernel.home('homeprobe')).getFileHandle('big.bin', { create: true })).createWritable();
      await w.write('good');
      await w.close();
    });
    // 9 MiB written and not closed: at least one 4 MiB room of it has gone to the swap file.
    const pid = await startBackground(page, 'homeprobe', ['hold', '/home/big.bin', '9'], { keepStdin: true, mounts: HOME });
    await waitOutput(page, pid, 'wrote');
    // Killed once its swap file holds some of the new bytes (the server's own folder, outside every home).
    await page.waitForFunction(async () => {
      const walk = async (d: FileSystemDirectoryHandle): Promise<number> => {
        let most = 0;
        for await (const h of (d as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
          most = Math.max(most, h.kind === 'file' ? (await (h as FileSystemFileHandle).getFile()).size : await walk(h as FileSystemDirectoryHandle));
        }
        return most;
      };
      const root = await navigator.storage.getDirectory();
      return walk(await root.getDirectoryHandle('webmk-swap', { create: true })).catch(() => 0).then((n) => n > 0);
    }, undefined, { polling: 20, timeout: 60_000 });
    await page.evaluate((p) => window.kernel.kill(p), pid);
    expect(await waitExit(page, pid)).not.toBe(0);
    expect(await pageRead('homeprobe', 'big.bin')).toBe('good');
  });

  it('renames inside the home (files and directories), into it from /tmp and out of it', async () => {
    const both = { '/home': 'home', '/tmp': 'tmp' } as const;
    const into = await run(page, 'homeprobe', { args: ['mv', '/tmp/a.txt', '/home/a.txt'], mounts: both, files: { '/tmp/a.txt': 'abc' } });
    expect(into.stdout).toBe('size=3 sum=294\n');
    expect(await pageRead('homeprobe', 'a.txt')).toBe('abc');
    expect((await run(page, 'homeprobe', { args: ['mv', '/home/a.txt', '/home/b.txt'], mounts: HOME })).stdout).toBe('size=3 sum=294\n');
    expect([await pageRead('homeprobe', 'a.txt'), await pageRead('homeprobe', 'b.txt')]).toEqual([null, 'abc']);
    const out = await run(page, 'homeprobe', { args: ['mv', '/home/b.txt', '/tmp/b.txt'], mounts: both });
    expect(out.stdout).toBe('size=3 sum=294\n');
    expect(await pageRead('homeprobe', 'b.txt')).toBeNull();
    await page.evaluate(async () => {
      const d = await (await window.kernel.home('homeprobe')).getDirectoryHandle('d', { create: true });
      const w = await (await d.getFileHandle('f.txt', { create: true })).createWritable();
      await w.write('inside');
      await w.close();
    });
    expect(await run(page, 'homeprobe', { args: ['mv', '/home/d', '/home/e'], mounts: HOME })).toMatchObject({ code: 0, stderr: '' });
    expect([await pageRead('homeprobe', 'd/f.txt'), await pageRead('homeprobe', 'e/f.txt')]).toEqual([null, 'inside']);
    expect((await run(page, 'homeprobe', { args: ['size', '/home/e/f.txt'], mounts: HOME })).stdout).toBe('size=6 sum=636\n');
  });

  it('fsync keeps what an open file wrote: another process reads it while the first still has it open', async () => {
    const pid = await startBackground(page, 'homeprobe', ['log', '/home/kept.txt', 'keep'], { keepStdin: true, mounts: HOME });
    await waitOutput(page, pid, 'ready');
    await send(pid, 'one\n');
    await waitOutput(page, pid, 'n=1 size=4');
    expect((await run(page, 'homeprobe', { args: ['size', '/home/kept.txt'], mounts: HOME })).stdout).toBe(`size=4 sum=${[...'one\n'].reduce((s, c) => s + c.charCodeAt(0), 0)}\n`);
    await send(pid, 'two\n');
    await waitOutput(page, pid, 'n=2 size=8');
    await page.evaluate((p) => window.kernel.kill(p), pid);
    expect(await pageRead('homeprobe', 'kept.txt')).toBe('one\ntwo\n');
  });

  it('a process hibernated and resumed goes on writing its home', async () => {
    const pid = await startBackground(page, 'homeprobe', ['log', '/home/journal.txt'], { keepStdin: true, mounts: HOME });
    await waitOutput(page, pid, 'ready');
    await send(pid, 'before\n');
    await waitOutput(page, pid, 'n=1 size=7');
    await page.evaluate((p) => window.kernel.hibernate(p), pid);
    expect(await page.evaluate((p) => window.kernel.processes().find((r) => r.pid === p)?.state, pid)).toBe('hibernated');
    // Written to, it resumes in a new worker with a new channel to the file server.
    await send(pid, 'after\n');
    await waitOutput(page, pid, 'n=2 size=13');
    expect(await pageRead('homeprobe', 'journal.txt')).toBe('before\nafter\n');
    // Moved to a frame it would lose its home (no file server there): refused.
    const code = await page.evaluate(async (p) => window.kernel.setMode(p, 'iframe').then(() => 'ok', (e: { code?: string }) => e.code), pid);
    expect(code).toBe('migrate/unsupported');
    await page.evaluate((p) => window.kernel.kill(p), pid);
  });
});
