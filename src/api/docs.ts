import { renderView } from '../web/views.js';

/** Just the parts of an OpenAPI document the page shows. */
interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  format?: string;
  description?: string;
  required?: string[];
  properties?: Record<string, SchemaNode>;
}
interface Operation {
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: { name: string; in: string; schema: SchemaNode }[];
  requestBody?: { content: Record<string, { schema?: SchemaNode }> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
}
interface OpenApiDoc {
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, SchemaNode>; securitySchemes: { clientCredentials: { flows: { clientCredentials: { tokenUrl: string } } } } };
  'x-request-codes': { code: string; status: number; about: string }[];
  'x-record-codes': { code: string; about: string }[];
}

interface Field {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

const refName = (ref: string) => ref.split('/').pop()!;

/** A compact type label: `Score`, `string | null`, `array of ImageRef`, `"ACCEPTED" | "REVIEW"`. */
function typeLabel(s: SchemaNode): string {
  if (s.$ref) return refName(s.$ref);
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.oneOf) return s.oneOf.map(typeLabel).join(' | ');
  if (s.enum) return s.enum.length > 6 ? `one of ${s.enum.length} codes` : s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ['any'];
  return types.map((t) => (t === 'array' && s.items ? `array of ${typeLabel(s.items)}` : s.format && t === 'string' ? `string (${s.format})` : t)).join(' | ');
}

function fields(s: SchemaNode): Field[] {
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    type: typeLabel(p),
    required: s.required?.includes(name) ?? false,
    description: p.description ?? '',
  }));
}

function viewModel(doc: OpenApiDoc) {
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const resolve = (schema: SchemaNode) => (schema.$ref ? doc.components.schemas[refName(schema.$ref)] : schema);
      return {
        id: `${method}-${path}`.replace(/[^a-z0-9]+/gi, '-'),
        method: method.toUpperCase(),
        path,
        summary: op.summary ?? '',
        description: op.description ?? '',
        authenticated: op.security === undefined,
        parameters: (op.parameters ?? []).map((p) => ({ name: p.name, in: p.in, type: typeLabel(p.schema) })),
        bodies: Object.entries(op.requestBody?.content ?? {}).map(([type, { schema }]) => ({ type, fields: schema ? fields(resolve(schema)) : [] })),
        responses: Object.entries(op.responses).map(([status, r]) => ({ status, description: r.description, types: Object.keys(r.content ?? {}) })),
      };
    }),
  );
  const schemas = Object.entries(doc.components.schemas).map(([name, s]) => ({ name, description: s.description ?? '', fields: fields(s) }));
  return {
    title: doc.info.title,
    version: doc.info.version,
    description: doc.info.description,
    server: doc.servers[0]?.url ?? '',
    tokenUrl: doc.components.securitySchemes.clientCredentials.flows.clientCredentials.tokenUrl,
    operations,
    schemas,
    requestCodes: doc['x-request-codes'],
    recordCodes: doc['x-record-codes'],
  };
}

/** The human-readable page for /api/docs, rendered on the server from the OpenAPI document (no script, no inline style). */
export function renderDocs(openapi: Record<string, unknown>): Promise<string> {
  return renderView('api/docs', viewModel(openapi as unknown as OpenApiDoc));
}
