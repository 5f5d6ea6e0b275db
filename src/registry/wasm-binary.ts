/**
 * Just enough of the wasm binary format to tell truncated input from invalid input, and to cap
 * a module's memory (the kernel's memory limit is a transform of the bytes before compiling).
 */

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const MEMORY_SECTION = 5;

/** A section's id and where its payload lies. */
export interface Section {
  id: number;
  /** Offset of the section id byte. */
  header: number;
  /** Offset of the payload. */
  start: number;
  end: number;
}

/** True when the bytes start with the wasm magic number. */
export function hasWasmMagic(b: Uint8Array): boolean {
  return MAGIC.every((x, i) => b[i] === x);
}

function leb(b: Uint8Array, at: number): { value: number; next: number } | null {
  let value = 0;
  let shift = 0;
  for (let i = at; i < b.length && i < at + 5; i++) {
    const byte = b[i] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
    shift += 7;
  }
  return null;
}

function encodeLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** The sections, or `'truncated'` when the bytes end inside the header or a section. */
export function sections(b: Uint8Array): Section[] | 'truncated' {
  if (b.length < 8) return 'truncated';
  const out: Section[] = [];
  let at = 8;
  while (at < b.length) {
    const id = b[at] as number;
    const size = leb(b, at + 1);
    if (size === null) return 'truncated';
    const end = size.next + size.value;
    if (end > b.length) return 'truncated';
    out.push({ id, header: at, start: size.next, end });
    at = end;
  }
  return out;
}

/** Memory limits as the binary declares them. */
interface Limits {
  flags: number;
  min: number;
  max: number | null;
}

/** Bytes ready to compile under a memory cap, and the cap that really applies. */
export interface Capped {
  bytes: Uint8Array;
  /** The smallest maximum of the module's memories after capping, in 64 KiB pages. */
  maxPages: number;
}

/**
 * Lowers every defined memory's maximum to `maxPages` (returning the same bytes when nothing
 * needs to change), or `'min-exceeds'` when a memory's minimum alone is over the cap. 64-bit
 * memories are left alone. Imported memories are not rewritten: the kernel provides none.
 */
export function capMemory(b: Uint8Array, maxPages: number): Capped | 'min-exceeds' {
  const secs = sections(b);
  if (secs === 'truncated') return { bytes: b, maxPages };
  const mem = secs.find((s) => s.id === MEMORY_SECTION);
  if (mem === undefined) return { bytes: b, maxPages };
  const entries = readLimits(b, mem);
  if (entries === null || entries.some((e) => e.flags & 4)) return { bytes: b, maxPages };
  if (entries.some((e) => e.min > maxPages)) return 'min-exceeds';
  const effective = Math.min(maxPages, ...entries.map((e) => e.max ?? maxPages));
  if (entries.every((e) => e.max !== null && e.max <= maxPages)) return { bytes: b, maxPages: effective };
  const payload = [...encodeLeb(entries.length)];
  for (const e of entries) {
    payload.push(e.flags | 1, ...encodeLeb(e.min), ...encodeLeb(Math.min(e.max ?? maxPages, maxPages)));
  }
  const section = [MEMORY_SECTION, ...encodeLeb(payload.length), ...payload];
  const out = new Uint8Array(mem.header + section.length + (b.length - mem.end));
  out.set(b.subarray(0, mem.header), 0);
  out.set(section, mem.header);
  out.set(b.subarray(mem.end), mem.header + section.length);
  return { bytes: out, maxPages: effective };
}

function readLimits(b: Uint8Array, mem: Section): Limits[] | null {
  const count = leb(b, mem.start);
  if (count === null) return null;
  const entries: Limits[] = [];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    const flags = b[at] as number;
    const min = leb(b, at + 1);
    if (min === null) return null;
    let max: number | null = null;
    at = min.next;
    if (flags & 1) {
      const m = leb(b, at);
      if (m === null) return null;
      max = m.value;
      at = m.next;
    }
    entries.push({ flags, min: min.value, max });
  }
  return entries;
}

/** A WebAssembly number type, as a host function's arguments and results are typed. */
export type NumType = 'i32' | 'i64' | 'f32' | 'f64';

const TYPE_SECTION = 1;
const IMPORT_SECTION = 2;
const NUM_TYPES: Record<number, NumType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' };

/**
 * The result types of the functions the module imports from `namespace`, by name (JS cannot ask a
 * compiled module for them). A function whose types are not plain numbers (a reference, a vector,
 * a type of the GC proposal) is left out; `null` when the sections cannot be read.
 */
export function importResults(b: Uint8Array, namespace: string): Map<string, NumType[]> | null {
  const secs = sections(b);
  if (secs === 'truncated') return null;
  const types = funcTypes(b, secs.find((s) => s.id === TYPE_SECTION));
  const imp = secs.find((s) => s.id === IMPORT_SECTION);
  const out = new Map<string, NumType[]>();
  if (types === null || imp === undefined) return types === null ? null : out;
  const dec = new TextDecoder();
  const count = leb(b, imp.start);
  if (count === null) return null;
  let at = count.next;
  const name = (): string | null => {
    const n = leb(b, at);
    if (n === null || n.next + n.value > imp.end) return null;
    at = n.next + n.value;
    return dec.decode(b.subarray(n.next, at));
  };
  const limits = (): boolean => {
    const flags = b[at++] as number;
    for (let i = 0; i < (flags & 1 ? 2 : 1); i++) {
      const v = leb(b, at);
      if (v === null) return false;
      at = v.next;
    }
    return true;
  };
  for (let i = 0; i < count.value; i++) {
    const module = name();
    const field = name();
    if (module === null || field === null) return null;
    const kind = b[at++];
    if (kind === 0) {
      const t = leb(b, at);
      if (t === null) return null;
      at = t.next;
      const results = types[t.value];
      if (module === namespace && results !== undefined) out.set(field, results);
    } else if (kind === 1) {
      at++; // the reference type
      if (!limits()) return null;
    } else if (kind === 2) {
      if (!limits()) return null;
    } else if (kind === 3) {
      at += 2; // a number type and mutability
    } else {
      return out; // a kind this reader does not know: what was read so far
    }
  }
  return out;
}

/** The result types of each function type (undefined for one that is not numbers only), as far as they can be read; null when not at all. */
function funcTypes(b: Uint8Array, sec: Section | undefined): Array<NumType[] | undefined> | null {
  if (sec === undefined) return [];
  const count = leb(b, sec.start);
  if (count === null) return null;
  let at = count.next;
  const out: Array<NumType[] | undefined> = [];
  const vec = (): NumType[] | undefined | null => {
    const n = leb(b, at);
    if (n === null) return null;
    at = n.next;
    const list: NumType[] = [];
    let plain = true;
    for (let i = 0; i < n.value; i++) {
      const byte = b[at++] as number;
      if (byte === 0x63 || byte === 0x64) return null; // a typed reference: its heap type follows, not read here
      const t = NUM_TYPES[byte];
      if (t === undefined) plain = false;
      else list.push(t);
    }
    return plain ? list : undefined;
  };
  for (let i = 0; i < count.value; i++) {
    if (b[at++] !== 0x60) return out; // a rec group or subtype (GC): the types after it are not read
    const params = vec();
    const results = params === null ? null : vec();
    if (params === null || results === null) return out; // what follows is not read
    out.push(params === undefined ? undefined : results);
  }
  return out;
}
