#!/usr/bin/env bash
# Checks the systemd side of the appliance (`make check-units`; `make test` runs it too):
#
#   1. systemd-analyze verify on every unit in systemd/: clean means no output at all. verify
#      insists that ExecStart= names an executable, so the units are checked in a copy whose
#      /usr/bin/sigillum* paths point at stand-in scripts (the binaries need not be built).
#   2. systemd-analyze security --offline=yes on every service: the overall exposure must be at
#      most EXPOSURE_MAX (1.5, issue 8); the scores are printed.
#   3. the names the daemon looks for: sockets named public, admin, verify for the right service.
#   4. sysusers.d and tmpfiles.d applied to an empty root (--root): user, group, modes, owners.
#   5. make install-files into a DESTDIR (stand-in executables), the installed tree as expected,
#      the installed units verified, a changed configuration kept by a second install and by
#      make uninstall, and nothing but directories left after make uninstall.
#
# Works without systemd running as PID 1 (all checks are offline). Needs systemd (systemd-analyze,
# systemd-sysusers, systemd-tmpfiles), procps (/bin/kill in ExecReload=) and make.
# Prints one line per check and ends with "check-units: N passed, N failed"; exit 1 on a failure.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
units_dir=$repo/systemd
EXPOSURE_MAX=${EXPOSURE_MAX:-1.5}

