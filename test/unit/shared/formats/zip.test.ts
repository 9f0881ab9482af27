// Tests of shared/src/formats/zip.ts: reading a zip within limits (readZip).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, LimitError, readZip, type ZipLimits } from '@impartial/shared';
import { deflateSync, Zip, ZipDeflate, ZipPassThrough, zipSync } from 'fflate';
import { dataStart, declaring, directory, handZip, slowCrc32, u64Bytes, zip64Extra } from '../../../helpers/zip.js';

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

/** A copy of the zip whose entry's compressed bytes are replaced with garbage (not a deflate stream). */
function garbled(zip: Uint8Array, name: string): Uint8Array {
  const out = zip.slice();
  const start = dataStart(out, name);
  out.fill(0xff, start, start + u32(out, directory(out).find((e) => e.name === name)!.central + 20));
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

  it('stops an entry that inflates past its declared size there, and counts real bytes in the total', () => {
    const lying = declaring(bomb(), 'zeros.bin', 1000);
    assert.throws(
      () => readZip(lying, limits()),
      inputError(/zeros\.bin inflates past the 1000 bytes the directory declares/),
    );
    // declaring a size over the cap, it is still stopped at the cap by its real bytes
    assert.throws(
      () => readZip(declaring(bomb(), 'zeros.bin', 2 ** 31), limits({ maxEntryBytes: 2 ** 32 })),
      limitError(/inflate to over 4194304 bytes \(at zeros\.bin\); at most 4194304 together/),
    );
    const honest = zipSync({ 'one.bin': new Uint8Array(1.5 * MiB), 'two.bin': new Uint8Array(1.5 * MiB) });
    assert.throws(
      () => readZip(honest, limits({ maxEntryBytes: 2 * MiB, maxTotalBytes: 2 * MiB })),
      limitError(new RegExp(`inflate to over ${2 * MiB} bytes \\(at two\\.bin\\); at most ${2 * MiB} together`)),
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

  it('caps the directory entries, accepted or not, naming the cap', () => {
    const entries: Record<string, Uint8Array> = {};
    for (let i = 0; i < 12; i++) entries[`${i}.txt`] = text(`${i}`);
    const twelve = zipSync(entries);
    const none = limits({ accept: () => false });
    assert.equal(readZip(twelve, { ...none, maxDirectoryEntries: 12 }).size, 0);
    assert.throws(
      () => readZip(twelve, { ...none, maxDirectoryEntries: 11 }),
      limitError(/^the test zip: its directory lists 12 entries; at most 11 in all$/),
    );
    // Unless told, 65,536: every zip without zip64 passes, a zip64 directory of a million is refused
    // from its count, before the scan (which would find its second entry missing).
    const one = [{ name: 'a.txt', data: text('a') }];
    assert.equal(readZip(handZip(one, { zip64End: {} }), limits()).size, 1);
    assert.throws(
      () => readZip(handZip(one, { zip64End: { count: 65_537 } }), none),
      limitError(/^the test zip: its directory lists 65537 entries; at most 65536 in all$/),
    );
    assert.throws(
      () => readZip(handZip(one, { zip64End: { count: 65_536 } }), none),
      inputError(/directory entry 2 of 65536 is damaged/),
    );
  });

  it('checks the CRC-32 of each entry, stored or inflated across many pushes', () => {
    // known values (the CRC-32 "check" value of ISO-HDLC, the empty string, a pangram)
    const known: Array<[string, number]> = [
      ['123456789', 0xcbf43926],
      ['', 0],
      ['The quick brown fox jumps over the lazy dog', 0x414fa339],
    ];
    const good = handZip(known.map(([s, crc], i) => ({ name: `${i}.txt`, data: text(s), crc })));
    assert.deepEqual(
      [...readZip(good, limits()).values()].map((b) => new TextDecoder().decode(b)),
      known.map(([s]) => s),
    );
    for (const [s, crc] of known) {
      assert.throws(
        () => readZip(handZip([{ name: 'x.txt', data: text(s), crc: crc ^ 0x100 }]), limits()),
        inputError(/^the test zip is not a readable zip file \(x\.txt is damaged: its CRC-32 is 0x[0-9a-f]{8}, the/),
      );
    }
    // incompressible bytes: hundreds of KiB deflated, many pushes of 16 KiB
    let seed = 1;
    const noise = new Uint8Array(600 * 1024).map(() => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed & 255;
    });
    const zip = zipSync({ 'noise.bin': [noise, { level: 6 }], 'tail.txt': text('end') });
    const { central } = directory(zip).find((e) => e.name === 'noise.bin')!;
    assert.ok(u32(zip, central + 20) > 20 * 16 * 1024, `${u32(zip, central + 20)} compressed bytes`);
    assert.deepEqual(readZip(zip, limits()).get('noise.bin'), noise);
    const wrongCrc = zip.slice();
    wrongCrc[central + 16]! ^= 1;
    assert.throws(
      () => readZip(wrongCrc, limits()),
      inputError(/noise\.bin is damaged: its CRC-32 is 0x[0-9a-f]{8}, the directory says 0x[0-9a-f]{8}\)$/),
    );
    // a stored entry's byte changed
    const stored = zipSync({ 'a.bin': [noise.subarray(0, 1000), { level: 0 }] });
    const changed = stored.slice();
    changed[dataStart(changed, 'a.bin') + 500]! ^= 0x40;
    assert.equal(readZip(stored, limits()).get('a.bin')!.length, 1000);
    assert.throws(() => readZip(changed, limits()), inputError(/a\.bin is damaged/));
  });

  it('refuses a deflated entry of no bytes unless it declares none', () => {
    const empty = deflateSync(new Uint8Array(0));
    assert.deepEqual([...empty], [3, 0], 'how a writer deflates an empty file');
    const files = readZip(
      handZip([
        { name: 'two-bytes.txt', data: empty, method: 8, size: 0, crc: 0 },
        { name: 'none.txt', data: new Uint8Array(0), method: 8, size: 0, crc: 0 },
      ]),
      limits(),
    );
    assert.deepEqual(
      [...files.values()].map((b) => b.length),
      [0, 0],
    );
    assert.throws(
      () => readZip(handZip([{ name: 'cut.txt', data: new Uint8Array(0), method: 8, size: 1000, crc: 0 }]), limits()),
      inputError(/^the test zip is not a readable zip file \(cut\.txt is cut short \(no compressed bytes\)\)$/),
    );
  });

  it('refuses an accepted name found twice, naming it', () => {
    const twice = handZip([
      { name: 'a/one.roi', data: text('first') },
      { name: 'skip.txt', data: text('x') },
      { name: 'skip.txt', data: text('y') },
      { name: 'a/one.roi', data: text('second') },
    ]);
    assert.throws(
      () => readZip(twice, limits({ accept: (name) => name.endsWith('.roi') })),
      inputError(/^the test zip holds a\/one\.roi twice$/),
    );
    // the same name twice among the skipped entries is no matter
    assert.deepEqual([...readZip(twice, limits({ accept: (name) => name === 'b.roi' })).keys()], []);
  });

  it('reads zip64 sizes from their extra field, and only from within it', () => {
    const data = text('zip64 sized'),
      size = data.length;
    const zip64 = handZip([
      { name: 'a.txt', data: text('plain') },
      { name: 'b.txt', data, zip64Sizes: true, extra: zip64Extra(size, size) },
    ]);
    const files = readZip(zip64, limits());
    assert.equal(new TextDecoder().decode(files.get('b.txt')), 'zip64 sized');
    assert.equal(slowCrc32(files.get('a.txt')!), slowCrc32(text('plain')));
    // two sizes marked but one given: the second is not the comment's bytes that follow the field
    const short = handZip([
      { name: 'b.txt', data, zip64Sizes: true, extra: zip64Extra(size), comment: u64Bytes(size) },
    ]);
    assert.throws(
      () => readZip(short, limits()),
      inputError(/^the test zip is not a readable zip file \(b\.txt: its zip64 extra field is too short\)$/),
    );
    // a field whose own size is short, another field after it
    const extra = new Uint8Array([...zip64Extra(size), 0x55, 0x54, 8, 0, ...u64Bytes(size)]);
    const inner = handZip([{ name: 'b.txt', data, zip64Sizes: true, extra }]);
    assert.throws(() => readZip(inner, limits()), inputError(/b\.txt: its zip64 extra field is too short/));
  });
});
