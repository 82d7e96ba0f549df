import { percentile } from '../face/index.js';
import type { ClientStore } from '../oidc/clients.js';

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

/** The running server the benchmark calls over HTTP, and the client store it registers its caller in. */
export interface ApiBenchTarget {
  url: string;
  clients: Pick<ClientStore, 'create' | 'delete'>;
}

/**
 * Drives the whole running server over HTTP on 127.0.0.1 as a backend would: a temporary client_credentials client,
 * a real access token from /token, then match requests; the client is deleted afterwards.
 */
export async function runApiBench(target: ApiBenchTarget, opts: ApiBenchOptions): Promise<ApiBenchResult> {
  const requests = opts.requests ?? 40;
  const { client, clientSecret } = await target.clients.create({ name: 'API benchmark', grantTypes: ['client_credentials'], scopes: ['face:match'] });
  const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(clientSecret!)}`).toString('base64');
  const issued = await fetch(`${target.url}/token`, { method: 'POST', headers: { authorization: `Basic ${basic}` }, body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'face:match' }) });
  const { access_token: token } = (await issued.json()) as { access_token: string };
  const url = `${target.url}/api/v1/face/match`;

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
    await target.clients.delete(client.clientId);
  }
}
