# libipclab_io.so against strace, workload by workload: each runs bare and
# traced (tests/iotrace_compare), must print, leave and exit the same, and
# iotrace's bytes per path must be strace's.  Failed writes, stdio refills,
# entry points reached only through glibc's insides, any number of FILEs and
# descriptors, and a report channel that no call of the program can take.

load common
bats_require_minimum_version 1.5.0

setup() {
	D=$(scratch)
	W=$D/work	# the workload's directory; iotrace_compare's own is $D/cmp
	mkdir -p "$W" && cd "$W" || return 1
	seq 1 60000 > data.txt
	head -c 300000 /dev/urandom > random.bin
	COMPARE="$IPCLAB_SRC/tests/iotrace_compare"
	H=$IPCLAB_HELPERS
}

teardown() {
	cd / && rm -rf "$D"
}

# compare SHELL-SCRIPT: bare and traced alike, and every path as strace saw it.
compare() {
	rm -rf "$D/cmp"
	run "$COMPARE" "$D/cmp" sh -c "$1"
	echo "$output"
	[ "$status" -eq 0 ]
	! grep -Eq "MISMATCH|DIFFERENT" <<< "$output"
}

# ---- failed writes -------------------------------------------------------

@test "writes to /dev/full are not counted: the kernel took nothing" {
	compare "$H/iotrace_corners full"
	grep -q "^ok /dev/full strace=0/0 iotrace=0/0" <<< "$output"
}

@test "printf to a closed stdout and to /dev/full counts nothing" {
	compare "$H/iotrace_corners stdout >&-; $H/iotrace_corners stdout > /dev/full; cat data.txt > c.out"
}

@test "printf into a pipe whose reader left, SIGPIPE ignored, counts what the reader got" {
	compare "$H/iotrace_corners stdout | head -c 2500 > head.out"
}

# ---- stdio refills ---------------------------------------------------------

@test "bfd's ftell, fseek and fread at block and random offsets match strace" {
	compare "$H/iotrace_corners bfd data.txt; $H/iotrace_corners bfd random.bin"
}

@test "ungetc then fseek reads nothing more than strace saw" {
	compare "$H/iotrace_corners unget data.txt"
}

@test "scanf, fscanf, vfscanf and vscanf from a pipe match strace" {
	# 3200 lines: each scanf call costs the shim two readings of the
	# kernel's counters, so strace sees six syscalls a word (60000 words: 60 s)
	head -n 3200 data.txt > words.txt
	compare "seq 1 3200 | $H/iotrace_corners scanf; $H/iotrace_corners scanf < words.txt"
}

@test "a prompt flushed by a line-buffered read of stdin is counted on stdout" {
	compare "seq 1 300 | $H/iotrace_corners prompt > prompt.out"
}

@test "getw and putw match strace" {
	compare "$H/iotrace_corners words words.bin"
}

# ---- real programs ---------------------------------------------------------

@test "nm, objdump, ar, size and strings on a real object match strace" {
	command -v nm > /dev/null || skip "no binutils"
	cp /usr/bin/ls prog
	compare 'nm -D prog > nm.out; objdump -d prog > objdump.out; objdump -h prog;
		ar rcs lib.a prog data.txt && ar t lib.a && ar x lib.a data.txt;
		size prog; strings -n 8 prog | tail -n 3'
}

@test "a gcc compile, assemble and link matches strace" {
	command -v gcc > /dev/null || skip "no gcc"
	printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' > hi.c
	printf 'int twice(int x) { return 2 * x; }\n' > two.c
	compare 'gcc -O1 -c two.c -o two.o && gcc -O1 -o hi hi.c two.o && ./hi;
		gcc -S -o - hi.c | head -n 2 > /dev/null'
}

# ---- entry points through glibc's insides ----------------------------------

@test "error, error_at_line, warn, perror, psignal, psiginfo and getopt's complaints match strace" {
	compare "$H/iotrace_entry messages > msg.out 2> msg.err"
	grep -q "invalid option -- 'x'" msg.err
	compare "$H/iotrace_entry messages 2>&1 | cat > both.out"
}

@test "err(3) prints and exits 3; its message is counted" {
	compare "$H/iotrace_entry err gone 2> err.out; echo \$? > status.out"
	[ "$(cat status.out)" = 3 ]
}

