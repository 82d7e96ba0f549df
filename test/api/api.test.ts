import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runApiBench } from '../../src/bench/api.js';
import { FaceError } from '../../src/face/index.js';
import { call, Contract, fixture, form, MAX_UPLOAD_BYTES, startHarness, type ApiResponse, type Harness } from './harness.js';

const MATCH = '/api/v1/face/match';
const RECORD = '/api/v1/face/match/{requestId}';
const IMAGE = '/api/v1/images/{key}';

const A1 = fixture('person-a-1.jpg');
const A2 = fixture('person-a-2.jpg');
const A3 = fixture('person-a-3.jpg');
const B = fixture('person-b.jpg');
const TWO = fixture('two-faces.jpg');
const PRINT = fixture('print-attack.jpg');

/** An ID-1 card (85.6 × 54 mm at 10 px/mm): background, text bars and the portrait on the left. */
async function idCard(portrait: Buffer): Promise<Buffer> {
  const photo = await sharp(portrait).resize(200, 260, { fit: 'cover', position: 'north' }).toBuffer();
  const bar = (w: number) => sharp({ create: { width: w, height: 18, channels: 3, background: '#5a6b86' } }).png().toBuffer();
  const bars = await Promise.all([420, 360, 300, 380, 240].map(bar));
  return sharp({ create: { width: 856, height: 540, channels: 3, background: '#cfe3f5' } })
    .composite([
      { input: await sharp({ create: { width: 856, height: 90, channels: 3, background: '#1f4e8c' } }).png().toBuffer(), left: 0, top: 0 },
      { input: photo, left: 40, top: 140 },
      ...bars.map((input, i) => ({ input, left: 290, top: 160 + i * 48 })),
    ])
    .jpeg({ quality: 90 })
    .toBuffer();
}

const solid = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#808080' } }).png().toBuffer();

let h: Harness;
let contract: Contract;
let token: string;
let otherToken: string;

