import { embeddingFromBytes, embeddingToBytes, sameEmbeddingSpace } from '../face/index.js';
import type { Sealer } from '../store/crypto.js';
import type { Prisma, Tx } from '../store/database.js';

const PURPOSE = 'face-template';

export interface NewTemplate {
  embedding: Float32Array;
  modelId: string;
  quality: number;
  source: string;
}

const SUMMARY = { id: true, modelId: true, quality: true, source: true, createdAt: true } as const;

export interface StoredTemplate {
  id: string;
  embedding: Float32Array;
  modelId: string;
  quality: number;
  source: string;
  createdAt: Date;
}

/** Face templates are sealed at rest (GDPR Art. 9): the database alone never reveals an embedding. */
export class TemplateStore {
  constructor(
    private readonly prisma: Prisma,
    private readonly sealer: Sealer,
  ) {}

  /** Stores one more template; `db` is the transaction of the write's consent check (BiometricConsent.whileInForce). */
  async add(userId: string, t: NewTemplate, db: Tx | Prisma = this.prisma) {
    return db.faceTemplate.create({ data: this.row(userId, t), select: SUMMARY });
  }

  /** Replaces every template of the account with one new template, in `db`'s transaction; returns it and how many went. */
  async replace(userId: string, t: NewTemplate, db: Tx) {
    const removed = await db.faceTemplate.deleteMany({ where: { userId } });
    const template = await db.faceTemplate.create({ data: this.row(userId, t), select: SUMMARY });
    return { template, removed: removed.count };
  }

  private row(userId: string, t: NewTemplate) {
    return { userId, embedding: this.sealer.seal(embeddingToBytes(t.embedding), `${PURPOSE}:${userId}`), modelId: t.modelId, quality: t.quality, source: t.source };
  }

  /**
   * Templates usable with `modelId`: those whose stored model/recipe id names that model, whatever the recipe
   * (`fr_feature@…` before mirror averaging, `fr_feature@…+flip` after); templates of another model need
   * re-enrollment and are left out. An account holds a handful of templates, so the model is matched here.
   */
  async forUser(userId: string, modelId: string): Promise<StoredTemplate[]> {
    const rows = (await this.prisma.faceTemplate.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } })).filter((r) => sameEmbeddingSpace(r.modelId, modelId));
    return rows.map((r) => ({
      id: r.id,
      embedding: embeddingFromBytes(this.sealer.open(r.embedding, `${PURPOSE}:${userId}`)),
      modelId: r.modelId,
      quality: r.quality,
      source: r.source,
      createdAt: r.createdAt,
    }));
  }

  summary(userId: string) {
    return this.prisma.faceTemplate.findMany({
      where: { userId },
      select: { id: true, modelId: true, quality: true, source: true, createdAt: true },
      orderBy: { createdAt: 'asc' },
    });
  }

  async count(userId: string, modelId: string): Promise<number> {
    const rows = await this.prisma.faceTemplate.findMany({ where: { userId }, select: { modelId: true } });
    return rows.filter((r) => sameEmbeddingSpace(r.modelId, modelId)).length;
  }

  async remove(userId: string, templateId: string): Promise<boolean> {
    const { count } = await this.prisma.faceTemplate.deleteMany({ where: { id: templateId, userId } });
    return count > 0;
  }

  /** After a face model change: templates of another model no longer match anything. */
  async removeOutdated(userId: string, modelId: string): Promise<number> {
    const rows = await this.prisma.faceTemplate.findMany({ where: { userId }, select: { id: true, modelId: true } });
    const outdated = rows.filter((r) => !sameEmbeddingSpace(r.modelId, modelId)).map((r) => r.id);
    if (outdated.length === 0) return 0;
    const { count } = await this.prisma.faceTemplate.deleteMany({ where: { userId, id: { in: outdated } } });
    return count;
  }

  /** Templates per account, split into those of `modelId` and outdated ones (another model). */
  async countsByUser(userIds: string[], modelId: string): Promise<Map<string, { current: number; outdated: number }>> {
    const groups = await this.prisma.faceTemplate.groupBy({ by: ['userId', 'modelId'], where: { userId: { in: userIds } }, _count: { _all: true } });
    const counts = new Map(userIds.map((id) => [id, { current: 0, outdated: 0 }]));
    for (const g of groups) {
      const c = counts.get(g.userId)!;
      if (sameEmbeddingSpace(g.modelId, modelId)) c.current += g._count._all;
      else c.outdated += g._count._all;
    }
    return counts;
  }
}
