import type { User } from '../accounts/users.js';
import type { SignInFactors } from '../accounts/factors.js';
import type { AccountDeps } from './deps.js';

/** The factors the account holds now. */
export async function factorsOf(deps: Pick<AccountDeps, 'verification' | 'passkeys'>, user: User): Promise<SignInFactors> {
  const [face, passkeys] = await Promise.all([deps.verification.hasFace(user.id), deps.passkeys.count(user.id)]);
  return { face, password: user.passwordHash !== null, passkeys };
}
