import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';

/** One recognised text line: its characters and each one's confidence (0–1). */
export interface TextLine {
  text: string;
  confidence: number[];
}

export interface RecogniserOptions {
  /** Folder holding `mrz.traineddata` (checked against models/manifest.json before this is called). */
  modelsDir: string;
  /** Tesseract workers (each a worker thread with its own WASM heap). */
  workers: number;
  /** Jobs after which a worker is replaced: a Tesseract WASM heap only grows, so a long-lived one creeps upward. */
  recycleAfter: number;
}

/** The MRZ alphabet (ICAO Doc 9303 part 3): the recogniser may answer nothing else. */
const MRZ_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<';

interface Slot {
  worker: Promise<Worker>;
  jobs: number;
  busy: boolean;
}

async function startWorker(modelsDir: string): Promise<Worker> {
  // langPath is a local folder, gzip off, no cache: nothing is fetched or written; the WASM core is
  // tesseract.js-core's own file, loaded with require() inside the worker thread.
  const worker = await createWorker('mrz', OEM.LSTM_ONLY, { langPath: modelsDir, gzip: false, cacheMethod: 'none', logger: () => {}, errorHandler: () => {} });
  await worker.setParameters({
    tessedit_pageseg_mode: PSM.SINGLE_BLOCK,
    tessedit_char_whitelist: MRZ_ALPHABET,
    // The crops are scaled to a fixed line height; this only silences Tesseract's guess from missing metadata.
    user_defined_dpi: '300',
  });
  return worker;
}

/**
 * MRZ text recognition on Tesseract (tesseract.js: WASM in worker threads, so the event loop never runs it) with
 * the MRZ-trained LSTM model. A fixed set of workers takes jobs in turn; each is replaced after `recycleAfter` jobs.
 */
export class Recogniser {
  readonly #slots: Slot[];
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  constructor(private readonly opts: RecogniserOptions) {
    this.#slots = Array.from({ length: Math.max(1, opts.workers) }, () => ({ worker: startWorker(opts.modelsDir), jobs: 0, busy: false }));
  }

  /** Resolves once every worker has loaded the model (rejects when the model cannot be loaded). */
  async ready(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.worker));
  }

  async #acquire(): Promise<Slot> {
    for (;;) {
      if (this.#closed) throw new Error('the MRZ recogniser is closed');
      const free = this.#slots.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  #release(slot: Slot): void {
    slot.busy = false;
    if (++slot.jobs >= this.opts.recycleAfter && !this.#closed) {
      const old = slot.worker;
      slot.jobs = 0;
      slot.worker = old.then((w) => w.terminate()).catch(() => {}).then(() => startWorker(this.opts.modelsDir));
    }
    this.#waiting.shift()?.();
  }

  /** Text lines of a greyscale PNG or JPEG crop, top to bottom. */
  async recognise(image: Buffer): Promise<TextLine[]> {
    const slot = await this.#acquire();
    try {
      const worker = await slot.worker;
      const { data } = await worker.recognize(image, {}, { blocks: true, text: false });
      const lines: TextLine[] = [];
      for (const block of data.blocks ?? []) {
        for (const para of block.paragraphs) {
          for (const line of para.lines) {
            const symbols = line.words.flatMap((w) => w.symbols);
            lines.push({ text: symbols.map((s) => s.text).join(''), confidence: symbols.map((s) => Math.max(0, Math.min(1, s.confidence / 100))) });
          }
        }
      }
      return lines;
    } finally {
      this.#release(slot);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) w();
    await Promise.all(this.#slots.map((s) => s.worker.then((w) => w.terminate()).catch(() => {})));
  }
}
