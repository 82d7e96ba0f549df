import { defineConfig } from 'vitest/config';

/**
 * Files that play a camera in real time to a server in the same process tree (Chromium with the steerable camera):
 * they run last, one at a time, so that nothing else competes for the two cores while a person's answer is timed.
 */
const REALTIME = [
  'test/interaction/face-challenge.test.ts',
  'test/interaction/challenge-live.test.ts',
  'test/interaction/face-signin.test.ts',
  'test/interaction/face-signin-cluster.test.ts',
  'test/account/account-browser.test.ts',
  'test/admin/console-browser.test.ts',
  'test/proofing/proofing-browser.test.ts',
];

const shared = { testTimeout: 60_000, hookTimeout: 120_000, reporters: ['default'] };

export default defineConfig({
  test: {
    projects: [
      // Server processes, ONNX workers and Chromium share two cores: keep file-level parallelism low.
      { test: { ...shared, name: 'suite', include: ['test/**/*.test.ts'], exclude: REALTIME, maxWorkers: 2, fileParallelism: true, sequence: { groupOrder: 0 } } },
      // One retry: a camera played in real time is still at the mercy of the host (a stalled CI runner), never of
      // the suite's own load, which has finished by then.
      { test: { ...shared, name: 'realtime', include: REALTIME, fileParallelism: false, retry: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
