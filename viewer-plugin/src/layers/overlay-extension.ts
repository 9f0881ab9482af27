import { type Layer, LayerExtension } from '@deck.gl/core';
import type { Texture } from '@luma.gl/core';

let made = 0;

/**
 * The prediction overlay's RGBA tiles, by tile index, for drawing inside the image layer's own
 * pass. Filled by the prediction layer (which fetches and colours them, and drops those its tile
 * cache evicts); read at draw time.
 */
export class OverlayTiles {
  /** Which set this is: the image layer and the prediction layer must share one. */
  readonly id = ++made;
  private readonly tiles = new Map<string, ImageData>();
  static key(x: number, y: number, z: number): string {
    return `${x},${y},${z}`;
  }
  set(x: number, y: number, z: number, image: ImageData | null): void {
    if (image) this.tiles.set(OverlayTiles.key(x, y, z), image);
    else this.tiles.delete(OverlayTiles.key(x, y, z));
  }
  get(tileId: { x: number; y: number; z: number } | undefined): ImageData | undefined {
    return tileId ? this.tiles.get(OverlayTiles.key(tileId.x, tileId.y, tileId.z)) : undefined;
  }
}

/**
 * The sampler kind Viv uses for this layer's channels (unsigned integer textures unless filtered
 * linearly). The overlay's sampler must be of the same kind: ANGLE refuses to link a program whose
 * samplers of different kinds share a texture unit, as they all do before units are assigned.
 */
function integerSampler(props: { dtype?: string; interpolation?: string }): boolean {
  return props.interpolation !== 'linear' && /^Uint/.test(props.dtype ?? 'Uint16');
}

const overlayModule = (integer: boolean) => ({
  name: 'overlayTile',
  fs: `uniform highp ${integer ? 'usampler2D' : 'sampler2D'} overlayTexture;
uniform overlayTileUniforms { float enabled; } overlayTile;`,
  uniformTypes: { enabled: 'f32' },
  inject: {
    // Straight-alpha "over": the overlay tile on top of the image's colour, in the image's pass.
    'fs:DECKGL_FILTER_COLOR': `if (overlayTile.enabled > 0.5) {
  vec4 o = vec4(texture(overlayTexture, geometry.uv))${integer ? ' / 255.0' : ''};
  color.rgb = mix(color.rgb, o.rgb, o.a);
}`,
  },
});

interface OverlayProps {
  overlayTiles: OverlayTiles | null;
  overlayEnabled: boolean;
  tileId?: { x: number; y: number; z: number };
  dtype?: string;
  interpolation?: string;
}
interface OverlayState {
  overlayTexture?: Texture;
  overlaySource?: ImageData;
  overlayBlank?: Texture;
}

/**
 * Draws the prediction overlay inside each tile of Viv's image layer (same tile grid), instead of
 * as a second full-screen pass: without a GPU (software WebGL), a pass is what a frame costs.
 */
export class OverlayTileExtension extends LayerExtension {
  static override extensionName = 'OverlayTileExtension';
  static override defaultProps = {
    overlayTiles: { type: 'object', value: null, compare: true },
    overlayEnabled: false,
  } as never;

  override getShaders(this: Layer<OverlayProps>) {
    return { modules: [overlayModule(integerSampler(this.props))] };
  }

  override draw(this: Layer<OverlayProps>): void {
    const state = this.state as OverlayState;
    const device = this.context.device;
    const format = integerSampler(this.props) ? 'rgba8uint' : 'rgba8unorm';
    const image = this.props.overlayEnabled ? this.props.overlayTiles?.get(this.props.tileId) : undefined;
    if (image && image !== state.overlaySource) {
      state.overlayTexture?.destroy();
      state.overlayTexture = device.createTexture({
        data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
        width: image.width,
        height: image.height,
        format,
        sampler: {
          minFilter: 'nearest',
          magFilter: 'nearest',
          addressModeU: 'clamp-to-edge',
          addressModeV: 'clamp-to-edge',
        },
      });
      state.overlaySource = image;
    }
    // A sampler must always be bound, even when the overlay is off here.
    state.overlayBlank ??= device.createTexture({
      data: new Uint8Array(4),
      width: 1,
      height: 1,
      format,
      sampler: { minFilter: 'nearest', magFilter: 'nearest' },
    });
    for (const model of this.getModels()) {
      model.setBindings({ overlayTexture: (image && state.overlayTexture) || state.overlayBlank });
      model.shaderInputs.setProps({ overlayTile: { enabled: image ? 1 : 0 } });
    }
  }

  override finalizeState(this: Layer<OverlayProps>): void {
    const state = this.state as OverlayState;
    state.overlayTexture?.destroy();
    state.overlayBlank?.destroy();
  }
}
