#!/usr/bin/env bash
# Checks systemd/tidings.service:
#   1. `systemd-analyze verify` on a copy whose ExecStart= points at BINARY (verify refuses a unit
#      whose binary does not exist, and /usr/local/bin/tidings is not installed on a build machine);
#      any "Unknown key" / "Invalid syntax" / "Failed to parse" warning about the unit fails too,
#      because verify still exits 0 for those.
#   2. `systemd-analyze security --offline=true` on the real unit: overall exposure must be <= 2.0
#      (override with EXPOSURE_MAX=x.y).
# Works without systemd as PID 1 (containers, CI).
#
# Usage: scripts/check-systemd.sh /absolute/path/to/tidings
set -euo pipefail

usage() { echo "usage: $0 /absolute/path/to/tidings-binary" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
binary=$1
[[ $binary == /* ]] || { echo "error: binary path must be absolute: $binary" >&2; exit 2; }
[[ -x $binary && -f $binary ]] || { echo "error: not an executable file: $binary" >&2; exit 2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
unit="$root/systemd/tidings.service"
[[ -f $unit ]] || { echo "error: $unit not found" >&2; exit 2; }
command -v systemd-analyze >/dev/null || { echo "error: systemd-analyze not found (apt-get install systemd)" >&2; exit 2; }

max=${EXPOSURE_MAX:-2.0}
[[ $max =~ ^[0-9]+(\.[0-9])?$ ]] || { echo "error: EXPOSURE_MAX must look like 2.0" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- 1. verify -------------------------------------------------------------------------------
# Same file name, so the unit name (tidings.service) is unchanged.
grep -q '^ExecStart=/usr/local/bin/tidings ' "$unit" \
    || { echo "error: expected 'ExecStart=/usr/local/bin/tidings ...' in $unit" >&2; exit 1; }
sed "s|^ExecStart=/usr/local/bin/tidings |ExecStart=${binary//|/\\|} |" "$unit" > "$tmp/tidings.service"

echo "== systemd-analyze verify (ExecStart -> $binary)"
status=0
systemd-analyze verify --recursive-errors=yes "$tmp/tidings.service" > "$tmp/verify.log" 2>&1 || status=$?
sed 's/^/   /' "$tmp/verify.log"
if (( status != 0 )); then
    echo "FAIL: systemd-analyze verify exited with $status" >&2
    exit 1
fi
if grep -E 'tidings\.service(:[0-9]+)?: .*(Unknown (key|section)|Invalid syntax|Failed to parse|ignoring)' "$tmp/verify.log" >/dev/null; then
    echo "FAIL: systemd-analyze verify ignored lines of the unit (see above)" >&2
    exit 1
fi
echo "   OK: verify passed"

# --- 2. security -----------------------------------------------------------------------------
echo "== systemd-analyze security --offline=true $unit"
status=0
systemd-analyze security --offline=true --no-pager "$unit" > "$tmp/security.log" 2>&1 || status=$?
# The full table is long; show the settings that still cost something, then the total.
grep -E '^✗|^\s*✗' "$tmp/security.log" || true
line=$(grep -m1 'Overall exposure level' "$tmp/security.log" || true)
if [[ -z $line ]]; then
    cat "$tmp/security.log"
    echo "FAIL: no 'Overall exposure level' line (systemd-analyze exited with $status)" >&2
    exit 1
fi
echo "$line"
score=$(sed -E 's/.*: ([0-9]+\.[0-9]+).*/\1/' <<<"$line")
[[ $score =~ ^[0-9]+\.[0-9]+$ ]] || { echo "FAIL: cannot parse exposure from: $line" >&2; exit 1; }
# Compare in tenths, as systemd does internally.
to_tenths() { local i=${1%%.*} f=${1#*.}; [[ $1 == *.* ]] || f=0; echo $(( 10 * 10#$i + 10#${f:0:1} )); }
if (( $(to_tenths "$score") > $(to_tenths "$max") )); then
    echo "FAIL: exposure $score is above $max" >&2
    exit 1
fi
echo "   OK: exposure $score <= $max"
