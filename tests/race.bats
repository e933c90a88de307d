#!/usr/bin/env bats
# ipclab race: N processes racing on counters in a shared mapping.
# The truth is read from outside the command: the winnings summed by jq,
# the pids the test itself started, /proc, and the file's own bytes.

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
		kill -9 "$p" 2>/dev/null || true
	done
	for p in "${bg[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}

# in the background: the binary itself (not the ipclab function, whose
# subshell would get the pid), with bats's fd 3 closed
race_bg() { "$IPCLAB_BIN" race "$@" 3>&- & bg+=($!); }

# sum of the winnings, from the participants list
winnings_sum() { jq '[.participants[].winnings] | add' "$1"; }

# grep_sync FILE M: the race file at FILE races --sync number M (header byte 20)
grep_sync() {
	local v
	v=$(od -An -t u4 -j 20 -N 4 "$1" 2>/dev/null | tr -d ' ')
	[ "$v" = "$2" ] && racing "$1"
}

# has_children PID N: PID has N children (for wait_for)
has_children() { [ "$(pgrep -P "$1" | wc -l)" -eq "$2" ]; }

# racing FILE: the packed layout's total (at 4096 + 8) is above 0 (for wait_for)
racing() {
	local t
	t=$(od -An -t d8 -j 4104 -N 8 "$1" 2>/dev/null | tr -d ' ')
	[ -n "$t" ] && [ "$t" -gt 0 ]
}

@test "race --help prints the usage and exits 0" {
	run ipclab race --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"ipclab race [options] N"* ]]
	[[ "$output" == *"--sync MODE"* ]]
}

@test "the unsynchronised race of 2 participants loses updates: sum > total" {
	(( $(nproc) >= 2 )) || skip "needs 2 CPUs"
	local i lost=0
	# on a loaded machine one participant may finish before the other runs:
	# a few tries
	for i in 1 2 3 4 5; do
		ipclab race 2 --target 5e7 --json >"$dir/out.json"
		run jq -e '.total == 50000000 and .target == 50000000' "$dir/out.json"
		[ "$status" -eq 0 ]
		sum=$(winnings_sum "$dir/out.json")
		total=$(jq .total "$dir/out.json")
		[ "$(jq .lost "$dir/out.json")" -eq $((sum - total)) ]
		if (( sum > total )); then lost=1; break; fi
	done
	[ "$lost" -eq 1 ]
}

@test "the report explains the lost updates in one sentence and draws the shares" {
	(( $(nproc) >= 2 )) || skip "needs 2 CPUs"
	local i
	for i in 1 2 3 4 5; do
		run ipclab race 2 --time 0.3
		[ "$status" -eq 0 ]
		# five tries at a run that loses updates (one without loss says "nothing prevents it")
		[[ "$output" == *"increments were lost"* ]] && break
	done
	flat=$(tr -s ' \n' ' ' <<<"$output")
	[[ "$flat" == *"why: "*" the read-increment-write of total is not atomic, so"* ]]
	[[ "$output" == *"LOST"* && "$output" == *"FAIRNESS"* && "$output" == *"CPUS"* ]]
	# a bar per participant: '#' or block characters after the share
	[ "$(grep -cE '%[[:space:]]+(#|█|▏|▎|▍|▌|▋|▊|▉)' <<<"$output")" -eq 2 ]
}

@test "every synchronised mode is exact: sum == total == target" {
	local m t
	for m in atomic mutex sem spin flock fcntl; do
		t=1000000
		[[ $m == flock || $m == fcntl ]] && t=100000
		ipclab race 2 --sync "$m" --target "$t" --json >"$dir/$m.json"
		run jq -r '[.sync, .total, .target, .completed] | @tsv' "$dir/$m.json"
		[ "$output" = "$m	$t	$t	true" ]
		[ "$(winnings_sum "$dir/$m.json")" -eq "$t" ]
	done
}

# race_findings FILE: the findings' texts of a race's JSON, one a line.
race_findings() { jq -r '.findings[].text' "$1"; }

@test "each synchronised mode's why: says how it keeps the sum, and who won nothing when one did" {
	local -A how=([atomic]="one locked fetch-and-add instruction" [mutex]="a process-shared pthread mutex"
		[sem]="a process-shared POSIX semaphore" [spin]="a spinlock in the file lets one"
		[flock]="flock(2) on the file" [fcntl]="a fcntl(2) record lock")
	local m out zero
	for m in atomic mutex sem spin flock fcntl; do
		ipclab race 2 --sync "$m" --target 3000 --json >"$dir/$m.json"
		out=$(race_findings "$dir/$m.json")
		[[ $out == *"The sum equals the total: ${how[$m]}"* ]]
		[[ $out != *"differs from the total"* && $out != *"increments were lost"* ]]
		[ "$(grep -c 'The sum equals the total' <<<"$out")" -eq 1 ]
		# the fairness line, exactly when a participant's winnings are 0
		zero=$(jq -r '[.participants[] | select(.winnings == 0) | .pid][0] // empty' "$dir/$m.json")
		if [ -n "$zero" ]; then
			[[ $out == *"Participant $zero won nothing: "* ]]
			if [ "$m" = spin ]; then [[ $out == *"a spinlock queues nobody"* ]]; fi
		else
			[[ $out != *"won nothing"* ]]
		fi
	done
}

