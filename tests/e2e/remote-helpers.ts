/** Page-side helpers for remote-mode tests: pages that see each other as nodes, remote background processes. */
import type { Page } from 'playwright-core';

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
  return page.evaluate(
    async ([n, nd, o]) => {
      const w = window as unknown as { __out: Record<number, string>; __exit: Record<number, number>; __stdin: Record<number, WritableStreamDefaultWriter<Uint8Array>> };
      w.__out ??= {};
      w.__exit ??= {};
      w.__stdin ??= {};
      const p = await window.kernel.spawn(n, { mode: 'remote', node: nd, args: o.args ?? [], env: o.env ?? {} });
      if (o.keepStdin === true) w.__stdin[p.pid] = p.stdin.getWriter();
      else await p.stdin.close();
      w.__out[p.pid] = '';
      void (async () => {
        const dec = new TextDecoder();
        const reader = p.stdout.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          w.__out[p.pid] += dec.decode(value, { stream: true });
        }
      })();
      void p.exit.then((c) => (w.__exit[p.pid] = c));
      return p.pid;
    },
    [name, node, opts] as const,
  );
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
