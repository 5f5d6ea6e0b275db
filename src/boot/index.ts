/**
 * The page's start-up: service worker, cross-origin isolation, updates, launched files.
 * `src/main.ts` awaits `boot()` before it starts the kernel.
 */
export type { Boot, BootStatus } from './types';
export { BootEvent } from './types';
export { boot } from './boot';
export { consumeLaunchQueue, LaunchError } from './launch-queue';
