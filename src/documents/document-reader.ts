import sharp from 'sharp';
import { DocumentError } from './errors.js';
import { documentFields, type DocumentFields, type FieldConfidence } from './fields.js';
import { verifyMrzModel } from './models.js';
import type { CheckResult, Correction } from './parse.js';
import { decodeGrey, locateAndRead, uprightRegion, type Placement } from './reader.js';
import { Recogniser } from './recognise.js';
import { BandSearch } from './band-search.js';
import { implausibleFields } from './plausible.js';
import { runLineEval } from './eval.js';
import { estimateFront, findEdges } from './edges.js';

export interface DocumentReaderOptions {
  /** Folder with manifest.json and mrz.traineddata. */
  modelsDir: string;
  /** Tesseract worker threads (default 1). */
  workers?: number;
  /** Jobs after which a Tesseract worker is replaced (default 50). */
  recycleAfter?: number;
  /** Largest photo accepted, in pixels (default 40 MP). */
  maxPixels?: number;
}

/**
 * `read`: an MRZ whose every check digit holds. `checks_failed`: an MRZ (two or more check digits hold) with one that
 * fails: misprinted, doctored or misread. `unreadable`: lines shaped like an MRZ whose check digits do not hold.
 * `not_found`: no MRZ in the photo. The fields are given for all but `not_found`.
 */
export type ReadStatus = 'read' | 'checks_failed' | 'unreadable' | 'not_found';

export interface DocumentReading {
  status: ReadStatus;
  /** The record's fields; null for `not_found`. */
  fields: DocumentFields | null;
  confidence: FieldConfidence | null;
  /** Each check digit (document number, birth date, expiry date, personal number, composite) and whether it held. */
  checks: CheckResult[];
  /** MRZ fields whose value no document holds: an unknown document or state code, a date that is no day. */
  implausible: string[];
  /** Two ways of cutting the recognised lines to length both hold every check digit (`checks_failed`). */
  ambiguous: boolean;
  corrections: Correction[];
  /** Where the MRZ is and how far the photo is turned. */
  placement: Placement | null;
  /**
   * With `crops`: the deskewed document in colour (cut at its edges where the photo shows them, elsewhere where the
   * MRZ's size and place and the format's proportions put them; edges.ts) and the MRZ band in grey, as JPEG.
   */
  crops: { front: Buffer; mrz: Buffer } | null;
  timings: { decode: number; read: number; total: number };
}

/** Smallest side that can carry a legible MRZ: 30 characters need about 5 px each. */
const MIN_SIDE = 200;

function checkInput(image: Buffer): void {
  if (image.subarray(0, 5).toString('latin1') === '%PDF-') throw new DocumentError('PDF_NOT_SUPPORTED', 'PDF files are not read: send a photo or scan of the document as JPEG, PNG or WebP');
  const jpeg = image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff;
  const png = image.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const webp = image.subarray(0, 4).toString('latin1') === 'RIFF' && image.subarray(8, 12).toString('latin1') === 'WEBP';
  if (!jpeg && !png && !webp) throw new DocumentError('UNSUPPORTED_IMAGE', 'the document is not a JPEG, PNG or WebP image');
}

/**
 * Reads identity documents: finds the MRZ band (classical morphology on the photo, any quarter turn plus a tilt),
 * recognises it with Tesseract's MRZ model, parses and checks it (ICAO Doc 9303), and says where the document is.
 */
export class DocumentReader {
  readonly #bands = new BandSearch();

  private constructor(
    private readonly recogniser: Recogniser,
    private readonly maxPixels: number,
  ) {}

  /** Verifies the model, starts the Tesseract workers and resolves once they have loaded it. */
  static async create(opts: DocumentReaderOptions): Promise<DocumentReader> {
    await verifyMrzModel(opts.modelsDir);
    const recogniser = new Recogniser({ modelsDir: opts.modelsDir, workers: opts.workers ?? 1, recycleAfter: opts.recycleAfter ?? 50 });
    await recogniser.ready();
    return new DocumentReader(recogniser, opts.maxPixels ?? 40_000_000);
  }

