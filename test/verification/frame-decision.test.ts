import { describe, expect, it } from 'vitest';
import { type Analysis, type QualityCode, QUALITY_MESSAGES } from '../../src/face/index.js';
import { decideAttempt } from '../../src/verification/frame-decision.js';

const THRESHOLD = 0.411;

/** An analysed frame whose one-value embedding is its similarity to the template (binary fractions: exact in float32). */
function frame(opts: { similarity?: number; live?: number; issues?: QualityCode[] } = {}): Analysis {
  const issues = (opts.issues ?? []).map((code) => ({ code, message: QUALITY_MESSAGES[code] }));
  const found = !issues.some((i) => i.code === 'FACE_NOT_FOUND');
  return {
    width: 640,
    height: 480,
    faces: [],
    face: found ? ({ box: { x: 200, y: 120, width: 200, height: 240 }, score: 0.99, landmarks5: [], pose: { yaw: 0, pitch: 0, roll: 0 } } as unknown as Analysis['face']) : null,
    quality: { ok: issues.length === 0, issues, metrics: {} },
    embedding: found ? Float32Array.of(opts.similarity ?? 0.7) : null,
    liveness: found ? { score: opts.live ?? 0.95, live: (opts.live ?? 0.95) >= 0.7 } : null,
    modelId: 'test',
    timings: {},
  };
}

const compare = (e: Float32Array) => ({ similarity: e[0], score: 0, index: 0, match: e[0] >= THRESHOLD });

describe('face attempt decision', () => {
  it('verifies on the best frame that is usable, live and matching', () => {
    const d = decideAttempt([frame({ similarity: 0.5 }), frame({ similarity: 0.625 }), frame({ similarity: 0.875, issues: ['BLURRY'] })], compare);
    expect(d).toMatchObject({ outcome: 'verified', frame: 1, similarity: 0.625, liveness: 0.95, codes: ['BLURRY'], analysed: 3 });
  });

  it('never lets a live frame vouch for a matching frame that is not live', () => {
    // The victim's printed photo matches but is not live; the attacker's own face is live but does not match.
    const d = decideAttempt([frame({ similarity: 0.75, live: 0.02 }), frame({ similarity: 0.0625, live: 0.99 })], compare);
    expect(d.outcome).toBe('no_match');
  });

  it('reports a presentation attack as not live, whatever the match', () => {
    expect(decideAttempt([frame({ similarity: 0.75, live: 0.1 }), frame({ similarity: 0.125, live: 0.3 })], compare)).toMatchObject({ outcome: 'liveness_failed', similarity: 0.75 });
    expect(decideAttempt([frame({ similarity: 0.125, live: 0.1 })], compare).outcome).toBe('liveness_failed');
  });

  it('refuses a live stranger, and an account without templates, as no match', () => {
    expect(decideAttempt([frame({ similarity: 0.25 })], compare).outcome).toBe('no_match');
    const noTemplates = () => ({ similarity: -1, score: 0, index: -1, match: false });
    expect(decideAttempt([frame()], noTemplates)).toMatchObject({ outcome: 'no_match', similarity: -1 });
  });

  it('asks for a better picture with the issues of the closest frame when none is usable', () => {
    const d = decideAttempt([frame({ issues: ['FACE_NOT_FOUND'] }), frame({ issues: ['TOO_DARK', 'BLURRY'] }), frame({ issues: ['FACE_TOO_SMALL'] })], compare);
    expect(d).toMatchObject({ outcome: 'quality', frame: null, similarity: null, liveness: null });
    // A frame with a face beats one without, and fewer issues beat more, whatever the order.
    expect(d.issues.map((i) => i.code)).toEqual(['FACE_TOO_SMALL']);
    expect(decideAttempt([frame({ issues: ['TOO_DARK', 'BLURRY'] }), frame({ issues: ['FACE_TOO_SMALL'] })], compare).issues.map((i) => i.code)).toEqual(['FACE_TOO_SMALL']);
    expect(decideAttempt([frame({ issues: ['FACE_NOT_FOUND'] })], compare).issues.map((i) => i.code)).toEqual(['FACE_NOT_FOUND']);
    expect(d.codes).toEqual(['FACE_NOT_FOUND', 'TOO_DARK', 'BLURRY', 'FACE_TOO_SMALL']);
  });
});
