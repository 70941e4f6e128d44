import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { foldProfile, ProfileDecodeError } from '../../../../src/domain/profile';
import { decodeJfrLabels } from '../../../../src/domain/profile/jfr/jfr-labels';
import { decodeError, foldOrDecodeError, prng } from '../malformed';

const FIXTURES = resolve(__dirname, '../../../fixtures/jfr');
const RECORDINGS = ['dump1.jfr.gz', 'example.jfr.gz', 'wall_tick_sample.jfr.gz'];
const raw = (name: string): Buffer => gunzipSync(readFileSync(join(FIXTURES, name)));

describe('JFR: truncated recordings give a clear error, never a crash', () => {
  for (const file of RECORDINGS) {
    it(file, () => {
      const bytes = raw(file);
      const started = Date.now();
      for (let i = 1; i < 64; i++) {
        const cut = Math.floor((bytes.length * i) / 64);
        // A JFR chunk states its size in its header: any cut recording is refused, none folds to a partial result.
        expect(foldOrDecodeError(bytes.subarray(0, cut), `${file} cut at ${cut}`)).toBe('error');
      }
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  }

  it('says where and what: a cut chunk names the jfr format and the chunk size', () => {
    const bytes = raw('dump1.jfr.gz');
    const err = decodeError(bytes.subarray(0, 1000));
    expect(err.format).toBe('jfr');
    expect(err.offset).toBe(8);
    expect(err.message).toMatch(/^jfr: expected a chunk size within the data \(1000 bytes left\)/);
  });

  it('refuses a chunk with a wrong version, and bytes after the last chunk that are not a chunk', () => {
    const bytes = Uint8Array.from(raw('wall_tick_sample.jfr.gz'));
    bytes[5] = 9;
    expect(decodeError(bytes).message).toMatch(/JFR format version 1 or 2, found 9/);
    const trailing = Buffer.concat([
      raw('wall_tick_sample.jfr.gz'),
      Buffer.from('garbage after the chunk, long enough for a header......................'),
    ]);
    expect(decodeError(trailing).message).toMatch(/chunk magic/);
  });
});

describe('JFR: seeded bit flips give a fold or a clear error, never a crash or a hang', () => {
  for (const file of RECORDINGS) {
    it(file, () => {
      const original = raw(file);
      const random = prng(0x1f1a5);
      const outcomes = { fold: 0, error: 0 };
      const started = Date.now();
      for (let i = 0; i < 150; i++) {
        const bytes = Uint8Array.from(original);
        for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
          const at = Math.floor(random() * bytes.length);
          bytes[at]! ^= 1 << Math.floor(random() * 8);
        }
        outcomes[foldOrDecodeError(bytes, `${file} flip #${i}`)]++;
      }
      expect(outcomes.fold + outcomes.error).toBe(150);
      expect(outcomes.error).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(30_000);
    });
  }

  it('flips in the metadata and constant pools only (where counts and sizes live)', () => {
    const original = raw('example.jfr.gz');
    const view = new DataView(original.buffer, original.byteOffset);
    const poolOffset = Number(view.getBigUint64(16));
    const metaOffset = Number(view.getBigUint64(24));
    const random = prng(7);
    for (let i = 0; i < 150; i++) {
      const bytes = Uint8Array.from(original);
      const base = i % 2 === 0 ? metaOffset : poolOffset;
      const at = base + Math.floor(random() * Math.min(4096, bytes.length - base));
      bytes[at] = Math.floor(random() * 256);
      foldOrDecodeError(bytes, `example flip at ${at}`);
    }
  });
});

describe('JFR: bombs and hostile sizes', () => {
  it('a gzipped JFR bomb is refused at the inflated-size cap', () => {
    const chunk = raw('wall_tick_sample.jfr.gz');
    const bomb = gzipSync(Buffer.concat([chunk, Buffer.alloc(64 * 1024 * 1024)]), { level: 9 });
    const started = Date.now();
    expect(() => foldProfile(bomb, { maxInflatedBytes: 4 * 1024 * 1024 })).toThrow(
      /^gzip: inflated size exceeds the limit of 4194304 bytes/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a chunk claiming billions of pool entries is refused by its byte budget, not looped over', () => {
    // A zero-filled tail after a valid chunk header claims a chunk whose pools and events are all zeros.
    const header = Uint8Array.from(raw('wall_tick_sample.jfr.gz').subarray(0, 68));
    const body = new Uint8Array(1 << 20);
    const bytes = Buffer.concat([header, body]);
    new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(8, BigInt(bytes.length));
    const started = Date.now();
    expect(decodeError(bytes).format).toBe('jfr');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('random bytes behind a JFR chunk magic and header never crash the reader', () => {
    const header = raw('example.jfr.gz').subarray(0, 68);
    const random = prng(99);
    for (let i = 0; i < 200; i++) {
      const bytes = new Uint8Array(68 + Math.floor(random() * 4096));
      for (let j = 68; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      bytes.set(header.subarray(0, i % 2 === 0 ? 68 : 8));
      const view = new DataView(bytes.buffer);
      view.setBigUint64(8, BigInt(bytes.length));
      view.setBigUint64(16, BigInt(68 + Math.floor(random() * (bytes.length - 68))));
      view.setBigUint64(24, BigInt(68 + Math.floor(random() * (bytes.length - 68))));
      foldOrDecodeError(bytes, `random chunk #${i}`);
    }
  });

  it('seeded bit flips and truncations of real labels parts decode or give a jfr decode error', () => {
    const random = prng(5);
    for (const file of ['dump1.labels.pb.gz', 'new_spancontext.labels.gz']) {
      const original = raw(file);
      for (let i = 0; i < 200; i++) {
        const bytes = Uint8Array.from(
          original.subarray(0, i % 4 === 0 ? Math.floor(random() * original.length) : original.length),
        );
        if (bytes.length > 0) bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
        try {
          decodeJfrLabels(bytes);
        } catch (err: unknown) {
          expect(err, `${file} #${i}`).toBeInstanceOf(ProfileDecodeError);
          expect((err as ProfileDecodeError).message).toMatch(/^jfr: labels part: /);
        }
      }
    }
  });

  it('a corrupt labels part is a jfr decode error', () => {
    expect(() => decodeJfrLabels(Uint8Array.from([0x0a, 0x7f, 0x01]))).toThrow(/^jfr: labels part: /);
  });
});
