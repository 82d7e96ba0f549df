import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../store/crypto.js';

/**
 * OWASP "device cookies": after a successful sign-in the browser gets a token that names the account and a random
 * device id, signed with the server's key. Failed attempts that present a valid one count against that device only;
 * every other attempt counts against the account's unknown devices. Nothing is stored server-side.
 */
export class DeviceTokens {
  constructor(private readonly key: Buffer) {}

  private mac(account: string, device: string) {
    return createHmac('sha256', this.key).update(`device:${account}:${device}`).digest('base64url');
  }

  issue(account: string): string {
    const device = randomBytes(12).toString('base64url');
    return `${device}.${this.mac(account, device)}`;
  }

  /** The device id in a token issued for `account`, or null for anything else. */
  verify(account: string, token: string | undefined): string | null {
    const [device, mac] = (token ?? '').split('.');
    return device && mac && safeEqual(mac, this.mac(account, device)) ? device : null;
  }
}