@test "the unsynchronised race's why: fits its result: lost, one participant, or one CPU" {
	local i out
	ipclab race 1 --target 1000 --json >"$dir/one.json"
	out=$(race_findings "$dir/one.json")
	[[ $out == *"With one participant nobody else writes total"* ]]
	[[ $out != *"were lost"* && $out != *"No update was lost"* && $out != *"won nothing"* ]]
	# on one CPU a short race is seldom preempted mid-increment: no loss
	for i in 1 2 3 4 5; do
		taskset -c 0 "$IPCLAB_BIN" race 2 --target 1000 --json >"$dir/cpu0.json"
		[ "$(jq .lost "$dir/cpu0.json")" -eq 0 ] && break
	done
	out=$(race_findings "$dir/cpu0.json")
	if [ "$(jq .lost "$dir/cpu0.json")" -eq 0 ]; then
		[[ $out == *"No update was lost: all participants ran on CPU 0, one at a time"* ]]
		[[ $out != *"nothing prevents it"* && $out != *"were lost"* ]]
	fi
	# a short race on several CPUs without loss: luck, says the why:
	if [ "$(nproc)" -ge 2 ]; then
		for i in 1 2 3 4 5 6 7 8 9 10; do
			ipclab race 2 --target 200 --json >"$dir/short.json"
			[ "$(jq '[.lost == 0, (.cpus | test("[,-]"))] | all' "$dir/short.json")" = true ] && break
		done
		out=$(race_findings "$dir/short.json")
		if [ "$(jq '[.lost == 0, (.cpus | test("[,-]"))] | all' "$dir/short.json")" = true ]; then
			[[ $out == *"No update was lost this time, but nothing prevents it"* ]]
			[[ $out != *"all participants ran on CPU"* ]]
		fi
	fi
	# two CPUs and a long race: updates are lost, and the why: says how many
	[ "$(nproc)" -ge 2 ] || skip "one CPU: no loss to provoke"
	for i in 1 2 3 4 5; do
		ipclab race 2 --target 2e6 --json >"$dir/two.json"
		[ "$(jq .lost "$dir/two.json")" -gt 0 ] && break
	done
	out=$(race_findings "$dir/two.json")
	[[ $out == *"$(jq .lost "$dir/two.json") increments were lost: the read-increment-write"* ]]
	[[ $out != *"No update was lost"* && $out != *"With one participant"* ]]
}

@test "the padded layout takes 12 participants and stays exact with atomics" {
	ipclab race 12 --layout padded --sync atomic --target 1e6 --json >"$dir/out.json"
	[ "$(jq '.participants | length' "$dir/out.json")" -eq 12 ]
	[ "$(jq '[.participants[].pid] | unique | length' "$dir/out.json")" -eq 12 ]
	[ "$(winnings_sum "$dir/out.json")" -eq 1000000 ]
	[ "$(jq .total "$dir/out.json")" -eq 1000000 ]
}

@test "--time races for a fixed time instead of to a target" {
	ipclab race 2 --sync atomic --time 0.3 --json >"$dir/out.json"
	run jq -e '.target == null and .completed and .elapsed_s >= 0.3 and .elapsed_s < 5' \
		"$dir/out.json"
	[ "$status" -eq 0 ]
	[ "$(winnings_sum "$dir/out.json")" -eq "$(jq .total "$dir/out.json")" ]
}

@test "man page: the layouts race for a fixed time with --time, both exact" {
	local layout
	for layout in packed padded; do
		run ipclab race 2 --sync atomic --time 1 --layout "$layout"
		[ "$status" -eq 0 ]
		[[ "$output" == *"TARGET   none (--time 1 s)"* ]]
		[[ "$output" == *"LAYOUT   $layout ("* ]]
		total=$(awk '$1 == "TOTAL" { print $2 }' <<<"$output")
		sum=$(awk '$1 == "SUM" { print $2 }' <<<"$output")
		(( total > 0 && sum == total ))
	done
}

@test "a progress line shows on a terminal, and not in a pipe" {
	command -v script >/dev/null || skip "script(1) is not installed"
	unset IPCLAB_NO_PROGRESS
	script -qc "$IPCLAB_BIN race 2 --sync atomic --target 2e8 2>&1 >/dev/null" /dev/null \
		>"$dir/tty" 3>&-
	grep -q "race: [0-9.]*% of 200000000" "$dir/tty"
	"$IPCLAB_BIN" race 2 --sync atomic --target 2e7 2>"$dir/pipe" >/dev/null
	[ ! -s "$dir/pipe" ]
}

# in_time SECONDS FILE CMD...: runs CMD in the background with its output in
# FILE and waits for it at most SECONDS (a bounded poll); its status in $rc
in_time() {
	local limit=$1 out=$2 p
	shift 2
	"$@" >"$out" 2>"$out.err" 3>&- &
	p=$!
	bg+=("$p")
	wait_for "$limit" dead "$p" || return 1
	rc=0
	wait "$p" || rc=$?
}

