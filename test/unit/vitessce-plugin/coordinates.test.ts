import assert from 'node:assert/strict';
import { it } from 'node:test';
import { channelsOf, toPhysical, toPixels, withChannels } from '@impartial/vitessce-plugin/coordinates';

it("converts Vitessce's physical view to level-0 pixels and back with the image's NGFF scale", () => {
  // 0.5 µm per pixel: a pixel is half a unit, so the same screen scale is one zoom step further in pixels.
  const physical = { spatialZoom: 2, spatialTargetX: 100, spatialTargetY: 40 };
  const pixels = toPixels(physical, [0.5, 0.25]);
  assert.deepEqual(pixels, { x: 200, y: 160, zoom: 1 });
  assert.deepEqual(toPhysical(pixels, [0.5, 0.25]), physical);
  assert.deepEqual(toPixels(physical, [1, 1]), { x: 100, y: 40, zoom: 2 }, 'no scale: the same numbers');
});

it("reads each channel's visibility, colour and window from Vitessce's first image layer", () => {
  const layers = [
    {
      visible: true,
      channels: [
        { selection: { c: 2 }, visible: false, color: [255, 0, 0], slider: [10, 900] },
        { selection: { c: 0 }, color: [0, 0, 255.4], slider: [0, 400] },
      ],
    },
  ];
  assert.deepEqual(channelsOf(layers, 4), [
    { index: 0, visible: true, color: [0, 0, 255], window: [0, 400] },
    { index: 1, visible: false },
    { index: 2, visible: false, color: [255, 0, 0], window: [10, 900] },
    { index: 3, visible: false },
  ]);
  // A hidden layer hides every channel; no layer yet: nothing to say.
  assert.ok(channelsOf([{ ...layers[0], visible: false }], 4).every((c) => !c.visible));
  assert.deepEqual(channelsOf(null, 4), []);
  assert.deepEqual(channelsOf([{ channels: [{ selection: { c: 9 } }] }], 2), [
    { index: 0, visible: false },
    { index: 1, visible: false },
  ]);
});

it("changes Vitessce's first image layer as the frame's channels say, and nothing when they say nothing new", () => {
  const layers = [
    {
      opacity: 1,
      channels: [
        { selection: { c: 0 }, visible: true, color: [0, 0, 255], slider: [0, 400] },
        { selection: { c: 1 }, visible: true, color: [0, 255, 0], slider: [0, 900] },
      ],
    },
    { opacity: 0.5, channels: [] },
  ];
  const changed = withChannels(layers, [
    { index: 1, visible: false, color: [255, 0, 255], window: [10, 500] },
    { index: 7, visible: true },
  ]) as typeof layers;
  assert.notEqual(changed, layers);
  assert.deepEqual(changed[0]!.channels[1], {
    selection: { c: 1 },
    visible: false,
    color: [255, 0, 255],
    slider: [10, 500],
  });
  assert.deepEqual(changed[0]!.channels[0], layers[0]!.channels[0], 'channel 0 as it was');
  assert.equal(changed[0]!.opacity, 1);
  assert.equal(changed[1], layers[1], 'other layers as they were');
  assert.equal(withChannels(layers, [{ index: 0, visible: true, color: [0, 0, 255], window: [0, 400] }]), layers);
  assert.equal(withChannels(null, [{ index: 0, visible: false }]), null);
});
