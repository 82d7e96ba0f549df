import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Where a piscina worker thread starts: compiled code runs `<name>.js` beside the caller; from sources (vitest, tsx)
 * `<name>.ts` under tsx's require hook, because on Node 20 `--import tsx` does not reach worker threads' ESM loader,
 * while piscina loads a handler with require() first, which tsx/cjs serves (the workers' module graphs do not use
 * import.meta). `callerUrl` is the caller's `import.meta.url`.
 */
export function workerEntry(callerUrl: string, name: string): { filename: string; execArgv: string[] } {
  const self = new URL(callerUrl);
  const isTs = self.pathname.endsWith('.ts');
  return {
    filename: fileURLToPath(new URL(`./${name}.${isTs ? 'ts' : 'js'}`, self)),
    execArgv: isTs ? ['--require', createRequire(self).resolve('tsx/cjs')] : [],
  };
}
