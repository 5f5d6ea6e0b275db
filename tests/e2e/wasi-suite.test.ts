/**
 * The public WASI test suite (tests/wasi-testsuite: 72 wasm32-wasip1 tests of
 * WebAssembly/wasi-testsuite in AssemblyScript, C and Rust), each run through `window.kernel` in
 * Chromium as its spec says: args, env, its data directory freshly copied in as the preopen `/`,
 * the exit code, and what stdout and stderr begin with. webmk passes all 72: every test must
 * pass, and the run fails if the suite holds fewer than 72. A test that cannot pass in a browser
 * would be listed below with the reason, and must then still fail (so one that starts to pass is
 * noticed and moved out of the list).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, startServer, type StaticServer, type TestBrowser } from './harness';

const SUITE = resolve(import.meta.dirname, '../wasi-testsuite/tests');

/** Tests webmk cannot pass, and why, by test id `<language>/<test>`: none. */
const KNOWN_FAILURES: Record<string, string> = {};

interface Spec {
  args?: string[];
  env?: Record<string, string>;
  root?: string;
  exit_code?: number;
  stdout?: string;
  stderr?: string;
}

interface Case {
  id: string;
  wasm: string;
  spec: Spec;
  /** The data directory's files, keyed by guest path under `/`. */
  files: Record<string, number[]>;
}

function walk(dir: string, base: string, out: Record<string, number[]>): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, base, out);
    else out[`/${relative(base, p)}`] = [...readFileSync(p)];
  }
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const lang of readdirSync(SUITE).sort()) {
    const dir = join(SUITE, lang, 'testsuite', 'wasm32-wasip1');
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.wasm')) continue;
      const name = file.slice(0, -'.wasm'.length);
      const specFile = join(dir, `${name}.json`);
      const spec: Spec = existsSync(specFile) ? (JSON.parse(readFileSync(specFile, 'utf8')) as Spec) : {};
      const files: Record<string, number[]> = {};
      if (spec.root !== undefined) walk(join(dir, spec.root), join(dir, spec.root), files);
      out.push({ id: `${lang}/${name}`, wasm: join(dir, file), spec, files });
    }
  }
  return out;
}

const ALL = cases();

let server: StaticServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  reason: string | undefined;
  message: string | undefined;
}

/**
 * Installs and runs one test as its spec says; a test that hangs is killed after 60 s (on a
 * loaded 2-core machine, with other Chromiums running, a test has taken over 30 s).
 */
async function runCase(c: Case, index: number): Promise<Outcome> {
  return page.evaluate(
    async ([name, bytes, spec, files]) => {
      const k = window.kernel;
      await k.install(new Uint8Array(bytes), { name });
      const seeded: Record<string, Uint8Array> = {};
      for (const [path, data] of Object.entries(files)) seeded[path] = new Uint8Array(data);
      const p = await k.spawn(name, {
        args: spec.args ?? [],
        env: spec.env ?? {},
        preopens: spec.root !== undefined ? ['/'] : [],
        files: seeded,
      });
      await p.stdin.close();
      const timer = setTimeout(() => void p.kill(), 60_000);
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exit]);
      clearTimeout(timer);
      const row = k.processes().find((x) => x.pid === p.pid);
      await k.uninstall(name);
      return { code, stdout, stderr, reason: row?.reason, message: row?.message };
    },
    [`wasi-${index}`, [...readFileSync(c.wasm)], c.spec, c.files] as const,
  );
}

function check(c: Case, o: Outcome): void {
  const why = `${c.id}: ${o.reason ?? ''} ${o.message ?? ''}\nstdout: ${o.stdout.slice(0, 500)}\nstderr: ${o.stderr.slice(0, 500)}`;
  expect(o.code, why).toBe(c.spec.exit_code ?? 0);
  if (c.spec.stdout !== undefined) expect(o.stdout.startsWith(c.spec.stdout), why).toBe(true);
  if (c.spec.stderr !== undefined) expect(o.stderr.startsWith(c.spec.stderr), why).toBe(true);
}

// The tests are independent processes: several run at once (vitest's maxConcurrency).
describe.concurrent('the public WASI test suite', () => {
  it('has all 72 tests', () => {
    expect(ALL.length).toBe(72);
  });

  ALL.forEach((c, index) => {
    const known = KNOWN_FAILURES[c.id];
    if (known === undefined) {
      it(c.id, async () => check(c, await runCase(c, index)), 90_000);
    } else {
      it.fails(`${c.id} (not yet: ${known})`, async () => check(c, await runCase(c, index)), 90_000);
    }
  });
});
