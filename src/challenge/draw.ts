import { randomBytes, randomInt } from 'node:crypto';
import { MOVEMENTS, type Challenge, type Movement } from './types.js';

/** A challenge may live at most this long (issue 12: single-use, valid ≤ 60 s). */
export const MAX_LIFETIME_MS = 60_000;
/** Time to read the instruction, settle in front of the camera and answer two or three movements. */
export const DEFAULT_LIFETIME_MS = 45_000;

export interface DrawOptions {
  /** Server clock, ms; default Date.now(). */
  now?: number;
  lifetimeMs?: number;
  /** 2 or 3; default drawn at random. */
  length?: 2 | 3;
}

/**
 * Draws a challenge: 2–3 movements, never the same twice in a row, from the operating system's CSPRNG, so that
 * nobody can know the sequence before the face step starts.
 */
export function drawChallenge(opts: DrawOptions = {}): Challenge {
  const lifetime = opts.lifetimeMs ?? DEFAULT_LIFETIME_MS;
  if (!(lifetime > 0 && lifetime <= MAX_LIFETIME_MS)) throw new RangeError(`lifetimeMs must be in (0, ${MAX_LIFETIME_MS}], got ${lifetime}`);
  const length = opts.length ?? (randomInt(2) === 0 ? 2 : 3);
  if (length !== 2 && length !== 3) throw new RangeError(`length must be 2 or 3, got ${String(length)}`);
  const movements: Movement[] = [];
  while (movements.length < length) {
    const choices = MOVEMENTS.filter((m) => m !== movements.at(-1));
    movements.push(choices[randomInt(choices.length)]);
  }
  const now = opts.now ?? Date.now();
  return { id: randomBytes(16).toString('base64url'), movements, createdAt: now, expiresAt: now + lifetime };
}

/**
 * Parses a comma-separated movement list (`left,right`). Any non-empty list of known movements without an
 * immediate repeat is accepted, so that the offline evaluation can present what a clip performs; drawn challenges
 * always have 2 or 3.
 */
export function parseMovements(text: string): Movement[] {
  const parts = text.split(',').map((s) => s.trim().toLowerCase());
  if (parts.length === 0 || parts.length > 4 || parts.some((p) => !(MOVEMENTS as readonly string[]).includes(p))) {
    throw new RangeError(`a challenge is 1–4 of ${MOVEMENTS.join(', ')} separated by commas, got "${text}"`);
  }
  const movements = parts as Movement[];
  if (movements.some((m, i) => i > 0 && movements[i - 1] === m)) throw new RangeError(`a challenge never repeats a movement twice in a row: "${text}"`);
  return movements;
}
