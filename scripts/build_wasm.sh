#!/usr/bin/env bash
# Build the ptclisp wasm guest reproducibly from registry-obtainable parts, then compile it to
# native code once (wasmtime's serialized component), both into $PTCLISP_CACHE (~/.cache/ptclisp).
#
# Inputs, all from PyPI: componentize-py 0.25.1 (embeds CPython 3.14 for WASI), wasmtime 50.x,
# hy, funcparserlib, msgpack (pure-Python fallback). Nothing is downloaded at build time.
# Output names carry a hash of every input, so a source change rebuilds and nothing stale is used.
#   scripts/build_wasm.sh            build if out of date, then compile
#   scripts/build_wasm.sh --force    rebuild
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import componentize_py, wasmtime' 2>/dev/null || {
  echo "needs componentize-py==0.25.1 and wasmtime 50.x: pip install -e '.[wasm]'" >&2; exit 1; }
exec python3 -c "import sys; from sandbox._wasm_build import main; sys.exit(main(sys.argv[1:]))" "$@"
