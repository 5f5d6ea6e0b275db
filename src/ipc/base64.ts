/** Bytes as base64 text and back: how service-call output crosses the sync-call buffer, which carries JSON. */

/** Encodes bytes as base64. */
export function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Decodes base64; throws on anything that is not. */
export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}
