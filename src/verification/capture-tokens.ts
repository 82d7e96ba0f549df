import { randomToken } from '../store/crypto.js';
import type { KeyValueStore } from '../store/kv.js';

/** Long enough to look at the camera and capture; short enough that a recorded upload is useless soon after. */
export const CAPTURE_TOKEN_TTL_SECONDS = 120;

/**
 * Single-use tokens that bind a frame upload to one interaction, one live token per interaction: issuing a new one
 * (a page load, the reply to a refused capture) ends the previous one, so opening the page N times never gives N
 * parallel attempts. They live in the shared store, so a page rendered by one instance can be submitted to another,
 * and the compare-and-delete makes a second use fail on every instance.
 */
export class CaptureTokens {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly ttlSeconds = CAPTURE_TOKEN_TTL_SECONDS,
  ) {}

  async issue(uid: string): Promise<string> {
    const token = randomToken(24);
    await this.kv.set(`cap:${uid}`, token, this.ttlSeconds);
    return token;
  }

  /**
   * A fresh token for a page whose token was refused, unless another token of `uid` is live (the sign-in went on
   * in another tab): a stale token must never end the live one, or any old page could cut off the current one.
   */
  async reissue(uid: string): Promise<string | null> {
    const token = randomToken(24);
    return (await this.kv.setIfAbsent(`cap:${uid}`, token, this.ttlSeconds)) ? token : null;
  }

  /** True only for the live token of `uid`: the latest issued, neither expired nor used. */
  async consume(token: string, uid: string): Promise<boolean> {
    if (!/^[\w-]{16,64}$/.test(token)) return false;
    return this.kv.takeIfEquals(`cap:${uid}`, token);
  }
}
