import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Challenge, Movement } from '../../src/challenge/index.js';
import type { KeyValueStore } from '../../src/store/kv.js';
import type { Agent } from './browserless.js';
import { random } from './camera.js';
import { decode, encode, shift } from './liveness-set/image.js';
import { ROOT } from './server.js';

/** A real person answering "up, right" at 6 frames per second (the benchmark's recording). */
export const RECORDING_DIR = path.join(ROOT, 'src', 'bench', 'sample', 'challenge-up-right');
export const RECORDING_MOVEMENTS: Movement[] = ['up', 'right'];
/**
 * Where the recording shows each movement clearly (nose offset and fr_pose past the targets): frame 7 is "up"
 * (tipped 18° above the first frame), frame 12 "right" (turned 15°). The person in it answered briskly, holding each
 * for well under a second; a person at a busy server holds until the page moves on, and so does SteerableCamera.
 */
export const RECORDING_HOLDS: Partial<Record<Movement, number>> = { up: 7, right: 12 };
/** Its first frame: frontal, the picture to enroll the person from. */
export const RECORDING_FACE = path.join(RECORDING_DIR, 'frame_0001.jpg');

/**
 * The recording's frames a script would pick as posed photos (0-based; fr_pose and the nose offset against the first
 * frame, `face-oidc liveness-eval --explain`): the first frame is the most frontal (yaw −0.2°), frame 8 the farthest
 * "up" (pitch +17°, offset 0.30), frame 9 the farthest "right" (offset 0.39, yaw 15°, still 19° up).
 */
export const RECORDING_POSES: Record<'frontal' | 'up' | 'right', number> = { frontal: 0, up: 7, right: 8 };

/**
 * A person who sweeps: the recording's "up" (frames 7–8), back down through frontal (frames 29, 24, 25: the same
 * person later in the recording, 11° and 7° up, then at rest) and straight on into the right turn, with no rest
 * between the two movements, through the poses of the turn's own way back (22, 17–20: 2–10° of yaw), to its peak
 * (13–15) and back to rest (21, 26–28). Real frames of the person, each used once, along the path people take when
 * they do not stop between movements (src/challenge/README.md, "Why these numbers"). 1-based frame numbers.
 */
export const SWEEP_FRAMES = [1, 2, 3, 4, 5, 6, 7, 8, 29, 24, 25, 22, 17, 18, 19, 20, 13, 14, 15, 21, 26, 27, 28];
/** Where SteerableCamera holds the sweep (indices into SWEEP_FRAMES): "up" at frame 8, "right" at frame 13. */
export const SWEEP_HOLDS: Partial<Record<Movement, number>> = { up: 7, right: 16 };

export function sweepFrames(): Buffer[] {
  const all = recordingFrames();
  return SWEEP_FRAMES.map((n) => all[n - 1]);
}

/**
 * Posed photos as a script posts them: each picture of `shown` for `hold` frames, every frame re-saved (camera noise,
 * a shift of 1–4 px each way, JPEG at 80–92), so that no two frames share bytes and none is the previous one again.
 */
export async function resavedPoses(shown: Buffer[], hold: number, seed: number): Promise<Buffer[]> {
  const rnd = random(seed);
  const px = () => (1 + Math.floor(rnd() * 4)) * (rnd() < 0.5 ? -1 : 1);
  const frames: Buffer[] = [];
  for (const picture of shown) {
    const raw = await decode(picture);
    for (let i = 0; i < hold; i++) frames.push(await encode(shift(raw, px(), px()), rnd, 2 + 2 * rnd(), 1, Math.round(80 + 12 * rnd())));
  }
  return frames;
}

export function recordingFrames(): Buffer[] {
  return readdirSync(RECORDING_DIR)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => readFileSync(path.join(RECORDING_DIR, f)));
}

/**
 * The test seam of the composition (createApp's `drawChallenge` override): every challenge drawn is `movements`
 * with `lifetimeMs`, so that a test can present the recording with the challenge it performs, or another one.
 */
export class ForcedChallenges {
  movements: Movement[] = RECORDING_MOVEMENTS;
  lifetimeMs = 45_000;

  readonly draw = (): Challenge => {
    const now = Date.now();
    return { id: randomBytes(16).toString('base64url'), movements: [...this.movements], createdAt: now, expiresAt: now + this.lifetimeMs };
  };
}

