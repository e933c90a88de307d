# ipclab iotrace and libipclab_io.so: per-path byte counts checked against
# strace -f -y (tests/iotrace_compare), exact totals under threads, signals,
# vfork and posix_spawn, and a traced program that behaves as untraced.

load common
bats_require_minimum_version 1.5.0

setup() {
	D=$(scratch)
	cd "$D" || return 1
	seq 1 60000 > data.txt
	COMPARE="$IPCLAB_SRC/tests/iotrace_compare"
	SHIM=$(find "$IPCLAB_BUILD" -name libipclab_io.so -path '*/ipclab/*' | head -n 1)
	PY=/usr/bin/python3
}

teardown() {
	if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; fi
	cd / && rm -rf "$D"
}

# compare SHELL-SCRIPT: runs it under iotrace under strace, expects every
# path to match and the script to succeed (a workload that failed moves
# few bytes on both sides, and would match); the output names each path,
# shown when a test fails.
compare() {
	local asan=${ASAN_OPTIONS:-}
	mkdir -p "$D/st"
	# LeakSanitizer cannot work under ptrace: in the sanitizer build, the
	# traced iotrace would exit 1 for that alone
	if [ "$IPCLAB_SANITIZE" = 1 ]; then asan=${asan:+$asan:}detect_leaks=0; fi
	run env ASAN_OPTIONS="$asan" "$COMPARE" "$D/st" sh -c "$1"
	echo "$output"
	[ "$status" -eq 0 ] || return 1
	if grep -q MISMATCH <<< "$output"; then return 1; fi
	grep -q "^status 0, " <<< "$output"
}

# one_doc FILE: FILE holds exactly one JSON document (jq -e alone accepts a
# stream of several).
one_doc() {
	[ "$(jq -s length "$1")" -eq 1 ]
}

@test "iotrace prints a line per close and a table with the bytes cat moved" {
	ipclab iotrace -- cat data.txt 2> rep > /dev/null
	size=$(stat -c %s data.txt)
	grep -Eq "^iotrace: pid=[0-9]+ fd=[0-9]+ at=close opens=1 reads=[0-9]+ read_bytes=$size writes=0 write_bytes=0 path=$D/data.txt$" rep
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 +[0-9]+ +$size +0 +0$" rep
	grep -Eq "^ *[0-9]+ +cat +/dev/null +0 +0 +0 +[0-9]+ +$size$" rep
	grep -Eq "^ +total " rep
}

@test "LD_PRELOAD alone prints the seed's lines on stderr, even after the program closes fd 2" {
	[ -n "$SHIM" ]
	size=$(stat -c %s data.txt)
	LD_PRELOAD=$SHIM cat data.txt 2> err > /dev/null	# the man page's example
	grep -Eq "^iotrace: pid=[0-9]+ fd=1 at=close opens=0 reads=0 read_bytes=0 writes=[0-9]+ write_bytes=$size path=/dev/null$" err
	LD_PRELOAD=$SHIM "$PY" -c 'import os; os.close(2); open("data.txt").read()' 2> err
	# fd 2 was free again, so the file got it
	grep -Eq "^iotrace: pid=[0-9]+ fd=2 at=close opens=1 reads=[0-9]+ read_bytes=$size writes=0 write_bytes=0 path=$D/data.txt$" err
}

@test "stdio readers and writers match strace byte for byte per path" {
	compare 'sed s/1/x/ data.txt > sed.out; sort -r data.txt > sort.out;
		md5sum data.txt sort.out; wc data.txt; mawk "{s+=\$1} END {print s}" data.txt;
		tee tee.out < data.txt > /dev/null; tail -n 3 data.txt; grep -c 7 data.txt;
		cut -c1-2 data.txt | uniq -c | tail -n1; nl data.txt | paste - - > nl.out;
		od -An -tx1 sort.out | head -n 2; base64 data.txt > b64; sha256sum b64'
}

@test "copy_file_range, splice and sendfile users match strace" {
	compare 'cat data.txt > cat.out; cp data.txt cp.out; cat data.txt | grep -c 9;
		dd if=data.txt of=dd.out bs=4096 2>/dev/null;
		/usr/bin/python3 -c "import shutil; shutil.copy(\"data.txt\", \"py.out\")"'
}

@test "fortified tar and gzip (__open_2, __openat_2) match strace, and did their work" {
	compare 'tar cf a.tar data.txt && mkdir x && tar xf a.tar -C x && gzip -k data.txt &&
		zcat data.txt.gz | cmp - data.txt'
	# the result, checked outside the trace: a shim that broke the programs
	# would match strace too
	cmp data.txt x/data.txt
	[ "$(tar tf a.tar)" = data.txt ]
	zcat data.txt.gz | cmp - data.txt
}

