#!/bin/sh
# Build llama-cpp-python once per machine (and per build kind), then install it.
# POSIX sh: runs under dash, bash 3.2 (macOS) and busybox.
#
# Build kinds (GREENPAIR_LLAMA_BUILD):
#   portable (default on x86-64 Linux/Windows): one library that runs on any x86-64 CPU.
#       ggml's backends are loadable modules (GGML_BACKEND_DL) and the CPU backend is built
#       once per instruction-set level (GGML_CPU_ALL_VARIANTS: x64, sse42, sandybridge,
#       haswell, skylakex, icelake, zen4, ...); at run time ggml scores each variant against
#       the CPU and loads the best (greenpair.core.llm.backends tells which).
#       The sapphirerapids (AMX) variant is left out: ggml picks it from CPUID alone, and
#       VMs that report AMX without enabling it die with SIGILL (`tilezero`).
#   native: explicit instruction sets read from /proc/cpuinfo, AMX off (the old default;
#       kept for benchmarks/inference.py's comparison). Crashes on an older CPU.
# GPU backends (GREENPAIR_GPU): cuda | vulkan | metal | none (default; metal is llama.cpp's
#   default on macOS). They need the vendor toolkit (CUDA toolkit, Vulkan SDK + glslc).
#
# pip's wheel cache ignores CMAKE_ARGS, so the built wheel is cached here under a key of
# version + arguments instead (the wheel is py3-none: any Python 3 can install it).
#
# Usage: install-llama.sh PIP VERSION [--build-only]
#   (installing records the wheel's path in the venv's .llama-wheel)
#   --build-only: build (or find) the wheel, print its path, install nothing.
#   GREENPAIR_LLAMA_NO_BUILD=1: fail instead of compiling (tests reuse setup's wheel).
set -eu
pip=$1
version=$2
mode=${3:-install}

system=$(uname -s)-$(uname -m)

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -c1-64
  else shasum -a 256 | cut -c1-64  # macOS
  fi
}

native_args() {
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  has() { case $flags in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
  args="-DGGML_NATIVE=OFF"
  has avx && args="$args -DGGML_AVX=ON"
  has avx2 && args="$args -DGGML_AVX2=ON"
  has fma && args="$args -DGGML_FMA=ON"
  has f16c && args="$args -DGGML_F16C=ON"
  has bmi2 && args="$args -DGGML_BMI2=ON"
  if has avx512f && has avx512bw && has avx512dq && has avx512vl; then
    args="$args -DGGML_AVX512=ON"
    has avx512vbmi && args="$args -DGGML_AVX512_VBMI=ON"
    has avx512_vnni && args="$args -DGGML_AVX512_VNNI=ON"
  fi
  has avx_vnni && args="$args -DGGML_AVX_VNNI=ON"
  echo "$args -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
}

# The variant modules install to CMAKE_INSTALL_BINDIR; put them beside libllama.
portable_args="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DCMAKE_INSTALL_BINDIR=llama_cpp/lib"

case $system in
  Linux-x86_64 | MINGW*-x86_64 | MSYS*-x86_64) kind=${GREENPAIR_LLAMA_BUILD:-portable} ;;
  *) kind=${GREENPAIR_LLAMA_BUILD:-default} ;;  # macOS, arm64: llama.cpp's defaults are safe
esac
case $kind in
  portable) args=$portable_args ;;
  native)
    if [ "$system" = Linux-x86_64 ]; then args=$(native_args); else args=""; fi ;;
  default) args="" ;;
  *) echo "install-llama.sh: GREENPAIR_LLAMA_BUILD must be portable or native" >&2; exit 2 ;;
esac
case ${GREENPAIR_GPU:-none} in
  none | "") ;;
  cuda) args="$args -DGGML_CUDA=ON" ;;
  vulkan) args="$args -DGGML_VULKAN=ON" ;;
  metal) args="$args -DGGML_METAL=ON" ;;
  *) echo "install-llama.sh: GREENPAIR_GPU must be cuda, vulkan, metal or none" >&2; exit 2 ;;
esac
args=${CMAKE_ARGS:-$args}

key=$(printf '%s|%s|%s|patch1' "$version" "$args" "$system" | sha256 | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/greenpair/llama-wheels/$key

find_wheel() {
  for w in "$cache"/llama_cpp_python-*.whl; do
    [ -f "$w" ] && { echo "$w"; return 0; }
  done
  return 1
}

if ! find_wheel >/dev/null; then
  if [ -n "${GREENPAIR_LLAMA_NO_BUILD:-}" ]; then
    echo "install-llama.sh: no built llama-cpp-python wheel in $cache (run make setup)" >&2
    exit 1
  fi
  echo "greenpair setup: compiling llama-cpp-python $version ($kind build, once per machine)" >&2
  echo "  CMAKE_ARGS=$args" >&2
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp/src"
  "$pip" download -q --no-deps --no-binary :all: "llama-cpp-python==$version" -d "$cache.tmp/src" >&2
  (cd "$cache.tmp/src" && tar xzf llama_cpp_python-*.tar.gz)
  src=$(find "$cache.tmp/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  # Leave the AMX variant out (see the header).
  sed -e '/ggml_add_cpu_backend_variant(sapphirerapids/d' \
    "$src/vendor/llama.cpp/ggml/src/CMakeLists.txt" >"$src/cmake.tmp"
  mv "$src/cmake.tmp" "$src/vendor/llama.cpp/ggml/src/CMakeLists.txt"
  CMAKE_ARGS="$args" "$pip" wheel -q --no-deps --no-cache-dir "$src" -w "$cache.tmp" >&2
  rm -rf "$cache.tmp/src" "$cache"
  mv "$cache.tmp" "$cache"
fi
wheel=$(find_wheel)
if [ "$mode" = --build-only ]; then
  echo "$wheel"
else
  "$pip" install -q --force-reinstall --no-deps "$wheel"
  "$pip" install -q "$wheel"  # its pure-Python dependencies
  # Remembered beside the venv: the wheel test installs this same build into a clean venv.
  echo "$wheel" >"$(dirname "$(dirname "$pip")")/.llama-wheel"
fi
