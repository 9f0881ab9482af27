#!/usr/bin/env bash
# Packs .gpu/ and .gl/ (both git-ignored through .git/info/exclude) so that a bare x86-64 Linux GPU
# machine without node, npm or network can run bench/gpu.sh's figures and bench/gpu-parity.mjs:
#   .gl/*.deb              Vulkan loader and GLVND (Debian amd64), unpacked there only where missing
#   .gpu/payload.tar.xz    this node binary, Dawn's dawn.node, the oneDNN addon and its shared libraries
#   .gpu/js/*.mjs          bench and parity bundled with esbuild; tfjs-core, tfjs-backend-wasm and webgpu
#   .gpu/node_modules/     stay files of their own (one tfjs engine; the wasm threads set-up reads
#                          tfjs-backend-wasm's own source text and finds its .wasm files beside it)
#   .gpu/run.sh            bench/gpu-device.sh
# Run from a built checkout (npm ci); then on the machine, in the repo root: bash .gpu/run.sh
# `bench/gpu-pack.sh --js` keeps the payload (2 minutes of xz) and rebundles the JS after a rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
g=.gpu s=$(mktemp -d) js_only=
trap 'rm -rf "$s"' EXIT
if [ "${1:-}" = --js ] && [ -f $g/payload.tar.xz ]; then
  js_only=1
  find $g -mindepth 1 -maxdepth 1 ! -name payload.tar.xz -exec rm -rf {} +
else
  rm -rf $g
fi
mkdir -p $g/src $g/js $g/node_modules/@tensorflow

if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

# Native parts: node, Dawn, the oneDNN addon with the libraries it links beyond glibc and libstdc++;
# libstdc++ itself only as a fallback (Dawn needs GLIBCXX_3.4.30, gcc 12).
if [ -z "$js_only" ]; then
  mkdir -p $s/bin $s/lib $s/compat $s/node_modules/webgpu/dist/linux-x64
  cp "$(command -v node)" $s/bin/node
  cp node_modules/webgpu/dist/linux-x64/dawn.node $s/node_modules/webgpu/dist/linux-x64/
  addon=shared/native/build/impartial_dnnl.node
  if [ -f $addon ]; then
    cp $addon $s/lib/
    for f in $(ldd $addon | awk '$3 ~ /^\// {print $3}' | grep -Ev '/lib(c|m|dl|rt|pthread|stdc\+\+|gcc_s)\.so'); do
      cp -L "$f" $s/lib/
    done
  fi
  cp -L "$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')" $s/compat/
  tar -C $s -cf - bin lib compat node_modules | xz -9 -T0 >$g/payload.tar.xz
fi

for p in tfjs-core:tf-core tfjs-backend-wasm:tf-backend-wasm; do
  d=$g/node_modules/@tensorflow/${p%%:*}
  mkdir -p $d/dist
  cp node_modules/@tensorflow/${p%%:*}/package.json $d/
  cp node_modules/@tensorflow/${p%%:*}/dist/${p##*:}.node.js $d/dist/
done
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm $g/node_modules/@tensorflow/tfjs-backend-wasm/dist/
mkdir -p $g/node_modules/webgpu && cp node_modules/webgpu/{package.json,index.js} $g/node_modules/webgpu/

# shared/src/node loads @tensorflow/tfjs and the addon with createRequire at run time, which
# esbuild leaves alone: serve the first from the bundle and the second from the payload.
cat >$g/src/hook.mjs <<'EOF'
import Module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tfjs from '@tensorflow/tfjs';

const addon = path.join(path.dirname(fileURLToPath(import.meta.url)), '../lib/impartial_dnnl.node');
const load = Module._load;
// The entries end with process.exit; wasm's pthread workers are unref'd and would not hold the loop.
setInterval(() => {}, 1 << 30);
Module._load = function (request, ...rest) {
  if (request === '@tensorflow/tfjs') return tfjs;
  return load.call(this, request.endsWith('/impartial_dnnl.node') ? addon : request, ...rest);
};
EOF
cat >$g/src/bench.mjs <<'EOF'
import './hook.mjs';
import { benchCommand } from '../../bridge-server/dist/commands/bench.js';

benchCommand(process.argv.slice(2)).then((c) => process.exit(c), (e) => {
  console.error(e);
  process.exit(1);
});
EOF
printf "import './hook.mjs';\nimport '../../bench/gpu-parity.mjs';\n" >$g/src/parity.mjs
cat >$g/src/adapters.mjs <<'EOF'
import { create } from 'webgpu';

const gpu = create([]);
for (const powerPreference of ['high-performance', 'low-power']) {
  const a = await gpu.requestAdapter({ powerPreference });
  const info = a && Object.fromEntries(['vendor', 'architecture', 'device', 'description'].map((k) => [k, a.info[k]]));
  console.log(`${powerPreference}: ${info ? JSON.stringify(info) : 'no adapter'}`);
}
process.exit(0);
EOF
node_modules/.bin/esbuild $g/src/bench.mjs $g/src/parity.mjs $g/src/adapters.mjs --bundle --platform=node \
  --format=esm --target=node20 --splitting --outdir=$g/js --out-extension:.js=.mjs --log-level=warning \
  --external:@tensorflow/tfjs-core --external:@tensorflow/tfjs-backend-wasm --external:webgpu \
  --external:better-sqlite3 \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
cp bench/gpu-device.sh $g/run.sh
du -sh $g .gl
