/**
 * Packages through `window.kernel`: a zip with webmk.json installed whole or not at all, every
 * refusal leaving the registry as it was, ownership, dependencies, signatures and trusted keys.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { strToU8 } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipEntries } from '../../scripts/package-tools.mjs';
import { launchBrowser, moduleBytes, openApp, startServer, type StaticServer, type TestBrowser } from './harness';
import { install, run } from './kernel-helpers';
import { makePackage, newKey, packageFiles, registryState, tryInstall, type TestKey } from './package-helpers';

let server: StaticServer;
let browser: TestBrowser;
let page: Page;
let publisher: TestKey;
let stranger: TestKey;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await openApp(browser.context, server.url);
  publisher = newKey();
  stranger = newKey();
  await page.evaluate((k) => window.kernel.trust.add(k, { label: 'test publisher' }), publisher.publicKey);
  await install(page, 'hello');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Rewrites the declared size of every entry (local and central headers). */
function lieAboutSize(zip: Uint8Array, size: number): number[] {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    if (v.getUint32(i, true) === 0x04034b50) v.setUint32(i + 22, size, true);
    if (v.getUint32(i, true) === 0x02014b50) v.setUint32(i + 24, size, true);
  }
  return [...out];
}

function manifestZip(manifest: unknown, files: Record<string, Uint8Array> = {}): number[] {
  return [...zipEntries({ 'webmk.json': strToU8(JSON.stringify(manifest)), ...files })];
}

const wasm = (name: string): Uint8Array => new Uint8Array(moduleBytes(name));

describe('a package of several modules', () => {
  it('installs all its modules in one go, signed by a trusted key, and they run', async () => {
    const got = await page.evaluate(
      async (b) => (await window.kernel.install(new Uint8Array(b))) as unknown as Array<{ name: string; package: string; version: string }>,
      makePackage({ name: 'tools', version: '1.2.0', modules: { 'p-cat': 'cat', 'p-wc': 'wc', 'p-hello': 'hello' } }, publisher),
    );
    expect(got.map((m) => [m.name, m.package, m.version])).toEqual([
      ['p-cat', 'tools', '1.2.0'],
      ['p-wc', 'tools', '1.2.0'],
      ['p-hello', 'tools', '1.2.0'],
    ]);
    const pkg = (await page.evaluate(() => window.kernel.packages())).find((p) => p.name === 'tools');
    expect(pkg).toMatchObject({ version: '1.2.0', format: 'zip', publisher: publisher.publicKey, signature: 'trusted', acceptedUntrusted: false, dependents: [] });
    expect(pkg?.modules.map((m) => [m.name, m.state, m.refCount])).toEqual([
      ['p-cat', 'installed', 0],
      ['p-wc', 'installed', 0],
      ['p-hello', 'installed', 0],
    ]);
    expect((await run(page, 'p-cat', { stdin: 'through the package' })).stdout).toBe('through the package');
    expect((await run(page, 'p-hello')).code).toBe(0);
  });

  it('shows a running module of a package with its pid and reference count', async () => {
    const pid = await page.evaluate(async () => (await window.kernel.spawn('p-cat')).pid);
    const mod = (await page.evaluate(() => window.kernel.packages())).find((p) => p.name === 'tools')?.modules.find((m) => m.name === 'p-cat');
    expect(mod).toMatchObject({ state: 'running', pids: [pid], refCount: 1 });
    await page.evaluate((p) => window.kernel.kill(p), pid);
    const after = (await page.evaluate(() => window.kernel.packages())).find((p) => p.name === 'tools')?.modules.find((m) => m.name === 'p-cat');
    expect(after).toMatchObject({ pids: [], refCount: 0 });
  });

  it('shows a module installed alone as a package of one', async () => {
    const hello = (await page.evaluate(() => window.kernel.packages())).find((p) => p.name === 'hello');
    expect(hello).toMatchObject({ format: 'module', signature: 'unsigned', publisher: null, modules: [expect.objectContaining({ name: 'hello' })] });
  });
});

