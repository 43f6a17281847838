# shellcheck shell=bash disable=SC2034
#   Shared helpers for the scripts in scripts/ and docker/.  Sourced, never run.
#   Plain bash, nothing beyond what a fresh Debian 12 has (coreutils, dpkg, apt).

#   The repository root: the parent of the directory holding this file.
AUDIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

audit_script="$(basename "$0")"

audit_say ()  { printf '%s: %s\n' "$audit_script" "$*" >&2; }
audit_warn () { printf '%s: warning: %s\n' "$audit_script" "$*" >&2; }
audit_die ()  { printf '%s: error: %s\n' "$audit_script" "$*" >&2; exit 1; }

#   A heading, so that a long log shows where each step starts.
audit_step () { printf '\n==> %s\n' "$*" >&2; }

#   Run a command as root: directly when we are root, else through sudo.
audit_as_root ()
{
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        audit_die "need root to run '$*' (not root, and no sudo)"
    fi
}

#   Succeeds when the Debian package is installed (not merely known or removed).
audit_pkg_installed ()
{
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

#   Of the packages given, print those not installed, one a line.
audit_pkgs_missing ()
{
    local pkg
    for pkg in "$@"; do
        audit_pkg_installed "$pkg" || printf '%s\n' "$pkg"
    done
}

#   Succeeds when apt knows an installable version of the package.
audit_pkg_available ()
{
    local candidate
    candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')"
    [[ -n "$candidate" && "$candidate" != "(none)" ]]
}

_audit_apt_updated=0
audit_apt_update_once ()
{
    if [[ $_audit_apt_updated -eq 0 ]]; then
        audit_say "apt-get update"
        audit_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        _audit_apt_updated=1
    fi
}

#   audit_apt_install PKG...: install those of PKG that are missing, in one
#   apt-get call, after one apt-get update.  Idempotent; silent when nothing
#   is missing.
audit_apt_install ()
{
    local -a missing
    mapfile -t missing < <(audit_pkgs_missing "$@")
    [[ ${#missing[@]} -eq 0 ]] && return 0
    audit_apt_update_once
    audit_say "installing: ${missing[*]}"
    audit_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
}

#   audit_make_secret FILE: create FILE with a random 256-bit HS256 secret
#   (64 hex digits) unless it exists.  The directory is private to its owner
#   (0700), and so is the file, as the query worker demands (it refuses a
#   secret file group or others can read, but for root's 0640): root-owned,
#   group 10001 and mode 0640 when we are root, so that the container user
#   reads it; else mode 0600, for workers run as ourselves (for compose, give
#   it to uid 10001: secrets/README.md).
audit_make_secret ()
{
    local file="$1" dir tmp
    dir="$(dirname "$file")"
    [[ -s "$file" ]] && return 0
    mkdir -p "$dir"
    chmod 0700 "$dir"
    tmp="$(mktemp "$dir/.jwt_secret.XXXXXX")"
    head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$tmp"
    if [[ $(id -u) -eq 0 ]]; then
        chgrp 10001 "$tmp" && chmod 0640 "$tmp"
    else
        chmod 0600 "$tmp"
    fi
    mv -f "$tmp" "$file"
    audit_say "created a new random JWT secret in $file"
}

#   audit_container_readable FILE: the modes audit_make_secret gives the JWT
#   secret, for a secret key file: root-owned, group 10001 and mode 0640 when
#   we are root (the container user reads it), else 0600 as keygen made it
#   (for compose, give it to uid 10001: secrets/README.md).
audit_container_readable ()
{
    if [[ $(id -u) -eq 0 ]]; then
        chgrp 10001 "$1" && chmod 0640 "$1"
    else
        chmod 0600 "$1"
    fi
}

#   audit_make_keys DIR AUDITCTL: development CURVE keys under DIR (0700),
#   each made by `AUDITCTL keygen` unless it exists (keygen never replaces
#   a key):
#     DIR/server.cert (+ _secret)            the service's: AUDIT_CURVE_SECRET_FILE
#     DIR/clients/auditctl-demo.cert (+ _secret)
#                                            the demo producer's and auditctl's:
#                                            AUDIT_CURVE_CLIENT_CERT
#     DIR/producers/auditctl-demo.cert       its public half: AUDIT_PRODUCER_KEYS_DIR
#   The secret files are readable by the container user (compose mounts them
#   with their host owner and mode); the public ones by anyone.
audit_make_keys ()
{
    local dir="$1" ctl="$2" producer=auditctl-demo
    mkdir -p "$dir/clients" "$dir/producers"
    chmod 0700 "$dir" "$dir/clients"
    chmod 0755 "$dir/producers"
    if [[ ! -s "$dir/server.cert" ]]; then
        "$ctl" keygen --output "$dir/server.cert" >/dev/null
        audit_container_readable "$dir/server.cert_secret"
        audit_say "created the service's CURVE certificate $dir/server.cert"
    fi
    if [[ ! -s "$dir/clients/$producer.cert" ]]; then
        "$ctl" keygen --output "$dir/clients/$producer.cert" --producer "$producer" >/dev/null
        audit_container_readable "$dir/clients/$producer.cert_secret"
        rm -f "$dir/producers/$producer.cert"
        audit_say "created the producer certificate $dir/clients/$producer.cert (producer_id $producer)"
    fi
    #   Only the public half goes to the service
    [[ -s "$dir/producers/$producer.cert" ]] \
        || install -m 0644 "$dir/clients/$producer.cert" "$dir/producers/$producer.cert"
}

#   audit_wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s until it
#   succeeds (return 0) or SECONDS pass (return 1).
audit_wait_until ()
{
    local seconds="$1"; shift
    local deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
    until "$@"; do
        (( $(date +%s%N) < deadline )) || return 1
        sleep 0.1
    done
}

#   audit_wait_pid SECONDS PID: wait for a child to exit, at most SECONDS;
#   sets AUDIT_WAIT_STATUS to its exit status.  Returns 1 on timeout (the
#   child is left running).
audit_wait_pid ()
{
    local seconds="$1" pid="$2"
    AUDIT_WAIT_STATUS=
    audit_wait_until "$seconds" _audit_pid_gone "$pid" || return 1
    AUDIT_WAIT_STATUS=0
    wait "$pid" || AUDIT_WAIT_STATUS=$?
    return 0
}
_audit_pid_gone ()
{
    #   kill -0 succeeds on a zombie; /proc tells a zombie apart.
    ! kill -0 "$1" 2>/dev/null && return 0
    [[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" == Z ]]
}

#   audit_port_listening PORT: a TCP socket listens on PORT (any address).
audit_port_listening ()
{
    local hex
    hex="$(printf ':%04X' "$1")"
    awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
                     END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

#   audit_free_port [TAKEN...]: print a TCP port in 20000-32767 that nothing
#   listens on and that is none of TAKEN (ports drawn already for the same
#   start: nothing listens on them yet). Below Linux's ephemeral range
#   (32768-60999), so that no outgoing connection made before the worker
#   binds can take it (a CI run lost check-run to "Address already in use"
#   on 55606).
audit_free_port ()
{
    local port tries=0
    while (( tries++ < 100 )); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12768 ))
        [[ " $* " == *" $port "* ]] && continue
        audit_port_listening "$port" || { printf '%s\n' "$port"; return 0; }
    done
    audit_die "found no free TCP port"
}
