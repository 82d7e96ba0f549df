import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/**
 * Photos shipped next to the benchmarks (sources and licences in sample/SOURCES.md). The build copies the folder
 * into dist, so the benchmarks need no test fixtures: the Docker image has none.
 */
export const SAMPLE = {
  /** 640×480 portrait: the engine's and the sign-in capture's image, the Face Match reference. */
  portrait: fileURLToPath(new URL('./sample/deepface-img2.jpg', import.meta.url)),
  /** Another photo of the same person: the Face Match selfie. */
  samePerson: fileURLToPath(new URL('./sample/deepface-img1.jpg', import.meta.url)),
  /** A person tipping the head up, then turning to their right, and back: frames at 6 per second. */
  challenge: { dir: fileURLToPath(new URL('./sample/challenge-up-right/', import.meta.url)), movements: 'up,right', fps: 6 },
};

/** A photo as a camera frame: upright, cover-cropped to 640×480, JPEG quality 90. */
export async function frame640x480(file: string): Promise<Buffer> {
  return sharp(await readFile(file)).autoOrient().resize(640, 480, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
}
