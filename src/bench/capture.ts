import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { percentile } from '../face/index.js';
import { withTemporaryServer } from './temporary-server.js';

export interface CaptureBenchOptions {
  /** Timed capture POSTs (each on its own interaction and account). */
  iterations?: number;
  /** Untimed POSTs first, so worker and JIT warm-up is not measured. */
  warmup?: number;
  /** A face photo; default: a committed fixture. */
  image?: string;
  poolSize?: number;
  /** Extra environment for the in-process server (e.g. DATABASE_URL, REDIS_URL); default: embedded database, memory state. */
  env?: Record<string, string>;
}

export interface CaptureBenchResult {
  p50Ms: number;
  p90Ms: number;
  iterations: number;
  frames: number;
  frameSize: string;
}

const DEFAULT_IMAGE = fileURLToPath(new URL('../../test/fixtures/faces/deepface-img2.jpg', import.meta.url));
const FRAME_SHIFTS = [0, 2, 4];
const REDIRECT_URI = 'http://127.0.0.1:9/cb';
/** Every client must send PKCE; the benchmark never redeems its code, so RFC 7636's example challenge will do. */
const CODE_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** Three 640×480 frames a few pixels apart, as a camera held still would give. */
async function cameraFrames(image: string): Promise<Buffer[]> {
  const wide = await sharp(await readFile(image)).rotate().resize(648, 480, { fit: 'cover' }).toBuffer();
  return Promise.all(FRAME_SHIFTS.map((left) => sharp(wide).extract({ left, top: 0, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer()));
}

/** Just enough of a browser for the sign-in pages: a cookie jar and manual redirects. */
class Session {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(new URL(url, this.base), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    return res;
  }
}

/** Starts a sign-in, names the account, and returns what the face page gives the browser. */
async function openFacePage(session: Session, clientId: string, email: string) {
  const auth = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: 'bench', nonce: 'bench', code_challenge: CODE_CHALLENGE, code_challenge_method: 'S256' });
  const page = (await session.fetch(`/auth?${auth}`)).headers.get('location')!;
  const identifier = await (await session.fetch(page)).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(identifier)![1];
  await session.fetch(`${page}/identify`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, email }) });
  const face = await (await session.fetch(page)).text();
  const token = /data-capture-token="([^"]+)"/.exec(face)?.[1];
  if (!token) throw new Error(`the face page did not render for ${email}`);
  return { page, csrf, token };
}

/**
 * Server time of a face capture POST (three 640×480 frames) measured in-process over HTTP on 127.0.0.1, one request
 * in flight: analysis, replay screening, template comparison, audit and finishing the login. Each request uses its
 * own account, so the replay check sees fresh frames as it would in real use.
 */
export async function runCaptureBench(opts: CaptureBenchOptions = {}): Promise<CaptureBenchResult> {
  const { iterations = 30, warmup = 5 } = opts;
  const env = { ...(opts.poolSize ? { FACE_WORKERS: String(opts.poolSize) } : {}), ...opts.env };
  return withTemporaryServer(env, async (server) => {
    const s = server.services;
    const image = opts.image ?? DEFAULT_IMAGE;
    const photo = await readFile(image);
    const frames = await cameraFrames(image);
    const { client } = await s.clients.create({ name: 'Capture bench', redirectUris: [REDIRECT_URI] });
    const timings: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const user = await s.users.create({ email: `bench-${i}@example.com`, name: `Bench ${i}` });
      await s.consent.record(user.id, { kind: 'cli' });
      await s.enrollment.enroll({ userId: user.id, image: photo, source: 'cli', actor: { kind: 'cli' } });
      const session = new Session(server.url);
      const { page, csrf, token } = await openFacePage(session, client.clientId, user.email);
      const form = new FormData();
      form.append('capture_token', token);
      form.append('_csrf', csrf);
      for (const f of frames) form.append('frame', new Blob([new Uint8Array(f)], { type: 'image/jpeg' }), 'frame.jpg');
      const started = performance.now();
      const res = await session.fetch(`${page}/face`, { method: 'POST', body: form, headers: { accept: 'application/json' } });
      const body = (await res.json()) as { redirect?: string; error?: { code: string } };
      const ms = performance.now() - started;
      if (!body.redirect) throw new Error(`capture ${i} was refused: ${JSON.stringify(body.error)}`);
      if (i >= warmup) timings.push(ms);
    }
    const round = (v: number) => Math.round(v * 10) / 10;
    return { p50Ms: round(percentile(timings, 50)), p90Ms: round(percentile(timings, 90)), iterations, frames: frames.length, frameSize: '640x480' };
  });
}