@test "every mode's default run of 2 participants ends within 15 s, exact where it must be" {
	local m
	for m in none atomic mutex sem spin flock fcntl; do
		in_time 15 "$dir/$m.json" "$IPCLAB_BIN" race 2 --sync "$m" --json
		[ "$rc" -eq 0 ]
		run jq -e --arg m "$m" '.sync == $m and .completed and .lost == .sum - .total
			and .target >= 1000 and .target <= 1000000000 and .time_s == 8
			and ($m == "none" or (.lost == 0 and .total == .target))' "$dir/$m.json"
		[ "$status" -eq 0 ]
		[ "$(winnings_sum "$dir/$m.json")" -eq "$(jq .sum "$dir/$m.json")" ]
	done
}

@test "a default run of 8 participants ends within 15 s and says how its target was picked" {
	in_time 15 "$dir/out" "$IPCLAB_BIN" race 8 --sync mutex
	[ "$rc" -eq 0 ]
	flat=$(tr -s ' \n' ' ' <"$dir/out")
	[[ "$flat" =~ "TARGET "[0-9]+" (picked for a run of about "[0-9.]+" s: a 0.25 s trial ran " ]]
	[[ "$flat" == *"; --target sets it)"* ]]
	total=$(awk '$1 == "TOTAL" { print $2 }' "$dir/out")
	target=$(awk '$1 == "TARGET" { print $2 }' "$dir/out")
	[ "$total" -eq "$target" ]
}

@test "--join: 3 processes started separately race together and report the same race" {
	local f=$dir/course i
	for i in 1 2 3; do
		race_bg --join 3 --file "$f" --target 2e6 --json >"$dir/j$i.json"
	done
	for i in 0 1 2; do
		wait "${bg[$i]}"
	done
	# the pids in each report are exactly the three processes started here
	expected=$(printf '%s\n' "${bg[@]}" | sort -n | tr '\n' ' ')
	for i in 1 2 3; do
		got=$(jq -r '.participants[].pid' "$dir/j$i.json" | sort -n | tr '\n' ' ')
		[ "$got" = "$expected" ]
		[ "$(jq .total "$dir/j$i.json")" -eq 2000000 ]
	done
	# the file is gone once all have left
	[ ! -e "$f" ]
}

@test "--join: the first participant, the file's creator, removes it, as the exercise has it" {
	command -v strace >/dev/null || skip "strace is not installed"
	local f=$dir/course
	# the first runs nearly untraced (seccomp filter), the second is slowed
	# down by a full trace, so that the first is also the first to leave;
	# LeakSanitizer cannot work under ptrace, so it is off here
	export ASAN_OPTIONS=detect_leaks=0
	strace -f -qq --seccomp-bpf -e trace=unlink -o "$dir/first.trace" \
		"$IPCLAB_BIN" race --join 2 --file "$f" --target 1e6 >/dev/null 2>&1 &
	local first=$!
	wait_for 10 test -e "$f"
	strace -f -qq -o /dev/null \
		"$IPCLAB_BIN" race --join 2 --file "$f" --target 1e6 >/dev/null 2>&1
	wait "$first"
	[ ! -e "$f" ]
	grep -q "unlink(\"$f\") = 0" "$dir/first.trace"
}

@test "--join gives up after --timeout when the others never come, and removes the file" {
	run ipclab race --join 2 --file "$dir/course" --timeout 0.5
	[ "$status" -eq 1 ]
	[[ "$output" == *"gave up after"*"1 of 2 participants"* ]]
	[ ! -e "$dir/course" ]
}

@test "the race file is created mode 0600 with the IPCLRACE header" {
	local f=$dir/course
	race_bg --join 2 --file "$f" --timeout 20 2>/dev/null
	wait_for 10 test -e "$f"
	[ "$(stat -c %a "$f")" = 600 ]
	[ "$(head -c 8 "$f")" = IPCLRACE ]
}

@test "Ctrl+C stops all participants, prints the partial report and removes the file" {
	local f=$dir/course
	# its own process group, as a terminal's foreground job is
	setsid "$IPCLAB_BIN" race 2 --file "$f" --target 1e15 --json >"$dir/out.json" 3>&- &
	local p=$!
	bg+=("$p")
	wait_for 10 has_children "$p" 2
	wait_for 10 racing "$f"
	kids=$(pgrep -P "$p")
	kill -INT -- "-$p"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 130 ]
	run jq -r '[.completed, .stopped] | @tsv' "$dir/out.json"
	[[ "$output" == "false	interrupted by SIGINT"* ]]
	(( $(jq .total "$dir/out.json") > 0 ))
	[ "$(winnings_sum "$dir/out.json")" -ge "$(jq .total "$dir/out.json")" ]
	# the partial report still says why, as findings
	jq -e '.findings | length > 0 and all(.[]; .section == "participants")' "$dir/out.json"
	[ ! -e "$f" ]
	for k in $kids; do [ ! -e "/proc/$k" ]; done
}

@test "--join: Ctrl+C in one terminal stops both, each reports, the file goes" {
	local f=$dir/course
	race_bg --join 2 --file "$f" --target 1e15 --json >"$dir/a.json"
	race_bg --join 2 --file "$f" --target 1e15 --json >"$dir/b.json"
	wait_for 10 racing "$f"
	kill -INT "${bg[0]}"
	st=0
	wait "${bg[0]}" || st=$?
	[ "$st" -eq 130 ]
	st=0
	wait "${bg[1]}" || st=$?
	[ "$st" -eq 1 ]
	for j in a b; do
		[ "$(jq -r .stopped "$dir/$j.json")" = "interrupted by SIGINT (sent to pid ${bg[0]})" ]
		[ "$(winnings_sum "$dir/$j.json")" -ge "$(jq .total "$dir/$j.json")" ]
	done
	[ ! -e "$f" ]
}

