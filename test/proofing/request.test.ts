import { describe, expect, it } from 'vitest';
import { requestProblem, TRUST_FRAMEWORK, type VerifiedData, verifiedClaimsFor } from '../../src/proofing/index.js';

const TIME = '2026-12-01T10:00:00.000Z';
const DATA: VerifiedData = {
  verification: {
    trust_framework: TRUST_FRAMEWORK,
    time: TIME,
    evidence: [{ type: 'document', check_details: [{ check_method: 'vri', time: TIME }, { check_method: 'bvr', time: TIME }], document_details: { type: 'idcard', issuer: { country_code: 'DEU' }, date_of_expiry: '2031-01-31' } }],
  },
  claims: { given_name: 'ERIKA', family_name: 'MUSTERMANN', birthdate: '1984-08-12', nationalities: ['DEU'] },
};
const NOW = Date.parse(TIME) + 3600_000;
const req = (verification: object, claims: object = { family_name: null }) => ({ verification, claims });

describe('verified_claims cut to the request', () => {
  it('gives only the requested claims and verification members, and always the members the spec requires (trust_framework, the types)', () => {
    expect(verifiedClaimsFor(DATA, req({ trust_framework: null, evidence: [{ document_details: { issuer: null } }] }), NOW)).toEqual({
      verification: { trust_framework: TRUST_FRAMEWORK, evidence: [{ type: 'document', document_details: { type: 'idcard', issuer: { country_code: 'DEU' } } }] },
      claims: { family_name: 'MUSTERMANN' },
    });
  });

  it('omits everything when no requested claim is one it verified', () => {
    expect(verifiedClaimsFor(DATA, req({ trust_framework: null }, { email: null }), NOW)).toBeUndefined();
  });

  it('honours value, values and max_age constraints', () => {
    expect(verifiedClaimsFor(DATA, req({ trust_framework: { values: ['eidas', TRUST_FRAMEWORK] } }), NOW)).toBeDefined();
    expect(verifiedClaimsFor(DATA, req({ trust_framework: { value: 'de_aml' } }), NOW)).toBeUndefined();
    // A verification older than the app accepts is not given.
    expect(verifiedClaimsFor(DATA, req({ trust_framework: null, time: { max_age: 60 } }), NOW)).toBeUndefined();
    expect(verifiedClaimsFor(DATA, req({ trust_framework: null, time: { max_age: 7200 } }), NOW)).toMatchObject({ verification: { time: TIME } });
    // Evidence of another type is not this verification.
    expect(verifiedClaimsFor(DATA, req({ trust_framework: null, evidence: [{ type: { value: 'electronic_record' } }] }), NOW)).toBeUndefined();
    // A claim whose value the app fixed and that differs is left out; the others stay.
    expect(verifiedClaimsFor(DATA, req({ trust_framework: null }, { given_name: { value: 'MAX' }, birthdate: null }), NOW)).toEqual({
      verification: { trust_framework: TRUST_FRAMEWORK },
      claims: { birthdate: '1984-08-12' },
    });
  });

  it('names what makes a request malformed', () => {
    expect(requestProblem(req({ trust_framework: null }))).toBeNull();
    expect(requestProblem({ claims: { given_name: null } })).toMatch(/verification/);
    expect(requestProblem(req({ time: null }))).toMatch(/trust_framework/);
    expect(requestProblem(req({ trust_framework: null }, {}))).toMatch(/at least one claim/);
    expect(requestProblem(req({ trust_framework: null }, { given_name: 'x' }))).toMatch(/null or an object/);
    expect(requestProblem(req({ trust_framework: null, evidence: {} }))).toMatch(/evidence must be an array/);
  });
});
