import type { Config } from '../config/index.js';
import type { ClientStore } from '../oidc/clients.js';
import { ACR } from '../oidc/acr.js';

export const DEMO_CLIENT_ID = 'face-oidc-demo';
export const ADMIN_CLIENT_ID = 'face-oidc-admin';
export const ACCOUNT_CLIENT_ID = 'face-oidc-account';

/**
 * The demo app, the admin console and the account pages are ordinary public clients (code + PKCE) of this provider. Their redirect
 * URIs follow ISSUER, so they are brought up to date at every start.
 */
export async function ensureBuiltInClients(clients: ClientStore, config: Config): Promise<void> {
  const specs = [
    {
      clientId: DEMO_CLIENT_ID,
      input: {
        name: 'face-oidc demo app',
        redirectUris: [`${config.issuer}/demo/callback`],
        postLogoutRedirectUris: [`${config.issuer}/demo`],
        tokenEndpointAuthMethod: 'none' as const,
        scopes: ['openid', 'profile', 'email'],
        firstParty: true,
        // The demo shows the non-biometric alternative too.
        allowPasswordOnly: true,
      },
    },
    {
      clientId: ADMIN_CLIENT_ID,
      input: {
        name: 'face-oidc admin console',
        redirectUris: [`${config.issuer}/admin/callback`],
        postLogoutRedirectUris: [`${config.issuer}/admin/signed-out`],
        tokenEndpointAuthMethod: 'none' as const,
        scopes: ['openid', 'profile', 'email'],
        firstParty: true,
        requiredAcr: ACR.face,
        allowPasswordOnly: false,
      },
    },
    {
      clientId: ACCOUNT_CLIENT_ID,
      input: {
        name: 'Your face-oidc account',
        redirectUris: [`${config.issuer}/account/callback`],
        postLogoutRedirectUris: [`${config.issuer}/account/signed-out`],
        tokenEndpointAuthMethod: 'none' as const,
        scopes: ['openid', 'profile', 'email'],
        firstParty: true,
        // People who withdrew their biometric consent can still see and download their data with a password.
        allowPasswordOnly: true,
      },
    },
  ];
  for (const { clientId, input } of specs) {
    const existing = await clients.get(clientId);
    if (!existing) {
      try {
        await clients.create(input, { clientId, builtIn: true });
      } catch (err) {
        // Another instance created it first.
        if ((err as { code?: string }).code !== 'P2002') throw err;
      }
    } else if (existing.redirectUris[0] !== input.redirectUris[0]) {
      await clients.update(clientId, { redirectUris: input.redirectUris, postLogoutRedirectUris: input.postLogoutRedirectUris });
    }
  }
}
