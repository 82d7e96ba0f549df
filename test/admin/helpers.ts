import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Agent } from '../helpers/browserless.js';
import { answerChallenge } from '../helpers/challenge.js';
import { ROOT } from '../helpers/server.js';

export const FIXTURES = path.join(ROOT, 'test', 'admin', 'fixtures');
export const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));

/** A picture with no face at all: a smooth gradient. */
export async function noFacePhoto(): Promise<Buffer> {
  const width = 480;
  const height = 360;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.fill(Math.round((x / width) * 200) + 20, (y * width + x) * 3, (y * width + x) * 3 + 3);
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg().toBuffer();
}

export function photoForm(photo: Buffer, fields: Record<string, string> = {}, name = 'photo'): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append(name, new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  return form;
}

export const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/**
 * Signs in through the provider's pages with plain HTTP: identifier, then the face step with `photo` as the camera
 * frame (what face-capture.js posts). Returns the last response once back on the server's own pages.
 */
/**
 * Identifier, then the face step: `photo` is posted to a passive capture page; a head-movement challenge page (the
 * console's own sign-in) is answered with `frames`, in order, as the page would stream them.
 */
export async function faceSignIn(agent: Agent, start: string, email: string, photo: Buffer, frames?: Buffer[]): Promise<{ res: Response; url: string }> {
  let { res, url } = await agent.follow(start);
  let html = await res.text();
  if (html.includes('data-testid="login-identifier"')) {
    ({ res, url } = await agent.submit(url, html, /action="([^"]+identify)"/.exec(html)![1], { email }));
    html = await res.text();
  }
  if (html.includes('data-face-challenge') && frames) {
    const reply = await answerChallenge(agent, url, html, frames);
    if (!reply.body.redirect) throw new Error(`face sign-in refused (${reply.status}): ${JSON.stringify(reply.body)}`);
    return agent.follow(new URL(reply.body.redirect, url).href);
  }
  const capture = /data-capture-url="([^"]+)"/.exec(html);
  if (!capture) throw new Error(`expected the face step at ${url} (${res.status}): ${html.slice(0, 400)}`);
  const token = /data-capture-token="([^"]+)"/.exec(html)![1];
  const csrf = /data-csrf="([^"]+)"/.exec(html)![1];
  const reply = await agent.request(new URL(capture[1], url).href, {
    method: 'POST',
    body: photoForm(photo, { _csrf: csrf, capture_token: token }, 'frame'),
    headers: { accept: 'application/json' },
  });
  const body = (await reply.json()) as { redirect?: string; error?: { code: string; message: string } };
  if (body.error || !body.redirect) throw new Error(`face sign-in refused (${reply.status}): ${JSON.stringify(body)}`);
  return agent.follow(new URL(body.redirect, url).href);
}
