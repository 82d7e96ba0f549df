import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createApiRouter, type ApiDeps } from '../api/index.js';
import { percentile } from '../face/index.js';
import { randomToken } from '../store/crypto.js';

export interface ApiBenchOptions {
  /** JPEG/PNG bytes, e.g. 640×480 photos of one person. */
  selfie: Buffer;
  reference: Buffer;
  /** Timed requests per phase (sequential latency, then 2 in flight); default 40. */
  requests?: number;
  warmup?: number;
}

export interface ApiBenchResult {
  /** Request latency seen by a client on 127.0.0.1, one request at a time: upload, both analyses, decision, storage. */
  p50Ms: number;
  p90Ms: number;
  /** Completed matches per second with two requests in flight. */
  matchesPerSecond2: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Drives the real router through an HTTP server on 127.0.0.1 with a temporary client (and an access token only
 * this run accepts); the client, its records and its audit events are removed afterwards.
 */
export async function runApiBench(deps: ApiDeps, opts: ApiBenchOptions): Promise<ApiBenchResult> {
  const requests = opts.requests ?? 40;
  const clientId = `bench-${randomUUID()}`;
  const token = randomToken();
  await deps.prisma.client.create({
    data: { clientId, name: 'API benchmark', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['face:match'], tokenEndpointAuthMethod: 'client_secret_basic' },
  });
  const benchDeps: ApiDeps = {
    ...deps,
    config: { ...deps.config, limits: { ...deps.config.limits, apiPerClientPerMinute: Number.MAX_SAFE_INTEGER } },
    authenticate: async (t) => (t === token ? { clientId, scopes: ['face:match'] } : null),
  };
  const app = new Koa();
  app.use(createApiRouter(benchDeps).routes());
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/face/match`;

  const match = async (): Promise<number> => {
    const form = new FormData();
    form.append('selfie', new Blob([new Uint8Array(opts.selfie)], { type: 'image/jpeg' }), 'selfie.jpg');
    form.append('reference', new Blob([new Uint8Array(opts.reference)], { type: 'image/jpeg' }), 'reference.jpg');
    const start = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`benchmark match failed with ${res.status}: ${body.slice(0, 300)}`);
    return performance.now() - start;
  };

  try {
    for (let i = 0; i < (opts.warmup ?? 5); i++) await match();
    const latencies: number[] = [];
    for (let i = 0; i < requests; i++) latencies.push(await match());

    let started = 0;
    const t0 = performance.now();
    const lane = async () => {
      while (started < requests) {
        started++;
        await match();
      }
    };
    await Promise.all([lane(), lane()]);
    const seconds = (performance.now() - t0) / 1000;
    return { p50Ms: round1(percentile(latencies, 50)), p90Ms: round1(percentile(latencies, 90)), matchesPerSecond2: round1(requests / seconds) };
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await deps.prisma.client.delete({ where: { clientId } });
    await deps.prisma.auditEvent.deleteMany({ where: { clientId } });
  }
}
