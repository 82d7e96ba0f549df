// Just enough of a browser to reach the face step of a sign-in over HTTP, for the capture benchmark.

/** A cookie jar with manual redirects. */
export class BrowserSession {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(new URL(url, this.base), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    return res;
  }
}

/**
 * Starts a sign-in, names the account on the identifier page, and returns what the face page gives the browser:
 * the interaction URL, the CSRF token and the capture token (read from the pages' forms and data attributes).
 */
export async function openFacePage(session: BrowserSession, client: { clientId: string; redirectUri: string }, email: string) {
  const auth = new URLSearchParams({ client_id: client.clientId, response_type: 'code', scope: 'openid', redirect_uri: client.redirectUri, state: 'bench', nonce: 'bench' });
  const page = (await session.fetch(`/auth?${auth}`)).headers.get('location');
  if (!page) throw new Error('the authorization request did not redirect to a sign-in page');
  const identifier = await (await session.fetch(page)).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(identifier)?.[1];
  if (!csrf) throw new Error('the identifier page has no CSRF token');
  await session.fetch(`${page}/identify`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, email }) });
  const face = await (await session.fetch(page)).text();
  const token = /data-capture-token="([^"]+)"/.exec(face)?.[1];
  if (!token) throw new Error(`the face page did not render for ${email}`);
  return { page, csrf, token };
}