@test "kill -9 of one participant: the others stop, report it and the command fails" {
	local f=$dir/course
	race_bg 2 --sync mutex --file "$f" --target 1e15 --json >"$dir/out.json"
	local p=${bg[0]}
	wait_for 10 has_children "$p" 2
	wait_for 10 racing "$f"
	kids=($(pgrep -P "$p"))
	victim=${kids[0]} other=${kids[1]}
	kill -9 "$victim"
	wait_for 5 dead "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 1 ]
	run jq -r '.stopped' "$dir/out.json"
	[ "$output" = "participant $victim died (killed by SIGKILL)" ]
	[ ! -e "/proc/$other" ]
	[ ! -e "$f" ]
	# a death inside the critical section is the only way a mutex race
	# loses: the why: says "differs" exactly when sum and total do
	lost=$(jq '.sum - .total' "$dir/out.json")
	[ "$(jq .lost "$dir/out.json")" -eq "$lost" ]
	if [ "$lost" -ne 0 ]; then
		[ "$(jq --argjson l "$lost" '[.findings[] | select(.text | startswith("The sum differs from the total by \($l): a participant died inside its critical section"))] | length' "$dir/out.json")" -eq 1 ]
	else
		[ "$(jq '[.findings[] | select(.text | startswith("The sum equals the total: a process-shared pthread mutex"))] | length' "$dir/out.json")" -eq 1 ]
	fi
	[ "$(jq '[.findings[] | select(.text | startswith("The sum differs"))] | length' "$dir/out.json")" -eq $((lost != 0)) ]
}

# holds_mutex FILE PID: PID owns the race's mutex; a robust futex word holds
# its owner's thread id (futex(2)), and the mutex sits at byte 104
holds_mutex() {
	local w
	w=$(od -An -t u4 -j 104 -N 4 "$1" | tr -d ' ')
	(( (w & 0x3fffffff) == $2 ))
}

@test "--sync mutex: a lock left held by a killed participant is recovered (EOWNERDEAD)" {
	local f=$dir/course i held=0
	race_bg 2 --sync mutex --file "$f" --target 1e15 --json >"$dir/out.json"
	local p=${bg[0]}
	wait_for 10 has_children "$p" 2
	wait_for 10 racing "$f"
	kids=($(pgrep -P "$p"))
	# freeze the victim until it is caught holding the lock, then kill it
	for i in $(seq 200); do
		kill -STOP "${kids[0]}"
		if holds_mutex "$f" "${kids[0]}"; then held=1; break; fi
		kill -CONT "${kids[0]}"
	done
	[ "$held" -eq 1 ]
	kill -9 "${kids[0]}"
	wait_for 5 dead "$p"
	wait "$p" || true
	[ "$(jq -r .recovered_by "$dir/out.json")" = "${kids[1]}" ]
	[ "$(jq -r .stopped "$dir/out.json")" = "participant ${kids[0]} died (killed by SIGKILL)" ]
}

@test "--join: kill -9 of one participant stops the other within seconds" {
	local f=$dir/course
	race_bg --join 2 --sync sem --file "$f" --target 1e15 --json >"$dir/a.json"
	race_bg --join 2 --sync sem --file "$f" --target 1e15 --json >"$dir/b.json"
	wait_for 10 racing "$f"
	kill -9 "${bg[1]}"
	wait_for 5 dead "${bg[0]}"
	st=0
	wait "${bg[0]}" || st=$?
	[ "$st" -eq 1 ]
	[ "$(jq -r .stopped "$dir/a.json")" = "participant ${bg[1]} died" ]
	[ ! -e "$f" ]
}

@test "a file that is not a race file is left untouched (no --force)" {
	local f=$dir/precious
	printf 'precious data\n' >"$f"
	cp -p "$f" "$dir/copy"
	before=$(stat -c '%i %s %Y' "$f")
	run ipclab race 2 --file "$f" --target 1e6
	[ "$status" -eq 1 ]
	[[ "$output" == *"not an ipclab race file; leaving it untouched"* ]]
	run ipclab race --join 2 --file "$f" --target 1e6
	[ "$status" -eq 1 ]
	cmp "$f" "$dir/copy"
	[ "$(stat -c '%i %s %Y' "$f")" = "$before" ]
}

@test "a symlink at the race file's path is not followed" {
	printf 'target data\n' >"$dir/target"
	cp "$dir/target" "$dir/copy"
	ln -s "$dir/target" "$dir/link"
	run ipclab race 2 --file "$dir/link" --target 1e6
	[ "$status" -eq 1 ]
	[[ "$output" == *"symbolic link; not following it"* ]]
	[ -L "$dir/link" ]
	cmp "$dir/target" "$dir/copy"
}

@test "a stale race file (its creator killed) is taken over, not waited on" {
	local f=$dir/course
	race_bg --join 2 --file "$f" --timeout 30 2>/dev/null
	local p=${bg[0]}
	wait_for 10 test -e "$f"
	kill -9 "$p"
	wait_for 5 test ! -e "/proc/$p"
	[ -e "$f" ]
	run ipclab race 2 --file "$f" --target 1e6 --sync atomic --json
	[ "$status" -eq 0 ]
	[[ "$output" == *"took over a stale race file"*"pid $p"* ]]
	[ ! -e "$f" ]
}

