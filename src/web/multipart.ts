import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';

export interface MultipartLimits {
  /** File parts whose field name passes this are kept; other files are drained and dropped. */
  acceptFile: (field: string) => boolean;
  maxFileBytes: number;
  maxFiles: number;
  maxFields: number;
  maxFieldBytes: number;
}

export interface MultipartBody {
  files: { field: string; data: Buffer }[];
  fields: Record<string, string>;
}

/** What went wrong, for the caller to word in its own domain (API envelope, sign-in page, admin form). */
export type MultipartProblem =
  | { kind: 'malformed'; detail: string }
  | { kind: 'interrupted' }
  | { kind: 'file-too-large'; field: string }
  | { kind: 'field-too-long'; field: string }
  | { kind: 'too-many-parts' };

export class MultipartError extends Error {
  override name = 'MultipartError';
  constructor(readonly problem: MultipartProblem) {
    super(problem.kind);
  }
}

/**
 * Streams a multipart/form-data body through busboy. A file stops being buffered at the size limit (busboy discards
 * the rest), so an oversized upload never sits in memory; the request is still read to its end so that the error
 * response reaches the client on a healthy connection instead of as a reset.
 *
 * Every stream here has an error path: busboy destroys the part being read with "Unexpected end of form" when a body
 * ends early, and an EventEmitter's 'error' with no listener stops the process. The promise settles exactly once.
 */
export function readMultipart(req: IncomingMessage, limits: MultipartLimits): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: limits.maxFileBytes, files: limits.maxFiles, fields: limits.maxFields, fieldSize: limits.maxFieldBytes, parts: limits.maxFiles + limits.maxFields },
      });
    } catch (err) {
      reject(new MultipartError({ kind: 'malformed', detail: (err as Error).message }));
      return;
    }
    const body: MultipartBody = { files: [], fields: {} };
    const pending: Promise<void>[] = [];
    let problem: MultipartProblem | null = null;
    let settled = false;
    const fail = (p: MultipartProblem) => {
      problem ??= p;
    };
    /** Stops parsing at the first fatal problem; what is left of the body is drained so the answer can be read. */
    const abort = (p: MultipartProblem) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      if (!req.destroyed) req.resume();
      parser.destroy();
      reject(new MultipartError(p));
    };

    parser.on('file', (field, stream) => {
      // A part cut short is destroyed with busboy's error; the parser reports the same problem itself.
      const finished = new Promise<void>((done) => {
        stream.on('error', () => done());
        stream.once('end', () => done());
        stream.once('close', () => done());
      });
      pending.push(finished);
      if (!limits.acceptFile(field)) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        chunks.length = 0;
        fail({ kind: 'file-too-large', field });
      });
      stream.once('end', () => {
        if (!stream.truncated) body.files.push({ field, data: Buffer.concat(chunks) });
      });
    });
    parser.on('field', (field, value, info) => {
      if (info.valueTruncated) fail({ kind: 'field-too-long', field });
      body.fields[field] = value;
    });
    const tooMany = () => fail({ kind: 'too-many-parts' });
    parser.on('partsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', (err: Error) => abort({ kind: 'malformed', detail: err.message }));
    parser.on('close', () => {
      void Promise.all(pending).then(() => {
        if (settled) return;
        settled = true;
        if (problem) reject(new MultipartError(problem));
        else resolve(body);
      });
    });
    // The client hung up or the socket failed: nothing is left to answer.
    req.on('error', () => abort({ kind: 'interrupted' }));
    req.on('aborted', () => abort({ kind: 'interrupted' }));
    req.pipe(parser);
  });
}
