#!/usr/bin/env bash
# Install the Debian packages a Sigillum task needs, and only the missing ones.
#
#   scripts/install-deps.sh PROFILE...        e.g. scripts/install-deps.sh test
#   scripts/install-deps.sh --list PROFILE... print the packages, install nothing
#
# Profiles (each includes the previous one where noted):
#   build  compiling the package (C libraries found through pkg-config, openssl CLI)
#   run    build + what `sigillumd --dev` calls at run time
#   units  the systemd tools that check the unit files (`make check-units`; part of test)
#   test   run + units + every real component the integration tests call
#   bench  test + the load generator and the reference HTTP server
#
# Runs `apt-get update` only when something must be installed; uses sudo when not root.
set -euo pipefail

# ---------------------------------------------------------------------------
# The profiles: the one place to edit. A profile is "@other" entries (includes)
# plus package names. An entry "a|b" means: a if apt knows it, else b
# (e.g. nginx-light was dropped from newer Debian releases).
# Later issues add here: postgresql. libsystemd-dev builds the systemd integration (sd_notify, socket activation,
# the journal).
# libpcsclite-dev (PC/SC client) and zlib1g-dev (compressed PIV certificates) build the smart-card signer;
# pcscd and vsmartcard-vpcd (a virtual reader that the tests' PIV card emulator plugs into) test it. chrony and
# libfaketime serve the clock tests (NTP servers on loopback, one shifted;
# installing chrony replaces systemd-timesyncd); chromium loads the status page;
# softhsm2 and opensc are the PKCS#11 token and tools.
# systemd (systemd-analyze verify/security, systemd-sysusers, systemd-tmpfiles, offline) and procps
# (/bin/kill, named by the units' ExecReload=) check the unit files; systemd need not run as PID 1.
# ---------------------------------------------------------------------------
declare -A PROFILE=(
    [build]="libsqlite3-dev libssl-dev libpcsclite-dev zlib1g-dev libsystemd-dev pkg-config ca-certificates openssl"
    [run]="@build openssl curl"
    [units]="systemd procps"
    [test]="@run @units curl sqlite3 chrony libfaketime chromium softhsm2 opensc pcscd vsmartcard-vpcd"
    [bench]="@test wrk nginx-light|nginx procps iproute2 util-linux"
)

die() { echo "install-deps: $*" >&2; exit 1; }

usage() {
    echo "usage: $0 [--list] PROFILE..." >&2
    echo "profiles: $(printf '%s ' "${!PROFILE[@]}" | tr ' ' '\n' | sort | tr '\n' ' ')" >&2
    exit 2
}

# Expand a profile to its package entries (recursively, without duplicates).
declare -A SEEN_PROFILE=()
expand() {
    local name=$1 entry
    [[ -n ${PROFILE[$name]+x} ]] || die "unknown profile '$name' (known: ${!PROFILE[*]})"
    [[ -z ${SEEN_PROFILE[$name]+x} ]] || return 0
    SEEN_PROFILE[$name]=1
    for entry in ${PROFILE[$name]}; do
        if [[ $entry == @* ]]; then expand "${entry#@}"; else echo "$entry"; fi
    done
}

installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

# Privilege: root runs apt directly; otherwise sudo.
SUDO=()
need_root() {
    if [[ $(id -u) -eq 0 ]]; then
        SUDO=(env DEBIAN_FRONTEND=noninteractive)
    elif command -v sudo >/dev/null 2>&1; then
        # `sudo env VAR=x cmd` works without SETENV rights in sudoers, unlike `sudo VAR=x cmd`.
        SUDO=(sudo env DEBIAN_FRONTEND=noninteractive)
    else
        die "not root and sudo is not available; as root run: apt-get install -y --no-install-recommends $*"
    fi
}

# Among alternatives "a|b|c" (none installed), the first one apt knows (after apt-get update).
resolve() {
    local alt
    local -a alts
    IFS='|' read -r -a alts <<<"$1"
    for alt in "${alts[@]}"; do
        if [[ -n $(apt-cache policy "$alt" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2}') ]]; then
            echo "$alt"
            return
        fi
    done
    echo "${alts[0]}"
}

any_installed() {
    local alt
    local -a alts
    IFS='|' read -r -a alts <<<"$1"
    for alt in "${alts[@]}"; do installed "$alt" && return 0; done
    return 1
}

LIST=0
if [[ ${1:-} == --list ]]; then LIST=1; shift; fi
[[ $# -ge 1 ]] || usage
[[ $(uname -s) == Linux ]] || die "only Debian/Ubuntu Linux is supported"
command -v dpkg-query >/dev/null || die "dpkg-query not found: this script expects Debian (apt/dpkg)"

export DEBIAN_FRONTEND=noninteractive
for profile in "$@"; do
    [[ -n ${PROFILE[$profile]+x} ]] || { echo "install-deps: unknown profile '$profile'" >&2; usage; }
done
UPDATED=0
for profile in "$@"; do
    SEEN_PROFILE=()
    mapfile -t entries < <(expand "$profile" | awk '!seen[$0]++')
    if [[ $LIST -eq 1 ]]; then
        echo "$profile: ${entries[*]}"
        continue
    fi
    missing=()
    for entry in "${entries[@]}"; do
        any_installed "$entry" || missing+=("$entry")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "install-deps: profile '$profile': all present (${#entries[@]} packages)"
        continue
    fi
    need_root "${missing[@]}"
    echo "install-deps: profile '$profile': missing ${missing[*]}; installing"
    if [[ $UPDATED -eq 0 ]]; then "${SUDO[@]}" apt-get update -q; UPDATED=1; fi
    pkgs=()
    for entry in "${missing[@]}"; do pkgs+=("$(resolve "$entry")"); done
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${pkgs[@]}"
    for pkg in "${pkgs[@]}"; do
        installed "$pkg" || die "package $pkg is still not installed after apt-get install"
    done
    echo "install-deps: profile '$profile': installed ${pkgs[*]}"
done
