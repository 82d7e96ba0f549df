import type { BrowserContext } from 'playwright-core';
import { cameraFrames } from './camera.js';

/**
 * A webcam the test can switch between photos while the browser runs (shared/DESIGN.md §3): every page's
 * getUserMedia gets a canvas stream that cycles through camera-like variants of the current photo, repainted about
 * every 66 ms (a canvas stream only emits frames when painted). Switching photos between sign-ins lets one browser —
 * and the passkey its virtual authenticator holds — sign in several times without showing the same picture twice.
 */
export class SteerableCamera {
  private frames: string[] = [];

  private constructor() {}

  static async install(context: BrowserContext): Promise<SteerableCamera> {
    const camera = new SteerableCamera();
    await context.exposeFunction('__cameraFrames', () => camera.frames);
    await context.addInitScript(() => {
      const devices = navigator.mediaDevices;
      if (!devices) return;
      const expose = window as unknown as { __cameraFrames(): Promise<string[]> };
      devices.getUserMedia = async () => {
        // Decoded by hand: fetch() of a data: URL would need connect-src data:, which the pages' CSP refuses.
        const bitmaps = await Promise.all(
          (await expose.__cameraFrames()).map((b64) => createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }))),
        );
        const canvas = document.createElement('canvas');
        canvas.width = 640;
        canvas.height = 480;
        const g = canvas.getContext('2d')!;
        let n = 0;
        const paint = () => {
          g.drawImage(bitmaps[Math.floor(n++ / 4) % bitmaps.length], 0, 0, 640, 480);
        };
        paint();
        setInterval(paint, 66);
        return canvas.captureStream(15);
      };
    });
    return camera;
  }

  /** From the next getUserMedia on, the camera shows `photo` (six variants: shifted, exposure and noise). */
  async show(photo: string, seed: number): Promise<void> {
    this.frames = (await cameraFrames(photo, 6, { seed })).map((f) => f.toString('base64'));
  }
}
