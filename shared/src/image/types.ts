/** A multi-channel image in planar (channel, y, x) order: data[c * height * width + y * width + x]. */
export interface MultiChannelImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
  /** Channel names where the source file gives them. */
  readonly channelNames?: readonly string[];
}

/** An integer image (instance labels: 0 = background, k = object k; or a scribble raster). */
export interface LabelImage {
  readonly width: number;
  readonly height: number;
  readonly data: Int32Array;
}

/** A single-channel float image (probability, entropy). */
export interface FloatImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Scribble raster values: 0 = not annotated. */
export const SCRIBBLE_NONE = 0;
export const SCRIBBLE_FOREGROUND = 1;
export const SCRIBBLE_BACKGROUND = 2;

export function channelView(image: MultiChannelImage, c: number): Float32Array {
  const n = image.width * image.height;
  if (c < 0 || c >= image.channels) throw new RangeError(`channel ${c} out of range 0..${image.channels - 1}`);
  return image.data.subarray(c * n, (c + 1) * n);
}

export function selectChannels(image: MultiChannelImage, channels: readonly number[]): MultiChannelImage {
  const n = image.width * image.height;
  const data = new Float32Array(n * channels.length);
  channels.forEach((c, i) => {
    data.set(channelView(image, c), i * n);
  });
  const names = image.channelNames;
  return {
    width: image.width,
    height: image.height,
    channels: channels.length,
    data,
    ...(names ? { channelNames: channels.map((c) => names[c] ?? `C${c}`) } : {}),
  };
}

/** Pixel planes as files hold them. */
export type PixelArray = Float32Array | Uint16Array | Uint8Array | Int32Array | Uint32Array;

/** The sample types images are imported in. */
export type SourceDtype = 'uint8' | 'uint16' | 'float32';

/** Anything that can hand out full-width bands of rows, one plane per channel. */
export interface RegionSource {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly dtype: SourceDtype;
  readonly channelNames?: readonly string[];
  /** Rows [y, y + rows) of every channel, each plane rows x width. */
  readRows(y: number, rows: number): Promise<PixelArray[]>;
}
