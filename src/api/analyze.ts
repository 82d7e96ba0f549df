import { ACCEPTED_IMAGES, FaceError, type Admission, type Analysis, type FaceEngine, type Purpose } from '../face/index.js';
import { ApiError, upper, type ImageField } from './errors.js';

/** The selfie's, the reference's and (from src/api/documents.ts) the document portrait's analyses. */
export type Analyses = { selfie: Analysis } & Partial<Record<'reference' | 'document', Analysis>>;

type FaceField = 'selfie' | 'reference';

/**
 * Every image is compared through its subject, the engine's one rule: the largest face, ties within the detector's
 * size jitter going to the face nearest the image centre. The selfie is a live capture ('verify': liveness, and a
 * second face of comparable size is MULTIPLE_FACES). The reference is a photo on file, in the role of an enrolment
 * photo ('enroll': no liveness, which means nothing for a photo of a photo). On a document the portrait is the
 * largest face ('match'), whatever else is printed on the card (src/api/documents.ts). The reference and the
 * portrait are embedded with their mirror, the selfie once, as at sign-in (src/face/README.md, Mirror averaging).
 */
const PURPOSE: Record<FaceField, Purpose> = { selfie: 'verify', reference: 'enroll' };

/** The API's answer for a face engine's refusal of one image (other errors pass through). */
export function faceApiError(field: ImageField, err: unknown): unknown {
  if (!(err instanceof FaceError)) return err;
  switch (err.code) {
    case 'UNSUPPORTED_IMAGE':
      // Never the decoder's text: it names libraries and versions, and helps probe them.
      return new ApiError(`${upper(field)}_UNSUPPORTED_IMAGE`, `${field} is not a readable ${ACCEPTED_IMAGES} image`);
    case 'IMAGE_TOO_LARGE':
      return new ApiError(`${upper(field)}_IMAGE_TOO_LARGE`, `${field}: ${err.message}`);
    case 'OVERLOADED':
      return new ApiError('OVERLOADED', 'the face engine is busy; retry shortly', { 'Retry-After': String(err.retryAfter ?? 1) });
    case 'ENGINE_UNAVAILABLE':
      return new ApiError('ENGINE_UNAVAILABLE', 'the face engine is unavailable; retry shortly', { 'Retry-After': String(err.retryAfter ?? 5) });
    default:
      return err;
  }
}

function requireFace(field: 'selfie' | 'reference', a: Analysis): void {
  if (!a.face) throw new ApiError(`${upper(field)}_FACE_NOT_FOUND`, `no face was found in the ${field}`);
}

/**
 * A reference photo on file may show other people: its subject is compared and the others are reported. A selfie
 * with two faces of comparable size cannot say who is taking it, so that one request is refused.
 */
function requireUnambiguousSelfie(a: Analysis): void {
  if (a.quality.issues.some((i) => i.code === 'MULTIPLE_FACES')) {
    throw new ApiError('SELFIE_MULTIPLE_FACES', 'the selfie shows two faces of comparable size: whose face to compare is ambiguous');
  }
}

/**
 * Admits a match request for its selfie before its body is read (under overload a refusal then costs no upload
 * parsing, which would take the CPU the admitted requests need), or sheds it with 503 + Retry-After: past the
 * engine's maximum wait, or past the client's fair share while others are refused. `extendMatch` adds the rest once
 * the body says what it is; the caller releases the admission when the analyses are done.
 */
export function admitMatch(engine: Pick<FaceEngine, 'admit'>, clientId: string): Admission {
  try {
    return engine.admit([PURPOSE.selfie], { tenant: clientId });
  } catch (err) {
    throw faceApiError('selfie', err);
  }
}

/**
 * Adds the request's other analyses (the reference photo, a document's portrait) to its admission before any
 * starts: a request that would then wait too long is shed whole instead of queueing work for an answer that would
 * come too late.
 */
export function extendMatch(admission: Admission, images: { reference?: Buffer }, document: boolean): void {
  try {
    admission.extend([...(images.reference ? [PURPOSE.reference] : []), ...(document ? (['match'] as const) : [])]);
  } catch (err) {
    throw faceApiError('selfie', err);
  }
}

/**
 * Analyses the selfie and the reference in parallel, under the request's admission; the first failure in field
 * order wins. (A document's portrait is analysed after its MRZ told how it stands: src/api/documents.ts.)
 */
export async function analyzeImages(engine: Pick<FaceEngine, 'analyze'>, images: { selfie: Buffer; reference?: Buffer }, admission: Admission): Promise<Analyses> {
  const fields = (['selfie', 'reference'] as const).filter((f) => images[f]);
  const settled = await Promise.allSettled(fields.map((f) => engine.analyze(images[f]!, PURPOSE[f], { admission })));
  const out: Partial<Record<FaceField, Analysis>> = {};
  settled.forEach((s, i) => {
    if (s.status === 'rejected') throw faceApiError(fields[i], s.reason);
    out[fields[i]] = s.value;
  });
  const result = out as Analyses;
  requireFace('selfie', result.selfie);
  requireUnambiguousSelfie(result.selfie);
  if (result.reference) requireFace('reference', result.reference);
  return result;
}
