import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/**
 * Each text file of the build also as .br and .gz, so Tandem sends a phone on a slow connection
 * the compressed bytes (apps/tandem/src/web/web-app.ts) without compressing on every request.
 */
const precompress = (): Plugin => ({
  name: 'tandem-precompress',
  apply: 'build',
  closeBundle() {
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]));
    for (const file of walk('dist').filter((f) => /\.(js|css|html|svg|webmanifest|json)$/.test(f))) {
      const content = readFileSync(file);
      if (content.length < 1024) continue;
      writeFileSync(`${file}.br`, brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      writeFileSync(`${file}.gz`, gzipSync(content, { level: 9 }));
    }
  },
});
import { VitePWA } from 'vite-plugin-pwa';

/**
 * The care worker's app, built into dist/ and served by Tandem at `/`. The service worker
 * (Workbox, through vite-plugin-pwa) keeps the app shell on the phone so it opens with no signal;
 * her day and her unsent entries live in IndexedDB (src/store.ts).
 */
export default defineConfig({
  // nhsuk-frontend's CSS comes minified and holds an old-IE media hack lightningcss cannot parse.
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, cssMinify: false },
  server: { proxy: { '^/(api|fhir|dev-sign-in|app-config.json|health)': 'http://127.0.0.1:8080' } },
  plugins: [
    precompress(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      manifest: {
        name: 'Tandem: my day',
        short_name: 'Tandem',
        description: 'The people you care for today, what is due, and recording at the bedside, with or without signal',
        lang: 'en-GB',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#f0f4f5',
        theme_color: '#005eb8',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        navigateFallback: '/index.html',
        // The API, FHIR and the sign-in are never answered from the cache.
        navigateFallbackDenylist: [/^\/(api|fhir|admin|health|openapi\.json|dev-sign-in|app-config\.json)/],
        runtimeCaching: [{ urlPattern: ({ url }) => url.pathname === '/app-config.json', handler: 'NetworkFirst', options: { cacheName: 'app-config', networkTimeoutSeconds: 3 } }],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
});