@test "a race file in use is refused, not taken over" {
	local f=$dir/course
	race_bg --join 2 --file "$f" --timeout 30 2>/dev/null
	wait_for 10 test -e "$f"
	ino=$(stat -c %i "$f")
	run ipclab race 2 --file "$f" --target 1e6
	[ "$status" -eq 1 ]
	[[ "$output" == *"in use by a running race (pid ${bg[0]})"* ]]
	[ "$(stat -c %i "$f")" = "$ino" ]
}

@test "bad N is refused with a reason, exit 2, and no file is made" {
	local n
	for n in 0 -3 abc 65 ''; do
		run ipclab race "$n"
		[ "$status" -eq 2 ]
		[[ "$output" == *"participants"* ]]
		[[ "$output" == *"Try 'ipclab race --help'"* ]]
	done
	run ipclab race 65 --layout padded
	[[ "$output" == *"'65' is not a number of participants: N is 1 to 64,"*"(too large)"* ]]
	run ipclab race -3
	[[ "$output" == *"(negative)"* ]]
	run ipclab race 11
	[ "$status" -eq 2 ]
	[[ "$output" == *"10 winnings; --layout padded"* ]]
	[ -z "$(ls -A "$dir")" ]
}

# check_example CMD: runs one EXAMPLE of the man page and checks its result
check_example() {
	local args=${1#ipclab race } i
	case $1 in
	wait) return 0 ;;	# the --join example waits for its participants
	*--join*)
		# the page starts the three participants on three lines: run them once
		[ -z "$joined" ] || return 0
		joined=1
		args=${args%% >*}
		args=${args/--file course/--file $dir/course}
		for i in 1 2 3; do
			# shellcheck disable=SC2086
			race_bg $args >"$dir/j$i" 2>&1
		done
		for i in 0 1 2; do
			wait "${bg[$i]}"
			grep -q "^TOTAL    2000000$" "$dir/j$((i + 1))"
		done
		[ ! -e "$dir/course" ] ;;
	*)
		# shellcheck disable=SC2086
		run --separate-stderr "$IPCLAB_BIN" race $args
		[ "$status" -eq 0 ]
		case $args in
		"2 --target 1e7") [[ "$output" == *"TOTAL    10000000"* ]] ;;
		*--json) [ "$(jq -s length <<<"$output")" -eq 1 ]
			[ "$(jq '[.participants[].winnings] | add' <<<"$output")" -eq 1000000 ]
			[ "$(jq '.participants | length' <<<"$output")" -eq 4 ] ;;
		"--sync all 2") [ "$(grep -cE '^[a-z]+ +packed +2 ' <<<"$output")" -eq 7 ] ;;
		"1-4") [ "$(grep -cE '^none +packed +[1-4] ' <<<"$output")" -eq 4 ] ;;
		*--layout\ all*) grep -qE '^atomic +packed +2 ' <<<"$output"
			grep -qE '^atomic +padded +2 ' <<<"$output" ;;
		*) echo "an EXAMPLE without a check: $1"; return 1 ;;
		esac ;;
	esac
}

@test "man page: every EXAMPLE runs and does what the page says" {
	local cmd n=0 joined=
	while IFS= read -r cmd; do
		n=$((n + 1))
		check_example "$cmd"
	done < <(sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE/p' "$IPCLAB_SRC/man/ipclab-race.1" |
		 sed -n 's/^\$ //p')
	[ "$n" -eq 9 ]
}

@test "man page: mandoc -Tlint finds nothing but missing cross-references" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	run mandoc -Tlint -Wall "$IPCLAB_SRC/man/ipclab-race.1"
	[ -z "$(grep -v -e "referenced manual not found" -e "outdated mandoc.db" <<<"$output")" ]
	[ "$(grep -ci "seed\|homework" "$IPCLAB_SRC/man/ipclab-race.1")" -eq 0 ]
}

# why_lines: the why: sentences of a person's report on stdin, each on one line
why_lines() {
	awk '/^  why: /{ if (w != "") print w; w = substr($0, 8); next }
	     /^       [^ ]/ && w != "" { w = w " " substr($0, 8); next }
	     { if (w != "") print w; w = "" } END { if (w != "") print w }'
}

@test "a single run's --json has the common skeleton, and its findings are the why: lines" {
	local m
	local -A want=(
		[none]="With one participant nobody else writes total, so no update can be lost."
		[atomic]="The sum equals the total: one locked fetch-and-add instruction reads, increments and writes total in one step."
	)
	for m in none atomic; do
		ipclab race 1 --sync "$m" --target 1000 >"$dir/$m.txt"
		ipclab race 1 --sync "$m" --target 1000 --json >"$dir/$m.json"
		[ -n "$(why_lines <"$dir/$m.txt")" ]
		[ "$(jq -r '.findings[].text' "$dir/$m.json")" = "$(why_lines <"$dir/$m.txt")" ]
		[ "$(jq -r '.findings[0].text' "$dir/$m.json")" = "${want[$m]}" ]
		jq -e '.findings | length > 0 and all(keys == ["section", "text"] and .section == "participants")' \
			"$dir/$m.json"
		# today's members, typed; the table's 100.0% is the fraction 1
		jq -e '(keys == ["completed", "cpus", "elapsed_s", "fairness", "findings", "layout",
			"lost", "lost_pct", "participants", "rate", "recovered_by", "stopped", "sum",
			"sync", "target", "time_s", "total"])
		    and ([.total, .sum, .lost, .lost_pct, .target, .elapsed_s, .rate, .fairness]
			| all(type == "number"))
		    and ([.sync, .layout, .cpus] | all(type == "string"))
		    and .completed == true and .time_s == null and .stopped == null
		    and .recovered_by == null
		    and (.participants | length == 1 and all(keys == ["cpus", "pid", "share", "winnings"]))
		    and .participants[0].share == 1 and .fairness == 1' "$dir/$m.json"
		grep -q ' 100\.0% ' "$dir/$m.txt"
	done
}

