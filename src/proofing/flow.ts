import { DocumentError, type DocumentFields, type DocumentReader, type DocumentReading, type ReadStatus } from '../documents/index.js';
import { cosine, type FaceEngine } from '../face/index.js';
import type { Sealer } from '../store/crypto.js';
import type { KeyValueStore } from '../store/kv.js';
import type { IdentityProofing, ProofingCheck, ProofingSummary } from './service.js';
import type { DocumentType, IdentityClaims } from './verified-claims.js';

/** Why a proofing step was refused; each tells the person what to do, never a score. */
export type ProofingRefusalCode =
  | 'DOCUMENT_IMAGE_UNUSABLE'
  | 'MRZ_NOT_FOUND'
  | 'MRZ_UNREADABLE'
  | 'MRZ_CHECK_FAILED'
  | 'DOCUMENT_EXPIRED'
  | 'DOCUMENT_NOT_ACCEPTED'
  | 'PORTRAIT_NOT_FOUND'
  | 'PORTRAIT_MISMATCH'
  | 'NO_ENROLLED_FACE'
  | 'DOCUMENT_NEEDED'
  | 'LIVE_FACE_MISMATCH';

const MESSAGES: Record<ProofingRefusalCode, string> = {
  DOCUMENT_IMAGE_UNUSABLE: 'This file is not a usable photo. Send a JPEG, PNG or WebP photo of the document, at least 200 pixels on each side.',
  MRZ_NOT_FOUND:
    'We could not find the machine-readable lines (the two or three lines of letters and <<< at the bottom of the page). Photograph the whole page with the photo, flat, filling the picture.',
  MRZ_UNREADABLE: 'The machine-readable lines are not readable: avoid glare and shadows, hold the camera steady and parallel to the page, and try again.',
  MRZ_CHECK_FAILED:
    'A check digit in the machine-readable lines does not match what it checks. If the photo is sharp and free of glare, this document cannot be used: it may be damaged or altered.',
  DOCUMENT_EXPIRED: 'This document has expired. Use a passport or identity card that is still valid.',
  DOCUMENT_NOT_ACCEPTED: 'This kind of document cannot confirm your identity. Use a passport, an identity card or a residence permit.',
  PORTRAIT_NOT_FOUND: 'We could not find the photo of the holder on this page. Photograph the whole page, with the photo uncovered and free of glare.',
  PORTRAIT_MISMATCH: 'The photo on this document is not of you: it does not match the face enrolled for your account. Use your own document.',
  NO_ENROLLED_FACE: 'Enroll your face first: the document is compared with the face enrolled for your account.',
  DOCUMENT_NEEDED: 'Photograph your document first; the camera check comes after it.',
  LIVE_FACE_MISMATCH: 'Your face on the camera does not match the photo on the document. Use your own document and look straight at the camera.',
};

/** Refusals that compared faces and failed: they count as failed face attempts of the account. */
const FACE_FAILURES = new Set<ProofingRefusalCode>(['PORTRAIT_MISMATCH', 'LIVE_FACE_MISMATCH']);

export class ProofingRefusal extends Error {
  readonly status: number;
  constructor(readonly code: ProofingRefusalCode) {
    super(MESSAGES[code]);
    this.status = code === 'DOCUMENT_NEEDED' || code === 'NO_ENROLLED_FACE' ? 409 : 422;
  }

  /** True when the refusal is a face comparison that failed (a face attempt). */
  get faceFailure(): boolean {
    return FACE_FAILURES.has(this.code);
  }
}

/** The document between its photo and the camera check, as the page shows it: no identity data. */
export interface HeldDocument {
  type: DocumentType;
  issuer: string;
  expiry: string;
}

interface Held extends HeldDocument {
  number: string;
  claims: IdentityClaims;
  /** The portrait's embedding, base64 of its Float32 bytes. */
  portrait: string;
  checks: ProofingCheck[];
}

