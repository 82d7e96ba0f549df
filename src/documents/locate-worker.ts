import { locateBands, type Band } from './locate.js';
import type { Grey } from './morphology.js';

/** The band search in a worker thread (band-search.ts). */
export default function run(work: Grey): Band[] {
  return locateBands(work);
}
