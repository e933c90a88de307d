#!/usr/bin/env bats
# ipclab libwatch: checked against /proc/PID/maps, mem and pagemap read by
# the test itself, nm(1) for the symbols' offsets, and strace(1) for the
# loader's calls.

load common

setup() {
	TMP=$(scratch)
	LW_LIB=$(find "$IPCLAB_BUILD" -path '*/ipclab/libipclab_foobar.so' -not -path '*/CMakeFiles/*' | head -n 1)
	LW_DIR=$(dirname "$LW_LIB")
	BG=()
}

# Ends what a test started, even when it failed: a hung ipclab or a stopped
# role is killed rather than waited for.
teardown() {
	local p c kids
	for p in "${BG[@]}"; do
		kids=$(pgrep -P "$p" 2>/dev/null || true)
		kill "$p" 2>/dev/null || true
		wait_for 5 dead "$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		for c in $kids; do kill -KILL "$c" 2>/dev/null || true; done
	done
	rm -rf "$TMP"
}

# lw_start ARGS: runs ipclab libwatch ARGS in the background, stdout in
# $TMP/out; sets IP.
lw_start() {
	"$IPCLAB_BIN" libwatch "$@" >"$TMP/out" 2>"$TMP/err" &
	IP=$!
	BG+=("$IP")
}

# roles_ready: true once both children of $IP run a role, untraced, with the
# library mapped; then copies their maps to $TMP/maps.PID.
roles_ready() {
	local p n=0
	for p in $(pgrep -P "$IP"); do
		[[ $(readlink "/proc/$p/exe" 2>/dev/null) == */libwatch-* ]] || return 1
		grep -q '^TracerPid:[[:space:]]*0$' "/proc/$p/status" 2>/dev/null || return 1
		grep -q libipclab_foobar.so "/proc/$p/maps" 2>/dev/null || return 1
		n=$((n + 1))
	done
	[ "$n" -eq 2 ] || return 1
	for p in $(pgrep -P "$IP"); do cp "/proc/$p/maps" "$TMP/maps.$p"; done
}

# base MAPSFILE NAME: the start of NAME's mapping at file offset 0.
base() { awk -v f="$2" '$6 ~ f"$" && $3 == "00000000" { split($1, a, "-"); print a[1]; exit }' "$1"; }

# nmval FILE SYMBOL: the symbol's value as nm -D shows it, when defined.
nmval() { nm -D --defined-only "$1" | awk -v s="$2" '$3 == s { print $1 }'; }

