// Tests of bridge-server/src/cli/loss-plot.ts: lossCurveSvg.
import assert from 'node:assert/strict';
import test from 'node:test';
import { lossCurveSvg } from '@impartial/bridge-server';

test('the loss curve is an SVG with one point per step', () => {
  const losses = Array.from({ length: 50 }, (_, i) => 1 / (i + 1));
  const svg = lossCurveSvg(losses, 'loss <test>');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /loss &lt;test>/);
  const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(paths.length, 2);
  assert.equal(paths[0]!.split(/[ML]/).filter(Boolean).length, 50);
  assert.match(lossCurveSvg([], 'x'), /no training steps/);
});
