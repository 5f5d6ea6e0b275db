/**
 * Package signatures: Ed25519 (WebCrypto) over the text `sha256sum webmk.json <files...>` prints,
 * one `<lower-case hex>  <path>\n` line per file, `webmk.json` first. Any tool can make or check it.
 */
import { KernelError } from '../common';

/** Lower-case hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const hash = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The signed message for `paths` (in order) of `files`. */
export async function signedMessage(files: ReadonlyMap<string, Uint8Array>, paths: readonly string[]): Promise<string> {
  let text = '';
  for (const p of paths) text += `${await sha256Hex(files.get(p) ?? new Uint8Array(0))}  ${p}\n`;
  return text;
}

/** A key as raw bytes or their base64 → the canonical base64 of its 32 bytes; undefined if malformed. */
export function canonicalKey(key: unknown): string | undefined {
  let raw: Uint8Array;
  if (key instanceof Uint8Array) raw = key;
  else if (typeof key === 'string') {
    const b = fromBase64(key.trim());
    if (b === undefined) return undefined;
    raw = b;
  } else return undefined;
  return raw.length === 32 ? toBase64(raw) : undefined;
}

/**
 * Verifies `webmk.sig` when present: the publisher's key (base64) and the manifest's digest, or
 * `registry/bad-signature` when the signature file is malformed or does not verify.
 */
export async function verifyPackage(
  files: ReadonlyMap<string, Uint8Array>,
  paths: readonly string[],
  sig: Uint8Array | undefined,
): Promise<{ publisher: string | null; manifestSha256: string }> {
  const manifestSha256 = await sha256Hex(files.get(paths[0] as string) ?? new Uint8Array(0));
  if (sig === undefined) return { publisher: null, manifestSha256 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(sig));
  } catch {
    throw bad('webmk.sig is not JSON');
  }
  const { publicKey, signature } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const key = canonicalKey(publicKey);
  const sigBytes = typeof signature === 'string' ? fromBase64(signature) : undefined;
  if (key === undefined) throw bad('webmk.sig: "publicKey" must be the base64 of a raw 32-byte Ed25519 key');
  if (sigBytes?.length !== 64) throw bad('webmk.sig: "signature" must be the base64 of a 64-byte Ed25519 signature');
  const message = new TextEncoder().encode(await signedMessage(files, paths));
  let ok = false;
  try {
    const k = await crypto.subtle.importKey('raw', fromBase64(key) as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
    ok = await crypto.subtle.verify({ name: 'Ed25519' }, k, sigBytes as Uint8Array<ArrayBuffer>, message);
  } catch (e) {
    throw bad(`webmk.sig could not be checked: ${e instanceof Error ? e.message : String(e)}`, key);
  }
  if (!ok) throw bad('the signature does not match the package: a file or webmk.json changed after it was signed, or it was signed by another key', key);
  return { publisher: key, manifestSha256 };
}

function bad(message: string, publicKey?: string): KernelError {
  return new KernelError('registry/bad-signature', message, publicKey !== undefined ? { publicKey } : {});
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  try {
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
