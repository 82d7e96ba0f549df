/**
 * The image formats the product accepts, recognised by their signatures before any decoder sees the bytes: libvips
 * would otherwise pick any of its loaders (SVG through librsvg, TIFF, GIF, HEIF/AVIF, PDF where built in) by
 * sniffing the content, whatever the upload claims to be. HEIC is not among them: the prebuilt libvips that sharp
 * ships reads HEIF with AV1 only (AVIF), not HEVC, which is what phones write.
 */
export type ImageFormat = 'jpeg' | 'png' | 'webp';

export const ACCEPTED_IMAGES = 'JPEG, PNG or WebP';

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (bytes: Uint8Array, signature: number[], at = 0) => signature.every((b, i) => bytes[at + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, PNG)) return 'png';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  return null;
}
