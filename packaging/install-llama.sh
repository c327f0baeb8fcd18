#!/usr/bin/env bash
# Build llama-cpp-python once per machine (and per set of CPU flags), then install it.
#
# Why not a plain `pip install llama-cpp-python`: it compiles with -march=native, and on
# CPUs that report AMX but whose OS/VM does not enable it the library dies with SIGILL
# (`tilezero` in ggml's AMX matmul). We build with explicit instruction sets read from
# /proc/cpuinfo and AMX off. pip's own wheel cache ignores CMAKE_ARGS, so the built wheel
# is cached here under a key of version + flags instead.
#
# Usage: install-llama.sh PIP VERSION
set -euo pipefail
pip=$1
version=$2

cmake_args() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64)
      local flags on=() args="-DGGML_NATIVE=OFF"
      flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
      has() { [[ $flags == *" $1 "* ]]; }
      has avx && args+=" -DGGML_AVX=ON"
      has avx2 && args+=" -DGGML_AVX2=ON"
      has fma && args+=" -DGGML_FMA=ON"
      has f16c && args+=" -DGGML_F16C=ON"
      has bmi2 && args+=" -DGGML_BMI2=ON"
      if has avx512f && has avx512bw && has avx512dq && has avx512vl; then
        args+=" -DGGML_AVX512=ON"
        has avx512vbmi && args+=" -DGGML_AVX512_VBMI=ON"
        has avx512_vnni && args+=" -DGGML_AVX512_VNNI=ON"
      fi
      has avx_vnni && args+=" -DGGML_AVX_VNNI=ON"
      args+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
      echo "$args"
      ;;
    *) echo "" ;;  # macOS (Metal on by default), arm64 Linux: llama.cpp's defaults are safe
  esac
}

args=${CMAKE_ARGS:-$(cmake_args)}
key=$(printf '%s|%s|%s' "$version" "$args" "$("$pip" --version | awk '{print $NF}')" | sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/greenpair/llama-wheels/$key
if ! compgen -G "$cache/llama_cpp_python-*.whl" >/dev/null; then
  echo "greenpair setup: compiling llama-cpp-python $version (once per machine, ~5 min)"
  echo "  CMAKE_ARGS=$args"
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
  CMAKE_ARGS="$args" "$pip" wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python \
    "llama-cpp-python==$version" -w "$cache.tmp"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
"$pip" install -q "$cache"/llama_cpp_python-*.whl
