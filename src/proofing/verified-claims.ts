/**
 * `verified_claims` (OpenID Connect for Identity Assurance 1.0, final): what this provider verified about a person,
 * how and when, built from a proofing record and cut down to what the app asked for in the `claims` parameter.
 * The shape is written down in `verified-claims.schema.json`.
 */

/**
 * The trust framework this provider verifies under. The registered values (`nist_800_63A`, `eidas`, `de_aml`, …)
 * name regimes an identity service is assessed or regulated under; a self-hosted provider nobody assessed may not
 * claim them. This URN says exactly what the verification is: this deployment's own automated check of a document
 * and a live face, not accredited under any regime (README "Identity proofing").
 */
export const TRUST_FRAMEWORK = 'urn:face-oidc:trust_framework:unaccredited';

/**
 * The document types a proofing accepts, as the spec names them: those that identify their holder. Visas, crew
 * certificates and other travel documents carry an MRZ too, but are refused.
 */
export const DOCUMENT_TYPES = ['passport', 'idcard', 'residence_permit'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** The person's claims a proofing verifies. */
export const VERIFIED_CLAIM_NAMES = ['given_name', 'family_name', 'birthdate', 'nationalities'] as const;
export type VerifiedClaimName = (typeof VERIFIED_CLAIM_NAMES)[number];

export type IdentityClaims = Record<'given_name' | 'family_name' | 'birthdate', string> & { nationalities: string[] };

/**
 * The check methods of the spec's predefined list this provider performs:
 * - `vri`: the document's image, taken remotely, inspected — here its MRZ read and every check digit verified, and
 *   its expiry; no security features (holograms, UV) and no chip (`vcrypt`) are checked;
 * - `bvr`: biometric verification by an automated system with the person remote — the live face (after a
 *   head-movement challenge) compared with the document's portrait and with the account's enrolled face.
 */
export type CheckMethod = 'vri' | 'bvr';

export interface CheckDetail {
  check_method: CheckMethod;
  time: string;
}

/** What a proofing established, in the spec's vocabulary (the record in full, before any request cuts it). */
export interface VerifiedData {
  verification: {
    trust_framework: string;
    time: string;
    evidence: {
      type: 'document';
      check_details: CheckDetail[];
      /** `document_number` only where the administrator keeps numbers (and only when an app asks for it). */
      document_details: { type: DocumentType; document_number?: string; issuer: { country_code: string }; date_of_expiry: string };
    }[];
  };
  claims: IdentityClaims;
}

/** Members of a request object that constrain or describe an element rather than name sub-elements. */
const REQUEST_KEYWORDS = new Set(['essential', 'value', 'values', 'purpose', 'max_age']);
/** Members the spec requires in a response whenever their parent is returned (verification, evidence, document_details). */
const ALWAYS = new Set(['trust_framework', 'type']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A request for the element as a whole (null, or only constraints such as `value` and `essential`). */
function isLeafRequest(req: unknown): boolean {
  return req === null || (isObject(req) && Object.keys(req).every((k) => REQUEST_KEYWORDS.has(k)));
}

/** Thrown inside `select` when a constraint the app set (`value`, `values`, `max_age`) is not met by the data. */
class Unmet extends Error {}

function checkConstraints(data: unknown, req: Record<string, unknown>, now: number): void {
  if ('value' in req && req.value !== data) throw new Unmet();
  if (Array.isArray(req.values) && !req.values.includes(data)) throw new Unmet();
  if (typeof req.max_age === 'number' && typeof data === 'string' && now - Date.parse(data) > req.max_age * 1000) throw new Unmet();
}

/**
 * The part of `data` that `req` asks for. Elements the spec requires (`trust_framework`, an evidence's `type`) come
 * with their parent; a constraint not met throws Unmet for the caller to decide what is dropped.
 */
function select(data: unknown, req: unknown, now: number): unknown {
  if (isLeafRequest(req)) {
    if (isObject(req)) checkConstraints(data, req, now);
    return data;
  }
  if (Array.isArray(data)) {
    const alternatives = Array.isArray(req) ? req : [req];
    const out: unknown[] = [];
    for (const item of data) {
      for (const alt of alternatives) {
        try {
          out.push(select(item, alt, now));
          break;
        } catch (err) {
          if (!(err instanceof Unmet)) throw err;
        }
      }
    }
    return out;
  }
  if (!isObject(data) || !isObject(req)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(req)) {
    if (!(key in data)) continue;
    const value = select(data[key], sub, now);
    if (value !== undefined) out[key] = value;
  }
  for (const key of ALWAYS) if (key in data && !(key in out)) out[key] = data[key];
  return out;
}

/** One requested `verified_claims` object answered, or undefined when it cannot be (spec: then it is omitted). */
function answer(data: VerifiedData, req: Record<string, unknown>, now: number): Record<string, unknown> | undefined {
  let verification: unknown;
  try {
    verification = select(data.verification, req.verification, now);
  } catch (err) {
    if (err instanceof Unmet) return undefined;
    throw err;
  }
  // Evidence the app asked for but that this proofing does not have (another type): not this verification.
  if (isObject(req.verification) && 'evidence' in req.verification && isObject(verification) && (verification.evidence as unknown[]).length === 0) return undefined;
  const claims: Record<string, unknown> = {};
  for (const [name, sub] of Object.entries(isObject(req.claims) ? req.claims : {})) {
    if (!(VERIFIED_CLAIM_NAMES as readonly string[]).includes(name)) continue;
    try {
      claims[name] = select(data.claims[name as VerifiedClaimName], sub, now);
    } catch (err) {
      if (!(err instanceof Unmet)) throw err;
    }
  }
  if (Object.keys(claims).length === 0) return undefined;
  return { verification, claims };
}

/**
 * The `verified_claims` value for a request (one object or an array of alternatives, as the spec allows), holding
 * only what was asked; undefined when nothing of it can be given.
 */
export function verifiedClaimsFor(data: VerifiedData, request: unknown, now = Date.now()): Json | undefined {
  if (Array.isArray(request)) {
    const answers = request.filter(isObject).map((r) => answer(data, r, now)).filter((a) => a !== undefined);
    return answers.length ? (answers as Json) : undefined;
  }
  return isObject(request) ? (answer(data, request, now) as Json | undefined) : undefined;
}

/** Why a `verified_claims` request is malformed (the spec's request rules), or null when it is well-formed. */
export function requestProblem(request: unknown): string | null {
  const items = Array.isArray(request) ? request : [request];
  if (items.length === 0) return 'verified_claims must be an object or a non-empty array of objects';
  for (const item of items) {
    if (!isObject(item)) return 'verified_claims must be an object or a non-empty array of objects';
    if (!isObject(item.verification)) return 'verified_claims.verification must be an object';
    if (!('trust_framework' in item.verification)) return 'verified_claims.verification must request trust_framework';
    if (!isObject(item.claims) || Object.keys(item.claims).length === 0) return 'verified_claims.claims must request at least one claim';
    for (const [name, sub] of Object.entries(item.claims)) {
      if (sub !== null && !isObject(sub)) return `verified_claims.claims.${name} must be null or an object`;
    }
    if ('evidence' in item.verification && !Array.isArray(item.verification.evidence)) return 'verified_claims.verification.evidence must be an array';
  }
  return null;
}
