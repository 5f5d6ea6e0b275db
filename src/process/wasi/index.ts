/** WASI preview1 for webmk processes (runs inside a module's worker). */
export { createWasiProcess, WASIProcExit, type WasiProcess, type WasiProcessOptions } from './preview1';
export { planPreopens } from './fs';
