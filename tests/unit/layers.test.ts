/**
 * The layer rules (.dependency-cruiser.cjs, .oxlintrc.json, src/process/tsconfig.json) hold on
 * the real tree, and each of them fails, naming the file, when an import or a global breaks it.
 * The broken imports are written into a copy of the tree, never into src/.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin');
const RULES = (createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: Array<{ name: string }> }).forbidden.map((r) => r.name);

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Runs a tool; its output whether it passes or fails. */
function run(cwd: string, bin: string, args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(join(BIN, bin), args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

function cruise(cwd: string): Violation[] {
  const { out } = run(cwd, 'depcruise', ['src', 'sw', '--config', '.dependency-cruiser.cjs', '--output-type', 'json']);
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

/** A copy of the tree the rules look at, with node_modules linked, to break on purpose. */
function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'webmk-layers-'));
  for (const p of ['src', 'sw', 'bench', 'tsconfig.json', 'vite.config.ts', '.dependency-cruiser.cjs', '.oxlintrc.json']) {
    cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Each broken file, and the rules it must trip (every rule in the config is here at least once). */
const BROKEN: Record<string, { code: string; rules: string[] }> = {
  'src/registry/zz-kernel.ts': { code: "import { Kernel } from '../kernel';\nexport const k = Kernel;\n", rules: ['registry-imports-only-the-floor', 'kernel-only-from-the-top'] },
  'src/process/zz-page.ts': { code: "import { gfxService } from '../gfx';\nexport const g = gfxService;\n", rules: ['process-runtime-stays-in-its-realm'] },
  'src/process/zz-lit.ts': { code: "import { html } from 'lit';\nexport const h = html;\n", rules: ['process-runtime-takes-no-page-libraries'] },
  'src/common/zz-up.ts': { code: "import { Ring } from '../ipc';\nexport const r = Ring;\n", rules: ['floor-imports-nothing', 'no-folder-circle'] },
  'src/ipc/zz-up.ts': { code: "import { runProcess } from '../process';\nexport const r = runProcess;\n", rules: ['ipc-imports-only-the-floor'] },
  'src/hosts/zz-up.ts': { code: "import { busService } from '../bus';\nexport const b = busService;\n", rules: ['hosts-below-the-kernel'] },
  'src/opfs/zz-up.ts': { code: "import { runProcess } from '../process';\nexport const r = runProcess;\n", rules: ['file-server-stands-on-ipc'] },
  'src/remote/zz-up.ts': { code: "import { busService } from '../bus';\nexport const b = busService;\n", rules: ['remote-beside-hosts'] },
  'src/capability/zz-up.ts': { code: "import { WorkerHost } from '../hosts';\nexport const w = WorkerHost;\n", rules: ['contract-below-capabilities'] },
  'src/bus/zz-gfx.ts': { code: "import { gfxService } from '../gfx';\nexport const g = gfxService;\n", rules: ['capabilities-plug-in-from-below'] },
  'src/shell/zz-hosts.ts': { code: "import { WorkerHost } from '../hosts';\nexport const w = WorkerHost;\n", rules: ['shell-uses-the-kernel-api'] },
  'src/boot/zz-kernel.ts': { code: "import { createKernel } from '../kernel';\nexport const c = createKernel;\n", rules: ['boot-stands-alone', 'kernel-only-from-the-top'] },
  'sw/zz-src.ts': { code: "import { KernelError } from '../src/common';\nexport const e = KernelError;\n", rules: ['sw-stands-alone'] },
  'src/zz-sw.ts': { code: "import '../sw/sw';\n", rules: ['page-reaches-sw-only-by-protocol'] },
  'src/kernel/zz-inside.ts': { code: "import { busService } from '../bus/service';\nexport const b = busService;\n", rules: ['index-is-the-surface'] },
  'src/shell/zz-a.ts': { code: "import { b } from './zz-b';\nexport const a = (): number => b();\n", rules: ['no-circular'] },
  'src/shell/zz-b.ts': { code: "import { a } from './zz-a';\nexport const b = (): number => a();\n", rules: ['no-circular'] },
  'src/gfx/zz-missing.ts': { code: "import { nothing } from './no-such-file';\nexport const n = nothing;\n", rules: ['not-to-unresolvable'] },
};

describe('layer rules', () => {
  let dir = '';
  beforeAll(() => {
    dir = copyTree();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // Cruising the whole tree takes about 3 s alone, past 5 s beside running Chromiums on 2 cores.
  it('the real tree breaks no import rule', () => {
    expect(cruise(ROOT)).toEqual([]);
  }, 60_000);

  it('each import rule fails on a broken import and names its file', () => {
    for (const [file, { code }] of Object.entries(BROKEN)) writeFileSync(join(dir, file), code);
    const found = cruise(dir);
    try {
      for (const [file, { rules }] of Object.entries(BROKEN)) {
        for (const rule of rules) {
          const hit = found.some((v) => v.rule.name === rule && (v.from === file || v.to === file || (rule === 'no-folder-circle' && file.startsWith(`${v.from}/`))));
          expect(hit, `${rule} should name ${file}`).toBe(true);
        }
      }
      // No rule goes untested.
      expect(new Set(found.map((v) => v.rule.name))).toEqual(new Set(RULES));
    } finally {
      for (const file of Object.keys(BROKEN)) rmSync(join(dir, file));
    }
  }, 60_000);

  it('a browser global outside the folder that owns it fails and names the file; its owner may use it', () => {
    const clean = run(ROOT, 'oxlint', ['-c', '.oxlintrc.json', '--deny-warnings', 'src', 'sw']);
    expect(clean.ok, clean.out).toBe(true);
    writeFileSync(
      join(dir, 'src/kernel/zz-globals.ts'),
      [
        'export const a = indexedDB;',
        'export const b = new BroadcastChannel("x");',
        'export const c = new SharedArrayBuffer(8);',
        'export const d = Atomics;',
        'export const e = new Worker("w.js");',
        'export const f = caches;',
        'export const g = new OffscreenCanvas(1, 1);',
        'export let typesAreFine: SharedArrayBuffer | Worker | undefined;',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'src/registry/zz-owned.ts'), 'export const a = indexedDB;\n');
    writeFileSync(join(dir, 'src/process/wasi/zz-opfs.ts'), 'export const o = navigator.storage.getDirectory();\n');
    writeFileSync(join(dir, 'src/process/capabilities/gfx-zz.ts'), 'export const g = new OffscreenCanvas(1, 1);\nexport const s = new SharedArrayBuffer(8);\n');
    const broken = run(dir, 'oxlint', ['-c', '.oxlintrc.json', '--deny-warnings', 'src', 'sw']);
    expect(broken.ok).toBe(false);
    for (const name of ['indexedDB', 'BroadcastChannel', 'SharedArrayBuffer', 'Atomics', 'Worker', 'caches', 'OffscreenCanvas']) {
      expect(broken.out).toContain(`Unexpected use of '${name}'`);
    }
    expect(broken.out).toContain('src/kernel/zz-globals.ts');
    expect(broken.out).toContain("'getDirectory' is restricted");
    expect(broken.out).toContain('src/process/wasi/zz-opfs.ts');
    expect(broken.out).not.toContain('zz-owned.ts');
    expect(broken.out).not.toContain('gfx-zz.ts');
    expect(broken.out).toMatch(/Found \d+ warnings? and 8 errors?/);
  }, 60_000);

  it('the process runtime is checked without the DOM: `document` there is a compile error', () => {
    const clean = run(ROOT, 'tsc', ['-p', 'src/process']);
    expect(clean.ok, clean.out).toBe(true);
    writeFileSync(join(dir, 'src/process/zz-dom.ts'), 'export const title = document.title;\n');
    const broken = run(dir, 'tsc', ['-p', 'src/process']);
    expect(broken.ok).toBe(false);
    expect(broken.out).toMatch(/zz-dom\.ts.*Cannot find name 'document'/);
  }, 60_000);
});
