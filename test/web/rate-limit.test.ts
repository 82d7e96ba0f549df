import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/ops/logger.js';
import { memoryKeyValueStore } from '../../src/store/kv.js';
import { errorHandler } from '../../src/web/errors.js';
import { rateLimitByIp } from '../../src/web/rate-limit.js';

describe('per-IP rate limit', () => {
  const kv = memoryKeyValueStore();
  const app = new Koa();
  app.use(errorHandler(createLogger('silent')));
  app.use(rateLimitByIp(kv, 'test', () => 3));
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
  afterAll(async () => {
    server.close();
    await kv.close();
  });

  it('answers 429 with Retry-After and a clear message past the limit', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/x`;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(url)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await fetch(url);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: 'RATE_LIMITED' });
  });
});
