/*
 * A Vitessce 4 app with ImPartial's plugin view: Vitessce's own spatial view and layer controller
 * beside `<impartial-viewer>` (in a frame, with its own deck.gl 9.2), on the same OME-Zarr image
 * from the bridge, with one spatial view and one image layer between them. The bridge serves it at
 * /t/TOKEN/viewer/examples/vitessce/?image=ID.
 */
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { Vitessce } from 'vitessce';
import { impartialViewType } from '../src/index.js';

const token = decodeURIComponent(/\/t\/([^/]+)\//.exec(location.pathname)?.[1] ?? '');
const image = new URLSearchParams(location.search).get('image') ?? '';
const prefix = token ? `/t/${encodeURIComponent(token)}` : '';
const status = document.getElementById('status')!;

/** One scope for every view: what one shows of the image, the others show. */
const shared = {
  spatialZoom: 'A',
  spatialTargetX: 'A',
  spatialTargetY: 'A',
  spatialImageLayer: 'A',
  photometricInterpretation: 'A',
};

const config = {
  version: '1.0.16',
  name: 'ImPartial in Vitessce',
  initStrategy: 'auto',
  datasets: [
    {
      uid: 'bridge',
      name: 'ImPartial bridge',
      files: [
        {
          fileType: 'image.ome-zarr',
          url: new URL(`/zarr/images/${encodeURIComponent(image)}/`, location.origin).href,
          ...(token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : {}),
        },
      ],
    },
  ],
  coordinationSpace: {
    spatialZoom: { A: null },
    spatialTargetX: { A: null },
    spatialTargetY: { A: null },
    spatialImageLayer: { A: null },
    // Channels, each with its own colour and window (not one RGB picture): what the layer controller shows.
    photometricInterpretation: { A: 'BlackIsZero' },
  },
  layout: [
    { component: 'spatial', coordinationScopes: shared, x: 0, y: 0, w: 5, h: 12 },
    { component: 'layerController', coordinationScopes: shared, x: 5, y: 0, w: 3, h: 12 },
    {
      component: 'impartial',
      coordinationScopes: shared,
      props: { viewerUrl: `${prefix}/viewer/?image=${encodeURIComponent(image)}&name=vitessce` },
      x: 8,
      y: 0,
      w: 4,
      h: 12,
    },
  ],
};

if (!image) status.textContent = 'Name an image: ?image=ID';
else {
  status.textContent = `image ${image}`;
  createRoot(document.getElementById('app')!).render(
    createElement(Vitessce, {
      config,
      pluginViewTypes: [impartialViewType()],
      theme: 'light',
      height: window.innerHeight - 30,
    }),
  );
}
