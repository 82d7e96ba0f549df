import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/server.js';

describe('face-oidc CLI', () => {
  it('prints help with --help and exits 0', async () => {
    const r = await runCli(['--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: face-oidc <command>/);
  });

  it('answers misuse with the usage and exit code 2', async () => {
    for (const args of [['frobnicate'], ['user', 'create', '--email', 'x@example.com'], ['--no-such-flag'], []]) {
      const r = await runCli(args, {});
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr + r.stdout).toMatch(/Usage: face-oidc/);
    }
  });

  it('names the scenarios bench --only takes, before running any', async () => {
    const r = await runCli(['bench', '--only', 'overload,nonsense'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--only takes face, capture, api, overload, challenge, documents \(got nonsense\)/);
  });

  it('names the bad environment variable', async () => {
    const r = await runCli(['user', 'list'], { PORT: 'eighty' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Invalid PORT: expected a whole number/);
    const s = await runCli(['user', 'list'], { DATABASE_URL: 'postgresql://127.0.0.1/x', SECRET_KEY: '' });
    expect(s.stderr).toMatch(/Invalid SECRET_KEY/);
  });
});
