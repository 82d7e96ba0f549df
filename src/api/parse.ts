import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { z } from 'zod';
import { MultipartError, readMultipart } from '../web/multipart.js';
import { ACCEPTED_IMAGES, sniffImageFormat } from '../face/index.js';
import { ApiError, IMAGE_FIELDS, upper, type ImageField } from './errors.js';
import { JsonBudget } from './json-budget.js';

/** A validated match request: exactly one reference (an image or an account) besides the selfie. */
export interface MatchRequest {
  selfie: Buffer;
  reference: { image: Buffer } | { userId: string } | { email: string };
  document: Buffer | null;
  /** The back of a card whose MRZ is there (TD1). */
  documentBack: Buffer | null;
  recordIdentifier: string | null;
  /** The capturing device's user agent, when the caller forwards it; otherwise the caller's own. */
  userAgent: string | null;
}

interface RawRequest {
  images: Partial<Record<ImageField, Buffer>>;
  fields: Record<string, unknown>;
}

const textFields = z.object({
  user_id: z.string().max(100).optional(),
  email: z.string().max(320).optional(),
  record_identifier: z.string().max(200).optional(),
  user_agent: z.string().max(1024).optional(),
});

const MAX_TEXT_FIELD = 1024;
const isImageField = (name: string): name is ImageField => (IMAGE_FIELDS as readonly string[]).includes(name);
// A client hanging up mid-upload is the client's doing, not a server error.
const interrupted = () => new ApiError('INVALID_REQUEST', 'the upload was interrupted');

function tooLarge(field: ImageField, maxBytes: number): ApiError {
  return new ApiError(`${upper(field)}_IMAGE_TOO_LARGE`, `${field} is larger than ${maxBytes} bytes`);
}

/** Multipart images and text fields, with the engine's limits and the API's error codes. */
async function readMultipartRequest(req: IncomingMessage, maxBytes: number): Promise<RawRequest> {
  let body;
  try {
    body = await readMultipart(req, { acceptFile: isImageField, maxFileBytes: maxBytes, maxFiles: IMAGE_FIELDS.length, maxFields: 8, maxFieldBytes: MAX_TEXT_FIELD });
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err;
    const p = err.problem;
    if (p.kind === 'file-too-large') throw tooLarge(p.field as ImageField, maxBytes);
    if (p.kind === 'too-many-parts') throw new ApiError('PAYLOAD_TOO_LARGE', 'the body has too many parts');
    if (p.kind === 'field-too-long') throw new ApiError('INVALID_REQUEST', `${p.field} is longer than ${MAX_TEXT_FIELD} characters`);
    if (p.kind === 'interrupted') throw interrupted();
    throw new ApiError('INVALID_REQUEST', `the multipart body is malformed: ${p.detail}`);
  }
  const images: RawRequest['images'] = {};
  for (const { field, data } of body.files) images[field as ImageField] = data;
  return { images, fields: body.fields };
}

/**
 * Reads a JSON body while `budget` counts it: past an image's or the rest's share the request is refused at once
 * and the remainder drained unbuffered, so that the answer reaches the client on a healthy connection.
 */
function readJson(req: IncomingMessage, budget: JsonBudget, maxImageBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      const over = budget.feed(chunk);
      if (!over) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
      req.resume();
      reject(over === 'rest' ? new ApiError('PAYLOAD_TOO_LARGE', `the JSON body has more than ${MAX_JSON_OUTSIDE_IMAGES} bytes besides the images`) : tooLarge(over, maxImageBytes));
    };
    const onEnd = () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new ApiError('INVALID_REQUEST', 'the body is not valid JSON'));
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => reject(interrupted()));
  });
}

/** base64 or a data: URL; the decoded size is checked before decoding. */
function decodeImage(field: ImageField, value: unknown, maxBytes: number): Buffer | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ApiError('INVALID_REQUEST', `${field} must be a base64 string`);
  const b64 = value.replace(/^data:[\w.+/-]*;base64,/, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) throw new ApiError('INVALID_REQUEST', `${field} is not valid base64`);
  if (Math.floor((b64.length * 3) / 4) > maxBytes + 2) throw tooLarge(field, maxBytes);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length > maxBytes) throw tooLarge(field, maxBytes);
  return bytes;
}

async function readJsonRequest(req: IncomingMessage, maxBytes: number): Promise<RawRequest> {
  const body = await readJson(req, new JsonBudget(base64Budget(maxBytes), MAX_JSON_OUTSIDE_IMAGES), maxBytes);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('INVALID_REQUEST', 'the JSON body must be an object');
  }
  const fields = body as Record<string, unknown>;
  const images: RawRequest['images'] = {};
  for (const field of IMAGE_FIELDS) {
    const bytes = decodeImage(field, fields[field], maxBytes);
    if (bytes) images[field] = bytes;
  }
  return { images, fields };
}

/** Everything in a JSON body but the images' strings: the text fields need a few kilobytes. */
const MAX_JSON_OUTSIDE_IMAGES = 1024 * 1024;

/**
 * The longest JSON string an image of `maxImageBytes` can take: base64 (4/3), line breaks escaped as `\n` every
 * 76 characters (2 per 76, as `base64` writes it) and a data: URL prefix. The decoded size is checked exactly later.
 */