passed=0
failed=0
pass() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
fail() {
    failed=$((failed + 1))
    printf '  FAIL  %s\n' "$1"
    if [[ $# -gt 1 && -n $2 ]]; then printf '%s\n' "$2" | sed 's/^/        /'; fi
}

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles make; do
    command -v "$tool" >/dev/null || { echo "check-units: $tool not found (scripts/install-deps.sh units)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/check-units.XXXXXX")
trap 'rm -rf "$work"' EXIT

mapfile -t units < <(cd "$units_dir" && ls -1 -- *.service *.socket)
mapfile -t services < <(cd "$units_dir" && ls -1 -- *.service)
[[ ${#units[@]} -gt 0 ]] || { echo "check-units: no units in $units_dir" >&2; exit 1; }

# Stand-in executables for every binary a unit starts.
stubs=$work/bin
mkdir -p "$stubs"
for program in sigillumd sigillum sigillum-verifyd; do
    printf '#!/bin/sh\nexit 0\n' >"$stubs/$program"
    chmod 0755 "$stubs/$program"
done

# verify_dir DIR LABEL: systemd-analyze verify on every unit file in DIR; any output is a failure.
verify_dir() {
    local dir=$1 label=$2 out
    local -a files
    mapfile -t files < <(cd "$dir" && ls -1 -- *.service *.socket)
    if out=$(cd "$dir" && systemd-analyze verify --man=no "${files[@]}" 2>&1) && [[ -z $out ]]; then
        pass "$label: systemd-analyze verify (${files[*]})"
    else
        fail "$label: systemd-analyze verify" "$out"
    fi
}

echo "== systemd-analyze verify"
mkdir -p "$work/units"
for unit in "${units[@]}"; do
    sed -e "s|/usr/bin/sigillum|$stubs/sigillum|g" "$units_dir/$unit" >"$work/units/$unit"
done
if grep -q "ExecStart=$stubs/" "$work/units/sigillumd.service"; then
    verify_dir "$work/units" "systemd/"
else
    fail "systemd/sigillumd.service: ExecStart= does not name /usr/bin/sigillumd (make install substitutes that path)"
fi

echo "== systemd-analyze security --offline=yes (exposure at most $EXPOSURE_MAX)"
threshold=$(awk -v m="$EXPOSURE_MAX" 'BEGIN { printf "%d", m * 10 + 0.5 }')  # systemd counts tenths
for service in "${services[@]}"; do
    set +e
    out=$(cd "$units_dir" && systemd-analyze security --offline=yes --threshold="$threshold" "$service" 2>&1)
    rc=$?
    set -e
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
    if [[ -z $score ]]; then
        fail "$service: no exposure score" "$out"
    elif [[ $rc -eq 0 ]] && awk -v s="$score" -v m="$EXPOSURE_MAX" 'BEGIN { exit !(s <= m) }'; then
        pass "$service: exposure $score"
    else
        fail "$service: exposure $score is above $EXPOSURE_MAX" "$(grep '✗' <<<"$out")"
    fi
done

echo "== socket names (sd_listen_fds_with_names)"
# unit_value FILE KEY: the last value of KEY= in FILE.
unit_value() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
for expect in sigillumd.socket:public:sigillumd.service sigillumd-admin.socket:admin:sigillumd.service \
    sigillum-verifyd.socket:verify:sigillum-verifyd.service; do
    IFS=: read -r socket name service <<<"$expect"
    file=$units_dir/$socket
    if [[ ! -f $file ]]; then
        fail "$socket: missing"
        continue
    fi
    got_name=$(unit_value "$file" FileDescriptorName)
    got_service=$(unit_value "$file" Service)
    if [[ $got_name == "$name" && $got_service == "$service" ]] \
        && grep -Eq "^Sockets=(.* )?$socket( |$)" "$units_dir/$service"; then
        pass "$socket: FileDescriptorName=$name, Service=$service, in $service's Sockets="
    else
        fail "$socket: FileDescriptorName=$got_name Service=$got_service (want $name, $service, listed in its Sockets=)"
    fi
done
for service in "${services[@]}"; do
    if [[ $(unit_value "$units_dir/$service" Type) == notify && $(unit_value "$units_dir/$service" NotifyAccess) == main ]]; then
        pass "$service: Type=notify, NotifyAccess=main"
    else
        fail "$service: want Type=notify and NotifyAccess=main"
    fi
done

echo "== sysusers.d and tmpfiles.d on an empty root"
root=$work/sysroot
mkdir -p "$root/etc/sigillum"
printf 'listen: 127.0.0.1:8080\n' >"$root/etc/sigillum/sigillumd.yaml"
chmod 0600 "$root/etc/sigillum/sigillumd.yaml"
if out=$(systemd-sysusers --root="$root" "$units_dir/sysusers.d/sigillum.conf" 2>&1) \
    && entry=$(grep '^sigillum:' "$root/etc/passwd") && grep -q '^sigillum:' "$root/etc/group"; then
    IFS=: read -r _ _ uid gid _ home shell <<<"$entry"
    if [[ $home == /var/lib/sigillum && $shell == */nologin && $uid -lt 1000 ]]; then
        pass "sysusers.d/sigillum.conf: system user sigillum ($uid:$gid, home $home, shell $shell)"
    else
        fail "sysusers.d/sigillum.conf: unexpected entry $entry"
    fi
else
    fail "sysusers.d/sigillum.conf: systemd-sysusers did not create user and group sigillum" "$out"
    uid=x gid=x
fi
if out=$(systemd-tmpfiles --root="$root" --create "$units_dir/tmpfiles.d/sigillum.conf" 2>&1); then
    got=$(cd "$root" && { stat -c '%n %a %u:%g' etc/sigillum etc/sigillum/sigillumd.yaml var/lib/sigillum 2>&1 || true; })
    want=$(printf '%s\n' "etc/sigillum 750 0:$gid" "etc/sigillum/sigillumd.yaml 640 0:$gid" "var/lib/sigillum 700 $uid:$gid")
    if [[ $got == "$want" ]]; then
        pass "tmpfiles.d/sigillum.conf: /etc/sigillum 0750 root:sigillum, its config 0640, /var/lib/sigillum 0700"
    else
        fail "tmpfiles.d/sigillum.conf: modes and owners differ" "got:
$got
want:
$want"
    fi
else
    fail "tmpfiles.d/sigillum.conf: systemd-tmpfiles --create failed" "$out"
fi

echo "== make install-files / uninstall into a DESTDIR"
dest=$work/dest
# A clean sub-make: no variables from a calling make or the environment, the default PREFIX.
submake() {
    env -u MAKEFLAGS -u MFLAGS -u MAKEOVERRIDES -u MAKELEVEL -u PREFIX -u BINDIR -u DATADIR -u DOCDIR \
        -u SYSCONFDIR -u SYSTEMDUNITDIR -u SYSUSERSDIR -u TMPFILESDIR -u DESTDIR \
        make -C "$repo" --no-print-directory "$@" DESTDIR="$dest" INSTALL_FROM="$stubs"
}
expected_tree() {
    local doc
    printf '%s\n' usr/local/bin/sigillum usr/local/bin/sigillum-verifyd usr/local/bin/sigillumd
    for unit in "${units[@]}"; do echo "usr/local/lib/systemd/system/$unit"; done
    echo usr/local/lib/sysusers.d/sigillum.conf
    echo usr/local/lib/tmpfiles.d/sigillum.conf
    echo usr/local/share/doc/sigillum/README.md
    for doc in "$repo"/Docs/*.md; do echo "usr/local/share/doc/sigillum/${doc##*/}"; done
    echo usr/local/share/doc/sigillum/sigillumd.example.yaml
    echo etc/sigillum/sigillumd.yaml
}
if out=$(submake install-files 2>&1); then
    got=$(cd "$dest" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
    want=$(expected_tree | LC_ALL=C sort)
    if [[ $got == "$want" ]]; then
        pass "install-files: $(wc -l <<<"$got") files in the expected places"
    else
        fail "install-files: the installed tree differs (< installed, > expected)" "$(diff <(echo "$got") <(echo "$want") || true)"
    fi
    while read -r line; do printf '        %s\n' "$line"; done <<<"$got"
    perms=$(cd "$dest" && stat -c '%a %n' usr/local/bin/sigillumd usr/local/lib/systemd/system/sigillumd.service \
        etc/sigillum etc/sigillum/sigillumd.yaml)
    if [[ $perms == $'755 usr/local/bin/sigillumd\n644 usr/local/lib/systemd/system/sigillumd.service\n750 etc/sigillum\n640 etc/sigillum/sigillumd.yaml' ]]; then
        pass "install-files: modes 0755 binaries, 0644 units, 0750 /etc/sigillum, 0640 its config"
    else
        fail "install-files: modes" "$perms"
    fi
    installed=$dest/usr/local/lib/systemd/system
    if grep -qx 'ExecStart=/usr/local/bin/sigillumd --config /etc/sigillum/sigillumd.yaml' "$installed/sigillumd.service" \
        && grep -qx 'ExecStart=/usr/local/bin/sigillum-verifyd' "$installed/sigillum-verifyd.service" \
        && grep -qx 'Documentation=file:/usr/local/share/doc/sigillum/operations.md' "$installed/sigillumd.service"; then
        pass "install-files: ExecStart= and Documentation= name BINDIR and DOCDIR"
    else
        fail "install-files: ExecStart=/Documentation= not substituted" "$(grep -E '^(ExecStart|Documentation)=' "$installed"/*.service)"
    fi
    mkdir -p "$work/installed-units"
    for unit in "${units[@]}"; do
        sed -e "s|=/usr/local/bin/|=$dest/usr/local/bin/|" "$installed/$unit" >"$work/installed-units/$unit"
    done
    verify_dir "$work/installed-units" "installed units"

    # A changed configuration survives a second install and the uninstall.
    echo '# changed by the site' >>"$dest/etc/sigillum/sigillumd.yaml"
    changed=$(cat "$dest/etc/sigillum/sigillumd.yaml")
    if submake install-files >/dev/null 2>&1 && [[ $(cat "$dest/etc/sigillum/sigillumd.yaml") == "$changed" ]]; then
        pass "install-files again: the changed configuration is kept"
    else
        fail "install-files again: the configuration was overwritten or the install failed"
    fi
    if out=$(submake uninstall 2>&1); then
        left=$(cd "$dest" && find . ! -type d | sed 's|^\./||')
        if [[ $left == etc/sigillum/sigillumd.yaml ]]; then
            pass "uninstall: everything removed but the changed configuration"
        else
            fail "uninstall: left behind" "$left"
        fi
        rm -f "$dest/etc/sigillum/sigillumd.yaml"
        if submake install-files >/dev/null 2>&1; then submake uninstall >/dev/null 2>&1 || true; fi
        left=$(cd "$dest" && find . ! -type d | sed 's|^\./||')
        if [[ -z $left && ! -e $dest/etc/sigillum && ! -e $dest/usr/local/share/doc/sigillum ]]; then
            pass "install + uninstall with the shipped configuration: only empty directories left"
        else
            fail "install + uninstall: left behind" "$left"
        fi
    else
        fail "make uninstall failed" "$out"
    fi
else
    fail "make install-files failed" "$out"
fi

echo "check-units: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
