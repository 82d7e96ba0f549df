// @koa/bodyparser fills ctx.request.body on the routes it parses.
import 'koa';

declare module 'koa' {
  interface Request {
    body?: unknown;
    rawBody?: string;
  }
}
