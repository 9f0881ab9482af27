import { Deck, OrthographicView } from '@deck.gl/core';
import type { RenderedDetail } from '../events.js';
import { MAX_ZOOM, type ScreenToImage, type View } from '../state/view.js';
import { LayerStack, type Scene } from './stack.js';

export interface StageHooks {
  /** The user moved the view (deck's pan and zoom controller). */
  viewChanged(view: View): void;
  /** A frame is on screen. */
  rendered(frame: RenderedDetail): void;
}

/** The deck.gl canvas: a scene and a view go in, frames come out. */
export class Stage {
  /** The last frame on screen; null before the first. */
  lastFrame: RenderedDetail | null = null;
  private readonly deck: Deck;
  private readonly stack = new LayerStack();
  /** Scenes given to deck, and how many of them the last frame drew. */
  private scenes = 0;
  private scenesDrawn = 0;

  constructor(parent: HTMLElement, view: View, hooks: StageHooks) {
    this.deck = new Deck({
      parent,
      views: new OrthographicView({ id: 'ortho', controller: true }),
      viewState: { ...view, maxZoom: MAX_ZOOM } as never,
      // No multisampling: images and label tiles are pixels, not vector edges, and on machines
      // without a GPU (software WebGL) it multiplies the cost of every layer's pass.
      deviceProps: { webgl: { antialias: false } },
      onViewStateChange: ({ viewState }: { viewState: unknown }) => {
        hooks.viewChanged(viewState as View);
      },
      onAfterRender: () => hooks.rendered(this.frameDrawn()),
    } as never);
  }

  /** Draws the scene from this view (in the next animation frame). */
  show(scene: Scene, view: View): void {
    const layers = this.stack.layers(scene);
    this.scenes++;
    // maxZoom in the view state is what deck's controller stops the wheel and pinch at.
    this.deck.setProps({ viewState: { ...view, maxZoom: MAX_ZOOM } as never, layers: layers as never });
  }

  /** Dragging pans (the pan tool), or is left to the drawing tools. */
  dragPans(on: boolean): void {
    // While drawing, a double click closes an outline rather than zooming in.
    this.deck.setProps({ controller: on ? true : { dragPan: false, doubleClickZoom: false } } as never);
  }

  /** The view of the image; none until deck has started (its `getViewports` asserts before that). */
  get viewport(): ScreenToImage | undefined {
    return this.deck.isInitialized ? this.deck.getViewports()[0] : undefined;
  }

  /** Whether the screen shows the last scene with every layer's data in, and nothing waits to be drawn. */
  get settled(): boolean {
    return !!this.lastFrame?.loaded && this.scenesDrawn === this.scenes && !this.deck.needsRedraw();
  }

  finalize(): void {
    this.deck.finalize();
  }

  private frameDrawn(): RenderedDetail {
    const layers = (this.deck.props.layers ?? []) as unknown as Array<{ isLoaded: boolean } | null>;
    this.lastFrame = { frame: (this.lastFrame?.frame ?? 0) + 1, loaded: layers.every((l) => !l || l.isLoaded) };
    this.scenesDrawn = this.scenes;
    return this.lastFrame;
  }
}
