// Builds the optional oneDNN addon (shared/native/build/impartial_dnnl.node) from
// source with g++ against Debian's libdnnl-dev and Node's own headers; nothing is downloaded. When
// something is missing it says what and exits 0: the engine then uses its wasm kernels.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.join(here, 'impartial_dnnl.cc');
const out = path.join(here, 'build', 'impartial_dnnl.node');
const headers = path.join(path.dirname(process.execPath), '..', 'include', 'node');
const skip = (why) => {
  console.error(`native kernels (oneDNN) not built (${why}); training uses the wasm kernels`);
  process.exit(0);
};

if (process.env.IMPARTIAL_NATIVE === '0') skip('IMPARTIAL_NATIVE=0');
if (process.platform !== 'linux') skip(`${process.platform} is not supported yet`);
if (existsSync(out) && statSync(out).mtimeMs > statSync(source).mtimeMs) process.exit(0);
if (!existsSync(path.join(headers, 'node_api.h'))) skip(`no Node headers at ${headers}`);
if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) skip('apt-get install -y libdnnl-dev');
if (spawnSync('g++', ['--version']).status !== 0) skip('apt-get install -y g++');
mkdirSync(path.dirname(out), { recursive: true });
const r = spawnSync(
  'g++',
  [
    '-O2',
    '-std=c++17',
    '-fopenmp',
    '-shared',
    '-fPIC',
    '-DNODE_GYP_MODULE_NAME=impartial_dnnl',
    '-I',
    headers,
    source,
    '-o',
    out,
    '-ldnnl',
  ],
  { stdio: 'inherit' },
);
if (r.status !== 0) skip('g++ failed');
console.error(`native kernels (oneDNN) built: ${path.relative(process.cwd(), out)}`);
