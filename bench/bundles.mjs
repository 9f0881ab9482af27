// Bundle sizes of what a page loads: each entry bundled alone (esbuild, minified, one file), raw and
// gzip. Prints one JSON line. `npm run bench -- bundles`. The Vitessce example app is measured as it
// is served, split into chunks.

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
// The Vitessce plugin view, without the app's own Vitessce and React.
const vitessce = path.join(plugin, 'vitessce');
{
  const r = await build({
    entryPoints: [path.join(vitessce, 'src/index.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    external: ['vitessce', 'react', 'react-dom'],
    logLevel: 'error',
    absWorkingDir: vitessce,
  });
  const bytes = r.outputFiles[0].contents;
  out.vitesscePlugin = {
    entry: 'vitessce/src/index.ts',
    bytes: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
  };
}
// The Vitessce example app as the bridge serves it (split: Vitessce loads its 3D, XR and codec chunks
// when used): what a page loads at the start (the entry and its static imports), and everything.
{
  const r = await build({
    entryPoints: [path.join(vitessce, 'example/app.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    outdir: path.join(vitessce, 'bench-out'),
    write: false,
    metafile: true,
    loader: { '.css': 'empty' },
    external: ['@react-three/xr'],
    logLevel: 'error',
    absWorkingDir: vitessce,
  });
  const byPath = new Map(r.outputFiles.map((f) => [path.relative(vitessce, f.path), f.contents]));
  const outputs = r.metafile.outputs;
  const entry = Object.keys(outputs).find((o) => outputs[o].entryPoint && o.endsWith('.js'));
  const start = new Set();
  const visit = (o) => {
    if (start.has(o)) return;
    start.add(o);
    for (const i of outputs[o].imports) if (i.kind === 'import-statement' && outputs[i.path]) visit(i.path);
  };
  visit(entry);
  const size = (files) => {
    const parts = files.map((f) => byPath.get(f)).filter(Boolean);
    return {
      bytes: parts.reduce((n, b) => n + b.length, 0),
      gzip: parts.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0),
    };
  };
  const js = Object.keys(outputs).filter((o) => o.endsWith('.js'));
  out.vitessceApp = { entry: 'vitessce/example/app.ts', ...size([...start]), all: size(js), files: js.length };
}
console.log(JSON.stringify(out));
