import { describe, expect, it } from 'vitest';
import { currentMallocContext, mallocWarning } from '../../src/ops/malloc.js';

describe('mallocWarning', () => {
  const glibcLinux = { platform: 'linux', glibc: '2.41' };

  it('warns on glibc without a fixed mmap threshold, naming the variable and its value', () => {
    expect(mallocWarning({ ...glibcLinux, env: {} })).toMatch(/MALLOC_MMAP_THRESHOLD_=131072/);
    expect(mallocWarning({ ...glibcLinux, env: { MALLOC_MMAP_THRESHOLD_: '' } })).not.toBeNull();
  });

  it('is silent with the threshold set, or under another C library', () => {
    expect(mallocWarning({ ...glibcLinux, env: { MALLOC_MMAP_THRESHOLD_: '131072' } })).toBeNull();
    expect(mallocWarning({ platform: 'linux', glibc: undefined, env: {} })).toBeNull();
    expect(mallocWarning({ platform: 'darwin', glibc: undefined, env: {} })).toBeNull();
  });

  it("reads this process's C library from its report", () => {
    const context = currentMallocContext();
    expect(context.platform).toBe(process.platform);
    // Debian's Node.js runs on glibc; the image's too.
    if (process.platform === 'linux') expect(context.glibc).toMatch(/^\d+\.\d+/);
  });
});
