/**
 * glibc raises its mmap threshold to the size of each large block freed, after which image-sized buffers are carved
 * from per-thread arenas that fragment: a document reader's RSS grew 99 MB over 500 reads with the default and stayed
 * flat with the threshold fixed at 128 KiB (`src/documents/README.md`, Memory). The image, `npm start` and
 * `npm run bench` set it; a process started another way is told.
 */
export const MMAP_THRESHOLD_VARIABLE = 'MALLOC_MMAP_THRESHOLD_';

export interface MallocContext {
  /** `process.platform`. */
  platform: string;
  /** glibc's version at run time, or undefined under another C library (musl, macOS, Windows). */
  glibc: string | undefined;
  env: Record<string, string | undefined>;
}

/** A warning when this process runs on glibc with its mmap threshold left dynamic, else null. */
export function mallocWarning(context: MallocContext): string | null {
  if (context.platform !== 'linux' || !context.glibc) return null;
  if (context.env[MMAP_THRESHOLD_VARIABLE]) return null;
  return `${MMAP_THRESHOLD_VARIABLE} is not set: with glibc's dynamic mmap threshold a long-running document reader grows by about 100 MB; start with ${MMAP_THRESHOLD_VARIABLE}=131072 (the image and npm start do)`;
}

/** This process's context, for `mallocWarning`. */
export function currentMallocContext(): MallocContext {
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return { platform: process.platform, glibc: header?.glibcVersionRuntime, env: process.env };
}
