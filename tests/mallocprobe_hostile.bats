#!/usr/bin/env bats
# ipclab mallocprobe in hostile environments: malloc settings at their
# extremes, an address space limit, a probe that dies, a full stdout, Ctrl+C.
# Checked against strace of a plain program (helpers/mallocprobe_alloc).

load common

ALLOC=$IPCLAB_HELPERS/mallocprobe_alloc
PRELOAD=$IPCLAB_HELPERS/mallocprobe_test_preload.so

setup() {
	dir=$(scratch)
	if [ "$IPCLAB_SANITIZE" = 1 ]; then
		skip "ASan replaces malloc, so there are no glibc chunks to probe in this build"
	fi
}

teardown() {
	if pgrep -f -- '--probe-child' >/dev/null; then
		echo "a probe child outlived the test" >&2
		return 1
	fi
}

# mmap lengths strace sees for the helper's mallocs (between begin and end).
strace_mmaps() {
	strace -qq -o "$dir/trace" -e trace=mmap,brk,write "$ALLOC" "$@" >/dev/null
	sed -n '/^write(1, "begin/,/^write(1, "end/p' "$dir/trace" |
		sed -n 's/^mmap(NULL, \([0-9]*\), PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x.*/\1/p'
}

sections="Allocation ladder|Bit experiments|Switch from heap to mmap|What malloc asked the kernel for|Dynamic threshold|Tunables and environment"

# every_section OUTPUT: all six headings are there
every_section() {
	local h
	IFS='|' read -ra hs <<<"$sections"
	for h in "${hs[@]}"; do
		[[ "$1" == *"$h"* ]] || { echo "missing section: $h"; return 1; }
	done
}

@test "MALLOC_MMAP_THRESHOLD_=1: a full report, no SIGSEGV, every chunk mmapped as strace agrees" {
	export MALLOC_MMAP_THRESHOLD_=1
	run --separate-stderr ipclab mallocprobe
	[ "$status" -eq 0 ]
	[[ "$stderr" != *SIGSEGV* ]]
	every_section "$output"
	[[ "$output" == *"A itself was mmapped here"* ]]
	[[ "$output" == *"even malloc(0), was mmapped"* ]]
	[[ "$output" != *"mmap is off"* ]]
	[ -n "$(strace_mmaps 24)" ]
	run --separate-stderr ipclab mallocprobe -S switch --json
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq -c '.switch | [.threshold_fresh, .threshold_drained]' <<<"$output")" = "[0,0]" ]
}

@test "GLIBC_TUNABLES mmap_threshold=0 or garbage: a full report and exit 0" {
	for t in glibc.malloc.mmap_threshold=0 glibc.malloc.mmap_threshold=abc 'glibc.malloc.=:::x'; do
		GLIBC_TUNABLES=$t run --separate-stderr "$IPCLAB_BIN" mallocprobe
		[ "$status" -eq 0 ] || { echo "GLIBC_TUNABLES=$t: status $status: $stderr"; false; }
		[[ "$stderr" != *SIGSEGV* ]]
		[[ "$stderr" != *"could not run"* ]]
		every_section "$output"
		[[ "$output" != *"mmap is off"* ]]
	done
}

@test "under ulimit -v 50000 the switch is still measured, and mmap is not said to be off" {
	run --separate-stderr ipclab mallocprobe -S switch --json
	[ "$status" -eq 0 ]
	want=$(jq -c '.switch | [.threshold_fresh, .threshold_drained]' <<<"$output")
	run --separate-stderr bash -c 'ulimit -v 50000 && exec "$0" mallocprobe -S switch --json' "$IPCLAB_BIN"
	[ "$status" -eq 0 ]
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq -c '.switch | [.threshold_fresh, .threshold_drained]' <<<"$output")" = "$want" ]
	run jq -r '.findings[] | select(.section == "switch") | .text' <<<"$output"
	[[ "$output" == *"malloc(67108864) failed (Cannot allocate memory): the address space limit (ulimit -v) is 50000 KiB"* ]]
	[[ "$output" != *"came from the heap"* ]]
	[[ "$output" != *"turns mmap off"* ]]
}

@test "MALLOC_MMAP_MAX_=0: no request is mmapped, and the report says why" {
	export MALLOC_MMAP_MAX_=0
	[ -z "$(strace_mmaps 1048576)" ]
	run --separate-stderr ipclab mallocprobe -S switch --json
	[ "$status" -eq 0 ]
	[ "$(jq -c '.switch | [.threshold_fresh, .threshold_drained]' <<<"$output")" = "[null,null]" ]
	run jq -r '.findings[] | select(.section == "switch") | .text' <<<"$output"
	[[ "$output" == *"even malloc(67108864) came from the heap"*"turns mmap off (MALLOC_MMAP_MAX_=0)"* ]]
}

@test "a probe child that dies is named in its section, the rest is measured, exit 1" {
	IPCLAB_TEST_CRASH=tcache LD_PRELOAD=$PRELOAD run --separate-stderr "$IPCLAB_BIN" mallocprobe -S bits
	[ "$status" -eq 1 ]
	[[ "$output" == *"The tcache probe could not run (its child: killed by SIGSEGV)"* ]]
	[[ "$output" == *"tcache     B before free(A): no reading"* ]]
	grep -Eq '^unsorted +B after free\(A\) +0x[0-9a-f]+ ' <<<"$output"
	[ "$stderr" = "ipclab mallocprobe: 1 probe could not run; the report says which and why" ]
	IPCLAB_TEST_CRASH=one LD_PRELOAD=$PRELOAD run --separate-stderr "$IPCLAB_BIN" mallocprobe -S switch --json
	[ "$status" -eq 1 ]
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq -r .switch.threshold_fresh <<<"$output")" = null ]
	[[ "$(jq -r '.findings[] | select(.section == "switch") | .text' <<<"$output")" == *"could not run (its child: killed by SIGSEGV)"* ]]
	[[ "$output" != *"came from the heap"* ]]
}

