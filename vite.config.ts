/**
 * The app build: a static site in dist/ with relative URLs only, so it runs from any static
 * host at the root or under a sub-path. The service worker (sw/) and the web app manifest
 * come from vite-plugin-pwa (see docs/decisions/0001-service-worker.md).
 */
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** Cross-origin isolation (SharedArrayBuffer, Atomics.wait) where we control the server. */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const THEME = '#12141c';

export default defineConfig({
  base: './',
  worker: { format: 'es' },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders, host: '127.0.0.1' },
  plugins: [
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'sw',
      filename: 'sw.ts',
      // src/boot registers the worker itself (isolation reload, update prompt).
      injectRegister: false,
      registerType: 'prompt',
      // The icons are in the glob above already.
      includeManifestIcons: false,
      injectManifest: {
        // Everything the build emits, example modules included, so a reload works offline.
        // (The plugin adds manifest.webmanifest itself.)
        globPatterns: ['**/*.{html,js,mjs,css,wasm,json,png,svg,ico,txt,woff2,zip}'],
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
        // A classic worker script registers in every browser that has service workers.
        rollupFormat: 'iife',
      },
      manifest: {
        id: './',
        name: 'webmk',
        short_name: 'webmk',
        description:
          'A microkernel in a browser tab: install WebAssembly/WASI modules and run them in isolated workers, offline.',
        start_url: './',
        scope: './',
        display: 'standalone',
        theme_color: THEME,
        background_color: THEME,
        lang: 'en',
        categories: ['developer', 'utilities'],
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
        file_handlers: [{ action: './', accept: { 'application/wasm': ['.wasm'], 'application/zip': ['.zip'] } }],
        // A shared link, or a web+webmk: link, becomes ?install=<url> (src/shell/install-link.ts).
        share_target: { action: './', method: 'GET', enctype: 'application/x-www-form-urlencoded', params: { url: 'install', text: 'shared' } },
        protocol_handlers: [{ protocol: 'web+webmk', url: './?install=%s' }],
        // A file opened while the app is open goes to that window's launchQueue.
        launch_handler: { client_mode: ['focus-existing', 'auto'] },
      },
    }),
  ],
});
