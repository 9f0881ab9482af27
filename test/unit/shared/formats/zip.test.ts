// Tests of shared/src/formats/zip.ts: reading a zip within limits (readZip).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, LimitError, readZip, type ZipLimits } from '@impartial/shared';
import { Zip, ZipDeflate, ZipPassThrough, zipSync } from 'fflate';

const MiB = 1024 * 1024;
const text = (s: string) => new TextEncoder().encode(s);

const limits = (o: Partial<ZipLimits> = {}): ZipLimits => ({
  accept: () => true,
  maxEntries: 100,
  maxEntryBytes: MiB,
  maxTotalBytes: 4 * MiB,
  what: 'the test zip',
  ...o,
});

/** 50 MB of zeros deflate to ~50 KB: a zip bomb at a scale a test can afford. */
const BOMB_BYTES = 50 * 1000 * 1000;
let bombZip: Uint8Array | undefined;
function bomb(): Uint8Array {
  bombZip ??= zipSync(
    { 'a.txt': text('first'), 'zeros.bin': new Uint8Array(BOMB_BYTES), 'z.txt': text('last') },
    { level: 9 },
  );
  return bombZip;
}

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const setU32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);

/**
 * The central directory's entries of a zip without a comment: name, where its record is and
 * where its local header is (APPNOTE 4.3.12 and 4.3.7).
 */
function directory(zip: Uint8Array): Array<{ name: string; central: number; local: number }> {
  const end = zip.length - 22;
  assert.equal(u32(zip, end), 0x06054b50);
  const out = [];
  for (let i = 0, at = u32(zip, end + 16); i < (zip[end + 10]! | (zip[end + 11]! << 8)); i++) {
    const nameLength = zip[at + 28]! | (zip[at + 29]! << 8),
      rest = (zip[at + 30]! | (zip[at + 31]! << 8)) + (zip[at + 32]! | (zip[at + 33]! << 8));
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    out.push({ name, central: at, local: u32(zip, at + 42) });
    at += 46 + nameLength + rest;
  }
  return out;
}

/** A copy of the zip whose headers (local and central) declare `size` inflated bytes for the entry. */
function declaring(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const entry = directory(out).find((e) => e.name === name)!;
  setU32(out, entry.central + 24, size);
  setU32(out, entry.local + 22, size);
  return out;
}

/** A copy of the zip whose entry's compressed bytes are replaced with garbage (not a deflate stream). */
function garbled(zip: Uint8Array, name: string): Uint8Array {
  const out = zip.slice();
  const { local } = directory(out).find((e) => e.name === name)!;
  const start =
    local + 30 + (out[local + 26]! | (out[local + 27]! << 8)) + (out[local + 28]! | (out[local + 29]! << 8));
  out.fill(0xff, start, start + u32(out, local + 18));
  return out;
}

const limitError = (pattern: RegExp) => (e: unknown) =>
  e instanceof LimitError && e.code === 'too-large' && pattern.test(e.message);
const inputError = (pattern: RegExp) => (e: unknown) =>
  e instanceof InputError && e.code === 'bad-request' && pattern.test(e.message);

