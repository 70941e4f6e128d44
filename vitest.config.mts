import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// swc keeps decorator metadata, which Nest's dependency injection needs; vite's esbuild transform drops it.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
