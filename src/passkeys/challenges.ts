import { randomBytes } from 'node:crypto';
import type { KeyValueStore } from '../store/kv.js';

/** Browsers give up on a ceremony after the options' timeout; the challenge lives a little longer, then never again. */
export const CEREMONY_TIMEOUT_MS = 120_000;
const TTL_SECONDS = CEREMONY_TIMEOUT_MS / 1000 + 30;

/**
 * What a challenge was issued for: registering a key for an account, or signing in. `binding` names the session
 * or interaction that asked, so a challenge issued to one cannot be answered in another.
 */
export type Ceremony = { kind: 'register'; userId: string; binding: string; bound: Bound } | { kind: 'authenticate'; binding: string };

/**
 * How a registration was authorised, fixed when its options are issued (README "Adding a sign-in factor"): after a
 * face challenge (and the password), after an assertion of another key of the account (which passes on whether that
 * key meets the admin console's rule), or under an invitation's grant.
 */
export type Bound = { with: 'face' } | { with: 'passkey'; approved: boolean } | { with: 'invite' };

/** Single-use, short-lived ceremony challenges in the shared store (Redis in production), keyed by the challenge. */
export class Challenges {
  constructor(private readonly kv: KeyValueStore) {}

  async issue(ceremony: Ceremony): Promise<string> {
    const challenge = randomBytes(32).toString('base64url');
    await this.kv.set(`passkey-challenge:${challenge}`, JSON.stringify(ceremony), TTL_SECONDS);
    return challenge;
  }

  /** The ceremony a challenge was issued for, removing it: a second answer to the same challenge finds nothing. */
  async take(challenge: string): Promise<Ceremony | null> {
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(challenge)) return null;
    const raw = await this.kv.take(`passkey-challenge:${challenge}`);
    return raw ? (JSON.parse(raw) as Ceremony) : null;
  }
}
