import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BandSearch } from '../../src/documents/band-search.js';
import { locateBands } from '../../src/documents/locate.js';
import { decodeGrey } from '../../src/documents/reader.js';
import { photograph, random, randomContent, randomPhotograph, renderDocument } from '../../src/documents/synthetic.js';
import { requireSharedFaces, SHARED_FACES } from '../face/helpers.js';
import { requireOcrFont } from './helpers.js';

describe.runIf(requireOcrFont() && requireSharedFaces())('band search in a worker thread', () => {
  it('finds the same MRZ band as on the calling thread, in a small photo too', { timeout: 120_000 }, async () => {
    const bands = new BandSearch();
    try {
      // 600 px with the document filling 60 % of it: an MRZ character is some 7 px wide.
      for (const [size, fill] of [[600, 0.6], [1800, 0.8]] as const) {
        const rnd = random(size);
        const { png } = await renderDocument('TD3', randomContent(rnd, 'TD3'), readFileSync(path.join(SHARED_FACES!, 'deepface', 'img1.jpg')), rnd);
        const { work } = await decodeGrey(await photograph(png, { ...randomPhotograph(rnd), size, fill, blur: 0, glare: 0 }, rnd), 40_000_000);
        const found = await bands.search(work);
        expect(found.length, `${size} px`).toBeGreaterThan(0);
        expect(found).toEqual(locateBands(work));
      }
    } finally {
      await bands.close();
    }
  });
});
