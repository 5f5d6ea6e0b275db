/**
 * Graphics, page side: module windows (a canvas whose surface the module's worker owns) and input
 * forwarding. The module's side (the presenter, its imports) is in
 * process/capabilities/gfx.ts; the two halves share the ABI in ipc/gfx-abi.ts.
 */
export { gfxService, GfxEvents, type GfxApi, type GfxWindowInfo } from './service';
export { canvasRequest, type CanvasRequest } from './manifest';
export type { ShownWindow, WindowShare, WindowSink } from './remote';
export { EventType, Key, Mod, EVENT_BYTES, MAX_PIXELS, MAX_SIDE, type GfxEvent, type EventTypeCode } from '../ipc';
export { keyCode, keyEvent, modsOf, plainEvent, wheelPixels, type ModifierState } from './input';
