#!/bin/bash
# The boot test's checks, run inside the guest by boot-check.service once tidings.service has
# started. Each check writes "ok: ..." or "FAIL: ..." to /var/lib/boot-test/results, which the
# host reads after the guest powers off; "done" marks the end.
set -u
results=/var/lib/boot-test/results
mkdir -p /var/lib/boot-test
: > "$results"
trap 'echo done >> "$results"; systemctl --no-block poweroff' EXIT
ok() { echo "ok: $*" >> "$results"; }
fail() { echo "FAIL: $*" >> "$results"; }
token=$(cat /etc/tidings/credentials/http-tokens | awk '{print $3}')

# Waits up to $1 seconds for a shell condition.
within() {
    local seconds=$1; shift
    for _ in $(seq $((seconds * 10))); do eval "$*" && return 0; sleep 0.1; done
    return 1
}
post() {
    curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/cloudevents-batch+json' --data-binary "$1" http://127.0.0.1:8080/v1/events
}
event() {  # id type subject data
    printf '{"specversion":"1.0","id":"%s","source":"urn:boot-test","type":"%s","subject":"%s","data":%s}' "$1" "$2" "$3" "$4"
}
customer() { event "$1" customer.registered "$1" "{\"name\":\"Boot Test\",\"email\":\"$2\"}"; }
complaint() { event "$1" ticket.opened "$1" "{\"customer_id\":\"$2\",\"kind\":\"complaint\",\"summary\":\"Broken\"}"; }
sunk() { ls /var/lib/boot-sink 2>/dev/null | wc -l; }
main_pid() { systemctl show -p MainPID --value tidings; }
restarts() { systemctl show -p NRestarts --value tidings; }

# 1. Active means READY=1 was sent (Type=notify); STATUS= lines follow.
if within 30 'systemctl is-active -q tidings'; then ok "tidings.service is active (READY=1)"
else
    fail "tidings.service never became active: $(journalctl -q -u tidings --no-pager | tail -8)"
    echo "--- systemctl status:" >> "$results"; systemctl status tidings --no-pager -l >> "$results" 2>&1
    echo "--- tidings check as root:" >> "$results"
    (set -a; . /etc/tidings/tidings.env; CREDENTIALS_DIRECTORY=/etc/tidings/credentials /usr/local/bin/tidings check --config /etc/tidings/tidings.yaml) >> "$results" 2>&1
    exit
fi
if within 15 '[[ $(systemctl show -p StatusText --value tidings) == position* ]]'; then ok "STATUS= line: $(systemctl show -p StatusText --value tidings)"
else fail "no STATUS= line: '$(systemctl show -p StatusText --value tidings)'"; fi

# 2. Events in, the acknowledgement out at the sink.
code=$(post "[$(customer c-1 ann@example.com),$(complaint t-1 c-1)]")
[[ $code == 201 ]] && ok "events accepted (201)" || fail "posting events answered $code"
if within 20 '(( $(sunk) >= 1 ))'; then ok "the complaint acknowledgement reached the SMTP sink"
else fail "no message at the sink: $(journalctl -q -u tidings --no-pager | tail -3)"; fi

# 3. kill -9: systemd restarts it, and nothing is lost.
before=$(restarts)
kill -9 "$(main_pid)"
if within 30 '(( $(restarts) > before )) && systemctl is-active -q tidings'; then ok "restarted after kill -9 ($(restarts) restarts)"
else fail "not restarted after kill -9: $(systemctl status tidings --no-pager 2>&1 | tail -5)"; fi
code=$(post "[$(complaint t-2 c-1)]")
if within 20 '(( $(sunk) >= 2 ))'; then ok "a message after the restart reached the sink"; else fail "nothing reached the sink after the restart (post: $code)"; fi
for ticket in t-1 t-2; do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" http://127.0.0.1:8080/v1/tickets/$ticket)
    [[ $status == 200 ]] && ok "ticket $ticket is stored" || fail "ticket $ticket: $status"
