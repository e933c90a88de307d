#!/usr/bin/env bats
# ipclab race under hostile input: stopped peers, held locks, odd files,
# bad operands.  Each case checks the status, the one-line message, that
# nothing changed (cmp, stat) and that no process is left.

load common

setup() {
	dir=$(scratch)
	export TMPDIR=$dir
	bg=()
}

teardown() {
	local p
	for p in "${bg[@]}"; do
		pkill -9 -P "$p" 2>/dev/null || true
		kill -CONT "$p" 2>/dev/null || true
		kill -9 "$p" 2>/dev/null || true
	done
	for p in "${bg[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}

race_bg() { "$IPCLAB_BIN" race "$@" 3>&- & bg+=($!); }

has_children() { [ "$(pgrep -P "$1" | wc -l)" -eq "$2" ]; }

racing() {
	local t
	t=$(od -An -t d8 -j 4104 -N 8 "$1" 2>/dev/null | tr -d ' ')
	[ -n "$t" ] && [ "$t" -gt 0 ]
}

# ready FILE N: N participants of the race at FILE have arrived (header byte 60)
ready() { [ "$(od -An -t u4 -j 60 -N 4 "$1" 2>/dev/null | tr -d ' ')" = "$2" ]; }

# poke FILE OFFSET HEX: writes the bytes HEX (little-endian u32) at OFFSET
poke() {
	printf "$(printf '%08x' "$3" | sed 's/\(..\)\(..\)\(..\)\(..\)/\\x\4\\x\3\\x\2\\x\1/')" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

@test "a participant stopped with SIGSTOP does not make --time 2 run forever" {
	local f=$dir/course
	race_bg 2 --sync mutex --time 2 --file "$f" --json >"$dir/out.json" 2>"$dir/err"
	local p=${bg[0]}
	wait_for 10 has_children "$p" 2
	wait_for 10 racing "$f"
	kids=($(pgrep -P "$p"))
	kill -STOP "${kids[0]}"
	wait_for 15 dead "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 1 ]
	[ "$(jq -r .stopped "$dir/out.json")" = \
		"participant ${kids[0]} did not end with the race (it was stopped, state T; killed it)" ]
	[ "$(jq .completed "$dir/out.json")" = false ]
	for k in "${kids[@]}"; do [ ! -e "/proc/$k" ]; done
	[ ! -e "$f" ]
}

@test "SIGINT ends a race whose participant is stopped, within a second or two" {
	local f=$dir/course
	setsid "$IPCLAB_BIN" race 2 --sync sem --target 1e15 --file "$f" >"$dir/out" 2>&1 3>&- &
	local p=$!
	bg+=("$p")
	wait_for 10 has_children "$p" 2
	wait_for 10 racing "$f"
	kids=($(pgrep -P "$p"))
	kill -STOP "${kids[0]}"
	kill -INT "$p"
	wait_for 5 dead "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 130 ]
	grep -q "STOPPED  interrupted by SIGINT" "$dir/out"
	for k in "${kids[@]}"; do [ ! -e "/proc/$k" ]; done
	[ ! -e "$f" ]
}

@test "--join: a peer stopped with SIGSTOP does not keep the other waiting" {
	local f=$dir/course
	race_bg --join 2 --sync mutex --time 2 --file "$f" --json >"$dir/a.json" 2>/dev/null
	wait_for 10 test -e "$f"
	race_bg --join 2 --sync mutex --time 2 --file "$f" --json >"$dir/b.json" 2>/dev/null
	wait_for 10 racing "$f"
	kill -STOP "${bg[1]}"
	wait_for 15 dead "${bg[0]}"
	st=0
	wait "${bg[0]}" || st=$?
	[ "$st" -eq 1 ]
	[ "$(jq -r .stopped "$dir/a.json")" = \
		"participant ${bg[1]} did not end with the race (it is stopped, state T; not waiting for it)" ]
	# a stopped peer is not ours to kill: it is still there, stopped
	[ "$(awk '{print $3}' "/proc/${bg[1]}/stat")" = T ]
}

@test "a stale race file whose flock another process holds: refused within seconds, holder named" {
	command -v flock >/dev/null || skip "flock(1) is not installed"
	local f=$dir/course
	race_bg --join 2 --file "$f" --timeout 30 2>/dev/null
	wait_for 10 test -e "$f"
	kill -9 "${bg[0]}"
	wait_for 5 dead "${bg[0]}"
	cp "$f" "$dir/copy"
	before=$(stat -c '%i %s %Y' "$f")
	flock -x "$f" sleep 60 3>&- &
	local holder=$!
	bg+=("$holder")
	wait_for 10 grep -q "FLOCK .* $holder .*:$(stat -c %i "$f") " /proc/locks
	SECONDS=0
	run ipclab race 2 --file "$f" --sync atomic --target 1e6
	(( SECONDS < 10 ))
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab race: $f: a stale race file, but pid $holder holds a flock on it; leaving it alone (gave up after 1 s)" ]
	cmp "$f" "$dir/copy"
	[ "$(stat -c '%i %s %Y' "$f")" = "$before" ]
}

@test "--join on a waiting race whose mutex is held: refused at once, the holder named" {
	local f=$dir/course
	race_bg --join 2 --sync mutex --file "$f" --timeout 30 2>/dev/null
	wait_for 10 ready "$f" 1
	sleep 60 3>&- &
	local holder=$!
	bg+=("$holder")
	# the robust mutex's futex word (byte 104) holds its owner's thread id
	poke "$f" 104 "$holder"
	cp "$f" "$dir/copy"
	SECONDS=0
	run ipclab race --join 2 --sync mutex --file "$f"
	(( SECONDS < 10 ))
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab race: $f: the race's mutex is held by pid $holder before the start; not joining a race that would wait on it" ]
	cmp "$f" "$dir/copy"
	ready "$f" 1
}

@test "--join on a waiting race whose semaphore is 0: refused at once, the value named" {
	local f=$dir/course
	race_bg --join 2 --sync sem --file "$f" --timeout 30 2>/dev/null
	wait_for 10 ready "$f" 1
	# the semaphore (byte 144): its value in the low 32 bits
	poke "$f" 144 0
	cp "$f" "$dir/copy"
	SECONDS=0
	run ipclab race --join 2 --sync sem --file "$f"
	(( SECONDS < 10 ))
	[ "$status" -eq 1 ]
	[[ "$output" == "ipclab race: $f: the race's semaphore is 0 before the start (a race waiting to start has 1); not joining"* ]]
	cmp "$f" "$dir/copy"
	ready "$f" 1
}

@test "--force does not replace a FIFO or a device node, nor another user's file" {
	local f
	mkfifo "$dir/fifo"
	if [ "$(id -u)" -eq 0 ]; then
		mknod "$dir/zero" c 1 5
		printf 'theirs\n' >"$dir/theirs"
		chown nobody "$dir/theirs"
	fi
	for f in "$dir/fifo" "$dir/zero" "$dir/theirs"; do
		[ -e "$f" ] || continue
		before=$(stat -c '%i %F %U %s %Y' "$f")
		SECONDS=0
		run ipclab race 2 --file "$f" --force --sync atomic --target 1e6
		(( SECONDS < 10 ))
		[ "$status" -eq 1 ]
		[[ "$output" == "ipclab race: $f: not replacing it even with --force: "* ]]
		[ "$(stat -c '%i %F %U %s %Y' "$f")" = "$before" ]
	done
	run ipclab race 2 --file "$dir/fifo" --force
	[[ "$output" == *"it is a FIFO, and only regular files are replaced" ]]
	if [ -e "$dir/theirs" ]; then
		run ipclab race 2 --file "$dir/theirs" --force
		[[ "$output" == *"it belongs to user nobody" ]]
		[ "$(cat "$dir/theirs")" = theirs ]
	fi
}

@test "--force replaces a regular file of the caller's that is not a race file" {
	printf 'mine\n' >"$dir/mine"
	run ipclab race 2 --file "$dir/mine" --force --sync atomic --target 1e5 --json
	[ "$status" -eq 0 ]
	[[ "$output" == *"replaced a file that was not a race file (--force)"* ]]
	[ ! -e "$dir/mine" ]
}

@test "a --file longer than PATH_MAX is refused with 2, never cut, and nothing is made" {
	local long
	long=$dir/$(printf 'd/%.0s' $(seq 2100))x
	run ipclab race 2 --file "$long" --force
	[ "$status" -eq 2 ]
	[[ "$output" == "ipclab race: --file '"*"..."*"': the path is longer than PATH_MAX (4096 bytes) allows"* ]]
	# a name that fits PATH_MAX but not with its temporary suffix
	long=$dir/$(printf '%0*d' $((4085 - ${#dir})) 0 | sed 's/\(.\{199\}\)./\1\//g')
	(( ${#long} < 4096 ))
	run ipclab race 2 --file "$long" --force
	[ "$status" -eq 2 ]
	[[ "$output" == *"the path is too long for the race file and its temporary name"* ]]
	[ -z "$(ls -A "$dir")" ]
}

@test "bad --time and --file operands: the right reason and exit 2" {
	run ipclab race 2 --time abc
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ipclab race: --time 'abc': not a number of seconds from 0.001 to 1e6 (invalid)" ]
	run ipclab race 2 --time 1e99
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ipclab race: --time '1e99': not a number of seconds from 0.001 to 1e6 (too large)" ]
	run ipclab race 2 --time 0
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"(too small)" ]]
	run ipclab race 2 --file ''
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ipclab race: --file '': the path is empty" ]
	[ -z "$(ls -A "$dir")" ]
}

@test "a --join mismatch names the setting that differs, never an internal number" {
	local f=$dir/course
	race_bg --join 2 --sync mutex --time 2 --file "$f" --timeout 30 2>/dev/null
	wait_for 10 ready "$f" 1
	cp "$f" "$dir/copy"
	run ipclab race --join 2 --sync atomic --time 2 --file "$f"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the race waiting there is --sync mutex --layout packed, not --sync atomic --layout packed; run the same command as its creator (pid ${bg[0]})" ]]
	run ipclab race --join 2 --sync mutex --target 1e6 --file "$f"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the race waiting there has no --target (--time 2), not --target 1000000;"* ]]
	run ipclab race --join 3 --sync mutex --time 2 --file "$f"
	[[ "$output" == *"is for 2 participants, not 3;"* ]]
	run ipclab race --join 2 --sync mutex --time 3 --file "$f"
	[[ "$output" == *"has --time 2, not 3;"* ]]
	[[ "$output" != *9223372036854775807* ]]
	cmp "$f" "$dir/copy"
}

@test "a report that cannot be written fails with 1; a closed pipe ends quietly; no file is left" {
	local a
	for a in "1,2 --time 0.1" "1,2 --time 0.1 --json" "2 --sync atomic --time 0.1" \
		 "2 --sync atomic --time 0.1 --json"; do
		run bash -c "'$IPCLAB_BIN' race $a >/dev/full"
		[ "$status" -eq 1 ]
		[ "$output" = "ipclab race: stdout: write error: No space left on device" ]
		run bash -c "'$IPCLAB_BIN' race $a | true; echo \${PIPESTATUS[0]}"
		[ "$output" = 0 ]
	done
	[ -z "$(ls -A "$dir")" ]
}
