// Bundle sizes of what a page loads: each entry bundled alone (esbuild, minified, one file), raw and
// gzip. Prints one JSON line. `npm run bench -- bundles`.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const plugin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'viewer-plugin');
const PEERS = ['@deck.gl/*', '@luma.gl/*', '@vivjs/*'];

const ENTRIES = {
  // The element as a page loads it (deck.gl, luma.gl and Viv inside).
  element: { entry: 'src/impartial-viewer.ts' },
  // The layer set and drawing tools for a deck.gl / Viv host, without the host's own deck.gl, luma.gl and Viv.
  hostLayers: { entry: 'src/host/index.ts', external: PEERS },
  // The plain Viv host example app: its own deck.gl and Viv plus our layers.
  vivHostApp: { entry: 'examples/viv-host.ts' },
  // The bridge's demo page (the element, the image list, drop import).
  demoPage: { entry: 'demo/main.ts' },
};

const out = {};
for (const [name, { entry, external = [] }] of Object.entries(ENTRIES)) {
  const r = await build({
    entryPoints: [path.join(plugin, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    external,
    logLevel: 'error',
    absWorkingDir: plugin,
  });
  const bytes = r.outputFiles[0].contents;
  out[name] = { entry, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}
console.log(JSON.stringify(out));
