import { IMAGE_FIELDS, type ImageField } from './errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Top-level keys longer than this are no image field; their text still counts against the rest of the body. */
const MAX_KEY = 16;

/** Which part of a JSON body went over its share. */
export type Overrun = ImageField | 'rest';

/**
 * Follows a JSON body chunk by chunk and counts each top-level image field's string apart from everything else, so
 * that an oversized part is refused while it arrives rather than after the whole body has been buffered. It only
 * classifies bytes (JSON.parse validates the body at the end): whatever the input, every byte counts against
 * either an image field's budget (summed over repeated keys) or the rest's, so the body never outgrows the sum of
 * the budgets. A key written with escapes is not recognised, so its value counts as the rest: stricter, never looser.
 */
export class JsonBudget {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private expectingKey = false;
  private readingKey: number[] | null = null;
  private key: string | null = null;
  private imageString: ImageField | null = null;
  private rest = 0;
  private readonly images = new Map<ImageField, number>();

  constructor(
    private readonly imageBudget: number,
    private readonly restBudget: number,
  ) {}

  /** Counts one chunk; returns the part that went over its budget, if one did. */
  feed(chunk: Buffer): Overrun | null {
    let nextQuote = -1;
    let nextBackslash = -1;
    let i = 0;
    while (i < chunk.length) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          this.count(1);
          i++;
          continue;
        }
        if (nextQuote < i) nextQuote = indexOr(chunk, QUOTE, i);
        if (nextBackslash < i) nextBackslash = indexOr(chunk, BACKSLASH, i);
        const stop = Math.min(nextQuote, nextBackslash);
        if (this.readingKey && this.readingKey.length <= MAX_KEY) this.readingKey.push(...chunk.subarray(i, Math.min(stop, i + MAX_KEY + 1)));
        this.count(stop - i);
        i = stop;
        if (i === chunk.length) break;
        if (chunk[i] === BACKSLASH) {
          this.escaped = true;
          // An escape can spell a quote: the key is then no plain image field name.
          if (this.readingKey) this.readingKey.length = MAX_KEY + 1;
        } else {
          this.endString();
        }
        this.count(1);
        i++;
      } else {
        this.structure(chunk[i]);
        this.count(1);
        i++;
      }
    }
    // Checked per chunk: a part overshoots its budget by one socket read at most.
    return this.overrun();
  }

  private structure(byte: number) {
    if (byte === QUOTE) {
      this.inString = true;
      if (this.depth === 1 && this.expectingKey) this.readingKey = [];
      else if (this.depth === 1 && this.key && (IMAGE_FIELDS as readonly string[]).includes(this.key)) this.imageString = this.key as ImageField;
    } else if (byte === 0x7b || byte === 0x5b) {
      this.depth++;
      if (this.depth === 1) this.expectingKey = byte === 0x7b;
    } else if (byte === 0x7d || byte === 0x5d) {
      this.depth--;
    } else if (this.depth === 1 && byte === 0x3a) {
      this.expectingKey = false;
    } else if (this.depth === 1 && byte === 0x2c) {
      this.expectingKey = true;
      this.key = null;
    }
  }

  private endString() {
    this.inString = false;
    if (this.readingKey) {
      this.key = this.readingKey.length <= MAX_KEY ? Buffer.from(this.readingKey).toString('latin1') : null;
      this.readingKey = null;
    }
    this.imageString = null;
  }

  private count(n: number) {
    if (this.imageString) this.images.set(this.imageString, (this.images.get(this.imageString) ?? 0) + n);
    else this.rest += n;
  }

  private overrun(): Overrun | null {
    if (this.rest > this.restBudget) return 'rest';
    for (const [field, used] of this.images) if (used > this.imageBudget) return field;
    return null;
  }
}

function indexOr(chunk: Buffer, byte: number, from: number): number {
  const at = chunk.indexOf(byte, from);
  return at === -1 ? chunk.length : at;
}
