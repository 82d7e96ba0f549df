import { Piscina } from 'piscina';
import { workerEntry } from '../ops/worker-entry.js';
import type { Band } from './locate.js';
import type { Grey } from './morphology.js';

/**
 * The band search (locate.ts: ~0.2 s of JavaScript morphology per photo) in one worker thread, so that a server
 * reading a document keeps answering other requests meanwhile. The thread starts on the first search and stops
 * after a minute without one.
 */
export class BandSearch {
  readonly #piscina = new Piscina<Grey, Band[]>({ ...workerEntry(import.meta.url, 'locate-worker'), minThreads: 0, maxThreads: 1, idleTimeout: 60_000, atomics: 'disabled' });

  /** The working image is copied to the thread (about a megabyte). */
  search(work: Grey): Promise<Band[]> {
    return this.#piscina.run(work);
  }

  close(): Promise<void> {
    return this.#piscina.destroy();
  }
}
