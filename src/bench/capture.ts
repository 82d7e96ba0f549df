import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { percentile } from '../face/index.js';
import { BrowserSession, openFacePage } from './browser.js';
import { SAMPLE } from './sample.js';
import type { WithServer } from './index.js';

export interface CaptureBenchOptions {
  /** Timed capture POSTs (each on its own interaction and account). */
  iterations?: number;
  /** Untimed POSTs first, so worker and JIT warm-up is not measured. */
  warmup?: number;
  /** A face photo; default: the shipped sample portrait. */
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

const FRAME_SHIFTS = [0, 2, 4];
const REDIRECT_URI = 'http://127.0.0.1:9/cb';

/** Three 640×480 frames a few pixels apart, as a camera held still would give. */
async function cameraFrames(image: string): Promise<Buffer[]> {
  const wide = await sharp(await readFile(image)).rotate().resize(648, 480, { fit: 'cover' }).toBuffer();
  return Promise.all(FRAME_SHIFTS.map((left) => sharp(wide).extract({ left, top: 0, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer()));
}

/**
 * Server time of a face capture POST (three 640×480 frames) measured in-process over HTTP on 127.0.0.1, one request
 * in flight: analysis, replay screening, template comparison, audit and finishing the login. Each request uses its
 * own account, so the replay check sees fresh frames as it would in real use.
 */
export async function runCaptureBench(withServer: WithServer, opts: CaptureBenchOptions = {}): Promise<CaptureBenchResult> {
  const { iterations = 30, warmup = 5 } = opts;
  const env = { ...(opts.poolSize ? { FACE_WORKERS: String(opts.poolSize) } : {}), ...opts.env };
  return withServer(env, async (server) => {
    const s = server.services;
    const image = opts.image ?? SAMPLE.portrait;
    const photo = await readFile(image);
    const frames = await cameraFrames(image);
    // The single-frame capture is the passive acr: only for apps that allow it.
    const { client } = await s.clients.create({ name: 'Capture bench', redirectUris: [REDIRECT_URI], allowPassiveFace: true });
    const timings: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const user = await s.accounts.create({ email: `bench-${i}@example.com`, name: `Bench ${i}` });
      await s.consent.record(user.id, { kind: 'cli' });
      await s.enrollment.enroll({ userId: user.id, image: photo, source: 'cli', actor: { kind: 'cli' } });
      const session = new BrowserSession(server.url);
      const { page, csrf, token } = await openFacePage(session, { clientId: client.clientId, redirectUri: REDIRECT_URI }, user.email);
      const form = new FormData();
      form.append('capture_token', token);
      form.append('_csrf', csrf);
      for (const f of frames) form.append('frame', new Blob([new Uint8Array(f)], { type: 'image/jpeg' }), 'frame.jpg');
      const started = performance.now();
      const res = await session.fetch(`${page}/face`, { method: 'POST', body: form, headers: { accept: 'application/json' } });
      const body = (await res.json()) as { redirect?: string; error?: { code: string } };
      const ms = performance.now() - started;
      if (!body.redirect) throw new Error(`capture ${i} was refused: ${body.error?.code}`);
      if (i >= warmup) timings.push(ms);
    }
    const round = (v: number) => Math.round(v * 10) / 10;
    return { p50Ms: round(percentile(timings, 50)), p90Ms: round(percentile(timings, 90)), iterations, frames: frames.length, frameSize: '640x480' };
  });
}
