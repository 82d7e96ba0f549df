import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import Koa from 'koa';
import { TemplateStore } from '../../src/accounts/templates.js';
import { UserStore } from '../../src/accounts/users.js';
import { createApiRouter, type ApiDeps } from '../../src/api/index.js';
import { AuditLog } from '../../src/audit/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createFaceEngine, type FaceEngine } from '../../src/face/index.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { defaultSettings, SettingsStore } from '../../src/settings/index.js';
import { createSealer } from '../../src/store/crypto.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { memoryKeyValueStore } from '../../src/store/kv.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

export const FIXTURES = path.resolve('test/fixtures/api');
export const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));

/** Small limits so the size and pixel cases stay cheap. */
export const MAX_UPLOAD_BYTES = 1024 * 1024;
export const MAX_PIXELS = 4_000_000;

/** Fixed test tokens → clients inserted by `addClient`. */
export type Tokens = Map<string, { clientId: string; scopes: string[] }>;

export interface Harness {
  db: Database;
  deps: ApiDeps;
  tokens: Tokens;
  url: string;
  /** Serves the router built from `deps` with some of them replaced, e.g. a lower rate limit. */
  serve(overrides: Partial<ApiDeps>): Promise<string>;
  addClient(clientId: string, opts?: { scopes?: string[]; matchRules?: Record<string, unknown> }): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-api-'));
  const db = await openDatabase({ databaseUrl: process.env.TEST_DATABASE_URL ?? null, dataDir, holder: 'test' });
  await db.migrate();
  const engine: FaceEngine = await createFaceEngine({ modelsDir: 'models', poolSize: 2, maxPixels: MAX_PIXELS });
  const config = loadConfig({
    MODELS_DIR: path.resolve('models'),
    FACE_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
    API_RATE_LIMIT_PER_MINUTE: '1000',
    LOG_LEVEL: 'silent',
  });
  const sealer = createSealer(randomBytes(32));
  const tokens: Tokens = new Map();
  const deps: ApiDeps = {
    config,
    prisma: db.prisma,
    engine,
    kv: memoryKeyValueStore(),
    sealer,
    settings: new SettingsStore(db.prisma, defaultSettings(config)),
    users: new UserStore(db.prisma),
    templates: new TemplateStore(db.prisma, sealer),
    audit: new AuditLog(db.prisma),
    metrics: createMetrics(),
    logger: createLogger('silent'),
    authenticate: async (token) => tokens.get(token) ?? null,
    appVersion: '0.1.0-test',
  };

  const servers: http.Server[] = [];
  const serve = async (overrides: Partial<ApiDeps>) => {
    const app = new Koa();
    // Koa would print socket errors of the deliberately aborted upload; the API answers and audits them itself.
    app.silent = true;
    app.use(createApiRouter({ ...deps, ...overrides }).routes());
    const server = http.createServer(app.callback());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const url = await serve({});

  return {
    db,
    deps,
    tokens,
    url,
    serve,
    async addClient(clientId, opts = {}) {
      await db.prisma.client.create({
        data: {
          clientId,
          name: clientId,
          redirectUris: [],
          grantTypes: ['client_credentials'],
          scopes: opts.scopes ?? ['face:match'],
          tokenEndpointAuthMethod: 'client_secret_basic',
          matchRules: opts.matchRules,
        },
      });
      const token = `tok-${clientId}-${randomBytes(6).toString('hex')}`;
      tokens.set(token, { clientId, scopes: opts.scopes ?? ['face:match'] });
      return token;
    },
    async close() {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      await engine.close();
      await deps.kv.close();
      await db.close();
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
