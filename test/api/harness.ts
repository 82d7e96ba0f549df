import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ServerServices } from '../../src/server/services.js';
import { startApp, type TestApp } from '../helpers/app.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

export const FIXTURES = path.resolve('test/fixtures/api');
export const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));

/** Small limits so the size and pixel cases stay cheap. */
export const MAX_UPLOAD_BYTES = 1024 * 1024;
export const MAX_PIXELS = 4_000_000;

export interface Harness {
  url: string;
  services: ServerServices;
  /**
   * Registers a client_credentials app (with `clientId`, scopes and Face Match rules) and returns a real access
   * token for it from the server's /token endpoint.
   */
  addClient(clientId: string, opts?: { scopes?: string[]; matchRules?: Record<string, unknown>; matchEnrolledUsers?: boolean }): Promise<string>;
  /** A fresh access token from /token for a registered client_credentials client. */
  token(clientId: string, secret: string, scopes?: string[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * The whole server built in-process (embedded database unless TEST_DATABASE_URL is set, in-memory state), as the
 * API's callers reach it: bearer tokens come from the provider's own client_credentials grant. `env` overrides the
 * small test limits (e.g. the product's own upload limits for real photos).
 */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-api-'));
  const app: TestApp = await startApp({
    DATA_DIR: dataDir,
    ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
    FACE_WORKERS: '2',
    FACE_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
    FACE_MAX_PIXELS: String(MAX_PIXELS),
    API_RATE_LIMIT_PER_MINUTE: '1000',
    LOG_LEVEL: 'silent',
    DEMO_APP: 'false',
    ...env,
  });
  const { services } = app;
  async function token(clientId: string, secret: string, scopes = ['face:match']) {
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
    const wanted = scopes.filter((s) => s === 'face:match').join(' ');
    const res = await fetch(`${app.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...(wanted ? { scope: wanted } : {}) }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`no token for ${clientId}: ${JSON.stringify(body)}`);
    return body.access_token;
  }
  return {
    url: app.url,
    services,
    token,
    async addClient(clientId, opts = {}) {
      const scopes = opts.scopes ?? ['face:match'];
      const { clientSecret } = await services.clients.create({ name: clientId, grantTypes: ['client_credentials'], scopes, matchRules: opts.matchRules ?? null, matchEnrolledUsers: opts.matchEnrolledUsers ?? false }, { clientId });
      return token(clientId, clientSecret!, scopes);
    },
    async close() {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- checked against the OpenAPI document
  raw: Buffer;
}

export async function call(url: string, init: RequestInit & { token?: string } = {}): Promise<ApiResponse> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const res = await fetch(url, { ...init, headers });
  const raw = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.includes('json') ? JSON.parse(raw.toString('utf8')) : undefined;
  return { status: res.status, headers: res.headers, body: json, raw };
}

export function form(parts: Record<string, Buffer | string>): FormData {
  const f = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === 'string') f.append(name, value);
    else f.append(name, new Blob([new Uint8Array(value)], { type: 'image/jpeg' }), `${name}.jpg`);
  }
  return f;
}

/**
 * Validates responses against the served OpenAPI document with ajv (JSON Schema 2020-12, strict): the operation
 * must document the status, and the body and the required headers must match.
 */
export class Contract {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });

  constructor(readonly doc: { paths: Record<string, Record<string, { responses: Record<string, ResponseSpec> }>> }) {
    addFormats(this.ajv);
    // The document's own top-level members are not schema keywords: declare them so strict mode accepts the root
    // while the schemas inside it are compiled strictly when a response is checked.
    this.ajv.addVocabulary(Object.keys(doc));
    this.ajv.addSchema(doc as object, 'openapi');
  }

  /** Compiles every component schema in strict mode (an unknown keyword or format throws). */
  compileComponents(): string[] {
    const names = Object.keys((this.doc as unknown as { components: { schemas: object } }).components.schemas);
    for (const name of names) if (!this.ajv.getSchema(`openapi#/components/schemas/${name}`)) throw new Error(`${name} did not compile`);
    return names;
  }

  check(method: string, template: string, res: ApiResponse): void {
    const op = this.doc.paths[template]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${template} is not in the OpenAPI document`);
    const spec = op.responses[String(res.status)];
    if (!spec) throw new Error(`${method} ${template} answered ${res.status}, which the document does not list`);
    for (const [name, h] of Object.entries(spec.headers ?? {})) {
      if (h.required && !res.headers.get(name)) throw new Error(`${res.status} lacks the required header ${name}`);
    }
    const types = Object.keys(spec.content ?? {});
    const type = res.headers.get('content-type')?.split(';')[0] ?? '';
    if (!types.includes(type)) throw new Error(`${res.status} has content type ${type}, documented: ${types.join(', ')}`);
    if (type !== 'application/json' || !spec.content?.[type].schema) return;
    const pointer = ['paths', template, method.toLowerCase(), 'responses', String(res.status), 'content', type, 'schema']
      .map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    const validate = this.ajv.getSchema(`openapi#/${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    if (!validate(res.body)) {
      throw new Error(`${method} ${template} ${res.status} violates the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body, null, 1).slice(0, 2000)}`);
    }
  }
}

interface ResponseSpec {
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema?: unknown }>;
}
