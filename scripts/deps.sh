#!/usr/bin/env bash
# Installs what building (and, with --test, testing) Tidings needs on Debian/Ubuntu, and only
# what is missing: OS packages are checked with dpkg first, and `apt-get update` runs only when
# something has to be installed. Python modules are checked by importing them.
#
# Usage: scripts/deps.sh [--test | --bench]
set -euo pipefail

want_test=false
want_bench=false
case "${1:-}" in
    "") ;;
    --test) want_test=true ;;
    --bench) want_bench=true ;;
    *) echo "usage: $0 [--test | --bench]" >&2; exit 2 ;;
esac

# Root runs commands directly; anyone else needs sudo.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "deps: need root (or sudo) to run: $*" >&2
        return 1
    fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_updated=false
apt_install() {
    local missing=() p
    for p in "$@"; do installed "$p" || missing+=("$p"); done
    (( ${#missing[@]} )) || return 0
    echo "deps: installing ${missing[*]}"
    if ! $apt_updated; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=true
    fi
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# PostgreSQL for the PostgreSQL backend's tests and benchmark, which start a private cluster of
# their own (scripts/testservers/postgres_cluster.sh): the package's own cluster is not wanted.
install_postgres() {
    if command -v dpkg-query >/dev/null 2>&1 && ! installed postgresql-15; then
        as_root mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.d/tidings-tests.conf >/dev/null
        apt_install postgresql-15
    fi
}

if command -v dpkg-query >/dev/null 2>&1; then
    # libcurl + OpenSSL and SQLite for the CCurl/GRDB targets, jemalloc for the daemon's malloc
    # (Package.swift), pkg-config to find libcurl, python3 for the test servers, systemd for
    # systemd-analyze (scripts/check-systemd.sh).
    apt_install libcurl4-openssl-dev libsqlite3-dev libjemalloc-dev pkg-config python3 systemd
else
    echo "deps: not a Debian system: install libcurl (OpenSSL) and SQLite development files (on Linux," \
         "jemalloc's too), pkg-config, python3 and systemd-analyze yourself" >&2
fi

if $want_bench; then
    # The benchmark's servers and reference tools: nginx (webhook receiver), postfix's
    # smtp-sink and smtp-source, curl. Postfix is only a source of those two programs here.
    if command -v dpkg-query >/dev/null 2>&1; then
        installed postfix || echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
        apt_install nginx-light postfix curl
        install_postgres
    else
        echo "deps: not a Debian system: install nginx, postfix (smtp-sink, smtp-source), curl and PostgreSQL 15 yourself" >&2
    fi
    exit 0
fi

$want_test || exit 0

# A real browser for the status-page and console tests (headless, the console's driven by
# Selenium through chromium-driver); debootstrap and systemd-nspawn to boot the installed unit
# under a real systemd (scripts/boot-test.sh).
if command -v dpkg-query >/dev/null 2>&1; then apt_install chromium chromium-driver debootstrap systemd-container; fi

install_postgres

# Python modules for the integration tests' servers (scripts/testservers/), for checking
# webhook signatures (standardwebhooks; twilio, whose RequestValidator signs the status callbacks
# the receipt tests send), schemathesis for checking the API against openapi.yaml, and selenium
# with axe-core (axe_selenium_python) to drive the console in Chromium and check its accessibility.
missing_py=()
for mod in aiosmtpd standardwebhooks schemathesis twilio selenium axe_selenium_python; do
    python3 -c "import $mod" >/dev/null 2>&1 || missing_py+=("$mod")
done
(( ${#missing_py[@]} )) || exit 0

if ! python3 -m pip --version >/dev/null 2>&1; then
    if command -v dpkg-query >/dev/null 2>&1; then apt_install python3-pip; fi
fi
echo "deps: pip installing ${missing_py[*]}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
pip_as() {
    # pip into the interpreter's own site-packages: as root if it is a system Python.
    if [[ -w $(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') ]]; then
        python3 -m pip install -q "$@"
    else
        as_root python3 -m pip install -q "$@"
    fi
}
# Debian's own python3 refuses pip installs (PEP 668, "externally-managed-environment"):
# these test-only packages do not clash with anything Debian ships, so override it.
pip_as "${missing_py[@]}" 2>/dev/null || pip_as --break-system-packages "${missing_py[@]}"
for mod in "${missing_py[@]}"; do
    python3 -c "import $mod" || { echo "deps: python3 still cannot import $mod" >&2; exit 1; }
done