export interface ProofingFlowDeps {
  documents: Pick<DocumentReader, 'read'>;
  engine: Pick<FaceEngine, 'analyze'>;
  /** The account's enrolled templates of the current model. */
  templates(userId: string): Promise<Float32Array[]>;
  /** Whether a live face matches templates at the sign-in threshold (the operator's match preset). */
  matchesEnrolled(embedding: Float32Array, templates: Float32Array[]): boolean;
  kv: KeyValueStore;
  sealer: Sealer;
  proofing: Pick<IdentityProofing, 'record'>;
  /**
   * Cosine at or above which a document's portrait matches a face (the live one or the enrolled templates). A printed
   * portrait is small, old and screened, so its preset is set apart from sign-in's (config PROOFING_PORTRAIT_MATCH_PRESET).
   */
  portraitThreshold: number;
}

/** A document read waits this long for its camera check; past it the person photographs it again. */
const HOLD_SECONDS = 15 * 60;
const SEAL_PURPOSE = 'proofing-held-document';

const RANK: Record<ReadStatus, number> = { read: 3, checks_failed: 2, unreadable: 1, not_found: 0 };
const TYPES: Record<string, DocumentType> = { Passport: 'passport', 'Identity card': 'idcard', 'Residence permit': 'residence_permit' };

const bestCosine = (embedding: Float32Array, others: Float32Array[]) => Math.max(-1, ...others.filter((t) => t.length === embedding.length).map((t) => cosine(embedding, t)));
const toBase64 = (e: Float32Array) => Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('base64');
const fromBase64 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

function claimsOf(f: DocumentFields): IdentityClaims {
  return {
    given_name: [f.first_name, f.middle_name].filter(Boolean).join(' '),
    family_name: f.last_name,
    birthdate: f.dob!,
    nationalities: [f.nationality_iso ?? f.nationality_code],
  };
}

/**
 * The proofing flow's checks, in two steps. The document: its MRZ read with every check digit holding, not expired,
 * an accepted type, a portrait found that matches the account's enrolled face; it is then held (sealed, in the shared
 * store, for a short while). The camera check: after the head-movement challenge passed (live, and a match with the
 * enrolled face at the sign-in threshold), the deciding frame must match the document's portrait too. All three
 * faces agree, and the proofing is recorded.
 */
export class ProofingFlow {
  constructor(private readonly deps: ProofingFlowDeps) {}

  private key(userId: string) {
    return `proofing-document:${userId}`;
  }

  private async read(image: Uint8Array): Promise<DocumentReading> {
    try {
      return await this.deps.documents.read(Buffer.from(image), { crops: true });
    } catch (err) {
      if (err instanceof DocumentError && err.code !== 'MODEL_INVALID') throw new ProofingRefusal('DOCUMENT_IMAGE_UNUSABLE');
      throw err;
    }
  }

