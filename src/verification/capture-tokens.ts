import { randomToken } from '../store/crypto.js';
import type { KeyValueStore } from '../store/kv.js';

/** Long enough to look at the camera and capture; short enough that a recorded upload is useless soon after. */
export const CAPTURE_TOKEN_TTL_SECONDS = 120;

/**
 * Single-use tokens that bind a frame upload to one interaction. They live in the shared store, so a page rendered
 * by one instance can be submitted to another; `take` makes the second use of a token fail on every instance.
 */
export class CaptureTokens {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly ttlSeconds = CAPTURE_TOKEN_TTL_SECONDS,
  ) {}

  async issue(uid: string): Promise<string> {
    const token = randomToken(24);
    await this.kv.set(`cap:${token}`, uid, this.ttlSeconds);
    return token;
  }

  /** True only for a token issued for `uid` that has neither expired nor been used. */
  async consume(token: string, uid: string): Promise<boolean> {
    if (!/^[\w-]{16,64}$/.test(token)) return false;
    return (await this.kv.take(`cap:${token}`)) === uid;
  }
}
