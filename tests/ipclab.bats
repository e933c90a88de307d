#!/usr/bin/env bats
# ipclab itself: the dispatcher, the one table of commands, and the documents
# that must agree with it.

load common

setup() {
	dir=$(scratch)
	export MANPAGER=cat PAGER=cat MANWIDTH=80
}

# The independent truth: the COMMAND(name, "summary") lines of cmd/*.c.
registered() {
	head -qn1 "$IPCLAB_SRC"/cmd/*.c |
		sed -n 's/^\/\/ COMMAND(\([a-z]*\), "\(.*\)")$/\1\t\2/p' | sort
}

# The commands this build has (a build may be limited with IPCLAB_COMMANDS).
built() { "$IPCLAB_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}'; }

@test "ipclab with no argument lists every built command with its summary" {
	run ipclab
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Usage:" ]
	while IFS=$'\t' read -r name summary; do
		grep -qx "$name" <<<"$(built)" || continue
		grep -Eq "^ $name +$summary\$" <<<"$output"
	done < <(registered)
	[ "$(built | wc -l)" -ge 1 ]
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
	for cmd in $(built); do
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

@test "every man page is clean under mandoc -Tlint" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	run mandoc -Tlint -Wwarning "$IPCLAB_SRC"/man/*.1
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the bench, CI, dependency and mutation scripts pass shellcheck" {
	cd "$IPCLAB_SRC"
	scripts=$(grep -l '^#!/usr/bin/env bash' bench/* scripts/* .ci/* tests/mutate/*)
	grep -qx tests/mutate/run <<<"$scripts"
	[ -n "$scripts" ]
	# shellcheck disable=SC2086
	shellcheck $scripts
}

@test "every example in the man pages is run by a test" {
	for page in "$IPCLAB_SRC"/man/*.1; do
		name=$(basename "$page" .1)
		name=${name#ipclab-}
		[ "$name" = ipclab ] && tests="$IPCLAB_SRC/tests/ipclab.bats" ||
			tests="$IPCLAB_SRC/tests/$name.bats"
		sed -n '/^\.Sh EXAMPLES/,/^\.Sh /s/^\.Dl \$ \(ipclab .*\)/\1/p' "$page" |
			sed 's/\\-/-/g; s/\\e/\\/g' | while read -r example; do
			example=${example%%|*}		# a pipeline's ipclab part
			example=${example%"${example##*[! ]}"}
			grep -qF -- "${example#ipclab }" "$tests" ||
				{ echo "$page: '$example' is not in $tests"; return 1; }
		done
	done
}

@test "the bash completion offers exactly the commands" {
	source "$IPCLAB_BUILD/share/bash-completion/completions/ipclab"
	COMP_WORDS=(ipclab "")
	COMP_CWORD=1
	_ipclab
	offered=$(printf '%s\n' "${COMPREPLY[@]}" | grep -v -e '^-' -e '^help$' | sort)
	[ "$offered" = "$(built | sort)" ]
}

@test "README.md mentions every command" {
	for cmd in $(registered | cut -f1); do
		grep -q "ipclab $cmd" "$IPCLAB_SRC/README.md"
	done
}

@test "the man page's examples run as shown" {
	run ipclab --help
	[ "$status" -eq 0 ]
	command -v man >/dev/null && { run ipclab help shmstr; [ "$status" -eq 0 ]; }
	cd "$dir"
	run --separate-stderr ipclab shmstr str.dat hello
	[ "$output" = hello ]
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
