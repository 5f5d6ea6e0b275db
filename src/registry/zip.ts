/**
 * Reading a package's zip defensively: the central directory is checked whole (entry count,
 * names, declared sizes) before a byte is inflated, and inflating stops the moment an entry
 * yields more than it declared, so neither a lying header nor a bomb costs more than the limit.
 */
import { Inflate, strToU8, zipSync, type Zippable } from 'fflate';
import { KernelError } from '../common';

/** At most this many entries in a package. */
export const MAX_ENTRIES = 256;
/** At most this many bytes once inflated, all entries together. */
export const MAX_TOTAL_BYTES = 128 * 1024 * 1024;
/** Compressed bytes handed to the inflater at once: deflate expands at most ~1032x, so ~1 MiB out per step. */
const STEP = 1024;

/** True when the bytes begin like a zip (a local file header, or an empty archive). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);
}

interface Entry {
  name: string;
  method: number;
  compressed: number;
  declared: number;
  dataStart: number;
}

/** A path inside a package: relative, `/`-separated, no `.` or `..` segment, nothing a file system would read as a root. */
export function isSafePath(path: string): boolean {
  if (path.length === 0 || path.length > 255) return false;
  if (path.startsWith('/') || path.includes('\\') || path.includes('\0') || /^[A-Za-z]:/.test(path)) return false;
  return path.split('/').every((seg, i, all) => seg !== '.' && seg !== '..' && (seg !== '' || i === all.length - 1));
}

/** The files of a zip by path (directories left out); refuses with a `registry/*` code. */
export function readZip(bytes: Uint8Array): Map<string, Uint8Array> {
  const entries = centralDirectory(bytes);
  const files = new Map<string, Uint8Array>();
  let total = 0;
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    const data = inflateEntry(bytes, e, MAX_TOTAL_BYTES - total);
    total += data.length;
    files.set(e.name, data);
  }
  return files;
}

function centralDirectory(bytes: Uint8Array): Entry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  let eocd = bytes.length - 22;
  const stop = Math.max(0, bytes.length - 22 - 65535);
  while (eocd >= stop && !(eocd >= 0 && u32(eocd) === 0x06054b50)) eocd--;
  if (eocd < stop || eocd < 0) throw bad('no end of central directory: not a whole zip');
  const count = u16(eocd + 10);
  let at = u32(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) throw bad('zip64 archives are not supported');
  if (count > MAX_ENTRIES) throw new KernelError('registry/too-large', `the package has ${count} entries; at most ${MAX_ENTRIES}`, { entries: count, limit: MAX_ENTRIES });
  const entries: Entry[] = [];
  const names = new Set<string>();
  let declaredTotal = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || u32(at) !== 0x02014b50) throw bad('a central directory entry is damaged');
    const method = u16(at + 10);
    const compressed = u32(at + 20);
    const declared = u32(at + 24);
    const nameLen = u16(at + 28);
    const next = at + 46 + nameLen + u16(at + 30) + u16(at + 32);
    const local = u32(at + 42);
    const name = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(at + 46, at + 46 + nameLen));
    if (!isSafePath(name)) throw new KernelError('registry/unsafe-path', `the package holds an entry with an unsafe path: ${JSON.stringify(name)}`, { path: name });
    if (names.has(name)) throw new KernelError('registry/duplicate-name', `the package holds "${name}" twice`, { path: name });
    names.add(name);
    if (method !== 0 && method !== 8) throw bad(`"${name}" uses compression method ${method}; only stored and deflate are read`);
    declaredTotal += declared;
    if (declaredTotal > MAX_TOTAL_BYTES) {
      throw new KernelError('registry/too-large', `the package declares more than ${MAX_TOTAL_BYTES} bytes once unpacked`, { declared: declaredTotal, limit: MAX_TOTAL_BYTES });
    }
    if (local + 30 > bytes.length || u32(local) !== 0x04034b50) throw bad(`the local header of "${name}" is damaged`);
    const dataStart = local + 30 + u16(local + 26) + u16(local + 28);
    if (dataStart + compressed > bytes.length) throw bad(`"${name}" runs past the end of the zip`);
    entries.push({ name, method, compressed, declared, dataStart });
    at = next;
  }
  return entries;
}

function inflateEntry(bytes: Uint8Array, e: Entry, room: number): Uint8Array {
  const raw = bytes.subarray(e.dataStart, e.dataStart + e.compressed);
  const tooBig = (): KernelError =>
    new KernelError('registry/too-large', `"${e.name}" unpacks to more than the ${e.declared} bytes it declares`, { path: e.name, declared: e.declared });
  if (e.method === 0) {
    if (e.compressed !== e.declared) throw tooBig();
    return raw.slice();
  }
  const out = new Uint8Array(e.declared);
  let got = 0;
  let ended = false;
  const inflater = new Inflate((chunk, final) => {
    if (got + chunk.length > e.declared || got + chunk.length > room) throw tooBig();
    out.set(chunk, got);
    got += chunk.length;
    if (final) ended = true;
  });
  try {
    for (let i = 0; i < raw.length; i += STEP) inflater.push(raw.subarray(i, Math.min(raw.length, i + STEP)), i + STEP >= raw.length);
    if (raw.length === 0) inflater.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof KernelError) throw err;
    throw bad(`"${e.name}" does not inflate: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!ended || got !== e.declared) throw bad(`"${e.name}" unpacks to ${got} bytes, not the ${e.declared} it declares`);
  return out;
}

function bad(message: string): KernelError {
  return new KernelError('registry/invalid-package', message);
}

/** A package zip: `webmk.json` first, the files, then `webmk.sig` if given (deflated, fixed times). */
export function zipPackage(manifest: string, files: Record<string, Uint8Array>, signature?: string): Uint8Array {
  const mtime = new Date('2020-01-01T00:00:00Z');
  const entries: Zippable = { 'webmk.json': [strToU8(manifest), { mtime }] };
  for (const [path, bytes] of Object.entries(files)) entries[path] = [bytes, { mtime }];
  if (signature !== undefined) entries['webmk.sig'] = [strToU8(signature), { mtime }];
  return zipSync(entries);
}
