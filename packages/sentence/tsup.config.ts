import { defineConfig } from 'tsup';

export default defineConfig({
  // index: Node (worker threads); browser: no Node built-in; worker: the thread index.ts starts.
  entry: ['src/index.ts', 'src/browser.ts', 'src/worker.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
