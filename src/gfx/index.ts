/**
 * Graphics: module windows (a canvas whose surface the module's worker owns), the framebuffer
 * presenter, and input forwarding. The only folder that touches `OffscreenCanvas`.
 */
export { gfxService, GfxEvents, type GfxApi, type GfxWindowInfo } from './service';
export { gfxImports } from './guest';
export { canvasRequest, type CanvasRequest } from './manifest';
export { EventType, Key, Mod, EVENT_BYTES, MAX_PIXELS, MAX_SIDE, type GfxEvent, type EventTypeCode } from './abi';
export { keyCode, keyEvent, modsOf, plainEvent, wheelPixels, type ModifierState } from './input';
