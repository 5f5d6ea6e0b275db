// Making and signing webmk packages with Node's own crypto and fflate (see README, "Packages").
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';

/** Entries get this fixed time, so packing the same files twice gives the same bytes. */
const MTIME = new Date('2020-01-01T00:00:00Z');

/**
 * The zip of a package directory: its webmk.json and every file the manifest names, read from
 * `filesDir` (default: the same directory) under the paths the manifest gives.
 */
export function packDir(dir, filesDir = dir) {
  const manifestText = readFileSync(join(dir, 'webmk.json'), 'utf8');
  const manifest = JSON.parse(manifestText);
  if (!Array.isArray(manifest.modules)) throw new Error('webmk.json has no "modules" list');
  const files = { 'webmk.json': strToU8(manifestText) };
  for (const m of manifest.modules) files[m.file] = new Uint8Array(readFileSync(join(filesDir, m.file)));
  return { zip: zipEntries(files), name: manifest.name, version: manifest.version };
}

/** A zip of `files` (path -> bytes), deflated, with fixed times. */
export function zipEntries(files) {
  const entries = {};
  for (const [path, bytes] of Object.entries(files)) entries[path] = [bytes, { mtime: MTIME, level: 9 }];
  return zipSync(entries);
}

/** The text the signature covers: `sha256sum webmk.json <each module file>`. */
export function signedMessage(files, manifest) {
  const paths = ['webmk.json', ...manifest.modules.map((m) => m.file)];
  return paths.map((p) => `${createHash('sha256').update(files[p] ?? new Uint8Array(0)).digest('hex')}  ${p}\n`).join('');
}

/** A new Ed25519 key pair: the private key as PKCS#8 PEM, the public key as base64 of its raw 32 bytes. */
export function generateKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }), publicKey: rawPublicKey(publicKey) };
}

/** Base64 of the raw 32 bytes of an Ed25519 public key object. */
export function rawPublicKey(keyObject) {
  return Buffer.from(keyObject.export({ format: 'jwk' }).x, 'base64url').toString('base64');
}

/** The package zip with `webmk.sig` (re)written: signed by the PKCS#8 PEM private key given. */
export function signZip(zip, privateKeyPem) {
  const files = unzipSync(zip);
  delete files['webmk.sig'];
  const manifest = JSON.parse(new TextDecoder().decode(files['webmk.json']));
  const key = createPrivateKey(privateKeyPem);
  const signature = sign(null, Buffer.from(signedMessage(files, manifest)), key).toString('base64');
  const sig = { publicKey: rawPublicKey(createPublicKey(key)), signature };
  return zipEntries({ ...files, 'webmk.sig': strToU8(`${JSON.stringify(sig, null, 2)}\n`) });
}
