/** The bench page: the kernel imported as a library beside the raw baselines; no service worker. */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  publicDir: false,
  worker: { format: 'es' },
  build: { outDir: `${here}dist`, emptyOutDir: true, target: 'esnext', reportCompressedSize: false },
  logLevel: 'warn',
});
