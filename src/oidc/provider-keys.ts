import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
// oidc-provider reads its JWKS once, at construction, and offers no way to change it later (its maintainer
// recommends rolling restarts). Its own initializer, run again on the instance, validates the new keys exactly as
// the constructor does and replaces the keystore that signing, verification and the /jwks endpoint read on every
// request. These are internal modules: the check below turns an incompatible upgrade into a clear error, and
// test/oidc/key-rotation.test.ts fails on it.
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import internals from 'oidc-provider/lib/helpers/weak_cache.js';

/** Makes a running provider sign with `jwks[0]` and publish (and verify with) every key of `jwks`. */
export function replaceSigningKeys(provider: Provider, jwks: JWK[]): void {
  initializeKeystore.call(provider, { keys: jwks });
  const published = internals(provider)?.jwks?.keys?.map((k) => k.kid);
  if (published?.join(' ') !== jwks.map((k) => k.kid).join(' ')) {
    throw new Error('oidc-provider did not take the new signing keys: its internals changed, see src/oidc/provider-keys.ts');
  }
}
