#!/usr/bin/env bats
# The manual pages: their EXAMPLES run as shown and exit as the page says,
# they are clean under mandoc's strictest lint, and `ipclab help CMD` shows
# the build tree's page, not an installed one.

load common

setup() {
	dir=$(scratch)
	export MANPAGER=cat PAGER=cat MANWIDTH=80
}

# examples PAGE: the EXAMPLES section as lines "E<tab>STATUS" (an example
# starts; STATUS is what its last command must exit with) and "C<tab>COMMAND".
# An example is a run of command lines (".Dl $ cmd", or "$ cmd" in a .Bd
# literal display) between lines of prose; lines without "$ " are output.
# The prose before an example gives a status other than 0 as "exit status N".
examples() {
	awk '
	function unescape(s) {
		gsub(/\\-/, "-", s); gsub(/\\\(dq/, "\"", s); gsub(/\\\(aq/, "\047", s)
		gsub(/\\\(ti/, "~", s); gsub(/\\\(ha/, "^", s); gsub(/\\&/, "", s)
		gsub(/\\e/, "\\", s)
		return s
	}
	function command(c) {
		if (!inside) {
			want = 0
			if (match(prose, /exit status [0-9]+/))
				want = substr(prose, RSTART + 12, RLENGTH - 12)
			printf "E\t%d\n", want
			inside = 1
			prose = ""
		}
		printf "C\t%s\n", unescape(c)
	}
	/^\.Sh EXAMPLES/ { on = 1; next }
	on && /^\.Sh / { exit }
	!on || /^\.\\"/ { next }
	/^\.Bd/ { literal = 1; next }
	/^\.Ed/ { literal = 0; next }
	/^\.Dl \$ / { command(substr($0, 7)); next }
	literal && /^\$ / { command(substr($0, 3)); next }
	/^\.Dl / || literal { next }
	{ inside = 0; prose = prose " " $0 }
	' "$1"
}

# example_script STATUS LIMIT COMMAND...: a bash script that runs the commands
# in order in one shell, each ipclab command under a time limit of LIMIT
# seconds (then SIGTERM: a service such as pool must stop with 0), and checks
# that each exits 0 and the last one STATUS.  Commands ending in '&' run in
# the background and are stopped with SIGTERM at the end: they must exit 0
# within 5 seconds.  A 'wait' line waits for them to end on their own instead
# (still under their time limit) and checks that each exited 0.
example_script() {
	local want=$1 limit=$2 i=0 n cmd bg expect shown
	shift 2
	n=$#
	cat <<-'HEAD'
	fail=0 pids=() lines=()
	check() {
		[ "$2" -eq "$3" ] && return
		printf 'FAILED: $ %s\n  exit status %s, the page says %s\n' "$1" "$2" "$3"
		fail=1
	}
	running() { local s; s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ]; }
	stop() {
		local i
		kill -TERM "$1" 2>/dev/null
		for i in $(seq 50); do running "$1" || break; sleep 0.1; done
		if running "$1"; then
			printf 'FAILED: $ %s\n  still running 5 s after SIGTERM\n' "$2"
			kill -KILL -- "-$1" "$1" 2>/dev/null
			fail=1
		fi
		wait "$1"
		check "$2" $? 0
	}
	HEAD
	for cmd in "$@"; do
		i=$((i + 1))
		expect=0
		[ "$i" -eq "$n" ] && expect=$want
		bg=
		if [[ $cmd =~ ^(.*[^[:space:]])[[:space:]]*\&[[:space:]]*$ ]] &&
		   [[ ${BASH_REMATCH[1]} != *'&' ]]; then
			cmd=${BASH_REMATCH[1]} bg=1
		fi
		shown=$cmd
		if [ "$cmd" = wait ]; then
			# the page waits for its background commands: each runs
			# under the time limit, so this wait is bounded too
			echo 'for k in "${!pids[@]}"; do wait "${pids[$k]}"; check "${lines[$k]}" $? 0; done'
			echo 'pids=() lines=()'
			continue
		fi
		if [[ $cmd =~ ^(([A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*[[:space:]]+)*)ipclab([[:space:]].*)?$ ]]; then
			cmd="${BASH_REMATCH[1]}timeout --preserve-status -k 5 $limit ipclab${BASH_REMATCH[3]}"
		fi
		if [ -n "$bg" ]; then
			printf '%s &\npids+=($!) lines+=(%q)\n' "$cmd" "$shown &"
		else
			printf '%s\ncheck %q $? %d\n' "$cmd" "$shown" "$expect"
		fi
	done
	echo 'for k in "${!pids[@]}"; do stop "${pids[$k]}" "${lines[$k]}"; done'
	echo 'exit $fail'
}

# leftovers TAG DIR: the processes still running with IPCLAB_EXAMPLE_TAG=TAG
# in their environment or their working directory in DIR (a command that
# rewrites its environment for its title still has its directory).
leftovers() {
	local p c
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" != "$BASHPID" ] || continue
		c=$(readlink "$p/cwd" 2>/dev/null) || continue
		if [[ $c == "$2" || $c == "$2"/* ]] ||
		   grep -qsaF "IPCLAB_EXAMPLE_TAG=$1" "$p/environ"; then
			[ "$(awk '{print $3}' "$p/stat" 2>/dev/null)" = Z ] || echo "${p#/proc/}"
		fi
	done
}
none_left() { [ -z "$(leftovers "$1" "$2")" ]; }

# run_examples PAGE: runs every example of PAGE, in order, in one scratch
# directory, with the build tree's ipclab first in PATH.  Prints what failed.
run_examples() {
	local page=$1 limit=${IPCLAB_EXAMPLE_SECONDS:-10} kind text want=0 nex=0 bad=0
	local work=$dir/$(basename "$page" .1) tag p
	local -a cmds=()
	mkdir -p "$work/bin"
	ln -sf "$IPCLAB_BIN" "$work/bin/ipclab"
	run_one() {
		[ ${#cmds[@]} -gt 0 ] || return 0
		nex=$((nex + 1))
		tag=$$-$nex-$RANDOM
		example_script "$want" "$limit" "${cmds[@]}" >"$work/example-$nex.sh"
		(cd "$work" && PATH=$work/bin:$PATH IPCLAB_EXAMPLE_TAG=$tag \
			timeout -k 5 $(( (${#cmds[@]} + 2) * (limit + 5) )) \
			bash "$work/example-$nex.sh" >"$work/example-$nex.out" 2>&1) || {
			echo "$page: example $nex failed:"
			printf '  $ %s\n' "${cmds[@]}"
			sed 's/^/  | /' "$work/example-$nex.out" | tail -n 30
			bad=1
		}
		if ! wait_for 10 none_left "$tag" "$work"; then
			echo "$page: example $nex left processes behind:"
			for p in $(leftovers "$tag" "$work"); do
				echo "  $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
				kill -KILL "$p" 2>/dev/null
			done
			bad=1
		fi
		cmds=()
	}
	while IFS=$'\t' read -r kind text; do
		if [ "$kind" = E ]; then
			run_one
			want=$text
		else
			cmds+=("$text")
		fi
	done < <(examples "$page")
	run_one
	[ "$nex" -gt 0 ] || { echo "$page: no example in EXAMPLES"; bad=1; }
	return "$bad"
}

@test "the examples parser finds commands, output lines and stated exit statuses" {
	cat >"$dir/t.1" <<-'MAN'
	.Sh EXAMPLES
	Plain:
	.Dl $ ipclab race 2 \-\-sync none
	.Dl ipclab race: this is output
	.Dl $ echo \(dqdone\(dq
	.Pp
	A bad mode is refused (exit status 2):
	.Bd -literal -offset indent
	$ ipclab race \-\-sync bogus 2
	ipclab race: output too
	.Ed
	.Sh SEE ALSO
	.Dl $ not an example
	MAN
	run examples "$dir/t.1"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'E\t0\nC\tipclab race 2 --sync none\nC\techo "done"\nE\t2\nC\tipclab race --sync bogus 2')" ]
}

@test "an example that exits otherwise than its page says fails the examples test" {
	printf '.Sh EXAMPLES\nA typo:\n.Dl $ ipclab race --bogus 2\n.Pp\nRefused (exit status 2):\n.Dl $ ipclab race --bogus 2\n' >"$dir/t.1"
	run run_examples "$dir/t.1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"example 1 failed"* ]]
	[[ "$output" == *"exit status 2, the page says 0"* ]]
	[[ "$output" != *"example 2 failed"* ]]
}

@test "the examples of ipclab(1) run and exit as the page says" {
	run_examples "$IPCLAB_SRC/man/ipclab.1"
}

@test "every command page's examples run and exit as the page says" {
	local bad=0
	for page in "$IPCLAB_SRC"/man/ipclab-*.1; do
		# ASan replaces malloc: mallocprobe refuses to probe it (exit 1)
		[ "$IPCLAB_SANITIZE" = 1 ] && [[ $page == */ipclab-mallocprobe.1 ]] && continue
		run_examples "$page" || bad=1
	done
	[ "$bad" -eq 0 ]
}

# mandoc looks for .Xr pages in the system's manual only: ours are not
# there (or are an older copy), so those two notes are not faults.
lint() {
	local own
	own=$(cd "$IPCLAB_SRC/man" && ls -- *.1 | sed 's/\.1$//' | paste -sd'|')
	mandoc -Tlint -Wall "$@" 2>&1 | grep -v -e 'outdated mandoc.db lacks' \
		-Ee "referenced manual not found: Xr ($own) 1( \(|$)"
}

@test "every man page is clean under mandoc -Tlint -Wall, style included" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	run lint "$IPCLAB_SRC"/man/*.1
	[ -z "$output" ]
	run lint "$IPCLAB_BUILD"/share/man/man1/*.1	# the same, but for .Os
	[ -z "$(grep -v 'operating system explicitly specified: Os ipclab' <<<"$output")" ]
}

@test "the lint check sees a style fault and an .Xr to a page that does not exist" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	printf '.Dd May 1, 2026\n.Dt T 1\n.Os ipclab\n.Sh NAME\n.Nm t\n.Nd t\n.Sh SEE ALSO\n.Xr no_such_page 3 ,\n.Xr ipclab 1\n' >"$dir/t.1"
	run lint "$dir/t.1"
	[[ "$output" == *"referenced manual not found: Xr no_such_page 3"* ]]
	[[ "$output" != *"Xr ipclab 1"* ]]
}

# The sources say a bare .Os, as mandoc -Wall asks; the build fills in
# "ipclab VERSION", or groff's footer (what man(1) shows) would read "BSD".
@test "every man page's footer names ipclab and its version, not BSD" {
	local bad=0 want footer
	want=$(sed -n 's/^project(ipclab VERSION \([0-9.]*\).*/\1/p' "$IPCLAB_SRC/CMakeLists.txt")
	for page in "$IPCLAB_SRC"/man/*.1; do
		built=$IPCLAB_BUILD/share/man/man1/$(basename "$page")
		grep -qx '\.Os' "$page" || { echo "$page: not a bare .Os"; bad=1; }
		grep -qx "\.Os ipclab $want" "$built" || { echo "$built: .Os is not set"; bad=1; }
		command -v man >/dev/null || continue
		footer=$(MANWIDTH=80 man -l "$built" 2>/dev/null | tail -n 1)
		[[ $footer == "ipclab $want "*" ipclab $want" ]] ||
			{ echo "$built: footer '$footer'"; bad=1; }
	done
	[ "$bad" -eq 0 ]
}

# A copy of the binary in a tree of its own, its pages marked: what `ipclab
# help` shows must come from beside the binary even when /usr/local holds an
# older installation (CI installs there before it runs the tests).
@test "ipclab help CMD shows the page beside the binary, not an installed one" {
	command -v man >/dev/null || skip "man is not installed"
	mkdir -p "$dir/tree/bin" "$dir/tree/share/man/man1"
	cp "$IPCLAB_BIN" "$dir/tree/bin/ipclab"
	for page in ipclab ipclab-shmstr; do
		sed 's/^\.Nd .*/.Nd marked page of '"$page"' in this tree/' \
			"$IPCLAB_BUILD/share/man/man1/$page.1" >"$dir/tree/share/man/man1/$page.1"
	done
	run "$dir/tree/bin/ipclab" help shmstr
	[ "$status" -eq 0 ]
	[[ "$output" == *"marked page of ipclab-shmstr in this tree"* ]]
	run "$dir/tree/bin/ipclab" help
	[ "$status" -eq 0 ]
	[[ "$output" == *"marked page of ipclab in this tree"* ]]
	# and the build tree's own binary shows the build tree's page
	run ipclab help shmstr
	[ "$status" -eq 0 ]
	[ "$output" = "$(man -l "$IPCLAB_BUILD/share/man/man1/ipclab-shmstr.1")" ]
}

# help_options TEXT: the options of a --help text's "Options:" block, one
# "OPTION<tab>ARG" line per option (-s and --sync both), ARG lower case and
# letters and digits only ("[HOST:]PORT" is "hostport"), "-" for none.
help_options() {
	awk '
	/^Options:/ { on = 1; next }
	on && /^$/ { exit }
	on && match($0, /^ +-/) && RLENGTH <= 6 {
		sub(/^ +/, ""); sub(/  .*/, "")
		n = split($0, w, /[ ,]+/); arg = ""; k = 0
		for (i = 1; i <= n && arg == ""; i++)
			if (w[i] ~ /^-/) opt[++k] = w[i]
			else arg = w[i]
		arg = tolower(arg); gsub(/[^a-z0-9]/, "", arg)
		for (i = 1; i <= k; i++) print opt[i] "\t" (arg == "" ? "-" : arg)
	}' <<<"$1" | sort -u
}

# man_options PAGE: the same for the .It lines of the page's OPTIONS section,
# read as mandoc renders them: "Fl" puts a dash before each of its words up
# to the next macro ("Fl s , -size" is -s, --size), "Fl Fl x" and "Fl \-x"
# are --x; the words after the options (Ar, Cm ...: macros and punctuation
# left out) are the argument, "*" when the page lists its values (Cm) and
# names none (Ar).
man_options() {
	awk '
	/^\.Sh / { on = ($2 == "OPTIONS"); next }
	!on || !/^\.It Fl / { next }
	{
		k = 0; arg = ""; pend = ""; fl = 0; got = 0; done = 0; named = 0
		for (i = 2; i <= NF; i++) {
			t = $i
			if (!done && t == "Fl") {
				if (fl && !got) pend = pend "-"
				fl = 1; got = 0; continue
			}
			if (!done && fl && (t == "," || t == "|")) continue
			if (!done && fl && t !~ /^[A-Z][a-z]$/) {
				sub(/^\\-/, "-", t); opt[++k] = pend "-" t
				pend = ""; got = 1; continue
			}
			done = 1
			if (t == "Ar") named = 1
			if (t ~ /^[A-Z][a-z]$/ || t ~ /^[,|:]$/) continue
			arg = arg t
		}
		arg = tolower(arg); gsub(/[^a-z0-9]/, "", arg)
		if (arg != "" && !named) arg = "*"
		for (i = 1; i <= k; i++) print opt[i] "\t" (arg == "" ? "-" : arg)
	}' "$1" | sort -u
}

# options_differ NAME HELPTEXT PAGE: prints each option that one of them has
# and the other has not, that takes an argument in one only, or whose
# argument is named differently; false if any.  A name may be shortened (its
# letters in order: SECS for seconds, L for layout); a page that lists the
# values instead of naming the argument (Cm group | process) only says that
# there is one.
options_differ() {
	local name=$1 page=$3 out
	out=$(join -t $'\t' -a1 -a2 -e '@none@' -o 0,1.2,2.2 \
		<(help_options "$2") <(man_options "$page") |
	awk -F'\t' -v n="$name" -v p="${page##*/}" '
	function shown(a) { return a == "-" ? "no argument" : "argument " a }
	function within(a, b,   i, j) {	# the letters of a, in order, in b
		for (i = j = 1; i <= length(a) && j <= length(b); j++)
			if (substr(a, i, 1) == substr(b, j, 1)) i++
		return i > length(a)
	}
	function same(a, b) {
		if (a == b) return 1
		if (a == "-" || b == "-") return 0
		return b == "*" || within(a, b) || within(b, a)
	}
	$2 == "@none@" { print n ": " $1 " is in " p " but not in --help"; next }
	$3 == "@none@" { print n ": " $1 " is in --help but not in " p; next }
	!same($2, $3) { print n ": " $1 ": --help gives it " shown($2) ", " p " " shown($3) }')
	[ -z "$out" ] || { echo "$out"; return 1; }
}

@test "the options parsers read --help and OPTIONS as they are shown" {
	help=$'Usage:\n x\n\nOptions:\n -s, --sync MODE     one\n                       -x no\n     --listen [HOST:]PORT  two\n -J, -j, --json      three\n -T, --time S        four\n -k, --kill M        five\n -l, --layout L      six\n -n, --name N\n\nSee x.'
	[ "$(help_options "$help")" = "$(printf '%s\t%s\n' --json - --kill m --layout l --listen hostport --name n --sync mode --time s \
		-J - -T s -j - -k m -l l -n n -s mode | sort -u)" ]
	printf '%s\n' '.Sh OPTIONS' '.Bl -tag -width Ds' '.It Fl s , -sync Ar mode' \
		'.It Fl Fl listen Oo Ar HOST : Oc Ns Ar PORT' '.It Fl J , Fl j , Fl \-json' \
		'.It Fl \-time Ar when' '.It Fl k , Fl \-kill Cm group | process' '.It Fl l , Fl -layout Ar layout' \
		'.It Fl n , Fl -name' '.It Fl x' '.It Cm none' '.El' '.Sh EXIT STATUS' '.It Fl y' >"$dir/t.1"
	[ "$(man_options "$dir/t.1")" = "$(printf '%s\t%s\n' --json - --kill '*' --layout layout --listen hostport --name - --sync mode --time when \
		-J - -j - -k '*' -l layout -n - -s mode -x - | sort -u)" ]
	run options_differ t "$help" "$dir/t.1"
	[ "$status" -ne 0 ]
	[ "$output" = "$(printf '%s\n' 't: --name: --help gives it argument n, t.1 no argument' \
		't: --time: --help gives it argument s, t.1 argument when' \
		't: -T is in --help but not in t.1' 't: -n: --help gives it argument n, t.1 no argument' \
		't: -x is in t.1 but not in --help')" ]
}

@test "ipclab --help and ipclab(1) give the same options" {
	options_differ ipclab "$("$IPCLAB_BIN" --help)" "$IPCLAB_SRC/man/ipclab.1"
}

@test "every command's --help and its page's OPTIONS give the same options and argument names" {
	local bad=0 cmd
	for cmd in $(sed -n 's/^COMMAND(\([a-z]*\),.*/\1/p' "$IPCLAB_BUILD/gen/commands.h"); do
		options_differ "$cmd" "$("$IPCLAB_BIN" "$cmd" --help)" "$IPCLAB_SRC/man/ipclab-$cmd.1" || bad=1
	done
	[ "$bad" -eq 0 ]
}
