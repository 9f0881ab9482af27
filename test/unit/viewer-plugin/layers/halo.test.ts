// Tests of viewer-plugin/src/layers/halo.ts: the dark band under strokes is a few screen pixels wide at any zoom.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HALO_PIXELS, haloWidth } from '@impartial/viewer-plugin/layers/halo';

it('the halo is HALO_PIXELS screen pixels wider than the stroke on each side, at any zoom', () => {
  for (const zoom of [-4, 0, 2.5]) {
    const screenExtra = (haloWidth(6, zoom) - 6) * 2 ** zoom;
    assert.ok(Math.abs(screenExtra - 2 * HALO_PIXELS) < 1e-9, `zoom ${zoom}: ${screenExtra} px`);
  }
  assert.ok(HALO_PIXELS >= 1 && HALO_PIXELS <= 3, 'a halo, not a second stroke');
});
