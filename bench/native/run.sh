#!/usr/bin/env bash
# What native CPU kernels would buy: the 42 convolutions of one d3/b16 training step (batch 4,
# 128x128x2; forward, dX and dW of every 3x3 conv) timed with Debian's oneDNN and with
# im2col + OpenBLAS, to compare with `impartial bench` (tfjs-wasm) and the PyTorch reference.
# Needs: apt-get install -y g++ libdnnl-dev libopenblas-dev
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
g++ -O3 -march=native onednn-convs.cc -o "$out/onednn" -ldnnl
g++ -O3 -march=native openblas-convs.cc -o "$out/openblas" -I/usr/include/x86_64-linux-gnu -lopenblas
echo "== oneDNN (OMP_NUM_THREADS=${OMP_NUM_THREADS:-2})"; OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "$out/onednn"
echo "== im2col + OpenBLAS"; OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2} "$out/openblas"
