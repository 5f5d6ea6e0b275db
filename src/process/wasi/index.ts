/** WASI preview1 for webmk processes (runs inside a module's worker). */
export { createWasiProcess, WASIProcExit, type WaitStyle, type WasiProcess } from './preview1';
export { POLL_PARKED, type PollPark } from './poll';
