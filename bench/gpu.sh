#!/usr/bin/env bash
# Speed figures on the WebGPU backend (Dawn over Vulkan) on a Linux machine with an NVIDIA GPU.
# Needs the Vulkan loader (libvulkan.so.1) and the NVIDIA Vulkan ICD already installed; nothing is
# downloaded. Run from a checkout where `npm ci` has run (node_modules and the dist/ builds present).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi not found"
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  echo "libvulkan.so.1 not found: install the Vulkan loader (Debian: libvulkan1)" >&2
  exit 3
fi
icd=$(ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1 || true)
[ -n "$icd" ] && echo "NVIDIA Vulkan ICD: $icd" || echo "warning: no NVIDIA Vulkan ICD json found; Dawn may find no adapter" >&2

[ -d node_modules ] || { echo "node_modules missing: run npm ci first" >&2; exit 3; }
[ -f bridge-server/dist/cli.js ] || npx tsc -b

echo "== WebGPU"
IMPARTIAL_BACKEND=webgpu node bridge-server/bin/impartial.js bench --json "$@" | tee "${OUT:-/tmp}/gpu-bench.json"
echo "== wasm on the same machine, for the ratio"
IMPARTIAL_BACKEND=wasm node bridge-server/bin/impartial.js bench --json --steps 4 "$@" | tee "${OUT:-/tmp}/cpu-bench.json"
