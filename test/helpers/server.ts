import { spawn, type ChildProcess, execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort } from './env.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Tests run the built CLI, as an operator would: `npm test` builds first. */
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

export interface ServerProcess {
  url: string;
  port: number;
  env: Record<string, string>;
  output(): string;
  bootstrapLink(): string | null;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `face-oidc start` in a child process and waits for /readyz. */
export async function startServerProcess(env: Record<string, string>, opts: { port?: number } = {}): Promise<ServerProcess> {
  const port = opts.port ?? (await freePort());
  const fullEnv = { ...process.env, PORT: String(port), ISSUER: `http://localhost:${port}`, LOG_LEVEL: 'warn', FACE_WORKERS: '1', FACE_MAX_WAIT_MS: '60000', ...env } as Record<string, string>;
  const child: ChildProcess = spawn(process.execPath, [CLI, 'start'], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    env: fullEnv,
    output: () => out,
    bootstrapLink: () => /(http:\/\/\S+\/bootstrap\/\S+)/.exec(out)?.[1] ?? null,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
