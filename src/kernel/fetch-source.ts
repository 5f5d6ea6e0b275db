/** `kernel.install(url)`: fetching a module or package, with progress and a size cap, saying plainly why it failed. */
import { KernelError } from '../common';

/** Nothing larger is read from a URL (the registry's own package limit). */
export const MAX_FETCH_BYTES = 128 * 1024 * 1024;

/** How far a download is: bytes read, and the size the server announced if it did. */
export interface InstallProgress {
  loaded: number;
  total?: number;
}

/** The bytes at `url` (http or https, relative to the page), and the file name its path ends in. */
export async function fetchSource(url: string, onProgress?: (p: InstallProgress) => void): Promise<{ bytes: Uint8Array; fileName?: string }> {
  let target: URL;
  try {
    target = new URL(url, globalThis.location?.href);
  } catch {
    throw new KernelError('kernel/bad-argument', `not a URL: ${url}`, { url });
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new KernelError('kernel/bad-argument', `only http and https URLs are fetched, not ${target.protocol}`, { url });
  let res: Response;
  try {
    res = await fetch(target, { mode: 'cors', credentials: 'omit' });
  } catch (e) {
    throw new KernelError(
      'registry/fetch-failed',
      `could not fetch ${target.href}: the network failed, or the server does not let this app read it (another site must answer with Access-Control-Allow-Origin)`,
      { url: target.href, cause: e instanceof Error ? e.message : String(e) },
    );
  }
  if (!res.ok) throw new KernelError('registry/fetch-failed', `${target.href} answered ${res.status} ${res.statusText}`.trim(), { url: target.href, status: res.status });
  const announced = Number(res.headers.get('content-length'));
  const total = Number.isFinite(announced) && announced > 0 ? announced : undefined;
  if (total !== undefined && total > MAX_FETCH_BYTES) throw tooLarge(target.href);
  const bytes = await readCapped(res, target.href, total, onProgress);
  const last = decodeURIComponent(target.pathname.split('/').pop() ?? '');
  return last !== '' ? { bytes, fileName: last } : { bytes };
}

async function readCapped(res: Response, url: string, total: number | undefined, onProgress?: (p: InstallProgress) => void): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    loaded += value.length;
    if (loaded > MAX_FETCH_BYTES) {
      await reader.cancel();
      throw tooLarge(url);
    }
    chunks.push(value);
    onProgress?.(total !== undefined ? { loaded, total } : { loaded });
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function tooLarge(url: string): KernelError {
  return new KernelError('registry/too-large', `${url} is larger than ${MAX_FETCH_BYTES} bytes`, { url, limit: MAX_FETCH_BYTES });
}
