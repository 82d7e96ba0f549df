import { readFile } from 'node:fs/promises';
import { DocumentReader } from '../documents/index.js';
import { FORMATS, photograph, random, randomContent, randomPhotograph, renderDocument } from '../documents/synthetic.js';
import { percentile } from '../face/index.js';
import { SAMPLE } from './sample.js';

export interface DocumentBenchResult {
  documents: number;
  reads: number;
  /** Reads whose MRZ came out with every check digit valid and equal to the printed one. */
  readExactly: number;
  latencyMs: { p50: number; p90: number };
  /**
   * RSS after the first tenth of the reads (workers warm) and after the last read, the reader still open (a
   * long-running reader is never closed; after close() the figure would depend on whether tesseract.js's
   * unawaited worker termination has finished); growth is the difference.
   */
  rssMb: { warm: number; end: number; growth: number; peak: number };
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;

/**
 * Reads synthetic documents (every format, turned, tilted, blurred, with glare and JPEG; src/documents/synthetic.ts)
 * one at a time with one Tesseract worker, recycled as in production, and watches the process's memory.
 */
export async function runDocumentBench(opts: { modelsDir: string; reads?: number }): Promise<DocumentBenchResult> {
  const portrait = await readFile(SAMPLE.portrait);
  const docs: { jpeg: Buffer; mrz: string }[] = [];
  for (let i = 0; i < 10; i++) {
    const rnd = random(9000 + i);
    const format = FORMATS[i % FORMATS.length]!;
    const { png, mrz } = await renderDocument(format, randomContent(rnd, format), portrait, rnd);
    // Phone-sized photos: the latency figure is for what a KYC capture sends.
    docs.push({ jpeg: await photograph(png, { ...randomPhotograph(rnd), size: 1200 + Math.round(rnd() * 800) }, rnd), mrz: mrz.join('^') });
  }
  const reader = await DocumentReader.create({ modelsDir: opts.modelsDir });
  const reads = opts.reads ?? 40;
  const times: number[] = [];
  let exact = 0;
  let warm = 0;
  let peak = process.memoryUsage().rss;
  let end = 0;
  try {
    for (let i = 0; i < reads; i++) {
      const doc = docs[i % docs.length]!;
      const start = performance.now();
      const r = await reader.read(doc.jpeg);
      times.push(performance.now() - start);
      if (r.status === 'read' && r.fields?.mrz === doc.mrz) exact++;
      const rss = process.memoryUsage().rss;
      peak = Math.max(peak, rss);
      if (i === Math.floor(reads / 10)) warm = rss;
      end = rss;
    }
  } finally {
    await reader.close();
  }
  return {
    documents: docs.length,
    reads,
    readExactly: exact,
    latencyMs: { p50: Math.round(percentile(times, 50)), p90: Math.round(percentile(times, 90)) },
    rssMb: { warm: mb(warm), end: mb(end), growth: mb(end - warm), peak: mb(peak) },
  };
}