describe('readZip', () => {
  it('reads the accepted entries, stored or deflated, in the archive order', () => {
    const files = readZip(
      zipSync({
        'b/one.txt': [text('one'), { level: 0 }],
        'two.txt': [text('two '.repeat(1000)), { level: 9 }],
        'skip.bin': new Uint8Array(10),
        'empty.txt': new Uint8Array(0),
      }),
      limits({ accept: (name) => name.endsWith('.txt') }),
    );
    assert.deepEqual([...files.keys()], ['b/one.txt', 'two.txt', 'empty.txt']);
    assert.equal(new TextDecoder().decode(files.get('b/one.txt')), 'one');
    assert.equal(new TextDecoder().decode(files.get('two.txt')), 'two '.repeat(1000));
    assert.equal(files.get('empty.txt')!.length, 0);
    assert.equal(readZip(zipSync({}), limits()).size, 0);
  });

  it('reads entries written as a stream (sizes after the data), even holding a header signature', () => {
    const parts: Uint8Array[] = [];
    const zip = new Zip((error, chunk) => {
      assert.ifError(error);
      parts.push(chunk);
    });
    const stored = new ZipPassThrough('a.bin');
    zip.add(stored);
    stored.push(text('hello PK\x03\x04 world'), true);
    const deflated = new ZipDeflate('b.txt', { level: 6 });
    zip.add(deflated);
    deflated.push(text('second '.repeat(100)), true);
    zip.end();
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    assert.equal(bytes[6]! & 8, 8, 'a data descriptor follows the entry');
    const files = readZip(bytes, limits());
    assert.equal(new TextDecoder().decode(files.get('a.bin')), 'hello PK\x03\x04 world');
    assert.equal(new TextDecoder().decode(files.get('b.txt')), 'second '.repeat(100));
  });

  it('refuses a zip bomb by its declared size, naming the entry, the size and the limit', () => {
    assert.ok(bomb().length < 200_000, `${bomb().length} bytes of zip`);
    assert.throws(
      () => readZip(bomb(), limits()),
      limitError(new RegExp(`^the test zip: zeros\\.bin is ${BOMB_BYTES} bytes; at most ${MiB} an entry$`)),
    );
  });

  it('stops an entry whose declared size lies at its real size', () => {
    const lying = declaring(bomb(), 'zeros.bin', 1000);
    assert.throws(
      () => readZip(lying, limits()),
      limitError(new RegExp(`zeros\\.bin is over ${MiB} bytes; at most ${MiB} an entry`)),
    );
    // the total counts real bytes as well
    assert.throws(
      () => readZip(lying, limits({ maxEntryBytes: 100 * MiB, maxTotalBytes: 2 * MiB })),
      limitError(new RegExp(`inflate to over ${2 * MiB} bytes \\(at zeros\\.bin\\); at most ${2 * MiB} together`)),
    );
  });

  it('passes over entries it does not accept without inflating them', () => {
    const names: string[] = [];
    const files = readZip(
      bomb(),
      limits({
        accept: (name) => {
          names.push(name);
          return name.endsWith('.txt');
        },
        maxTotalBytes: 1000,
      }),
    );
    assert.deepEqual(names, ['a.txt', 'zeros.bin', 'z.txt']);
    assert.deepEqual([...files.keys()], ['a.txt', 'z.txt']);
    // Were the skipped entry inflated, its garbage would be an error.
    const broken = garbled(bomb(), 'zeros.bin');
    assert.deepEqual(
      [...readZip(broken, limits({ accept: (name) => name !== 'zeros.bin' })).keys()],
      ['a.txt', 'z.txt'],
    );
    assert.throws(
      () => readZip(broken, limits({ maxEntryBytes: 100 * MiB, maxTotalBytes: 100 * MiB })),
      inputError(/^the test zip is not a readable zip file \(zeros\.bin: /),
    );
  });

  it('caps accepted entries, the total and single entries by name', () => {
    const entries: Record<string, Uint8Array> = {};
    for (let i = 0; i < 10; i++) entries[`${i}.roi`] = text(`roi ${i}`);
    entries['x.txt'] = text('x');
    const many = zipSync(entries);
    assert.equal(readZip(many, limits({ accept: (n) => n.endsWith('.roi'), maxEntries: 10 })).size, 10);
    assert.throws(
      () => readZip(many, limits({ maxEntries: 10 })),
      limitError(/^the test zip: x\.txt is one entry too many \(at most 10\)$/),
    );
    const two = zipSync({ 'a.bin': new Uint8Array(600 * 1024), 'b.bin': new Uint8Array(600 * 1024) });
    assert.throws(
      () => readZip(two, limits({ maxTotalBytes: MiB })),
      limitError(new RegExp(`inflate to over ${MiB} bytes \\(at b\\.bin\\)`)),
    );
    const capped = limits({ maxBytesOf: (name) => (name === 'b.bin' ? 1000 : Infinity) });
    assert.throws(() => readZip(two, capped), limitError(/b\.bin is 614400 bytes; at most 1000 an entry/));
  });

  it('gives an InputError for what is not a zip, or a damaged one', () => {
    const notZip = /^the test zip is not a readable zip file \(/;
    assert.throws(() => readZip(new Uint8Array(0), limits()), inputError(notZip));
    assert.throws(
      () =>
        readZip(
          new Uint8Array(300).map((_, i) => (i * 73 + 11) & 255),
          limits(),
        ),
      inputError(notZip),
    );
    const zip = zipSync({ 'a.txt': text('some text '.repeat(50)), 'b.txt': text('more') });
    assert.throws(() => readZip(zip.subarray(0, zip.length - 30), limits()), inputError(notZip));
    assert.throws(() => readZip(zip.subarray(40), limits()), inputError(notZip));
    assert.throws(() => readZip(garbled(zip, 'a.txt'), limits()), inputError(/a\.txt: /));
  });
});
