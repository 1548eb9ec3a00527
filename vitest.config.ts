import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const packages = ['common', 'random', 'tensor', 'bert', 'data', 'enhanced-decoder', 'train', 'eval', 'finetune', 'cli'];
// Tests run against each package's source, not its dist, so `npm test` needs no build first.
const alias = Object.fromEntries(
  packages.map((name) => [`@retro/${name}`, fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url))]),
);

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
