import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { faceVerified, freshFor, requireFresh, safeNext } from '../../src/account/access.js';
import type { RpSession } from '../../src/web/relying-party.js';
import { HttpError } from '../../src/web/errors.js';

const now = () => Math.floor(Date.now() / 1000);
const session = (claims: Record<string, unknown>): RpSession => ({ sid: 's', sub: 'u', claims, idToken: 'x', createdAt: Date.now() });
const refusal = (s: RpSession, opts = {}) => {
  try {
    requireFresh({} as never, s, opts);
    return null;
  } catch (err) {
    return err instanceof HttpError ? { code: err.code, redirect: err.details.redirect } : err;
  }
};

describe('account access rules', () => {
  // On a whole second, so that the seconds left are exact.
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_800_000_000_000);
  });
  afterAll(() => vi.useRealTimers());

  it('takes a face sign-in for changes only when it passed the challenge (amr face + liveness), not a passive capture', () => {
    expect(faceVerified(session({ amr: ['face', 'liveness'] }))).toBe(true);
    expect(faceVerified(session({ amr: ['face'] }))).toBe(false);
    expect(faceVerified(session({ amr: ['pwd', 'liveness'] }))).toBe(false);
    expect(faceVerified(session({}))).toBe(false);
    expect(refusal(session({ auth_time: now(), amr: ['face'] }), { face: true, next: '/account/face/reenroll' })).toEqual({
      code: 'FACE_STEP_UP_REQUIRED',
      redirect: '/account/verify?next=%2Faccount%2Fface%2Freenroll',
    });
    expect(refusal(session({ auth_time: now(), amr: ['face', 'liveness'] }), { face: true })).toBeNull();
  });

  it('needs a sign-in of the last five minutes for changes', () => {
    expect(freshFor(session({ auth_time: now() - 60 }))).toBe(240);
    expect(freshFor(session({ auth_time: now() - 301 }))).toBe(0);
    expect(refusal(session({ auth_time: now() - 301, amr: ['face', 'liveness'] }))).toMatchObject({ code: 'STEP_UP_REQUIRED' });
  });

  it('returns only to account pages after a sign-in', () => {
    expect(safeNext('/account/passkeys')).toBe('/account/passkeys');
    for (const bad of ['//evil.example/account', 'https://evil.example/', '/admin', '/accounts', 42]) expect(safeNext(bad)).toBe('/account');
  });
});
