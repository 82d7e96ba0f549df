import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Config } from '../config/index.js';
import type { Logger } from '../ops/logger.js';
import type { Sealer } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';

const KEY_PURPOSE = 'signing-key';
const COOKIE_KEYS = 'cookie-keys';
const ALG = 'RS256';
/** Rotations queue on the lock below, each generating an RSA key while holding it. */
const KEY_TRANSACTION_MS = 60_000;

type Tx = Pick<Prisma, 'signingKey' | '$executeRaw'>;

/** Serialises the first key of a fresh database and every rotation, across instances and CLI runs. */
async function lockKeys(tx: Tx) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(72707370)`;
}

export interface KeyTimes {
  /** How often every instance re-reads the keys. */
  refreshSeconds: number;
  /** How long a retired key stays published: the lifetime of what it signed, plus one re-read of a lagging instance. */
  keepRetiredSeconds: number;
}

export function signingKeyTimes(config: Config): KeyTimes {
  return { refreshSeconds: config.keyRefreshSeconds, keepRetiredSeconds: config.ttl.idToken + config.ttl.accessToken + 2 * config.keyRefreshSeconds };
}

/**
 * A new key signs only after every instance has re-read the keys at least once (two refresh intervals, so one late
 * re-read is covered): until then it is only published. A relying party that fetches the JWKS from any instance
 * therefore already finds the key of every token it can receive.
 */
export const propagationSeconds = (t: KeyTimes) => 2 * t.refreshSeconds;

export interface KeyRow {
  kid: string;
  createdAt: Date;
  retiredAt: Date | null;
}

export type KeyState = 'signing' | 'next' | 'retired' | 'expired';

/**
 * A signing key's life: published from its creation; signing once every older key has retired; published after it
 * retired until the tokens it signed have expired; then gone. `retiredAt` is when it stops (or stopped) signing.
 * Returns what every instance does with the keys at `now`: the one that signs first, then every other published one.
 */
export function keySchedule<T extends KeyRow>(rows: T[], now: Date, t: KeyTimes): { published: T[]; state: (row: T) => KeyState } {
  const notRetired = rows.filter((r) => r.retiredAt === null || r.retiredAt > now);
  // The signer is the key that retires first (a rotation's successor has no retirement yet).
  const signer = [...notRetired].sort((a, b) => (a.retiredAt?.getTime() ?? Infinity) - (b.retiredAt?.getTime() ?? Infinity) || b.createdAt.getTime() - a.createdAt.getTime())[0];
  const keepFrom = now.getTime() - t.keepRetiredSeconds * 1000;
  const state = (r: T): KeyState => {
    if (r === signer) return 'signing';
    if (notRetired.includes(r)) return 'next';
    return r.retiredAt!.getTime() > keepFrom ? 'retired' : 'expired';
  };
  const others = rows.filter((r) => r !== signer && state(r) !== 'expired').sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  return { published: signer ? [signer, ...others] : others, state };
}

async function generateSigningKey() {
  const { privateKey } = await generateKeyPair(ALG, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = randomBytes(12).toString('base64url');
  const privateJwk = { ...jwk, kid, alg: ALG, use: 'sig' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
  return { kid, privateJwk, publicJwk };
}

async function insertSigningKey(tx: Tx, sealer: Sealer, key: Awaited<ReturnType<typeof generateSigningKey>>) {
  await tx.signingKey.create({
    data: { kid: key.kid, alg: ALG, privateJwk: sealer.seal(Buffer.from(JSON.stringify(key.privateJwk)), `${KEY_PURPOSE}:${key.kid}`), publicJwk: key.publicJwk },
  });
}

export interface Rotation {
  kid: string;
  /** When the new key starts signing (every instance publishes it by then). */
  signsFrom: Date;
  /** Keys that stop signing at `signsFrom`. */
  retired: string[];
  /** Keys past their publication window, removed from the database. */
  deleted: string[];
}

/**
 * Adds a signing key that takes over after the propagation delay and retires the keys signing until then. Runs under
 * an advisory lock, so concurrent rotations (several operators, several CLI runs) leave exactly one key not retired.
 */
export async function rotateSigningKeys(prisma: Prisma, sealer: Sealer, t: KeyTimes, now = new Date()): Promise<Rotation> {
  const signsFrom = new Date(now.getTime() + propagationSeconds(t) * 1000);
  return prisma.$transaction(
    async (tx) => {
      await lockKeys(tx);
      const rows = await tx.signingKey.findMany({ select: { kid: true, createdAt: true, retiredAt: true } });
      const { state } = keySchedule(rows, now, t);
      const deleted = rows.filter((r) => state(r) === 'expired').map((r) => r.kid);
      // A key already due to retire before `signsFrom` (an earlier rotation still propagating) keeps its time.
      const retired = rows.filter((r) => r.retiredAt === null || r.retiredAt > signsFrom).map((r) => r.kid);
      await tx.signingKey.deleteMany({ where: { kid: { in: deleted } } });
      await tx.signingKey.updateMany({ where: { kid: { in: retired } }, data: { retiredAt: signsFrom } });
      const key = await generateSigningKey();
      await insertSigningKey(tx, sealer, key);
      return { kid: key.kid, signsFrom, retired, deleted };
    },
    { timeout: KEY_TRANSACTION_MS, maxWait: KEY_TRANSACTION_MS },
  );
}

export async function listSigningKeys(prisma: Prisma, t: KeyTimes, now = new Date()) {
  const rows = await prisma.signingKey.findMany({ select: { kid: true, alg: true, createdAt: true, retiredAt: true }, orderBy: { createdAt: 'desc' } });
  const { state } = keySchedule(rows, now, t);
  return rows.map((r) => ({ ...r, state: state(r) }));
}

export interface KeyWatch {
  /** Stops polling and waits for a re-read in progress, so the database is not closed under it. */
  stop(): Promise<void>;
}

/**
 * The signing keys of one instance. It polls the database, the source of truth that every mode has (embedded
 * PGlite included) and that a missed message cannot desynchronise; the same poll notices a retired key's window
 * ending, which no rotation event would announce. One small query per interval is its whole cost.
 */
export class SigningKeys {
  private applied = '';
  private readonly opened = new Map<string, JWK>();

  constructor(
    private readonly prisma: Prisma,
    private readonly sealer: Sealer,
    readonly times: KeyTimes,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** The JWKS now, signing key first; creates the first key of a fresh database. */
  async load(): Promise<JWK[]> {
    const { id, jwks } = await this.read();
    this.applied = id;
    return jwks;
  }

  /** Re-reads the keys and hands them to `apply` when what this instance signs with or publishes changed. */
  async refresh(apply: (jwks: JWK[]) => void): Promise<boolean> {
    const { id, jwks } = await this.read();
    if (id === this.applied) return false;
    apply(jwks);
    this.applied = id;
    return true;
  }

  /** Re-reads every `refreshSeconds`; the timer never keeps the process alive. */
  watch(apply: (jwks: JWK[]) => void, logger: Logger): KeyWatch {
    let running: Promise<void> | null = null;
    const tick = () => {
      running ??= this.refresh((jwks) => {
        apply(jwks);
        logger.info({ signing: jwks[0].kid, published: jwks.map((k) => k.kid) }, 'signing keys changed');
      })
        .then(() => undefined)
        .catch((err) => logger.error({ err }, 'could not refresh the signing keys; keeping the current ones'))
        .finally(() => {
          running = null;
        });
    };
    const timer = setInterval(tick, this.times.refreshSeconds * 1000);
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
        await running;
      },
    };
  }

  private async read(): Promise<{ id: string; jwks: JWK[] }> {
    let rows = await this.prisma.signingKey.findMany();
    if (!rows.some((r) => r.retiredAt === null)) {
      await this.ensureActiveKey();
      rows = await this.prisma.signingKey.findMany();
    }
    const { published } = keySchedule(rows, this.clock(), this.times);
    for (const kid of this.opened.keys()) if (!published.some((r) => r.kid === kid)) this.opened.delete(kid);
    return { id: published.map((r) => r.kid).join(' '), jwks: published.map((r) => this.open(r)) };
  }

  private open(row: { kid: string; privateJwk: Uint8Array }): JWK {
    let jwk = this.opened.get(row.kid);
    if (!jwk) {
      jwk = JSON.parse(this.sealer.open(row.privateJwk, `${KEY_PURPOSE}:${row.kid}`).toString()) as JWK;
      this.opened.set(row.kid, jwk);
    }
    return jwk;
  }

  /** Instances starting together must not each create a "first" key the others do not publish. */
  private async ensureActiveKey() {
    await this.prisma.$transaction(
      async (tx) => {
        await lockKeys(tx);
        if ((await tx.signingKey.count({ where: { retiredAt: null } })) === 0) await insertSigningKey(tx, this.sealer, await generateSigningKey());
      },
      { timeout: KEY_TRANSACTION_MS, maxWait: KEY_TRANSACTION_MS },
    );
  }
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
