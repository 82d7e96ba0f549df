import { AccountError, type NewUser, type User, type UserStore } from './users.js';

export interface ProfileInput {
  email: string;
  name: string;
  admin: boolean;
  /** A new password, or null to keep the current one. */
  password: string | null;
  removePassword: boolean;
}

/** Ends what an account holds outside the database (provider sessions and grants); the apps are told why. */
export interface AccountSessions {
  revokeAll(userId: string, reason: 'account.disable' | 'account.delete'): Promise<{ sessions: number; grants: number }>;
}

export interface AccountServiceDeps {
  users: UserStore;
  sessions: AccountSessions;
  /** Erases the account's biometric data and its traces (BiometricConsent.withdraw); counts for the audit record. */
  biometrics: { erase(userId: string): Promise<{ templates: number; images: number; matchRecords: number; replayHashes: number }> };
  passkeys: { count(userId: string): Promise<number> };
  attempts: { forget(userId: string): Promise<void> };
}

export interface UserRow extends User {
  /** Templates usable with the running face model. */
  templates: number;
  /** Templates of another model, which need re-enrollment. */
  outdated: number;
}

/** Account rules shared by the console and the CLI; each operation leaves nothing half-done when it fails. */
export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  create(input: NewUser): Promise<User> {
    return this.deps.users.create(input);
  }

  /** Profile edits; an administrator cannot drop their own admin role (another must). */
  async updateProfile(user: User, input: ProfileInput, self: boolean): Promise<User> {
    if (self && !input.admin) throw new AccountError('INVALID_INPUT', 'You cannot remove your own admin role; ask another administrator.');
    const roles = input.admin ? [...new Set([...user.roles, 'admin'])] : user.roles.filter((r) => r !== 'admin');
    return this.deps.users.update(user.id, { email: input.email, name: input.name, roles, password: input.removePassword ? null : (input.password ?? undefined) });
  }

  /**
   * Disabling also ends the person's sessions and grants, so apps lose access at their next token refresh — and the
   * apps that listen for back-channel logout end their own sessions at once.
   */
  async setStatus(user: User, status: 'ACTIVE' | 'DISABLED'): Promise<void> {
    await this.deps.users.setStatus(user.id, status);
    if (status === 'DISABLED') await this.deps.sessions.revokeAll(user.id, 'account.disable');
  }

  /**
   * Ends sessions first (they live outside the database), then erases the biometric data as a withdrawal does (under
   * the same lock, so an enrollment in flight writes nothing; with the Face Match records that named the person and
   * the face traces in the shared store), then deletes the row: consents, passkeys and one-time links go with it by
   * cascade. Returns what was erased, for the audit record.
   */
  async delete(user: User): Promise<{ templates: number; images: number; matchRecords: number; replayHashes: number; passkeys: number; sessions: number; grants: number }> {
    const passkeys = await this.deps.passkeys.count(user.id);
    const ended = await this.deps.sessions.revokeAll(user.id, 'account.delete');
    const { templates, images, matchRecords, replayHashes } = await this.deps.biometrics.erase(user.id);
    await this.deps.users.delete(user.id);
    await this.deps.attempts.forget(user.id);
    return { templates, images, matchRecords, replayHashes, passkeys, ...ended };
  }
}
