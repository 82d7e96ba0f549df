import Router, { type RouterContext } from '@koa/router';
import type { Context } from 'koa';
import type { AuditInput } from '../audit/index.js';
import type { ApiDeps } from './deps.js';
import { renderDocs } from './docs.js';
import { sendEnvelope } from './envelope.js';
import { ApiError } from './errors.js';
import { admitMatch } from './analyze.js';
import { runMatch, type MatchOutcome } from './match.js';
import { apiClient, apiErrors, concurrencyCap, rateLimit, requireClient } from './middleware.js';
import { buildOpenApi } from './openapi.js';
import { parseDocumentRequest, parseMatchRequest } from './parse.js';
import { readDocument } from './read-document.js';
import type { Decision } from './types.js';

const AUDIT_OUTCOME: Record<Decision, AuditInput['outcome']> = { ACCEPTED: 'success', REVIEW: 'info', DECLINED: 'failure' };

/** One audit event per match request (the request's audit helper never lets a failed write change the answer). */
function audit(ctx: Context, event: Omit<AuditInput, 'type' | 'ip' | 'userAgent' | 'clientId' | 'requestId'>): Promise<void> {
  return ctx.state.audit({ type: 'api.match', clientId: apiClient(ctx).clientId, ...event });
}

function matchHandler(deps: ApiDeps) {
  return async (ctx: RouterContext) => {
    const { requestId } = ctx.state;
    const client = apiClient(ctx);
    try {
      const admission = admitMatch(deps.engine, client.clientId);
      let outcome: MatchOutcome;
      try {
        const request = await parseMatchRequest(ctx, deps.config.face.maxUploadBytes);
        outcome = await runMatch(deps, client, request, requestId, admission);
      } finally {
        admission.release();
      }
      const { record, crops, userId, similarity, timings } = outcome;
      await deps.records.save(client.clientId, record, crops, userId);
      deps.metrics.apiMatches.inc({ result: record.decision });
      await audit(ctx, {
        outcome: AUDIT_OUTCOME[record.decision],
        reason: record.decision,
        userId,
        details: {
          // The audit keeps the similarity even where the answer withholds it.
          similarity,
          liveness: record.selfie_data.liveness_score,
          reference: record.reference.source,
          document: record.document_data.length > 0,
        },
      });
      deps.logger.info({ requestId, clientId: client.clientId, decision: record.decision, ms: Math.round(timings.total) }, 'face match');
      ctx.set('Server-Timing', `analyze;dur=${timings.analyze.toFixed(1)}, match;dur=${timings.total.toFixed(1)}`);
      sendEnvelope(ctx, deps.appVersion, { status: 200, message: `Face match completed: ${record.decision}`, result: [record] });
    } catch (err) {
      const code = err instanceof ApiError ? err.code : 'INTERNAL_ERROR';
      deps.metrics.apiMatches.inc({ result: code });
      // A refusal for load is counted, not audited, like the rate limit's: nothing was analysed, and an overloaded
      // server must not add a database write to every call it sheds.
      if (code !== 'OVERLOADED') await audit(ctx, { outcome: 'failure', reason: code, details: {} });
      throw err;
    }
  };
}

/** `POST /api/v1/documents/read`: the document alone; the answer is not stored. */
function documentReadHandler(deps: ApiDeps) {
  return async (ctx: RouterContext) => {
    const client = apiClient(ctx);
    try {
      const request = await parseDocumentRequest(ctx, deps.config.face.maxUploadBytes);
      const body = await readDocument(deps, request, ctx.state.requestId);
      const doc = body.document_data[0]!;
      await ctx.state.audit({ type: 'api.document', clientId: client.clientId, outcome: body.verification_summary.document_verified ? 'success' : 'info', reason: doc.mrz_status, details: { format: doc.mrz_format ?? null } });
      sendEnvelope(ctx, deps.appVersion, { status: 200, message: `Document read: MRZ ${doc.mrz_status}`, result: [body] });
    } catch (err) {
      await ctx.state.audit({ type: 'api.document', clientId: client.clientId, outcome: 'failure', reason: err instanceof ApiError ? err.code : 'INTERNAL_ERROR', details: {} });
      throw err;
    }
  };
}

function recordHandler(deps: ApiDeps) {
  return async (ctx: RouterContext) => {
    const record = await deps.records.find(apiClient(ctx).clientId, ctx.params.requestId);
    if (!record) throw new ApiError('RECORD_NOT_FOUND', 'no match record with this requestId for this client');
    sendEnvelope(ctx, deps.appVersion, { status: 200, message: 'Match record', result: [record] });
  };
}

function imageHandler(deps: ApiDeps) {
  return async (ctx: RouterContext) => {
    const jpeg = await deps.records.openImage(apiClient(ctx).clientId, ctx.params.key);
    if (!jpeg) throw new ApiError('IMAGE_NOT_FOUND', 'no stored image with this key for this client');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = 'image/jpeg';
    ctx.body = jpeg;
  };
}

/** The Face Match API: match, records, stored images, and the OpenAPI document with its web page. */
export function createApiRouter(deps: ApiDeps): Router {
  const openapi = buildOpenApi({
    issuer: deps.config.issuer,
    appVersion: deps.appVersion,
    maxUploadBytes: deps.config.face.maxUploadBytes,
    rateLimitPerMinute: deps.config.limits.apiPerClientPerMinute,
  });
  const errors = apiErrors(deps);
  const auth = requireClient(deps);
  const router = new Router();
  router.get('/api/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  router.get('/api/docs', async (ctx) => {
    ctx.type = 'html';
    ctx.body = await renderDocs(openapi);
  });
  router.post('/api/v1/face/match', errors, auth, rateLimit(deps), concurrencyCap(deps), matchHandler(deps));
  router.get('/api/v1/face/match/:requestId', errors, auth, recordHandler(deps));
  router.post('/api/v1/documents/read', errors, auth, rateLimit(deps), concurrencyCap(deps), documentReadHandler(deps));
  router.get('/api/v1/images/:key', errors, auth, imageHandler(deps));
  return router;
}