/** `t: null` sends no Authorization header. */
const post = (body: FormData | object, t: string | null = token, base?: string) =>
  call(`${base ?? h.url}${MATCH}`, {
    method: 'POST',
    token: t ?? undefined,
    ...(body instanceof FormData ? { body } : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });

/** Every response of these tests is checked against the served OpenAPI document. */
function checked(method: string, template: string, res: ApiResponse): ApiResponse {
  contract.check(method, template, res);
  return res;
}

const matchOk = async (body: FormData | object, t?: string) => {
  const res = checked('POST', MATCH, await post(body, t));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.result[0];
};

const matchFails = async (body: FormData | object | null, status: number, code: string, t = token) => {
  const res = body === null ? await call(`${h.url}${MATCH}`, { method: 'POST', token: t }) : await post(body, t);
  checked('POST', MATCH, res);
  expect({ status: res.status, errorCodes: res.body.errorCodes, ok: res.body.status }).toEqual({ status, errorCodes: [code], ok: false });
  expect(res.body.message).toMatch(/\w/);
  return res;
};

beforeAll(async () => {
  h = await startHarness();
  contract = new Contract((await call(`${h.url}/api/openapi.json`)).body);
  token = await h.addClient('backend-a', { matchEnrolledUsers: true });
  otherToken = await h.addClient('backend-b');
});

afterAll(async () => {
  await h?.close();
});

describe('matching', () => {
  it('accepts a genuine pair (multipart) and stores the record without images', async () => {
    const record = await matchOk(form({ selfie: A1, reference: A2, record_identifier: 'order-42', user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' }));
    expect(record.decision).toBe('ACCEPTED');
    expect(record.record_identifier).toBe('order-42');
    expect(record.face_match.similarity).toBeGreaterThanOrEqual(80);
    expect(record.face_match.confidence).toBeGreaterThan(50);
    expect(record.selfie_data.liveness_pass).toBe(true);
    expect(record.verification_summary).toEqual({
      face_verified: true,
      selfie_liveness_verified: true,
      document_verified: null,
      verification_rules_passed: true,
      document_liveness_verified: null,
      image_quality: true,
    });
    expect(record.document_data).toEqual([]);
    expect(record.images).toEqual([]);
    expect(record.deviceDetails.detectResult).toEqual({
      client: { type: 'browser', name: 'Mobile Safari', version: '17.4' },
      device: { id: 'apple-iphone', type: 'mobile', brand: 'Apple', model: 'iPhone' },
    });

    const again = checked('GET', RECORD, await call(`${h.url}${MATCH}/${record.requestId}`, { token }));
    expect(again.body.result[0]).toEqual(record);
    expect(await h.services.db.prisma.storedImage.count()).toBe(0);
    const audit = await h.services.db.prisma.auditEvent.findFirst({ where: { type: 'api.match', clientId: 'backend-a' } });
    expect(audit).toMatchObject({ outcome: 'success', reason: 'ACCEPTED' });
  });

  it('declines an impostor pair (JSON with base64 images)', async () => {
    const record = await matchOk({ selfie: A1.toString('base64'), reference: `data:image/jpeg;base64,${B.toString('base64')}` });
    expect(record.decision).toBe('DECLINED');
    expect(record.face_match.similarity).toBeLessThan(60);
    expect(record.verification_summary.face_verified).toBe(false);
    expect(record.errorCodes).toContain('FACE_MISMATCH');
    expect(record.deviceDetails.detectResult.client.type).not.toBe('browser');
  });

  it('matches against an enrolled account by user_id and by email', async () => {
    const user = await h.services.accounts.create({ email: 'ada@example.com', name: 'Ada' });
    const enrolled = await h.services.engine.analyze(A3, 'enroll');
    await h.services.templates.add(user.id, { embedding: enrolled.embedding!, modelId: enrolled.modelId, quality: 1, source: 'test' });

    const byId = await matchOk(form({ selfie: A1, user_id: user.id }));
    expect(byId).toMatchObject({ decision: 'ACCEPTED', reference: { source: 'enrolled', user_id: user.id } });
    const byEmail = await matchOk({ selfie: B.toString('base64'), email: 'ADA@example.com' });
    // Not verified as the account: no similarity, no account id.
    expect(byEmail).toMatchObject({ decision: 'DECLINED', reference: { source: 'enrolled', user_id: null }, face_match: { similarity: null, confidence: null } });
    expect(byEmail.errorCodes).toContain('USER_NOT_VERIFIED');
  });

  it('matches against enrolled accounts only for apps allowed to, and answers alike for every account it cannot verify', async () => {
    const notAllowed = await h.addClient('image-only');
    await matchFails(form({ selfie: A1, user_id: randomUUID() }), 403, 'ENROLLED_MATCH_NOT_ALLOWED', notAllowed);

    const enrolled = await h.services.accounts.create({ email: 'eli@example.com', name: 'Eli' });
    const face = await h.services.engine.analyze(A3, 'enroll');
    await h.services.templates.add(enrolled.id, { embedding: face.embedding!, modelId: face.modelId, quality: 1, source: 'test' });
    const unenrolled = await h.services.accounts.create({ email: 'una@example.com', name: 'Una' });
    const disabled = await h.services.accounts.create({ email: 'dis@example.com', name: 'Dis' });
    await h.services.templates.add(disabled.id, { embedding: face.embedding!, modelId: face.modelId, quality: 1, source: 'test' });
    await h.services.users.setStatus(disabled.id, 'DISABLED');
    const locked = await h.services.accounts.create({ email: 'lok@example.com', name: 'Lok' });
    await h.services.templates.add(locked.id, { embedding: face.embedding!, modelId: face.modelId, quality: 1, source: 'test' });
    await h.services.users.lockFace(locked.id);

    // What an answer says about the account, without the per-request parts.
    const shape = (r: Record<string, unknown>) => ({ ...r, requestId: undefined, createdAt: undefined, updatedAt: undefined, deviceDetails: undefined });
    const answers = [
      await matchOk(form({ selfie: B, user_id: enrolled.id })), // someone else's selfie
      await matchOk(form({ selfie: A1, user_id: randomUUID() })), // no such account
      await matchOk(form({ selfie: A1, email: 'nobody@example.com' })),
      await matchOk(form({ selfie: A1, user_id: unenrolled.id })),
      await matchOk(form({ selfie: A1, user_id: disabled.id })), // the right face, but disabled
      await matchOk(form({ selfie: A1, user_id: locked.id })), // the right face, but face-locked
    ];
    for (const a of answers.slice(1)) expect(shape(a)).toEqual(shape(answers[0]));
    expect(answers[0]).toMatchObject({ decision: 'DECLINED', face_match: { similarity: null }, reference: { user_id: null } });
    // The images are checked before the account is looked at: a bad selfie is a 415 for every account alike.
    for (const ref of [{ user_id: enrolled.id }, { user_id: randomUUID() }]) await matchFails(form({ selfie: Buffer.from('not a picture'), ...ref }), 415, 'SELFIE_UNSUPPORTED_IMAGE');
  });

  it('gives each client a failure budget per account that also slows the account’s sign-in from unknown devices', async () => {
    const fay = await h.services.accounts.create({ email: 'fay@example.com', name: 'Fay' });
    const face = await h.services.engine.analyze(A3, 'enroll');
    await h.services.templates.add(fay.id, { embedding: face.embedding!, modelId: face.modelId, quality: 1, source: 'test' });
    const prober = await h.addClient('prober', { matchEnrolledUsers: true });
    const { faceFailuresBeforeDelay } = await h.services.settings.get();
    for (let i = 0; i < faceFailuresBeforeDelay; i++) expect((await matchOk(form({ selfie: B, user_id: fay.id }), prober)).decision).toBe('DECLINED');
    // The budget is spent: even Fay's own face is not verified for this client now.
    expect(await matchOk(form({ selfie: A1, user_id: fay.id }), prober)).toMatchObject({ decision: 'DECLINED', face_match: { similarity: null } });
    // Another allowed client still verifies her.
    expect((await matchOk(form({ selfie: A1, user_id: fay.id }))).decision).toBe('ACCEPTED');
    // The failures counted at sign-in too, for devices she never signed in with.
    const throttling = await h.services.verification.attempts.throttling(fay.id);
    expect(throttling).toEqual(expect.arrayContaining([expect.objectContaining({ factor: 'face', origin: 'unknown devices', failures: faceFailuresBeforeDelay })]));
  });

  it('compares the portrait of an identity document with the selfie', async () => {
    // A card without a machine-readable zone: its portrait matches, but nothing about it can be checked (issue 20).
    const genuine = await matchOk(form({ selfie: A1, reference: A2, document: await idCard(A3) }));
    expect(genuine.decision).toBe('REVIEW');
    expect(genuine.document_data).toHaveLength(1);
    expect(genuine.document_data[0]).toMatchObject({ documentName: 'document', side: 'front', face_found: true, passed: false, mrz_status: 'not_found', mrz: null });
    expect(genuine.document_data[0].document_face_match.similarity).toBeGreaterThanOrEqual(80);
    expect(genuine.verification_summary.document_verified).toBe(false);
    expect(genuine.errorCodes).toContain('DOCUMENT_MRZ_NOT_FOUND');

    const forged = await matchOk(form({ selfie: A1, reference: A2, document: await idCard(B) }));
    expect(forged.decision).toBe('DECLINED');
    expect(forged.document_data[0].passed).toBe(false);
    expect(forged.errorCodes).toContain('DOCUMENT_FACE_MISMATCH');

    // Neither a portrait nor an MRZ: no document at all.
    await matchFails(form({ selfie: A1, reference: A2, document: await solid(856, 540) }), 422, 'DOCUMENT_NOT_FOUND');
  });

  it("applies the client's decision rules", async () => {
    const strict = await h.addClient('strict', { matchRules: { minSimilarity: 99 } });
    expect((await matchOk(form({ selfie: A1, reference: A2 }), strict)).decision).toBe('DECLINED');

    const needsDocument = await h.addClient('kyc', { matchRules: { documentRequired: true } });
    const noDocument = await matchOk(form({ selfie: A1, reference: A2 }), needsDocument);
    expect(noDocument).toMatchObject({ decision: 'DECLINED', verification_summary: { verification_rules_passed: false, face_verified: true } });
    expect(noDocument.errorCodes).toContain('DOCUMENT_REQUIRED');

    // A printed photo against itself: same face, but no live person in front of the camera.
    const attack = await matchOk(form({ selfie: PRINT, reference: PRINT }));
    expect(attack).toMatchObject({ decision: 'DECLINED', selfie_data: { liveness_pass: false }, verification_summary: { face_verified: true } });
    expect(attack.errorCodes).toContain('SELFIE_LIVENESS_FAILED');

    const lenient = await h.addClient('lenient', { matchRules: { livenessRequired: false, qualityRequired: true } });
    const review = await matchOk(form({ selfie: PRINT, reference: PRINT }), lenient);
    expect(review.decision).toBe('REVIEW');
    expect(review.verification_summary.image_quality).toBe(false);
    expect(review.errorCodes).toEqual(expect.arrayContaining(['SELFIE_LIVENESS_FAILED', 'SELFIE_FACE_ANGLE']));
  });

  it('compares the subject of a reference photo with other people in it and lists the others with their boxes', async () => {
    // two-faces.jpg: person A beside another person of about the same size; A's face is the larger one.
    const record = await matchOk(form({ selfie: A1, reference: TWO }));
    expect(record.decision).toBe('ACCEPTED');
    expect(record.face_match.similarity).toBeGreaterThanOrEqual(80);
    expect(record.errorCodes).toEqual(expect.arrayContaining(['REFERENCE_OTHER_FACES', 'REFERENCE_MULTIPLE_FACES']));
    expect(record.errorCodes).not.toContain('SELFIE_OTHER_FACES');
    const boxes = record.warnings.filter((w: string) => w.startsWith('Reference: another face at'));
    expect(boxes).toHaveLength(1);
    const [x, y, width, height] = /x=(\d+), y=(\d+), width=(\d+), height=(\d+) was not compared/.exec(boxes[0])!.slice(1).map(Number);
    // The other person stands to the right of A, at a comparable size.
    const meta = await sharp(TWO).metadata();
    expect(x).toBeGreaterThan(meta.width! / 2);
    expect(y + height).toBeLessThanOrEqual(meta.height! + 1);
    expect(width).toBeGreaterThan(meta.width! / 5);
    // The same photo as a selfie is refused (above); as an impostor reference it still declines.
    expect((await matchOk(form({ selfie: B, reference: TWO }))).decision).toBe('DECLINED');
  });

  it("reports smaller faces in the selfie and lets the client's rules review or decline them", async () => {
    // Person A with a small photo of person B in the corner (about a third of A's face size).
    const meta = await sharp(A1).metadata();
    const bystander = await sharp(B).resize(Math.round(meta.width! * 0.3)).toBuffer();
    const selfie = await sharp(A1).composite([{ input: bystander, left: 0, top: 0 }]).jpeg({ quality: 90 }).toBuffer();

    const allowed = await matchOk(form({ selfie, reference: A2 }));
    expect(allowed.decision).toBe('ACCEPTED');
    expect(allowed.errorCodes).toContain('SELFIE_OTHER_FACES');
    expect(allowed.warnings.filter((w: string) => w.startsWith('Selfie: another face at'))).toHaveLength(1);

    const review = await h.addClient('busy-background-review', { matchRules: { otherFacesInSelfie: 'review' } });
    expect(await matchOk(form({ selfie, reference: A2 }), review)).toMatchObject({ decision: 'REVIEW', verification_summary: { face_verified: true, verification_rules_passed: false } });
    const decline = await h.addClient('busy-background-decline', { matchRules: { otherFacesInSelfie: 'decline' } });
    expect(await matchOk(form({ selfie, reference: A2 }), decline)).toMatchObject({ decision: 'DECLINED', verification_summary: { face_verified: true } });
    // A selfie with nobody else passes the same rule.
    expect((await matchOk(form({ selfie: A1, reference: A2 }), decline)).decision).toBe('ACCEPTED');
  });

  it('keeps sealed face crops when the operator enables it, readable only by the owning client', async () => {
    await h.services.settings.update({ keepImages: true }, 'test');
    try {
      const record = await matchOk(form({ selfie: A1, reference: A2, document: await idCard(A3) }));
      expect(record.images.map((i: { documentName: string }) => i.documentName).sort()).toEqual(['cropped_portrait', 'reference', 'selfie']);
      const { key } = record.images.find((i: { documentName: string }) => i.documentName === 'selfie');

      const image = checked('GET', IMAGE, await call(`${h.url}/api/v1/images/${key}`, { token }));
      expect(image.status).toBe(200);
      const meta = await sharp(image.raw).metadata();
      expect(meta.format).toBe('jpeg');
      expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(320);

      const row = await h.services.db.prisma.storedImage.findUniqueOrThrow({ where: { key } });
      expect(Buffer.from(row.data).includes(image.raw.subarray(0, 64))).toBe(false);
      const foreign = checked('GET', IMAGE, await call(`${h.url}/api/v1/images/${key}`, { token: otherToken }));
      expect(foreign.body.errorCodes).toEqual(['IMAGE_NOT_FOUND']);
    } finally {
      await h.services.settings.update({ keepImages: false }, 'test');
    }
  });

  it('shows a record only to the client that created it', async () => {
    const record = await matchOk(form({ selfie: A2, reference: A3 }));
    const foreign = checked('GET', RECORD, await call(`${h.url}${MATCH}/${record.requestId}`, { token: otherToken }));
    expect(foreign.body.errorCodes).toEqual(['RECORD_NOT_FOUND']);
    const malformed = checked('GET', RECORD, await call(`${h.url}${MATCH}/not-a-uuid`, { token }));
    expect(malformed.status).toBe(404);
  });

  it('purges records past the retention period with their images, in the retention job', async () => {
    await h.services.settings.update({ keepImages: true }, 'test');
    const record = await matchOk(form({ selfie: A1, reference: A3 }));
    await h.services.settings.update({ keepImages: false }, 'test');
    expect(await h.services.db.prisma.storedImage.count({ where: { matchRequestId: record.requestId } })).toBe(2);
    const { auditRetentionDays } = await h.services.settings.get();
    await h.services.db.prisma.matchRecord.update({ where: { requestId: record.requestId }, data: { createdAt: new Date(Date.now() - (auditRetentionDays + 1) * 86_400_000) } });
    expect(await h.services.retention.run()).toMatchObject({ matchRecords: 1 });
    expect(await h.services.db.prisma.matchRecord.count({ where: { requestId: record.requestId } })).toBe(0);
    expect(await h.services.db.prisma.storedImage.count({ where: { matchRequestId: record.requestId } })).toBe(0);
  });
});

describe('bad input', () => {
  it('answers every bad request in the envelope with a stable code', async () => {
    await matchFails(null, 400, 'SELFIE_REQUIRED');
    await matchFails(form({ reference: A2 }), 400, 'SELFIE_REQUIRED');
    await matchFails(form({ selfie: A1 }), 400, 'REFERENCE_REQUIRED');
    await matchFails(form({ selfie: A1, reference: A2, user_id: randomUUID() }), 400, 'REFERENCE_CONFLICT');
    await matchFails({ selfie: A1.toString('base64'), user_id: randomUUID(), email: 'x@example.com' }, 400, 'REFERENCE_CONFLICT');

    await matchFails(form({ selfie: Buffer.from('just some text, not a picture'), reference: A2 }), 415, 'SELFIE_UNSUPPORTED_IMAGE');
    await matchFails(form({ selfie: A1, reference: A2, document: Buffer.from('%PDF-1.4 not an image') }), 415, 'DOCUMENT_PDF_NOT_SUPPORTED');
    await matchFails(form({ selfie: A1, reference: A2, document: Buffer.from('GIF89a not accepted') }), 415, 'DOCUMENT_UNSUPPORTED_IMAGE');
    const text = await call(`${h.url}${MATCH}`, { method: 'POST', token, body: 'selfie=abc', headers: { 'content-type': 'text/plain' } });
    checked('POST', MATCH, text);
    expect(text.body.errorCodes).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    await matchFails({ selfie: 'not base64 at all!', reference: A2.toString('base64') }, 400, 'INVALID_REQUEST');
    const broken = await call(`${h.url}${MATCH}`, { method: 'POST', token, body: '{"selfie": ', headers: { 'content-type': 'application/json' } });
    expect([broken.status, broken.body.errorCodes]).toEqual([400, ['INVALID_REQUEST']]);

    const oversized = randomBytes(MAX_UPLOAD_BYTES + 200_000);
    await matchFails(form({ selfie: oversized, reference: A2 }), 413, 'SELFIE_IMAGE_TOO_LARGE');
    await matchFails({ selfie: A1.toString('base64'), reference: oversized.toString('base64') }, 413, 'REFERENCE_IMAGE_TOO_LARGE');
    await matchFails(form({ selfie: A1, reference: await solid(2600, 2000) }), 413, 'REFERENCE_IMAGE_TOO_LARGE');

    await matchFails(form({ selfie: await solid(640, 480), reference: A2 }), 422, 'SELFIE_FACE_NOT_FOUND');
    await matchFails(form({ selfie: A1, reference: await solid(640, 480) }), 422, 'REFERENCE_FACE_NOT_FOUND');
    // Two people of comparable size in the selfie: whose face to compare is ambiguous.
    await matchFails(form({ selfie: TWO, reference: A2 }), 422, 'SELFIE_MULTIPLE_FACES');

    const noBoundary = await call(`${h.url}${MATCH}`, { method: 'POST', token, body: 'x', headers: { 'content-type': 'multipart/form-data' } });
    expect([noBoundary.status, noBoundary.body.errorCodes]).toEqual([400, ['INVALID_REQUEST']]);

    // A client that hangs up halfway through its upload: the request settles (and is audited) instead of leaking.
    const aborted = () => h.services.db.prisma.auditEvent.count({ where: { clientId: 'backend-a', reason: 'INVALID_REQUEST' } });
    const before = await aborted();
    const { port } = new URL(h.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST ${MATCH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: multipart/form-data; boundary=b\r\n` +
        `Content-Length: 500000\r\n\r\n--b\r\nContent-Disposition: form-data; name="selfie"; filename="s.jpg"\r\n\r\n`,
    );
    socket.write(A1.subarray(0, 20_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await expect.poll(aborted, { timeout: 5000 }).toBe(before + 1);

    // Still healthy: a good request right after all of them.
    expect((await matchOk(form({ selfie: A1, reference: A2 }))).decision).toBe('ACCEPTED');
    expect(h.services.engine.stats()).toMatchObject({ queued: 0, running: 0 });
  });

  it('sheds a call before reading its upload when the engine would not admit its selfie, and does not audit it', async () => {
    const refusals = () => h.services.db.prisma.auditEvent.count({ where: { type: 'api.match', clientId: 'backend-a', outcome: 'failure' } });
    const before = await refusals();
    const busy = vi.spyOn(h.services.engine, 'admit').mockImplementation(() => {
      throw new FaceError('OVERLOADED', 'busy', { retryAfter: 3 });
    });
    try {
      // A body that reading would refuse with 400: the 503 comes first, so nothing was parsed.
      const res = await matchFails({ selfie: 'not base64 at all' }, 503, 'OVERLOADED');
      expect(res.headers.get('retry-after')).toBe('3');
      expect(busy).toHaveBeenCalledWith(['verify'], { tenant: 'backend-a' });
    } finally {
      busy.mockRestore();
    }
    // Counted in the metrics like a rate-limited call, not written to the audit trail.
    expect(await refusals()).toBe(before);
  });

  it('answers 503 with Retry-After when the face engine is overloaded', async () => {
    const busy = vi.spyOn(h.services.engine, 'analyze').mockRejectedValue(new FaceError('OVERLOADED', 'queue full', { retryAfter: 2 }));
    try {
      const res = await matchFails(form({ selfie: A1, reference: A2 }), 503, 'OVERLOADED');
      expect(res.headers.get('retry-after')).toBe('2');
    } finally {
      busy.mockRestore();
    }
  });
});

describe('authentication and rate limiting', () => {
  it('refuses requests without a valid token or without the face:match scope', async () => {
    const none = checked('POST', MATCH, await post(form({ selfie: A1, reference: A2 }), null));
    expect([none.status, none.body.errorCodes]).toEqual([401, ['UNAUTHORIZED']]);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);

    const unknown = checked('POST', MATCH, await post(form({ selfie: A1, reference: A2 }), 'no-such-token'));
    expect([unknown.status, unknown.body.errorCodes]).toEqual([401, ['UNAUTHORIZED']]);
    expect(unknown.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const signInOnly = await h.addClient('web-app', { scopes: ['openid', 'profile'] });
    const noScope = checked('POST', MATCH, await post(form({ selfie: A1, reference: A2 }), signInOnly));
    expect([noScope.status, noScope.body.errorCodes]).toEqual([403, ['INSUFFICIENT_SCOPE']]);
    expect(noScope.headers.get('www-authenticate')).toContain('error="insufficient_scope"');

    const gone = await h.addClient('deleted-app');
    await h.services.clients.delete('deleted-app');
    expect((await post(form({ selfie: A1, reference: A2 }), gone)).status).toBe(401);

    // A secret rotation ends the tokens obtained with the old secret (it may have leaked); new ones work.
    const beforeRotation = await h.addClient('rotating-app');
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10));
    const newSecret = await h.services.clients.rotateSecret('rotating-app');
    expect(checked('POST', MATCH, await post(form({ selfie: A1, reference: A2 }), beforeRotation)).body.errorCodes).toEqual(['UNAUTHORIZED']);
    const afterRotation = await h.token('rotating-app', newSecret);
    expect((await post(form({ selfie: A1, reference: A2 }), afterRotation)).status).toBe(200);

    // An expired token: the provider's own clock says so (access tokens live ACCESS_TOKEN_TTL, 10 minutes).
    const expiring = await h.addClient('expiring-app');
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 11 * 60_000 });
    try {
      expect(checked('POST', MATCH, await post(form({ selfie: A1, reference: A2 }), expiring)).body.errorCodes).toEqual(['UNAUTHORIZED']);
    } finally {
      vi.useRealTimers();
    }
    expect((await post(form({ selfie: A1, reference: A2 }), expiring)).status).toBe(200);

    const record = checked('GET', RECORD, await call(`${h.url}${MATCH}/${randomUUID()}`));
    expect(record.status).toBe(401);
  });

  it('caps the requests of one client in flight at once, and not those of another', async () => {
    const { limits } = h.services.config;
    const configured = limits.apiConcurrentPerClient;
    limits.apiConcurrentPerClient = 2;
    try {
      const burst = await h.addClient('bursty');
      const statuses = (await Promise.all(Array.from({ length: 8 }, () => post(form({ selfie: A1, reference: A2 }), burst)))).map((r) => checked('POST', MATCH, r).status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      // Once they are done, the client has its share again; other clients never lost theirs.
      expect((await post(form({ selfie: A1, reference: A2 }), burst)).status).toBe(200);
    } finally {
      limits.apiConcurrentPerClient = configured;
    }
  });

  it('limits each client per minute with 429 and Retry-After', async () => {
    const limit = 3;
    // The composed configuration object is what the API reads per request: lower the operator's limit for this test.
    const { limits } = h.services.config;
    const configured = limits.apiPerClientPerMinute;
    limits.apiPerClientPerMinute = limit;
    const base = h.url;
    const limited = await h.addClient('limited');
    // Requests without a body are refused cheaply but still count; retry if a minute boundary reset the window.
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const minute = Math.floor(Date.now() / 60_000);
        const statuses: number[] = [];
        let last: ApiResponse | null = null;
        for (let i = 0; i <= limit; i++) {
          last = await call(`${base}${MATCH}`, { method: 'POST', token: limited });
          statuses.push(last.status);
        }
        if (Math.floor(Date.now() / 60_000) !== minute) continue;
        expect(statuses).toEqual([400, 400, 400, 429]);
        checked('POST', MATCH, last!);
        expect(last!.body.errorCodes).toEqual(['RATE_LIMITED']);
        expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        // Other clients have their own budget.
        expect((await call(`${base}${MATCH}`, { method: 'POST', token: otherToken })).status).toBe(400);
        return;
      }
      throw new Error('two minute boundaries in one test');
    } finally {
      limits.apiPerClientPerMinute = configured;
    }
  });
});

describe('documentation', () => {
  it('serves an OpenAPI 3.1 document whose references resolve', async () => {
    const doc = contract.doc as unknown as Record<string, unknown>;
    expect(doc.openapi).toBe('3.1.0');
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const r of refs) {
      const name = r.slice(8, -1).split('/').pop()!;
      expect((doc.components as { schemas: Record<string, unknown> }).schemas[name], r).toBeDefined();
    }
  });

  it('compiles strictly and rejects a response that breaks it', async () => {
    expect(contract.compileComponents()).toContain('MatchRecord');
    const res = checked('POST', MATCH, await post(form({ selfie: A2, reference: A3 })));
    const broken = structuredClone(res.body);
    broken.result[0].face_match.similarity = 101;
    expect(() => contract.check('POST', MATCH, { ...res, body: broken })).toThrow(/must be <= 100/);
    const extra = structuredClone(res.body);
    extra.result[0].embedding = [0.1];
    expect(() => contract.check('POST', MATCH, { ...res, body: extra })).toThrow(/must NOT have additional properties/);
  });

  it('renders /api/docs without inline script or style', async () => {
    const res = await call(`${h.url}/api/docs`);
    expect(res.status).toBe(200);
    const html = res.raw.toString('utf8');
    expect(html).toContain('/static/app.css');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    for (const path of ['/api/v1/face/match', '/api/v1/face/match/{requestId}', '/api/v1/images/{key}']) expect(html).toContain(path);
    expect(html).toContain('SELFIE_MULTIPLE_FACES');
  });
});

describe('benchmark', () => {
  it('runs in-process through HTTP and cleans up after itself', async () => {
    const selfie = await sharp(A1).resize(640, 480, { fit: 'contain', background: '#ffffff' }).jpeg().toBuffer();
    const result = await runApiBench({ url: h.url, clients: h.services.clients }, { selfie, reference: A2, requests: 6, warmup: 1 });
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p90Ms).toBeGreaterThanOrEqual(result.p50Ms);
    expect(result.matchesPerSecond2).toBeGreaterThan(0);
    expect(await h.services.db.prisma.client.count({ where: { name: 'API benchmark' } })).toBe(0);
  });
});
