#!/usr/bin/env bash
# Run the test suite under other CPUs' arithmetic: OpenBLAS's other kernels and NumPy's narrower SIMD paths.
#
# A float32 test that passes only on the machine it was written on is a test of that machine's rounding.
# OpenBLAS picks its kernels by CPU (OPENBLAS_CORETYPE overrides it) and NumPy dispatches its ufuncs
# (tanh, exp, ...) by SIMD level (NPY_DISABLE_CPU_FEATURES narrows it), and numba compiles the loops of
# kernels/compiled for the host CPU (NUMBA_CPU_NAME overrides it), so this runs the suite once per
# combination that machines of this project's kind (Intel and AMD x86-64) may pick.
#
#   tools/portability.sh                  # every combination below
#   tools/portability.sh tests/kernels    # a part of the suite
set -uo pipefail
cd "$(dirname "$0")/.."
paths=("$@")
status=0
run() {
  local label=$1; shift
  echo "== $label"
  if ! env "$@" python -m pytest -n 2 -q -p no:cacheprovider "${paths[@]}" | tail -1; then status=1; fi
}
run "native"
for core in Haswell SkylakeX Zen Sandybridge Prescott; do
  run "OPENBLAS_CORETYPE=$core" OPENBLAS_CORETYPE=$core
done
run "NumPy AVX2 (no AVX-512), OpenBLAS Haswell" NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" OPENBLAS_CORETYPE=Haswell
run "NumPy baseline SSE4.2, OpenBLAS Sandybridge" NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR" OPENBLAS_CORETYPE=Sandybridge
# The compiled loops (numba) are compiled for the CPU they run on: FMA and AVX-512 here, none of them on an older one.
run "numba for a Haswell (AVX2 + FMA)" NUMBA_CPU_NAME=haswell
run "numba for a baseline x86-64 (SSE2, no FMA)" NUMBA_CPU_NAME=x86-64
exit $status
