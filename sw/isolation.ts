/**
 * Cross-origin isolation for hosts that cannot send headers: every response the worker hands
 * to the page gets COOP/COEP, so the document (and the workers it starts) may use
 * SharedArrayBuffer and Atomics.wait.
 */
import type { WorkboxPlugin } from 'workbox-core/types.js';

/** Returns `response` with the isolation headers added; opaque responses pass unchanged. */
export function withIsolationHeaders(response: Response): Response {
  // An opaque (status 0) response cannot be read or rebuilt; the browser judges it as it is.
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) {
    return response;
  }
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  // Only same-origin requests reach this worker's routes; say so for embedders under COEP.
  if (!headers.has('Cross-Origin-Resource-Policy')) {
    headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  }
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/** A Workbox plugin that applies `withIsolationHeaders` to whatever a strategy responds with. */
export const isolationPlugin: WorkboxPlugin = {
  handlerWillRespond: async ({ response }) => withIsolationHeaders(response),
};
