#!/usr/bin/env bash
# Follows the README's install steps in a scratch root (DESTDIR) with the given binary: the
# files land where the unit expects them, with the right modes; `tidings check` refuses the
# result while the credentials are empty and accepts it once dummy ones are written, reading
# them as the service does ($CREDENTIALS_DIRECTORY); the installed unit passes
# `systemd-analyze verify`; a second install keeps what the operator edited.
#
# Usage: scripts/check-install.sh PATH/TO/tidings
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=$(realpath "${1:?usage: $0 PATH/TO/tidings}")
root=$(mktemp -d /tmp/tidings-install.XXXXXX)
trap 'rm -rf "$root"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
etc=$root/etc/tidings
tidings=$root/usr/local/bin/tidings

echo "== make install's steps into a scratch root ($root)"
DESTDIR=$root PREFIX=/usr/local scripts/install.sh "$bin" > "$root/install.log"
for file in usr/local/bin/tidings etc/tidings/tidings.yaml etc/tidings/workflows.yaml etc/tidings/tidings.env \
            etc/tidings/templates/order_confirmation/en/email.text.mustache etc/systemd/system/tidings.service; do
    [[ -e $root/$file ]] || fail "$file was not installed"
done
scripts/check-malloc.sh "$tidings"
[[ $(stat -c %a "$etc/credentials") == 700 ]] || fail "the credentials directory is not 0700"
credentials=$(grep -o '^LoadCredential=[^:]*' "$root/etc/systemd/system/tidings.service" | cut -d= -f2 | sort)
[[ $credentials == "$(ls "$etc/credentials" | sort)" ]] || fail "the unit loads [$credentials], the install created [$(ls "$etc/credentials")]"
for credential in $credentials; do
    [[ $(stat -c %a "$etc/credentials/$credential") == 600 && ! -s $etc/credentials/$credential ]] \
        || fail "credential $credential is not an empty 0600 file"
done

# The paths inside the configuration are absolute (/etc/tidings/...): point them into the root.
check() {
    env -i PATH="$PATH" CREDENTIALS_DIRECTORY="$etc/credentials" TEMPLATES_DIRECTORY="$etc/templates" \
        WORKFLOWS_PATH="$etc/workflows.yaml" "$tidings" check --config "$etc/tidings.yaml"
}
echo "== tidings check with the credentials still empty: refused"
if check > "$root/check.log" 2>&1; then cat "$root/check.log"; fail "check accepted empty credentials"; fi
grep -q "staff.webhook.url" "$root/check.log" || { cat "$root/check.log"; fail "check did not name the missing staff.webhook.url"; }
sed 's/^/   /' "$root/check.log"

echo "== tidings check with dummy credentials: accepted"
printf 'dummy-smtp-password\n' > "$etc/credentials/smtp-password"
printf 'dummy-twilio-auth-token\n' > "$etc/credentials/sms-webhook-password"
printf 'shop ingest,read 0123456789abcdef0123456789\n' > "$etc/credentials/http-tokens"
printf 'https://chat.example.org/hooks/dummy\n' > "$etc/credentials/staff-webhook-url"
check > "$root/check.log" 2>&1 || { cat "$root/check.log"; fail "check refused the installed configuration"; }
sed 's/^/   /' "$root/check.log"
! grep -q "^warning:" "$root/check.log" || fail "check warned about the installed configuration"
for secret in dummy-smtp-password dummy-twilio-auth-token 0123456789abcdef0123456789 chat.example.org/hooks/dummy; do
    ! grep -q "$secret" "$root/check.log" || fail "check printed a secret"
done

if command -v systemd-analyze >/dev/null; then
    echo "== systemd-analyze verify on the installed unit"
    unit=$(mktemp -d)/tidings.service
    sed "s|^ExecStart=/usr/local/bin/tidings |ExecStart=$tidings |" "$root/etc/systemd/system/tidings.service" > "$unit"
    systemd-analyze verify "$unit" 2>&1 | grep -v "^$" | sed 's/^/   /' || true
    systemd-analyze verify "$unit" > /dev/null 2>&1 || fail "systemd-analyze verify refused the installed unit"
    rm -rf "$(dirname "$unit")"
fi

echo "== a second install keeps what the operator edited"
echo "# edited by the operator" >> "$etc/tidings.yaml"
echo "edited" > "$etc/templates/order_confirmation/en/sms.text.mustache" 2>/dev/null || true
DESTDIR=$root PREFIX=/usr/local scripts/install.sh "$bin" > "$root/install.log"
grep -q "# edited by the operator" "$etc/tidings.yaml" || fail "the second install overwrote tidings.yaml"
grep -q "dummy-smtp-password" "$etc/credentials/smtp-password" || fail "the second install emptied a credential"
grep -q "kept your" "$root/install.log" || fail "the second install did not say what it kept"
echo "   OK: the install steps give a configuration that tidings check accepts"
