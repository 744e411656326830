#!/usr/bin/env bash
# Boots the installed unit under a real systemd: a minimal Debian 12 root (debootstrap, cached
# as var/boot/debian12-root.tar), Tidings installed into it with `make install`'s script and a
# static release build, booted with `systemd-nspawn -b` on a private network. Inside, a oneshot
# service (scripts/boot/check.sh) checks READY and STATUS, messages reaching a sink, a restart
# after kill -9 with nothing lost, a clean stop, journal priorities, secrets kept out of
# `systemctl show` and the journal, the sandbox's writable paths, and a watchdog restart of a
# stuck pipeline; it writes its results where the host reads them after the guest powers off.
#
# Skipped, saying why, where the machine cannot run it (not root, no systemd-nspawn or
# debootstrap). Usage: scripts/boot-test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
skip() { echo "== boot test SKIPPED: $*"; exit 0; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || skip "it needs root, for systemd-nspawn"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is missing (apt install systemd-container)"
command -v debootstrap >/dev/null || skip "debootstrap is missing (apt install debootstrap)"

cache=${TIDINGS_BOOT_CACHE:-var/boot}
tarball=$cache/debian12-root.tar
packages=systemd,systemd-sysv,dbus,curl,python3,libsqlite3-0,libjemalloc2,ca-certificates
if [[ ! -s $tarball || ! -s $tarball.packages || $(cat "$tarball.packages") != "$packages" ]]; then
    echo "== debootstrap: a minimal Debian 12 root (once; cached as $tarball)"
    mkdir -p "$cache"
    root=$(mktemp -d /var/tmp/tidings-debootstrap.XXXXXX)
    debootstrap --variant=minbase --include="$packages" bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
        > "$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log"; rm -rf "$root"; fail "debootstrap failed"; }
    chmod 0755 "$root"
    tar -C "$root" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    echo "$packages" > "$tarball.packages"
    rm -rf "$root"
fi

echo "== a static release build, as make install makes it"
swift build -c release --static-swift-stdlib --product tidings 2>&1 | tail -1
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/tidings
# The binary that is installed: the Swift runtime inside it, jemalloc beside it.
scripts/check-malloc.sh "$bin"

guest=$(mktemp -d /var/tmp/tidings-guest.XXXXXX)
# TIDINGS_BOOT_KEEP=1 keeps the guest's root for a look afterwards.
[[ ${TIDINGS_BOOT_KEEP:-} == 1 ]] && echo "   (keeping the guest in $guest)" || trap 'rm -rf "$guest"' EXIT
tar -C "$guest" -xf "$tarball"
chmod 0755 "$guest"  # the guest's /: mktemp makes it 0700, which locks out every service user
DESTDIR=$guest PREFIX=/usr/local scripts/install.sh "$bin" > "$guest/install.log"

# The installed production configuration, pointed at the sink on the guest's loopback through
# tidings.env (as an operator would), with dummy secrets the checks look for afterwards.
etc=$guest/etc/tidings
cat >> "$etc/tidings.env" <<'ENV'
SMTP_URL=smtp://127.0.0.1:2525
SMTP_STARTTLS=off
SMS_WEBHOOK_URL=http://127.0.0.1:9090/sms
ENV
printf 'boot-smtp-secret-4711\n' > "$etc/credentials/smtp-password"
printf 'boot-twilio-secret-0815\n' > "$etc/credentials/sms-webhook-password"
printf 'shop ingest,read,admin bootTokenSecret0123456789abc\n' > "$etc/credentials/http-tokens"
printf 'http://127.0.0.1:9090/staff?key=boot-staff-secret\n' > "$etc/credentials/staff-webhook-url"

# The test's own drop-in: a shorter watchdog (the stuck-pipeline check takes seconds, not a
# minute) and a probe, run as the service inside its sandbox, of where it can write.
mkdir -p "$guest/etc/systemd/system/tidings.service.d"
cat > "$guest/etc/systemd/system/tidings.service.d/boot-test.conf" <<'UNIT'
[Service]
WatchdogSec=10
ExecStartPost=-/bin/sh -c 'for p in /run /run/lock /run/systemd /run/user /dev/shm /etc /usr /var /var/lib /var/cache /root /home /opt /srv; do if ( : > "$p/.tidings-write-probe" ) 2>/dev/null; then echo "$p"; rm -f "$p/.tidings-write-probe"; fi; done > /var/lib/tidings/write-probe'
UNIT
install -D -m 0755 scripts/boot/sink.py "$guest/usr/local/lib/boot-test/sink.py"
install -D -m 0755 scripts/boot/stall.py "$guest/usr/local/lib/boot-test/stall.py"
install -D -m 0755 scripts/boot/check.sh "$guest/usr/local/lib/boot-test/check.sh"
cat > "$guest/etc/systemd/system/boot-sink.service" <<'UNIT'
[Unit]
Description=The boot test's SMTP and HTTP sink
Before=tidings.service
[Service]
ExecStart=/usr/bin/python3 /usr/local/lib/boot-test/sink.py
[Install]
WantedBy=multi-user.target
UNIT
cat > "$guest/etc/systemd/system/boot-check.service" <<'UNIT'
[Unit]
Description=The boot test's checks
After=tidings.service boot-sink.service
[Service]
Type=oneshot
ExecStart=/usr/local/lib/boot-test/check.sh
TimeoutStartSec=240
[Install]
WantedBy=multi-user.target
UNIT
wants=$guest/etc/systemd/system/multi-user.target.wants
mkdir -p "$wants"
for unit in tidings boot-sink boot-check; do ln -sf "/etc/systemd/system/$unit.service" "$wants/$unit.service"; done

echo "== booting the guest (systemd-nspawn -b, private network)"
mkdir -p /run/systemd/nspawn  # nspawn's propagation directory; absent without a host systemd
log=$(mktemp /tmp/tidings-boot.XXXXXX.log)
started=$(date +%s)
timeout 280 systemd-nspawn -q -D "$guest" -b --private-network --register=no --keep-unit > "$log" 2>&1 || true
results=$guest/var/lib/boot-test/results
if [[ ! -f $results ]] && ! grep -q "Reached target" "$log"; then
    skip "this machine cannot boot a systemd-nspawn guest: $(grep -v '^$' "$log" | head -3 | tr '\n' ' ')"
fi
[[ -f $results ]] || { tail -30 "$log"; fail "the guest booted but its checks never ran"; }
sed 's/^/   /' "$results"
echo "   ($(( $(date +%s) - started )) s, guest console in $log)"
grep -q '^done$' "$results" || fail "the checks did not finish"
! grep -q '^FAIL' "$results" || fail "the boot test found problems (above)"
rm -f "$log"
echo "== boot test passed"
