/**
 * The `count-malloc` transform (lunatic's heap profiler, as a transform): counts a module's calls
 * to its `malloc` and the bytes asked for, and reports them on stderr when the program ends
 * (`malloc: 12 calls, 4096 bytes`), whether `_start` returns or the program calls `proc_exit`.
 * It rewrites the module with binaryen in the same worker as the Asyncify pass:
 * - `malloc` (found by its export or its name in the name section) gets two counters added in
 *   front of its body;
 * - the `proc_exit` import is replaced by a function of the same internal name that reports, then
 *   calls the real import, so every call site reports without being rewritten;
 * - `_start` is exported through a wrapper that reports after it returns.
 * The report is written into a page of memory the module grows for it, so nothing of the
 * program's own memory is touched.
 */
import type binaryenModule from 'binaryen';

type Binaryen = typeof binaryenModule;
type Module = InstanceType<Binaryen['Module']>;

/** binaryen.js has `Function.getBody/setBody` on the library object; its typings put them on a module. */
type FunctionOps = { Function: { getBody(func: number): number; setBody(func: number, body: number): void } };

const WASI = 'wasi_snapshot_preview1';
const CALLS = 'webmk$malloc_calls';
const BYTES = 'webmk$malloc_bytes';
const CALLS_EXPORT = 'webmk_malloc_calls';

/** The internal name of the function exported as `name`, or named `name`, or undefined. */
function functionNamed(b: Binaryen, mod: Module, name: string): string | undefined {
  const exp = mod.getExport(name);
  if (exp !== 0) {
    const info = b.getExportInfo(exp);
    if (info.kind === b.ExternalFunction) return info.value;
  }
  return mod.getFunction(name) !== 0 ? name : undefined;
}

/**
 * The function a command's export wrapper calls: wasm-ld wraps each export of a WASI command in
 * a function that runs the constructors, calls the real one, then the destructors. The module's
 * own calls go to the real one, so that is what is counted. Undefined when `name` is no wrapper.
 */
function wrapped(b: Binaryen, mod: Module, name: string): string | undefined {
  const f = b.getFunctionInfo(mod.getFunction(name));
  if (f.body === 0) return undefined;
  const calls: string[] = [];
  const walk = (e: number): void => {
    const info = b.getExpressionInfo(e) as { id: number; children?: number[]; value?: number; target?: string };
    if (info.id === b.BlockId) for (const c of info.children ?? []) walk(c);
    else if (info.id === b.LocalSetId && info.value !== undefined) walk(info.value);
    else if (info.id === b.DropId && info.value !== undefined) walk(info.value);
    else if (info.id === b.CallId && info.target !== undefined) calls.push(info.target);
  };
  walk(f.body);
  const same = calls.filter((c) => {
    const g = b.getFunctionInfo(mod.getFunction(c));
    return g.params === f.params && g.results === f.results && (g.module === null || g.module === '');
  });
  return same.length === 1 && calls.length <= 3 ? same[0] : undefined;
}

/** Rewrites `mod` in place; returns why it cannot, or undefined when done. */
export function countMalloc(b: Binaryen, mod: Module): string | undefined {
  const named = functionNamed(b, mod, 'malloc');
  const malloc = named === undefined ? undefined : (wrapped(b, mod, named) ?? named);
  if (malloc === undefined) return 'the module has no function named malloc (exported or in its name section): build it with names (no --strip-all, no wasm-opt without -g)';
  const start = functionNamed(b, mod, '_start');
  if (start === undefined) return 'only a WASI command (with _start) can report its count at its end';
  const memExport = mod.getExport('memory');
  if (memExport === 0) return 'the module exports no memory';
  const memory = b.getExportInfo(memExport).value;
  const mallocInfo = b.getFunctionInfo(mod.getFunction(malloc));
  if (mallocInfo.module !== null && mallocInfo.module !== '') return 'malloc is imported, not the module\'s own';
  if (mallocInfo.params !== b.i32 || mallocInfo.results !== b.i32) return 'malloc is not (i32) -> i32';
  if (mod.getExport(CALLS_EXPORT) !== 0) return 'the module counts its malloc calls already';

  mod.addGlobal(CALLS, b.i64, true, mod.i64.const(0));
  mod.addGlobal(BYTES, b.i64, true, mod.i64.const(0));
  // Exported too: a host may read them, and a second pass sees the first.
  mod.addGlobalExport(CALLS, CALLS_EXPORT);
  mod.addGlobalExport(BYTES, 'webmk_malloc_bytes');
  const fn = mod.getFunction(malloc);
  const ops = (b as unknown as FunctionOps).Function;
  ops.setBody(
    fn,
    mod.block(
      null,
      [
        mod.global.set(CALLS, mod.i64.add(mod.global.get(CALLS, b.i64), mod.i64.const(1))),
        mod.global.set(BYTES, mod.i64.add(mod.global.get(BYTES, b.i64), mod.i64.extend_u(mod.local.get(0, b.i32)))),
        ops.getBody(fn),
      ],
      b.i32,
    ),
  );

  // fd_write, imported if the module does not import it yet.
  let fdWrite: string | undefined;
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const f = b.getFunctionInfo(mod.getFunctionByIndex(i));
    if (f.module === WASI && f.base === 'fd_write') fdWrite = f.name;
  }
  if (fdWrite === undefined) {
    fdWrite = 'webmk$fd_write';
    mod.addFunctionImport(fdWrite, WASI, 'fd_write', b.createType([b.i32, b.i32, b.i32, b.i32]), b.i32);
  }
  addReport(b, mod, memory, fdWrite);

  // proc_exit: the import becomes a function of the same name that reports first.
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const f = b.getFunctionInfo(mod.getFunctionByIndex(i));
    if (f.module !== WASI || f.base !== 'proc_exit') continue;
    mod.removeFunction(f.name);
    mod.addFunctionImport('webmk$proc_exit', WASI, 'proc_exit', b.i32, b.none);
    mod.addFunction(f.name, b.i32, b.none, [], mod.block(null, [mod.call('webmk$report', [], b.none), mod.call('webmk$proc_exit', [mod.local.get(0, b.i32)], b.none)]));
    break;
  }
  // _start: reports after it returns.
  mod.addFunction('webmk$start', b.none, b.none, [], mod.block(null, [mod.call(start, [], b.none), mod.call('webmk$report', [], b.none)]));
  mod.removeExport('_start');
  mod.addFunctionExport('webmk$start', '_start');
  return undefined;
}

