import type { ProofingEvidence } from '../../src/proofing/index.js';

export const DAY = 86_400_000;
export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A passed proofing of a passport, as the flow records it. */
export function evidence(overrides: Partial<ProofingEvidence['document']> = {}): ProofingEvidence {
  const at = new Date().toISOString();
  return {
    document: { type: 'passport', issuer: 'GBR', expiry: isoDay(Date.now() + 2000 * DAY), number: 'X1234567', ...overrides },
    claims: { given_name: 'ADA', family_name: 'LOVELACE', birthdate: '1990-12-10', nationalities: ['GBR'] },
    checks: [
      { check: 'mrz_check_digits', method: 'vri', outcome: 'passed', at },
      { check: 'live_face_vs_portrait', method: 'bvr', outcome: 'passed', at },
    ],
  };
}

