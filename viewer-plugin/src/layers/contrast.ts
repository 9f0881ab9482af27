import { getChannelStats, getImageSize, type loadOmeZarr } from '@vivjs/loaders';

/*
 * Contrast windows per channel. The coarsest level of a whole slide averages blocks of 64-128
 * pixels: cells and background blur into one mid value, and windows taken there are narrow (12-32
 * of 255 on the 20000^2 x 8 demo slide). Cells at full zoom then saturate, and at the overview six
 * channels stretched over that narrow range add up to white (43% of the overview). Windows from
 * pixels at (close to) full resolution fit what the cells are; the overview is then the darker
 * average it really is.
 */

type LoadedZarr = Awaited<ReturnType<typeof loadOmeZarr>>;
type Source = LoadedZarr['data'][number];

/** The level whose pixels give the windows: 2x2 averages at most, still cell-sized values. */
export const CONTRAST_LEVEL = 1;

/** The window one channel gets (and the domain its sliders span). */
export interface ChannelWindow {
  window: [number, number];
  domain: [number, number];
}

/**
 * Index of the place with the most signal over all channels, each scaled by its own maximum (so one
 * bright channel does not choose alone); 0 when every channel is empty.
 */
export function brightestPixel(planes: readonly ArrayLike<number>[]): number {
  const maxima = planes.map((p) => {
    let m = 0;
    for (let i = 0; i < p.length; i++) if (p[i]! > m) m = p[i]!;
    return m || 1;
  });
  let best = -1,
    at = 0;
  for (let i = 0; i < (planes[0]?.length ?? 0); i++) {
    let s = 0;
    for (let c = 0; c < planes.length; c++) s += planes[c]![i]! / maxima[c]!;
    if (s > best) [best, at] = [s, i];
  }
  return at;
}

/**
 * A channel's window from its values: Viv's limits (0.05 and 99.95 percentiles of the non-zero
 * values). Viv's limits skip zeros: a two-valued channel (a mask, a stain in a few spots) comes out
 * as one value, an empty window that draws nothing; the full range is used then.
 */
export function contrastWindow(values: ArrayLike<number>): ChannelWindow {
  const stats = getChannelStats(Float64Array.from(values) as never);
  const [min, max] = [stats.domain[0]!, stats.domain[1]!];
  let [low, high] = [stats.contrastLimits[0]!, stats.contrastLimits[1]!];
  if (!(high > low)) [low, high] = max > min ? [min, max] : [min, min + 1];
  return { window: [low, high], domain: [min, Math.max(max, high)] };
}

const selectionOf = (source: Source, channel: number) =>
  ((source.labels as string[]).includes('c') ? { c: channel } : {}) as never;

/**
 * Windows for these channels from one tile of CONTRAST_LEVEL (the finest level when the image has
 * fewer), at the place the coarsest level shows the most signal: a tile of tissue, a few hundred KB
 * per channel whatever the slide's size.
 */
export async function contrastWindows(image: LoadedZarr, channels: readonly number[]): Promise<ChannelWindow[]> {
  const coarsest = image.data.at(-1)!;
  const fine = image.data[Math.min(CONTRAST_LEVEL, image.data.length - 1)]!;
  const coarse = await Promise.all(
    channels.map(
      async (c) =>
        ((await coarsest.getRaster({ selection: selectionOf(coarsest, c) })) as { data: ArrayLike<number> }).data,
    ),
  );
  const at = brightestPixel(coarse);
  const small = getImageSize(coarsest),
    big = getImageSize(fine);
  const x = ((at % small.width) + 0.5) * (big.width / small.width),
    y = (Math.floor(at / small.width) + 0.5) * (big.height / small.height);
  const tile = { x: Math.floor(x / fine.tileSize), y: Math.floor(y / fine.tileSize) };
  return Promise.all(
    channels.map(async (c) => {
      const t = (await fine.getTile({ ...tile, selection: selectionOf(fine, c) })) as { data: ArrayLike<number> };
      return contrastWindow(t.data);
    }),
  );
}
