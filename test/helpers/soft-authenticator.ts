import { createHash, createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const FLAG = { up: 0x01, uv: 0x04, be: 0x08, bs: 0x10, at: 0x40 };

export interface Tamper {
  /** The origin clientDataJSON names (a phishing page would name its own). */
  origin?: string;
  /** The RP ID whose hash the authenticator data carries. */
  rpId?: string;
  uv?: boolean;
  /** The counter to report instead of the next one. */
  counter?: number;
  type?: string;
  challenge?: string;
  /** Signs other bytes than the ones sent. */
  badSignature?: boolean;
}

const b64url = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url');

/**
 * A passkey authenticator in plain Node for tests without a browser: one P-256 credential, packed `none`
 * attestation, ES256 signatures and a counter — and ways to answer wrongly (origin, RP ID, counter, signature).
 */
export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly key: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  counter = 0;
  userHandle: string | null = null;

  constructor(
    readonly rpId: string,
    readonly origin: string,
    private readonly opts: { backupEligible?: boolean } = {},
  ) {}

  get id(): string {
    return b64url(this.credentialId);
  }

  private cose(): Uint8Array {
    const jwk = this.key.publicKey.export({ format: 'jwk' });
    return isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    );
  }

  private authData(attested: boolean, t: Tamper, counter: number): Buffer {
    let flags = FLAG.up | (t.uv === false ? 0 : FLAG.uv);
    if (this.opts.backupEligible) flags |= FLAG.be | FLAG.bs;
    if (attested) flags |= FLAG.at;
    const head = Buffer.alloc(37);
    createHash('sha256').update(t.rpId ?? this.rpId).digest().copy(head, 0);
    head[32] = flags;
    head.writeUInt32BE(counter, 33);
    if (!attested) return head;
    const length = Buffer.alloc(2);
    length.writeUInt16BE(this.credentialId.length);
    return Buffer.concat([head, Buffer.alloc(16), length, this.credentialId, this.cose()]);
  }

  private clientData(type: string, challenge: string, t: Tamper): Buffer {
    return Buffer.from(JSON.stringify({ type: t.type ?? type, challenge: t.challenge ?? challenge, origin: t.origin ?? this.origin, crossOrigin: false }));
  }

  register(options: PublicKeyCredentialCreationOptionsJSON, t: Tamper = {}): RegistrationResponseJSON {
    this.userHandle = options.user.id;
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, t);
    const attestation = new Map<string, string | Uint8Array | Map<string, string>>();
    attestation.set('fmt', 'none');
    attestation.set('attStmt', new Map<string, string>());
    attestation.set('authData', new Uint8Array(this.authData(true, t, this.counter)));
    const attestationObject = isoCBOR.encode(attestation);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal'] },
    };
  }

  authenticate(options: PublicKeyCredentialRequestOptionsJSON, t: Tamper = {}): AuthenticationResponseJSON {
    const counter = t.counter ?? ++this.counter;
    this.counter = Math.max(this.counter, counter);
    const authenticatorData = this.authData(false, t, counter);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, t);
    const signed = Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]);
    const signature = createSign('sha256').update(t.badSignature ? Buffer.concat([signed, Buffer.from('x')]) : signed).sign(this.key.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authenticatorData), signature: b64url(signature), ...(this.userHandle ? { userHandle: this.userHandle } : {}) },
    };
  }
}
