import path from 'node:path';
import ejs from 'ejs';
import type { Context } from 'koa';
import { ROOT_DIR } from '../config/index.js';

const VIEWS_DIR = path.join(ROOT_DIR, 'views');
// Compiled templates are cached in production; in development edits show without a restart.
const cache = process.env.NODE_ENV !== 'development';

export interface PageLocals {
  title: string;
  [key: string]: unknown;
}

export function renderView(name: string, locals: PageLocals): Promise<string> {
  return ejs.renderFile(path.join(VIEWS_DIR, `${name}.ejs`), locals, { cache, async: false, root: VIEWS_DIR });
}

/** Renders a page into the Koa response; `ctx.state.csrf` (when a surface set one) reaches every template. */
export async function render(ctx: Context, name: string, locals: PageLocals, status = 200): Promise<void> {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = await renderView(name, { csrf: ctx.state.csrf, ...locals });
}
