import { type ComponentType, createElement, useEffect, useMemo, useRef } from 'react';
import { PluginViewType, useCoordination } from 'vitessce';
import type { SpatialView } from './coordinates.js';
import { ViewerFrame } from './viewer-frame.js';

/** What the view coordinates with the rest of a config: the spatial view, and the image layers' channels. */
export const COORDINATION_TYPES = ['spatialZoom', 'spatialTargetX', 'spatialTargetY', 'spatialImageLayer'];

export interface ImpartialViewProps {
  /** Given by Vitessce from the layout entry's `coordinationScopes`. */
  coordinationScopes: Record<string, unknown>;
  /** The bridge's viewer page for one image, e.g. `https://bridge/t/TOKEN/viewer/?image=ID`. */
  viewerUrl: string;
  title?: string;
}

type Values = Partial<SpatialView> & { spatialImageLayer?: unknown };
type Setters = {
  setSpatialImageLayer(v: unknown): void;
  setSpatialZoom(v: number): void;
  setSpatialTargetX(v: number): void;
  setSpatialTargetY(v: number): void;
};

/** The frame's address: the viewer page, told which origin its host posts from. */
function frameAddress(viewerUrl: string): URL {
  const url = new URL(viewerUrl, location.href);
  url.searchParams.set('host-origin', location.origin);
  return url;
}

/**
 * `<impartial-viewer>` in a frame, as a Vitessce view: its view follows the config's spatial view
 * and the first image layer's channels, and a person's moves and channel changes in it change the config's. The
 * element keeps its own deck.gl 9.2 in the frame; Vitessce's stays here.
 */
export function ImpartialView(props: ImpartialViewProps) {
  const [values, setters] = useCoordination(COORDINATION_TYPES, props.coordinationScopes) as [Values, Setters];
  const iframe = useRef<HTMLIFrameElement>(null);
  const set = useRef(setters);
  set.current = setters;
  const address = useMemo(() => frameAddress(props.viewerUrl), [props.viewerUrl]);
  const link = useMemo(
    () =>
      new ViewerFrame(
        () => iframe.current?.contentWindow ?? null,
        address.origin,
        (v) => {
          set.current.setSpatialZoom(v.spatialZoom);
          set.current.setSpatialTargetX(v.spatialTargetX);
          set.current.setSpatialTargetY(v.spatialTargetY);
        },
        (layers) => set.current.setSpatialImageLayer(layers),
      ),
    [address],
  );
  useEffect(() => link.listen(), [link]);
  const { spatialZoom, spatialTargetX, spatialTargetY, spatialImageLayer } = values;
  useEffect(
    () => link.hostView({ spatialZoom, spatialTargetX, spatialTargetY }),
    [link, spatialZoom, spatialTargetX, spatialTargetY],
  );
  useEffect(() => link.hostLayers(spatialImageLayer), [link, spatialImageLayer]);
  return createElement(
    'div',
    {
      className: 'impartial-vitessce-view',
      style: { display: 'flex', flexDirection: 'column', height: '100%', minHeight: 0 },
      // The config's view as this view last saw it (for pages and tests that look).
      'data-spatial-zoom': spatialZoom,
      'data-spatial-target-x': spatialTargetX,
      'data-spatial-target-y': spatialTargetY,
    },
    createElement('div', { style: { padding: '2px 6px', fontWeight: 600 } }, props.title ?? 'ImPartial'),
    createElement('iframe', {
      ref: iframe,
      src: address.href,
      title: 'ImPartial viewer',
      style: { flex: 1, border: 0, width: '100%', minHeight: 0 },
    }),
  );
}

/** The plugin view type, named `name` in configs (layout entries with `component: name`). */
export function impartialViewType(name = 'impartial'): PluginViewType {
  // Vitessce types a view's component without props; it passes the layout entry's props and scopes.
  return new PluginViewType(name, ImpartialView as unknown as ComponentType, COORDINATION_TYPES);
}
