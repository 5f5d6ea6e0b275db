/**
 * Packages: a 10-module package installed at once vs the same 10 modules one by one; a 20 MiB
 * module installed vs a bare IndexedDB put of its bytes; what checking a signature costs per MiB.
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { Kernel, ModuleInfo } from '../../src/kernel';
import { signedMessage, verifyPackage } from '../../src/registry/signature';
import { zipPackage } from '../../src/registry/zip';
import { benchKernel, finish, wasmBytes } from '../lib/modules';
import { median, row, samples, type FigureResult } from '../lib/report';

const RUNS = 5;
const MODULES = 10;
const BIG = 20 * 1024 * 1024;
const MIB = 1024 * 1024;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** `base` (a whole module) with a custom section `bench` holding `payload` appended: still valid wasm. */
function withCustom(base: Uint8Array, payload: Uint8Array): Uint8Array {
  const name = strToU8('bench');
  const content = payload.length + leb(name.length).length + name.length;
  const head = [0, ...leb(content), ...leb(name.length), ...name];
  const out = new Uint8Array(base.length + head.length + payload.length);
  out.set(base);
  out.set(head, base.length);
  out.set(payload, base.length + head.length);
  return out;
}

/** `n` bytes that do not compress. */
function noise(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((ok, fail) => {
    tx.oncomplete = () => ok();
    tx.onerror = () => fail(tx.error);
    tx.onabort = () => fail(tx.error);
  });
}

const b64 = (bytes: Uint8Array): string => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));

async function expectNames(kernel: Kernel, names: string[]): Promise<void> {
  const have = new Set((await kernel.modules()).map((m) => m.name));
  const lost = names.filter((n) => !have.has(n));
  if (lost.length > 0) throw new Error(`not installed: ${lost.join(', ')}`);
}

const manifestOf = (pkg: string, names: string[], files: string[]): string =>
  JSON.stringify({ name: pkg, version: '1.0.0', modules: names.map((name, i) => ({ name, file: files[i] })) });

/**
 * (1) ms to install a 10-module package vs the same 10 modules one by one, the order alternating
 * run by run. Every install gets modules of its own bytes (hello with a small custom section each),
 * so neither finds its blobs already stored by the other.
 */
async function tenModules(kernel: Kernel, hello: Uint8Array): Promise<{ pkg: number[]; single: number[] }> {
  const mods = (tag: string): Uint8Array[] => Array.from({ length: MODULES }, (_, i) => withCustom(hello, strToU8(`${tag} module ${i}`)));
  const packageZip = (pkg: string, names: string[], ms: Uint8Array[]): Uint8Array => {
    const files: Record<string, Uint8Array> = {};
    ms.forEach((m, i) => (files[`m${i}.wasm`] = m));
    return zipPackage(manifestOf(pkg, names, Object.keys(files)), files);
  };
  const pkg: number[] = [];
  const single: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    const pNames = Array.from({ length: MODULES }, (_, i) => `p${r}-m${i}`);
    const zip = packageZip(`pkg${r}`, pNames, mods(`p${r}`));
    const sNames = Array.from({ length: MODULES }, (_, i) => `s${r}-m${i}`);
    const sMods = mods(`s${r}`);
    const asPackage = async (): Promise<number> => {
      const t0 = performance.now();
      const got = (await kernel.install(zip, { untrusted: true })) as ModuleInfo[];
      const t = performance.now() - t0;
      if (!Array.isArray(got) || got.map((m) => m.name).join() !== pNames.join()) throw new Error('the package installed the wrong modules');
      await expectNames(kernel, pNames);
      return t;
    };
    const oneByOne = async (): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < MODULES; i++) await kernel.install(sMods[i] as Uint8Array, { name: sNames[i] as string });
      const t = performance.now() - t0;
      await expectNames(kernel, sNames);
      return t;
    };
    let tPkg: number;
    let tSingle: number;
    if (r % 2 === 0) {
      tPkg = await asPackage();
      tSingle = await oneByOne();
    } else {
      tSingle = await oneByOne();
      tPkg = await asPackage();
    }
    if (r > 0) {
      pkg.push(tPkg);
      single.push(tSingle);
    }
    await kernel.uninstall(`pkg${r}`);
    for (const n of sNames) await kernel.uninstall(n);
  }
  // What a package installs runs.
  const last = Array.from({ length: MODULES }, (_, i) => `check-m${i}`);
  await kernel.install(packageZip('check', last, mods('check')), { untrusted: true });
  const { stdout, code } = await finish(await kernel.spawn(last[MODULES - 1] as string));
  if (code !== 0 || !stdout.startsWith('hello, world')) throw new Error(`a packaged module ran wrong: ${code} ${JSON.stringify(stdout)}`);
  await kernel.uninstall('check');
  return { pkg, single };
}