@test "a single run for a person: the participants, a blank line, the fields aligned, the why: lines" {
	export COLUMNS=80
	# on one CPU, so that the CPUS column holds one CPU, whichever it is
	command -v taskset >/dev/null || skip "taskset is not installed"
	run taskset -c 0 "$IPCLAB_BIN" race 1 --sync atomic --target 1000
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "race: 1 participant, --sync atomic, --layout packed" ]
	[[ "${lines[1]}" =~ ^\ *PID\ WINNINGS\ \ SHARE\ +CPUS$ ]]
	[[ "${lines[2]}" =~ ^\ *[0-9]+\ +1000\ 100\.0%\ █{30}\ [0-9]+$ ]]
	# bats drops the blank line from lines[]: it is in $output
	[[ "$output" == *"█ "[0-9]*$'\n\nTOTAL    1000\n'* ]]
	[ "${lines[4]}" = "SUM      1000 (of the winnings)" ]
	[ "${lines[5]}" = "LOST     0 (0.00% of the increments)" ]
	[ "${lines[6]}" = "TARGET   1000" ]
	[[ "${lines[7]}" =~ ^"ELAPSED  "[0-9]+\.[0-9]{3}" s"$ ]]
	[[ "${lines[8]}" =~ ^"RATE     "[0-9.e+]+" increments/s"$ ]]
	[ "${lines[9]}" = "FAIRNESS smallest share 100.0% (even: 100.0%)" ]
	[ "${lines[10]}" = "SYNC     atomic" ]
	[ "${lines[11]}" = "LAYOUT   packed (struct RaceCourse, 96 bytes: total and 1 winnings share 1 cache line)" ]
	[[ "${lines[12]}" =~ ^"CPUS     "[0-9]+$ ]]
	[ "${lines[13]}" = "  why: The sum equals the total: one locked fetch-and-add instruction reads," ]
	[ "${lines[14]}" = "       increments and writes total in one step." ]
	[ "${#lines[@]}" -eq 15 ]
}

@test "every key of race's JSON is lower snake case and documented in ipclab-race(1)" {
	local k
	ipclab race 1 --sync atomic --target 1000 --json >"$dir/one.json"
	ipclab race 1,2 --sync atomic --time 0.1 --json >"$dir/many.json"
	jq -r '[paths | .[] | strings] | unique[]' "$dir/one.json" "$dir/many.json" | sort -u >"$dir/keys"
	[ "$(wc -l <"$dir/keys")" -ge 20 ]
	while read -r k; do
		[[ "$k" =~ ^[a-z][a-z0-9_]*$ ]] || { echo "bad key $k"; false; }
		grep -Eq "^\.It (.* )?$k( |$)|[ (]$k[ ,)]|^$k[ ,]" "$IPCLAB_SRC/man/ipclab-race.1" ||
			{ echo "undocumented key $k"; false; }
	done <"$dir/keys"
}

@test "the CPUs reported are the ones the kernel allowed, and shares add up" {
	command -v taskset >/dev/null || skip "taskset is not installed"
	run taskset -c 0 "$IPCLAB_BIN" race 2 --target 1e6 --sync atomic --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .cpus <<<"$output")" = 0 ]
	[ "$(jq -r '[.participants[].cpus] | unique | join(" ")' <<<"$output")" = 0 ]
	# each share is winnings / sum, and the fairness is the smallest share
	jq -e '.sum as $s | all(.participants[]; (.share - .winnings / $s) | fabs < 1e-9)
		and (.fairness - ([.participants[].share] | min) | fabs < 1e-9)' <<<"$output"
}

@test "bench/race runs end to end at a small scale: every row, a reference beside ipclab" {
	# Not a timing test: the benchmark's plumbing (references built, --json
	# rates read, ratios computed) must work; the figures are noise here.
	run env SCALE=1000 TMPDIR="$dir" IPCLAB_BIN="$IPCLAB_BIN" \
		"$IPCLAB_SRC/bench/race" 1 none mutex flock
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -Ec '^(none|mutex|flock) +(packed|padded) +[12] +[0-9.e+]+ +[0-9.e+]+ +[0-9.]+x' <<< "$output")" -eq 12 ]
	grep -Eq '^lowest ratio: best [0-9.]+x, median [0-9.]+x' <<< "$output"
	grep -Eq '^--sync all: [0-9.]+ s, the 7 runs one by one: [0-9.]+ s \([-+][0-9.]+%, goal: at most \+5%\); racing: [0-9.]+ s$' <<< "$output"
}