done

# 4. Priorities: a refused message is a warning in the journal; a sent one is not.
post "[$(customer c-2 bounce@example.com),$(complaint t-3 c-2)]" > /dev/null
if within 20 'journalctl -q -u tidings -p warning --no-pager | grep -q "message not sent"'; then ok "a refused message is logged at warning priority"
else fail "no warning in journalctl -p warning: $(journalctl -q -u tidings --no-pager | grep 'message not sent' | head -2)"; fi
if journalctl -q -u tidings -p warning --no-pager | grep -q "tidings serving"; then fail "info lines reach the journal at warning priority"
else ok "info lines are below warning priority"; fi

# 5. No secret in systemctl show or the journal; no libdispatch noise.
for secret in boot-smtp-secret-4711 boot-twilio-secret-0815 bootTokenSecret0123456789abc boot-staff-secret; do
    if systemctl show tidings | grep -qF "$secret" || journalctl -q -u tidings --no-pager | grep -qF "$secret"; then fail "a secret shows: $secret"
    else ok "secret not shown: ${secret:0:8}..."; fi
done
# libdispatch's "Failed to set thread priority": one per start is libdispatch's own (a worker of
# one of its internal queues, in any Swift program); more would be Tidings' queues or tasks.
noise=$(journalctl -q -u tidings --no-pager | grep -c "Failed to set thread priority" || true)
starts=$(journalctl -q -u tidings --no-pager | grep -c "Started tidings.service" || true)
(( noise <= starts )) && ok "libdispatch thread-priority lines: $noise in $starts starts" \
    || fail "$noise lines of 'Failed to set thread priority' in $starts starts: $(journalctl -q -u tidings --no-pager | grep "Failed to set thread priority" | head -2)"

# 6. The sandbox: the write probe (the test's drop-in runs it as the service) found nothing
#    writable outside the state directory (but its private /tmp and /var/tmp).
probe=/var/lib/tidings/write-probe
if [[ -f $probe ]]; then
    [[ ! -s $probe ]] && ok "nothing writable outside the state directory" || fail "writable for the service: $(tr '\n' ' ' < "$probe")"
else fail "the write probe did not run"; fi

# 7. A clean stop within 5 s, exit status 0.
start=$(date +%s%N)
systemctl stop tidings
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
(( elapsed <= 5000 )) && ok "stopped in $elapsed ms" || fail "stop took $elapsed ms"
[[ $(systemctl show -p ExecMainStatus --value tidings) == 0 ]] && ok "exit status 0 on SIGTERM" || fail "exit status $(systemctl show -p ExecMainStatus --value tidings)"
systemctl start tidings

# 8. A stuck pipeline (its batches keep failing: the test holds the database's write lock with an
#    event waiting) ends in a watchdog restart, with the reason at error priority.
before=$(restarts)
python3 /usr/local/lib/boot-test/stall.py /var/lib/tidings/tidings.sqlite /var/lib/boot-test/release &
stall=$!
if within 60 '(( $(restarts) > before ))'; then ok "the watchdog restarted a stuck daemon"
else fail "no watchdog restart: $(journalctl -q -u tidings --no-pager | tail -3)"; fi
if journalctl -q -u tidings -p err --no-pager | grep -q "withholding the watchdog ping"; then ok "the reason is logged at error priority"
else fail "no 'withholding the watchdog ping' at error priority"; fi
touch /var/lib/boot-test/release
wait "$stall"
if within 40 'systemctl is-active -q tidings'; then ok "active again once the database is free"; else fail "not active again: $(systemctl status tidings --no-pager 2>&1 | tail -3)"; fi
count=$(sunk)
post "[$(complaint t-4 c-1)]" > /dev/null
if within 20 '(( $(sunk) > count ))'; then ok "messages flow again"; else fail "no message after the stall"; fi
