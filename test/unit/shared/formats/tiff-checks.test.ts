// Tests of shared/src/formats/tiff-checks.ts: a TIFF's header checked against its bytes before any pixel is read.
import assert from 'node:assert/strict';
import test from 'node:test';
import { LimitError, readTiff, TiffFormatError, toArrayBuffer } from '@impartial/shared';
import { onePage, TAG, withNextPage, withTag } from '../../../helpers/broken-tiffs.js';

const read = (bytes: Uint8Array, name = 'x.tif') => readTiff(toArrayBuffer(bytes), name);

/** The error readTiff throws for `bytes`, which must be of class `kind`. */
async function refusal(bytes: Uint8Array, kind: typeof TiffFormatError | typeof LimitError): Promise<Error> {
  const e = await read(bytes).then(
    () => null,
    (err: Error) => err,
  );
  assert.ok(e instanceof kind, `expected a ${kind.name}, got ${e}`);
  return e;
}

test('a good one-page TIFF reads back (the base every case below breaks one thing of)', async () => {
  const image = await read(onePage());
  assert.deepEqual([image.width, image.height, image.channels, image.data[0]], [64, 48, 1, 500]);
});

test('a page chain that loops back is refused, naming the page', async () => {
  const e = await refusal(withNextPage(onePage()), TiffFormatError);
  assert.match(e.message, /^x\.tif: the page chain loops back at page 1$/);
});

test('a next-page offset past the end of the file is a truncated file', async () => {
  const bytes = onePage();
  const e = await refusal(withNextPage(bytes, bytes.length + 100), TiffFormatError);
  assert.match(e.message, new RegExp(`page 0 points to a next page at byte ${bytes.length + 100}, past the end`));
});

test('a size over the limit is refused before anything is allocated, naming the size and the limit', async () => {
  // readTiff holds the whole image as float32: 2^30 values (4 GiB) at most.
  const e = await refusal(withTag(withTag(onePage(), TAG.width, 70_000), TAG.height, 70_000), LimitError);
  assert.match(e.message, /70000 x 70000 x 1 channels is 4,900 megapixels, over the limit of 1,074 megapixels/);
});

test('a strip that runs past the end of the file names the page and strip', async () => {
  const bytes = onePage();
  const e = await refusal(bytes.slice(0, bytes.length - 10), TiffFormatError);
  assert.match(e.message, /page 0 strip 0 \(bytes \d+-\d+\) runs past the end of the file \(\d+ bytes\)/);
});

test('an uncompressed strip shorter than its pixels names what it holds and what they need', async () => {
  const e = await refusal(withTag(onePage(), TAG.stripByteCounts, 1000), TiffFormatError);
  // 64 x 48 pixels of 2 bytes in one strip.
  assert.match(e.message, /page 0 strip 0 holds 1000 bytes but its 64 x 48 pixels need 6144/);
});

test('fewer strips than the page needs are refused', async () => {
  // 8 rows per strip: 48 rows need 6 strips, the header lists one.
  const e = await refusal(withTag(onePage(), TAG.rowsPerStrip, 8), TiffFormatError);
  assert.match(e.message, /page 0 is 64 x 48 and needs 6 strips; its header lists 1 offsets and 1 byte counts/);
});
