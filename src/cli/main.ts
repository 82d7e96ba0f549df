#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/index.js';
import { USAGE, UsageError } from './usage.js';

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  email: { type: 'string' },
  name: { type: 'string' },
  password: { type: 'string' },
  photo: { type: 'string', multiple: true },
  admin: { type: 'boolean' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  grant: { type: 'string', multiple: true },
  scope: { type: 'string', multiple: true },
  public: { type: 'boolean' },
  'auth-method': { type: 'string' },
  'first-party': { type: 'boolean' },
  'allow-password': { type: 'boolean' },
  'allow-passive-face': { type: 'boolean' },
  'resource-server': { type: 'boolean' },
  'match-enrolled-users': { type: 'boolean' },
  'requires-proofing': { type: 'boolean' },
  acr: { type: 'string' },
  'match-rules': { type: 'string' },
  jwks: { type: 'string' },
  'jwks-uri': { type: 'string' },
  par: { type: 'string' },
  dpop: { type: 'string' },
  fapi2: { type: 'boolean' },
  explain: { type: 'boolean' },
  'client-id': { type: 'string' },
  'backchannel-logout-uri': { type: 'string' },
  'backchannel-logout-session-required': { type: 'boolean' },
  off: { type: 'boolean' },
  pairs: { type: 'string' },
  scores: { type: 'string' },
  sequences: { type: 'string' },
  image: { type: 'string' },
  seconds: { type: 'string' },
  documents: { type: 'string' },
  lines: { type: 'string' },
  'document-reads': { type: 'string' },
  only: { type: 'string', multiple: true },
} as const;

const GROUPS = new Set(['user', 'client', 'keys', 'document']);

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`face-oidc: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const [first, second, ...rest] = positionals;
  const name = GROUPS.has(first) ? `${first} ${second ?? ''}`.trim() : first;
  // Loaded only for a real command: help and usage errors stay instant and quiet.
  const { commands } = await import('./commands.js');
  const command = commands[name];
  if (!command) {
    process.stderr.write(`face-oidc: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const json = Boolean(values.json);
  try {
    const config = loadConfig();
    await command(config, { json, values, positionals: GROUPS.has(first) ? rest : [second, ...rest].filter(Boolean) });
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`face-oidc ${name}: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    const message = err instanceof ConfigError ? err.message : (err as Error).message;
    if (json) process.stdout.write(`${JSON.stringify({ error: (err as { code?: string }).code ?? (err as Error).name, message })}\n`);
    process.stderr.write(`face-oidc ${name}: ${message}\n`);
    if (process.env.DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}

/**
 * Resolves once everything written to `stream` has left the process. A pipe takes stdout asynchronously: exiting
 * before it drains cuts the output at the pipe's buffer (64 KiB on Linux).
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) return resolve();
    stream.write('', () => resolve());
  });
}

// A reader that goes away (`| head`) is not an error of the command: stop writing and end quietly.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => process.exit(process.exitCode ?? 0));

main(process.argv.slice(2)).then(async (code) => {
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  // `start` never resolves; every other command ends here, even if a pool or socket is still open.
  process.exit(code);
});
