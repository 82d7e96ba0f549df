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
    const fail = (p: MultipartProblem) => {
      problem ??= p;
    };

    parser.on('file', (field, stream) => {
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
      pending.push(
        new Promise((done) =>
          stream.on('end', () => {
            if (!stream.truncated) body.files.push({ field, data: Buffer.concat(chunks) });
            done();
          }),
        ),
      );
    });
    parser.on('field', (field, value, info) => {
      if (info.valueTruncated) fail({ kind: 'field-too-long', field });
      body.fields[field] = value;
    });
    const tooMany = () => fail({ kind: 'too-many-parts' });
    parser.on('partsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', (err: Error) => {
      req.unpipe(parser);
      req.resume();
      reject(new MultipartError({ kind: 'malformed', detail: err.message }));
    });
    parser.on('close', () => {
      void Promise.all(pending).then(() => (problem ? reject(new MultipartError(problem)) : resolve(body)));
    });
    req.on('error', () => reject(new MultipartError({ kind: 'interrupted' })));
    req.pipe(parser);
  });
}
