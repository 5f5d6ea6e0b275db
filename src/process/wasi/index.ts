/** WASI preview1 for webmk processes (runs inside a module's worker). */
export { createWasiProcess, WASIProcExit, type WasiProcess } from './preview1';
