// The two internal modules of oidc-provider 9 that src/oidc/provider-keys.ts uses to swap signing keys at run time.

declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  import type Provider from 'oidc-provider';
  /** Validates `jwks` as the constructor does and installs it as the provider's keystore and published JWKS. */
  export default function initializeKeystore(this: Provider, jwks: { keys: object[] }): void;
}

declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  import type Provider from 'oidc-provider';
  /** The provider's internal state. */
  export default function instance(provider: Provider): { jwks?: { keys?: { kid?: string }[] } } | undefined;
}
