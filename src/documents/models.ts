import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DocumentError } from './errors.js';

const ocrSection = z.object({ ocr: z.object({ mrz: z.object({ file: z.literal('mrz.traineddata'), sha256: z.string().regex(/^[0-9a-f]{64}$/) }) }) });

/** Checks models/manifest.json's `ocr.mrz` entry against the file before any worker loads it. */
export async function verifyMrzModel(modelsDir: string): Promise<void> {
  const manifestPath = path.join(modelsDir, 'manifest.json');
  let entry: { file: string; sha256: string };
  try {
    entry = ocrSection.parse(JSON.parse(await readFile(manifestPath, 'utf8'))).ocr.mrz;
  } catch (err) {
    throw new DocumentError('MODEL_INVALID', `Model manifest ${manifestPath} has no valid ocr.mrz entry: ${(err as Error).message}`, { cause: err });
  }
  const file = path.join(modelsDir, entry.file);
  let actual: string;
  try {
    actual = createHash('sha256').update(await readFile(file)).digest('hex');
  } catch (err) {
    throw new DocumentError('MODEL_INVALID', `Model file ${file} is missing or unreadable (${(err as Error).message})`, { cause: err });
  }
  if (actual !== entry.sha256) throw new DocumentError('MODEL_INVALID', `Model file ${file} has SHA-256 ${actual}, manifest expects ${entry.sha256}`);
}
