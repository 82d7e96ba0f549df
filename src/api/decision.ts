import { z } from 'zod';
import type { Settings } from '../settings/index.js';
import type { RecordCode } from './errors.js';
import type { Decision } from './types.js';

/**
 * A client's decision rules as stored in Client.matchRules (set from the CLI or the admin UI). Every field is
 * optional; what is missing falls back to the defaults below.
 */
export const matchRulesSchema = z.object({
  /** 0–100 score below which a match is declined. */
  minSimilarity: z.number().min(0).max(100).optional(),
  livenessRequired: z.boolean().optional(),
  qualityRequired: z.boolean().optional(),
  documentRequired: z.boolean().optional(),
  /** What smaller faces in the selfie besides the compared one do to the decision (default: nothing). */
  otherFacesInSelfie: z.enum(['allow', 'review', 'decline']).optional(),
  /** What an expired document does to the decision (default: decline). */
  expiredDocument: z.enum(['allow', 'review', 'decline']).optional(),
});

export interface MatchRules {
  minSimilarity: number;
  /** At or above: ACCEPTED (other rules permitting); between minSimilarity and this: REVIEW. */
  acceptSimilarity: number;
  livenessRequired: boolean;
  qualityRequired: boolean;
  documentRequired: boolean;
  otherFacesInSelfie: 'allow' | 'review' | 'decline';
  expiredDocument: 'allow' | 'review' | 'decline';
}

/**
 * Client rules over the operator's settings. The settings' defaults, review 70 and accept 80, are the 0–100 scores
 * of the face engine's FAR 1e-4 and FAR 1e-5 presets (src/face/similarity.ts SCORE_KNOTS). A stored value that
 * does not parse (e.g. edited by hand) is ignored rather than failing every request of the client.
 */
export function resolveRules(stored: unknown, settings: Pick<Settings, 'apiAcceptScore' | 'apiReviewScore'>): MatchRules {
  const parsed = matchRulesSchema.safeParse(stored ?? {});
  const own = parsed.success ? parsed.data : {};
  const minSimilarity = own.minSimilarity ?? settings.apiReviewScore;
  return {
    minSimilarity,
    acceptSimilarity: Math.max(settings.apiAcceptScore, minSimilarity),
    livenessRequired: own.livenessRequired ?? true,
    qualityRequired: own.qualityRequired ?? false,
    documentRequired: own.documentRequired ?? false,
    otherFacesInSelfie: own.otherFacesInSelfie ?? 'allow',
    expiredDocument: own.expiredDocument ?? 'decline',
  };
}

export interface DecisionInput {
  /** 0–100 similarity of selfie and reference. */
  faceScore: number;
  /** null when liveness was not measured. */
  livenessPass: boolean | null;
  qualityOk: boolean;
  /**
   * null when no document was sent; score is null when its portrait was not found; mrz is what became of its
   * machine-readable zone, expired null when no expiry date was read.
   */
  document: { score: number | null; mrz: 'read' | 'checks_failed' | 'unreadable' | 'not_found'; expired: boolean | null } | null;
  /** Faces in the selfie besides the compared one (all smaller: two comparable faces never reach a decision). */
  selfieOtherFaces: number;
}

export interface DecisionOutcome {
  decision: Decision;
  faceVerified: boolean;
  documentVerified: boolean | null;
  rulesPassed: boolean;
  codes: RecordCode[];
  notes: string[];
}

const SEVERITY: Record<Decision, number> = { ACCEPTED: 0, REVIEW: 1, DECLINED: 2 };