@test "stdout on /dev/full is exit 1 with a message; a closed pipe ends quietly" {
	for j in "" --json; do
		run --separate-stderr bash -c '"$0" mallocprobe -S ladder $1 >/dev/full' "$IPCLAB_BIN" "$j"
		[ "$status" -eq 1 ]
		[ "$stderr" = "ipclab mallocprobe: stdout: write error: No space left on device" ]
	done
	# the run ends at the write that failed: no probe of the next section starts
	for j in "" --json; do
		rm -f "$dir/hold.held"
		run --separate-stderr bash -c 'IPCLAB_TEST_HOLD=$2/hold IPCLAB_TEST_HOLD_KIND=tcache LD_PRELOAD=$3 \
			"$0" mallocprobe -S ladder,bits $1 >/dev/full' "$IPCLAB_BIN" "$j" "$dir" "$PRELOAD"
		[ "$status" -eq 1 ]
		[ ! -e "$dir/hold.held" ]
	done
	run --separate-stderr bash -c 'set -o pipefail; "$0" mallocprobe | head -1' "$IPCLAB_BIN"
	[ "$status" -eq 0 ]
	[ "$output" = "Allocation ladder (one process, doubling requests)" ]
	[ "$stderr" = "" ]
}

# interrupt ARGS...: runs mallocprobe ARGS with its first probe child held
# until SIGINT has reached the parent; sets status, out and err.
interrupt() {
	touch "$dir/hold"
	IPCLAB_TEST_HOLD=$dir/hold LD_PRELOAD=$PRELOAD \
		"$IPCLAB_BIN" mallocprobe "$@" >"$dir/out" 2>"$dir/err" &
	pid=$!
	wait_for 20 test -e "$dir/hold.held"
	kill -INT $pid
	rm "$dir/hold"
	status=0
	wait $pid || status=$?
	out=$(cat "$dir/out")
	err=$(cat "$dir/err")
}

@test "each section is printed as soon as it is measured, for a person and in JSON" {
	for j in "" --json; do
		rm -f "$dir/hold.held"
		touch "$dir/hold"
		IPCLAB_TEST_HOLD=$dir/hold IPCLAB_TEST_HOLD_KIND=tcache LD_PRELOAD=$PRELOAD \
			"$IPCLAB_BIN" mallocprobe -S ladder,bits $j >"$dir/out" 2>"$dir/err" &
		pid=$!
		wait_for 20 test -e "$dir/hold.held"
		# the bit experiments' first probe is held: the ladder is out already
		early=$(cat "$dir/out")
		rm "$dir/hold"
		status=0
		wait $pid || status=$?
		[ "$status" -eq 0 ]
		if [ -z "$j" ]; then
			[[ "$early" == "Allocation ladder"*"  why: "* ]]
			[[ "$early" != *"Bit experiments"* ]]
		else
			[[ "$early" == *'"rungs": ['*'}'* ]]
			[[ "$early" != *'"bits"'* ]]
			[ "$(jq -c 'keys' "$dir/out")" = '["bits","findings","ladder","run"]' ]
		fi
	done
}

@test "Ctrl+C in the middle: the sections reached, exit 130, never a complete report" {
	interrupt
	[ "$status" -eq 130 ]
	[[ "$out" == "Allocation ladder"* ]]
	[[ "$out" != *"Bit experiments"* ]]
	[[ "$out" != *"Tunables and environment"* ]]
	[ "$err" = "ipclab mallocprobe: interrupted; the report shows what was reached" ]
}

@test "Ctrl+C with --json: one document that says it was interrupted, exit 130" {
	interrupt --json
	[ "$status" -eq 130 ]
	[ "$(jq -s length <<<"$out")" -eq 1 ]
	[ "$(jq -c '[.run.interrupted, (.ladder.rungs | length), .bits, .switch]' <<<"$out")" = "[true,17,null,null]" ]
}

@test "every man page example runs and exits 0; a JSON one prints one document" {
	mkdir "$dir/bin"
	ln -s "$IPCLAB_BIN" "$dir/bin/ipclab"
	mapfile -t examples < <(sed -n 's/^\.Dl \$ //p' "$IPCLAB_SRC/man/ipclab-mallocprobe.1")
	[ "${#examples[@]}" -eq 9 ]
	for e in "${examples[@]}"; do
		run --separate-stderr env PATH="$dir/bin:$PATH" bash -c "$e"
		[ "$status" -eq 0 ] || { echo "$e: status $status: $stderr"; false; }
		[ -z "$stderr" ] || { echo "$e: $stderr"; false; }
		if [[ "$e" == *--json* ]]; then
			[ "$(jq -s length <<<"$output")" -eq 1 ]
			[ "$(jq -r .run.interrupted <<<"$output")" = false ]
		else
			[[ "$output" == *"  why: "* ]]
		fi
	done
}

@test "every --json output is exactly one document, whatever the sections" {
	for s in ladder bits switch kernel dynamic tunables ladder,tunables; do
		run --separate-stderr ipclab mallocprobe -J -S $s
		[ "$status" -eq 0 ]
		[ "$(jq -s length <<<"$output")" -eq 1 ] || { echo "-S $s: not one document"; false; }
		[ "$(jq -r .run.interrupted <<<"$output")" = false ]
	done
	run --separate-stderr ipclab mallocprobe -j --size 100
	[ "$(jq -s length <<<"$output")" -eq 1 ]
}