/**
 * Adds `webmk$report`: grows memory by a page, writes `malloc: <calls> calls, <bytes> bytes\n`
 * there and hands it to fd_write on fd 2. Reports once (a program that returns from `_start`
 * after calling `proc_exit` does not report twice).
 */
function addReport(b: Binaryen, mod: Module, memory: string, fdWrite: string): void {
  const m = mod;
  const i32 = b.i32;
  const i64 = b.i64;
  mod.addGlobal('webmk$reported', i32, true, m.i32.const(0));
  // Locals: 0 base, 1 cursor, 2 value (i64), 3 digits end, 4 digit start.
  const BASE = 0;
  const CUR = 1;
  const VAL = 2;
  const END = 3;
  const P = 4;
  const get = (i: number, t = i32) => m.local.get(i, t);
  const text = (s: string) => {
    const out = [];
    for (let i = 0; i < s.length; i++) {
      out.push(m.i32.store8(0, 1, m.i32.add(get(CUR), m.i32.const(i)), m.i32.const(s.charCodeAt(i)), memory));
    }
    out.push(m.local.set(CUR, m.i32.add(get(CUR), m.i32.const(s.length))));
    return out;
  };
  // Decimal digits of VAL, written backwards from END, then moved to the cursor.
  const number = (global: string, label = `digit$${global}`) => [
    m.local.set(VAL, m.global.get(global, i64)),
    m.local.set(P, get(END)),
    m.loop(
      label,
      m.block(null, [
        m.local.set(P, m.i32.sub(get(P), m.i32.const(1))),
        m.i32.store8(0, 1, get(P), m.i32.add(m.i32.wrap(m.i64.rem_u(get(VAL, i64), m.i64.const(10))), m.i32.const(48)), memory),
        m.local.set(VAL, m.i64.div_u(get(VAL, i64), m.i64.const(10))),
        m.br(label, m.i64.ne(get(VAL, i64), m.i64.const(0))),
      ]),
    ),
    m.memory.copy(get(CUR), get(P), m.i32.sub(get(END), get(P)), memory, memory),
    m.local.set(CUR, m.i32.add(get(CUR), m.i32.sub(get(END), get(P)))),
  ];
  const grown = m.memory.grow(m.i32.const(1), memory);
  const body = m.block(null, [
    m.if(m.global.get('webmk$reported', i32), m.return()),
    m.global.set('webmk$reported', m.i32.const(1)),
    m.local.set(BASE, grown),
    m.if(m.i32.eq(get(BASE), m.i32.const(-1)), m.return()),
    m.local.set(BASE, m.i32.mul(get(BASE), m.i32.const(65536))),
    // The text from base + 64; digits are built in base + 32 .. base + 63.
    m.local.set(END, m.i32.add(get(BASE), m.i32.const(64))),
    m.local.set(CUR, m.i32.add(get(BASE), m.i32.const(64))),
    ...text('malloc: '),
    ...number(CALLS),
    ...text(' calls, '),
    ...number(BYTES),
    ...text(' bytes\n'),
    // iovec { base + 64, length } at base, nwritten at base + 8.
    m.i32.store(0, 4, get(BASE), m.i32.add(get(BASE), m.i32.const(64)), memory),
    m.i32.store(4, 4, get(BASE), m.i32.sub(get(CUR), m.i32.add(get(BASE), m.i32.const(64))), memory),
    m.drop(m.call(fdWrite, [m.i32.const(2), get(BASE), m.i32.const(1), m.i32.add(get(BASE), m.i32.const(8))], i32)),
  ]);
  mod.addFunction('webmk$report', b.none, b.none, [i32, i32, i64, i32, i32], body);
}