function base64Budget(maxImageBytes: number): number {
  const base64 = Math.ceil(maxImageBytes / 3) * 4;
  return base64 + Math.ceil(base64 / 38) + 256;
}

function jsonLimit(maxImageBytes: number): number {
  return IMAGE_FIELDS.length * base64Budget(maxImageBytes) + MAX_JSON_OUTSIDE_IMAGES;
}

function multipartLimit(maxImageBytes: number): number {
  return IMAGE_FIELDS.length * maxImageBytes + 64 * 1024;
}

const present = (s: string | undefined) => (s && s.trim() ? s.trim() : undefined);

/** By signature, before anything decodes the images or looks an account up; a PDF document gets its own code. */
function checkSignatures(images: RawRequest['images']): void {
  for (const field of IMAGE_FIELDS) {
    const bytes = images[field];
    if (!bytes?.length || sniffImageFormat(bytes)) continue;
    if ((field === 'document' || field === 'document_back') && bytes.subarray(0, 5).toString('latin1') === '%PDF-') {
      throw new ApiError(`${upper(field)}_PDF_NOT_SUPPORTED`, `${field} is a PDF: send a photo or scan of the document as ${ACCEPTED_IMAGES}`);
    }
    throw new ApiError(`${upper(field)}_UNSUPPORTED_IMAGE`, `${field} is not a ${ACCEPTED_IMAGES} image`);
  }
}

/** Reads the shared body (multipart or JSON) with the given limits and validates its text fields. */
async function readRequest(ctx: Context, maxImageBytes: number, missing: ApiError): Promise<{ raw: RawRequest; text: z.infer<typeof textFields> }> {
  const declared = Number(ctx.request.length);
  const empty = !ctx.get('content-type') && !(declared > 0) && !ctx.get('transfer-encoding');
  if (empty) throw missing;
  const type = ctx.request.is('multipart/form-data', 'application/json');
  if (!type) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data or application/json');
  const multipart = type === 'multipart/form-data';
  const limit = multipart ? multipartLimit(maxImageBytes) : jsonLimit(maxImageBytes);
  if (declared > limit) throw new ApiError('PAYLOAD_TOO_LARGE', `the body is larger than ${limit} bytes`);
  const raw = multipart ? await readMultipartRequest(ctx.req, maxImageBytes) : await readJsonRequest(ctx.req, maxImageBytes);
  const text = textFields.safeParse(raw.fields);
  if (!text.success) {
    const issue = text.error.issues[0];
    throw new ApiError('INVALID_REQUEST', `${issue.path.join('.')}: ${issue.message}`);
  }
  return { raw, text: text.data };
}

/** A validated document read: the document (front or the side with the MRZ) and optionally its back. */
export interface DocumentReadRequest {
  document: Buffer;
  documentBack: Buffer | null;
  recordIdentifier: string | null;
}

/** Reads and validates `POST /api/v1/documents/read` (multipart/form-data or JSON with base64 images). */
export async function parseDocumentRequest(ctx: Context, maxImageBytes: number): Promise<DocumentReadRequest> {
  const { raw, text } = await readRequest(ctx, maxImageBytes, new ApiError('DOCUMENT_IMAGE_REQUIRED', 'the request has no body: send document'));
  const { document, document_back: documentBack } = raw.images;
  if (!document?.length) throw new ApiError('DOCUMENT_IMAGE_REQUIRED', 'document (a photo or scan of the identity document) is required');
  checkSignatures(raw.images);
  return { document, documentBack: documentBack?.length ? documentBack : null, recordIdentifier: present(text.record_identifier) ?? null };
}

/** Reads and validates `POST /api/v1/face/match` (multipart/form-data or JSON with base64 images). */
export async function parseMatchRequest(ctx: Context, maxImageBytes: number): Promise<MatchRequest> {
  const { raw, text } = await readRequest(ctx, maxImageBytes, new ApiError('SELFIE_REQUIRED', 'the request has no body: send selfie and a reference'));
  const userId = present(text.user_id);
  const email = present(text.email);
  const { selfie, reference, document, document_back: documentBack } = raw.images;
  // Browsers send an empty part for an empty file input: treat it as absent.
  if (!selfie?.length) throw new ApiError('SELFIE_REQUIRED', 'selfie (an image of the person) is required');
  const references = [reference?.length ? 'reference' : null, userId ? 'user_id' : null, email ? 'email' : null].filter(Boolean);
  if (references.length === 0) throw new ApiError('REFERENCE_REQUIRED', 'send one of reference (an image), user_id or email');
  if (references.length > 1) throw new ApiError('REFERENCE_CONFLICT', `send only one of reference, user_id or email (got ${references.join(', ')})`);
  checkSignatures(raw.images);

  return {
    selfie,
    reference: reference?.length ? { image: reference } : userId ? { userId } : { email: email! },
    document: document?.length ? document : null,
    documentBack: documentBack?.length ? documentBack : null,
    recordIdentifier: present(text.record_identifier) ?? null,
    userAgent: present(text.user_agent) ?? (ctx.get('user-agent') || null),
  };
}
