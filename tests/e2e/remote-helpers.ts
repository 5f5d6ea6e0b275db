/** Page-side helpers for remote-mode tests: pages that see each other as nodes, remote background processes. */
import type { Page } from 'playwright-core';
import { startBackground } from './kernel-helpers';

/** This page's node id. */
export function nodeOf(page: Page): Promise<string> {
  return page.evaluate(() => window.kernel.node);
}

/** Waits until `page` lists node `id` (connected), and returns its row. */
export async function waitNode(page: Page, id: string): Promise<{ id: string; kind: string; name: string; connected: boolean; rttMs?: number }> {
  await page.waitForFunction((n) => window.kernel.nodes().some((x) => x.id === n && x.connected), id, { timeout: 20_000 });
  return page.evaluate((n) => window.kernel.nodes().find((x) => x.id === n) as never, id);
}

/**
 * Starts a module on node `node` from `page`, like kernel-helpers' startBackground: its stdout in
 * `window.__out[pid]`, its exit code in `window.__exit[pid]`, its stdin open as
 * `window.__stdin[pid]` when `keepStdin`. Returns the pid.
 */
export function startRemote(page: Page, name: string, node: string, opts: { args?: string[]; env?: Record<string, string>; keepStdin?: boolean } = {}): Promise<number> {
  return startBackground(page, name, opts.args ?? [], { mode: 'remote', node, env: opts.env ?? {}, keepStdin: opts.keepStdin === true });
}

/** Writes text to a background process's open stdin. */
export async function writeStdin(page: Page, pid: number, text: string): Promise<void> {
  await page.evaluate(
    async ([p, t]) => {
      await (window as unknown as { __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> }).__stdin[p]?.write(new TextEncoder().encode(t));
    },
    [pid, text] as const,
  );
}

/** The code a rejected call in the page carried. */
export function codeOf(page: Page, fn: string, args: unknown): Promise<string> {
  return page.evaluate(
    async ([f, a]) => {
      try {
        await (new Function('k', 'a', `return (${f})(k, a)`) as (k: unknown, a: unknown) => Promise<unknown>)(window.kernel, a);
        return 'resolved';
      } catch (e) {
        return (e as { code?: string }).code ?? String(e);
      }
    },
    [fn, args] as const,
  );
}
