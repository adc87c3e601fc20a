# lib.sh - helpers for the cluster tests (issue 13): skipping, free ports,
# a fake powercap tree driven from the shell, waiting for a condition.
# Sourced by the test scripts; CT_CLI must point at the carbontracker binary.

SKIP=77

skip() { # reason...
  echo "SKIPPED: $*"
  exit $SKIP
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

need_cmd() { # cmd package
  command -v "$1" >/dev/null 2>&1 || skip "$1 not found (install the $2 package: scripts/install-deps.sh --cluster)"
}

# A free TCP port on 127.0.0.1 (the kernel's choice; released before use).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Fake powercap tree, laid out as fake_powercap.c does (tests/support): zone
# directories with name, energy_uj (fixed width, rewritten in place), and
# max_energy_range_uj, plus a root link per zone.
fake_zone() { # root id name uj
  local root=$1 id=$2 name=$3 uj=$4
  mkdir -p "$root/dirs/$id"
  printf '%s\n' "$name" >"$root/dirs/$id/name"
  printf '%-24s\n' "$uj" >"$root/dirs/$id/energy_uj"
  printf '262143328850\n' >"$root/dirs/$id/max_energy_range_uj"
  printf '1\n' >"$root/dirs/$id/enabled"
  ln -sfn "$root/dirs/$id" "$root/$id"
  chmod -R a+rX "$root"
  chmod a+w "$root/dirs/$id/energy_uj"
}

# Adds uj to a zone's counter: one in-place write of the same width (the
# reader keeps the file open and never sees it empty). One writer per zone.
fake_add() { # root id uj
  local f=$1/dirs/$2/energy_uj v
  v=$(tr -d ' \n' <"$f")
  printf '%-24s\n' "$((v + $3))" | dd of="$f" conv=notrunc status=none
}

# Polls cmd every 0.2 s until it succeeds, up to timeout s (a bound for a
# broken setup, not a timing margin the test relies on).
wait_for() { # timeout cmd...
  local limit=$1 i=0
  shift
  while ! "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -ge $((limit * 5)) ] && return 1
    sleep 0.2
  done
  return 0
}
