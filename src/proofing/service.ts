import { createHmac } from 'node:crypto';
import type { AuditInput } from '../audit/index.js';
import type { Sealer } from '../store/crypto.js';
import { PROOFING_CONSENT_TEXT, PROOFING_CONSENT_VERSION } from './consent-text.js';
import type { ProofingRow, ProofingStore } from './store.js';
import { type CheckMethod, type DocumentType, type IdentityClaims, TRUST_FRAMEWORK, type VerifiedData } from './verified-claims.js';

/** One check of a proofing and how it went (stored with the record, shown in the console and the data download). */
export interface ProofingCheck {
  check: 'mrz_check_digits' | 'document_not_expired' | 'liveness_challenge' | 'live_face_vs_portrait' | 'live_face_vs_enrolled' | 'portrait_vs_enrolled';
  method: CheckMethod;
  outcome: 'passed';
  at: string;
}

/** What a passed proofing established, ready to be recorded. */
export interface ProofingEvidence {
  document: { type: DocumentType; issuer: string; expiry: string; number: string };
  claims: IdentityClaims;
  checks: ProofingCheck[];
}

export type ProofingState = 'none' | 'valid' | 'expired' | 'revoked';

/** A record as the console and the account page show it: no identity data, no document number. */
export interface ProofingSummary {
  state: ProofingState;
  documentType: string;
  issuingCountry: string;
  documentExpiry: string;
  verifiedAt: Date;
  validUntil: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
  checks: ProofingCheck[];
  /** The number is kept, sealed (the administrator's setting when it was recorded); otherwise only its keyed hash. */
  documentNumberKept: boolean;
}

export class ProofingError extends Error {
  constructor(
    readonly code: 'CONSENT_REQUIRED' | 'DOCUMENT_IN_USE',
    message: string,
  ) {
    super(message);
  }
}

type Context = Pick<AuditInput, 'requestId' | 'ip' | 'userAgent'>;

export interface IdentityProofingDeps {
  store: ProofingStore;
  sealer: Sealer;
  /** Keys the document-number hash (derived from SECRET_KEY): without it the hash cannot be tested against guesses. */
  documentKey: Buffer;
  settings: { get(): Promise<{ proofingValidityDays: number; proofingKeepDocumentNumber: boolean }> };
  audit: { record(event: AuditInput): Promise<void> };
}

const SEAL_PURPOSE = 'proofing-claims';
const NUMBER_PURPOSE = 'proofing-document-number';
const DAY_MS = 86_400_000;

const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Identity proofing's rules: the consent it needs, recording a passed proofing (one per account, sealed identity
 * data, a keyed hash of the document number), how long it is valid, revocation, and withdrawal, which erases it.
 */
export class IdentityProofing {
  readonly consentText = PROOFING_CONSENT_TEXT;
  readonly consentVersion = PROOFING_CONSENT_VERSION;

  constructor(private readonly deps: IdentityProofingDeps) {}

  private audit(event: Omit<AuditInput, 'outcome'> & { outcome?: AuditInput['outcome'] }, context: Context = {}) {
    return this.deps.audit.record({ outcome: 'success', ...context, ...event });
  }

  documentHash(issuer: string, type: string, number: string): string {
    return createHmac('sha256', this.deps.documentKey).update(`${issuer}\u0000${type}\u0000${number.toUpperCase()}`).digest('hex');
  }

  async consent(userId: string): Promise<{ textVersion: string; givenAt: Date } | null> {
    return this.deps.store.consentInForce(this.deps.store.prisma, userId);
  }

  /** Records agreement to the current notice unless one is in force; true when this call recorded it. */
  async giveConsent(userId: string, context?: Context): Promise<boolean> {
    if (await this.consent(userId)) return false;
    await this.deps.store.createConsent(userId, this.consentVersion);
    await this.audit({ type: 'proofing.consent', userId, actorId: userId, details: { textVersion: this.consentVersion } }, context);
    return true;
  }

  /** Ends the consent and erases the record and every app's release of verified claims at once. */
  async withdrawConsent(userId: string, context?: Context): Promise<{ records: number; apps: number }> {
    const erased = await this.deps.store.withdraw(userId);
    await this.audit({ type: 'proofing.withdraw', userId, actorId: userId, details: erased }, context);
    return { records: erased.records, apps: erased.apps };
  }