describe('refusals leave the registry unchanged', () => {
  const good = { name: 'refused', version: '1.0.0', modules: [{ name: 'r-cat', file: 'r-cat.wasm' }] };
  const cases: Array<[string, () => number[], string]> = [
    ['no webmk.json', () => [...zipEntries({ 'r-cat.wasm': wasm('cat') })], 'registry/missing-file'],
    ['a module file missing', () => manifestZip(good), 'registry/missing-file'],
    ['webmk.json not JSON', () => [...zipEntries({ 'webmk.json': strToU8('{ nope'), 'r-cat.wasm': wasm('cat') })], 'registry/invalid-manifest'],
    ['a version that is not semver', () => manifestZip({ ...good, version: 'one' }, { 'r-cat.wasm': wasm('cat') }), 'registry/invalid-manifest'],
    ['no modules', () => manifestZip({ ...good, modules: [] }), 'registry/invalid-manifest'],
    ['a malformed dependency range', () => manifestZip({ ...good, dependencies: { tools: 'latest' } }, { 'r-cat.wasm': wasm('cat') }), 'registry/invalid-manifest'],
    [
      'a module name given twice',
      () => manifestZip({ ...good, modules: [{ name: 'r-cat', file: 'r-cat.wasm' }, { name: 'r-cat', file: 'r-wc.wasm' }] }, { 'r-cat.wasm': wasm('cat'), 'r-wc.wasm': wasm('wc') }),
      'registry/duplicate-name',
    ],
    [
      'a module that does not compile, after two that do',
      () =>
        manifestZip(
          { ...good, modules: [{ name: 'r-cat', file: 'a.wasm' }, { name: 'r-wc', file: 'b.wasm' }, { name: 'r-bad', file: 'c.wasm' }] },
          { 'a.wasm': wasm('cat'), 'b.wasm': wasm('wc'), 'c.wasm': new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 2, 1, 0x42]) },
        ),
      'registry/invalid-wasm',
    ],
    ['a module file named with ../', () => manifestZip({ ...good, modules: [{ name: 'r-cat', file: '../r-cat.wasm' }] }), 'registry/unsafe-path'],
    ['a module file named with an absolute path', () => manifestZip({ ...good, modules: [{ name: 'r-cat', file: '/r-cat.wasm' }] }), 'registry/unsafe-path'],
    ['a zip entry with ../ in its path', () => manifestZip(good, { 'r-cat.wasm': wasm('cat'), '../../escape.txt': strToU8('x') }), 'registry/unsafe-path'],
    ['a declared size past the limit', () => lieAboutSize(zipEntries({ ...packageFilesOf(good), big: new Uint8Array(16) }), 200 * 1024 * 1024), 'registry/too-large'],
    ['an entry that inflates past what it declares (a bomb)', () => lieAboutSize(zipEntries({ ...packageFilesOf(good), bomb: new Uint8Array(32 * 1024 * 1024) }), 64), 'registry/too-large'],
    ['a damaged zip', () => manifestZip(good, { 'r-cat.wasm': wasm('cat') }).slice(0, 200), 'registry/invalid-package'],
    ['a module name owned by another package', () => manifestZip({ ...good, modules: [{ name: 'p-wc', file: 'r-cat.wasm' }] }, { 'r-cat.wasm': wasm('cat') }), 'registry/owned'],
    ['a module installed alone, taken by a package', () => manifestZip({ ...good, modules: [{ name: 'hello', file: 'r-cat.wasm' }] }, { 'r-cat.wasm': wasm('cat') }), 'registry/owned'],
    ['a missing dependency', () => manifestZip({ ...good, dependencies: { 'no-such-package': '^1.0.0' } }, { 'r-cat.wasm': wasm('cat') }), 'registry/missing-dependency'],
    ['an incompatible dependency', () => manifestZip({ ...good, dependencies: { tools: '^2.0.0' } }, { 'r-cat.wasm': wasm('cat') }), 'registry/missing-dependency'],
  ];

  function packageFilesOf(manifest: unknown): Record<string, Uint8Array> {
    return { 'webmk.json': strToU8(JSON.stringify(manifest)), 'r-cat.wasm': wasm('cat') };
  }

  it.each(cases)('%s', async (_what, make, code) => {
    const before = await registryState(page);
    const result = await tryInstall(page, make(), { untrusted: true });
    expect(result.code).toBe(code);
    expect(await registryState(page)).toEqual(before);
  });

  it('says what is needed when dependencies are missing or out of range', async () => {
    const r = await tryInstall(page, manifestZip({ ...good, dependencies: { tools: '^2.0.0', absent: '~1.0.0' } }, { 'r-cat.wasm': wasm('cat') }), { untrusted: true });
    expect(r.code).toBe('registry/missing-dependency');
    expect(r.details?.needed).toEqual([
      { name: 'tools', range: '^2.0.0', installed: '1.2.0' },
      { name: 'absent', range: '~1.0.0', installed: null },
    ]);
  });

  it('refuses a lone module under a name a package owns', async () => {
    const before = await registryState(page);
    const r = await page.evaluate(
      async (b) => window.kernel.install(new Uint8Array(b), { name: 'p-wc' }).then(() => 'installed', (e: { code: string; details: { owner: string } }) => `${e.code} ${e.details.owner}`),
      moduleBytes('cat'),
    );
    expect(r).toBe('registry/owned tools');
    expect(await registryState(page)).toEqual(before);
  });
});

