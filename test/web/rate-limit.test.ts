import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, describe, expect, it } from 'vitest';
import { observe } from '../../src/ops/http.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { memoryKeyValueStore } from '../../src/store/kv.js';
import { errorHandler } from '../../src/web/errors.js';
import { RateWindows } from '../../src/web/rate-limit.js';

describe('per-IP rate limit', () => {
  const kv = memoryKeyValueStore();
  const app = new Koa();
  const logger = createLogger('silent');
  app.use(observe(logger, createMetrics()));
  app.use(errorHandler(logger));
  app.use(new RateWindows(kv).byIp('test', () => 3));
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
  afterAll(async () => {
    server.close();
    await kv.close();
  });

  it('answers 429 with Retry-After and a clear message past the limit', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    const json = { headers: { accept: 'application/json' } };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(url, json)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await fetch(url, json);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED', message: expect.stringMatching(/Too many requests/), requestId: expect.any(String) } });
  });
});
