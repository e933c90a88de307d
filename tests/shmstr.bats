#!/usr/bin/env bats
# ipclab shmstr: a parent hands a string to its child through a mapped file.

load common

setup() {
	dir=$(scratch)
	f=$dir/str.dat
}

teardown() {
	mountpoint -q "$dir/mnt" 2>/dev/null && umount "$dir/mnt"
	rm -f /dev/shm/ipclab-test-$$
	true
}

bytes() { od -An -tx1 -v "$1" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

@test "the child prints the string the parent wrote, and the file holds length and bytes" {
	run --separate-stderr ipclab shmstr "$f" hello
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[ "$(bytes "$f")" = "05 68 65 6c 6c 6f" ]
	[ "$(stat -c %a "$f")" = 600 ]
}

@test "a private parent mapping never reaches the file: the child reads length 0" {
	run --separate-stderr ipclab shmstr --parent private "$f" hello
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$(bytes "$f")" = "00 00 00 00 00 00" ]
	[[ "$stderr" == *"never reached the file"* ]]
}

@test "a private child mapping still reads what the shared parent stored" {
	run --separate-stderr ipclab shmstr --child private "$f" hello
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[[ "$stderr" == *"copies a page only when its owner writes"* ]]
}

@test "every combination of mappings gives what the kernel says it should" {
	for p in shared private; do
		for c in shared private; do
			rm -f "$f"
			run ipclab shmstr --json --parent $p --child $c "$f" abc
			[ "$status" -eq 0 ]
			want=3
			[ $p = private ] && want=0
			[ "$(jq .handover.read_length <<<"$output")" -eq $want ]
			# the file itself, read by od, agrees with what the child saw
			[ "$(bytes "$f" | cut -c1-2)" = "0$want" ]
		done
	done
}

# findings MODE...: the texts of the run's findings, one a line (JSON).
findings() {
	rm -f "$f"
	ipclab shmstr --json "$@" "$f" abc | jq -r '.findings[].text'
}

@test "each why: finding appears in the run it explains, and in no other" {
	local shared="MAP_SHARED stores went into the file's pages" cow="copies a page only when its owner writes"
	local lost="never reached the file" odd="something other than what the parent stored"
	local silent="never answered" sig="SIGUSR1 was blocked before the fork"
	out=$(findings --parent shared --child shared)
	[[ $out == *"$shared"* && $out != *"$cow"* && $out != *"$lost"* && $out != *"$sig"* ]]
	[ "$(wc -l <<<"$out")" -eq 1 ]
	out=$(findings --parent shared --child private)
	[[ $out == *"$cow"* && $out != *"$shared"* && $out != *"$lost"* ]]
	for c in shared private; do
		out=$(findings --parent private --child $c)
		[[ $out == *"$lost"* && $out != *"$shared"* && $out != *"$cow"* ]]
	done
	out=$(findings --notify signal)
	[[ $out == *"$shared"* && $out == *"$sig"* ]]
	[ "$(wc -l <<<"$out")" -eq 2 ]
	for m in "" "--notify signal" "--child private" "--parent private"; do
		# shellcheck disable=SC2086
		out=$(findings $m)
		[[ $out != *"$odd"* && $out != *"$silent"* ]]
	done
	# the person's report says the same on stderr
	run --separate-stderr ipclab shmstr "$f" abc
	[[ $stderr == *"why: The parent's MAP_SHARED stores went into the file's"* ]]
}

@test "signal notification is never lost: 500 runs in a row all deliver" {
	for i in $(seq 500); do
		out=$(ipclab shmstr --quiet --notify signal "$f" "run$i")
		[ "$out" = "run$i" ] || { echo "run $i printed '$out'"; false; }
	done
}

@test "repeat measures notification latency and every cycle reads the latest write" {
	for mode in pipe signal; do
		run ipclab shmstr --json --notify $mode --repeat 2000 "$f" abcdefg
		[ "$status" -eq 0 ]
		[ "$(jq '.latency.summary[0].cycles' <<<"$output")" -eq 2000 ]
		[ "$(jq '.latency.summary[0].correct' <<<"$output")" -eq 2000 ]
		jq -e '.latency.summary[0] | .median_us > 0 and .p99_us >= .median_us and
		       .min_us <= .median_us and .max_us >= .p99_us' <<<"$output"
	done
	[ "$(ipclab shmstr --read "$f")" = abcdefg ]
}

@test "the child maps the file only after the parent's notification (strace)" {
	command -v strace >/dev/null || skip "strace is not installed"
	[ "$IPCLAB_SANITIZE" = 1 ] && skip "ASan's own mappings make the trace unreadable"
	strace -f -qq -o "$dir/trace" -e trace=mmap,write,kill \
		"$IPCLAB_BIN" shmstr --quiet --notify pipe "$f" hello >/dev/null
	notify=$(grep -n 'write([0-9]*, "x", 1)' "$dir/trace" | cut -d: -f1)
	childmap=$(grep -n 'mmap(NULL, 6, PROT_READ, MAP_SHARED' "$dir/trace" | cut -d: -f1)
	[ -n "$notify" ]
	[ -n "$childmap" ]
	[ "$notify" -lt "$childmap" ]
}

@test "verbose shows each step in the exercise's order" {
	run --separate-stderr ipclab shmstr --verbose --notify signal "$f" hi
	[ "$status" -eq 0 ]
	order=$(grep -oE '^(parent|child) [0-9]+: (open|fork|mmap|stored|kill|sigwaitinfo|waitpid)' <<<"$stderr" |
		awk '{print $1, $3}' | tr '\n' ',')
	[ "$order" = "parent open,parent fork,parent mmap,parent stored,parent kill,child sigwaitinfo,child mmap,parent waitpid," ]
}

@test "--json prints one JSON document and nothing else on stdout" {
	run --separate-stderr ipclab shmstr --json "$f" hello
	[ "$status" -eq 0 ]
	jq -e '.handover | .file and .length == 5 and .read == "hello" and .match == true' <<<"$output"
	[ "$(jq -s length <<<"$output")" -eq 1 ]
}

@test "a string over 255 bytes is refused and no file is created" {
	run ipclab shmstr "$f" "$(head -c 256 /dev/zero | tr '\0' a)"
	[ "$status" -eq 2 ]
	[[ "$output" == *"at most 255 fit"* ]]
	[ ! -e "$f" ]
	run ipclab shmstr "$f" "$(head -c 255 /dev/zero | tr '\0' a)"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$f")" -eq 256 ]
	# the file afterwards, all 256 bytes: its length byte 0xff is not UTF-8
	run --separate-stderr ipclab shmstr --json "$f" "$(head -c 255 /dev/zero | tr '\0' a)"
	[ "$status" -eq 0 ]
	jq -e '.handover | .file_after == null and (.file_after_hex | length == 512) and
	       (.file_after_hex | startswith("ff6161")) and (.string | length == 255)' <<<"$output"
}

