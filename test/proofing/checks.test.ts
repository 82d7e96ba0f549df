import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { DocumentReading } from '../../src/documents/index.js';
import type { Analysis } from '../../src/face/index.js';
import { ProofingFlow, ProofingRefusal } from '../../src/proofing/index.js';
import { createSealer } from '../../src/store/crypto.js';
import { memoryKeyValueStore } from '../../src/store/kv.js';

/** Unit vectors along one axis: cosine 1 with themselves, 0 with the others. */
const axis = (i: number) => Object.assign(new Float32Array(8), { [i]: 1 });
const ME = axis(0);
const SOMEONE = axis(1);

const fields = { first_name: 'ADA', middle_name: null, last_name: 'LOVELACE', dob: '1990-12-10', expiry_date: '2031-01-01', expired: false, document_type_full: 'Passport', issuer_iso: 'GBR', issuer_code: 'GBR', nationality_iso: 'GBR', nationality_code: 'GBR', document_number: 'X1' };
const reading = (over: Partial<DocumentReading> = {}, f: Partial<typeof fields> = {}) => ({ status: 'read', fields: { ...fields, ...f }, crops: { front: Buffer.from('front') }, ...over }) as unknown as DocumentReading;

function flow(opts: { reading?: DocumentReading; portrait?: Float32Array | null; live?: Float32Array; enrolled?: Float32Array[] }) {
  const record = vi.fn(async () => ({ state: 'valid' }) as never);
  const analyze = vi.fn(async (image: Uint8Array) => {
    const embedding = Buffer.from(image).toString() === 'frame' ? (opts.live ?? ME) : opts.portrait === undefined ? ME : opts.portrait;
    return { face: embedding ? {} : null, embedding } as unknown as Analysis;
  });
  const f = new ProofingFlow({
    documents: { read: async () => opts.reading ?? reading() },
    engine: { analyze: analyze as never },
    templates: async () => opts.enrolled ?? [ME],
    matchesEnrolled: (e, t) => t.some((x) => x.every((v, i) => v === e[i])),
    kv: memoryKeyValueStore(),
    sealer: createSealer(randomBytes(32)),
    proofing: { record },
    portraitThreshold: 0.335,
  });
  return { f, record };
}

const code = (p: Promise<unknown>) => p.then(() => 'passed', (e: unknown) => (e instanceof ProofingRefusal ? e.code : String(e)));

describe('the proofing checks', () => {
  it('refuses each broken document with its own code before any face is compared', async () => {
    expect(await code(flow({ reading: reading({ status: 'not_found', fields: null } as never) }).f.examineDocument('u', Buffer.from('doc')))).toBe('MRZ_NOT_FOUND');
    expect(await code(flow({ reading: reading({ status: 'unreadable' }) }).f.examineDocument('u', Buffer.from('doc')))).toBe('MRZ_UNREADABLE');
    expect(await code(flow({ reading: reading({ status: 'checks_failed' }) }).f.examineDocument('u', Buffer.from('doc')))).toBe('MRZ_CHECK_FAILED');
    expect(await code(flow({ reading: reading({}, { expired: true }) }).f.examineDocument('u', Buffer.from('doc')))).toBe('DOCUMENT_EXPIRED');
    expect(await code(flow({ reading: reading({}, { document_type_full: 'Visa' }) }).f.examineDocument('u', Buffer.from('doc')))).toBe('DOCUMENT_NOT_ACCEPTED');
    expect(await code(flow({ portrait: null }).f.examineDocument('u', Buffer.from('doc')))).toBe('PORTRAIT_NOT_FOUND');
    expect(await code(flow({ portrait: SOMEONE }).f.examineDocument('u', Buffer.from('doc')))).toBe('PORTRAIT_MISMATCH');
  });

  it('reads the MRZ from a card back when the front has none, and the portrait from the front', async () => {
    const reads = [reading({ status: 'not_found', fields: null, crops: null } as never), reading()];
    const { f } = flow({});
    (f as unknown as { deps: { documents: { read: () => Promise<DocumentReading> } } }).deps.documents.read = async () => reads.shift()!;
    expect(await f.examineDocument('u', Buffer.from('front'), Buffer.from('back'))).toEqual({ type: 'passport', issuer: 'GBR', expiry: '2031-01-01' });
  });

  it('records only when the live face matches the document portrait too, and uses a held document once', async () => {
    // Both faces are enrolled (say, two people share the account's templates): the live one matches the enrolled
    // face, but not the document's portrait.
    const mismatch = flow({ live: SOMEONE, enrolled: [ME, SOMEONE] });
    await mismatch.f.examineDocument('u', Buffer.from('doc'));
    expect(await code(mismatch.f.complete('u', Buffer.from('frame')))).toBe('LIVE_FACE_MISMATCH');
    expect(mismatch.record).not.toHaveBeenCalled();
    expect(await code(mismatch.f.complete('u', Buffer.from('frame')))).toBe('DOCUMENT_NEEDED');

    // An engine error compares nothing: the document stays held for another try.
    const busy = flow({});
    await busy.f.examineDocument('u', Buffer.from('doc'));
    const engine = (busy.f as unknown as { deps: { engine: { analyze: () => Promise<never> } } }).deps.engine;
    engine.analyze = async () => {
      throw new Error('overloaded');
    };
    expect(await code(busy.f.complete('u', Buffer.from('frame')))).toBe('Error: overloaded');
    expect(await busy.f.held('u')).not.toBeNull();

    const ok = flow({});
    await ok.f.examineDocument('u', Buffer.from('doc'));
    expect(await ok.f.held('u')).toEqual({ type: 'passport', issuer: 'GBR', expiry: '2031-01-01' });
    await ok.f.complete('u', Buffer.from('frame'));
    expect(ok.record).toHaveBeenCalledWith('u', expect.objectContaining({ document: { type: 'passport', issuer: 'GBR', expiry: '2031-01-01', number: 'X1' }, claims: { given_name: 'ADA', family_name: 'LOVELACE', birthdate: '1990-12-10', nationalities: ['GBR'] } }));
    expect(await ok.f.held('u')).toBeNull();
  });
});
