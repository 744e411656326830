#!/usr/bin/env bash
# Installs Tidings for systemd: the binary, the production configuration, the workflows and
# templates, the unit, and empty credential files for the operator to fill. Never overwrites a
# configuration, workflow, template or credential that is already there (an upgrade keeps
# yours and says so). `make install` calls it with the release binary.
#
# Usage: scripts/install.sh BINARY        Env: DESTDIR (a scratch root, default /), PREFIX (/usr/local)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
binary=${1:?usage: $0 BINARY}
[[ -x $binary ]] || { echo "install: $binary is not an executable (build it first: make release)" >&2; exit 2; }
root=${DESTDIR:-}
prefix=${PREFIX:-/usr/local}
etc=$root/etc/tidings

install -D -m 0755 "$binary" "$root$prefix/bin/tidings"
install -d -m 0755 "$etc"
keep() { echo "install: kept your $1 (compare it with $2)"; }
if [[ -e $etc/tidings.yaml ]]; then keep "$etc/tidings.yaml" config/production.yaml
else install -m 0644 config/production.yaml "$etc/tidings.yaml"; fi
if [[ -e $etc/workflows.yaml ]]; then keep "$etc/workflows.yaml" config/workflows.yaml
else install -m 0644 config/workflows.yaml "$etc/workflows.yaml"; fi
# Templates the installation lacks are added; edited ones are kept.
(cd config/templates && find . -type f -name '*.mustache') | while read -r file; do
    [[ -e $etc/templates/$file ]] || install -D -m 0644 "config/templates/$file" "$etc/templates/$file"
done
find "$etc/templates" -type d -exec chmod 0755 {} +
if [[ -e $etc/tidings.env ]]; then keep "$etc/tidings.env" systemd/tidings.env.example
else install -m 0644 systemd/tidings.env.example "$etc/tidings.env"; fi
# Root only; systemd copies them for the service (LoadCredential=).
install -d -m 0700 "$etc/credentials"
for credential in smtp-password sms-webhook-password http-tokens staff-webhook-url database-password; do
    [[ -e $etc/credentials/$credential ]] || install -m 0600 /dev/null "$etc/credentials/$credential"
done
unit=$(mktemp)
trap 'rm -f "$unit"' EXIT
sed "s|^ExecStart=/usr/local/bin/tidings |ExecStart=$prefix/bin/tidings |" systemd/tidings.service > "$unit"
install -D -m 0644 "$unit" "$root/etc/systemd/system/tidings.service"

cat <<NEXT
install: done. Next:
  1. edit $etc/tidings.yaml (shop, smtp.url, the Twilio account, the calendar)
  2. write the secrets into $etc/credentials/: smtp-password, sms-webhook-password,
     http-tokens (lines of \`name scopes token\`), staff-webhook-url; database-password with database.url on PostgreSQL
  3. sudo CREDENTIALS_DIRECTORY=$etc/credentials $prefix/bin/tidings check --config $etc/tidings.yaml
  4. sudo systemctl daemon-reload && sudo systemctl enable --now tidings
NEXT
