/** The sign-in factors an account holds. */
export interface SignInFactors {
  /** Face templates usable with the running model. */
  face: boolean;
  password: boolean;
  passkeys: number;
}

/**
 * Whether the account can still sign in: every sign-in needs a face (a passkey is always paired with it) or, for
 * apps that accept it, a password.
 */
export const canSignIn = (f: SignInFactors) => f.face || f.password;

const total = (f: SignInFactors) => Number(f.face) + Number(f.password) + f.passkeys;

/**
 * A change that takes away the account's last factor, or its last way to sign in, needs the person's explicit
 * confirmation after an explanation of what follows.
 */
export function needsConfirmation(before: SignInFactors, after: SignInFactors): boolean {
  return (canSignIn(before) && !canSignIn(after)) || (total(before) > 0 && total(after) === 0);
}
