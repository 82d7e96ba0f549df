// Builds the challenge-liveness evaluation set into a folder for manual runs:
//   npx tsx test/helpers/build-liveness-set.ts OUTDIR
//   face-oidc liveness-eval --sequences OUTDIR/sequences.tsv
import path from 'node:path';
import { createFaceEngine } from '../../src/face/index.js';
import { MODELS_DIR, REPO, SHARED_FACES } from '../face/helpers.js';
import { buildLivenessSet } from './liveness-set/index.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: npx tsx test/helpers/build-liveness-set.ts OUTDIR');
  process.exit(2);
}
if (!SHARED_FACES) {
  console.error('shared/faces is missing beside the repository');
  process.exit(1);
}
const started = performance.now();
const engine = await createFaceEngine({ modelsDir: MODELS_DIR, poolSize: 1 });
try {
  const { file, entries } = await buildLivenessSet(SHARED_FACES, path.resolve(out), engine, REPO);
  const counts: Record<string, number> = {};
  for (const e of entries) counts[e.label] = (counts[e.label] ?? 0) + 1;
  console.log(`${entries.length} sequences in ${((performance.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}\n${file}`);
} finally {
  await engine.close();
}
