/**
 * Scores the front crop against the synthetic photos' true corners, the MRZ estimate against the edge search:
 * `npx tsx test/documents/front-eval.ts [count] [seed] [normal|light|cut]` (needs shared/faces and the OCR-B font).
 * `light` photographs the documents on a plain background as light as the page (no edge to see); `cut` crops each
 * photo so that the photo's border cuts 15 % of the document's height off at its top. Not a test: a measurement,
 * quoted in src/documents/README.md.
 */
import sharp from 'sharp';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DocumentReader } from '../../src/documents/document-reader.js';
import { estimateFront, findEdges } from '../../src/documents/edges.js';
import { decodeGrey } from '../../src/documents/reader.js';
import { FORMATS, photographWithCorners, type Point, random, randomContent, randomPhotograph, renderDocument } from '../../src/documents/synthetic.js';
import { SHARED_FACES } from '../face/helpers.js';
import { scoreFront, toFrame, type FrontScore } from './front-score.js';

const count = Number(process.argv[2] ?? 50);
const seed = Number(process.argv[3] ?? 11);
const mode = process.argv[4] ?? 'normal';
const faceDir = path.join(SHARED_FACES!, 'deepface');
const faces = readdirSync(faceDir).filter((f) => /^img\d+\.jpg$/.test(f)).sort().map((f) => readFileSync(path.join(faceDir, f)));
/** The photo cropped along the side the document's top faces, through the point 15 % of its height below its top. */
async function cutTop(jpeg: Buffer, corners: Point[]): Promise<{ jpeg: Buffer; corners: Point[] }> {
  const { width, height } = await sharp(jpeg).metadata();
  const c = corners.reduce((a, p) => [a[0] + p[0] / 4, a[1] + p[1] / 4], [0, 0]);
  const top: Point = [(corners[0]![0] + corners[1]![0]) / 2, (corners[0]![1] + corners[1]![1]) / 2];
  const at: Point = [top[0] + 0.3 * (c[0] - top[0]), top[1] + 0.3 * (c[1] - top[1])];
  const [dx, dy] = [top[0] - c[0], top[1] - c[1]];
  let [l, t, r, b] = [0, 0, width!, height!];
  if (Math.abs(dy) > Math.abs(dx)) [t, b] = dy < 0 ? [Math.round(at[1]), b] : [t, Math.round(at[1])];
  else [l, r] = dx < 0 ? [Math.round(at[0]), r] : [l, Math.round(at[0])];
  const out = await sharp(jpeg).extract({ left: l, top: t, width: r - l, height: b - t }).jpeg({ quality: 90 }).toBuffer();
  return { jpeg: out, corners: corners.map(([x, y]): Point => [x - l, y - t]) };
}

const reader = await DocumentReader.create({ modelsDir: path.resolve('models'), workers: 1 });
const scores: Record<'estimate' | 'edges', FrontScore[]> = { estimate: [], edges: [] };
const formats: string[] = [];
const found = { top: 0, bottom: 0, left: 0, right: 0 };
const tilts: number[] = [];
const ms: number[] = [];
let missed = 0;
for (let i = 0; i < count; i++) {
  const rnd = random(seed * 100_003 + i);
  const format = FORMATS[i % FORMATS.length]!;
  const { png } = await renderDocument(format, randomContent(rnd, format), faces[i % faces.length]!, rnd);
  let { jpeg, corners } = await photographWithCorners(png, randomPhotograph(rnd), rnd, mode === 'light' ? { background: '#e9e9e6' } : {});
  if (mode === 'cut') ({ jpeg, corners } = await cutTop(jpeg, corners));
  const r = await reader.read(jpeg);
  if (!r.placement || !r.fields) {
    missed++;
    continue;
  }
  const est = estimateFront(r.placement, r.fields.mrz_format);
  const { full } = await decodeGrey(jpeg, 40_000_000);
  const t0 = performance.now();
  const e = findEdges(full, est, r.placement);
  ms.push(performance.now() - t0);
  for (const k of Object.keys(found) as (keyof typeof found)[]) if (e.found[k]) found[k]++;
  const [bl, br] = [toFrame(est, corners[3]!), toFrame(est, corners[2]!)];
  tilts.push((Math.atan2(br[1] - bl[1], br[0] - bl[0]) * 180) / Math.PI);
  formats.push(format);
  scores.estimate.push(scoreFront(est, corners));
  scores.edges.push(scoreFront(e.frame, corners));
  const f = (s: FrontScore) => [s.top, s.bottom, s.left, s.right].map((v) => (v * 100).toFixed(1).padStart(5)).join(' ');
  if (process.env.VERBOSE) console.log(i, format, 'est', f(scores.estimate.at(-1)!), '| edges', f(scores.edges.at(-1)!), JSON.stringify(e.found));
}
await reader.close();
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const n = scores.edges.length;
console.log(`seed ${seed}, ${mode}: ${count} documents, ${n} with an MRZ found (${missed} not), edges found: ${JSON.stringify(found)}`);
console.log(`MRZ angle against the document's bottom edge: mean |tilt| ${(tilts.reduce((a, t) => a + Math.abs(t), 0) / n).toFixed(2)}°, p90 ${q(tilts.map(Math.abs), 0.9).toFixed(2)}°; edge search ${q(ms, 0.5).toFixed(1)} / ${q(ms, 0.9).toFixed(1)} ms p50 / p90`);
console.log('| crop | edge error mean | edge error p90 | crops cutting > 2 % | crops with an edge > 5 % out | document area cut (mean) | background area (mean) |');
for (const [name, s] of Object.entries(scores)) {
  const errs = s.flatMap((x) => [x.top, x.bottom, x.left, x.right].map(Math.abs));
  const cut = s.filter((x) => Math.min(x.top, x.bottom, x.left, x.right) < -0.02).length / n;
  const out = s.filter((x) => Math.max(x.top, x.bottom, x.left, x.right) > 0.05).length / n;
  console.log(`| ${name} | ${pct(errs.reduce((a, v) => a + v, 0) / errs.length)} | ${pct(q(errs, 0.9))} | ${pct(cut)} | ${pct(out)} | ${pct(s.reduce((a, x) => a + x.cutArea, 0) / n)} | ${pct(s.reduce((a, x) => a + x.backgroundArea, 0) / n)} |`);
}
const byFormat = FORMATS.map((fmt) => {
  const pick = (s: FrontScore[]) => s.filter((_, k) => formats[k] === fmt).flatMap((x) => [x.top, x.bottom, x.left, x.right].map(Math.abs));
  const [e, d] = [pick(scores.estimate), pick(scores.edges)];
  return `${fmt} ${pct(e.reduce((a, v) => a + v, 0) / e.length)} → ${pct(d.reduce((a, v) => a + v, 0) / d.length)} (p90 ${pct(q(e, 0.9))} → ${pct(q(d, 0.9))})`;
});
console.log(`edge error by format, estimate → edges: ${byFormat.join('; ')}`);
