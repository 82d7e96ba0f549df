// Templates enrolled before mirror averaging (a single embedding, stored under the bare model id) stay in the
// embedding space of the running model: they are counted, loaded and matched like new ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { resolveQuality } from '../../src/face/config.js';
import { embedFace } from '../../src/face/embed.js';
import { createFaceEngine, verifyModels, type FaceEngine } from '../../src/face/index.js';
import { loadSessions } from '../../src/face/models.js';
import { prepare } from '../../src/face/pipeline.js';
import { openServices, type Services } from '../../src/server/services.js';
import { FaceVerification } from '../../src/verification/index.js';
import { fixture, MODELS_DIR } from '../face/helpers.js';
import { createTestDatabase, hasPostgres, requireService, TEST_SECRET_KEY } from '../helpers/env.js';

describe.runIf(requireService('PostgreSQL', hasPostgres))('templates enrolled before mirror averaging', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let s: Services;
  let engine: FaceEngine;
  let verification: FaceVerification;

  beforeAll(async () => {
    db = await createTestDatabase();
    s = await openServices(loadConfig({ ...process.env, DATABASE_URL: db.url, REDIS_URL: '', SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'silent' }), 'old templates test');
    engine = await createFaceEngine({ modelsDir: MODELS_DIR, poolSize: 1 });
    verification = new FaceVerification({ engine, templates: s.templates, users: s.users, settings: s.settings, kv: s.kv, deviceKey: s.deviceKey });
  });

  afterAll(async () => {
    await engine?.close();
    await s?.close();
    await db?.drop();
  });

  /** The template the engine stored before this change: fr_feature on the aligned face alone, L2-normalised. */
  async function singleEmbedding(name: string): Promise<Float32Array> {
    const sessions = await loadSessions((await verifyModels(MODELS_DIR)).files);
    try {
      const cfg = { limits: { maxBytes: 15e6, maxPixels: 40e6 }, quality: resolveQuality(undefined), modelId: engine.modelId };
      const r = await prepare(sessions, new Uint8Array(fixture(name)), 'enroll', cfg);
      if (!('prepared' in r)) throw new Error(`no face in ${name}`);
      return await embedFace(sessions.feature, r.prepared.inputs.feature!);
    } finally {
      await Promise.all(Object.values(sessions).map((x) => x.release()));
    }
  }

  it('still matches its owner, and only its owner, next to new templates', async () => {
    const owner = await s.db.prisma.user.create({ data: { email: 'old@example.com', name: 'Old Template' } });
    const old = await singleEmbedding('deepface-img1.jpg');
    // The id stored before the change: the bare model id, no recipe.
    expect(engine.recipeId).toBe(`${engine.modelId}+flip`);
    await s.templates.add(owner.id, { embedding: old, modelId: engine.modelId, quality: 1, source: 'upload' });
    // A template of another model is not comparable and stays out.
    await s.templates.add(owner.id, { embedding: old, modelId: 'other_model@000000000000', quality: 1, source: 'upload' });

    expect(await verification.hasFace(owner.id)).toBe(true);
    const enrolled = await verification.enrolledTemplates(owner.id);
    expect(enrolled).toHaveLength(1);
    expect(Array.from(enrolled[0])).toEqual(Array.from(old));

    const [selfie, stranger] = await Promise.all(['deepface-img2.jpg', 'deepface-img17.jpg'].map((f) => engine.analyze(fixture(f), 'verify')));
    // A probe is embedded once, as before mirror averaging: the old template and the selfie are alike.
    expect(selfie.modelId).toBe(engine.modelId);
    expect(verification.compare(selfie.embedding!, enrolled)).toMatchObject({ index: 0, match: true });
    expect(verification.compare(stranger.embedding!, enrolled)).toMatchObject({ match: false });

    // The console counts it as current; removing outdated templates removes the other model's only.
    expect((await s.templates.countsByUser([owner.id], engine.modelId)).get(owner.id)).toEqual({ current: 1, outdated: 1 });
    expect(await s.templates.removeOutdated(owner.id, engine.modelId)).toBe(1);

    // A new enrolment stores the averaged embedding under the recipe id; both templates are used.
    const fresh = await engine.analyze(fixture('deepface-img2.jpg'), 'enroll');
    await s.templates.add(owner.id, { embedding: fresh.embedding!, modelId: fresh.modelId, quality: 1, source: 'upload' });
    expect((await s.templates.summary(owner.id)).map((t) => t.modelId)).toEqual([engine.modelId, engine.recipeId]);
    expect(await verification.enrolledTemplates(owner.id)).toHaveLength(2);
    // The selfie is closest to the averaged template of its own photo.
    expect(verification.compare(selfie.embedding!, await verification.enrolledTemplates(owner.id))).toMatchObject({ index: 1, match: true });
  });
});
