#!/usr/bin/env bats
# ipclab itself: the dispatcher, the one table of commands, and the documents
# that must agree with it.

load common

setup() {
	dir=$(scratch)
	export MANPAGER=cat PAGER=cat MANWIDTH=80
}

# open_dir: a scratch directory that another user may enter (scratch's are
# 0700 under bats's own), removed by teardown.
open_dir() {
	open=$(mktemp -d /tmp/ipclab-open.XXXXXX)
	chmod 755 "$open"
}
teardown() { [ -z "${open:-}" ] || rm -rf "$open"; }

# The independent truth: the COMMAND(name, "summary") lines of cmd/*.c.
registered() {
	head -qn1 "$IPCLAB_SRC"/cmd/*.c |
		sed -n 's/^\/\/ COMMAND(\([a-z]*\), "\(.*\)")$/\1\t\2/p' | sort
}

# The commands this build has (a build may be limited with IPCLAB_COMMANDS).
built() { "$IPCLAB_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}'; }

# The truth for that: the table CMake generated for the build.
compiled() { sed -n 's/^COMMAND(\([a-z]*\),.*/\1/p' "$IPCLAB_BUILD/gen/commands.h" | sort; }

# need CMD...: skips the test in a build without these commands.
need() {
	local c
	for c in "$@"; do
		grep -qx "$c" <<<"$(compiled)" || skip "this build has no $c"
	done
}

@test "ipclab with no argument lists every built command with its summary" {
	run ipclab
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Usage:" ]
	[ -n "$(compiled)" ]
	[ "$(built | sort)" = "$(compiled)" ]
	while IFS=$'\t' read -r name summary; do
		grep -qx "$name" <<<"$(compiled)" || continue
		grep -Eq "^ $name +$summary\$" <<<"$output" || { echo "$name: not listed"; false; }
		run ipclab "$name" --version	# and the dispatcher finds it
		[ "$status" -eq 0 ] || { echo "$name: not found"; false; }
		run ipclab
	done < <(registered)
}

@test "--version prints the project's version" {
	want=$(sed -n 's/^project(ipclab VERSION \([0-9.]*\).*/\1/p' "$IPCLAB_SRC/CMakeLists.txt")
	run ipclab --version
	[ "$status" -eq 0 ]
	[ "$output" = "ipclab $want" ]
}

@test "an unknown command is named in one line, exit 2" {
	run ipclab frobnicate
	[ "$status" -eq 2 ]
	[ "$output" = "ipclab: 'frobnicate' is not an ipclab command; see 'ipclab --help'." ]
	run ipclab --frobnicate
	[ "$status" -eq 2 ]
	[ "${lines[1]}" = "Try 'ipclab --help' for more information." ]
}

@test "every command follows the help template, --version and bad-option conventions" {
	for cmd in $(compiled); do
		run ipclab "$cmd" --help
		[ "$status" -eq 0 ] || { echo "$cmd --help: $status"; false; }
		[ "${lines[0]}" = "Usage:" ]
		[[ "${lines[1]}" == " ipclab $cmd"* ]]
		grep -qx "Options:" <<<"$output"
		grep -q "^ -h, --help " <<<"$output"
		grep -q "^ -V, --version " <<<"$output"
		[ "${lines[-1]}" = "See ipclab-$cmd(1)." ]
		run ipclab "$cmd" -V
		[[ "$output" == "ipclab $cmd "[0-9]* ]]
		run ipclab "$cmd" --no-such-option
		[ "$status" -eq 2 ] || { echo "$cmd: bad option gave $status"; false; }
		[ "${lines[-1]}" = "Try 'ipclab $cmd --help' for more information." ]
	done
}

@test "a link named ipclab-CMD runs CMD, busybox-style" {
	ln -s "$IPCLAB_BIN" "$dir/ipclab-shmstr"
	run "$dir/ipclab-shmstr" --version
	[[ "$output" == "ipclab shmstr "* ]]
	cd "$dir"
	run --separate-stderr ./ipclab-shmstr str.dat hello
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	ln -s "$IPCLAB_BIN" "$dir/ipclab-nope"
	run "$dir/ipclab-nope"
	[ "$status" -eq 2 ]
}

@test "ipclab help CMD shows the command's manual page from the build tree" {
	command -v man >/dev/null || skip "man is not installed"
	run ipclab help shmstr
	[ "$status" -eq 0 ]
	[[ "$output" == *"ipclab-shmstr"*"hand a string to a child"* ]]
	run ipclab help
	[[ "$output" == *"IPCLAB(1)"* ]]
	run ipclab help frobnicate
	[ "$status" -eq 2 ]
}

@test "every command has a man page, and ipclab(1) lists exactly the commands" {
	listed=$(sed -n '/^\.It Cm /s/^\.It Cm //p' "$IPCLAB_SRC/man/ipclab.1" | sort)
	[ "$listed" = "$(registered | cut -f1)" ]
	for cmd in $(registered | cut -f1); do
		[ -f "$IPCLAB_SRC/man/ipclab-$cmd.1" ]
		grep -q "^\.Xr ipclab-$cmd 1" "$IPCLAB_SRC/man/ipclab.1"
	done
}

@test "the bench, CI, dependency, mutation and fuzz scripts pass shellcheck" {
	cd "$IPCLAB_SRC"
	scripts=$(grep -l -d skip '^#!/usr/bin/env bash' bench/* scripts/* .ci/* tests/mutate/* tests/fuzz/*)
	grep -qx tests/mutate/run <<<"$scripts"
	grep -qx tests/fuzz/run <<<"$scripts"
	[ -n "$scripts" ]
	# shellcheck disable=SC2086
	shellcheck $scripts
}

# complete WORD...: what the completion offers for the command line WORDS
# (the last one is the word being completed), one per line.
complete_line() {
	# shellcheck disable=SC1091
	source "$IPCLAB_BUILD/share/bash-completion/completions/ipclab"
	COMP_WORDS=("$IPCLAB_BIN" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_ipclab
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

@test "the bash completion offers exactly the commands" {
	offered=$(complete_line "" | grep -v -e '^-' -e '^help$')
	[ "$offered" = "$(compiled)" ]
	[ "$(complete_line help "")" = "$(compiled)" ]
	[ "$(complete_line sh)" = shmstr ]
}

@test "the bash completion offers every option of every command's --help" {
	for cmd in $(compiled); do
		want=$(ipclab "$cmd" --help | grep -oE '^ +(--?[A-Za-z0-9][A-Za-z0-9-]*, )*--?[A-Za-z0-9][A-Za-z0-9-]*' |
			tr -d ',' | tr ' ' '\n' | grep . | sort)
		[ -n "$want" ]
		[ "$(complete_line "$cmd" -)" = "$want" ] || { echo "$cmd"; false; }
	done
	[ "$(complete_line race --sy)" = --sync ]
}

@test "ipclab race --sync Tab offers the modes, and race takes each of them" {
	need race shmstr mallocprobe
	offered=$(complete_line race --sync "")
	[ "$(wc -l <<<"$offered")" -ge 5 ]
	grep -qx none <<<"$offered"
	grep -qx mutex <<<"$offered"
	cd "$dir"
	for mode in $offered; do
		run timeout -k 5 60 "$IPCLAB_BIN" race 2 --sync "$mode" --target 1000 --file "$dir/r.dat"
		[ "$status" -eq 0 ] || { echo "--sync $mode: $status: $output"; false; }
	done
	run "$IPCLAB_BIN" race 2 --sync bogus --target 1000	# the check can fail
	[ "$status" -eq 2 ]
	[ "$(complete_line race --sync=mu)" = mutex ]
	for layout in $(complete_line race --layout ""); do
		run timeout -k 5 60 "$IPCLAB_BIN" race 2 --layout "$layout" --target 1000 --file "$dir/r.dat"
		[ "$status" -eq 0 ] || { echo "--layout $layout: $status: $output"; false; }
	done
	[ "$(complete_line race --layout "" | wc -l)" -ge 2 ]
	[ "$(complete_line shmstr --notify "")" = "$(printf 'pipe\nsignal')" ]
	[ "$(complete_line mallocprobe -S ladder,b)" = ladder,bits ]
}

# The help reader on a help text of its own: a two-word list is a list
# too, whatever the commands' texts happen to hold today.
@test "ipclab CMD --opt Tab offers a list of two values, not words of prose" {
	# shellcheck disable=SC1091
	source "$IPCLAB_BUILD/share/bash-completion/completions/ipclab"
	parsed=$(printf '%s\n' 'Usage:' ' ipclab x [options] FILE' '' 'Options:' \
		' -m, --mode MODE     fast or slow' ' -w, --why TEXT      say why in plain words' \
		' -h, --help          display this help' '' | _ipclab_parse)
	[ "$(grep -c . <<<"$parsed")" -eq 4 ]
	grep -qx $'pos\tFILE' <<<"$parsed"
	grep -qx $'opt\t-m --mode\tMODE\tfast slow' <<<"$parsed"
	grep -qx $'opt\t-w --why\tTEXT\t' <<<"$parsed"
	grep -qx $'opt\t-h --help\t\t' <<<"$parsed"
}

@test "the bash completion offers file names where a file is expected, commands after --" {
	need shmstr race pool iotrace
	cd "$dir"
	touch alpha.dat alpine.conf
	[ "$(complete_line shmstr al)" = "$(printf 'alpha.dat\nalpine.conf')" ]
	[ "$(complete_line shmstr --read alph)" = alpha.dat ]
	[ "$(complete_line race --file alph)" = alpha.dat ]
	[ "$(complete_line pool --no-fifo alpi)" = alpine.conf ]
	[ "$(complete_line iotrace -o alph)" = alpha.dat ]
	complete_line iotrace -- ca | grep -qx cat
	[ "$(complete_line iotrace -- cat alph)" = alpha.dat ]
	[ -z "$(complete_line race --target "")" ]	# a number: nothing to offer
}

@test "ipclab libwatch Tab offers the sonames of the libraries processes map" {
	need libwatch
	# the truth: this shell maps the C library
	grep -q '/libc\.so\.6$' "/proc/$$/maps"
	offered=$(complete_line libwatch "")
	grep -qx libc.so.6 <<<"$offered"
	[[ $offered != */* ]]
	[ "$(complete_line libwatch libc.so)" = libc.so.6 ]
	[ "$(complete_line libwatch --build "")" = "$(printf 'mixed\npic\npie')" ]
}