/** (2) ms to install a 20 MiB module vs a bare IndexedDB put of the same bytes; new bytes every run. */
async function bigModule(kernel: Kernel, hello: Uint8Array): Promise<{ install: number[]; put: number[] }> {
  const dbName = `bench-pkg-idb-${Date.now()}`;
  const open = indexedDB.open(dbName, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('blobs', { keyPath: 'name' });
  const db = await request(open);
  const install: number[] = [];
  const put: number[] = [];
  try {
    for (let r = 0; r <= RUNS; r++) {
      const big = withCustom(hello, noise(BIG));
      let t0 = performance.now();
      const info = (await kernel.install(big, { name: `big${r}` })) as ModuleInfo;
      const tInstall = performance.now() - t0;
      if (info.name !== `big${r}` || info.size !== big.length) throw new Error(`big module installed wrong: ${info.name}, ${info.size} bytes`);
      await expectNames(kernel, [`big${r}`]);
      t0 = performance.now();
      const tx = db.transaction('blobs', 'readwrite');
      tx.objectStore('blobs').put({ name: `big${r}`, bytes: big });
      await done(tx);
      const tPut = performance.now() - t0;
      const back = await request(db.transaction('blobs', 'readonly').objectStore('blobs').get(`big${r}`));
      if ((back as { bytes: Uint8Array }).bytes.length !== big.length) throw new Error('raw put stored the wrong bytes');
      if (r > 0) {
        install.push(tInstall);
        put.push(tPut);
      }
      await kernel.uninstall(`big${r}`);
      const del = db.transaction('blobs', 'readwrite');
      del.objectStore('blobs').delete(`big${r}`);
      await done(del);
    }
  } finally {
    db.close();
    indexedDB.deleteDatabase(dbName);
  }
  return { install, put };
}

interface Signer {
  publicKey: string;
  sign(message: Uint8Array): Promise<string>;
}

async function signer(): Promise<Signer> {
  const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const publicKey = b64(new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey)));
  return {
    publicKey,
    sign: async (m) => b64(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, keys.privateKey, m as Uint8Array<ArrayBuffer>))),
  };
}

/** A package of one module, stored entries (its bytes do not compress), signed when `key` is given. */
async function bigPackage(pkg: string, big: Uint8Array, key?: Signer): Promise<Uint8Array> {
  const manifest = manifestOf(pkg, [pkg], ['big.wasm']);
  const entries: Zippable = { 'webmk.json': strToU8(manifest), 'big.wasm': big };
  if (key !== undefined) {
    const files = new Map([['webmk.json', strToU8(manifest)], ['big.wasm', big]]);
    const message = strToU8(await signedMessage(files, ['webmk.json', 'big.wasm']));
    entries['webmk.sig'] = strToU8(JSON.stringify({ publicKey: key.publicKey, signature: await key.sign(message) }));
  }
  return zipSync(entries, { level: 0 });
}

/**
 * (3) The registry's verification (`verifyPackage`: SHA-256 of each file, Ed25519 verify of the
 * digests) of a 20 MiB package vs the bare WebCrypto calls; and a signed package's install vs the
 * same package unsigned.
 */
