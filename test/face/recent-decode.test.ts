import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/face/image.js';
import { RecentDecode } from '../../src/face/recent-decode.js';

const LIMITS = { maxBytes: 1 << 20, maxPixels: 1 << 26 };
const AGAIN = { reuse: true };

/** A decoder that counts its calls and answers an image of the given size. */
function counting(width: number, height: number) {
  const calls: Uint8Array[] = [];
  const decode = async (bytes: Uint8Array): Promise<RgbImage> => {
    calls.push(bytes);
    return { data: new Uint8Array(3), width, height };
  };
  return { calls, decode };
}

describe('RecentDecode', () => {
  it('decodes a camera frame analysed again only once, whatever buffer its bytes come in', async () => {
    const { calls, decode } = counting(480, 360);
    const recent = new RecentDecode(decode);
    const frame = Uint8Array.from([1, 2, 3, 4]);
    const first = await recent.get(frame, LIMITS, AGAIN);
    expect(await recent.get(Uint8Array.from([1, 2, 3, 4]), LIMITS, AGAIN)).toBe(first);
    expect(calls).toHaveLength(1);
  });

  it('decodes bytes that differ in one place, and keeps only the last frame', async () => {
    const { calls, decode } = counting(480, 360);
    const recent = new RecentDecode(decode);
    await recent.get(Uint8Array.from([1, 2, 3, 4]), LIMITS, AGAIN);
    await recent.get(Uint8Array.from([1, 2, 3, 5]), LIMITS, AGAIN);
    await recent.get(Uint8Array.from([1, 2, 3, 4]), LIMITS, AGAIN);
    expect(calls).toHaveLength(3);
  });

  it('decodes again for an analysis that does not say it repeats one (the same photo sent twice, a benchmark)', async () => {
    const { calls, decode } = counting(480, 360);
    const recent = new RecentDecode(decode);
    await recent.get(Uint8Array.from([1, 2, 3, 4]), LIMITS, AGAIN);
    await recent.get(Uint8Array.from([1, 2, 3, 4]), LIMITS, { reuse: false });
    expect(calls).toHaveLength(2);
  });

  it('keeps no photo larger than a camera frame', async () => {
    const { calls, decode } = counting(4000, 3000);
    const recent = new RecentDecode(decode);
    await recent.get(Uint8Array.from([9]), LIMITS, AGAIN);
    await recent.get(Uint8Array.from([9]), LIMITS, AGAIN);
    expect(calls).toHaveLength(2);
  });
});