/** DECLINED when a hard rule fails, otherwise REVIEW when anything needs a person's look, otherwise ACCEPTED. */
export function decide(input: DecisionInput, rules: MatchRules): DecisionOutcome {
  let decision: Decision = 'ACCEPTED';
  const raise = (to: Decision) => {
    if (SEVERITY[to] > SEVERITY[decision]) decision = to;
  };
  const codes: RecordCode[] = [];
  const notes: string[] = [];
  const band = (what: string, score: number): boolean => {
    if (score < rules.minSimilarity) {
      raise('DECLINED');
      notes.push(`${what} similarity ${score} is below the minimum ${rules.minSimilarity}.`);
      return false;
    }
    if (score < rules.acceptSimilarity) {
      raise('REVIEW');
      notes.push(`${what} similarity ${score} is in the review band ${rules.minSimilarity}–${rules.acceptSimilarity}.`);
    } else {
      notes.push(`${what} similarity ${score} is at or above the accept threshold ${rules.acceptSimilarity}.`);
    }
    return true;
  };

  const faceVerified = band('Face', input.faceScore);
  if (!faceVerified) codes.push('FACE_MISMATCH');

  let rulesPassed = faceVerified;
  if (input.livenessPass === false) codes.push('SELFIE_LIVENESS_FAILED');
  if (rules.livenessRequired && input.livenessPass !== true) {
    raise('DECLINED');
    rulesPassed = false;
    notes.push('Liveness is required and the selfie did not pass it.');
  }
  if (rules.qualityRequired && !input.qualityOk) {
    raise('REVIEW');
    rulesPassed = false;
    notes.push('Image quality is required and an image has quality issues.');
  }

  if (input.selfieOtherFaces > 0 && rules.otherFacesInSelfie !== 'allow') {
    raise(rules.otherFacesInSelfie === 'decline' ? 'DECLINED' : 'REVIEW');
    rulesPassed = false;
    notes.push(`Other faces are visible in the selfie; the client's rules ${rules.otherFacesInSelfie === 'decline' ? 'decline that' : 'send that to review'}.`);
  }

  let documentVerified: boolean | null = null;
  if (input.document) {
    const doc = input.document;
    let portraitMatches = false;
    if (doc.score === null) {
      raise('REVIEW');
      notes.push('No portrait was found on the document.');
    } else {
      portraitMatches = band('Document', doc.score);
      if (!portraitMatches) codes.push('DOCUMENT_FACE_MISMATCH');
    }
    const mrz = documentMrzRules(doc, rules, raise);
    codes.push(...mrz.codes);
    notes.push(...mrz.notes);
    // A verified document: its MRZ read with every check digit holding, not expired, and its portrait is the selfie's face.
    documentVerified = portraitMatches && doc.mrz === 'read' && doc.expired === false;
    rulesPassed &&= documentVerified || (portraitMatches && doc.mrz === 'read' && doc.expired === true && rules.expiredDocument === 'allow');
  } else if (rules.documentRequired) {
    codes.push('DOCUMENT_REQUIRED');
    raise('DECLINED');
    rulesPassed = false;
    notes.push('A document image is required and none was sent.');
  }

  return { decision, faceVerified, documentVerified, rulesPassed, codes, notes };
}

/** The MRZ's part of the decision: an MRZ that is missing, unreadable or fails a check goes to review; an expired document follows the rules. */
function documentMrzRules(
  doc: NonNullable<DecisionInput['document']>,
  rules: MatchRules,
  raise: (to: Decision) => void,
): { codes: RecordCode[]; notes: string[] } {
  const codes: RecordCode[] = [];
  const notes: string[] = [];
  if (doc.mrz === 'not_found') {
    codes.push('DOCUMENT_MRZ_NOT_FOUND');
    raise('REVIEW');
    notes.push('No machine-readable zone was found on the document.');
  } else if (doc.mrz === 'unreadable') {
    codes.push('DOCUMENT_MRZ_UNREADABLE');
    raise('REVIEW');
    notes.push("The document's machine-readable zone could not be read.");
  } else if (doc.mrz === 'checks_failed') {
    codes.push('DOCUMENT_MRZ_CHECK_FAILED');
    raise('REVIEW');
    notes.push("The document's machine-readable zone does not check out: a check digit fails, a code or date in it is no real one, or it reads two ways.");
  }
  if (doc.expired) {
    codes.push('DOCUMENT_EXPIRED');
    if (rules.expiredDocument !== 'allow') raise(rules.expiredDocument === 'decline' ? 'DECLINED' : 'REVIEW');
    notes.push(`The document has expired; the client's rules ${rules.expiredDocument === 'allow' ? 'allow that' : rules.expiredDocument === 'decline' ? 'decline it' : 'send it to review'}.`);
  }
  return { codes, notes };
}
