// A synthetic image as a camera writes it: syntheticCells gives photon counts (about 0-2000), stored
// here as 16-bit integers, unscaled. (Clipping at 1 first, as these benches once did, left a picture
// of which pixels were above one count: nearly binary, most of the background white.)
import { imagejHyperstack, writeTiff } from '@impartial/shared';

/** TIFF bytes of a float image ({ width, height, channels, data } in channel-major planes) as uint16 counts. */
export function countsTiff(image) {
  const n = image.width * image.height;
  const planes = Array.from({ length: image.channels }, (_, c) =>
    Uint16Array.from(image.data.subarray(c * n, (c + 1) * n), (v) => Math.round(Math.max(0, Math.min(65535, v)))),
  );
  return Buffer.from(writeTiff(imagejHyperstack(planes, image.width, image.height)));
}
