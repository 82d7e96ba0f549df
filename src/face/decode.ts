import sharp from 'sharp';
import { FaceError } from './errors.js';
import { ACCEPTED_IMAGES, sniffImageFormat } from './format.js';
import type { RgbImage } from './image.js';

export interface DecodeLimits {
  maxBytes: number;
  maxPixels: number;
}

/** Aborts a pathological decode rather than letting it hold a worker. */
const DECODE_TIMEOUT_S = 10;

/**
 * Decodes a JPEG, PNG or WebP (checked by signature first: no other libvips loader ever runs) into 8-bit sRGB:
 * EXIF orientation applied, alpha dropped, CMYK/greyscale/16-bit converted. An animated WebP contributes its first
 * frame only. The pixel limit is checked from the header before decoding, so a decompression bomb never expands.
 * The decoder's own message stays in the error's cause (for logs), never in its message (shown to callers).
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits): Promise<RgbImage> {
  if (bytes.length === 0) throw new FaceError('UNSUPPORTED_IMAGE', 'The image is empty');
  if (bytes.length > limits.maxBytes) {
    throw new FaceError('IMAGE_TOO_LARGE', `The image is larger than ${limits.maxBytes} bytes`);
  }
  if (!sniffImageFormat(bytes)) throw new FaceError('UNSUPPORTED_IMAGE', `The image is not a ${ACCEPTED_IMAGES} file`);
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'error', pages: 1 })
      .timeout({ seconds: DECODE_TIMEOUT_S })
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(msg)) {
      throw new FaceError('IMAGE_TOO_LARGE', `The image has more than ${limits.maxPixels} pixels`, { cause: err });
    }
    throw new FaceError('UNSUPPORTED_IMAGE', 'The image is damaged or incomplete and could not be decoded', { cause: err });
  }
}