# line_of MAPSFILE ADDR: the maps line whose range holds ADDR (hex).
line_of() {
	local lo hi a=$((16#${2#0x})) r
	while read -r r rest; do
		lo=$((16#${r%-*})); hi=$((16#${r#*-}))
		if (( a >= lo && a < hi )); then echo "$r $rest"; return 0; fi
	done <"$1"
	return 1
}

# mem PID ADDR: the int at ADDR (hex) in PID, read from /proc/PID/mem.
mem() { dd if="/proc/$1/mem" bs=4 count=1 iflag=skip_bytes skip=$((16#${2#0x})) 2>/dev/null | od -An -td4 | tr -d ' '; }

# frame PID ADDR: the physical frame of ADDR's page, from /proc/PID/pagemap.
frame() {
	local e
	e=$(dd if="/proc/$1/pagemap" bs=8 count=1 iflag=skip_bytes skip=$(( (16#${2#0x} / 4096) * 8 )) 2>/dev/null | od -An -tx8 | tr -d ' ')
	printf '%x\n' $(( 16#$e & 0x7fffffffffffff ))
}

# role_pid NAME: the child of $IP that runs role NAME (foo, bar).
role_pid() {
	local p
	for p in $(pgrep -P "$IP"); do
		[[ $(readlink "/proc/$p/exe") == */libwatch-$1* ]] && echo "$p"
	done
	return 0
}

# sym_addr ROLE SYMBOL: the symbol's address in ROLE, from the JSON in $TMP/out.
sym_addr() {
	jq -r --arg r "$1" --arg s "$2" '.addresses.symbols[] | select(.role == $r and .symbol == $s) | .address' "$TMP/out"
}

hex_add() { printf '%x' $(( 16#${1#0x} + 16#${2#0x} )); }

@test "setbaz, getbaz and baz lie where /proc/PID/maps and nm say, baz in foo's executable (copy relocation)" {
	lw_start -d 2 --json
	wait_for 30 roles_ready
	wait "$IP"
	[ "$(jq -s length "$TMP/out")" -eq 1 ]
	for role in foo bar; do
		pid=$(jq -r ".roles.roles[] | select(.role == \"$role\") | .pid" "$TMP/out")
		prog=$(jq -r ".roles.roles[] | select(.role == \"$role\") | .program" "$TMP/out")
		m="$TMP/maps.$pid"
		lib=$(base "$m" libipclab_foobar.so)
		for sym in setbaz getbaz; do
			got=$(sym_addr "$role" "$sym")
			[ "${got#0x}" = "$(hex_add "$lib" "$(nmval "$LW_LIB" "$sym")")" ]
			line_of "$m" "$got" | grep -q ' r-xp .*libipclab_foobar.so$'
		done
		baz=$(sym_addr "$role" baz)
		line_of "$m" "$baz" | grep -q ' rw-p '
		if [ "$role" = foo ]; then	# the default build: foo an ordinary PIE
			[ "${baz#0x}" = "$(hex_add "$(base "$m" "$(basename "$prog")")" "$(nmval "$prog" baz)")" ]
			line_of "$m" "$baz" | grep -vq libipclab_foobar.so
			[ "$(jq -r '.addresses.symbols[] | select(.role == "foo" and .symbol == "baz") | .in' "$TMP/out")" = executable ]
		else			# bar built with -fPIC
			[ "${baz#0x}" = "$(hex_add "$lib" "$(nmval "$LW_LIB" baz)")" ]
			line_of "$m" "$baz" | grep -q 'libipclab_foobar.so$'
		fi
	done
}

# strace_calls PROG ARGS: the library's load-time mmap and mprotect calls as
# strace shows them, one "call length prot flags offset" line each.
strace_calls() {
	local line fd='' lo=0 hi=0 a args addr len
	strace -o "$TMP/strace" -e trace=openat,mmap,mprotect "$@" 3>/dev/null 4</dev/null
	while read -r line; do
		if [[ $line == openat\(*libipclab_foobar.so*\)\ =\ [0-9]* ]]; then
			fd=${line##* }
			continue
		fi
		[[ $line == openat\(*\)\ =\ "$fd" ]] && fd=done
		[[ $line == mmap\(* || $line == mprotect\(* ]] || continue
		args=${line#*(}; args=${args%%) =*}
		IFS=',' read -r -a a <<<"${args// /}"
		addr=${a[0]}; [ "$addr" = NULL ] && addr=${line##* }
		if [[ $line == mmap* && ${a[4]} == "$fd" ]]; then
			(( lo == 0 )) && { lo=$((addr)); hi=$((lo + a[1])); }
			echo "mmap ${a[1]} ${a[2]} ${a[3]} $((a[5]))"
		elif (( lo && addr >= lo && addr < hi )); then
			if [[ $line == mmap* ]]; then
				echo "mmap ${a[1]} ${a[2]} ${a[3]} $((a[5]))"
			else
				echo "mprotect ${a[1]} ${a[2]}"
			fi
		fi
	done <"$TMP/strace"
}

ipclab_calls() {
	jq -r --arg r "$1" '
	  def prot: [if .[0:1] == "r" then "PROT_READ" else empty end,
		     if .[1:2] == "w" then "PROT_WRITE" else empty end,
		     if .[2:3] == "x" then "PROT_EXEC" else empty end] |
		    if length == 0 then "PROT_NONE" else join("|") end;
	  .load_calls.calls[] | select(.role == $r) |
	  if .call == "mmap" then
		"mmap \(.length) \(.prot | prot) \(.flags | split("|") | map("MAP_" + .) | join("|")) \(.offset)"
	  else "mprotect \(.length) \(.prot | prot)" end' "$TMP/out"
}

@test "the library's mmap and mprotect calls at start-up are the ones strace sees" {
	ipclab libwatch -d 0 --json >"$TMP/out"
	for role in foo bar; do
		prog=$(jq -r ".roles.roles[] | select(.role == \"$role\") | .program" "$TMP/out")
		strace_calls "$prog" 3 4 >"$TMP/want"
		ipclab_calls "$role" >"$TMP/got"
		[ -s "$TMP/want" ]
		diff "$TMP/want" "$TMP/got"
		[ "$(grep -c '^mmap .* MAP_PRIVATE|MAP_DENYWRITE ' "$TMP/got")" -eq 1 ]
		[ "$(grep -c '^mmap .*MAP_FIXED' "$TMP/got")" -ge 3 ]
	done
}

@test "--dlopen: dlsym finds baz in the library, and dlopen's mmap calls are the ones strace sees" {
	ipclab libwatch --dlopen -d 0 --json >"$TMP/out"
	[ "$(jq -r '[.addresses.symbols[] | select(.symbol == "baz") | .in] | unique | join(",")' "$TMP/out")" = library ]
	prog=$(jq -r '.roles.roles[0].program' "$TMP/out")
	[[ $prog == */libwatch-foo-dl ]]
	strace_calls "$prog" 3 4 "$LW_LIB" >"$TMP/want"
	ipclab_calls foo >"$TMP/got"
	[ -s "$TMP/want" ]
	diff "$TMP/want" "$TMP/got"
}

@test "foo reads 17 throughout while bar's baz rises, in each process's own memory" {
	lw_start -d 4 -i 0.2 --json
	wait_for 30 roles_ready
	foo=$(role_pid foo) bar=$(role_pid bar)
	fooexe=$(readlink "/proc/$foo/exe")
	fbaz=$(hex_add "$(base "$TMP/maps.$foo" "$(basename "$fooexe")")" "$(nmval "$fooexe" baz)")
	bbaz=$(hex_add "$(base "$TMP/maps.$bar" libipclab_foobar.so)" "$(nmval "$LW_LIB" baz)")
	wait_for 20 test "$(mem "$foo" "$fbaz")" = 17
	wait_for 20 eval '(( $(mem "$bar" "$bbaz") >= 2 ))'
	b1=$(mem "$bar" "$bbaz")
	wait_for 20 eval '(( $(mem "$bar" "$bbaz") > b1 ))'
	[ "$(mem "$foo" "$fbaz")" = 17 ]
	wait "$IP"
	jq -e '[.values.readings[].foo | select(. != 17)] | length == 0' "$TMP/out"
	jq -e '[.values.readings[].bar] as $v | ($v | length) > 3 and
	       ([range(1; $v | length) | select($v[.] <= $v[. - 1])] | length == 0)' "$TMP/out"
}

@test "as root: the code page is one frame in both processes, the data pages are two" {
	[ "$(id -u)" -eq 0 ] || skip "physical frames in /proc/PID/pagemap need root"
	lw_start -d 3 -b pic --json
	wait_for 30 roles_ready
	foo=$(role_pid foo) bar=$(role_pid bar)
	fb=$(base "$TMP/maps.$foo" libipclab_foobar.so)
	bb=$(base "$TMP/maps.$bar" libipclab_foobar.so)
	code=$(grep -m1 ' r-xp .*libipclab_foobar.so$' "$TMP/maps.$foo" | cut -d' ' -f3)
	data=$(nmval "$LW_LIB" foobar_calls)	# the ordinary data page
	fc=$(frame "$foo" "$(hex_add "$fb" "$code")"); bc=$(frame "$bar" "$(hex_add "$bb" "$code")")
	[ "$fc" != 0 ]
	[ "$fc" = "$bc" ]
	wait_for 20 test "$(mem "$bar" "$(hex_add "$bb" "$(nmval "$LW_LIB" baz)")")" -ge 1
	fd=$(frame "$foo" "$(hex_add "$fb" "$data")"); bd=$(frame "$bar" "$(hex_add "$bb" "$data")")
	[ "$fd" != 0 ]
	[ "$bd" != 0 ]
	[ "$fd" != "$bd" ]
	wait "$IP"
	# and what ipclab read itself: the same code frame, baz's page shared
	# until the first write and private after it
	jq -e --arg f "0x$fc" '.frames.frames[] | select(.page == 4096) | .foo_after == $f and .bar_after == $f' "$TMP/out"
	jq -e '(.pages.pages[] | select(.holds | test("baz")) | .page) as $p | .frames.frames[] | select(.page == $p) |
	       .foo_before == .bar_before and .foo_after != .bar_after' "$TMP/out"
}

comm_is() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }

@test "ipclab libwatch libc.so.6 lists the processes that map libc, the test's own among them" {
	sleep 100 &
	BG+=($!)
	wait_for 10 comm_is "$!" sleep
	libc_maps=$(grep -c 'libc\.so\.6$' "/proc/$!/maps")
	run ipclab libwatch libc.so.6
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "libwatch: "*/libc.so.6 ]]
	echo "$output" | grep -Eq "^ *$! +sleep +$libc_maps "
	echo "$output" | grep -Eq '^LOAD 1 .* R E +code$'
	ipclab libwatch --json libc.so.6 >"$TMP/out"
	jq -e --argjson p "$!" --argjson q "$$" \
	   '[.processes.processes[].pid] | index($p) != null and index($q) != null' "$TMP/out"
	jq -e --argjson p "$!" '.processes.processes[] | select(.pid == $p) | .rss > 0 and .shared > 0' "$TMP/out"
}

# lw_group ARGS: runs ipclab libwatch ARGS in the background as the leader of
# its own process group, as a shell with job control does, so that a signal
# can reach the whole group as Ctrl+C on a terminal does; sets IP.
lw_group() {
	setsid "$IPCLAB_BIN" libwatch "$@" >"$TMP/out" 2>"$TMP/err" &
	IP=$!
	BG+=("$IP")
}

# ended_within SECONDS: $IP ends within SECONDS; its status in ST.
ended_within() {
	wait_for "$1" dead "$IP"
	ST=0
	wait "$IP" || ST=$?
}

@test "Ctrl+C on the terminal stops the watch with 130, reports what it saw, and the roles live to their end" {
	lw_group -d 60 -i 0.2 --json
	wait_for 30 roles_ready
	roles=$(pgrep -P "$IP")
	kill -INT -- "-$IP"	# the whole group: ipclab and both roles
	ended_within 5
	[ "$ST" -eq 130 ]
	# a role killed by the signal would be said here
	run cat "$TMP/err"
	[ "$output" = "" ]
	[ "$(jq -s length "$TMP/out")" -eq 1 ]
	[ "$(jq -r .library.interrupted "$TMP/out")" = true ]
	[ "$(jq '.values.readings | length' "$TMP/out")" -ge 1 ]
	[ "$(jq '[.values.readings[] | .foo, .bar | numbers] | length' "$TMP/out")" -eq "$(jq '.values.readings | length * 2' "$TMP/out")" ]
	[ "$(jq '.findings | map(select(.text | test("^Stopped early"))) | length' "$TMP/out")" -eq 1 ]
	for p in $roles; do dead "$p"; done
	[ -z "$(zombies_of "$IP")" ]
}

@test "SIGINT to ipclab alone ends it with 130 and the partial table" {
	lw_start -d 60 -i 0.2
	wait_for 30 roles_ready
	roles=$(pgrep -P "$IP")
	kill -INT "$IP"
	ended_within 5
	[ "$ST" -eq 130 ]
	grep -q '^baz as each process sees it' "$TMP/out"
	why_lines "$TMP/out" | grep -qx 'Stopped early: these are the readings taken before the signal.'
	for p in $roles; do dead "$p"; done
}

@test "SIGTERM ends it like SIGINT, with 128 + 15 and the partial report" {
	lw_start -d 60 -i 0.2
	wait_for 30 roles_ready
	roles=$(pgrep -P "$IP")
	kill -TERM "$IP"
	ended_within 5
	[ "$ST" -eq 143 ]
	why_lines "$TMP/out" | grep -qx 'Stopped early: these are the readings taken before the signal.'
	for p in $roles; do dead "$p"; done
}

@test "a stopped role in the table report: the readings before it, and why they end there" {
	lw_start -d 120 -i 0.2
	wait_for 30 roles_ready
	kill -STOP "$(role_pid foo)"
	ended_within 30
	[ "$ST" -eq 1 ]
	grep -q '^baz as each process sees it' "$TMP/out"
	why_lines "$TMP/out" | grep -qx 'Stopped early: these are the readings taken before a role stopped answering.'
	grep -q "^ipclab libwatch: foo (pid [0-9]*): no answer in 5 s: it is stopped" "$TMP/err"
}

@test "a stopped role: the command gives it up in seconds, says so, exits 1 and leaves no role" {
	lw_start -d 120 -i 0.2 --json
	wait_for 30 roles_ready
	bar=$(role_pid bar) foo=$(role_pid foo)
	kill -STOP "$bar"
	ended_within 30
	[ "$ST" -eq 1 ]
	grep -q "^ipclab libwatch: bar (pid $bar): no answer in 5 s: it is stopped" "$TMP/err"
	[ "$(wc -l <"$TMP/err")" -eq 1 ]
	[ "$(jq -s length "$TMP/out")" -eq 1 ]
	[ "$(jq '.values.readings | length' "$TMP/out")" -ge 1 ]
	dead "$bar"
	dead "$foo"
	[ -z "$(zombies_of "$IP")" ]
}

@test "Ctrl+C ends it within a second even while a role is stopped" {
	lw_group -d 120 -i 0.2 --json
	wait_for 30 roles_ready
	bar=$(role_pid bar)
	kill -STOP "$bar"
	kill -INT -- "-$IP"
	start=$(date +%s%N)
	ended_within 10
	(( ($(date +%s%N) - start) / 1000000 < 1500 ))
	[ "$ST" -eq 130 ]
	[ "$(jq -s length "$TMP/out")" -eq 1 ]
	dead "$bar"
}

@test "a FIFO or a directory as LIBRARY: refused at once, naming its type, and left as it was" {
	mkfifo "$TMP/fifo"
	run timeout 20 "$IPCLAB_BIN" libwatch "$TMP/fifo"
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab libwatch: $TMP/fifo: open: not a regular file (it is a FIFO)" ]
	[ -p "$TMP/fifo" ]
	run timeout 20 "$IPCLAB_BIN" libwatch "$TMP"
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab libwatch: $TMP: open: not a regular file (it is a directory)" ]
}

@test "an empty LIBRARY is a usage error (dlopen would take it for ipclab itself)" {
	run ipclab libwatch ''
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ipclab libwatch: LIBRARY '': an empty name (dlopen(3) would take it for ipclab itself)" ]
	[ "${lines[1]}" = "Try 'ipclab libwatch --help' for more information." ]
}

# patch FILE OFFSET HEXBYTES: overwrites bytes of FILE in place.
patch() { printf "$(echo "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

@test "a truncated or corrupt ELF file says what is wrong with it, and where" {
	size=$(stat -c %s "$LW_LIB")
	head -c 100 "$LW_LIB" >"$TMP/a.so"
	head -c 40 "$LW_LIB" >"$TMP/b.so"
	head -c $((size - 10)) "$LW_LIB" >"$TMP/c.so"	# the section headers are last
	printf 'hello\n' >"$TMP/d.so"
	cp "$LW_LIB" "$TMP/e.so"; patch "$TMP/e.so" 4 01		# ELFCLASS32
	cp "$LW_LIB" "$TMP/f.so"; patch "$TMP/f.so" 32 ffffffffffffff7f	# e_phoff far away
	cp "$LW_LIB" "$TMP/g.so"; patch "$TMP/g.so" 40 00f0ffffffffffff	# e_shoff past the end
	cp "$LW_LIB" "$TMP/h.so"; patch "$TMP/h.so" 54 0100		# e_phentsize 1
	for f in a b c d e f g h; do cp "$TMP/$f.so" "$TMP/$f.orig"; done
	run ipclab libwatch "$TMP/a.so"
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab libwatch: $TMP/a.so: truncated at byte 100" ]
	run ipclab libwatch "$TMP/b.so"
	[ "$output" = "ipclab libwatch: $TMP/b.so: truncated at byte 40" ]
	run ipclab libwatch "$TMP/c.so"
	[ "$output" = "ipclab libwatch: $TMP/c.so: truncated at byte $((size - 10))" ]
	run ipclab libwatch "$TMP/d.so"
	[ "$output" = "ipclab libwatch: $TMP/d.so: not an ELF file" ]
	run ipclab libwatch "$TMP/e.so"
	[ "$output" = "ipclab libwatch: $TMP/e.so: not a 64-bit ELF file" ]
	run ipclab libwatch "$TMP/f.so"
	[ "$output" = "ipclab libwatch: $TMP/f.so: truncated at byte $size" ]
	run ipclab libwatch "$TMP/g.so"
	[ "$output" = "ipclab libwatch: $TMP/g.so: truncated at byte $size" ]
	run ipclab libwatch "$TMP/h.so"
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab libwatch: $TMP/h.so: corrupt: program headers of 1 bytes" ]
	for f in a b c d e f g h; do cmp "$TMP/$f.so" "$TMP/$f.orig"; done
}

@test "stdout on /dev/full: the report's loss is an error, exit 1 with one line" {
	for args in "-d 0" "-d 0 --json" "libc.so.6" "--json libc.so.6"; do
		run bash -c "\"\$IPCLAB_BIN\" libwatch $args >/dev/full"
		[ "$status" -eq 1 ]
		[ "$output" = "ipclab libwatch: stdout: write error: No space left on device" ]
	done
}

@test "a reader that goes away ends the command quietly with 0" {
	for args in "-d 0.3" "-d 0.3 --json" "libc.so.6"; do
		run bash -c "\"\$IPCLAB_BIN\" libwatch $args 2>&1 | head -1 >/dev/null; echo \"\${PIPESTATUS[0]}\""
		[ "$output" = 0 ]
		run bash -c "\"\$IPCLAB_BIN\" libwatch $args 2>&1 | true; echo \"\${PIPESTATUS[0]}\""
		[ "$output" = 0 ]
	done
}

@test "a library that no process maps: an empty list and a zero total, nothing on stderr" {
	cp "$LW_LIB" "$TMP/lonely.so"
	run --separate-stderr ipclab libwatch "$TMP/lonely.so"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[[ $output == *"Processes that map it"* ]]
	echo "$output" | grep -Eq '^ *total +0 +0 +0 +0 +0$'
	[ "$(echo "$output" | sed -n '/^Processes that map it/,$p' | grep -Ec '^ *[0-9]+ ')" -eq 0 ]
	run --separate-stderr ipclab libwatch --json "$TMP/lonely.so"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$(echo "$output" | jq -c '.processes.processes')" = '[{"pid":null,"command":null,"maps":0,"rss":0,"pss":0,"shared":0,"private":0}]' ]
}

@test "bad arguments say what is wrong and exit 2; a missing library exits 1" {
	run ipclab libwatch --build static
	[ "$status" -eq 2 ]
	[[ $output == *"--build 'static'"* && $output == *"Try 'ipclab libwatch --help'"* ]]
	run ipclab libwatch -d soon
	[ "$status" -eq 2 ]
	run ipclab libwatch --dlopen libc.so.6
	[ "$status" -eq 2 ]
	run ipclab libwatch libc.so.6 libm.so.6
	[ "$status" -eq 2 ]
	run ipclab libwatch libnosuch.so.9
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab libwatch: libnosuch.so.9: ld.so: cannot open shared object file" ]
	run ipclab libwatch /etc/passwd
	[ "$status" -eq 1 ]
	[[ $output == *"/etc/passwd"* ]]
}

@test "a bare name is the file a process maps under it, found by the loader without loading it here" {
	# the truth: the libc that this shell has mapped
	mapped=$(readlink -f "$(awk '$6 ~ /\/libc\.so\.6$/ { print $6; exit }' /proc/$$/maps)")
	[ -n "$mapped" ]
	run --separate-stderr ipclab libwatch --json libc.so.6
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .library.path)" = "$mapped" ]
	# libmemusage.so prints a summary from its destructor in any process
	# that loads it; libasan.so.8 aborts one that it does not come first in
	for lib in libmemusage.so libasan.so.8; do
		[ -n "$(find /lib /usr/lib -maxdepth 2 -name "$lib" -print -quit)" ] || continue
		run --separate-stderr ipclab libwatch "$lib"
		[ "$status" -eq 0 ]
		[ "$stderr" = "" ]
		[[ ${lines[0]} == "libwatch: /"*"/$lib"* ]]
		[[ $output != *"Memory usage summary"* ]]
	done
}

@test "a FIFO named like the library on LD_LIBRARY_PATH: an error naming it in 5 s, the FIFO kept, no child left" {
	mkfifo "$TMP/libipclab-x.so"
	t0=$SECONDS
	LD_LIBRARY_PATH="$TMP" run timeout 60 "$IPCLAB_BIN" libwatch libipclab-x.so
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab libwatch: libipclab-x.so: the dynamic loader gave no answer in 5 s, and was killed: $TMP/libipclab-x.so, on its search path, is a FIFO, which open(2) waits on" ]
	[ $((SECONDS - t0)) -lt 30 ]
	[ -p "$TMP/libipclab-x.so" ]
	[ -z "$(pgrep -f -- "--preload libipclab-x.so")" ]
}

@test "Ctrl+C while the loader waits on a FIFO: exit 130 at once, the loader killed" {
	mkfifo "$TMP/libipclab-x.so"
	for sig in INT TERM; do
		LD_LIBRARY_PATH="$TMP" "$IPCLAB_BIN" libwatch libipclab-x.so 2>"$TMP/err" &
		pid=$!
		wait_for 10 pgrep -P "$pid" -f -- "--preload libipclab-x.so"
		t0=$SECONDS
		kill -"$sig" "$pid"
		wait_for 3 dead "$pid"
		st=0
		wait "$pid" || st=$?
		[ "$st" -eq $((128 + $(kill -l "$sig"))) ]
		[ $((SECONDS - t0)) -lt 3 ]
		[ "$(cat "$TMP/err")" = "ipclab libwatch: interrupted while the dynamic loader looked for libipclab-x.so" ]
		[ -z "$(pgrep -f -- "--preload libipclab-x.so")" ]
	done
}

@test "a name that the loader cannot be asked about is refused in one line" {
	run ipclab libwatch 'libc.so.6:libm.so.6'
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab libwatch: libc.so.6:libm.so.6: ld.so: a name with '/', ':' or white space is not a library name" ]
	seq 1 100 > "$TMP/libipclab-text.so"	# not an ELF object
	LD_LIBRARY_PATH="$TMP" run ipclab libwatch libipclab-text.so
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab libwatch: libipclab-text.so: ld.so: invalid ELF header" ]
}

@test "an installed ipclab finds its roles and the demo library beside it" {
	command -v cmake >/dev/null || skip "cmake is needed to install"
	cmake --install "$IPCLAB_BUILD" --prefix "$TMP/inst" >/dev/null
	IPCLAB_BIN="$TMP/inst/bin/ipclab" run ipclab libwatch -d 0 --json
	[ "$status" -eq 0 ]
	lib=$(echo "$output" | jq -r .library.path)
	[[ $lib == "$TMP/inst/"* ]]
	[ "$(echo "$output" | jq -r '.values.readings[0].foo')" = 17 ]
}

@test "--help shows the usage of libwatch" {
	run ipclab libwatch --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == Usage: ]]
	[[ $output == *"ipclab libwatch [--json] LIBRARY"* && $output == *"--dlopen"* ]]
	[[ $output == *"-J, --json"* ]]
	[ "$(echo "$output" | wc -L)" -le 80 ]
}

@test "-J, -j and --json print the same document" {
	for opt in -J -j --json; do
		run --separate-stderr ipclab libwatch "$opt" libc.so.6
		[ "$status" -eq 0 ]
		[ "$(echo "$output" | jq -r .library.path)" = "$(readlink -f "$(ldd "$IPCLAB_BIN" | awk '$1 == "libc.so.6" { print $3 }')")" ]
	done
}

# man_examples: the EXAMPLES of ipclab-libwatch(1), one command a line, as a
# shell would read them off the page.
man_examples() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh /s/^\.Dl \$ //p' "$IPCLAB_SRC/man/ipclab-libwatch.1" |
		sed 's/\\(dq/"/g; s/\\e/\\/g'
}

# example_shows N: what example N of the page must show, in $output.
example_shows() {
	case $1 in
	0)	[[ $output == *"Addresses of setbaz, getbaz and baz"* ]]
		[[ $output != *"Stopped early"* ]]
		[[ $output == *"why: foo is an ordinary PIE"* ]]
		[ "$(echo "$output" | sed -n '/^baz as each process sees it/,/^$/p' | grep -c '^ *[0-9.]*s  *17 ')" -ge 3 ] ;;
	1)	[ "$output" = '["foo","executable"]'$'\n''["bar","library"]' ] ;;
	2)	[ "${lines[0]}" = "PRIVATE|DENYWRITE" ]
		[ "${lines[1]}" = "PRIVATE|FIXED|DENYWRITE" ] ;;
	3)	[[ $output == *'libipclab_foobar.so", O_RDONLY|O_CLOEXEC) = '* ]] ;;
	4)	[[ $output == *"loaded with dlopen(3)"* ]]
		[[ $output == *"found baz with dlsym(3)"* ]] ;;
	5)	[[ $output == *"Processes that map it"* ]]
		echo "$output" | grep -Eq '^ *total +[0-9]+ ' ;;
	6)	[[ ${lines[0]} == "addresses: foo is an ordinary PIE"* ]]
		[ "$(echo "$output" | grep -c '^mmaps: ')" -ge 2 ] ;;
	*)	echo "example $1 has no check" >&2; return 1 ;;
	esac
}

# lw_findings ARGS: the experiment's findings, "section: text" a line.
lw_findings() {
	"$IPCLAB_BIN" libwatch --json "$@" | jq -r '.findings[] | .section + ": " + .text'
}

@test "each why: finding of the experiment appears for the build it explains, and for no other" {
	local pie="is an ordinary PIE" pic="was built with -fPIC" dl="found baz with dlsym(3)"
	local cow="baz's own page was one frame in both processes until the first" still="baz's page in the library is still one frame"
	out=$(lw_findings -d 0)
	has "addresses: foo $pie"; has "addresses: bar $pic"; hasnt "foo $pic"; hasnt "bar $pie"; hasnt "$dl"
	out=$(lw_findings -d 0 -b pic)
	has "addresses: foo $pic"; has "addresses: bar $pic"; hasnt "$pie"
	out=$(lw_findings -d 0 -b pie)
	has "addresses: foo $pie"; has "addresses: bar $pie"; hasnt "$pic"
	if [ "$(id -u)" -eq 0 ]; then
		has "frames: $still"; hasnt "$cow"
	fi
	out=$(lw_findings -d 0 --dlopen)
	has "addresses: foo and bar each $dl"; hasnt "$pie"; hasnt "$pic"
	if [ "$(id -u)" -eq 0 ]; then
		has "frames: $cow"; hasnt "$still"; hasnt "Frame numbers need root"
		has "frames: The code is one frame in both processes"
	else
		has "frames: Frame numbers need root"; hasnt "$cow"
	fi
}

@test "the ASLR, reading, relocation and Shared_Dirty findings: each where it applies, absent where not" {
	local aslr="setbaz and getbaz lie at the same offset"
	out=$(lw_findings -d 0)
	has "addresses: $aslr"
	has "mmaps: Loading the library took"; has "mmaps: The mprotect makes the GNU_RELRO part"
	hasnt "No call was seen"
	# one reading: nothing to compare over time
	hasnt "values: foo read"
	# without address-space randomisation both roles get the library at one base
	out=$(setarch -R "$IPCLAB_BIN" libwatch --json -d 0 | jq -r '.findings[] | .section + ": " + .text')
	hasnt "$aslr"
	[ -n "$out" ]
	out=$(lw_findings -d 1 -i 0.2)
	has "values: foo read 17 at every reading while bar counted from"
	hasnt "Stopped early"
	# after writeback no page of the library can be Shared_Dirty
	sync
	out=$(lw_findings -d 0)
	hasnt "Pages that nobody can write show as Shared_Dirty"
	has "smaps: The rw-p mappings are Private_Dirty"
	if [ "$(id -u)" -eq 0 ]; then
		has "mmaps: The loader asks for MAP_DENYWRITE, but the kernel ignores it"
	fi
}

@test "every example of ipclab-libwatch(1) runs, exits 0 and shows what the page says" {
	mapfile -t ex < <(man_examples)
	[ "${#ex[@]}" -eq 7 ]
	for i in "${!ex[@]}"; do
		run bash -c 'set -o pipefail; ipclab() { "$IPCLAB_BIN" "$@"; }; '"${ex[$i]}"
		echo "example $i: ${ex[$i]} -> $status" >&2
		[ "$status" -eq 0 ]
		example_shows "$i"
	done
}

@test "ipclab-libwatch(1) is clean under mandoc -Tlint -Wall, a missing ipclab(1) aside" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	run mandoc -Tlint -Wall "$IPCLAB_SRC/man/ipclab-libwatch.1"
	echo "$output" | grep -v -e 'outdated mandoc.db' -e 'referenced manual not found: Xr ipclab 1$' >"$TMP/lint" || true
	[ ! -s "$TMP/lint" ] || { cat "$TMP/lint"; return 1; }
}

# widest FILE: the display width of FILE's widest line, carriage returns aside.
@test "every line of every report fits a 100-column terminal, and a pipe" {
	for args in "-d 0.2" "-d 0 --dlopen" "-d 0 -b pie" "libc.so.6"; do
		ipclab libwatch $args >"$TMP/out"
		[ "$(widest "$TMP/out")" -le 100 ]
		[ "$(widest "$TMP/out")" -ge 60 ]
	done
	command -v script >/dev/null || skip "script(1) is needed for a terminal"
	script -qec "stty cols 100 rows 50; \"$IPCLAB_BIN\" libwatch -d 0" "$TMP/typescript" >"$TMP/tty" </dev/null
	grep -q 'Physical frames of those pages' "$TMP/tty"
	[ "$(widest "$TMP/tty")" -le 100 ]
}

@test "--json: one document, segments keyed as the table's columns, findings as {section, text}" {
	for args in "-d 0.3" "-d 0 --dlopen" "libc.so.6"; do
		ipclab libwatch --json $args >"$TMP/out"
		[ "$(jq -s length "$TMP/out")" -eq 1 ]
		# SEGMENT OFFSET VADDR FILESZ MEMSZ FLAGS HOLDS
		[ "$(jq -c '[.segments.headers[] | has("segment", "offset", "vaddr", "filesz", "memsz", "flags", "holds")] | unique' "$TMP/out")" = '[true]' ]
		[ "$(jq -r '.segments.headers[] | select(.segment == "LOAD 1") | .holds' "$TMP/out")" = code ]
		[ "$(jq -r '[.segments.headers[].vaddr | type] | unique | join(",")' "$TMP/out")" = string ]
		[ "$(jq -r '[.segments.headers[].offset | type] | unique | join(",")' "$TMP/out")" = number ]
		[ "$(jq '.findings | length' "$TMP/out")" -ge 1 ]
		[ "$(jq -c '[.findings[] | keys] | unique' "$TMP/out")" = '[["section","text"]]' ]
	done
	ipclab libwatch --json libc.so.6 >"$TMP/out"
	[ "$(jq -r '.findings[0].section' "$TMP/out")" = processes ]
	[[ $(jq -r '.findings[0].text' "$TMP/out") == "PSS divides each shared page"* ]]
}

# why_lines FILE: the report's why: findings, one a line, unwrapped.
why_lines() {
	awk '/^  why: /{ if (w) print w; w = substr($0, 8); next }
	     /^       [^ ]/ && w { sub(/^ +/, ""); w = w " " $0; next }
	     { if (w) print w; w = "" } END { if (w) print w }' "$1"
}

@test "every finding of the table report is in the JSON, under the section it was printed in" {
	ipclab libwatch -d 0.4 -i 0.2 >"$TMP/txt"
	ipclab libwatch -d 0.4 -i 0.2 --json >"$TMP/json"
	for sect in addresses mmaps; do
		jq -r --arg s "$sect" '.findings[] | select(.section == $s) | .text' "$TMP/json" >"$TMP/want.$sect"
		[ -s "$TMP/want.$sect" ]
	done
	why_lines "$TMP/txt" >"$TMP/why"
	[ "$(wc -l <"$TMP/why")" -ge 6 ]
	while read -r line; do
		grep -qxF "$line" "$TMP/why" || return 1
	done < <(cat "$TMP/want.addresses" "$TMP/want.mmaps")
	# the addresses' findings print under that table, before the segments
	sed -n '/^Addresses of/,/^Segments of/p' "$TMP/txt" >"$TMP/addr.txt"
	why_lines "$TMP/addr.txt" | diff - "$TMP/want.addresses"
}

# smaps_sum PID PATTERN FIELD...: the sum of FIELDs (kB) over PID's mappings
# whose path matches PATTERN, read from /proc/PID/smaps.
smaps_sum() {
	local pid=$1 pat=$2
	shift 2
	awk -v pat="$pat" -v fields="$*" '
		BEGIN { n = split(fields, f, " "); for (i = 1; i <= n; i++) want[f[i] ":"] = 1 }
		/^[0-9a-f]+-[0-9a-f]+ / { on = ($6 ~ pat); next }
		on && ($1 in want) { s += $2 }
		END { print s + 0 }' "/proc/$pid/smaps"
}

# usage_matches PID: ipclab's RSS, SHARED, PRIVATE and MAPS of libc in PID
# are what the test sums from /proc/PID/smaps itself.
usage_matches() {
	local pid=$1 j
	j=$("$IPCLAB_BIN" libwatch --json libc.so.6 | jq -c --argjson p "$pid" \
		'.processes.processes[] | select(.pid == $p) | [.maps, .rss, .shared, .private]')
	[ "$j" = "[$(grep -c 'libc\.so\.6$' "/proc/$pid/maps"),$(smaps_sum "$pid" 'libc\\.so\\.6$' Rss),$(smaps_sum "$pid" 'libc\\.so\\.6$' Shared_Clean Shared_Dirty),$(smaps_sum "$pid" 'libc\\.so\\.6$' Private_Clean Private_Dirty)]" ]
}

@test "LIBRARY: a process's RSS, SHARED and PRIVATE are the sums of its /proc/PID/smaps" {
	sleep 100 &
	BG+=($!)
	wait_for 10 comm_is "$!" sleep
	[ "$(smaps_sum "$!" 'libc\\.so\\.6$' Shared_Clean Shared_Dirty)" -gt 0 ]
	# other processes come and go on a shared machine: a few tries
	wait_for 20 usage_matches "$!"
	# and the total is the sum of the rows
	ipclab libwatch --json libc.so.6 >"$TMP/out"
	[ "$(jq '[.processes.processes[] | select(.pid) | .rss] | add' "$TMP/out")" -eq "$(jq '.processes.processes[-1].rss' "$TMP/out")" ]
	[ "$(jq '[.processes.processes[] | select(.pid) | .private] | add' "$TMP/out")" -eq "$(jq '.processes.processes[-1].private' "$TMP/out")" ]
	[ "$(jq '.processes.processes[-1].pid' "$TMP/out")" = null ]
}

@test "the roles' smaps: each mapping's RSS and PRIVATE_DIRTY are what /proc/PID/smaps says" {
	lw_start -d 60 -i 0.2 --json
	wait_for 30 roles_ready
	foo=$(role_pid foo) bar=$(role_pid bar)
	# after the first write: bar's baz has risen
	bb=$(base "$TMP/maps.$bar" libipclab_foobar.so)
	wait_for 20 eval '(( $(mem "$bar" "$(hex_add "$bb" "$(nmval "$LW_LIB" baz)")") >= 2 ))'
	for p in "$foo" "$bar"; do
		awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 ~ /libipclab_foobar\.so$/) ? $1 : "" ; next }
		     m != "" && $1 == "Rss:" { r[m] = $2 }
		     m != "" && $1 == "Private_Dirty:" { print "0x" substr(m, 1, index(m, "-") - 1), r[m], $2 }' \
		    "/proc/$p/smaps" >"$TMP/truth.$p"
	done
	kill -INT "$IP"
	ended_within 10
	[ "$ST" -eq 130 ]
	for role in foo bar; do
		p=$(jq -r --arg r "$role" '.roles.roles[] | select(.role == $r) | .pid' "$TMP/out")
		jq -r --arg r "$role" '.smaps.mappings[] | select(.role == $r) | "\(.start) \(.rss) \(.private_dirty)"' \
		   "$TMP/out" | sed 's/^0x0*/0x/' >"$TMP/got.$p"
		[ "$(wc -l <"$TMP/got.$p")" -eq 5 ]
		sed 's/^0x0*/0x/' "$TMP/truth.$p" | diff - "$TMP/got.$p"
		# the data segment is private: something in it is Private_Dirty
		[ "$(awk '$3 > 0' "$TMP/got.$p" | wc -l)" -ge 1 ]
	done
}

@test "as root: every page's frames after the first write are the ones the test reads from pagemap" {
	[ "$(id -u)" -eq 0 ] || skip "physical frames in /proc/PID/pagemap need root"
	lw_start -d 60 -i 0.2 --json
	wait_for 30 roles_ready
	foo=$(role_pid foo) bar=$(role_pid bar)
	bb=$(base "$TMP/maps.$bar" libipclab_foobar.so)
	wait_for 20 eval '(( $(mem "$bar" "$(hex_add "$bb" "$(nmval "$LW_LIB" baz)")") >= 2 ))'
	fb=$(base "$TMP/maps.$foo" libipclab_foobar.so)
	: >"$TMP/truth"
	for pg in 0 4096 8192 12288 16384 20480 24576; do
		a=$(frame "$foo" "$(hex_add "$fb" "$(printf %x "$pg")")")
		b=$(frame "$bar" "$(hex_add "$bb" "$(printf %x "$pg")")")
		s=null
		if [ "$a" != 0 ] && [ "$b" != 0 ]; then
			s=false
			[ "$a" = "$b" ] && s=true
		fi
		echo "$pg $a $b $s" >>"$TMP/truth"
	done
	kill -INT "$IP"
	ended_within 10
	jq -r '.frames.frames[] | "\(.page) \(.foo_after // "0x0") \(.bar_after // "0x0") \(.shared)"' "$TMP/out" |
		sed 's/ 0x/ /g' >"$TMP/got"
	diff "$TMP/truth" "$TMP/got"
	# the code is shared, baz's page is not after the write
	grep -q '^4096 [0-9a-f]* [0-9a-f]* true$' "$TMP/got"
	grep -q '^20480 [0-9a-f]* [0-9a-f]* false$' "$TMP/got"
}

@test "--json: every key is lower snake case and said in ipclab-libwatch(1)'s JSON section" {
	ipclab libwatch --json -d 0.3 >"$TMP/out.run"
	ipclab libwatch --json -d 0 --dlopen >"$TMP/out.dl"
	ipclab libwatch --json libc.so.6 >"$TMP/out.lib"
	cat "$TMP"/out.* | jq -r '[paths | .[] | strings] | unique | .[]' | sort -u >"$TMP/keys"
	[ "$(wc -l <"$TMP/keys")" -ge 60 ]
	sed -n '/^\.Ss The JSON document/,/^\.Sh /p' "$IPCLAB_SRC/man/ipclab-libwatch.1" >"$TMP/page"
	while read -r k; do
		[[ $k =~ ^[a-z][a-z0-9_]*$ ]] || { echo "key $k"; return 1; }
		grep -Eq -e "^\.(It Cm|Cm) (.* )?$k( |,|$)" -e "^\.Ql .*\\\\\(dq$k\\\\\(dq" "$TMP/page" || { echo "undocumented: $k"; return 1; }
	done <"$TMP/keys"
	# numbers as numbers, addresses as hex strings
	jq -e '[.frames.frames[].page, .segments.headers[].offset, .values.readings[].time] | all(type == "number")' "$TMP/out.run"
	jq -e '[.addresses.symbols[].address, .roles.roles[].base] | all(test("^0x[0-9a-f]+$"))' "$TMP/out.run"
	jq -e '[.processes.processes[].rss] | all(type == "number")' "$TMP/out.lib"
}
