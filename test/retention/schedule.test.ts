import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openServices } from '../../src/server/services.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { ROOT } from '../helpers/server.js';
import { eventually } from '../helpers/wait.js';

const INSTANCE = path.join(ROOT, 'test', 'retention', 'fixtures', 'retention-instance.mjs');

interface Instance {
  child: ChildProcess;
  lines: { msg: string; slot?: number }[];
  exited: Promise<number | null>;
}

function startInstance(env: Record<string, string>): Instance {
  const child = spawn(process.execPath, [INSTANCE], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Instance['lines'] = [];
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) if (line.startsWith('{')) lines.push(JSON.parse(line) as Instance['lines'][number]);
  });
  return { child, lines, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

const slotsWith = (i: Instance, msg: RegExp) => i.lines.filter((l) => msg.test(l.msg)).map((l) => l.slot!);
const RAN = /^retention pass finished$/;
const SKIPPED = /^retention pass skipped/;

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('scheduled retention across two processes on Redis', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let instances: Instance[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // Migrate once up front: the instances then only compete for retention intervals.
    const config = loadConfig({ ...process.env, DATABASE_URL: db.url, REDIS_URL: '', SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'silent' });
    await (await openServices(config, 'schedule test setup')).close();
  });

  afterAll(async () => {
    for (const i of instances) i.child.kill('SIGKILL');
    await db?.drop();
  });

  it('runs one pass per interval: in every interval one instance purges and the other stands aside', async () => {
    // Redis is shared with other test runs: an interval of its own keeps this run's interval keys apart from theirs.
    const intervalMs = 1000 + Math.floor(Math.random() * 500);
    const env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/9`, SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'debug', INTERVAL_MS: String(intervalMs) };
    instances = [startInstance(env), startInstance(env)];
    const ran = () => instances.flatMap((i) => slotsWith(i, RAN));
    const twice = () => ran().filter((slot, i, all) => all.indexOf(slot) !== i);
    // Intervals in which one instance ran and the other found the interval taken.
    const contested = () => {
      const [a, b] = instances;
      const ranA = new Set(slotsWith(a, RAN));
      const ranB = new Set(slotsWith(b, RAN));
      return [...new Set([...slotsWith(a, SKIPPED).filter((s) => ranB.has(s)), ...slotsWith(b, SKIPPED).filter((s) => ranA.has(s))])];
    };
    await eventually(async () => ({ contested: contested(), twice: twice() }), (seen) => seen.contested.length >= 3 || seen.twice.length >= 2, 'three intervals that both instances reached', 60_000);
    for (const i of instances) i.child.kill('SIGTERM');
    expect(await Promise.all(instances.map((i) => i.exited))).toEqual([0, 0]);

    expect(twice(), 'intervals with two passes').toEqual([]);
    expect(contested().length).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
