import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Sealer } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';

const KEY_PURPOSE = 'signing-key';
const COOKIE_KEYS = 'cookie-keys';
const ALG = 'RS256';

type Db = Pick<Prisma, 'signingKey'>;

async function newSigningKey(prisma: Db, sealer: Sealer) {
  const { privateKey } = await generateKeyPair(ALG, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = randomBytes(12).toString('base64url');
  const privateJwk = { ...jwk, kid, alg: ALG, use: 'sig' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
  await prisma.signingKey.create({
    data: { kid, alg: ALG, privateJwk: sealer.seal(Buffer.from(JSON.stringify(privateJwk)), `${KEY_PURPOSE}:${kid}`), publicJwk },
  });
  return kid;
}

/**
 * The JWKS the provider signs with: the newest key first (it signs), retired keys after it so tokens they signed
 * still verify until those tokens expire. Generates the first key when there is none.
 */
export async function loadSigningKeys(prisma: Prisma, sealer: Sealer, keepRetiredSeconds: number): Promise<JWK[]> {
  // Instances starting together must not each create a "first" key the others do not publish.
  await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(72707370)`;
    if ((await tx.signingKey.count({ where: { retiredAt: null } })) === 0) await newSigningKey(tx, sealer);
  });
  const cutoff = new Date(Date.now() - keepRetiredSeconds * 1000);
  const rows = await prisma.signingKey.findMany({
    where: { OR: [{ retiredAt: null }, { retiredAt: { gt: cutoff } }] },
    orderBy: { createdAt: 'desc' },
  });
  return rows.map((r) => JSON.parse(sealer.open(r.privateJwk, `${KEY_PURPOSE}:${r.kid}`).toString()) as JWK);
}

/** Adds a new signing key and retires the others (they stay published for `keepRetiredSeconds`). */
export async function rotateSigningKeys(prisma: Prisma, sealer: Sealer): Promise<{ kid: string; retired: string[] }> {
  const current = await prisma.signingKey.findMany({ where: { retiredAt: null }, select: { kid: true } });
  const kid = await newSigningKey(prisma, sealer);
  await prisma.signingKey.updateMany({ where: { kid: { in: current.map((c) => c.kid) } }, data: { retiredAt: new Date() } });
  return { kid, retired: current.map((c) => c.kid) };
}

export async function listSigningKeys(prisma: Prisma) {
  return prisma.signingKey.findMany({ select: { kid: true, alg: true, createdAt: true, retiredAt: true }, orderBy: { createdAt: 'desc' } });
}

/** Cookie signing keys, newest first; persisted so sessions survive restarts and are shared by every instance. */
export async function loadCookieKeys(prisma: Prisma, sealer: Sealer): Promise<string[]> {
  const fresh = randomBytes(32).toString('base64url');
  await prisma.secret.upsert({
    where: { name: COOKIE_KEYS },
    create: { name: COOKIE_KEYS, value: sealer.seal(Buffer.from(JSON.stringify([fresh])), COOKIE_KEYS) },
    update: {},
  });
  const row = await prisma.secret.findUniqueOrThrow({ where: { name: COOKIE_KEYS } });
  return JSON.parse(sealer.open(row.value, COOKIE_KEYS).toString()) as string[];
}
