import type { Store } from '../store/store.js';
import type { TileResult } from './infer-task.js';

/** Suggestions: this many tiles of the image, highest mean entropy first. */
const SUGGESTED_TILES = 10;

/** Where to annotate next: the tiles of a prediction with the highest mean entropy. */
export function rankTiles(
  tiles: readonly TileResult[],
): Array<{ x: number; y: number; width: number; height: number; entropy: number }> {
  return [...tiles]
    .sort((a, b) => b.entropy - a.entropy)
    .slice(0, SUGGESTED_TILES)
    .map((t) => ({ x: t.x, y: t.y, width: t.width, height: t.height, entropy: t.entropy }));
}

/** Images of the project by the mean entropy of their latest prediction, highest first. */
export async function rankImages(
  store: Store,
  project: string,
): Promise<Array<{ image: string; name: string; entropy: number }>> {
  const images = await store.images.list(project);
  const ranked = await Promise.all(
    images.map(async (i) => ({
      image: i.id,
      name: i.name,
      entropy: (await store.predictions.latest(i.id))?.meanEntropy ?? Number.NaN,
    })),
  );
  return ranked.filter((i) => Number.isFinite(i.entropy)).sort((a, b) => b.entropy - a.entropy);
}
