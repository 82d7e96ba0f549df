import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SHARED_FACES } from '../face/helpers.js';

/**
 * The synthetic documents print their MRZ in OCR-B (Debian's fonts-ocr-b, installed by .ci/run). Without the font
 * librsvg falls back to another typeface and the tests that render documents are skipped with a visible notice;
 * under CI=true its absence fails the run.
 */
export function requireOcrFont(): boolean {
  let found = '';
  try {
    found = execFileSync('fc-list', [':family=OCR B'], { encoding: 'utf8' }).trim();
  } catch {
    // fontconfig missing: same as no font.
  }
  if (found) return true;
  if (process.env.CI === 'true') throw new Error('the OCR-B font (Debian package fonts-ocr-b) is required under CI=true but is missing');
  console.warn('\n⚠ The OCR-B font (fonts-ocr-b) is missing: the tests that render synthetic documents are skipped.\n');
  return false;
}

/** The MRZ line crops beside shared/faces (shared/mrz/lines), for the recogniser's line accuracy. */
export const SHARED_MRZ_LINES: string | undefined = SHARED_FACES ? path.resolve(SHARED_FACES, '../mrz/lines') : undefined;

export function requireMrzLines(): boolean {
  if (SHARED_MRZ_LINES && existsSync(SHARED_MRZ_LINES)) return true;
  if (process.env.CI === 'true') throw new Error('shared/mrz/lines is required under CI=true but is missing');
  console.warn('\n⚠ shared/mrz/lines is missing: the MRZ line-crop test is skipped.\n');
  return false;
}
