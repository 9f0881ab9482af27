import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  labelOutlines,
  planesOf,
  polygonsToRois,
  type SyntheticSample,
  syntheticCells,
  writeOmeZarrImage,
  writeRoiZip,
} from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';

/** A synthetic multiplexed image written as OME-Zarr, with its ground truth as an ImageJ ROI zip. */
export async function writeSyntheticFixture(
  dir: string,
  name: string,
  options: { size: number; channels: number; seed: number },
): Promise<{ image: string; labels: string; sample: SyntheticSample }> {
  await mkdir(dir, { recursive: true });
  const sample = syntheticCells({
    width: options.size,
    height: options.size,
    channels: options.channels,
    seed: options.seed,
  });
  const image = path.join(dir, `${name}.ome.zarr`);
  await writeOmeZarrImage(new FileSystemStore(image), {
    width: options.size,
    height: options.size,
    planes: planesOf(sample.image),
    name,
  });
  const labels = path.join(dir, `${name}.zip`);
  await writeFile(labels, writeRoiZip(polygonsToRois(labelOutlines(sample.labels))));
  return { image, labels, sample };
}