@test "an empty string is refused with the reason" {
	run ipclab shmstr "$f" ""
	[ "$status" -eq 2 ]
	[[ "$output" == *"empty"* ]]
	[ ! -e "$f" ]
}

@test "an existing file that is not a shmstr file is left untouched" {
	printf 'precious data\n' >"$f"
	before=$(sha256sum "$f")
	run ipclab shmstr "$f" hello
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab shmstr: $f: exists and shmstr did not make it (it has no user.ipclab.shmstr attribute); not replaced without --force" ]
	[ "$(sha256sum "$f")" = "$before" ]
	run ipclab shmstr --force "$f" hello
	[ "$status" -eq 0 ]
	[ "$(bytes "$f")" = "05 68 65 6c 6c 6f" ]
}

@test "a symlink is not followed, even with --force" {
	printf 'target\n' >"$dir/target"
	ln -s "$dir/target" "$f"
	run ipclab shmstr --force "$f" hello
	[ "$status" -eq 1 ]
	[[ "$output" == *"symbolic link"* ]]
	[ "$(cat "$dir/target")" = target ]
	run ipclab shmstr --read "$f"
	[ "$status" -eq 1 ]
}

@test "--json has the common skeleton, and its findings are the report's why: lines" {
	for args in "" "--parent private" "--child private --notify signal" "--repeat 5"; do
		rm -f "$f"
		run --separate-stderr env COLUMNS=1000 "$IPCLAB_BIN" shmstr $args "$f" hello
		want=$(sed -n 's/^  why: //p' <<<"$stderr")
		[ -n "$want" ]
		rm -f "$f"
		run --separate-stderr ipclab shmstr --json $args "$f" hello
		[ "$(jq -r '.findings[] | select(.section == "handover") | .text' <<<"$output")" = "$want" ]
		jq -e '.findings | length > 0 and all(keys == ["section", "text"])' <<<"$output"
		jq -e '[paths | .[] | strings] | all(test("^[a-z][a-z0-9_]*$"))' <<<"$output"
		jq -e 'keys == ["findings", "handover", "latency", "run"]' <<<"$output"
		jq -e '[.handover.size, .handover.read_length, .handover.roles[0].pid, .run.repeat,
			.latency.summary[0].cycles, .latency.summary[0].median_us] |
		       all(type == "number")' <<<"$output"
		jq -e '.handover.match == true and .run.interrupted == false' <<<"$output" ||
			[ "$args" = "--parent private" ]
	done
}

