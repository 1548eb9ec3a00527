import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const packages = ['common', 'random', 'tensor', 'bert', 'data', 'enhanced-decoder', 'train', 'eval', 'finetune', 'sentence', 'cli'];
// Tests run against each package's source, not its dist, so `npm test` needs no build first.
// Subpath exports first: '@retro/data' would otherwise also catch '@retro/data/tokenizers'.
const alias = Object.fromEntries([
  ['@retro/data/tokenizers', fileURLToPath(new URL('./packages/data/src/tokenizers/index.ts', import.meta.url))],
  ...packages.map((name) => [`@retro/${name}`, fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url))]),
]);

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [...packages.map((name) => `packages/${name}`), 'benchmarks', 'examples/browser-studio'].map((dir) => ({
      resolve: { alias },
      test: {
        name: dir.replace(/^(packages|examples)\//, ''),
        root: fileURLToPath(new URL(`./${dir}`, import.meta.url)),
        include: ['test/**/*.test.ts'],
        setupFiles: [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))],
        testTimeout: 120_000,
        hookTimeout: 120_000,
      },
    })),
  },
});
