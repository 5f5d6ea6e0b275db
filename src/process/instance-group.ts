/**
 * A process's instance group (ADR 0033): the providers the kernel put beside it, instantiated in
 * its worker, each with an Extism host of its own (input, output, vars, its config), as its
 * service instance would be. An import from one is a direct call to its export, with the ABI of
 * every linked import (capabilities/linked.ts):
 *
 *   int32_t fn(const void *in, uint32_t in_len, void *out, uint32_t out_cap)
 *
 * the input copied from the importer's memory into the call, the output copied back (what fits),
 * its full length returned; `-ENOSYS` for a function it does not export, `-EIO` for an error it
 * set or a nonzero return, `-EFAULT` for a buffer outside the importer's memory. A trap in the
 * provider ends the importer's process (ProviderTrap): its instance is past trusting, and
 * nothing else shares it to start it fresh.
 *
 * The provider's own WASI, `webmk` and linked imports are not its importer's: WASI and `webmk`
 * calls answer ENOSYS (as for the modules an Extism plugin links), and its linked imports trap if
 * called. Its calls are not bracketed for the watchdog: its computing is its importer's.
 */
import { Errno } from '../common';
import type { GroupMember } from '../ipc';
import { ExtismFault, ExtismHost } from './extism';
import type { GuestFunction } from './guest';

/** A provider linked in-process trapped: its importer ends, with this as its reason. */
export class ProviderTrap extends Error {}

/** What instantiating a member needs of run.ts: its linker, and the instances an Extism plugin links by name. */
export interface GroupLinker {
  link(module: WebAssembly.Module, extism: Record<string, (...args: bigint[]) => unknown>, named: Record<string, WebAssembly.Exports>): WebAssembly.Imports;
  linked(members: ReadonlyArray<{ name: string; module: WebAssembly.Module }>, extism: Record<string, (...args: bigint[]) => unknown>): Record<string, WebAssembly.Exports>;
}

interface Member {
  name: string;
  exports: WebAssembly.Exports;
  host: ExtismHost;
}

/**
 * Instantiates the group's members (each `_initialize` run), and returns the import of
 * `namespace.fn` for the importer whose memory `memory` gives, or undefined for a namespace
 * not in the group. Throws ProviderTrap when a member cannot start.
 */
export function instanceGroup(group: readonly GroupMember[], stderr: SharedArrayBuffer, memory: () => Uint8Array, linker: GroupLinker): (namespace: string, fn: string) => GuestFunction | undefined {
  const members = new Map<string, Member>();
  for (const g of group) {
    const host = new ExtismHost(stderr, g.config, {
      ...(g.extism?.maxBytes !== undefined ? { maxBytes: g.extism.maxBytes } : {}),
      ...(g.extism?.maxVarBytes !== undefined ? { maxVarBytes: g.extism.maxVarBytes } : {}),
    });
    try {
      const named = linker.linked(g.extism?.linked ?? [], host.imports());
      const inst = new WebAssembly.Instance(g.module, linker.link(g.module, host.imports(), named));
      const init = inst.exports._initialize;
      if (typeof init === 'function') (init as () => unknown)();
      members.set(g.name, { name: g.name, exports: inst.exports, host });
    } catch (e) {
      throw new ProviderTrap(`"${g.name}", linked in this process, could not start: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return (namespace, fn) => {
    const m = members.get(namespace);
    return m === undefined ? undefined : groupCall(m, fn, memory);
  };
}

/** A trap of the provider's own: in its code (a stack overflow included), or a fault in its use of its Extism host. */
function isTrap(e: unknown): boolean {
  return e instanceof WebAssembly.RuntimeError || e instanceof RangeError || e instanceof ExtismFault;
}

/** The import `fn` of member `m`. */
function groupCall(m: Member, fn: string, memory: () => Uint8Array): GuestFunction {
  const f = m.exports[fn];
  // Its `_`-prefixed exports are its runtime's, not functions to call (as for a service call).
  const call = typeof f === 'function' && !fn.startsWith('_') ? (f as () => unknown) : undefined;
  return (inPtr = 0, inLen = 0, outPtr = 0, outCap = 0) => {
    const mem = memory();
    const p = inPtr >>> 0;
    const n = inLen >>> 0;
    const o = outPtr >>> 0;
    if (p + n > mem.length || o > mem.length) return -Errno.FAULT;
    if (call === undefined) return -Errno.NOSYS;
    // Its host copies the input into a block of its own; the view it keeps cannot change during the call.
    m.host.begin(mem.subarray(p, p + n));
    let rc: unknown;
    try {
      rc = call();
    } catch (e) {
      m.host.end();
      // What the importer's own glue threw (the process was killed, its watchdog expired) ends it as such.
      if (!isTrap(e)) throw e;
      throw new ProviderTrap(`"${m.name}".${fn}, linked in this process, trapped: ${e instanceof Error ? e.message : String(e)}`);
    }
    const { output, error } = m.host.end();
    if (error !== undefined || (rc !== undefined && rc !== 0 && rc !== 0n)) return -Errno.IO;
    // A fresh view: nothing grew the importer's memory meanwhile, but a view is cheap.
    const dst = memory();
    const k = Math.min(outCap >>> 0, output.length);
    if (o + k > dst.length) return -Errno.FAULT;
    dst.set(output.subarray(0, k), o);
    return output.length;
  };
}