@test "bytes that are not UTF-8 are handed over byte for byte" {
	run --separate-stderr ipclab shmstr --quiet "$f" "$(printf 'a\377b')"
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | od -An -tx1 | tr -d ' ')" = 61ff62 ]
	run --separate-stderr ipclab shmstr --json "$f" "$(printf 'a\377b')"
	jq -e '.handover | .read == null and .read_hex == "61ff62"' <<<"$output"
}

@test "a full disk fails cleanly and leaves no file behind" {
	mkdir "$dir/mnt"
	mount -t tmpfs -o size=8k tmpfs "$dir/mnt" 2>/dev/null || skip "cannot mount a tmpfs here"
	head -c 8192 /dev/zero >"$dir/mnt/filler" 2>/dev/null || true
	run ipclab shmstr "$dir/mnt/str.dat" hello
	[ "$status" -eq 1 ]
	[[ "$output" == *"str.dat: posix_fallocate: No space left on device"* ]]
	[ ! -e "$dir/mnt/str.dat" ]
}

@test "an unwritable directory gives a one-line error naming the call" {
	mkdir "$dir/mnt"
	mount -t tmpfs -o ro tmpfs "$dir/mnt" 2>/dev/null || skip "cannot mount a tmpfs here"
	run ipclab shmstr "$dir/mnt/str.dat" hello
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab shmstr: $dir/mnt/str.dat: open: Read-only file system" ]
}

@test "--shm hands the string over through a POSIX shared memory object" {
	name=ipclab-test-$$
	run --separate-stderr ipclab shmstr --shm $name hello
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[ "$(bytes /dev/shm/$name)" = "05 68 65 6c 6c 6f" ]
	[ "$(ipclab shmstr --read --shm $name)" = hello ]
	ipclab shmstr --quiet --unlink --shm $name bye
	[ ! -e /dev/shm/$name ]
}

@test "--read refuses a file that is not a shmstr file" {
	printf 'xyz' >"$f"
	run ipclab shmstr --read "$f"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not a shmstr file: 3 bytes"* ]]
}