@test "quick_exit: what its handlers flush is counted, and the process reports" {
	compare "$H/iotrace_entry quick > quick.out; echo \$? >> quick.out"
	[ "$(tail -n 1 quick.out)" = 4 ]
}

@test "fcloseall's flush is counted" {
	compare "$H/iotrace_entry fcloseall closeall.out > stdout.out"
}

@test "fexecve and execveat of a FILE's reader match strace" {
	compare "$H/iotrace_entry fexecve data.txt > exec.out"
}

@test "sendmmsg and recvmmsg count each message" {
	compare "$H/iotrace_entry mmsg"
	grep -Eq "^ok socket:\[[0-9]+\] strace=0/180 iotrace=0/180" <<< "$output"
}

@test "open, read, pread, write, writev and close through syscall(2) match strace" {
	compare "$H/iotrace_entry syscall data.txt > sys.out"
	grep -q "data.txt strace=5100/0 iotrace=5100/0" <<< "$output"
}

# ---- no fixed limits ---------------------------------------------------------

@test "300 FILEs flushed at exit and the highest descriptor allowed are counted" {
	compare "$H/iotrace_entry many > many.out"
	[ "$(cat many.out)" = "many 1" ]
	grep -q "/f299 strace=0/9 iotrace=0/9" <<< "$output"
	grep -q "/high strace=0/8 iotrace=0/8" <<< "$output"
}

# ---- the report channel ------------------------------------------------------

@test "a posix_spawn child with addclosefrom_np(3) still reports" {
	compare "$H/iotrace_channel closefrom data.txt > cat.out"
	grep -q "/data.txt strace=[1-9]" <<< "$output"
}

@test "close_range(3, ~0U) through syscall(2) and then exec: the reader still reports" {
	compare "$H/iotrace_channel range data.txt > cat.out"
	grep -q "/data.txt strace=[1-9]" <<< "$output"
}

@test "FD_CLOEXEC and FIOCLEX on every descriptor, then exec: the reader still reports" {
	compare "$H/iotrace_channel cloexec data.txt > cat.out"
	grep -q "/data.txt strace=[1-9]" <<< "$output"
}

@test "bash's exec 1001>file: the file gets only what the script wrote, the children still report" {
	compare 'bash -c "exec 1001>user.txt; cat data.txt > c1; echo mine >&1001;
		exec 1000>user2.txt 1002>user3.txt; cat data.txt | wc -l; echo two >&1000; exec 1001>&-;
		sh -c \"cat data.txt > c2\""'
	[ "$(cat user.txt)" = mine ]
	[ "$(cat user2.txt)" = two ]
}

@test "the channel replaced by the kernel's own dup2: the report is dropped, the file untouched" {
	printf 'before\n' > mine.txt
	run --separate-stderr ipclab iotrace -o "$D/rep" -- "$H/iotrace_channel" raw mine.txt
	[ "$status" -eq 0 ]
	[ "$output" = raw ]
	[ "$stderr" = "" ]
	[ "$(cat mine.txt)" = before ]
}

# ---- interpreters, tools and builds ------------------------------------------

