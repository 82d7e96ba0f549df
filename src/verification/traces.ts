import type { KeyValueStore } from '../store/kv.js';

/** The account pages' challenges (src/account/face-check.ts) are stored as LiveChallenges under `<use>:<account>`. */
const ACCOUNT_CHALLENGES = ['reenroll', 'passkey-bind', 'proofing'];

/**
 * Erases what the shared store holds derived from an account's face: the replay fingerprints of its recent frames
 * (replay.ts, perceptual hashes of face images) and its account-page challenges in flight, whose next frame then finds
 * no challenge. Returns how many fingerprints went, for the audit record.
 */
export async function forgetFaceTraces(kv: KeyValueStore, userId: string): Promise<number> {
  const raw = await kv.take(`replay:${userId}`);
  for (const use of ACCOUNT_CHALLENGES) await kv.del(`challenge:${use}:${userId}`);
  // A document held for identity proofing's camera check carries its portrait's embedding (src/proofing/flow.ts).
  await kv.del(`proofing-document:${userId}`);
  try {
    return raw ? (JSON.parse(raw) as unknown[]).length : 0;
  } catch {
    return 0;
  }
}
