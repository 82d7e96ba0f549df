import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Server processes, ONNX workers and Chromium share two cores: keep file-level parallelism low.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default'],
  },
});