  /**
   * Checks the document's data page (`front`, with the portrait) and, for a card whose MRZ is on its back, `back`;
   * holds it for the camera check. Throws ProofingRefusal.
   */
  async examineDocument(userId: string, front: Uint8Array, back?: Uint8Array, now = new Date()): Promise<HeldDocument> {
    const templates = await this.deps.templates(userId);
    if (templates.length === 0) throw new ProofingRefusal('NO_ENROLLED_FACE');
    const frontReading = await this.read(front);
    const backReading = back && frontReading.status !== 'read' ? await this.read(back) : null;
    const reading = backReading && RANK[backReading.status] > RANK[frontReading.status] ? backReading : frontReading;
    if (reading.status === 'not_found') throw new ProofingRefusal('MRZ_NOT_FOUND');
    if (reading.status === 'unreadable') throw new ProofingRefusal('MRZ_UNREADABLE');
    if (reading.status === 'checks_failed') throw new ProofingRefusal('MRZ_CHECK_FAILED');
    const f = reading.fields!;
    if (!f.dob || !f.expiry_date || f.expired === null) throw new ProofingRefusal('MRZ_UNREADABLE');
    if (f.expired) throw new ProofingRefusal('DOCUMENT_EXPIRED');
    const type = TYPES[f.document_type_full];
    if (!type) throw new ProofingRefusal('DOCUMENT_NOT_ACCEPTED');

    // On the deskewed front first when its MRZ told how it lies (a detector does not find a face lying on its side),
    // then on the photo as sent.
    let portrait = frontReading.crops?.front ? await this.deps.engine.analyze(frontReading.crops.front, 'match') : null;
    if (!portrait?.face) portrait = await this.deps.engine.analyze(Buffer.from(front), 'match');
    if (!portrait.face || !portrait.embedding) throw new ProofingRefusal('PORTRAIT_NOT_FOUND');
    if (bestCosine(portrait.embedding, templates) < this.deps.portraitThreshold) throw new ProofingRefusal('PORTRAIT_MISMATCH');

    const at = now.toISOString();
    const held: Held = {
      type,
      issuer: f.issuer_iso ?? f.issuer_code,
      expiry: f.expiry_date,
      number: f.document_number,
      claims: claimsOf(f),
      portrait: toBase64(portrait.embedding),
      checks: [
        { check: 'mrz_check_digits', method: 'vri', outcome: 'passed', at },
        { check: 'document_not_expired', method: 'vri', outcome: 'passed', at },
        { check: 'portrait_vs_enrolled', method: 'bvr', outcome: 'passed', at },
      ],
    };
    await this.deps.kv.set(this.key(userId), Buffer.from(this.deps.sealer.seal(Buffer.from(JSON.stringify(held)), SEAL_PURPOSE)).toString('base64'), HOLD_SECONDS);
    return { type: held.type, issuer: held.issuer, expiry: held.expiry };
  }

  private async load(userId: string): Promise<Held | null> {
    const raw = await this.deps.kv.get(this.key(userId));
    return raw ? (JSON.parse(this.deps.sealer.open(Buffer.from(raw, 'base64'), SEAL_PURPOSE).toString('utf8')) as Held) : null;
  }

  /** The document waiting for its camera check, if any. */
  async held(userId: string): Promise<HeldDocument | null> {
    const held = await this.load(userId);
    return held && { type: held.type, issuer: held.issuer, expiry: held.expiry };
  }

  async discard(userId: string): Promise<void> {
    await this.deps.kv.del(this.key(userId));
  }

  /**
   * Finishes a proofing with the deciding frame of a passed challenge: it must match the held document's portrait.
   * The held document is used once, whatever the outcome.
   */
  async complete(userId: string, frame: Uint8Array, now = new Date()): Promise<ProofingSummary> {
    const raw = await this.deps.kv.take(this.key(userId));
    if (!raw) throw new ProofingRefusal('DOCUMENT_NEEDED');
    const held = JSON.parse(this.deps.sealer.open(Buffer.from(raw, 'base64'), SEAL_PURPOSE).toString('utf8')) as Held;
    // The same frame must match both: the challenge's own match may rest on another of its final frames.
    let live, templates;
    try {
      [live, templates] = await Promise.all([this.deps.engine.analyze(frame, 'verify'), this.deps.templates(userId)]);
    } catch (err) {
      // Nothing was compared (an overloaded engine, a store error): the document stays held for another try.
      await this.deps.kv.set(this.key(userId), raw, HOLD_SECONDS);
      throw err;
    }
    if (!live.embedding || !this.deps.matchesEnrolled(live.embedding, templates) || bestCosine(live.embedding, [fromBase64(held.portrait)]) < this.deps.portraitThreshold) {
      throw new ProofingRefusal('LIVE_FACE_MISMATCH');
    }
    const at = now.toISOString();
    return this.deps.proofing.record(userId, {
      document: { type: held.type, issuer: held.issuer, expiry: held.expiry, number: held.number },
      claims: held.claims,
      checks: [
        ...held.checks,
        { check: 'liveness_challenge', method: 'bvr', outcome: 'passed', at },
        { check: 'live_face_vs_enrolled', method: 'bvr', outcome: 'passed', at },
        { check: 'live_face_vs_portrait', method: 'bvr', outcome: 'passed', at },
      ],
    });
  }
}
