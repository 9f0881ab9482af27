#!/usr/bin/env bash
# .gpu/run.sh (packed by bench/gpu-pack.sh): bench/gpu.sh's figures plus bench/gpu-parity.mjs on a bare
# x86-64 Linux GPU machine (no node, no network; root, to add the Vulkan loader where it is missing).
# Writes log.txt, parity.json, gpu-bench.json and cpu-bench.json into $OUT. Each stage has its own
# time limit and a failed stage does not stop the next: about 7 minutes at most in all.
# Extra arguments go to both bench runs (e.g. --steps 2 --infer-size 512 for a quick check).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
OUT=${OUT:-/tmp/impartial-gpu-out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
logger=$!
w=${TMPDIR:-/tmp}/impartial-gpu
say() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }

say setup
rm -rf "$w" && mkdir -p "$w" && cp -r "$here/js" "$here/node_modules" "$w/"
if command -v xz >/dev/null; then
  xz -dc "$here/payload.tar.xz" | tar -C "$w" -x
else
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$here/payload.tar.xz" "$w"
fi
node=$w/bin/node
"$node" --version || { echo "the packed node does not run here"; exit 3; }
ldd --version 2>&1 | head -1

# Vulkan loader and GLVND from .gl, each package only where its library is missing (never replaced).
# GL_ROOT (default /) puts them elsewhere, for a dry run; Dawn is then not tried (no loader in /usr/lib).
root=${GL_ROOT:-/}
libdir=${root%/}/usr/lib/x86_64-linux-gnu
ldconfig() { command ldconfig "$@" 2>/dev/null || /sbin/ldconfig "$@"; }
for pair in libvulkan1:libvulkan.so.1 libglvnd0:libGLdispatch.so.0 libegl1:libEGL.so.1 libgl1:libGL.so.1 \
  libglx0:libGLX.so.0 libopengl0:libOpenGL.so.0 libgles2:libGLESv2.so.2; do
  deb=$(ls "$repo"/.gl/"${pair%%:*}"_*.deb 2>/dev/null | head -1)
  [ -e "$libdir/${pair##*:}" ] || [ -z "$deb" ] && continue
  echo "adding ${pair##*:} from $(basename "$deb")"
  if command -v dpkg >/dev/null; then dpkg -x "$deb" "$root"; else
    python3 - "$deb" "$root" <<'EOF'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
i = 8  # ar archive: 60-byte headers, even-aligned members
while i < len(data):
    name, size = data[i:i + 16].decode().strip(), int(data[i + 48:i + 58])
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(data[i + 60:i + 60 + size])).extractall(sys.argv[2])
    i += 60 + size + (size & 1)
EOF
  fi
done
if [ "$root" = / ]; then ldconfig || true; else export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}; fi

# The NVIDIA driver's user-space libraries and its Vulkan ICD / EGL vendor files (container layouts vary).
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
done
icd=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia_icd*.json \
  /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
glx=$( (ldconfig -p | awk '/libGLX_nvidia\.so\.0/ {print $NF}'; ls /usr/local/nvidia/lib64/libGLX_nvidia.so.0 \
  /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0) 2>/dev/null | head -1)
if [ -z "$icd" ] && [ -n "$glx" ]; then
  icd=$w/nvidia_icd.json
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3"}}\n' "$glx" >"$icd"
fi
[ -n "$icd" ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
egl=$(ls /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json /usr/share/glvnd/egl_vendor.d/10_nvidia.json \
  2>/dev/null | head -1)
[ -n "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
echo "NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-unset} ICD=${icd:-none}"
echo "libGLX_nvidia=${glx:-none} EGL vendor=${egl:-none}"
[ -n "$icd" ] && cat "$icd"
# Dawn needs the driver's graphics libraries (NVIDIA_DRIVER_CAPABILITIES with graphics), not only CUDA's.
(ldconfig -p | awk '{print $NF}'; ls /usr/local/nvidia/lib64/* 2>/dev/null) |
  grep -E 'GLX_nvidia|EGL_nvidia|glvkspirv|gpucomp' | sort -u | tr '\n' ' '
echo
ls "$libdir"/libvulkan.so.1 2>&1

# The oneDNN addon's libraries; libstdc++ only where the system's is older than Dawn needs.
export LD_LIBRARY_PATH=$w/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
stdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
grep -qa GLIBCXX_3.4.30 "${stdcxx:-/nonexistent}" 2>/dev/null || {
  echo "system libstdc++ (${stdcxx:-none}) lacks GLIBCXX_3.4.30: using the packed one"
  export LD_LIBRARY_PATH=$w/compat:$LD_LIBRARY_PATH
}
command -v nvidia-smi >/dev/null && nvidia-smi || echo "nvidia-smi not found"
command -v vulkaninfo >/dev/null && timeout 30 vulkaninfo --summary

stage() { # name seconds command...: runs under a time limit, reports the exit status, never stops the script
  local name=$1 limit=$2
  shift 2
  say "$name"
  timeout -k 10 "$limit" "$@"
  local rc=$?
  echo "== $name: exit $rc$([ $rc = 124 ] && echo " (timed out after ${limit}s)")"
}
saved() { # file name seconds command...: a stage whose stdout also goes to $OUT/file
  local file=$1
  shift
  stage "$1" "$2" bash -c 'set -o pipefail; "${@:2}" | tee "$1"' - "$OUT/$file" "${@:3}"
}
cd "$repo"
VK_LOADER_DEBUG=error,warn stage adapters 20 "$node" "$w/js/adapters.mjs"
saved parity.json parity 70 "$node" "$w/js/parity.mjs" "${PARITY_BACKENDS:-webgpu,cpu}"
saved gpu-bench.json 'bench webgpu' 160 env IMPARTIAL_BACKEND=webgpu "$node" "$w/js/bench.mjs" --json "$@"
saved cpu-bench.json 'bench wasm' 140 env IMPARTIAL_BACKEND=wasm "$node" "$w/js/bench.mjs" --json --steps 4 "$@"
say done
exec >&- 2>&-
wait $logger # log.txt complete before the script returns