describe('signatures and trust', () => {
  const spec = { name: 'signed', version: '1.0.0', modules: { 's-cat': 'cat' } };

  async function refusedUnchanged(bytes: number[], opts: Record<string, unknown>, code: string): Promise<void> {
    const before = await registryState(page);
    expect((await tryInstall(page, bytes, opts)).code).toBe(code);
    expect(await registryState(page)).toEqual(before);
  }

  it('refuses a package whose module changed after signing, even with untrusted', async () => {
    const files = packageFiles(spec);
    const signed = (await import('../../scripts/package-tools.mjs')).signZip(zipEntries(files), publisher.privateKeyPem);
    const { unzipSync } = await import('fflate');
    const entries = unzipSync(signed);
    entries['s-cat.wasm'] = wasm('wc');
    await refusedUnchanged([...zipEntries(entries)], { untrusted: true }, 'registry/bad-signature');
  });

  it('refuses a package whose manifest changed after signing', async () => {
    const { unzipSync } = await import('fflate');
    const entries = unzipSync(new Uint8Array(makePackage(spec, publisher)));
    entries['webmk.json'] = strToU8(new TextDecoder().decode(entries['webmk.json']).replace('a test package', 'a changed package'));
    await refusedUnchanged([...zipEntries(entries)], { untrusted: true }, 'registry/bad-signature');
  });

  it('refuses a malformed webmk.sig', async () => {
    await refusedUnchanged([...zipEntries({ ...packageFiles(spec), 'webmk.sig': strToU8('{"publicKey":"abc","signature":"def"}') })], { untrusted: true }, 'registry/bad-signature');
  });

  it('installs an unsigned package only when the caller agrees, and says so', async () => {
    await refusedUnchanged(makePackage(spec), {}, 'registry/untrusted');
    expect((await tryInstall(page, makePackage(spec), { untrusted: true })).names).toEqual(['s-cat']);
    const p = (await page.evaluate(() => window.kernel.packages())).find((x) => x.name === 'signed');
    expect(p).toMatchObject({ signature: 'unsigned', publisher: null, acceptedUntrusted: true });
    await page.evaluate(() => window.kernel.uninstall('signed'));
  });

  it('installs a package signed by an unknown key only when the caller agrees, and shows the key as not trusted', async () => {
    await refusedUnchanged(makePackage(spec, stranger), {}, 'registry/untrusted');
    expect((await tryInstall(page, makePackage(spec, stranger), { untrusted: true })).names).toEqual(['s-cat']);
    const p = (await page.evaluate(() => window.kernel.packages())).find((x) => x.name === 'signed');
    expect(p).toMatchObject({ signature: 'untrusted-key', publisher: stranger.publicKey, acceptedUntrusted: true });
  });

  it('trusts a key once added, and no longer once removed', async () => {
    await page.evaluate((k) => window.kernel.trust.add(k), stranger.publicKey);
    expect((await page.evaluate(() => window.kernel.trust.list())).map((k) => k.publicKey).sort()).toEqual([publisher.publicKey, stranger.publicKey].sort());
    expect((await page.evaluate(() => window.kernel.packages())).find((x) => x.name === 'signed')?.signature).toBe('trusted');
    expect((await tryInstall(page, makePackage({ ...spec, version: '1.0.1' }, stranger))).names).toEqual(['s-cat']);
    await page.evaluate((k) => window.kernel.trust.remove(k), stranger.publicKey);
    expect((await page.evaluate(() => window.kernel.packages())).find((x) => x.name === 'signed')).toMatchObject({ signature: 'untrusted-key', version: '1.0.1' });
    await refusedUnchanged(makePackage({ ...spec, version: '1.0.2' }, stranger), {}, 'registry/untrusted');
    await page.evaluate(() => window.kernel.uninstall('signed'));
  });

  it('refuses malformed keys and removing a key not trusted', async () => {
    const codes = await page.evaluate(async (unknownKey) => {
      const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);
      return [
        await code(window.kernel.trust.add('not base64!')),
        await code(window.kernel.trust.add(new Uint8Array(31))),
        await code(window.kernel.trust.remove(unknownKey)),
      ];
    }, newKey().publicKey);
    expect(codes).toEqual(['kernel/bad-argument', 'kernel/bad-argument', 'registry/not-found']);
  });
});

