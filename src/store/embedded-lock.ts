import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';

export class DatabaseBusyError extends Error {
  override name = 'DatabaseBusyError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is a single-process database: a second process opening the same folder would corrupt it. A pid file
 * taken with O_EXCL makes the second opener fail instead; a file left by a dead process is taken over.
 */
export function lockDataDir(dir: string, holder: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'face-oidc.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, holder, since: new Date().toISOString() }));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: { pid?: number; holder?: string } = {};
      try {
        owner = JSON.parse(readFileSync(file, 'utf8')) as typeof owner;
      } catch {
        // A half-written lock file means its writer died while taking it.
      }
      if (owner.pid && owner.pid !== process.pid && alive(owner.pid)) {
        throw new DatabaseBusyError(
          `the embedded database in ${dir} is in use by ${owner.holder ?? 'another process'} (pid ${owner.pid}); ` +
            'stop the server or use the admin UI (or set DATABASE_URL to use PostgreSQL, which allows several processes)',
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new DatabaseBusyError(`could not lock ${file}`);
}
