import { readFile } from 'node:fs/promises';
import type { Config } from '../config/index.js';
import { DocumentReader, readDocumentList, runDocumentEval } from '../documents/index.js';
import { print } from './output.js';
import type { Args } from './commands.js';
import { UsageError } from './usage.js';

async function withReader<T>(config: Config, fn: (r: DocumentReader) => Promise<T>): Promise<T> {
  const reader = await DocumentReader.create({ modelsDir: config.modelsDir, maxPixels: config.face.maxPixels });
  try {
    return await fn(reader);
  } finally {
    await reader.close();
  }
}

const value = (args: Args, name: string) => {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
};

/** `document read` and `document-eval` (src/documents). */
export const documentCommands: Record<string, (config: Config, args: Args) => Promise<void>> = {
  async 'document read'(config, args) {
    const file = args.positionals[0];
    if (!file) throw new UsageError('document read takes an image file');
    const image = await readFile(file);
    const reading = await withReader(config, (r) => r.read(image));
    const { crops: _crops, ...shown } = reading;
    const human =
      reading.status === 'not_found'
        ? 'No MRZ found.'
        : [`MRZ ${reading.status.replace('_', ' ')} (${reading.fields!.mrz_format}):`, ...reading.fields!.mrz.split('^').map((l) => `  ${l}`), ...reading.checks.map((c) => `  check ${c.name}: ${c.valid ? 'ok' : 'FAILED'}`), JSON.stringify(reading.fields, null, 2)].join('\n');
    print(args.json, shown, human);
  },

  async 'document-eval'(config, args) {
    const listFile = value(args, 'documents');
    const linesDir = value(args, 'lines');
    if (!listFile && !linesDir) throw new UsageError('--documents FILE (and/or --lines DIR) is required');
    const result = await withReader(config, async (r) => ({
      ...(listFile ? await runDocumentEval(r, await readDocumentList(listFile)) : {}),
      ...(linesDir ? { line_crops: await r.evalLines(linesDir) } : {}),
    }));
    print(args.json, result);
  },
};
