import assert from 'node:assert/strict';
import { it } from 'node:test';
import { publicApi } from '../../helpers/public-api.js';

/*
 * The public API of @impartial/vitessce-plugin (a Vitessce app adds the view with it): every name
 * of every entry of its package.json exports. A change here is a change for its users: update the
 * list on purpose.
 */

const EXPECTED: Record<string, string[]> = {
  '.': [
    'channelsOf',
    'COORDINATION_TYPES',
    'type FramedImage',
    'ImpartialView',
    'type ImpartialViewProps',
    'impartialViewType',
    'type Scale',
    'type SpatialView',
    'toPhysical',
    'toPixels',
    'ViewerFrame',
    'withChannels',
  ],
  './coordinates': ['channelsOf', 'type Scale', 'type SpatialView', 'toPhysical', 'toPixels', 'withChannels'],
};

it('@impartial/vitessce-plugin exports exactly its public API', () => {
  assert.deepEqual(publicApi('viewer-plugin/vitessce'), EXPECTED);
});
