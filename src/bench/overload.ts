import { percentile } from '../face/index.js';
import type { ApiBenchTarget } from './api.js';

export interface OverloadBenchOptions {
  selfie: Buffer;
  reference: Buffer;
  /** Backends calling at once, each with its own client and `inFlight` calls (the per-client cap); default 8 × 4. */
  clients?: number;
  inFlight?: number;
  seconds?: number;
}

export interface OverloadBenchResult {
  answered: number;
  accepted: number;
  /** Accepted calls' latency as the backend sees it. */
  acceptedP50Ms: number;
  acceptedP99Ms: number;
  /** Share of calls shed at once with 503 + Retry-After. */
  shedShare: number;
  /** The slowest refusal: shedding must be immediate. */
  shedMaxMs: number;
  /** Answers that are neither 200 nor a 503 with Retry-After (should be 0). */
  other: number;
  /** Accepted calls of the least and of the most served backend: shedding must not starve one of them. */
  acceptedPerClient: { min: number; max: number };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Several backends past capacity (default: 8 clients with 4 calls in flight each) for `seconds`: what a caller of an
 * overloaded instance sees. The promise is that every accepted call finishes within FACE_MAX_WAIT_MS plus its own
 * analyses, and everything else is refused at once with 503 + Retry-After (a shed call is not retried here).
 */
export async function runOverloadBench(target: ApiBenchTarget, opts: OverloadBenchOptions): Promise<OverloadBenchResult> {
  const clients = opts.clients ?? 8;
  const inFlight = opts.inFlight ?? 4;
  const until = performance.now() + (opts.seconds ?? 20) * 1000;
  const url = `${target.url}/api/v1/face/match`;
  const created = await Promise.all(
    Array.from({ length: clients }, (_, i) => target.clients.create({ name: `Overload benchmark ${i}`, grantTypes: ['client_credentials'], scopes: ['face:match'] })),
  );
  const accepted: number[] = [];
  const acceptedBy = new Array<number>(clients).fill(0);
  const shed: number[] = [];
  let other = 0;
  try {
    const tokens = await Promise.all(
      created.map(async ({ client, clientSecret }) => {
        const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(clientSecret!)}`).toString('base64');
        const res = await fetch(`${target.url}/token`, { method: 'POST', headers: { authorization: `Basic ${basic}` }, body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'face:match' }) });
        return ((await res.json()) as { access_token: string }).access_token;
      }),
    );
    const caller = async (token: string, client: number) => {
      while (performance.now() < until) {
        const form = new FormData();
        form.append('selfie', new Blob([new Uint8Array(opts.selfie)], { type: 'image/jpeg' }), 'selfie.jpg');
        form.append('reference', new Blob([new Uint8Array(opts.reference)], { type: 'image/jpeg' }), 'reference.jpg');
        const start = performance.now();
        const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
        await res.arrayBuffer();
        const ms = performance.now() - start;
        if (res.status === 200) {
          accepted.push(ms);
          acceptedBy[client]++;
        }
        else if (res.status === 503 && res.headers.get('retry-after')) {
          shed.push(ms);
          // A backend waits before it calls again; a short pause keeps the load past capacity without spinning.
          await new Promise((r) => setTimeout(r, 50));
        } else other++;
      }
    };
    await Promise.all(tokens.flatMap((token, client) => Array.from({ length: inFlight }, () => caller(token, client))));
  } finally {
    await Promise.all(created.map(({ client }) => target.clients.delete(client.clientId)));
  }
  const answered = accepted.length + shed.length + other;
  return {
    answered,
    accepted: accepted.length,
    acceptedP50Ms: accepted.length ? round1(percentile(accepted, 50)) : 0,
    acceptedP99Ms: accepted.length ? round1(percentile(accepted, 99)) : 0,
    shedShare: answered ? Math.round((shed.length / answered) * 1000) / 1000 : 0,
    shedMaxMs: shed.length ? round1(Math.max(...shed)) : 0,
    other,
    acceptedPerClient: { min: Math.min(...acceptedBy), max: Math.max(...acceptedBy) },
  };
}

export function formatOverload(r: OverloadBenchResult): string {
  return (
    `API overload (8 clients × 4 in flight): ${r.answered} answers, accepted p50 ${r.acceptedP50Ms} ms, p99 ${r.acceptedP99Ms} ms; ` +
    `shed ${Math.round(r.shedShare * 1000) / 10} % (503 + Retry-After, slowest refusal ${r.shedMaxMs} ms); other answers ${r.other}; ` +
    `accepted per backend ${r.acceptedPerClient.min}–${r.acceptedPerClient.max}`
  );
}
