import type { Verified } from '../oidc/acr.js';
import type { KeyValueStore } from '../store/kv.js';

/** What an interaction has established so far; kept in the shared store so any instance can continue it. */
export interface InteractionState {
  /** The identifier as typed (normalised); kept even for unknown accounts so they behave like known ones. */
  email: string | null;
  /** null until identified, and for identifiers that match no active account. */
  accountId: string | null;
  done: Verified;
  /** The user chose the non-biometric alternative (no camera, or declined). */
  passwordFallback?: boolean;
}

export const emptyState = (): InteractionState => ({ email: null, accountId: null, done: {} });

export class InteractionStateStore {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly ttlSeconds: number,
  ) {}

  async get(uid: string): Promise<InteractionState> {
    const raw = await this.kv.get(`ix:${uid}`);
    return raw ? (JSON.parse(raw) as InteractionState) : emptyState();
  }

  async save(uid: string, state: InteractionState): Promise<void> {
    await this.kv.set(`ix:${uid}`, JSON.stringify(state), this.ttlSeconds);
  }

  async clear(uid: string): Promise<void> {
    await this.kv.del(`ix:${uid}`);
  }
}
