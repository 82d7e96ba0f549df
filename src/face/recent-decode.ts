import { decodeImage, type DecodeLimits } from './decode.js';
import type { RgbImage } from './image.js';

/**
 * Camera frames only (≤ 0.5 MP, the challenge's ≤ 640 px): a worker keeps one decoded image, not a 12 MP photo idle.
 */
const MAX_KEPT_PIXELS = 500_000;

/**
 * The last camera frame this worker decoded, kept with its bytes. The challenge analyses a located frame again when
 * it may decide (`src/challenge/README.md`, The live path), and the pool sends it to the worker that is idle, usually
 * the one that just located it: decoding it again was about a tenth of a challenge's CPU. A hit is by equal bytes,
 * never by a digest or an id, so another image can never be taken for it.
 */
export class RecentDecode {
  #bytes: Uint8Array | null = null;
  #image: RgbImage | null = null;

  constructor(private readonly decode: (bytes: Uint8Array, limits: DecodeLimits) => Promise<RgbImage> = decodeImage) {}

  /**
   * Only an analysis that says it repeats one (`reuse`: the challenge's, given the first one's detections) takes the
   * kept image: a client sending the same photo twice, or a benchmark, pays for every decode as before.
   */
  async get(bytes: Uint8Array, limits: DecodeLimits, { reuse }: { reuse: boolean }): Promise<RgbImage> {
    if (reuse && this.#image && this.#bytes && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(this.#bytes)) return this.#image;
    const image = await this.decode(bytes, limits);
    const small = image.width * image.height <= MAX_KEPT_PIXELS;
    this.#bytes = small ? bytes : null;
    this.#image = small ? image : null;
    return image;
  }
}
