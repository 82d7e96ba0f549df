import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MODELS_DIR = path.join(REPO, 'models');
export const FIXTURES = path.join(REPO, 'test/fixtures/faces');

export function fixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

/** shared/faces lies beside the repository (here and in CI); tests that need it skip when it is absent. */
const shared = path.resolve(REPO, '../shared/faces');
export const SHARED_FACES: string | undefined = existsSync(path.join(shared, 'deepface')) ? shared : undefined;
