#!/usr/bin/env bash
# End-to-end demo with the development configuration (config/tidings.yaml, which spools messages
# to ./var/spool instead of sending them): start the daemon, feed it a day of example events,
# wait until every message is out, show what happened, stop the daemon.
#
# Usage: scripts/demo.sh            (run `make demo` to build first)
# Env:   TIDINGS_BIN=path/to/tidings   (default: $(swift build --show-bin-path)/tidings)
#        TIDINGS_CONFIG=path            (default: config/tidings.yaml)
#        EVENTS=path                    (default: config/examples/day.ndjson)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=${TIDINGS_BIN:-"$(swift build --show-bin-path)/tidings"}
config=${TIDINGS_CONFIG:-config/tidings.yaml}
events=${EVENTS:-config/examples/day.ndjson}
[[ -x $bin ]] || { echo "demo: $bin not found: run 'make build' first" >&2; exit 1; }
[[ -f $config ]] || { echo "demo: $config not found" >&2; exit 1; }
[[ -f $events ]] || { echo "demo: $events not found" >&2; exit 1; }

# The demo lives through the example day and the weeks after it in a minute, on a simulated
# clock kept in the database (clock.source: database) and moved with `tidings clock set`.
export CLOCK_SOURCE=database

tidings() { "$bin" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

daemon=""
stop_daemon() {
    # Used by the trap: on error or Ctrl-C, never leave the daemon running.
    if [[ -n $daemon ]] && kill -0 "$daemon" 2>/dev/null; then
        echo "demo: stopping tidings serve (pid $daemon)" >&2
        kill -TERM "$daemon" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$daemon" 2>/dev/null || true
        wait "$daemon" 2>/dev/null || true
    fi
}
show_log() { [[ -f var/serve.log ]] && { echo "--- var/serve.log (last 40 lines)" >&2; tail -n 40 var/serve.log >&2; }; }
trap 'status=$?; if (( status != 0 )); then show_log; fi; stop_daemon; exit $status' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A clean ./var every time, so the demo is repeatable.
rm -rf var
mkdir -p var

step "tidings check"
tidings check --config "$config"

step "tidings clock set 2026-11-23T07:00:00Z (a simulated clock, moved by this script)"
tidings clock set --config "$config" 2026-11-23T07:00:00Z

step "tidings serve (background, log in var/serve.log)"
# "$bin" itself, not the tidings() function: a backgrounded function runs in a subshell, and $!
# would be that subshell's pid instead of the daemon's.
"$bin" serve --config "$config" > var/serve.log 2>&1 &
daemon=$!
echo "pid $daemon"

ready=false
for _ in $(seq 50); do   # up to ~10 s
    if ! kill -0 "$daemon" 2>/dev/null; then
        wait "$daemon" && rc=0 || rc=$?
        daemon=""
        echo "demo: tidings serve exited early with status $rc" >&2
        exit 1
    fi
    if tidings status --config "$config" >/dev/null 2>&1; then ready=true; break; fi
    sleep 0.2
done
$ready || { echo "demo: tidings serve did not become ready within 10 s" >&2; exit 1; }
echo "ready"

# The day is replayed hour by hour, as a shop would send it, and each hour's messages go out
# before the next hour arrives. (Appended in one go, the day would be a backlog: a shipped
# notice overtaken by the delivery would be suppressed as stale, which is right, but shows less.)
step "tidings append $events, one hour at a time"
mkdir -p var/day
python3 - "$events" var/day <<'EOF'
import json, sys
hours = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        hours.setdefault(json.loads(line).get("time", "")[:13], []).append(line)
for hour, lines in sorted(hours.items()):
    with open(f"{sys.argv[2]}/{hour or 'untimed'}.ndjson", "w", encoding="utf-8") as f:
        f.writelines(lines)
EOF
wait_idle() {
    if ! tidings status --config "$config" --wait-idle 30 >/dev/null; then
        echo "demo: the daemon did not become idle within 30 s" >&2
        exit 1
    fi
}
for slice in var/day/*.ndjson; do
    hour=$(basename "$slice" .ndjson)
    printf '%s  ' "$(tr T ' ' <<< "$hour"):00"
    tidings clock set --config "$config" "$hour:00:00Z" >/dev/null
    tidings append --config "$config" "$slice"
    wait_idle
done

step "tidings deliveries list --limit 100 (the day)"
tidings deliveries list --config "$config" --limit 100
# Where the next step's listing starts: after the newest message, or before the first one
# still waiting (held for quiet hours), so the step shows it going out.
last_id() {
    tidings deliveries list --config "$config" --limit 100000 |
        awk 'NR > 1 { id = $1; if ($2 == "pending" && !held) held = $1 } END { print (held ? held - 1 : id + 0) }'
}

# The days after: the clock moves on, deadlines fire, quiet hours end. Each step shows the
# messages it caused.
while IFS='|' read -r when what; do
    step "$when  $what"
    seen=$(last_id)
    tidings clock set --config "$config" "$when"
    wait_idle
    tidings deliveries list --config "$config" --after "$seen" --limit 100
done <<'STEPS'
2026-11-24T08:00:00Z|morning: quiet hours end, the SMS held overnight goes out
2026-11-24T18:00:00Z|the next day: o-5008 and o-5002 did not ship by 16:00; nobody answered complaint t-9004
2026-11-28T09:00:00Z|the rest of the week: parcels not delivered by their (revised) dates
2026-12-30T09:00:00Z|five working days before t-9004's resolution deadline: more time is needed
2027-01-08T09:00:00Z|t-9004's resolution deadline has passed
STEPS

step "tidings status"
tidings status --config "$config"

step "var/spool"
if [[ -d var/spool ]]; then
    for dir in var/spool/*/; do
        [[ -d $dir ]] || continue
        n=$(find "$dir" -type f | wc -l)
        echo "${dir%/} ($n files)"
        find "$dir" -type f -printf '  %P  (%s bytes)\n' | sort
    done
else
    echo "(no var/spool directory)"
fi

show_email() {
    python3 - "$1" <<'EOF'
import sys
from email import policy
from email.parser import BytesParser
with open(sys.argv[1], "rb") as f:
    raw = f.read()
print(raw.split(b"\r\n\r\n", 1)[0].decode())
message = BytesParser(policy=policy.default).parsebytes(raw)
print("\nSubject (decoded):", message["subject"])
print("To (decoded):", message["to"])
print("\n" + message.get_body(preferencelist=("plain",)).get_content())
EOF
}
first_eml=$(find var/spool -type f -name '*.eml' 2>/dev/null | sort | head -n 1 || true)
if [[ -n $first_eml ]]; then
    step "first email: $first_eml (headers, then the text part decoded; the file is the full MIME message)"
    show_email "$first_eml"
else
    echo "(no .eml file in var/spool)"
fi
overdue=$(find var/spool/email -type f -name 'order_dispatch_overdue.*.eml' 2>/dev/null | sort | head -n 1 || true)
if [[ -n $overdue ]]; then
    step "a proactive apology: $overdue"
    show_email "$overdue"
fi
sms=$(find var/spool/sms -type f -name 'disruption_alert.*.json' 2>/dev/null | sort | head -n 1 || true)
if [[ -n $sms ]]; then
    step "a disruption alert by SMS: $sms"
    cat "$sms"; echo
fi
staff=$(find var/spool/staff -type f -name '*.json' 2>/dev/null | sort | head -n 1 || true)
if [[ -n $staff ]]; then
    step "a staff alert (with staff.transport: webhook and preset chat, {\"text\": ...} goes to the team chat): $staff"
    cat "$staff"; echo
fi
echo

step "stopping tidings serve (SIGTERM)"
kill -TERM "$daemon"
wait "$daemon" && rc=0 || rc=$?
daemon=""
echo "tidings serve exited with status $rc"
(( rc == 0 )) || exit 1   # the EXIT trap shows the end of the log
