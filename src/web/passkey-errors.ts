import { PasskeyError } from '../passkeys/errors.js';
import { HttpError } from './errors.js';

/** Runs a passkey operation and answers its refusals as HttpErrors: the status and code the domain chose, its sentence. */
export async function withPasskeyErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof PasskeyError) throw new HttpError(err.status, err.code, err.message);
    throw err;
  }
}
