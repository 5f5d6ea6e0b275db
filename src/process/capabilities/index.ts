/** The providers of `webmk` imports, one per capability: what a module can ask beyond WASI. */
import type { GuestProvider } from '../guest';
import { busImports } from './bus';
import { gfxImports } from './gfx';
import { kernelImports } from './kernel';
import { kvImports } from './kv';
import { serviceImports } from './services';

/** Every provider; a process gets the union of their imports. */
export const providers: GuestProvider[] = [busImports, kernelImports, gfxImports, serviceImports, kvImports];