async function signatures(kernel: Kernel, hello: Uint8Array, big: Uint8Array, key: Signer): Promise<{ verify: number[]; raw: number[]; signed: number[]; unsigned: number[] }> {
  const manifest = strToU8(manifestOf('v', ['v'], ['big.wasm']));
  const files = new Map([['webmk.json', manifest], ['big.wasm', big]]);
  const paths = ['webmk.json', 'big.wasm'];
  const message = strToU8(await signedMessage(files, paths));
  const signature = await key.sign(message);
  const sig = strToU8(JSON.stringify({ publicKey: key.publicKey, signature }));
  const sigBytes = Uint8Array.from(atob(signature), (c) => c.charCodeAt(0));
  const keyBytes = Uint8Array.from(atob(key.publicKey), (c) => c.charCodeAt(0));
  const verify: number[] = [];
  const raw: number[] = [];
  const signed: number[] = [];
  const unsigned: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    let t0 = performance.now();
    const v = await verifyPackage(files, paths, sig);
    const tVerify = performance.now() - t0;
    if (v.publisher !== key.publicKey) throw new Error('verifyPackage named the wrong publisher');
    t0 = performance.now();
    await crypto.subtle.digest('SHA-256', manifest);
    await crypto.subtle.digest('SHA-256', big as Uint8Array<ArrayBuffer>);
    const k = await crypto.subtle.importKey('raw', keyBytes, { name: 'Ed25519' }, false, ['verify']);
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, k, sigBytes, message);
    const tRaw = performance.now() - t0;
    if (!ok) throw new Error('the raw verify failed');

    // Each package its own bytes, the order alternating, so neither finds the other's blob stored.
    const sZip = await bigPackage(`signed${r}`, withCustom(hello, noise(BIG)), key);
    const uZip = await bigPackage(`plain${r}`, withCustom(hello, noise(BIG)));
    const timed = async (zip: Uint8Array, opts: { untrusted?: boolean }): Promise<number> => {
      const t = performance.now();
      await kernel.install(zip, opts);
      return performance.now() - t;
    };
    let tSigned: number;
    let tUnsigned: number;
    if (r % 2 === 0) {
      tSigned = await timed(sZip, {});
      tUnsigned = await timed(uZip, { untrusted: true });
    } else {
      tUnsigned = await timed(uZip, { untrusted: true });
      tSigned = await timed(sZip, {});
    }
    const pkgs = await kernel.packages();
    const s = pkgs.find((p) => p.name === `signed${r}`);
    const u = pkgs.find((p) => p.name === `plain${r}`);
    if (s?.signature !== 'trusted' || u?.signature !== 'unsigned') throw new Error(`signature states wrong: ${s?.signature}, ${u?.signature}`);
    if (r > 0) {
      verify.push(tVerify);
      raw.push(tRaw);
      signed.push(tSigned);
      unsigned.push(tUnsigned);
    }
    await kernel.uninstall(`signed${r}`);
    await kernel.uninstall(`plain${r}`);
  }
  return { verify, raw, signed, unsigned };
}

export async function packagesFigure(): Promise<FigureResult> {
  const hello = await wasmBytes('hello');
  const big = withCustom(hello, noise(BIG));
  const mib = big.length / MIB;
  const key = await signer();
  const kernel = await benchKernel('packages', []);
  let ten;
  let large;
  let sigs;
  try {
    await kernel.trust.add(key.publicKey, { label: 'bench key' });
    ten = await tenModules(kernel, hello);
    large = await bigModule(kernel, hello);
    sigs = await signatures(kernel, hello, big, key);
  } finally {
    kernel.dispose();
  }
  const perMiB = (xs: number[]): number => (median(xs) / mib) * 1000;
  const signCost = sigs.signed.map((s, i) => (s - (sigs.unsigned[i] ?? 0)) / mib);
  return {
    rows: [
      row({ id: 'pkg.ten', figure: `install a ${MODULES}-module package (zip, unsigned), median`, unit: 'ms', better: 'lower', webmk: median(ten.pkg), baseline: `the same ${MODULES} modules, kernel.install one by one`, raw: median(ten.single) }),
      row({ id: 'pkg.big', figure: 'install a 20 MiB module, median', unit: 'ms', better: 'lower', webmk: median(large.install), baseline: 'bare IndexedDB put of the same bytes', raw: median(large.put), target: { op: '<=', ratio: 2 } }),
      row({ id: 'pkg.verify', figure: 'signature check per MiB (registry verifyPackage, 20 MiB package)', unit: 'µs/MiB', better: 'lower', webmk: perMiB(sigs.verify), baseline: 'bare WebCrypto: SHA-256 of each file + Ed25519 importKey/verify', raw: perMiB(sigs.raw) }),
      row({ id: 'pkg.signed', figure: 'install a signed 20 MiB package, median', unit: 'ms', better: 'lower', webmk: median(sigs.signed), baseline: 'the same package unsigned (untrusted: true)', raw: median(sigs.unsigned), note: `signed minus unsigned, median per MiB: ${median(signCost).toFixed(2)} ms` }),
    ],
    breakdown: [
      { id: 'pkg.ten.per-module', what: `package install per module (${MODULES} modules)`, value: median(ten.pkg) / MODULES, unit: 'ms' },
      { id: 'pkg.big.per-mib', what: '20 MiB module install per MiB', value: (median(large.install) / mib) * 1000, unit: 'µs/MiB' },
      { id: 'pkg.signed.per-mib', what: 'signed minus unsigned install, per MiB, median of pairs', value: median(signCost) * 1000, unit: 'µs/MiB' },
    ],
    detail: {
      bigBytes: big.length,
      packageInstall: samples(ten.pkg),
      oneByOne: samples(ten.single),
      bigInstall: samples(large.install),
      idbPut: samples(large.put),
      verifyPackage: samples(sigs.verify),
      rawVerify: samples(sigs.raw),
      signedInstall: samples(sigs.signed),
      unsignedInstall: samples(sigs.unsigned),
    },
  };
}
