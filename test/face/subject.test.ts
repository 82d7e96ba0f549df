import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseSubject, comparableFaces, otherFaces, boxSize, SIZE_TIE_RATIO } from '../../src/face/subject.js';
import { createFaceEngine, DEFAULT_QUALITY, type Analysis, type Box, type DetectedFace, type FaceEngine, type Purpose } from '../../src/face/index.js';
import { fixture, MODELS_DIR, requireSharedFaces, sharedFace } from './helpers.js';

const face = (x: number, y: number, width: number, height: number, score = 0.99): DetectedFace => ({ box: { x, y, width, height }, score });
const centre = (b: Box) => [b.x + b.width / 2, b.y + b.height / 2];
const PURPOSES: Purpose[] = ['verify', 'enroll', 'match', 'turn', 'locate'];

describe('subject rule', () => {
  it('takes the largest face, not the most confident one', () => {
    const edge = face(0, 100, 90, 110, 0.9999);
    const subject = face(250, 150, 120, 150, 0.97);
    expect(chooseSubject([edge, subject], 640, 480)).toBe(subject);
  });

  it('breaks a tie in size (within the detector jitter) by the distance to the image centre', () => {
    const larger = face(20, 40, 100, 130);
    const central = face(270, 180, 96, 126);
    expect(boxSize(central.box) / boxSize(larger.box)).toBeGreaterThan(SIZE_TIE_RATIO);
    expect(chooseSubject([larger, central], 640, 480)).toBe(central);
    // Beyond the jitter the larger face wins wherever it is.
    const smaller = face(270, 180, 80, 100);
    expect(chooseSubject([larger, smaller], 640, 480)).toBe(larger);
  });

  it('counts comparable faces by size relative to the subject', () => {
    const subject = face(200, 100, 200, 260);
    const beside = face(420, 120, 170, 220);
    const behind = face(20, 20, 60, 80);
    expect(comparableFaces([subject, beside, behind], subject.box, DEFAULT_QUALITY.multiFaceMinRatio)).toEqual([beside]);
    expect(otherFaces([subject, beside, behind], { ...subject.box })).toEqual([beside, behind]);
  });
});

let engine: FaceEngine;
beforeAll(async () => {
  engine = await createFaceEngine({ modelsDir: MODELS_DIR, poolSize: 2 });
});
afterAll(async () => {
  await engine?.close();
});

const analyzeAll = (bytes: Buffer) => Promise.all(PURPOSES.map((p) => engine.analyze(bytes, p)));
const codes = (a: Analysis) => a.quality.issues.map((i) => i.code);
const similarity = (a: Analysis, b: Analysis) => engine.compare(a.embedding!, [b.embedding!]).similarity;

describe('subject of group photos (committed fixtures)', () => {
  it('analyses the same subject for every purpose and flags the comparable second face for sign-in and enrolment', async () => {
    const [verify, enroll, match, turn] = await analyzeAll(fixture('deepface-couple.jpg'));
    const largest = Math.max(...verify.faces.map((f) => boxSize(f.box)));
    for (const a of [verify, enroll, match, turn]) expect(a.face!.box).toEqual(verify.face!.box);
    expect(boxSize(verify.face!.box)).toBe(largest);
    for (const a of [verify, enroll, turn]) expect(codes(a)).toContain('MULTIPLE_FACES');
    expect(codes(match)).not.toContain('MULTIPLE_FACES');
    // The subject is the person of deepface-img1/img2, the other face is not.
    const img1 = await engine.analyze(fixture('deepface-img1.jpg'), 'enroll');
    expect(similarity(enroll, img1)).toBeGreaterThan(engine.thresholds.matchThreshold);
  });

  it('takes the most central of equally large faces in a group photo', async () => {
    const a = await engine.analyze(fixture('facenet-multiface.jpg'), 'match');
    const largest = Math.max(...a.faces.map((f) => boxSize(f.box)));
    const tied = a.faces.filter((f) => boxSize(f.box) >= SIZE_TIE_RATIO * largest);
    expect(tied.length).toBeGreaterThan(1);
    const off = (b: Box) => Math.hypot(centre(b)[0] - a.width / 2, centre(b)[1] - a.height / 2);
    expect(off(a.face!.box)).toBe(Math.min(...tied.map((f) => off(f.box))));
  });
});

describe.runIf(requireSharedFaces())('subject of the shared group photos', () => {
  it('couple.jpg: the largest face, the person of img1, is analysed for every purpose', async () => {
    const [img1, img2] = await Promise.all(['deepface/img1.jpg', 'deepface/img2.jpg'].map((f) => engine.analyze(sharedFace(f), 'enroll')));
    const all = await analyzeAll(sharedFace('deepface/couple.jpg'));
    expect(all[0].faces).toHaveLength(2);
    const largest = all[0].faces.reduce((p, f) => (boxSize(f.box) > boxSize(p.box) ? f : p));
    for (const a of all) expect(a.face!.box).toEqual(largest.box);
    for (const a of all.filter((a) => a.embedding)) {
      expect(similarity(a, img1)).toBeGreaterThan(engine.thresholds.matchThreshold);
      expect(similarity(a, img2)).toBeGreaterThan(engine.thresholds.matchThreshold);
    }
    // Before the subject rule, sign-in and enrolment took the most confident face, which is the other person.
    expect(all[0].faces[0].box).not.toEqual(largest.box);
  });

  it('img11_reflection.jpg: the subject is the person of img11', async () => {
    const [img11, reflection] = await Promise.all([engine.analyze(sharedFace('deepface/img11.jpg'), 'enroll'), engine.analyze(sharedFace('deepface/img11_reflection.jpg'), 'enroll')]);
    expect(boxSize(reflection.face!.box)).toBe(Math.max(...reflection.faces.map((f) => boxSize(f.box))));
    expect(similarity(reflection, img11)).toBeGreaterThan(engine.thresholds.matchThreshold);
  });

  it('facenet-pytorch multiface.jpg: a face tied with the largest is analysed, and sign-in refuses the group', async () => {
    const [verify, enroll, match] = await analyzeAll(sharedFace('facenet-pytorch/multiface.jpg'));
    expect(verify.faces).toHaveLength(6);
    const largest = Math.max(...verify.faces.map((f) => boxSize(f.box)));
    for (const a of [verify, enroll, match]) {
      expect(a.face!.box).toEqual(verify.face!.box);
      expect(boxSize(a.face!.box)).toBeGreaterThanOrEqual(SIZE_TIE_RATIO * largest);
    }
    expect(codes(verify)).toContain('MULTIPLE_FACES');
    expect(codes(enroll)).toContain('MULTIPLE_FACES');
  });

  it('img41.jpg: the sharp subject wins over a larger blurred face in the crowd behind it', async () => {
    const [subject, ...same] = await Promise.all(['deepface/img41.jpg', 'deepface/img38.jpg', 'deepface/img39.jpg', 'deepface/img40.jpg'].map((f) => engine.analyze(sharedFace(f), 'enroll')));
    expect(subject.faces).toHaveLength(2);
    const largest = subject.faces.reduce((p, f) => (boxSize(f.box) > boxSize(p.box) ? f : p));
    expect(subject.face!.box).not.toEqual(largest.box);
    for (const other of same) expect(similarity(subject, other)).toBeGreaterThan(engine.thresholds.matchThreshold);
  });
});
