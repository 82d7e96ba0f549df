import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MODELS_DIR = path.join(REPO, 'models');
export const FIXTURES = path.join(REPO, 'test/fixtures/faces');

export function fixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

/**
 * shared/faces lies beside the repository (here and in CI). A clone made elsewhere from a local checkout
 * (`git clone . /tmp/x`) finds it beside the checkout it came from.
 */
function sharedCandidates(): string[] {
  const beside = (dir: string) => path.resolve(dir, '../shared/faces');
  let origin = '';
  try {
    origin = execFileSync('git', ['-C', REPO, 'config', '--get', 'remote.origin.url'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a clone (or no git): only the repository's own neighbourhood counts.
  }
  return [beside(REPO), ...(path.isAbsolute(origin) ? [beside(origin)] : [])];
}
const candidates = sharedCandidates();
const shared = candidates[0]!;
export const SHARED_FACES: string | undefined = candidates.find((dir) => existsSync(path.join(dir, 'deepface')));

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
