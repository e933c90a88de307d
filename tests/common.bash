# Shared by the bats files: where the build is, and bounded waits.
# ctest sets IPCLAB_BIN, IPCLAB_BUILD, IPCLAB_SRC, IPCLAB_HELPERS and
# IPCLAB_SANITIZE; by hand, the defaults point at ./build.

IPCLAB_SRC=${IPCLAB_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
IPCLAB_BUILD=${IPCLAB_BUILD:-$IPCLAB_SRC/build}
IPCLAB_BIN=${IPCLAB_BIN:-$IPCLAB_BUILD/bin/ipclab}
IPCLAB_HELPERS=${IPCLAB_HELPERS:-$IPCLAB_BUILD/tests/helpers}
IPCLAB_SANITIZE=${IPCLAB_SANITIZE:-0}
export IPCLAB_SRC IPCLAB_BUILD IPCLAB_BIN IPCLAB_HELPERS IPCLAB_SANITIZE
export IPCLAB_NO_PROGRESS=1
bats_require_minimum_version 1.5.0

ipclab() { "$IPCLAB_BIN" "$@"; }

# wait_for SECONDS CMD [ARGS]: runs CMD every 10 ms until it succeeds; fails
# after SECONDS.  Never a bare sleep: the machines are noisy.
wait_for() {
	local limit=$1 start=$SECONDS
	shift
	until "$@"; do
		if (( SECONDS - start >= limit )); then
			echo "wait_for: gave up after ${limit}s: $*" >&2
			return 1
		fi
		sleep 0.01
	done
}

# alive PID: true while PID exists and is not a zombie.
alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# dead PID: the opposite, for wait_for.
dead() { ! alive "$1"; }

# zombies_of PID: lists PID's zombie children (empty when none).
zombies_of() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		[ "$(awk '{print $3}' "/proc/$c/stat" 2>/dev/null)" = Z ] && echo "$c"
	done
	return 0
}

# A fresh scratch directory per test, removed by bats.
scratch() { mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/ipclab.XXXXXX"; }

# json_one TEXT: true when TEXT is exactly one JSON document.  `jq -e .`
# takes a stream of several (and an empty text), so it proves nothing alone.
json_one() {
	local n
	n=$(jq -s length <<<"$1" 2>/dev/null) || { echo "json_one: not JSON" >&2; return 1; }
	[ "$n" = 1 ] || { echo "json_one: $n JSON documents, not one" >&2; return 1; }
}

# has TEXT / hasnt TEXT: whether $out holds TEXT (a finding, a line); each
# says which text failed.  Lines of their own, so that a failure fails the test.
# shellcheck disable=SC2154	# out is the caller's
has() { grep -qF -- "$1" <<<"$out" || { echo "missing: $1" >&2; return 1; }; }
hasnt() { ! grep -qF -- "$1" <<<"$out" || { echo "unexpected: $1" >&2; return 1; }; }

# widest FILE: the widest line of FILE in terminal columns, escape sequences
# left out and each carriage return a line of its own (a progress line).
widest() {
	sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$1" | tr '\r' '\n' | LC_ALL=C.UTF-8 wc -L
}
