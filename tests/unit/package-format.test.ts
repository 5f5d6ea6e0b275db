/** The package format's pure parts: semver ranges, safe paths, the zip reader's limits, the signed message. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { isRange, satisfies } from '../../src/registry/semver';
import { signedMessage as browserMessage } from '../../src/registry/signature';
import { MAX_TOTAL_BYTES, isSafePath, isZip, readZip } from '../../src/registry/zip';
import { signedMessage } from '../../scripts/package-tools.mjs';

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** Rewrites the declared (uncompressed) size of every entry, local and central, to `size`. */
function lieAboutSize(zip: Uint8Array, size: number): Uint8Array {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = v.getUint32(i, true);
    if (sig === 0x04034b50) v.setUint32(i + 22, size, true);
    if (sig === 0x02014b50) v.setUint32(i + 24, size, true);
  }
  return out;
}

describe('semver', () => {
  it.each([
    ['1.2.3', '^1.0.0', true],
    ['2.0.0', '^1.0.0', false],
    ['0.2.5', '^0.2.1', true],
    ['0.3.0', '^0.2.1', false],
    ['1.2.9', '~1.2.0', true],
    ['1.3.0', '~1.2.0', false],
    ['1.5.0', '>=1.0.0 <2.0.0', true],
    ['2.0.0', '>=1.0.0 <2.0.0', false],
    ['3.1.0', '1.x || 3.x', true],
    ['2.1.0', '1.x || 3.x', false],
    ['1.0.0', '*', true],
    ['1.0.0', '1.0.0', true],
    ['1.0.1', '=1.0.0', false],
    ['1.0.0-beta', '^1.0.0', false],
  ])('%s in %s: %s', (v, r, ok) => {
    expect(satisfies(v, r)).toBe(ok);
  });

  it('refuses malformed ranges', () => {
    expect(isRange('^1.0.0')).toBe(true);
    expect(isRange('latest')).toBe(false);
    expect(isRange('^^1')).toBe(false);
  });
});

describe('zip reader', () => {
  it('knows a zip by its bytes and reads its files back', () => {
    const zip = zipSync({ 'a.txt': strToU8('hello'), 'dir/b.bin': new Uint8Array(5000).fill(7) });
    expect(isZip(zip)).toBe(true);
    expect(isZip(new Uint8Array([0, 0x61, 0x73, 0x6d]))).toBe(false);
    const files = readZip(zip);
    expect(new TextDecoder().decode(files.get('a.txt'))).toBe('hello');
    expect(files.get('dir/b.bin')?.length).toBe(5000);
  });

  it.each(['../evil', '/etc/passwd', 'a/../../b', 'C:/x', 'a\\b', './a', 'a//b', ''])('refuses the path %j', (p) => {
    expect(isSafePath(p)).toBe(false);
  });

  it('refuses an entry with a path trick before inflating anything', () => {
    expect(codeOf(() => readZip(zipSync({ '../evil.wasm': new Uint8Array(1) })))).toBe('registry/unsafe-path');
  });

  it('refuses a zip that declares more than the limit once unpacked', () => {
    expect(codeOf(() => readZip(lieAboutSize(zipSync({ big: new Uint8Array(10) }), MAX_TOTAL_BYTES + 1)))).toBe('registry/too-large');
  });

  it('stops inflating an entry that yields more than it declares', () => {
    const bomb = zipSync({ bomb: new Uint8Array(8 * 1024 * 1024) }, { level: 9 });
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(codeOf(() => readZip(lieAboutSize(bomb, 1000)))).toBe('registry/too-large');
  });

  it('refuses a damaged zip as a package error', () => {
    expect(codeOf(() => readZip(zipSync({ a: strToU8('x') }).subarray(0, 30)))).toBe('registry/invalid-package');
  });
});

describe('signed message', () => {
  it('is what sha256sum prints, from the page code and the scripts alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webmk-sig-'));
    const files: Record<string, Uint8Array> = { 'webmk.json': strToU8('{"name":"x"}'), 'a.wasm': new Uint8Array([0, 1, 2, 3]) };
    for (const [p, b] of Object.entries(files)) writeFileSync(join(dir, p), b);
    const expected = execFileSync('sha256sum', ['webmk.json', 'a.wasm'], { cwd: dir, encoding: 'utf8' });
    expect(signedMessage(files, { modules: [{ file: 'a.wasm' }] })).toBe(expected);
    expect(await browserMessage(new Map(Object.entries(files)), ['webmk.json', 'a.wasm'])).toBe(expected);
  });
});

describe('the example package', () => {
  it('packs and signs to exactly the committed sensors.zip (Ed25519 signatures are deterministic)', async () => {
    const { readFileSync } = await import('node:fs');
    const { packDir, signZip } = await import('../../scripts/package-tools.mjs');
    const root = join(import.meta.dirname, '../..');
    const { zip } = packDir(join(root, 'modules/packages/sensors'), join(root, 'public/modules'));
    const signed = signZip(zip, readFileSync(join(root, 'modules/packages/sensors-test-key.pem'), 'utf8'));
    expect(Buffer.from(signed).equals(readFileSync(join(root, 'public/modules/sensors.zip')))).toBe(true);
  });
});

describe('install links', () => {
  it('reads ?install=, a web+webmk: link and a shared text, and gives the address without them', async () => {
    const { installRequest } = await import('../../src/shell/install-link');
    expect(installRequest('https://app.example/webmk/?install=https%3A%2F%2Fpk.example%2Fa.zip')).toEqual({ url: 'https://pk.example/a.zip', rest: 'https://app.example/webmk/' });
    expect(installRequest('https://app.example/?install=web%2Bwebmk%3Ahttps%3A%2F%2Fpk.example%2Fa.zip&x=1')?.url).toBe('https://pk.example/a.zip');
    expect(installRequest('https://app.example/?install=web%2Bwebmk%3A%2F%2Fpk.example%2Fa.zip')?.url).toBe('https://pk.example/a.zip');
    expect(installRequest('https://app.example/?shared=look%20https%3A%2F%2Fpk.example%2Fb.zip%20here')?.url).toBe('https://pk.example/b.zip');
    expect(installRequest('https://app.example/')).toBeUndefined();
  });
});
