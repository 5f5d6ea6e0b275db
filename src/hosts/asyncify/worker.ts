/**
 * A dedicated worker that runs binaryen's Asyncify pass (or the count-malloc transform), so the
 * page never stalls on it (the pass takes a second or more, binaryen.js is 14.8 MB and is loaded
 * only here, on first use). One request, one reply; the page ends the worker after it.
 */
import { BLOCKING_IMPORTS, GLOBAL_EXPORT_PREFIX } from '../../common';
import { countMalloc } from './count-malloc';
import type { InstrumentReply } from './protocol';

interface Scope {
  onmessage: ((e: MessageEvent<unknown>) => void) | null;
  postMessage(message: InstrumentReply, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as Scope;

scope.onmessage = (e) => {
  const data = e.data as { bytes?: unknown; op?: unknown } | null;
  if (typeof data !== 'object' || data === null || !(data.bytes instanceof Uint8Array) || (data.op !== undefined && data.op !== 'asyncify' && data.op !== 'count-malloc')) {
    scope.postMessage({ ok: false, message: "expected { bytes: Uint8Array, op?: 'asyncify' | 'count-malloc' }" });
    return;
  }
  const bytes = data.bytes;
  void (data.op === 'count-malloc' ? counted(bytes) : instrument(bytes)).then(
    (reply) => scope.postMessage(reply, reply.ok ? [reply.bytes.buffer] : []),
    (err: unknown) => scope.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
};

/** The module with its malloc calls counted and reported at its end (count-malloc.ts). */
async function counted(bytes: Uint8Array): Promise<InstrumentReply> {
  const { default: binaryen } = await import('binaryen');
  const mod = binaryen.readBinary(bytes);
  try {
    setFeatures(binaryen, mod);
    const refused = countMalloc(binaryen, mod);
    if (refused !== undefined) return { ok: false, message: refused };
    if (!mod.validate()) return { ok: false, message: 'the rewritten module does not validate' };
    return { ok: true, bytes: mod.emitBinary(), globals: 0 };
  } finally {
    mod.dispose();
  }
}

/** What browsers run today; not All, whose encodings (compact imports, ...) they refuse. */
function setFeatures(binaryen: typeof import('binaryen').default, mod: InstanceType<typeof import('binaryen').default.Module>): void {
  const F = binaryen.Features;
  mod.setFeatures(
    F.MutableGlobals | F.NontrappingFPToInt | F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt | F.SignExt | F.ReferenceTypes | F.Multivalue | F.ExtendedConst | F.Atomics | F.TailCall | F.CallIndirectOverlong,
  );
}

/** Exports every internal mutable global (the C stack pointer among them), then runs Asyncify on the blocking imports. */
async function instrument(bytes: Uint8Array): Promise<InstrumentReply> {
  const { default: binaryen } = await import('binaryen');
  const mod = binaryen.readBinary(bytes);
  try {
    setFeatures(binaryen, mod);
    if (!mod.hasMemory()) return { ok: false, message: 'the module has no memory' };
    const mem = mod.getMemoryInfo();
    if (mem.shared) return { ok: false, message: 'the module shares its memory (threads): its other threads cannot be captured' };
    if (mem.is64) return { ok: false, message: 'a 64-bit memory is not supported' };
    const names = new Set<string>();
    for (let i = 0; i < mod.getNumExports(); i++) names.add(binaryen.getExportInfo(mod.getExportByIndex(i)).name);
    if (names.has('asyncify_start_unwind')) return { ok: false, message: 'the module is instrumented with Asyncify already' };
    let globals = 0;
    for (let i = 0; i < mod.getNumGlobals(); i++) {
      const g = binaryen.getGlobalInfo(mod.getGlobalByIndex(i));
      if (!g.mutable || (g.module !== null && g.module !== '')) continue;
      mod.addGlobalExport(g.name, `${GLOBAL_EXPORT_PREFIX}${i}`);
      globals += 1;
    }
    binaryen.setOptimizeLevel(2);
    binaryen.setShrinkLevel(1);
    binaryen.setPassArgument('asyncify-imports', BLOCKING_IMPORTS.join(','));
    mod.runPasses(['asyncify']);
    if (!mod.validate()) return { ok: false, message: 'the instrumented module does not validate' };
    return { ok: true, bytes: mod.emitBinary(), globals };
  } finally {
    mod.dispose();
  }
}