  /**
   * Verifies the model now and starts the workers on the first read: a server that never reads a document
   * spends no memory on Tesseract.
   */
  static async lazy(opts: DocumentReaderOptions): Promise<Pick<DocumentReader, 'read' | 'close'>> {
    await verifyMrzModel(opts.modelsDir);
    let reader: Promise<DocumentReader> | null = null;
    return {
      read: async (image, readOpts) => (await (reader ??= DocumentReader.create(opts))).read(image, readOpts),
      close: async () => {
        await (await reader)?.close();
      },
    };
  }

  async read(image: Buffer, opts: { now?: Date; crops?: boolean } = {}): Promise<DocumentReading> {
    const start = performance.now();
    checkInput(image);
    let decoded;
    try {
      const meta = await sharp(image).metadata();
      if ((meta.width ?? 0) * (meta.height ?? 0) > this.maxPixels) throw new DocumentError('IMAGE_TOO_LARGE', `the document image exceeds ${this.maxPixels} pixels`);
      if (Math.min(meta.width ?? 0, meta.height ?? 0) < MIN_SIDE) throw new DocumentError('IMAGE_TOO_SMALL', `the document image is smaller than ${MIN_SIDE} px on a side: an MRZ cannot be legible`);
      decoded = await decodeGrey(image, this.maxPixels);
    } catch (err) {
      if (err instanceof DocumentError) throw err;
      throw new DocumentError('UNSUPPORTED_IMAGE', 'the document image cannot be decoded', { cause: err });
    }
    const decodeMs = performance.now() - start;
    const outcome = await locateAndRead(decoded.full, decoded.work, decoded.scale, this.recogniser, (work) => this.#bands.search(work));
    const readMs = performance.now() - start - decodeMs;
    if (outcome.kind === 'none') {
      return { status: 'not_found', fields: null, confidence: null, checks: [], implausible: [], ambiguous: false, corrections: [], placement: null, crops: null, timings: { decode: decodeMs, read: readMs, total: performance.now() - start } };
    }
    const now = opts.now ?? new Date();
    const { fields, confidence } = documentFields(outcome.mrz, now);
    let crops: DocumentReading['crops'] = null;
    if (opts.crops) {
      const p = outcome.placement;
      // The MRZ's size and place give the document's extent; its edges, where the photo shows them, correct it.
      const { frame: f } = findEdges(decoded.full, estimateFront(p, outcome.mrz.format), p);
      const { data, info } = await sharp(image, { limitInputPixels: this.maxPixels }).autoOrient().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const colour = { raw: data, width: info.width, height: info.height, channels: 3 as const };
      const front = await (await uprightRegion(colour, f.cx, f.cy, f.rotation, f.w, f.h, f.shear)).resize({ width: 1024, height: 1024, fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 88 }).toBuffer();
      const mrz = await (await uprightRegion(decoded.full, p.cx, p.cy, p.rotation, p.length * 1.08, p.height * 1.5 + 8)).resize({ width: 1024, fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 88 }).toBuffer();
      crops = { front, mrz };
    }
    return {
      status: outcome.kind,
      fields,
      confidence,
      checks: outcome.mrz.checks,
      implausible: implausibleFields(outcome.mrz),
      ambiguous: outcome.kind !== 'read' && outcome.ambiguous,
      corrections: outcome.mrz.corrections,
      placement: outcome.placement,
      crops,
      timings: { decode: decodeMs, read: readMs, total: performance.now() - start },
    };
  }

  /** Exact lines on single-line MRZ crops (`*.tif`/`*.png` with `*.gt.txt`): the recogniser alone. */
  evalLines(dir: string): ReturnType<typeof runLineEval> {
    return runLineEval(this.recogniser, dir);
  }

  async close(): Promise<void> {
    await Promise.all([this.recogniser.close(), this.#bands.close()]);
  }
}
