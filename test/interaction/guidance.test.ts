import { describe, expect, it } from 'vitest';
import { guidance } from '../../src/interaction/guidance.js';

describe('live guidance', () => {
  it('turns the first quality issue into a short hint', () => {
    expect(guidance([])).toEqual({ ok: true, code: null, hint: 'Hold still…' });
    expect(guidance([{ code: 'FACE_TOO_SMALL', message: '' }, { code: 'TOO_DARK', message: '' }])).toEqual({ ok: false, code: 'FACE_TOO_SMALL', hint: 'Move closer' });
    expect(guidance([{ code: 'TOO_DARK', message: '' }]).hint).toMatch(/Too dark/);
    expect(guidance([{ code: 'MULTIPLE_FACES', message: '' }]).hint).toBe('Only one face, please');
    expect(guidance([{ code: 'BLURRY', message: '' }]).hint).toBe('Hold still');
  });
});
