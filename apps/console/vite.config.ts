import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Served by the gateway under /console (same origin as the API, so no CORS and no key in URLs).
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  resolve: {
    alias: {
      // The typed client is written for Node and browsers alike; its only Node import is
      // randomUUID, which browsers have on `crypto`.
      'node:crypto': here('./src/shims/node-crypto.ts'),
      '@roam/client': here('../../clients/typescript/src/index.ts'),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts or styles: the gateway's CSP allows only files from the same origin.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
