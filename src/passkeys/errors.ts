/** Why a passkey ceremony or change was refused: a stable code, the HTTP status surfaces answer with, a sentence. */
export type PasskeyErrorCode =
  | 'PASSKEY_RESPONSE_INVALID'
  | 'PASSKEY_CHALLENGE_INVALID'
  | 'PASSKEY_ORIGIN_MISMATCH'
  | 'PASSKEY_RP_ID_MISMATCH'
  | 'PASSKEY_USER_NOT_VERIFIED'
  | 'PASSKEY_UNKNOWN'
  | 'PASSKEY_SIGNATURE_INVALID'
  | 'PASSKEY_COUNTER_REGRESSED'
  | 'PASSKEY_ALREADY_REGISTERED'
  | 'PASSKEY_ACCOUNT_DISABLED'
  | 'PASSKEY_NOT_FOUND'
  | 'PASSKEY_NAME_INVALID'
  | 'PASSKEY_GRANT_INVALID';

const DEFAULTS: Record<PasskeyErrorCode, { status: number; message: string }> = {
  PASSKEY_RESPONSE_INVALID: { status: 400, message: 'The answer from your passkey could not be read. Try again.' },
  PASSKEY_CHALLENGE_INVALID: { status: 400, message: 'This passkey request has expired or was already used. Try again.' },
  PASSKEY_ORIGIN_MISMATCH: { status: 400, message: 'The passkey answered for another web address. Open this site at its own address and try again.' },
  PASSKEY_RP_ID_MISMATCH: { status: 400, message: 'This passkey belongs to another site.' },
  PASSKEY_USER_NOT_VERIFIED: {
    status: 401,
    message: 'Your device did not confirm it is you (PIN, fingerprint or face unlock). Passkeys here need that check.',
  },
  PASSKEY_UNKNOWN: { status: 401, message: 'This passkey is not registered for this account.' },
  PASSKEY_SIGNATURE_INVALID: { status: 401, message: 'The passkey signature did not verify.' },
  PASSKEY_COUNTER_REGRESSED: {
    status: 401,
    message: 'This passkey reported a use count lower than before, a sign it may have been copied. It was not accepted; tell your administrator.',
  },
  PASSKEY_ALREADY_REGISTERED: { status: 409, message: 'This passkey is already registered.' },
  PASSKEY_ACCOUNT_DISABLED: { status: 403, message: 'This account is disabled. Ask an administrator.' },
  PASSKEY_NOT_FOUND: { status: 404, message: 'This passkey does not exist (any more).' },
  PASSKEY_NAME_INVALID: { status: 400, message: 'A passkey name has 1 to 60 characters.' },
  PASSKEY_GRANT_INVALID: { status: 403, message: 'The right to add a passkey here was already used or has expired.' },
};

export class PasskeyError extends Error {
  readonly status: number;
  /** The account whose key answered, once known: its failures count towards that account's limits too. */
  account: string | null = null;

  constructor(
    readonly code: PasskeyErrorCode,
    message?: string,
  ) {
    super(message ?? DEFAULTS[code].message);
    this.status = DEFAULTS[code].status;
  }
}
