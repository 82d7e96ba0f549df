import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FaceError } from './errors.js';

/** Model roles the engine loads; each must appear in models/manifest.json. */
export const MODEL_ROLES = ['detect', 'landmark', 'feature', 'liveness', 'eye', 'pose'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

const tensorSpec = z.object({ name: z.string(), shape: z.array(z.number().int()), description: z.string() });

const manifestSchema = z.object({
  source: z.object({ registry: z.string(), package: z.string(), version: z.string(), licence: z.string(), licenceFile: z.string(), note: z.string().optional() }),
  models: z.record(
    z.string(),
    z.object({
      file: z.string().regex(/^[\w.-]+\.onnx$/),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      purpose: z.string(),
      inputs: z.array(tensorSpec),
      outputs: z.array(tensorSpec),
    }),
  ),
});

export type Manifest = z.infer<typeof manifestSchema>;

export interface ManifestInfo {
  dir: string;
  manifest: Manifest;
  /** Absolute path of each role's verified ONNX file. */
  files: Record<ModelRole, string>;
  /** Embedding model identity stored with templates: 'fr_feature@<first 12 hex of its SHA-256>'. */
  modelId: string;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads manifest.json and checks every model file's SHA-256; throws FaceError MODEL_INVALID naming the culprit. */
export async function verifyModels(modelsDir: string): Promise<ManifestInfo> {
  const dir = path.resolve(modelsDir);
  const manifestPath = path.join(dir, 'manifest.json');
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(await readFile(manifestPath, 'utf8')));
  } catch (err) {
    throw new FaceError('MODEL_INVALID', `Model manifest ${manifestPath} is missing or invalid: ${(err as Error).message}`, { cause: err });
  }
  const files = {} as Record<ModelRole, string>;
  for (const role of MODEL_ROLES) {
    const entry = manifest.models[role];
    if (!entry) throw new FaceError('MODEL_INVALID', `Model manifest ${manifestPath} has no entry for '${role}'`);
    const file = path.join(dir, entry.file);
    let actual: string;
    try {
      actual = await sha256File(file);
    } catch (err) {
      throw new FaceError('MODEL_INVALID', `Model file ${file} is missing or unreadable (${(err as Error).message})`, { cause: err });
    }
    if (actual !== entry.sha256) {
      throw new FaceError('MODEL_INVALID', `Model file ${file} has SHA-256 ${actual}, manifest expects ${entry.sha256}: the file was altered or replaced`);
    }
    files[role] = file;
  }
  const feature = manifest.models.feature;
  return { dir, manifest, files, modelId: `${path.basename(feature.file, '.onnx')}@${feature.sha256.slice(0, 12)}` };
}