@test "python3 reading, writing, preadv and subprocess match strace" {
	compare '/usr/bin/python3 -c "
import os, subprocess
data = open(\"data.txt\", \"rb\").read()
with open(\"py.out\", \"wb\") as f:
    f.write(data[:1000])
fd = os.open(\"data.txt\", os.O_RDONLY)
os.preadv(fd, [bytearray(100), bytearray(50)], 10)
os.pread(fd, 10, 0)
os.close(fd)
subprocess.run([\"cat\", \"py.out\"], stdout=subprocess.DEVNULL, check=True)
"'
}

@test "sh -c pipelines, bash, xargs and find -exec (fork and exec) match strace" {
	compare 'cat data.txt | sort -n | uniq | tr 0-9 a-j | head -n 5;
		bash -c "while read l; do echo \$l; done < data.txt | tail -n 1";
		seq 1 2000 | xargs -n 500 echo | wc -l;
		find . -name "data.txt" -exec md5sum {} +'
}

@test "programs that read a file only partly through stdio match strace" {
	compare 'sed 1q data.txt; mawk "NR == 2 { exit }" data.txt; head -n 1 data.txt;
		/usr/bin/python3 -c "import sys; f = open(\"data.txt\"); f.readline(); f.close()"'
}

@test "stdio corners (ungetc, fscanf, fseek, w+, popen, memstreams, error, warn, perror) match strace" {
	compare "$IPCLAB_HELPERS/iotrace_stdio data.txt > out.txt 2> err.txt"
	grep -q "error_at_line 1" err.txt
}

@test "8 threads doing 100,000 reads and writes each get exact totals" {
	run ipclab iotrace --json -o rep.json -- "$IPCLAB_HELPERS/iotrace_threads" 8 100000
	[ "$status" -eq 0 ]
	one_doc rep.json
	# the helper's own sums of what read(2) and write(2) returned
	[ "$output" = "reads 800000 read_bytes 3600000 writes 800000 write_bytes 3600000" ]
	run jq -c '.files[] | select(.path == "/dev/zero" or .path == "/dev/null")
		| [.path, .reads, .read_bytes, .writes, .write_bytes]' rep.json
	[ "${lines[0]}" = '["/dev/zero",800000,3600000,0,0]' ]
	[ "${lines[1]}" = '["/dev/null",0,0,800000,3600000]' ]
}

@test "another preloaded library that wraps read and write sees every call, first or last" {
	# The shim makes the system call itself only when the next read is
	# glibc's own; a user's shim after it must still see each call.
	H=$IPCLAB_HELPERS/iotrace_other_preload.so
	for order in first last; do
		rm -f other rep
		ipclab iotrace -s -o rep -- env ORDER=$order H="$H" IOTRACE_PRELOAD_OUT="$D/other" \
			sh -c 'if [ "$ORDER" = first ]; then LD_PRELOAD=$H:$LD_PRELOAD
			       else LD_PRELOAD=$LD_PRELOAD:$H; fi
			       export LD_PRELOAD
			       exec dd if=/dev/zero of=/dev/null bs=1 count=1000 status=none'
		echo "$order: $(cat other)"
		grep -qx "reads=1000 read_bytes=1000 writes=1000 write_bytes=1000" other
		grep -Eq "^ *[0-9]+ +dd +/dev/zero +1 +1000 +1000 +0 +0$" rep
		grep -Eq "^ *[0-9]+ +dd +/dev/null +1 +0 +0 +1000 +1000$" rep
	done
}

@test "a traced program prints the same bytes and exits with the same status" {
	sort -r data.txt > want; sort -r data.txt | md5sum > want.md5
	ipclab iotrace -o rep -- sort -r data.txt > got
	cmp want got
	run ipclab iotrace -o rep -- sh -c 'cat data.txt; exit 42'
	[ "$status" -eq 42 ]
	[ "$output" = "$(cat data.txt)" ]
	run ipclab iotrace -o rep -- sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
	run ipclab iotrace -o rep -- "$PY" -c 'import sys; sys.stdout.write("x" * 70000); sys.exit(7)'
	[ "$status" -eq 7 ]
	[ "${#output}" -eq 70000 ]
	run --separate-stderr ipclab iotrace -o rep -- sh -c 'echo out; echo err >&2; ls /nonexistent'
	[ "$status" -eq 2 ]
	[ "$output" = out ]
	[ "$stderr" = "$(sh -c 'echo out; echo err >&2; ls /nonexistent' 2>&1 >/dev/null)" ]
}

@test "every wrapper leaves errno as the real call left it" {
	"$IPCLAB_HELPERS/iotrace_errno" "$D" > want
	ipclab iotrace -o rep -- "$IPCLAB_HELPERS/iotrace_errno" "$D" > got
	diff want got
	grep -q "errno=4242" got	# the marker survived successful calls
	grep -Eq "write_bytes=12 path=$D/errno.dat$" rep	# and the shim was there
}

@test "wrappers reached from a signal handler neither deadlock nor lose a byte" {
	run timeout 60 "$IPCLAB_BIN" iotrace --json -o rep.json -- "$IPCLAB_HELPERS/iotrace_signal" 0.5
	[ "$status" -eq 0 ]
	one_doc rep.json
	read -r _ mr mw _ hr hw _ calls <<< "$output"
	[ "$calls" -gt 0 ]
	[ "$(jq '[.files[] | select(.path == "/dev/zero") | .read_bytes] | add' rep.json)" -eq $((mr + hr)) ]
	[ "$(jq '[.files[] | select(.path == "/dev/null") | .write_bytes] | add' rep.json)" -eq $((mw + hw)) ]
}

@test "vfork, posix_spawn and fork children are counted, the parent keeps its own" {
	compare "$IPCLAB_HELPERS/iotrace_spawn > spawn.out"
	[ "$(stat -c %s spawn.out)" -eq 6000 ]
}

@test "descriptors inherited from the shell are named and counted" {
	printf 'abcdef' > in3
	run ipclab iotrace --json -o rep.json -- sh -c 'cat <&3 >/dev/null' 3< in3
	[ "$status" -eq 0 ]
	one_doc rep.json
	[ "$(jq -c '[.files[] | select(.path == "'"$D"'/in3") | .read_bytes] | add' rep.json)" -eq 6 ]
}

@test "the report pipe survives close, close_range, closefrom and dup2 over it" {
	printf 'hello' > h.txt
	run ipclab iotrace -o rep -- "$IPCLAB_HELPERS/iotrace_hide" h.txt
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	grep -Eq "^ *[0-9]+ +iotrace_hide +$D/h.txt +1 +[0-9]+ +5 +0 +0$" rep
}

@test "--json prints one document with pid, path, reads, read_bytes, writes, write_bytes" {
	run ipclab iotrace --json -o rep.json -- cat data.txt
	[ "$status" -eq 0 ]
	one_doc rep.json
	size=$(stat -c %s data.txt)
	[ "$(jq -c --arg p "$D/data.txt" '.files[] | select(.path == $p)
		| [(.pid | type), .program, .opens, .read_bytes, .writes, .write_bytes, .renamed]' rep.json)" = \
	  "[\"number\",\"cat\",1,$size,0,0,null]" ]
	[ "$(jq -c '[.total.processes, .total.unreported, .total.running, .exit_status, .interrupted,
		(.findings | type), (.unattributed | type), (.running | type)]' rep.json)" = \
	  '[1,0,0,0,false,"array","array","array"]' ]
}

@test "every key of iotrace's JSON is documented in ipclab-iotrace(1), and the totals are the rows' sums" {
	local k
	run ipclab iotrace --json -o rep.json -- sh -c 'cat data.txt > out.txt; cat data.txt data.txt | wc -c'
	[ "$status" -eq 0 ]
	jq -r '[paths | .[] | strings] | unique[]' rep.json >keys
	[ "$(wc -l <keys)" -ge 22 ]
	while read -r k; do
		[[ $k =~ ^[a-z][a-z0-9_]*$ ]] || { echo "bad key $k"; false; }
		grep -Eq "(^|[ .(])Ql $k( |,|\\)|$)" "$IPCLAB_SRC/man/ipclab-iotrace.1" ||
			{ echo "undocumented key $k"; false; }
	done <keys
	# total: the sums of the rows, and unattributed: the sums of its rows
	jq -e '. as $d | [ "opens", "reads", "read_bytes", "writes", "write_bytes" ] |
		all(. as $k | $d.total[$k] == ([$d.files[][$k]] | add))' rep.json
	jq -e '.total.unattributed_read_bytes == ([.unattributed[].read_bytes] | add) and
		.total.unattributed_write_bytes == ([.unattributed[].write_bytes] | add)' rep.json
	# three processes or more (sh, cat, cat, wc), and the bytes the files hold
	jq -e --argjson size "$(stat -c %s data.txt)" --arg d "$D" '.total.processes >= 4 and
		([.files[] | select(.path == ($d + "/out.txt")) | .write_bytes] | add) == $size and
		([.files[] | select(.path == ($d + "/data.txt")) | .read_bytes] | add) == 3 * $size' rep.json
}

@test "-s prints the table only, -o writes the report to a file" {
	run --separate-stderr ipclab iotrace -s -- cat data.txt
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat data.txt)" ]
	[ "$(grep -c "at=" <<< "$stderr")" -eq 0 ]
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 " <<< "$stderr"
	grep -Eq "^ +total " <<< "$stderr"
	ipclab iotrace -o rep -- cat data.txt > /dev/null
	[ "$(grep -c "^iotrace: pid=[0-9]* fd=[0-9]* at=close " rep)" -eq 2 ]
	ipclab iotrace -s -o rep -- cat data.txt > /dev/null
	[ "$(grep -c "at=" rep)" -eq 0 ]
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 " rep
}

@test "a statically linked program is refused with 125 and says why" {
	run ipclab iotrace -- /sbin/ldconfig -p
	[ "$status" -eq 125 ]
	grep -q "statically linked" <<< "$output"
}

@test "a 32-bit program is refused with 125 and says why, before it runs" {
	# an i386 ELF that runs here and exits 0 (a preload never sees it):
	# refused before its exec, where before it ran uncounted
	python3 - <<'PY'
import struct
code = bytes.fromhex("b801000000" "31db" "cd80")	# exit(0) by int 0x80
ehdr = struct.pack("<4sBBBBB7xHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 0,
                   2, 3, 1, 0x08048054, 52, 0, 0, 52, 32, 1, 0, 0, 0)
phdr = struct.pack("<IIIIIIII", 1, 0, 0x08048000, 0x08048000, 84 + len(code),
                   84 + len(code), 5, 0x1000)
open("prog32", "wb").write(ehdr + phdr + code)
PY
	chmod +x prog32
	[ "$(od -An -tx1 -j4 -N1 prog32 | tr -d ' ')" = 01 ]	# ELFCLASS32, as file(1) reads it
	run --separate-stderr ipclab iotrace -- ./prog32
	[ "$status" -eq 125 ]
	[ "$stderr" = "ipclab iotrace: ./prog32: a 32-bit program (ELFCLASS32), and the shim is 64-bit: the dynamic linker would not load libipclab_io.so into it, so there would be nothing to count (strace -f can trace it)" ]
}

@test "a set-user-ID program of another user is refused with 125" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to chown the copy"
	cp /usr/bin/true suid
	chown nobody suid
	chmod 4755 suid
	run ipclab iotrace -- ./suid
	[ "$status" -eq 125 ]
	grep -q "set-user-ID" <<< "$output"
}

@test "SIGTERM to iotrace stops the program and still prints what it reached" {
	"$IPCLAB_BIN" iotrace -o rep -- sh -c 'cat data.txt > /dev/null; exec sleep 30' &
	pid=$!
	wait_for 20 grep -qs "path=$D/data.txt" rep
	child=$(pgrep -P "$pid")
	[ -n "$child" ]
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 143 ]
	grep -q "killed by SIGTERM" rep
	[ "$(grep -c "interrupted by SIGINT" rep)" -eq 0 ]	# that why: is Ctrl+C's only
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 +[0-9]+ +$(stat -c %s data.txt) " rep
	wait_for 10 dead "$child"	# iotrace passed the signal on
}

@test "an output file that cannot be written is refused with 125 before the program runs" {
	run ipclab iotrace -o /nonexistent/rep -- touch ran
	[ "$status" -eq 125 ]
	[ "$output" = "ipclab iotrace: /nonexistent/rep: open: No such file or directory" ]
	[ ! -e ran ]
}

@test "a missing command exits 127, a non-executable one 126, no command 2" {
	run -127 ipclab iotrace -- /nonexistent/prog
	touch noexec
	run ipclab iotrace -- ./noexec
	[ "$status" -eq 126 ]
	run ipclab iotrace
	[ "$status" -eq 2 ]
	grep -q "Try 'ipclab iotrace --help'" <<< "$output"
}

@test "a pipeline member killed by SIGPIPE still reports what it wrote, even a cut write" {
	compare 'yes | head -n 1000 > /dev/null; seq 1 1000000 | sort -n | head -n 2;
		seq 1 10000000 | head -n 1; cat data.txt | tr 0-9 a-j | head -n 2;
		/usr/bin/python3 -c "import os
while True: os.write(1, bytes(5000))" | head -c 12345 > /dev/null'
}

@test "a process killed by SIGKILL is named as unreported" {
	run ipclab iotrace -s -- "$PY" -c 'import os; open("data.txt").read(); os.kill(os.getpid(), 9)'
	[ "$status" -eq 137 ]
	grep -q "1 process ended without a last report" <<< "$output"
}

@test "bench/iotrace runs end to end at a small size and finds the shim beside ipclab" {
	# Not a timing test: the benchmark's plumbing (alternation, the shim's
	# path, the C loop) must work; the figures are noise at this size.
	run env COUNT=2000 SORT_MB=1 REPEAT=1 STRACE=0 TMPDIR="$D" IPCLAB_BIN="$IPCLAB_BIN" \
		"$IPCLAB_SRC/bench/iotrace"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -Eq '^  ipclab iotrace +[0-9.]+ s +[0-9.]+x' <<< "$output"
	grep -Eq '^  per call, C loop .*with the shim [0-9.]+ ns' <<< "$output"
	[ "$(grep -c '^  ipclab iotrace ' <<< "$output")" -eq 2 ]
}

# ms: milliseconds since the epoch, to bound how long a run took.
ms() { echo $(( $(date +%s%N) / 1000000 )); }

@test "a background child does not make iotrace wait: it ends with CMD and names the child" {
	t0=$(ms)
	run ipclab iotrace -s -o rep -- sh -c 'cat data.txt > /dev/null; sleep 30 > /dev/null 2>&1 & echo $! > bg.pid; exit 3'
	t1=$(ms)
	bg=$(cat bg.pid)
	alive "$bg"
	kill "$bg"
	[ "$status" -eq 3 ]
	(( t1 - t0 < 3000 ))	# CMD took milliseconds; the child would take 30 s
	grep -Eq "1 process was still running when iotrace ended \\($bg (sleep|sh|dash)\\)" rep
	grep -q -- "--wait-all waits for every descendant" rep
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 +[0-9]+ +$(stat -c %s data.txt) " rep
	wait_for 10 dead "$bg"
}

@test "a daemon (setsid and a double fork) does not make iotrace wait" {
	t0=$(ms)
	run ipclab iotrace --json -o rep.json -- sh -c \
		'setsid sh -c "sleep 30 < /dev/null > /dev/null 2>&1 & echo \$! > d.pid" &
		 wait'
	t1=$(ms)
	d=$(cat d.pid)
	alive "$d"
	[ "$(awk '{print $6}' /proc/$d/stat)" != "$(awk '{print $6}' /proc/$$/stat)" ]	# own session
	kill "$d"
	[ "$status" -eq 0 ]
	(( t1 - t0 < 3000 ))
	one_doc rep.json
	# named as it was then: sleep, or the shell that was about to exec it
	[ "$(jq -c '[.running[] | [.pid, (.program | test("^(sleep|sh|dash)$"))]]' rep.json)" = "[[$d,true]]" ]
	[ "$(jq '.total.running' rep.json)" -eq 1 ]
	[ "$(jq '.exit_status' rep.json)" -eq 0 ]
	[ "$(jq -r '.findings[] | select(.text | test("still running when iotrace ended")) | .section' rep.json)" = running ]
	wait_for 10 dead "$d"
}

@test "--wait-all waits for every descendant and counts what they did later" {
	t0=$(ms)
	run ipclab iotrace --wait-all -s -o rep -- sh -c '(sleep 1; cat data.txt > /dev/null) & exit 4'
	t1=$(ms)
	[ "$status" -eq 4 ]
	(( t1 - t0 >= 1000 ))
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 +[0-9]+ +$(stat -c %s data.txt) " rep
	[ "$(grep -c "still running" rep)" -eq 0 ]
}

@test "Ctrl+C during --wait-all prints the partial report and exits 130" {
	env --default-signal=INT "$IPCLAB_BIN" iotrace --wait-all -o rep -- \
		sh -c 'cat data.txt > /dev/null; sleep 30 & echo $! > bg.pid' &
	pid=$!
	wait_for 20 test -s bg.pid
	bg=$(cat bg.pid)
	wait_for 20 grep -qs "path=$D/data.txt" rep
	kill -INT "$pid"
	st=0
	t0=$(ms)
	wait "$pid" || st=$?
	t1=$(ms)
	kill "$bg"
	[ "$st" -eq 130 ]
	(( t1 - t0 < 3000 ))
	grep -q "interrupted by SIGINT" rep
	grep -Eq "still running when iotrace ended \\($bg (sleep|sh|dash)\\)" rep
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 " rep
	wait_for 10 dead "$bg"
}

@test "descendants left running keep working after iotrace ended, and nothing stays after them" {
	# Their reports meet a pipe without a reader: the shim drops them.
	run ipclab iotrace -s -o rep -- sh -c \
		"(sleep 1; cat data.txt > '$D/copy'; echo \"cat \$?\" > done) > /dev/null 2>&1 &"
	[ "$status" -eq 0 ]
	grep -q "still running when iotrace ended" rep
	wait_for 20 test -s done
	[ "$(cat done)" = "cat 0" ]
	cmp data.txt copy
	wait_for 10 sh -c "! pgrep -f '$D/cop[y]' > /dev/null"
}

@test "a daemon that writes after iotrace ended does its work, and nothing of iotrace's stays" {
	# the daemon waits (bounded) until iotrace has gone, then every close
	# it makes sends a report line into a pipe without a reader
	t0=$(ms)
	run ipclab iotrace -s -o "$D/rep.daemon" -- sh -c '
		setsid sh -c "i=0
			while [ ! -e gone ] && [ \$i -lt 3000 ]; do sleep 0.01; i=\$((i+1)); done
			cat data.txt > copy; echo \"cat \$?\" > done; echo end >> done" \
			< /dev/null > /dev/null 2>&1 &
		echo $! > d.pid'
	t1=$(ms)
	[ "$status" -eq 0 ]
	(( t1 - t0 < 3000 ))
	grep -q "still running when iotrace ended" rep.daemon
	# no process of iotrace's (its command line names rep.daemon) is left
	! pgrep -f "iotrace -s -o $D/rep[.]daemon" > /dev/null
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q "iotrace -s -o $D/rep[.]daemon"; then
			echo "left behind: ${p#/proc/}"; false
		fi
	done
	touch gone
	wait_for 20 grep -qx end done
	[ "$(head -n 1 done)" = "cat 0" ]
	cmp data.txt copy
	wait_for 10 sh -c "! pgrep -f 'cat data[.]txt > copy' > /dev/null"
}

@test "unattributed: zero for writes every wrapper saw, the kernel's figure for a raw syscall write" {
	cat > raw.c <<'C'
int main(void)
{
	static const char m[] = "written by a bare syscall instruction\n";	/* 38 bytes */
	long r;

	__asm__ volatile ("syscall" : "=a"(r) : "a"(1L), "D"(1L), "S"(m), "d"(38L)
			  : "rcx", "r11", "memory");
	return r != 38;
}
C
	gcc -O2 -o raw raw.c
	run ipclab iotrace --json -o rep.json -- ./raw
	[ "$status" -eq 0 ]
	one_doc rep.json
	[ "$output" = "written by a bare syscall instruction" ]
	# no wrapper saw the write: it is all unattributed, exactly what the kernel moved
	[ "$(jq '[.files[] | .write_bytes] | add // 0' rep.json)" -eq 0 ]
	[ "$(jq '.unattributed[] | select(.program == "raw") | .write_bytes' rep.json)" -eq 38 ]
	[ "$(jq -r '.findings[] | select(.text | test("^unattributed writes \\(38 bytes in 1 process\\)")) | .section' rep.json)" = unattributed ]
	# cat's writes all went through wrappers: nothing unattributed on that side
	ipclab iotrace --json -o cat.json -- cat data.txt > /dev/null
	[ "$(jq '[.unattributed[] | select(.program == "cat") | .write_bytes] | add // 0' cat.json)" -eq 0 ]
	[ "$(jq '.total.unattributed_write_bytes' cat.json)" -eq 0 ]
	[ "$(jq '[.findings[] | select(.text | test("unattributed writes"))] | length' cat.json)" -eq 0 ]
	# the loader's reads before the shim: the row and its why are there
	[ "$(jq '.unattributed[] | select(.program == "cat") | .read_bytes' cat.json)" -gt 0 ]
	ipclab iotrace -s -o rep -- cat data.txt > /dev/null
	grep -Eq "^ *[0-9]+ +cat +unattributed +- +- +[1-9][0-9]* +- +0$" rep
	grep -q "why: unattributed reads" rep
	# a plain run that ended well: none of the other why: lines
	[ "$(jq -r '.findings[].text' cat.json | grep -cE '^(no process loaded|negative unattributed|[0-9]+ process(es)? ended without|interrupted by SIGINT|[0-9]+ process(es)? (was|were) still running)')" -eq 0 ]
	[ "$(jq '.findings | length' cat.json)" -eq 1 ]
}

@test "socket sends and receives: the shim counts them, the kernel's rchar and wchar do not, and the why: says so" {
	command -v python3 > /dev/null || skip "no python3"
	run ipclab iotrace --json -o rep.json -- python3 -c '
import socket
a, b = socket.socketpair()
for _ in range(64):
    a.send(bytes(4096)); b.recv(4096)'
	[ "$status" -eq 0 ]
	# strace, the independent count: 64 sends and 64 receives of 4096 bytes
	strace -f -qq -e trace=sendto,recvfrom -o st python3 -c '
import socket
a, b = socket.socketpair()
for _ in range(64):
    a.send(bytes(4096)); b.recv(4096)'
	[ "$(grep -c '= 4096$' st)" -eq 128 ]
	[ "$(jq -c '[.files[] | select(.path | startswith("socket:")) | .read_bytes, .write_bytes] | add' rep.json)" -eq $((2 * 64 * 4096)) ]
	[ "$(jq -r '.findings[] | select(.text | test("^negative unattributed bytes \\([0-9]+ in 1 process\\): the shim counted more than rchar and wchar hold; the kernel leaves socket sends and receives out")) | .section' rep.json)" = unattributed ]
}

@test "unattributed: a shell's row holds its own bytes, not those of the children it waited for" {
	run ipclab iotrace --json -o rep.json -- sh -c 'cat data.txt > /dev/null; cat data.txt > /dev/null'
	[ "$status" -eq 0 ]
	one_doc rep.json
	size=$(stat -c %s data.txt)
	# the kernel adds a reaped child's counts to its parent's /proc/PID/io:
	# the cats' 2 x size bytes read and written must not show under the shell
	[ "$(jq -c '[.unattributed[] | select(.program == "dash" or .program == "sh")
		| [.write_bytes, .read_bytes < '"$size"']]' rep.json)" = "[[0,true]]" ]
	[ "$(jq '[.unattributed[] | select(.program == "cat") | .write_bytes] | add' rep.json)" -eq 0 ]
	[ "$(jq '[.unattributed[] | select(.program == "cat")] | length' rep.json)" -eq 2 ]
}

@test "a file renamed while open is shown under its name at open, with renamed: NEW" {
	run ipclab iotrace --json -o rep.json -- "$PY" -c '
import os
f = open("data.txt")
os.rename("data.txt", "moved.txt")
f.read()
f.close()'
	[ "$status" -eq 0 ]
	[ "$(jq -c --arg d "$D" '.files[] | select(.path == $d + "/data.txt") | [.renamed, .read_bytes]' rep.json)" = \
	  "[\"$D/moved.txt\",$(stat -c %s moved.txt)]" ]
	mv moved.txt data.txt
	ipclab iotrace -s -o rep -- "$PY" -c 'import os; f = open("data.txt"); os.rename("data.txt", "m"); f.read()'
	grep -Eq "^ *[0-9]+ +python3[.0-9]* +$D/data.txt \(renamed: $D/m\) +1 " rep
}

@test "a FIFO as CMD, or as its #! interpreter, is never opened: 126 at once" {
	mkfifo fifo
	chmod +x fifo
	run timeout 20 "$IPCLAB_BIN" iotrace -- ./fifo
	[ "$status" -eq 126 ]
	[ "$output" = "ipclab iotrace: ./fifo: exec: Permission denied" ]
	printf '#!%s/fifo\n' "$D" > script
	chmod +x script
	run timeout 20 "$IPCLAB_BIN" iotrace -- ./script
	[ "$status" -eq 126 ]
	[ -p fifo ]
}

@test "under ulimit -n 8 iotrace's own failure is 125, says why, and CMD does not run" {
	run sh -c 'ulimit -n 8 && exec "$IPCLAB_BIN" iotrace -o new.rep -- touch ran'
	[ "$status" -eq 125 ]
	[[ "$output" == "ipclab iotrace: the descriptor limit (ulimit -n 8) leaves no room for the report pipe"* ]]
	[ ! -e ran ]
	[ ! -e new.rep ]	# the report file it had made for CMD is gone
	run sh -c 'ulimit -n 16 && exec "$IPCLAB_BIN" iotrace -s -o rep -- cat data.txt'
	[ "$status" -eq 0 ]
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 " rep
}

@test "-o refuses a directory, a FIFO and a device before CMD runs, and changes nothing" {
	mkdir dir
	mkfifo fifo
	for o in dir fifo /dev/null; do
		run timeout 20 "$IPCLAB_BIN" iotrace -o "$o" -- touch ran
		echo "$o: $output"
		[ "$status" -eq 125 ]
		[[ "$output" == "ipclab iotrace: $o: open: not a regular file (it is a "* ]]
		[ ! -e ran ]
	done
	[ -p fifo ]
	[ -d dir ]
	[ -z "$(ls dir)" ]
	[ "$(id -u)" -eq 0 ] || return 0
	echo theirs > theirs
	chown nobody theirs
	run ipclab iotrace -o theirs -- touch ran
	[ "$status" -eq 125 ]
	[ "$output" = "ipclab iotrace: theirs: open: it belongs to user nobody" ]
	[ "$(cat theirs)" = theirs ]
	[ ! -e ran ]
}

@test "-o keeps the old file when CMD cannot run, replaces it when it runs, appends to a descriptor" {
	echo old > rep
	run -127 ipclab iotrace -o rep -- /nonexistent/prog
	[ "$(cat rep)" = old ]
	run -127 ipclab iotrace -o new.rep -- /nonexistent/prog
	[ ! -e new.rep ]	# what iotrace made for it is gone
	ipclab iotrace -s -o rep -- cat data.txt > /dev/null
	[ "$(grep -c old rep)" -eq 0 ]
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 " rep
	echo kept > log
	ipclab iotrace -s -o /dev/fd/3 -- cat data.txt 3>> log > /dev/null
	[ "$(head -n 1 log)" = kept ]
	grep -q "^iotrace: cat exited 0, 1 process$" log
}

@test "a report that cannot be written exits 1 with one line: full file system, /dev/full, full stderr" {
	mkdir mnt
	mount -t tmpfs -o size=16k tmpfs mnt 2>/dev/null || skip "cannot mount a tmpfs here"
	dd if=/dev/zero of=mnt/fill bs=4k count=8 2>/dev/null || true
	run ipclab iotrace -o mnt/rep -- sh -c 'cat data.txt > /dev/null'
	umount mnt
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab iotrace: mnt/rep: write: No space left on device" ]
	run sh -c '"$IPCLAB_BIN" iotrace -o /dev/fd/3 -- cat data.txt 3> /dev/full > /dev/null'
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab iotrace: /dev/fd/3: write: No space left on device" ]
	run sh -c '"$IPCLAB_BIN" iotrace -- true 2> /dev/full'
	[ "$status" -eq 1 ]
	# a reader that has gone is no error: CMD's status stays
	run "$PY" -c 'import os, subprocess, sys
r, w = os.pipe(); os.close(r)
sys.exit(subprocess.run([os.environ["IPCLAB_BIN"], "iotrace", "--", "sh", "-c", "exit 3"], stderr=w).returncode)'
	[ "$status" -eq 3 ]
}

@test "--json without -o is refused with a hint, and the hint gives one clean document" {
	run ipclab iotrace --json -- touch ran
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ipclab iotrace: --json needs -o FILE: on stderr the document would mix with the program's own messages (-o /dev/fd/3 3>&1 >&2 puts it alone on stdout)" ]
	[ ! -e ran ]
	json=$(ipclab iotrace --json -o /dev/fd/3 -- sh -c 'cat data.txt; echo noise >&2' 3>&1 > /dev/null 2>&1)
	[ "$(jq -s length <<< "$json")" -eq 1 ]
	[ "$(jq --arg p "$D/data.txt" '[.files[] | select(.path == $p) | .read_bytes] | add' <<< "$json")" -eq "$(stat -c %s data.txt)" ]
}

@test "Ctrl+C stops CMD, prints the partial report and exits 130; a CMD that ignores it is named" {
	env --default-signal=INT "$IPCLAB_BIN" iotrace -o rep -- sh -c 'cat data.txt > /dev/null; exec sleep 30' &
	pid=$!
	wait_for 20 grep -qs "path=$D/data.txt" rep
	wait_for 20 pgrep -P "$pid" sleep
	child=$(pgrep -P "$pid")
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 130 ]
	grep -q "interrupted by SIGINT" rep
	grep -q "killed by SIGINT" rep
	grep -Eq "^ *[0-9]+ +cat +$D/data.txt +1 +[0-9]+ +$(stat -c %s data.txt) " rep
	wait_for 10 dead "$child"
	# a program that ignores SIGINT: iotrace still ends within a second or two
	env --default-signal=INT "$IPCLAB_BIN" iotrace -o rep2 -- sh -c 'trap "" INT; echo $$ > cmd.pid; sleep 30' &
	pid=$!
	wait_for 20 test -s cmd.pid
	t0=$(ms)
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	t1=$(ms)
	cmd=$(cat cmd.pid)
	pkill -P "$cmd" || true
	kill "$cmd" 2>/dev/null || true
	[ "$st" -eq 130 ]
	(( t1 - t0 < 3000 ))
	grep -q "still running after SIGINT" rep2
	wait_for 10 dead "$cmd"
}

@test "the shim preloaded is the build tree's, whatever is installed elsewhere" {
	# A stale install (an older ipclab in /usr/local) must not stand in for
	# the build: the traced process's own maps say which file it loaded.
	[ -n "$SHIM" ]
	run env -u IPCLAB_LIBDIR "$IPCLAB_BIN" iotrace -s -o rep -- cat /proc/self/maps
	[ "$status" -eq 0 ]
	mapped=$(awk '$6 ~ /libipclab_io\.so$/ { print $6 }' <<< "$output" | sort -u)
	[ "$mapped" = "$(realpath "$SHIM")" ]
	[[ "$mapped" == "$(realpath "$IPCLAB_BUILD")"/* ]]
	grep -Eq "^ *[0-9]+ +cat +/proc/[0-9]+/maps +1 " rep	# and it counted
}

@test "a fortified program (__open_2, __openat_2, __read_chk, __fgets_chk) runs right and is counted" {
	cat > fort.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Flags and sizes from the command line, so that the fortified forms are
 * the ones called. */
int main(int argc, char **argv)
{
	int flags = atoi(argv[2]), fd;
	size_t want = strtoul(argv[3], NULL, 10);
	int lmax = atoi(argv[4]);
	char buf[8192], line[64];
	long total = 0, lines = 0;
	ssize_t n;
	FILE *f;

	if ((fd = open(argv[1], flags)) == -1)
		return perror("open"), 1;
	while ((n = read(fd, buf, want)) > 0)
		total += n;
	close(fd);
	if ((fd = openat(AT_FDCWD, argv[1], flags)) == -1)
		return perror("openat"), 1;
	while ((n = read(fd, buf, want)) > 0)
		total += n;
	close(fd);
	if ((f = fopen(argv[1], "r")) == NULL)
		return perror("fopen"), 1;
	while (fgets(line, lmax, f))
		lines++;
	fclose(f);
	printf("bytes=%ld lines=%ld\n", total, lines);
	return 0;
}
C
	gcc -O2 -D_FORTIFY_SOURCE=2 -o fort fort.c
	syms=$(nm -D fort)
	for s in __open_2 __openat_2 __read_chk __fgets_chk __printf_chk; do
		grep -q " $s" <<< "$syms"
	done
	size=$(stat -c %s data.txt)
	run ipclab iotrace --json -o rep.json -- ./fort data.txt 0 4096 64
	[ "$status" -eq 0 ]
	[ "$output" = "bytes=$((2 * size)) lines=$(wc -l < data.txt)" ]
	one_doc rep.json
	[ "$(jq -c --arg p "$D/data.txt" '[.files[] | select(.path == $p)]
		| [(map(.opens) | add), (map(.read_bytes) | add)]' rep.json)" = "[3,$((3 * size))]" ]
}

@test "every EXAMPLE of ipclab-iotrace(1) runs and gives what the page shows" {
	printf 'abcdef' > in3
	mkdir bin
	ln -s "$IPCLAB_BIN" bin/ipclab
	mapfile -t ex < <(sed -n 's/^\.Dl //p' "$IPCLAB_SRC/man/ipclab-iotrace.1" |
		sed 's/\\-/-/g; s/\\&//g')
	[ "${#ex[@]}" -ge 8 ]
	ran=0
	for ((exn = 0; exn < ${#ex[@]}; exn++)); do
		[[ ${ex[exn]} == '$ '* ]] || continue
		cmd=${ex[exn]#'$ '} want=
		if (( exn + 1 < ${#ex[@]} )) && [[ ${ex[exn + 1]} != '$ '* ]]; then
			want=${ex[exn + 1]}
		fi
		cmd=${cmd//\/usr\/local\/lib\/ipclab\/libipclab_io.so/$SHIM}
		echo "example $exn of ${#ex[@]}: $cmd; want: $want"
		run --separate-stderr env PATH="$D/bin:$PATH" bash -c "$cmd"
		echo "status $status; stdout: ${output:0:200}; stderr: ${stderr:0:300}"
		if [[ $want == 'ipclab iotrace: '* ]]; then
			[ "$status" -eq 125 ]
			[[ $stderr == "${want%...}"* ]]
		else
			[ "$status" -eq 0 ]
			[ -z "$want" ] || [ "$output" = "$want" ]
		fi
		ran=$((ran + 1))
	done
	[ "$ran" -ge 7 ]
}

@test "Ctrl+C on a terminal: the partial report at once, exit 130, CMD gone" {
	# The terminal sends SIGINT to the whole foreground group, iotrace and
	# CMD alike; a pseudo-terminal stands in for the user's.
	run timeout 60 "$PY" -c '
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def read_for(seconds, until=None):
    global out
    end = time.time() + seconds
    while time.time() < end and (until is None or until not in out):
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return
            if not d:
                return
            out += d
read_for(30, b"/data.txt\r")
os.write(fd, b"\x03")
t0 = time.time()
read_for(30)
_, st = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(st), "%.1f" % (time.time() - t0))
sys.stdout.write(out.decode(errors="replace"))
' "$IPCLAB_BIN" iotrace -- sh -c 'echo $$ > cmd.pid; cat data.txt > /dev/null; exec sleep 30'
	read -r code secs <<< "${lines[0]}"
	[ "$code" -eq 130 ]
	(( ${secs%.*} < 3 ))
	grep -q "interrupted by SIGINT" <<< "$output"
	grep -q "killed by SIGINT" <<< "$output"
	wait_for 10 dead "$(cat cmd.pid)"
}
