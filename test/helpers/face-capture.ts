import type { Page } from 'playwright-core';
import { Agent } from '../helpers/browserless.js';
import type { AuthStart } from '../helpers/flow.js';

/** What the capture endpoint answers: the redirect, or the JSON error shape with what the page needs to go on. */
export type CaptureReply =
  | { redirect: string; error?: undefined }
  | { error: { code: string; message: string; requestId: string }; captureToken?: string; retryAfter?: number; redirect?: string };

/**
 * The face page's capture endpoint driven without a browser: for replays, reused tokens and bad input, which a
 * page never sends. Keeps the page's CSRF token and the latest capture token like face-capture.js does.
 */
export class FacePage {
  private constructor(
    readonly agent: Agent,
    readonly url: string,
    readonly html: string,
    readonly csrf: string,
    public token: string,
  ) {}

  /** Walks authorization → identifier → the face page. */
  static async open(start: AuthStart, email: string): Promise<FacePage> {
    const agent = new Agent();
    let { res, url } = await agent.follow(start.url.href);
    const identifier = await res.text();
    ({ res, url } = await agent.submit(url, identifier, /action="([^"]+identify)"/.exec(identifier)![1], { email }));
    const html = await res.text();
    const csrf = /data-csrf="([^"]+)"/.exec(html)?.[1];
    // The challenge page has no capture token: only the passive capture uses one.
    const token = /data-capture-token="([^"]*)"/.exec(html)?.[1] ?? '';
    if (!csrf || !/data-(capture|frame)-url=/.test(html)) throw new Error(`not a face page (${res.status} ${url}): ${html.slice(0, 300)}`);
    return new FacePage(agent, url, html, csrf, token);
  }

  /** Posts to this page's capture endpoint, or with `base` to the same endpoint on another instance. */
  async post(frames: (Buffer | string)[], opts: { token?: string; path?: string; csrf?: string; base?: string } = {}): Promise<{ status: number; body: CaptureReply }> {
    const form = new FormData();
    form.append('capture_token', opts.token ?? this.token);
    form.append('_csrf', opts.csrf ?? this.csrf);
    frames.forEach((f, i) => form.append('frame', new Blob([typeof f === 'string' ? f : new Uint8Array(f)], { type: 'image/jpeg' }), `frame-${i}.jpg`));
    const page = opts.base ? new URL(new URL(this.url).pathname, opts.base).href : this.url;
    const res = await this.agent.request(`${page}/${opts.path ?? 'face'}`, { method: 'POST', body: form, headers: { accept: 'application/json' } });
    const body = (await res.json()) as CaptureReply;
    if (body.error && body.captureToken) this.token = body.captureToken;
    return { status: res.status, body };
  }
}

/** The relying party's redirect URI in these tests; the browser answers it itself so the code can be read. */
export const APP_ORIGIN = 'http://127.0.0.1:9';

export async function interceptApp(page: Page): Promise<void> {
  await page.route(`${APP_ORIGIN}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' }));
}

export async function identify(page: Page, authorizationUrl: URL, email: string): Promise<void> {
  await page.goto(authorizationUrl.href);
  await page.getByTestId('login-identifier').fill(email);
  await page.getByTestId('login-submit').click();
}

const captureRoot = '[data-face-capture]';

export async function cameraReady(page: Page): Promise<void> {
  await page.locator(`${captureRoot}[data-state="ready"]`).waitFor({ timeout: 20_000 });
}

/**
 * Clicks `face-capture` and returns the server's reply once the page has dealt with it. Call it as soon as the camera
 * is ready: the page captures by itself only after two good guidance checks (≥ 1.4 s).
 */
export async function captureFace(page: Page): Promise<CaptureReply> {
  // Read through a route: after a success the page navigates away before a response listener could read the body.
  let replied!: (reply: CaptureReply) => void;
  const answer = new Promise<CaptureReply>((resolve) => (replied = resolve));
  await page.route(
    '**/interaction/*/face',
    async (route) => {
      const response = await route.fetch();
      replied((await response.json()) as CaptureReply);
      await route.fulfill({ response });
    },
    { times: 1 },
  );
  await page.getByTestId('face-capture').click();
  const reply = await answer;
  if (reply.error && !reply.redirect) await page.locator(`${captureRoot}:not([data-state="capturing"])`).waitFor();
  return reply;
}

/** Approves the consent screen when it comes, and returns the URL the app was called back with. */
export async function backAtApp(page: Page): Promise<URL> {
  const atApp = () => page.url().startsWith(APP_ORIGIN);
  await page.waitForFunction((origin) => location.href.startsWith(origin) || document.querySelector('[data-testid="consent-approve"]') !== null, APP_ORIGIN, { timeout: 20_000 });
  if (!atApp()) {
    await page.getByTestId('consent-approve').click();
    await page.waitForURL((u) => u.href.startsWith(APP_ORIGIN));
  }
  return new URL(page.url());
}
