import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFaceEngine, FaceError, verifyModels } from '../../src/face/index.js';
import { MODEL_ROLES } from '../../src/face/manifest.js';
import { MODELS_DIR } from './helpers.js';

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A copy of models/ (ONNX files hard to tamper with in place) to alter. */
async function modelsCopy(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'face-models-'));
  temps.push(dir);
  const manifest = JSON.parse(await readFile(path.join(MODELS_DIR, 'manifest.json'), 'utf8')) as { models: Record<string, { file: string }> };
  await copyFile(path.join(MODELS_DIR, 'manifest.json'), path.join(dir, 'manifest.json'));
  for (const m of Object.values(manifest.models)) await copyFile(path.join(MODELS_DIR, m.file), path.join(dir, m.file));
  return dir;
}

describe('model manifest', () => {
  it('verifies every model and names the embedding model', async () => {
    const info = await verifyModels(MODELS_DIR);
    expect(info.modelId).toMatch(/^fr_feature@[0-9a-f]{12}$/);
    expect(Object.keys(info.files).sort()).toEqual([...MODEL_ROLES].sort());
    expect(info.manifest.source).toMatchObject({ registry: 'npm', package: 'faceplugin-face-recognition-js', version: '0.0.1', licence: 'MIT' });
    for (const m of Object.values(info.manifest.models)) {
      expect(m.inputs.length).toBeGreaterThan(0);
      expect(m.outputs.length).toBeGreaterThan(0);
    }
  });

  it('stops on an altered model, naming the file', async () => {
    const dir = await modelsCopy();
    const file = path.join(dir, 'fr_liveness.onnx');
    const bytes = await readFile(file);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(file, bytes);
    const err = await verifyModels(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaceError);
    expect(err).toMatchObject({ code: 'MODEL_INVALID', status: 500, message: expect.stringContaining('fr_liveness.onnx') });
    await expect(createFaceEngine({ modelsDir: dir, poolSize: 1 })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
  });

  it('stops on a missing model or manifest', async () => {
    const dir = await modelsCopy();
    await rm(path.join(dir, 'fr_eye.onnx'));
    await expect(verifyModels(dir)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('fr_eye.onnx') });
    await rm(path.join(dir, 'manifest.json'));
    await expect(verifyModels(dir)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('manifest.json') });
  });
});
