import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MODELS_DIR = path.join(REPO, 'models');
export const FIXTURES = path.join(REPO, 'test/fixtures/faces');

export function fixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

/** shared/faces lies beside the repository (here and in CI). */
const shared = path.resolve(REPO, '../shared/faces');
export const SHARED_FACES: string | undefined = existsSync(path.join(shared, 'deepface')) ? shared : undefined;

/**
 * Tests over shared/faces are skipped with a visible notice on a machine without it; under CI=true its absence
 * fails the run (a suite that silently skips its accuracy checks would hide a regression).
 */
export function requireSharedFaces(): boolean {
  if (SHARED_FACES) return true;
  if (process.env.CI === 'true') throw new Error(`${shared} is required under CI=true but is missing`);
  console.warn(`\n⚠ ${shared} is missing: the face tests that read it are skipped.\n`);
  return false;
}

/** A shared photo by its path under shared/faces, e.g. `deepface/couple.jpg`. */
export function sharedFace(name: string): Buffer {
  return readFileSync(path.join(SHARED_FACES!, name));
}