describe('dependencies and uninstalling', () => {
  it('installs a package whose dependency is installed in range, and will not remove that dependency silently', async () => {
    const app = makePackage({ name: 'app', version: '0.1.0', modules: { 'app-sort': 'sort' }, dependencies: { tools: '^1.0.0', hello: '*' } }, publisher);
    expect((await tryInstall(page, app)).names).toEqual(['app-sort']);
    const pkgs = await page.evaluate(() => window.kernel.packages());
    expect(pkgs.find((p) => p.name === 'tools')?.dependents).toEqual(['app']);
    const beforeUpdate = await registryState(page);
    const update = await tryInstall(page, makePackage({ name: 'tools', version: '2.0.0', modules: { 'p-cat': 'cat' } }, publisher));
    expect(update).toEqual({ code: 'registry/has-dependents', details: { package: 'tools', dependents: ['app'], needs: [{ name: 'app', range: '^1.0.0' }] } });
    expect(await registryState(page)).toEqual(beforeUpdate);
    expect((await tryInstall(page, makePackage({ name: 'tools', version: '1.3.0', modules: { 'p-cat': 'cat', 'p-wc': 'wc', 'p-hello': 'hello' } }, publisher))).names).toHaveLength(3);
    const before = await registryState(page);
    const refused = await page.evaluate(() => window.kernel.uninstall('p-cat').then(() => null, (e: { code: string; details: unknown }) => ({ code: e.code, details: e.details })));
    expect(refused).toEqual({ code: 'registry/has-dependents', details: { package: 'tools', dependents: ['app'] } });
    expect(await registryState(page)).toEqual(before);
    await page.evaluate(() => window.kernel.uninstall('tools', { force: true }));
    const names = (await page.evaluate(() => window.kernel.modules())).map((m) => m.name);
    expect(names).not.toContain('p-cat');
    expect(names).not.toContain('p-wc');
    expect(names).not.toContain('p-hello');
    expect(names).toContain('app-sort');
    await page.evaluate(() => window.kernel.uninstall('app'));
  });

  it('replaces a package by a newer version: modules it no longer has go, configurations stay', async () => {
    await tryInstall(page, makePackage({ name: 'evolving', version: '1.0.0', modules: { 'e-a': 'cat', 'e-b': 'wc' } }, publisher));
    await page.evaluate(() => window.kernel.configure('e-a', { args: ['x'] }));
    const r = await tryInstall(page, makePackage({ name: 'evolving', version: '2.0.0', modules: { 'e-a': 'head' } }, publisher));
    expect(r.names).toEqual(['e-a']);
    const mods = (await page.evaluate(() => window.kernel.modules())).filter((m) => m.package === 'evolving');
    expect(mods.map((m) => [m.name, m.version, m.config])).toEqual([['e-a', '2.0.0', { args: ['x'] }]]);
    await page.evaluate(() => window.kernel.uninstall('evolving'));
  });

  it('leaves no bytes behind once every package is gone', async () => {
    const blobs = (await registryState(page)) as { blobs: number; modules: string[] };
    expect(blobs.modules.map((m) => m.split('@')[0])).toEqual(['hello']);
    expect(blobs.blobs).toBe(1);
  });
});

describe('the scripts', () => {
  it('pack a directory, generate a key and sign; the page installs what they make', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webmk-pack-'));
    const src = join(dir, 'src');
    mkdirSync(join(src, 'bin'), { recursive: true });
    writeFileSync(join(src, 'bin', 'upper.js'), readFileSync(resolve(import.meta.dirname, '../../public/modules/upper.js')));
    writeFileSync(join(src, 'bin', 'seq.wasm'), new Uint8Array(moduleBytes('seq')));
    writeFileSync(
      join(src, 'webmk.json'),
      JSON.stringify({ name: 'scripted', version: '3.0.0', modules: [{ name: 'sc-seq', file: 'bin/seq.wasm' }, { name: 'sc-upper', file: 'bin/upper.js' }] }),
    );
    const root = resolve(import.meta.dirname, '../..');
    const node = (script: string, ...args: string[]) => execFileSync('node', [join(root, 'scripts', script), ...args], { cwd: dir, encoding: 'utf8' });
    node('keygen.mjs', 'publisher');
    node('pack.mjs', 'src', 'scripted.zip');
    node('sign.mjs', 'scripted.zip', 'publisher.pem');
    const publicKey = readFileSync(join(dir, 'publisher.pub'), 'utf8').trim();
    const zip = [...readFileSync(join(dir, 'scripted.zip'))];
    expect((await tryInstall(page, zip)).code).toBe('registry/untrusted');
    await page.evaluate((k) => window.kernel.trust.add(k), publicKey);
    expect((await tryInstall(page, zip)).names).toEqual(['sc-seq', 'sc-upper']);
    const p = (await page.evaluate(() => window.kernel.packages())).find((x) => x.name === 'scripted');
    expect(p).toMatchObject({ signature: 'trusted', publisher: publicKey, version: '3.0.0' });
    expect(p?.modules.map((m) => m.kind)).toEqual(['wasm', 'js']);
    expect((await run(page, 'sc-seq', { args: ['3'] })).stdout).toBe('1\n2\n3\n');
    await page.evaluate(() => window.kernel.uninstall('scripted'));
  });
});
