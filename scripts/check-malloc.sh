#!/usr/bin/env bash
# Checks that a tidings binary's malloc is jemalloc's (Package.swift, Sources/CJemalloc): every
# allocation function that the binary and the libraries it loads use is bound to libjemalloc,
# so no memory is freed by another allocator than the one that gave it, and jemalloc took the
# binary's own options (its malloc_conf).
#
# Usage: scripts/check-malloc.sh PATH/TO/tidings
set -euo pipefail
bin=$(realpath "${1:?usage: $0 PATH/TO/tidings}")
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== its malloc is jemalloc's, in the binary and in every library it loads (README: libjemalloc2)"
# LD_BIND_NOW: every symbol bound as the process starts, not only those `--help` calls.
functions='malloc|free|calloc|realloc|posix_memalign|aligned_alloc|memalign|valloc|malloc_usable_size'
trace=$(LD_BIND_NOW=1 LD_DEBUG=bindings "$bin" --help 2>&1 >/dev/null) \
    || { tail -5 <<< "$trace" >&2; fail "$bin --help failed"; }
bindings=$(grep -E "symbol .($functions)'" <<< "$trace" || true)
[[ -n $bindings ]] || fail "the dynamic linker reported no binding of malloc (was LD_DEBUG ignored?)"
elsewhere=$(grep -v "to [^ ]*libjemalloc[^ ]* " <<< "$bindings" || true)
if [[ -n $elsewhere ]]; then
    grep -m3 "" <<< "$elsewhere" >&2
    fail "allocation functions bound elsewhere than jemalloc: memory would be freed by the wrong allocator"
fi

echo "== jemalloc took the binary's options"
# The option as Sources/CJemalloc sets it, as jemalloc's statistics print it.
decay=$(grep -o 'dirty_decay_ms:[0-9]*' Sources/CJemalloc/malloc_conf.c | cut -d: -f2) \
    || fail "Sources/CJemalloc/malloc_conf.c sets no dirty_decay_ms"
stats=$(MALLOC_CONF=stats_print:true "$bin" --help 2>&1 >/dev/null || true)
grep -q "opt.dirty_decay_ms: $decay " <<< "$stats" || fail "jemalloc did not take the binary's malloc_conf (Sources/CJemalloc)"
echo "   OK: jemalloc, with the binary's options"
