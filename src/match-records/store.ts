import { z } from 'zod';
import type { MatchRecordBody } from '../api/types.js';
import type { Sealer } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';
import type { Prisma as P } from '../store/generated/client.js';

/** A face crop to keep with a record: its reference as the API shows it and the plain JPEG (sealed here). */
export interface FaceCrop {
  ref: { documentName: string; side: string | null; key: string };
  kind: string;
  jpeg: Buffer;
}

/** Associated data binds a sealed crop to its key: a row's bytes cannot be served under another key. */
const imagePurpose = (key: string) => `match-image:${key}`;
const isUuid = (s: string) => z.uuid().safeParse(s).success;

/**
 * Face Match API records: the response as sent (no images, no embeddings), each visible only to the client that
 * created it, and the sealed face crops kept with it when the operator keeps images.
 */
export class MatchRecords {
  constructor(
    private readonly prisma: Prisma,
    private readonly sealer: Sealer,
  ) {}

  /**
   * Stores the record and its crops in one write. `subjectUserId`: the enrolled account the request named, even where
   * the answer withholds it, so that the person's withdrawal or deletion erases the record (BiometricConsent.withdraw).
   */
  async save(clientId: string, record: MatchRecordBody, crops: FaceCrop[], subjectUserId: string | null = null): Promise<void> {
    const at = new Date(record.createdAt);
    await this.prisma.matchRecord.create({
      data: {
        requestId: record.requestId,
        clientId,
        recordIdentifier: record.record_identifier,
        subjectUserId,
        decision: record.decision,
        result: record as unknown as P.InputJsonValue,
        createdAt: at,
        updatedAt: at,
        images: { create: crops.map((c) => ({ key: c.ref.key, kind: c.kind, side: c.ref.side, data: this.sealer.seal(c.jpeg, imagePurpose(c.ref.key)), createdAt: at })) },
      },
    });
  }

  /** Another client's id reads as unknown. */
  async find(clientId: string, requestId: string): Promise<MatchRecordBody | null> {
    if (!isUuid(requestId)) return null;
    const row = await this.prisma.matchRecord.findFirst({ where: { requestId, clientId }, select: { result: true } });
    return row ? (row.result as unknown as MatchRecordBody) : null;
  }

  /** The decrypted JPEG of a face crop kept with one of the client's records. */
  async openImage(clientId: string, key: string): Promise<Buffer | null> {
    if (!isUuid(key)) return null;
    const row = await this.prisma.storedImage.findFirst({ where: { key, matchRecord: { clientId } }, select: { data: true } });
    return row ? this.sealer.open(row.data, imagePurpose(key)) : null;
  }

  /** Deletes records created before `cutoff`; their stored images go with them (cascade). */
  async purgeBefore(cutoff: Date): Promise<number> {
    const { count } = await this.prisma.matchRecord.deleteMany({ where: { createdAt: { lt: cutoff } } });
    return count;
  }
}