@test "--sync all 2 --json: every mode once, lost == sum - total, no loss where synchronised" {
	in_time 40 "$dir/all.json" "$IPCLAB_BIN" race --sync all 2 --time 0.3 --json
	[ "$rc" -eq 0 ]
	# one document, not a stream of several
	[ "$(jq -s length "$dir/all.json")" -eq 1 ]
	run jq -r '[.runs[].sync] | join(" ")' "$dir/all.json"
	[ "$output" = "none atomic mutex sem spin flock fcntl" ]
	run jq -e 'all(.runs[]; .lost == .sum - .total and .n == 2 and .layout == "packed"
			and (.rate | type) == "number" and .rate > 0 and .completed
			and (.elapsed_s >= 0.3 and .elapsed_s < 10)
			and (.fairness | type) == "number" and .fairness >= 0 and .fairness <= 0.5
			and (.total | type) == "number" and (.sum | type) == "number"
			and .stopped == null and (keys | length) == 13
			and (.lost_pct - (if .sum > 0 then 100 * .lost / .sum else 0 end) | fabs) < 1e-6)
		and all(.runs[] | select(.sync != "none"); .lost == 0)
		and (.findings | length) > 0
		and all(.findings[]; .section == "runs" and (.text | type) == "string")' \
		"$dir/all.json"
	[ "$status" -eq 0 ]
	# the fastest mode has ratio 1, the others their rate over its rate
	run jq -e '(.runs | max_by(.rate)) as $f | all(.runs[]; (.ratio - .rate / $f.rate | fabs) < 1e-9)' \
		"$dir/all.json"
	[ "$status" -eq 0 ]
}

@test "--sync all: one line per mode, a log-scale bar each, and a why: naming the system calls" {
	in_time 40 "$dir/out" "$IPCLAB_BIN" race --sync all 2 --time 0.3
	[ "$rc" -eq 0 ]
	local m
	for m in none atomic mutex sem spin flock fcntl; do
		[ "$(grep -cE "^$m +packed +2 +[0-9.e+]+ " "$dir/out")" -eq 1 ]
	done
	grep -q "RATE (log scale)" "$dir/out"
	# the slowest row has the shortest bar, the fastest the full 24 cells
	flat=$(tr -s ' \n' ' ' <"$dir/out")
	[[ "$flat" =~ "why: flock and fcntl at "[0-9.e+]+" to "[0-9.e+]+"/s are "[0-9]+" to "[0-9]+"x slower than "[a-z]+" ("[0-9.e+]+"/s), "[0-9]+" to "[0-9]+" ns an increment, with 2 participants: each increment makes two system calls" ]]
	[[ "$flat" == *"why: none lost "*" increments ("*"%): its read-increment-write of total is not atomic; the synchronised modes lost 0."* ]]
	# a comparison of one N says nothing of a curve over N
	[[ "$flat" != *"Lost updates of none by N"* ]]
	# the human report says nothing of the exercise's old names
	[ "$(grep -ci "seed\|homework" "$dir/out")" -eq 0 ]
}

@test "the why: of a comparison is not printed for a single mode" {
	run ipclab race 1,2 --sync atomic --time 0.2
	[ "$status" -eq 0 ]
	[[ "$output" != *"slower than"* ]]
	[[ "$output" != *"read-increment-write of total is not atomic"* ]]
}

@test "--layout all runs both layouts of every mode; --layout seed is still packed" {
	in_time 60 "$dir/out.json" "$IPCLAB_BIN" race --sync atomic,none --time 0.2 --json 2
	[ "$rc" -eq 2 ]	# a list of modes is not a mode
	in_time 60 "$dir/out.json" "$IPCLAB_BIN" race --sync all --layout all 2 --time 0.2 --json
	[ "$rc" -eq 0 ]
	run jq -r '[.runs[] | "\(.sync)/\(.layout)"] | join(" ")' "$dir/out.json"
	[ "$output" = "none/packed atomic/packed mutex/packed sem/packed spin/packed flock/packed fcntl/packed none/padded atomic/padded mutex/padded sem/padded spin/padded flock/padded fcntl/padded" ]
	run ipclab race 1 --layout seed --sync atomic --target 1000 --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .layout <<<"$output")" = packed ]
}

@test "the false-sharing why: appears exactly when padded ran 1.2x packed or more, with both rates" {
	local json=$dir/out.json r i
	for i in 1 2 3; do
		in_time 60 "$json" "$IPCLAB_BIN" race --sync atomic --layout all 2 --time 0.3 --json
		[ "$rc" -eq 0 ]
		r=$(jq '([.runs[] | select(.layout == "padded")][0].rate) / ([.runs[] | select(.layout == "packed")][0].rate)' "$json")
		jq -r '.findings[].text' "$json" >"$dir/f"
		if awk -v r="$r" 'BEGIN { exit !(r >= 1.2) }'; then
			grep -q "^False sharing: with --layout packed, total and the winnings share cache lines, so each participant's write to its own winning takes the line from the others; atomic with 2 participants ran .*/s packed and .*/s padded" "$dir/f"
		else
			[ "$(grep -c '^False sharing' "$dir/f")" -eq 0 ]
		fi
	done
	# one participant shares no line with anybody: never the finding
	in_time 60 "$json" "$IPCLAB_BIN" race --sync atomic --layout all 1 --time 0.2 --json
	[ "$(jq '[.findings[] | select(.text | startswith("False sharing"))] | length' "$json")" -eq 0 ]
}