@test "Ctrl+C stops the run, reports what was reached and removes the file" {
	"$IPCLAB_BIN" shmstr --repeat 1e8 "$f" hello >"$dir/out" 2>"$dir/err" &
	pid=$!
	wait_for 10 grep -q . "$dir/out"
	kill -INT $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 130 ]
	[[ "$(cat "$dir/err")" == *"interrupted after"* ]]
	[ ! -e "$f" ]
	# no participant left behind ([s] keeps pgrep from matching itself)
	wait_for 5 bash -c "! pgrep -f '[s]hmstr --repeat 1e8 $f' >/dev/null"
}

@test "bad options and arguments get one line and exit 2" {
	run ipclab shmstr --bogus "$f" x
	[ "$status" -eq 2 ]
	[[ "${lines[1]}" == "Try 'ipclab shmstr --help' for more information." ]]
	run ipclab shmstr --notify smoke "$f" x
	[ "$status" -eq 2 ]
	run ipclab shmstr --parent public "$f" x
	[ "$status" -eq 2 ]
	run ipclab shmstr --repeat 0 "$f" x
	[ "$status" -eq 2 ]
	run ipclab shmstr "$f"
	[ "$status" -eq 2 ]
	[ ! -e "$f" ]
}

# The EXAMPLES of man/ipclab-shmstr.1, in order: ".Dl $ COMMAND" lines.
man_examples() {
	sed -n 's/^\.Dl \$ //p' "$IPCLAB_SRC/man/ipclab-shmstr.1"
}

@test "the man page's examples run as shown, each with its result checked" {
	cd "$dir"
	printf 'my notes\n' >notes.txt
	mkdir bin
	ln -s "$IPCLAB_BIN" bin/ipclab
	want=("ipclab shmstr str.dat hello"
	      "ipclab shmstr --parent private str.dat hello"
	      "ipclab shmstr --notify signal --repeat 1000 str.dat hello"
	      "ipclab shmstr --read str.dat"
	      "ipclab shmstr --json --child private str.dat hello"
	      "ipclab shmstr notes.txt hello"
	      "ipclab shmstr --force notes.txt hello")
	# the page and this test list the same commands, in the same order
	[ "$(man_examples)" = "$(printf '%s\n' "${want[@]}")" ]
	ex() { run --separate-stderr env PATH="$dir/bin:$PATH" bash -c "${want[$1]}"; }
	ex 0
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	ex 1
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[[ "$stderr" == *"child read a length of 0"* ]]
	ex 2
	[ "$status" -eq 0 ]
	grep -Eq '^signal +1000 +1000 ' <<<"$stderr"
	ex 3
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	ex 4
	[ "$status" -eq 0 ]
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq -r .handover.read <<<"$output")" = hello ]
	ex 5
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"notes.txt: exists and shmstr did not make it"*"--force" ]]
	[ "$(cat notes.txt)" = "my notes" ]
	ex 6
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[ "$(bytes notes.txt)" = "05 68 65 6c 6c 6f" ]
}

# maps_perms PID FILE: the permissions of PID's mapping of FILE in
# /proc/PID/maps ("r--s", "rw-p"...), waiting for the mapping to appear.
maps_perms() {
	wait_for 10 grep -q " $2\$" "/proc/$1/maps"
	awk -v f="$2" '$6 == f { print $2; exit }' "/proc/$1/maps"
}

@test "each side maps the file as --parent and --child say, as /proc/PID/maps shows" {
	for p in shared private; do
		for c in shared private; do
			rm -f "$f"
			"$IPCLAB_BIN" shmstr --quiet --parent $p --child $c --repeat 1e8 "$f" abc \
				>/dev/null 2>&1 &
			pid=$!
			wait_for 10 pgrep -P $pid
			child=$(pgrep -P $pid)
			pp=$(maps_perms $pid "$f")
			cp=$(maps_perms "$child" "$f")
			kill -INT $pid
			st=0
			wait $pid || st=$?
			[ "$st" -eq 130 ]
			want_p=rw-s want_c=r--s
			[ $p = private ] && want_p=rw-p
			[ $c = private ] && want_c=r--p
			[ "$pp" = "$want_p" ] || { echo "--parent $p: parent maps $pp"; false; }
			[ "$cp" = "$want_c" ] || { echo "--child $c: child maps $cp"; false; }
			wait_for 5 dead "$child"
		done
	done
}

