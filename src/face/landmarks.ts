import * as ort from 'onnxruntime-node';
import { clipRect, cropToGray, type Rect, type RgbImage } from './image.js';
import type { Box } from './types.js';

export type Point = [number, number];

const SIZE = 64;

/**
 * The crop fr_landmark was trained on: a square of side sqrt(w·h) on the box centre, widened 5 % left and right
 * and 10 % at the bottom, integer-truncated and clipped to the image.
 */
export function landmarkCrop(box: Box, width: number, height: number): Rect {
  const side = Math.sqrt(box.width * box.height);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const x0 = cx - side / 2 - 0.05 * side;
  const x1 = cx + side / 2 + 0.05 * side;
  const y0 = cy - side / 2;
  const y1 = cy + side / 2 + 0.1 * side;
  return clipRect({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, width, height);
}

/** 68 points (iBUG order, 0-based) in image pixels. */
export async function detectLandmarks(session: ort.InferenceSession, img: RgbImage, box: Box): Promise<Point[]> {
  const crop = landmarkCrop(box, img.width, img.height);
  if (crop.width < 2 || crop.height < 2) throw new Error('face box is outside the image');
  const gray = cropToGray(img, crop, SIZE, SIZE, 1 / 256);
  const out = await session.run({ input: new ort.Tensor('float32', gray, [1, 1, SIZE, SIZE]) });
  const v = out.output.data as Float32Array;
  const points: Point[] = [];
  for (let i = 0; i < 68; i++) points.push([crop.x + v[2 * i] * crop.width, crop.y + v[2 * i + 1] * crop.height]);
  return points;
}

/** The centroid of the points at `idx` (e.g. an eye's landmarks). */
export function meanPoint(points: readonly (readonly [number, number])[], idx: readonly number[]): Point {
  let x = 0;
  let y = 0;
  for (const i of idx) {
    x += points[i][0];
    y += points[i][1];
  }
  return [x / idx.length, y / idx.length];
}

/** Eye centres, nose tip and mouth corners, in the order of the ArcFace alignment template. */
export function fivePoints(p: Point[]): Point[] {
  return [
    meanPoint(p, [37, 38, 40, 41]),
    meanPoint(p, [43, 44, 46, 47]),
    p[30],
    meanPoint(p, [48, 60]),
    meanPoint(p, [54, 64]),
  ];
}
