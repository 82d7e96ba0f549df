/**
 * A minimal cookie-keeping HTTP agent that walks the sign-in pages by their forms, for flows that need no camera.
 * Browser tests (Chromium) cover the pages as people use them.
 */
export class Agent {
  private readonly jar = new Map<string, string>();

  private cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  /** The Cookie header this agent sends, for requests written by hand. */
  cookies(): string {
    return this.cookieHeader();
  }

  /** The value of a cookie this agent holds. */
  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size) headers.set('cookie', this.cookieHeader());
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(res);
    return res;
  }

  /** Follows redirects on the same server; stops at (and returns) a redirect to another origin or a page. */
  async follow(url: string, init: RequestInit = {}, stopAt?: (u: URL) => boolean): Promise<{ res: Response; url: string }> {
    let current = url;
    let res = await this.request(current, init);
    for (let i = 0; i < 20 && res.status >= 300 && res.status < 400; i++) {
      const next = new URL(res.headers.get('location')!, current);
      if (stopAt?.(next)) return { res, url: next.href };
      current = next.href;
      res = await this.request(current);
    }
    return { res, url: current };
  }

  async submit(pageUrl: string, html: string, action: string, fields: Record<string, string>, stopAt?: (u: URL) => boolean) {
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    const body = new URLSearchParams({ ...(csrf ? { _csrf: csrf } : {}), ...fields });
    return this.follow(new URL(action, pageUrl).href, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, stopAt);
  }
}