@test "the bash completion passes shellcheck" {
	shellcheck -s bash "$IPCLAB_BUILD/share/bash-completion/completions/ipclab"
}

@test "README.md's table points every command to a sample of its output" {
	readme=$IPCLAB_SRC/README.md
	grep -q '^Run on this machine on ' "$readme"	# samples are labelled
	for cmd in $(registered | cut -f1); do
		grep -q "^| \`ipclab $cmd.*| \[$cmd\](#$cmd) |\$" "$readme" ||
			{ echo "$cmd: no row pointing to #$cmd"; false; }
		# the sample: a heading, then a block that runs the command
		sed -n "/^### $cmd\$/,/^### /p" "$readme" | grep -q "^\\$ .*ipclab $cmd" ||
			{ echo "$cmd: no sample under '### $cmd'"; false; }
	done
}

# What a user reads names the exercise; "seed" and "homework" are words of
# the project's history, not of its users.
@test "nothing a user reads says seed or homework" {
	local bad=0 where
	for cmd in $(compiled); do
		run ipclab "$cmd" --help
		where=$(grep -niwE 'seeds?|homework' <<<"$output") &&
			{ echo "ipclab $cmd --help: $where"; bad=1; }
	done
	for f in "$IPCLAB_SRC"/README.md "$IPCLAB_SRC"/man/*.1; do
		where=$(grep -niwE "seed('s)?|seeds|homework" "$f") &&
			{ echo "$f: $where"; bad=1; }
	done
	[ "$bad" -eq 0 ]
}

@test "an installed ipclab finds its manual pages and companion files" {
	cmake --install "$IPCLAB_BUILD" --prefix "$dir/prefix" >/dev/null
	[ -x "$dir/prefix/bin/ipclab" ]
	[ -f "$dir/prefix/share/man/man1/ipclab.1" ]
	run "$dir/prefix/bin/ipclab" --help
	[ "$status" -eq 0 ]
	if command -v man >/dev/null; then
		run man -M "$dir/prefix/share/man" ipclab-shmstr
		[[ "$output" == *"ipclab-shmstr"* ]]
		run "$dir/prefix/bin/ipclab" help shmstr
		[[ "$output" == *"ipclab-shmstr"* ]]
	fi
}

# The simplest quick run of each command with JSON (@J@: -J or --json), in
# a scratch directory that holds pool.conf.  A command missing here fails the
# test below: every command's JSON is checked.
declare -gA json_run=(
	[iotrace]='ipclab iotrace @J@ -o /dev/stdout -- true'
	[libwatch]='ipclab libwatch -d 0 @J@'
	[mallocprobe]='ipclab mallocprobe -S switch @J@'
	[pool]='timeout --preserve-status -s TERM 2 ipclab pool --no-fifo @J@ pool.conf'
	[race]='ipclab race 2 --target 1000 @J@'
	[shmstr]='ipclab shmstr @J@ str.dat hello'
)

# json_skeleton DOC: the conventions of ipclab(1)'s JSON section that a
# program can check: keys in lower snake case, no number written as a string
# (a version, and a CPU list such as "0-3,5" as taskset(1) writes it, are
# text), findings a list of {section, text}.  Prints what is wrong.
json_skeleton() {
	jq -r '
	  [paths(..) as $p | $p[-1] | select(type == "string")
	   | select(test("^[a-z][a-z0-9_]*$") | not) | "key \(.) is not lower snake case"],
	  [paths(strings) as $p | select($p[-1] | tostring | test("version$|^cpus$") | not)
	   | getpath($p) | select(test("^[-+]?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?%?$"))
	   | "\"\(.)\" is a number written as a string"],
	  (if (.findings | type) != "array" then ["no findings array"]
	   else [.findings[] | select(type != "object" or (keys != ["section", "text"])
	         or (.section | type) != "string" or (.text | type) != "string")
	         | "finding \(tojson) is not {section, text}"] end)
	  | .[]' <<<"$1"
}

@test "the JSON check sees a bad key, a number as a string and a bad finding" {
	run json_skeleton '{"a_b": {"CPU": 1, "share": "12.3%", "n": "42"}, "findings": [{"text": "x"}]}'
	[[ "$output" == *"key CPU is not lower snake case"* ]]
	[[ "$output" == *'"12.3%" is a number written as a string'* ]]
	[[ "$output" == *'"42" is a number written as a string'* ]]
	[[ "$output" == *'finding {"text":"x"} is not {section, text}'* ]]
	run json_skeleton '{"a_b": {"addr": "0x7f00", "v": "1.2.3", "glibc_version": "2.36"}, "findings": [{"section": "a_b", "text": "t"}]}'
	[ -z "$output" ]
	run json_one '{"a": 1} {"b": 2}'
	[ "$status" -ne 0 ]
	run json_one ''
	[ "$status" -ne 0 ]
	json_one '{"a": 1}'
}

@test "every command's -J and --json print one JSON document in the common skeleton" {
	local bad=0
	cd "$dir"
	mkdir bin
	ln -s "$IPCLAB_BIN" bin/ipclab
	echo 1 >pool.conf
	for cmd in $(compiled); do
		[ -n "${json_run[$cmd]:-}" ] || { echo "$cmd: no JSON run in tests/ipclab.bats"; bad=1; continue; }
		# ASan replaces malloc: mallocprobe refuses to probe it (exit 1)
		[ "$IPCLAB_SANITIZE" = 1 ] && [ "$cmd" = mallocprobe ] && continue
		for j in -J --json; do
			line=${json_run[$cmd]//@J@/$j}
			run --separate-stderr env PATH="$dir/bin:$PATH" timeout -k 5 60 bash -c "$line"
			if [ "$status" -ne 0 ]; then
				echo "$line: exit status $status: ${stderr:0:300}"; bad=1; continue
			fi
			json_one "$output" || { echo "$line: not one JSON document"; bad=1; continue; }
			problems=$(json_skeleton "$output")
			[ -z "$problems" ] || { echo "$line:"; sed 's/^/  /' <<<"$problems"; bad=1; }
		done
	done
	[ "$bad" -eq 0 ]
}

# A project of one small program, two bats files and one mutation list, for
# the mutation runner to work on.  Both bats files check add(); only a.bats
# checks it directly under its name, b.bats does not look at the greeting.
tiny_project() {
	local p=$1
	mkdir -p "$p/tests/mutate"
	cp "$IPCLAB_SRC/tests/mutate/run" "$p/tests/mutate/run"
	cat >"$p/CMakeLists.txt" <<-'END'
	cmake_minimum_required(VERSION 3.13)
	project(tiny C)
	add_executable(prog prog.c)
	END
	cat >"$p/prog.c" <<-'END'
	#include <stdio.h>
	static int add(int a, int b) { return a + b; }
	int main(void) { printf("%d\n", add(2, 2)); puts("hello"); return 0; }
	END
	# as root, a.bats also runs prog as another user, as pool.bats does
	printf '%s\n' '@test "add adds" {' '	[ "$("$IPCLAB_BUILD/prog" | head -1)" = 4 ]' \
		'	[ "$(id -u)" -ne 0 ] || [ "$(setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '\''exec "$0"'\'' "$IPCLAB_BUILD/prog" | head -1)" = 4 ]' \
		'}' >"$p/tests/a.bats"
	printf '%s\n' '@test "prog prints 4 first" {' '	"$IPCLAB_BUILD/prog" | grep -qx 4' '}' \
		>"$p/tests/b.bats"
	# add-subtracts breaks what both files check; if b.bats's first,
	# unbroken run used its binary, greeting-changed would be FAILED
	cat >"$p/tests/mutate/tiny.txt" <<-'END'
	name: add-subtracts
	file: prog.c
	test: tests/a.bats
	sed: s/a + b/a - b/

	name: greeting-changed
	file: prog.c
	test: tests/b.bats
	sed: s/hello/howdy/

	name: matches-nothing
	file: prog.c
	test: tests/a.bats
	sed: s/no such text/x/
	END
}

@test "the mutation runner reports caught, survived and failed, each test first run on the unbroken build" {
	tiny_project "$dir/p"
	open_dir
	TMPDIR=$open run --separate-stderr nice "$dir/p/tests/mutate/run"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "caught    add-subtracts (tests/a.bats)" ]
	[ "${lines[1]}" = "SURVIVED  greeting-changed (tests/mutate/tiny.txt:6, tests/b.bats)" ]
	[[ ${lines[2]} == "FAILED    matches-nothing (tests/mutate/tiny.txt:11: the sed expression changes nothing in prog.c)" ]]
	[ "${lines[3]}" = "mutate: 3 mutations: 1 caught, 1 survived, 1 failed" ]
	[ "${#lines[@]}" -eq 4 ]
	[[ $stderr != *"fails on the unbroken tree"* ]]
	# the source tree is put back as it was
	grep -q 'a + b' "$dir/p/prog.c"
	grep -q hello "$dir/p/prog.c"
}

@test "the mutation runner exits 0 when every mutation is caught, and its filter picks by name" {
	tiny_project "$dir/p"
	open_dir
	TMPDIR=$open run --separate-stderr nice "$dir/p/tests/mutate/run" '^add-'
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "caught    add-subtracts (tests/a.bats)" ]
	[ "${lines[1]}" = "mutate: 1 mutations: 1 caught, 0 survived, 0 failed" ]
	[ "${#lines[@]}" -eq 2 ]
	# nothing survived: the scratch copy is gone
	[ -z "$(find "$open" -maxdepth 1 -name 'ipclab-mutate.*')" ]
}

# What ipclab(1)'s JSON section promises of iotrace --json.
@test "ipclab(1): iotrace --json without -o runs nothing and hints at -o, with -o the file gets one document" {
	need iotrace
	cd "$dir"
	run --separate-stderr "$IPCLAB_BIN" iotrace --json -- sh -c 'touch ran'
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ ! -e ran ]
	[[ ${stderr_lines[0]} == *"-o FILE"* ]]
	[[ ${stderr_lines[0]} == *"-o /dev/fd/3 3>&1 >&2"* ]]
	grep -qF -- '.Ql -o /dev/fd/3 3>&1 >&2' "$IPCLAB_SRC/man/ipclab.1"
	run --separate-stderr "$IPCLAB_BIN" iotrace --json -o "$dir/r.json" -- sh -c 'echo out; echo err >&2; touch ran'
	[ "$status" -eq 0 ]
	[ -e ran ]
	[ "$output" = out ]
	[ "$stderr" = err ]
	json_one "$(cat "$dir/r.json")"
	run --separate-stderr bash -c '"$0" iotrace --json -o /dev/fd/3 -- sh -c "echo out" 3>&1 >&2' "$IPCLAB_BIN"
	[ "$status" -eq 0 ]
	[ "$stderr" = out ]
	json_one "$output"
}

@test "every command's report for a person fits a 100-column terminal" {
	command -v script >/dev/null || skip "script(1) is needed for a terminal"
	local d c
	d=$(scratch)
	echo 2 >"$d/pool.conf"
	for c in "shmstr $d/s.dat hello" "race 2 --target 1000" "race --sync all 2 --time 0.05" \
		"race 1-3 --time 0.05" "mallocprobe" "libwatch -d 0" "libwatch libc.so.6" \
		"iotrace -s -- cat $d/pool.conf" "pool --help"; do
		# where ASan replaces malloc, mallocprobe refuses to probe (exit 1)
		[[ $c == mallocprobe && $IPCLAB_SANITIZE == 1 ]] && continue
		rm -f "$d/s.dat"
		script -qec "stty cols 100 rows 50; \"$IPCLAB_BIN\" $c" "$d/typescript" >"$d/tty" 2>&1 </dev/null
		echo "$c: $(widest "$d/tty")"
		[ "$(widest "$d/tty")" -le 100 ]
		[ "$(widest "$d/tty")" -ge 40 ]
	done
}