@test "the child's mapping is the one --child names, as strace sees its mmap" {
	command -v strace >/dev/null || skip "strace is not installed"
	[ "$IPCLAB_SANITIZE" = 1 ] && skip "ASan's own mappings make the trace unreadable"
	for c in shared private; do
		rm -f "$f"
		strace -f -qq -o "$dir/trace" -e trace=mmap \
			"$IPCLAB_BIN" shmstr --quiet --child $c "$f" hello >/dev/null
		want=MAP_SHARED
		[ $c = private ] && want=MAP_PRIVATE
		# the child's read-only mapping of the 6-byte file, and only that one
		run grep -c "mmap(NULL, 6, PROT_READ, $want, " "$dir/trace"
		[ "$output" -eq 1 ]
	done
}

@test "--repeat counts only the cycles whose read matched the write" {
	# a private parent never reaches the file: every cycle reads zeros
	run --separate-stderr ipclab shmstr --json --parent private --repeat 50 "$f" abcdefg
	[ "$status" -eq 0 ]
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq -c '[.latency.summary[0] | .cycles, .correct] + [.handover.match]' <<<"$output")" = "[50,0,false]" ]
	[ "$(bytes "$f")" = "00 00 00 00 00 00 00 00" ]
	run --separate-stderr ipclab shmstr --json --repeat 50 "$f" abcdefg
	[ "$(jq -c '[.latency.summary[0] | .cycles, .correct] + [.handover.match]' <<<"$output")" = "[50,50,true]" ]
}

@test "every key ipclab-shmstr(1) documents has its type, and the value the file and the kernel give" {
	local j=$dir/run.json hex
	ipclab shmstr --json --repeat 5 "$f" hello >"$j"
	hex=$(od -An -tx1 -v "$f" | tr -d ' \n')
	# the handover, against the file itself (od, stat) and the kernel's pids
	jq -e --arg f "$f" --arg hex "$hex" --argjson size "$(stat -c %s "$f")" '.handover |
		.file == $f and .size == $size and .length == 5 and .string == "hello" and
		.string_hex == "68656c6c6f" and .notify == "pipe" and .child_status == "exited 0" and
		.read_length == 5 and .read == "hello" and .read_hex == "68656c6c6f" and
		.file_after == "\u0005hello" and .file_after_hex == $hex and .match == true and
		(.roles | length == 2 and .[0].role == "parent" and .[1].role == "child" and
		 all(.[]; (.pid | type == "number" and . > 0) and .mapping == "MAP_SHARED" and
		     (.saw | type == "string")) and .[0].pid != .[1].pid)' "$j"
	jq -e '.latency.summary | length == 1 and (.[0] | .notify == "pipe" and .cycles == 5 and
		.correct == 5 and ([.min_us, .median_us, .p99_us, .max_us] |
		all(type == "number") and .[0] <= .[1] and .[1] <= .[2] and .[2] <= .[3]))' "$j"
	jq -e '.run == {"repeat": 5, "interrupted": false}' "$j"
	jq -e '.findings | length >= 1 and all(.[]; .section == "handover" and (.text | type == "string"))' "$j"
	# a private parent: nothing reached the file, so the child read 0 and it is no match
	rm -f "$f"
	ipclab shmstr --json --parent private "$f" hello >"$j"
	jq -e '.handover | .read_length == 0 and .read == "" and .match == false and
		.file_after_hex == "000000000000" and .roles[0].mapping == "MAP_PRIVATE"' "$j"
	# --read: the file's own length and string
	ipclab shmstr "$f" abc >/dev/null 2>&1
	ipclab shmstr --read --json "$f" >"$j"
	jq -e --arg f "$f" '.read == {"file": $f, "length": 3, "string": "abc", "string_hex": "616263"} and
		.findings == []' "$j"
}