@test "race 1-4 --json: N = 1..4 in turn, no loss at N = 1, and a why: of the curve" {
	in_time 40 "$dir/out.json" "$IPCLAB_BIN" race 1-4 --time 0.3 --json
	[ "$rc" -eq 0 ]
	run jq -r '[.runs[].n] | join(",")' "$dir/out.json"
	[ "$output" = "1,2,3,4" ]
	run jq -e '.runs[0].lost == 0 and .runs[0].sum == .runs[0].total
		and all(.runs[]; .sync == "none" and .lost == .sum - .total)' "$dir/out.json"
	[ "$status" -eq 0 ]
	run jq -r '.findings[].text' "$dir/out.json"
	[[ "$output" == "Lost updates of none by N (1: 0.00%, 2: "*"with one participant nothing is lost"* ]]
	# more participants than CPUs: the scheduler's part is named
	if (( $(nproc) < 4 )); then
		[[ "$output" == *"more participants than the"*"preempts one between its read and its write"* ]]
	fi
}

@test "a sweep takes a list, refuses a range that goes down, and --join refuses several runs" {
	run ipclab race 1,3 --sync mutex --time 0.2 --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.runs[].n] | join(",")' <<<"$output")" = "1,3" ]
	[ "$(jq '[.runs[].lost] | add' <<<"$output")" -eq 0 ]
	run ipclab race 3-1
	[ "$status" -eq 2 ]
	[[ "$output" == *"'3-1': the range 3-1 goes down"* ]]
	run ipclab race --join --sync all 2
	[ "$status" -eq 2 ]
	[[ "$output" == *"--join races one N, one --sync mode and one --layout"* ]]
	run ipclab race 2,12
	[ "$status" -eq 2 ]
	[[ "$output" == *"12 participants do not fit"* ]]
	[ -z "$(ls -A "$dir")" ]
}

@test "a comparison longer than 3 s says so up front; a short one does not" {
	run --separate-stderr ipclab race --sync all 2 --time 0.5 --json
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "{"* ]]
	[[ "$stderr" == "ipclab race: 7 runs of 0.5 s each: about 4 s in all (--time sets a run's time)" ]]
	run --separate-stderr ipclab race 1,2 --time 0.2 --json
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "Ctrl+C during a comparison: exit 130, the rows so far and the partial one, no file, no child" {
	setsid "$IPCLAB_BIN" race --sync all 2 --time 1 >"$dir/out" 2>"$dir/err" 3>&- &
	local p=$!
	bg+=("$p")
	# wait until the third run (mutex) races: its file holds --sync 2
	wait_for 30 grep_sync "$TMPDIR/ipclab-race.$p" 2
	kids=$(pgrep -P "$p")
	kill -INT -- "-$p"
	wait_for 5 dead "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 130 ]
	grep -qE '^none +packed +2 ' "$dir/out"
	grep -qE '^atomic +packed +2 ' "$dir/out"
	grep -qE '^mutex +packed +2 ' "$dir/out"
	[ "$(grep -cE '^sem ' "$dir/out")" -eq 0 ]
	grep -q "The last row is partial: interrupted by SIGINT (sent to pid $p)." "$dir/out"
	[ -z "$(ls -A "$TMPDIR" | grep ipclab-race)" ]
	for k in $kids; do [ ! -e "/proc/$k" ]; done
	[ -z "$(pgrep -P "$p")" ]
}

@test "a --target run's progress line shows the time left on a terminal, never in a pipe" {
	command -v script >/dev/null || skip "script(1) is not installed"
	unset IPCLAB_NO_PROGRESS
	script -qc "$IPCLAB_BIN race 2 --sync mutex --target 3e7 2>&1 >/dev/null" /dev/null \
		>"$dir/tty" 3>&-
	grep -qE "race: [0-9.]+% of 30000000, [0-9.e+]+ increments/s of total, about [0-9.]+ (s|min|h) left" "$dir/tty"
	"$IPCLAB_BIN" race 2 --sync mutex --target 3e6 2>"$dir/pipe" >/dev/null
	[ ! -s "$dir/pipe" ]
	TERM=dumb script -qc "$IPCLAB_BIN race 2 --sync mutex --target 3e6 2>&1 >/dev/null" /dev/null \
		>"$dir/dumb" 3>&-
	[ "$(grep -c "left" "$dir/dumb")" -eq 0 ]
}

@test "a long --target run says how long it will take, 0.5 s in, even in a pipe; a short one does not" {
	race_bg 2 --sync flock --target 1e12 --json >"$dir/out.json" 2>"$dir/err"
	wait_for 15 grep -q "will take about" "$dir/err"
	kill -INT "${bg[0]}"
	st=0
	wait "${bg[0]}" || st=$?
	[ "$st" -eq 130 ]
	run cat "$dir/err"
	[[ "${lines[0]}" =~ ^"ipclab race: --target 1000000000000 will take about "[0-9.]+" "(s|min|h)" more: "[0-9.e+]+" increments/s of total in the first "[0-9.]+" s"$ ]]
	[ "${#lines[@]}" -eq 1 ]
	run --separate-stderr ipclab race 2 --sync atomic --target 1e6 --json
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}