export interface FrameReply {
  status: number;
  body: { progress?: { status: string; step: string }; redirect?: string; error?: { code: string; message: string } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A challenge drawn the way the face page draws it once its camera runs: a POST to its start URL. */
export interface StartedChallenge {
  id: string;
  total: number;
  csrf: string;
  /** Absolute URLs of the page's frame and start endpoints. */
  frameUrl: string;
  startUrl: string;
}

/** Draws a challenge for a face page (its HTML) as face-challenge.js does: the page itself never carries one. */
export async function startChallenge(agent: Agent, pageUrl: string, html: string): Promise<StartedChallenge> {
  const csrf = /data-csrf="([^"]+)"/.exec(html)?.[1];
  const startPath = /data-start-url="([^"]+)"/.exec(html)?.[1];
  const framePath = /data-frame-url="([^"]+)"/.exec(html)?.[1];
  if (!csrf || !startPath || !framePath) throw new Error(`not a challenge page (${pageUrl}): ${html.slice(0, 300)}`);
  const startUrl = new URL(startPath, pageUrl).href;
  const res = await agent.request(startUrl, { method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': csrf } });
  const body = (await res.json()) as { challenge?: { id: string; total: number }; error?: { code: string } };
  if (!body.challenge) throw new Error(`no challenge drawn (${res.status}): ${JSON.stringify(body)}`);
  return { ...body.challenge, csrf, startUrl, frameUrl: new URL(framePath, pageUrl).href };
}

/**
 * Answers the challenge of a face page (its HTML) without a browser: draws a challenge, then posts `frames` one at a
 * time at the recording's pace, as the page streams them, until the server decides. Returns the deciding reply (or
 * the last one).
 */
export async function answerChallenge(agent: Agent, pageUrl: string, html: string, frames: Buffer[], gapMs = 170): Promise<FrameReply> {
  const challenge = await startChallenge(agent, pageUrl, html);
  let last: FrameReply = { status: 0, body: {} };
  for (const frame of frames) {
    last = await postFrame(agent, challenge.frameUrl, challenge.csrf, challenge.id, frame);
    if (last.body.redirect || (last.status >= 400 && last.body.error?.code !== 'FRAME_TOO_FAST')) return last;
    await sleep(gapMs);
  }
  return last;
}

export async function postFrame(agent: Agent, url: string, csrf: string, challenge: string, frame: Buffer | string): Promise<FrameReply> {
  const form = new FormData();
  form.append('_csrf', csrf);
  form.append('challenge', challenge);
  form.append('frame', new Blob([typeof frame === 'string' ? frame : new Uint8Array(frame)], { type: 'image/jpeg' }), 'frame.jpg');
  // As face-challenge.js sends it: the token in the form and in the header (the account pages check the header).
  const res = await agent.request(url, { method: 'POST', body: form, headers: { accept: 'application/json', 'x-csrf-token': csrf } });
  return { status: res.status, body: (await res.json()) as FrameReply['body'] };
}

/**
 * A webcam the test steers (shared/DESIGN.md §3, as on branch issue-13): every page's getUserMedia gets a canvas
 * stream. Until the page shows a challenge step it paints the first frame; from the moment `data-step` is set it
 * plays `frames` at `fps` (holding a movement's frame for up to a second while the page asks for it) and then holds
 * the last one; once the page has stopped streaming (decided) it keeps its picture until a new challenge streams.
 * Each paint adds a few random pixels, as camera noise does, so that no two streamed frames are byte-identical.
 *
 * The picture never plays further ahead than the server has answered: each answered frame lets it play on for
 * ANSWER_PLAY_MS. The page streams a frame every 150 ms, so on a host that keeps up the clock alone sets the pace;
 * on a starved one (a stalled CI runner answering a frame a second) the person moves in slow motion rather than
 * through whole movements the server never saw. The tests judge the verifier; `npm run bench` times it.
 */
export class SteerableCamera {
  private frames: string[] = [];
  private fps = 6;
  private holds: Partial<Record<Movement, number>> = {};
  private held = false;
  private stalled = false;

  private constructor() {}

  static async install(context: BrowserContext): Promise<SteerableCamera> {
    const camera = new SteerableCamera();
    await context.exposeFunction('__cameraFeed', () => ({ frames: camera.frames, fps: camera.fps, holds: camera.holds }));
    await context.exposeFunction('__cameraHeld', () => ({ held: camera.held, stalled: camera.stalled }));
    await context.addInitScript(() => {
      const devices = navigator.mediaDevices;
      if (!devices) return;
      const expose = window as unknown as { __cameraFeed(): Promise<{ frames: string[]; fps: number; holds: Record<string, number> }>; __cameraHeld(): Promise<{ held: boolean; stalled: boolean }> };
      // Every step the page shows, recorded as it is set: a step can show for one frame's answer only, shorter than
      // a locator's polling interval (up to 500 ms), when the movement was made while the page asked for the last one.
      const shown: string[] = [];
      (window as unknown as { __stepsShown: string[] }).__stepsShown = shown;
      new MutationObserver((records) => {
        for (const r of records) {
          const step = (r.target as HTMLElement).dataset.step;
          if (step && shown.at(-1) !== step) shown.push(step);
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-step'] });
      let answered = 0;
      const fetchFirst = window.fetch.bind(window);
      window.fetch = async (...args: Parameters<typeof fetch>) => {
        const res = await fetchFirst(...args);
        if (new URL(String(args[0]), location.href).pathname.endsWith('/challenge/frame')) answered++;
        return res;
      };
      devices.getUserMedia = async () => {
        const feed = await expose.__cameraFeed();
        // Decoded by hand: fetch() of a data: URL would need connect-src data:, which the pages' CSP refuses.
        const bitmaps = await Promise.all(feed.frames.map((b64) => createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }))));
        const canvas = document.createElement('canvas');
        canvas.width = 640;
        canvas.height = 480;
        const g = canvas.getContext('2d')!;
        // Playing time: it runs while a challenge step shows and the test does not hold the picture, on the camera's
        // clock, which follows the wall clock as far as the server's answers allow (ANSWER_PLAY_MS each).
        const ANSWER_PLAY_MS = 300;
        let played = 0;
        let last = performance.now();
        let clock = 0;
        let credit = ANSWER_PLAY_MS;
        let counted = 0;
        let held = false;
        let stalled = false;
        let still: ImageData | null = null;
        let heldSince: number | null = null;
        let decided = false;
        setInterval(() => void expose.__cameraHeld().then((h) => ({ held, stalled } = h)), 30);
        const paint = () => {
          // A stalled camera keeps delivering frames, every one the same picture.
          if (stalled) {
            still ??= g.getImageData(0, 0, 640, 480);
            g.putImageData(still, 0, 0);
            last = performance.now();
            return;
          }
          still = null;
          const root = document.querySelector<HTMLElement>('[data-testid="face-challenge"]');
          const step = root?.dataset.step;
          credit = Math.min(2 * ANSWER_PLAY_MS, credit + (answered - counted) * ANSWER_PLAY_MS);
          counted = answered;
          const advance = Math.min(performance.now() - last, credit);
          credit -= advance;
          clock += advance;
          const now = clock;
          // Each new challenge (the page streams its first step again) starts the recording over; a decided one keeps
          // the picture it was decided on, so that a screenshot of the page shows what the server saw.
          if (!step) played = 0;
          else if (root?.dataset.state !== 'streaming') decided = true;
          else if (decided) {
            decided = false;
            played = 0;
          } else if (!held) played += advance;
          last = performance.now();
          let index = Math.min(bitmaps.length - 1, Math.floor((played / 1000) * feed.fps));
          // Like a person, the camera holds a movement while the page asks for it, for a second at most, and then comes
          // back as the recording does, whether or not the page has moved on.
          const hold = step ? feed.holds[step] : undefined;
          if (hold === undefined || index < hold) heldSince = null;
          else if ((heldSince ??= now) > now - 1000) {
            index = hold;
            played = (hold * 1000) / feed.fps;
          }
          const image = bitmaps[index];
          // Letterboxed like a 4:3 webcam around the square recording.
          g.fillStyle = '#20242c';
          g.fillRect(0, 0, 640, 480);
          const side = 480;
          g.drawImage(image, (640 - side) / 2, 0, side, side);
          for (let i = 0; i < 6; i++) {
            g.fillStyle = `rgb(${Math.random() * 255},${Math.random() * 255},${Math.random() * 255})`;
            g.fillRect(Math.random() * 60, Math.random() * 480, 2, 2);
          }
        };
        paint();
        setInterval(paint, 40);
        return canvas.captureStream(25);
      };
    });
    return camera;
  }

  /** Holds the current picture (camera noise goes on) until released, e.g. while a screenshot is taken. */
  hold(held: boolean): void {
    this.held = held;
  }

  /** Stalls the camera: it goes on delivering frames, each the same picture (no noise), until released. */
  stall(stalled: boolean): void {
    this.stalled = stalled;
  }

  /**
   * From the next getUserMedia on, the camera shows these frames (JPEG), played at `fps` once a challenge step shows;
   * while the page asks for a movement of `holds`, playback stops at that movement's frame.
   */
  show(frames: Buffer[], fps = 6, holds: Partial<Record<Movement, number>> = {}): void {
    this.frames = frames.map((f) => f.toString('base64'));
    this.fps = fps;
    this.holds = holds;
  }
}

/** Waits until a page with the SteerableCamera has shown the challenge step `step`, however briefly (it may have moved on since). */
export async function stepShown(page: Page, step: string, timeout = 30_000): Promise<void> {
  await page.waitForFunction((s) => (window as unknown as { __stepsShown?: string[] }).__stepsShown?.includes(s), step, { timeout });
}

/**
 * The tests have one recording of a real person answering a challenge, and the server rightly refuses a sequence it
 * has seen for an account (src/verification/replay.ts). Tests whose subject is not replay screening but that sign
 * one account in several times forget the account's replay memory first, as if the person sat down anew.
 */
export async function newSitting(kv: Pick<KeyValueStore, 'del'>, userId: string): Promise<void> {
  await kv.del(`replay:${userId}`);
}
