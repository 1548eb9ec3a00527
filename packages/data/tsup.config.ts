import { defineConfig } from 'tsup';

export default defineConfig({
  // tokenizers/index: the browser-safe subset (`@retro/data/tokenizers`): no Node built-in at import.
  entry: ['src/index.ts', 'src/prepare-worker.ts', 'src/tokenizers/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
