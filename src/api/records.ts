import { z } from 'zod';
import type { Sealer } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';
import type { Prisma as P } from '../store/generated/client.js';
import { imagePurpose, type CroppedFace } from './images.js';
import type { MatchRecordBody } from './types.js';

/** Stores the response record (no images, no embeddings) and, when kept, the sealed face crops, in one write. */
export async function saveMatchRecord(prisma: Prisma, clientId: string, record: MatchRecordBody, crops: CroppedFace[]): Promise<void> {
  const at = new Date(record.createdAt);
  await prisma.matchRecord.create({
    data: {
      requestId: record.requestId,
      clientId,
      recordIdentifier: record.record_identifier,
      decision: record.decision,
      result: record as unknown as P.InputJsonValue,
      createdAt: at,
      updatedAt: at,
      images: { create: crops.map((c) => ({ key: c.ref.key, kind: c.kind, side: c.ref.side, data: c.data, createdAt: at })) },
    },
  });
}

const isUuid = (s: string) => z.uuid().safeParse(s).success;

/** A record is visible only to the client that created it; another client's id reads as unknown. */
export async function findMatchRecord(prisma: Prisma, clientId: string, requestId: string): Promise<MatchRecordBody | null> {
  if (!isUuid(requestId)) return null;
  const row = await prisma.matchRecord.findFirst({ where: { requestId, clientId }, select: { result: true } });
  return row ? (row.result as unknown as MatchRecordBody) : null;
}

/** The decrypted JPEG of a face crop kept with one of the client's match records. */
export async function openMatchImage(prisma: Prisma, sealer: Sealer, clientId: string, key: string): Promise<Buffer | null> {
  if (!isUuid(key)) return null;
  const row = await prisma.storedImage.findFirst({ where: { key, matchRecord: { clientId } }, select: { data: true } });
  return row ? sealer.open(row.data, imagePurpose(key)) : null;
}

/** Deletes match records created before `cutoff`; their stored images go with them (cascade). */
export async function purgeExpiredMatchRecords(prisma: Prisma, cutoff: Date): Promise<number> {
  const { count } = await prisma.matchRecord.deleteMany({ where: { createdAt: { lt: cutoff } } });
  return count;
}
