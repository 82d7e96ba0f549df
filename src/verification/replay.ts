import type { KeyValueStore } from '../store/kv.js';
import { hamming, NEAR_DUPLICATE_BITS } from '../face/index.js';
import type { Fingerprint } from './fingerprint.js';

/** How long a submitted frame is remembered (a retention period: fingerprints are derived from face images). */
export const REPLAY_WINDOW_SECONDS = 86_400;
/** Three frames per attempt, and the attempt limiter stops an account long before this many. */
const MAX_REMEMBERED = 150;

interface Seen {
  /** First 128 bits of the SHA-256, hex. */
  s: string;
  d: string;
  /** The interaction that submitted it. */
  u: string;
  /** When it was submitted (epoch seconds). */
  t: number;
}

/**
 * Refuses frames seen before for the same account. Byte-identical frames are refused from any interaction. The
 * perceptual match applies only to frames of other interactions: a person keeping still gives frames just as close
 * as a re-encoded copy (a noise-only difference measures 0 bits), so within one sign-in it would refuse honest
 * retries, while a replay of a recorded sign-in always comes from another interaction.
 */
export class ReplayGuard {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** Returns whether any frame is a replay, and remembers all of them. */
  async screen(account: string, uid: string, frames: Fingerprint[]): Promise<boolean> {
    const key = `replay:${account}`;
    const now = this.nowSeconds();
    // The key's TTL restarts with every sign-in, so each fingerprint carries its own expiry.
    const seen = (JSON.parse((await this.kv.get(key)) ?? '[]') as Seen[]).filter((p) => p.t > now - REPLAY_WINDOW_SECONDS);
    const fresh = frames.map((f) => ({ s: f.sha256.slice(0, 32), d: f.dhash, u: uid, t: now }));
    const replayed = fresh.some((f) => seen.some((p) => p.s === f.s || (p.u !== uid && hamming(p.d, f.d) <= NEAR_DUPLICATE_BITS)));
    await this.kv.set(key, JSON.stringify([...seen, ...fresh].slice(-MAX_REMEMBERED)), REPLAY_WINDOW_SECONDS);
    return replayed;
  }
}