@test "python3 reading by lines, writing, seeking and a subprocess match strace" {
	compare '/usr/bin/python3 -c "
import subprocess
with open(\"data.txt\") as f:
    n = sum(1 for _ in f)
with open(\"py.out\", \"w\") as f:
    f.write(str(n) * 5000)
with open(\"random.bin\", \"rb\") as f:
    f.seek(100000); a = f.read(5000); f.seek(-10, 2); b = f.read()
print(n, len(a), len(b))
subprocess.run([\"wc\", \"-c\", \"py.out\"], check=True)
"'
}

@test "perl reading, writing, seeking and printing to a pipe match strace" {
	compare 'perl -e "open(my \$f, \"<\", \"data.txt\") or die; my \$n = 0; \$n++ while <\$f>;
		seek(\$f, 1000, 0); read(\$f, my \$b, 50000); close \$f;
		open(my \$o, \">\", \"pl.out\") or die; print \$o \"x\" x 100000; close \$o;
		print \"\$n \", length(\$b), \"\\n\"" | cat'
}

@test "git init, add, commit, log and diff match strace" {
	command -v git > /dev/null || skip "no git"
	export IOTRACE_COMPARE_VOLATILE='^repo/\.git/index$'
	compare 'export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
		export HOME=$PWD GIT_CONFIG_NOSYSTEM=1
		git init -q repo && cd repo && cp ../data.txt . &&
		git -c user.name=a -c user.email=a@b add data.txt &&
		git -c user.name=a -c user.email=a@b commit -q -m one &&
		seq 5 > data.txt && git diff --stat && git log --oneline | wc -l'
}

@test "sqlite3 creating, filling and querying a database matches strace" {
	command -v sqlite3 > /dev/null || skip "no sqlite3"
	compare 'sqlite3 db.sqlite "create table t(a, b); with recursive c(x) as (select 1
		union all select x + 1 from c where x < 20000) insert into t select x, hex(x * 7919)
		from c; select count(*), sum(a) from t;" | cut -c1-20;
		sqlite3 db.sqlite "select count(*) from t where a % 7 = 0"'
}

@test "make -j2 of a few C files matches strace" {
	command -v make > /dev/null && command -v gcc > /dev/null || skip "no make or gcc"
	for i in 1 2 3; do printf 'int f%d(int x) { return x + %d; }\n' $i $i > f$i.c; done
	printf 'int f1(int), f2(int), f3(int);\nint main(void) { return f1(0) + f2(0) + f3(0) - 6; }\n' > main.c
	printf 'prog: main.o f1.o f2.o f3.o\n\tgcc -o $@ $^\n%%.o: %%.c\n\tgcc -O1 -c $<\n' > Makefile
	compare 'make -s -j2 && ./prog && echo built'
}

@test "compressors (xz, bzip2, zstd, gzip) and diff, cmp, patch match strace" {
	compare 'xz -k -T1 data.txt && xz -dc data.txt.xz | cmp - data.txt;
		bzip2 -k data.txt && bzip2 -dc data.txt.bz2 | wc -c;
		zstd -q -k data.txt -o d.zst && zstd -q -dc d.zst | md5sum;
		gzip -c random.bin > r.gz; seq 1 59000 > less.txt; diff data.txt less.txt > d.patch;
		patch -s -o patched.txt less.txt d.patch && cmp patched.txt data.txt'
}

@test "awk, sed -i, sort -m, join and split match strace" {
	compare 'awk "NR % 3 == 0 { print > \"a3.out\" } END { print NR }" data.txt;
		cp data.txt s.txt && sed -i "s/0/o/g" s.txt; sort data.txt > s1; sort -n data.txt > s2;
		sort -m s1 s1 | tail -n 1; split -l 7000 data.txt part.; cat part.* | wc -l;
		seq 1 100 | awk "{print \$1, \$1 * 2}" > j1; join j1 j1 | wc -l'
}

@test "tclsh and node read and write files as strace sees" {
	command -v tclsh > /dev/null || skip "no tclsh"
	compare 'echo "set f [open data.txt]; set d [read \$f]; close \$f;
		set o [open tcl.out w]; puts -nonewline \$o [string range \$d 0 9999]; close \$o;
		puts [string length \$d]" | tclsh'
	command -v node > /dev/null || skip "no node"
	compare 'node -e "const fs = require(\"fs\"); const d = fs.readFileSync(\"data.txt\");
		fs.writeFileSync(\"node.out\", d.subarray(0, 12345)); console.log(d.length)"'
}

# ---- more real programs and stdio corners (issue 11: 60 workloads) ----------

@test "as and ld on a hand-written assembly file match strace" {
	command -v as > /dev/null && command -v ld > /dev/null || skip "no binutils"
	printf '.globl _start\n_start:\n\tmov $60, %%eax\n\tmov $3, %%edi\n\tsyscall\n' > s.s
	compare 'as -o s.o s.s && ld -o s s.o; ./s; echo $? > st.out; objdump -d s.o | tail -n 2'
}

@test "ld -r, nm and objdump -dr on real objects and an archive match strace" {
	command -v gcc > /dev/null || skip "no gcc"
	for i in 1 2; do printf 'int g%d(int x) { return x * %d; }\n' $i $i > g$i.c; done
	gcc -O1 -c g1.c g2.c
	compare 'ld -r -o both.o g1.o g2.o && nm both.o && objdump -dr both.o > d.out &&
		ar rcs libg.a g1.o g2.o && nm -s libg.a > nm.out && ar t libg.a && ar x libg.a g2.o'
}

@test "readelf and objdump -s on a real executable match strace" {
	command -v readelf > /dev/null || skip "no binutils"
	cp /usr/bin/sort prog
	compare 'readelf -aW prog > re.out; objdump -s -j .rodata prog | tail -n 2; nm -D --size-sort prog | wc -l'
}

@test "a gcc build of three files with -g -O2 and dependency files matches strace" {
	command -v gcc > /dev/null || skip "no gcc"
	for i in 1 2; do printf 'int h%d(int x) { return x - %d; }\n' $i $i > h$i.c; done
	printf '#include <stdio.h>\nint h1(int), h2(int);\nint main(void) { printf("%%d\\n", h1(5) + h2(5)); return 0; }\n' > m.c
	compare 'gcc -g -O2 -MD -c h1.c h2.c && gcc -g -O2 -o p m.c h1.o h2.o && ./p && cat h1.d'
}

@test "make -j2 rebuilding what changed matches strace" {
	command -v make > /dev/null && command -v gcc > /dev/null || skip "no make or gcc"
	for i in 1 2 3 4; do printf 'int k%d(int x) { return x + %d; }\n' $i $i > k$i.c; done
	printf 'int k1(int), k2(int), k3(int), k4(int);\nint main(void) { return k1(0) + k2(0) + k3(0) + k4(0) - 10; }\n' > main.c
	printf 'prog: main.o k1.o k2.o k3.o k4.o\n\tgcc -o $@ $^\n%%.o: %%.c\n\tgcc -O1 -c $<\n' > Makefile
	make -s -j2
	compare 'rm k2.o k4.o && make -s -j2 && ./prog && make -q prog && echo up to date'
}

@test "git show, cat-file and archive match strace" {
	command -v git > /dev/null || skip "no git"
	export IOTRACE_COMPARE_VOLATILE='^repo/\.git/index$'
	export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
	export HOME=$W GIT_CONFIG_NOSYSTEM=1
	git init -q repo && cp data.txt repo/ && git -C repo add data.txt &&
		git -C repo -c user.name=a -c user.email=a@b commit -q -m one
	compare 'cd repo && git show --stat HEAD | tail -n 1 && git cat-file -p HEAD | wc -l &&
		git archive HEAD | tar tf - && git archive -o ../a.tar HEAD && git status --short'
}

@test "python3 json and gzip to files match strace" {
	compare '/usr/bin/python3 -c "
import json, gzip
d = [list(range(i % 50)) for i in range(3000)]
open(\"j.json\", \"w\").write(json.dumps(d))
with gzip.GzipFile(\"j.gz\", \"wb\", mtime=0) as g: g.write(json.dumps(d).encode())
print(len(json.load(open(\"j.json\"))), len(gzip.open(\"j.gz\").read()))"'
}

@test "python3 text files with seek, tell and readline match strace" {
	compare '/usr/bin/python3 -c "
f = open(\"data.txt\")
n = 0
for i in range(200):
    f.seek((i * 7919) % 300000); f.readline(); n += len(f.readline())
print(n, f.tell())
with open(\"py.out\", \"a\") as o:
    for i in range(5000): print(i, file=o)"'
}

@test "perl -i, perl -ne and perl seek and read match strace" {
	compare 'cp data.txt p.txt && perl -i -pe "s/5/five/" p.txt && perl -ne "print if /99/" data.txt | wc -l;
		perl -e "open(my \$f, \"<\", \"random.bin\") or die; my (\$b, \$n); for my \$i (1..100) {
		seek(\$f, (\$i * 2971) % 290000, 0); \$n += read(\$f, \$b, 1000) } print \"\$n\\n\""'
}

@test "sqlite3 .dump into a new database matches strace" {
	command -v sqlite3 > /dev/null || skip "no sqlite3"
	sqlite3 db.sqlite "create table t(a, b); with recursive c(x) as (select 1 union all
		select x + 1 from c where x < 5000) insert into t select x, x * 3 from c;"
	compare 'sqlite3 db.sqlite .dump > dump.sql && sqlite3 db2.sqlite < dump.sql &&
		sqlite3 db2.sqlite "select sum(b) from t"'
}

@test "node appending and reading a file in pieces matches strace" {
	# (streams run libuv's worker threads, where glibc's malloc reads
	# /sys/devices/system/cpu/online and /proc/sys/vm/overcommit_memory by
	# its internal calls, which no wrapper sees: a stated limit)
	command -v node > /dev/null || skip "no node"
	compare 'node -e "const fs = require(\"fs\"); for (let i = 0; i < 20; i++)
		fs.appendFileSync(\"n.out\", \"line \" + i + \"\\n\"); fs.appendFileSync(\"n.out\", fs.readFileSync(\"data.txt\")); const fd = fs.openSync(\"n.out\", \"r\");
		const b = Buffer.alloc(777); let n = 0, k; while ((k = fs.readSync(fd, b)) > 0) n += k;
		fs.closeSync(fd); console.log(n)"'
}

@test "md5sum, sha256sum, wc, tac, od and tar with gzip match strace" {
	compare 'md5sum data.txt random.bin; sha256sum data.txt > s.out; wc -lc data.txt;
		tac data.txt | head -n 2; od -An -tx1 -N 64 random.bin | wc -l;
		tar czf a.tgz data.txt random.bin && tar tzf a.tgz && mkdir y && tar xzf a.tgz -C y &&
		cmp y/random.bin random.bin'
}

@test "popen reading a child and feeding a command matches strace" {
	compare "$H/iotrace_more popen data.txt"
}

@test "freopen of stdout and stdin matches strace" {
	compare "$H/iotrace_more freopen data.txt > first.out"
}

@test "tmpfile written, rewound and read back matches strace" {
	compare "$H/iotrace_more tmpfile random.bin"
}

@test "unbuffered and small-buffered FILEs match strace" {
	compare "$H/iotrace_more unbuf data.txt"
}

@test "getline and getdelim with ftell and fseek between match strace" {
	compare "$H/iotrace_more getline data.txt"
}

# ---- the lines themselves ------------------------------------------------------

# raw_lines CMD...: the shim's lines for CMD in $D/lines, through a pipe at
# fd 7 as iotrace's (the shim takes a pipe only), CMD's stdout in $D/stdout.
raw_lines() {
	local shim
	shim=$(find "$IPCLAB_BUILD" -name libipclab_io.so -path '*/ipclab/*' | head -n 1)
	{ IPCLAB_IOTRACE_FD=7 LD_PRELOAD=$shim "$@" 7>&1 > "$D/stdout"; } | cat > "$D/lines"
}

@test "a file renamed before its close is reported under its first name, after an at=renamed line" {
	raw_lines /usr/bin/python3 -c '
import os
fd = os.open("a.o.tmp", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"12345")
os.rename("a.o.tmp", "a.o")
os.write(fd, b"678")
os.close(fd)'
	grep -A1 "at=renamed path=$W/a.o$" "$D/lines" |
		grep -Eq "^iotrace: pid=[0-9]+ fd=[0-9]+ at=close opens=1 reads=0 read_bytes=0 writes=2 write_bytes=8 path=$W/a.o.tmp$"
	[ "$(grep -c at=renamed "$D/lines")" -eq 1 ]	# removal alone is no rename
}

@test "at=end carries the kernel's rchar and wchar, less the shim's own lines" {
	raw_lines sh -c 'cat data.txt > copy.txt; exec cat data.txt'
	size=$(stat -c %s data.txt)
	cat "$D/lines"
	# cat's own process: it wrote the file once; the kernel agrees exactly
	grep -Eq "^iotrace: pid=[0-9]+ ppid=[0-9]+ at=end rchar=[0-9]+ wchar=$size path=/usr/bin/cat$" "$D/lines"
	# sh then exec cat: one process, its count goes on across the exec
	grep -Eq "^iotrace: pid=[0-9]+ ppid=[0-9]+ at=end rchar=[0-9]+ wchar=$((size)) path=/usr/bin/cat$" "$D/lines"
	[ "$(grep -Ec "at=end rchar=[0-9]+ wchar=$size path=/usr/bin/cat$" "$D/lines")" -eq 2 ]
	cmp "$D/stdout" data.txt
}

@test "at=end of a process whose threads ended counts their bytes, not its children's" {
	raw_lines sh -c "$H/iotrace_threads 8 10000; cat data.txt > copy.txt"
	read -r _ _ _ rb _ _ _ wb < "$D/stdout"
	out=$(stat -c %s "$D/stdout")
	grep -Eq "at=end rchar=[0-9]+ wchar=$((wb + out)) path=$H/iotrace_threads$" "$D/lines"
	# sh's own count leaves out what its children wrote
	sh_w=$(grep -E "at=end rchar=[0-9]+ wchar=[0-9]+ path=/usr/bin/dash$" "$D/lines" |
		tail -n 1 | sed 's/.*wchar=\([0-9]*\).*/\1/')
	[ "$sh_w" -lt 1000 ]
}

@test "a process that dies of abort() still reports what it moved" {
	compare "$H/iotrace_corners abort data.txt > ab.out; echo \$? > st.out"
	[ "$(cat st.out)" -eq 134 ]
	grep -q "/data.txt strace=8192/0 iotrace=8192/0" <<< "$output"
}

@test "stdio calls mixed as real programs mix them match strace" {
	seq 1 3000 > in.txt
	IOTRACE_COMPARE_STDIN=$W/in.txt compare "$H/iotrace_mix"
	grep -q "/app.txt strace=12288/13895 iotrace=12288/13895" <<< "$output"
}

@test "a failed assert's message is counted, and the process reports before it dies" {
	compare "$H/iotrace_corners assert data.txt > as.out 2> as.err; echo \$? > st.out"
	[ "$(cat st.out)" -eq 134 ]
	grep -q "Assertion" as.err
	grep -q "/as.err strace=0/[1-9][0-9]* iotrace=0/[1-9]" <<< "$output"
}

@test "wide-character stdio (fgetws, fgetwc, fputws, putwchar, wprintf, fwprintf) matches strace" {
	export IOTRACE_COMPARE_VOLATILE='^cut/wide\.out$'	# how far it got: a race
	compare "$H/iotrace_corners wide data.txt > wide.stdout;
		mkdir -p cut && cd cut && $H/iotrace_corners wide ../data.txt | head -c 5000 > /dev/null"
	grep -q "/wide.out strace=0/[1-9][0-9]* iotrace=0/[1-9]" <<< "$output"
}

@test "rev (fgetws, fputws) in a pipeline and cut short by head matches strace" {
	compare 'rev data.txt | rev > r.out; cmp r.out data.txt; rev data.txt | head -n 3'
}

@test "fgets of lines that hold NUL bytes matches strace" {
	/usr/bin/python3 -c '
import random
random.seed(3)
with open("nul.bin", "wb") as f:
    for i in range(20000):
        n = random.randrange(0, 150)
        f.write(bytes(random.choice(b"ab\0\0c") for _ in range(n)) + b"\n")
    f.write(b"last\0line")'
	compare "$H/iotrace_corners nul nul.bin"
	grep -q "/nul.bin strace=\([0-9]*\)/0 iotrace=\1/0" <<< "$output"
}

@test "a report line into a pipe without a reader neither kills the writer nor takes its own pending SIGPIPE" {
	shim=$(find "$IPCLAB_BUILD" -name libipclab_io.so -path '*/ipclab/*' | head -n 1)
	# the channel (fd 7) is a pipe whose read end is closed before the exec
	cat > gone.py <<'PY'
import os, signal, sys
r, w = os.pipe()
os.close(r)
os.dup2(w, 7)
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
os.environ.update(IPCLAB_IOTRACE_FD="7", LD_PRELOAD=sys.argv[1])
os.execv(sys.argv[2], sys.argv[2:])
PY
	cat > victim.py <<'PY'
import os, signal, threading
open("a.txt", "w").write("x" * 1000)	# its close sends a line: EPIPE
print("alive", signal.SIGPIPE in signal.sigpending())
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPIPE})
# the program's own, pending for this thread, where the EPIPE's would go
signal.pthread_kill(threading.get_ident(), signal.SIGPIPE)
open("b.txt", "w").write("y" * 1000)
print("pending", signal.SIGPIPE in signal.sigpending())
PY
	run env -u LD_PRELOAD /usr/bin/python3 gone.py "$shim" /usr/bin/python3 victim.py
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'alive False\npending True')" ]
	[ "$(stat -c %s a.txt b.txt | paste -sd' ')" = "1000 1000" ]
}