  /**
   * Records a passed proofing, replacing the account's last one. Only while the proofing consent is in force (checked
   * under the account's lock, so a withdrawal in between wins), and refused when another account holds a proofing
   * of the same document.
   */
  async record(userId: string, evidence: ProofingEvidence, context?: Context): Promise<ProofingSummary> {
    const { proofingValidityDays, proofingKeepDocumentNumber } = await this.deps.settings.get();
    const { document } = evidence;
    const hash = this.documentHash(document.issuer, document.type, document.number);
    const now = Date.now();
    // A document is valid through its expiry date.
    const documentEnd = Date.parse(`${document.expiry}T00:00:00Z`) + DAY_MS;
    const validUntil = new Date(Math.min(now + proofingValidityDays * DAY_MS, documentEnd));
    const row = await this.deps.store.prisma.$transaction(async (tx) => {
      await this.deps.store.lockAccount(tx, userId);
      if (!(await this.deps.store.consentInForce(tx, userId))) throw new ProofingError('CONSENT_REQUIRED', 'Agree to the identity-check notice first.');
      if (await this.deps.store.otherHolder(tx, hash, userId)) {
        throw new ProofingError('DOCUMENT_IN_USE', 'This document already confirms another account. Contact your administrator.');
      }
      return this.deps.store.replace(tx, {
        userId,
        documentType: document.type,
        issuingCountry: document.issuer,
        documentExpiry: new Date(`${document.expiry}T00:00:00Z`),
        documentNumberHash: hash,
        documentNumber: proofingKeepDocumentNumber ? this.deps.sealer.seal(Buffer.from(document.number), NUMBER_PURPOSE) : null,
        claims: this.deps.sealer.seal(Buffer.from(JSON.stringify(evidence.claims)), SEAL_PURPOSE),
        checks: evidence.checks as never,
        validUntil,
      });
    });
    await this.audit(
      { type: 'proofing.record', userId, actorId: userId, details: { documentType: document.type, issuingCountry: document.issuer, validUntil: validUntil.toISOString(), checks: evidence.checks.map((c) => c.check) } },
      context,
    );
    return this.summarize(row, now);
  }

  /** Ends a proofing (an administrator's decision); the record's summary stays for the console. */
  async revoke(userId: string, adminId: string, reason: string, context?: Context): Promise<boolean> {
    const revoked = await this.deps.store.revoke(userId, adminId, reason);
    if (revoked) await this.audit({ type: 'proofing.revoke', userId, actorId: adminId, details: { reason } }, context);
    return revoked;
  }

  private summarize(row: ProofingRow, now: number): ProofingSummary {
    const state: ProofingState = row.revokedAt ? 'revoked' : row.validUntil.getTime() <= now ? 'expired' : 'valid';
    return {
      state,
      documentType: row.documentType,
      issuingCountry: row.issuingCountry,
      documentExpiry: isoDate(row.documentExpiry),
      verifiedAt: row.verifiedAt,
      validUntil: row.validUntil,
      revokedAt: row.revokedAt,
      revokeReason: row.revokeReason,
      checks: row.checks as unknown as ProofingCheck[],
      documentNumberKept: row.documentNumber !== null,
    };
  }

  private documentNumber(row: ProofingRow): string | null {
    return row.documentNumber ? this.deps.sealer.open(row.documentNumber, NUMBER_PURPOSE).toString('utf8') : null;
  }

  async status(userId: string, now = Date.now()): Promise<ProofingSummary | null> {
    const row = await this.deps.store.record(userId);
    return row ? this.summarize(row, now) : null;
  }

  /** Summaries of several accounts (the console's list), keyed by account id. */
  async statuses(userIds: string[], now = Date.now()): Promise<Map<string, ProofingSummary>> {
    const rows = await this.deps.store.records(userIds);
    return new Map(rows.map((r) => [r.userId, this.summarize(r, now)]));
  }

  async isValid(userId: string, now = Date.now()): Promise<boolean> {
    return (await this.status(userId, now))?.state === 'valid';
  }

  /** What a valid proofing established, in the spec's shape; null when the account holds none in force. */
  async verified(userId: string, now = Date.now()): Promise<VerifiedData | null> {
    const row = await this.deps.store.record(userId);
    if (!row || this.summarize(row, now).state !== 'valid') return null;
    const claims = JSON.parse(this.deps.sealer.open(row.claims, SEAL_PURPOSE).toString('utf8')) as IdentityClaims;
    const checks = row.checks as unknown as ProofingCheck[];
    const methods = [...new Set(checks.map((c) => c.method))];
    const time = row.verifiedAt.toISOString();
    const number = this.documentNumber(row);
    return {
      verification: {
        trust_framework: TRUST_FRAMEWORK,
        time,
        evidence: [
          {
            type: 'document',
            check_details: methods.map((m) => ({ check_method: m, time })),
            document_details: {
              type: row.documentType as DocumentType,
              ...(number ? { document_number: number } : {}),
              issuer: { country_code: row.issuingCountry },
              date_of_expiry: isoDate(row.documentExpiry),
            },
          },
        ],
      },
      claims,
    };
  }

  /** Everything held about the account's proofing, for its data download (the identity data opened; no hash). */
  async export(userId: string) {
    const [row, consents] = await Promise.all([this.deps.store.record(userId), this.deps.store.consents(userId)]);
    return {
      consents: consents.map((c) => ({ textVersion: c.textVersion, givenAt: c.givenAt, withdrawnAt: c.withdrawnAt })),
      record: row && {
        ...this.summarize(row, Date.now()),
        claims: JSON.parse(this.deps.sealer.open(row.claims, SEAL_PURPOSE).toString('utf8')) as IdentityClaims,
        documentNumber: this.documentNumber(row) ?? 'not kept (only a keyed hash, to notice the same document on two accounts)',
      },
    };
  }
}
