import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Band } from './locate.js';
import type { Grey } from './morphology.js';

/**
 * Compiled code runs locate-worker.js; from sources (vitest, tsx) locate-worker.ts under tsx's require hook, as the
 * face pool does (src/face/pool.ts): on Node 20 `--import tsx` does not reach worker threads' ESM loader.
 */
function workerEntry(): { filename: string; execArgv: string[] } {
  const self = new URL(import.meta.url);
  const isTs = self.pathname.endsWith('.ts');
  return {
    filename: fileURLToPath(new URL(isTs ? './locate-worker.ts' : './locate-worker.js', self)),
    execArgv: isTs ? ['--require', createRequire(self).resolve('tsx/cjs')] : [],
  };
}

/**
 * The band search (locate.ts: ~0.2 s of JavaScript morphology per photo) in one worker thread, so that a server
 * reading a document keeps answering other requests meanwhile. The thread starts on the first search and stops
 * after a minute without one.
 */
export class BandSearch {
  readonly #piscina = new Piscina<Grey, Band[]>({ ...workerEntry(), minThreads: 0, maxThreads: 1, idleTimeout: 60_000, atomics: 'disabled' });

  /** The working image is copied to the thread (about a megabyte). */
  search(work: Grey): Promise<Band[]> {
    return this.#piscina.run(work);
  }

  close(): Promise<void> {
    return this.#piscina.destroy();
  }
}
