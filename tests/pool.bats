# ipclab pool: a pre-fork pool checked with real signals against the kernel's
# own view of the process tree (/proc, pstree).  Every pool runs under
# pool_reaper, a child subreaper, so that workers orphaned by a killed master
# are reaped here instead of lingering as zombies of PID 1.
load common

setup() {
	D=$(scratch)
	echo 3 >"$D/cfg"
	R= M= U= E=
}

teardown() {
	[ -n "$M" ] && kill -9 "$M" 2>/dev/null
	# whatever a failed test left of the trees it noted
	[ -s "$D/tree" ] && kill -9 $(cat "$D/tree") 2>/dev/null
	[ -n "$E" ] && rm -rf "$E"
	if [ -n "$R" ]; then
		wait_for 5 dead "$R" || kill -9 "$R" 2>/dev/null
		wait "$R" 2>/dev/null
	fi
	return 0
}

# start_pool ARGS...: runs `ipclab pool ARGS` under the reaper, stderr in
# $D/err; sets R (the reaper) and M (the master).
start_pool() {
	"$IPCLAB_HELPERS/pool_reaper" "$IPCLAB_BIN" pool "$@" 2>"$D/err" &
	R=$!
	wait_for 5 master_up || { cat "$D/err"; return 1; }
	M=$(pgrep -P "$R")
}
master_up() { [ -n "$(pgrep -P "$R")" ] && grep -q '^pool [0-9]*: N=' "$D/err"; }

# workers: the master's live children that are neither the FIFO helper nor
# the keeper, nor a stray (a worker's PID is in its own environment, as
# IPCLAB_POOL_WORKER), as the kernel lists them.
workers() {
	local c
	for c in $(pgrep -P "$M"); do
		alive "$c" || continue
		case $(cat "/proc/$c/comm" 2>/dev/null) in pool-fifo|pool-keeper) continue ;; esac
		is_stray "$c" || echo "$c"
	done
	return 0
}
is_stray() {
	local w
	w=$(tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | sed -n 's/^IPCLAB_POOL_WORKER=//p')
	[ -n "$w" ] && [ "$w" != "$1" ]
}
keeper() { pgrep -P "$M" -x pool-keeper; }
# master_under PID: the pool master among PID's descendants.
master_under() {
	local c
	for c in $(pgrep -P "$1"); do
		if tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q '^ipclab pool: master'; then
			echo "$c"
			return 0
		fi
		master_under "$c" && return 0
	done
	return 1
}
nworkers() { workers | wc -l; }
count_is() { [ "$(nworkers)" -eq "$1" ]; }
# all_run NAME: every worker has exec'd NAME (a fork shows before its exec).
all_run() {
	local w
	for w in $(workers); do [ "$(cat "/proc/$w/comm" 2>/dev/null)" = "$1" ] || return 1; done
}
logged() { grep -q -- "$1" "$D/err"; }

# tree: every live process in the workers' process groups, and the strays;
# each is noted in $D/tree for teardown.
tree() {
	local w
	for w in $(workers); do pgrep -g "$w"; done
	for w in $(pgrep -P "$M"); do is_stray "$w" && echo "$w"; done
	return 0
}
note_tree() { tree | tee -a "$D/tree"; }
# none_alive PID...: true when every PID is gone (kill -0 and /proc agree).
none_alive() {
	local p
	for p; do
		kill -0 "$p" 2>/dev/null && alive "$p" && return 1
	done
	return 0
}
strays() { local c; for c in $(pgrep -P "$M"); do is_stray "$c" && echo "$c"; done; return 0; }
has_strays() { [ "$(strays | wc -l)" -eq "$1" ]; }
# a worker that leaves a background child in its group
BG='sleep 100 & sleep 100'

# within MS CMD...: polls CMD every 5 ms for at most MS milliseconds.
within() {
	local limit=$1 start
	shift
	start=$(date +%s%3N)
	until "$@"; do
		(($(date +%s%3N) - start > limit)) && return 1
		sleep 0.005
	done
}

# stop_pool: SIGTERM, then the master's exit status in $status.
stop_pool() {
	kill -TERM "$M"
	wait_for 10 dead "$R"
	status=0
	wait "$R" || status=$?
	R= M=
}

@test "three workers start, named in ps and pstree" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	run pstree -p "$M"
	[ "$(grep -o 'pool-worker([0-9]*)' <<<"$output" | wc -l)" -eq 3 ]
	tr '\0' ' ' <"/proc/$M/cmdline" | grep -q 'ipclab pool: master N=3'
	for w in $(workers); do
		tr '\0' ' ' <"/proc/$w/cmdline" | grep -q 'ipclab pool: worker #[0-9]'
	done
}

@test "a worker killed with SIGKILL is replaced at once, and its death logged in words" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	victim=$(workers | head -n1)
	kill -9 "$victim"
	wait_for 2 dead "$victim"
	wait_for 2 count_is 3
	[[ " $(workers | tr '\n' ' ') " != *" $victim "* ]]	# not `! cmd`: bats ignores it
	wait_for 2 logged "^worker $victim killed by SIGKILL after [0-9.]* s$"
}

@test "SIGHUP with a larger N grows the pool at once" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	before=$(workers | sort)
	echo 5 >"$D/cfg"
	kill -HUP "$M"
	wait_for 2 count_is 5
	# the three first workers were kept
	[ "$(comm -12 <(echo "$before") <(workers | sort) | wc -l)" -eq 3 ]
	logged "reload: N=5 (was 3)"
}

@test "SIGHUP with a smaller N retires the surplus with SIGTERM" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	echo 1 >"$D/cfg"
	kill -HUP "$M"
	wait_for 3 count_is 1
	wait_for 2 logged "(retired) killed by SIGTERM"
	[ "$(grep -c '(retired) killed by SIGTERM' "$D/err")" -eq 2 ]
}

@test "SIGHUP with a broken CONFIG keeps N and the workers, and says why" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	before=$(workers | sort)
	for bad in abc -1 "3 4" 1e99 ""; do
		printf '%s\n' "$bad" >"$D/cfg"
		n=$(grep -c 'keeping N=3' "$D/err" || true)
		kill -HUP "$M"
		wait_for 2 eval '[ "$(grep -c "keeping N=3" "$D/err")" -gt "$n" ]'
	done
	rm "$D/cfg"
	kill -HUP "$M"
	wait_for 2 logged "cfg: open: No such file or directory; keeping N=3"
	logged "'abc' is invalid"
	logged "'1e99' is too large"
	logged "2 words where one number belongs"
	logged "no number in it"
	[ "$(workers | sort)" = "$before" ]
}

@test "a bad CONFIG at start is one clear error, exit 2, and no process" {
	for bad in abc -1 "3 4" 1e99 "" 2000; do
		printf '%s\n' "$bad" >"$D/cfg"
		run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo "$D/cfg"
		[[ ${lines[0]} == "ipclab pool: $D/cfg: "* ]]
	done
	[[ $output == *"2000 workers is above --limit (1024)"* ]]
	run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo "$D/missing"
	[[ ${lines[0]} == *"missing: open: No such file or directory" ]]
	run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo "$D"
	[[ ${lines[0]} == *": open: not a regular file (it is a directory)" ]]
}

@test "N = 0 is an idle master; blanks and # comments are fine" {
	printf '  # no workers yet\n\t0   # zero\n\n' >"$D/cfg"
	start_pool --no-fifo -s 1000 "$D/cfg"
	sleep 0.2	# nothing should appear; there is no event to wait for
	count_is 0
	printf '# now two\n 2 \n' >"$D/cfg"
	kill -HUP "$M"
	wait_for 2 count_is 2
}

@test "SIGUSR1 reports the exact number of workers created" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	for i in 1 2; do
		victim=$(workers | head -n1)
		kill -9 "$victim"
		wait_for 2 dead "$victim"
		wait_for 2 count_is 3
	done
	kill -USR1 "$M"
	wait_for 2 logged "created 5 workers, 3 alive of 3 wanted"
	wait_for 2 logged "2 killed by SIGKILL"
	# each death came with its own SIGCHLD: nothing merged to explain
	[ "$(grep -c "deaths came with only" "$D/err")" -eq 0 ]
}

@test "20 workers killed at once: fewer SIGCHLD than deaths, and the why: says they merge" {
	echo 20 >"$D/cfg"
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 10 count_is 20
	for round in 1 2 3; do
		# shellcheck disable=SC2046
		kill -9 $(workers)
		wait_for 10 count_is 20
		kill -USR1 "$M"
		wait_for 5 logged "created $((20 * (round + 1))) workers"
		logged "deaths came with only" && break
	done
	logged "why: $((20 * round)) deaths came with only [0-9]* SIGCHLD: a signal sent while the same one is"
}

@test "SIGUSR2 lists exactly the live workers" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	kill -USR2 "$M"
	wait_for 2 logged "^pool $M: 3 workers, 0 strays$"
	listed=$(awk '$NF == "running" {print $2}' "$D/err" | sort)
	[ "$listed" = "$(workers | sort)" ]
	grep -q '^SLOT *PID *AGE-S *EXITS *ACCEPTED *STRAYS *STATE$' "$D/err"
}

@test "SIGTTIN adds a worker and SIGTTOU retires one, until the next reload" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	kill -TTIN "$M"
	wait_for 2 count_is 4
	kill -TTOU "$M"
	wait_for 3 count_is 3
	kill -TTOU "$M"
	wait_for 3 count_is 2
	kill -HUP "$M"
	wait_for 2 count_is 3
}

@test "SIGTERM stops every worker gracefully and exits 0" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	ws=$(workers)
	stop_pool
	[ "$status" -eq 0 ]
	for w in $ws; do dead "$w"; done
	[ "$(grep -c '^worker [0-9]* killed by SIGTERM' "$D/err")" -eq 3 ]
}

@test "kill -9 of the master leaves no worker alive within 200 ms" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	ws=$(workers)
	kill -9 "$M"
	all_dead() { local w; for w in $ws; do dead "$w" || return 1; done; }
	within 200 all_dead
}

@test "kill -9 of the master also takes COMMAND workers with it" {
	start_pool --no-fifo "$D/cfg" -- sleep 600
	wait_for 5 count_is 3
	ws=$(workers)
	wait_for 2 all_run sleep
	kill -9 "$M"
	all_dead() { local w; for w in $ws; do dead "$w" || return 1; done; }
	within 200 all_dead
}

@test "-- COMMAND runs the program as the workers and replaces it when it exits" {
	start_pool --no-fifo "$D/cfg" -- sh -c 'echo $$ >>"$0"; exec sleep 600' "$D/runs"
	wait_for 5 count_is 3
	victim=$(workers | head -n1)
	kill -TERM "$victim"
	wait_for 2 logged "^worker $victim killed by SIGTERM after"
	wait_for 2 count_is 3
	wait_for 2 eval '[ "$(wc -l <"$D/runs")" -eq 4 ]'
}

@test "a COMMAND that does not exist exits 127, one that cannot run 126" {
	run -127 timeout 5 "$IPCLAB_BIN" pool --no-fifo "$D/cfg" -- /nonexistent/prog
	[[ $output == *"/nonexistent/prog: exec: No such file or directory"* ]]
	printf 'not a program\n' >"$D/plain"
	chmod 644 "$D/plain"
	run -126 timeout 5 "$IPCLAB_BIN" pool --no-fifo "$D/cfg" -- "$D/plain"
	[[ $output == *"plain: exec: Permission denied"* ]]
}

@test "the FIFO gives the master's PID to three readers in a row (the seed's pstree recipe)" {
	start_pool --fifo "$D/fifo" -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	[ "$(stat -c '%F %a' "$D/fifo")" = "fifo 600" ]
	for i in 1 2 3; do
		read -r pid < <(timeout 2 cat "$D/fifo")
		[ "$pid" = "$M" ]
	done
	run timeout 2 bash -c "read pid <'$D/fifo' && pstree -p \$pid"
	[ "$(grep -o 'pool-worker([0-9]*)' <<<"$output" | wc -l)" -eq 3 ]
	stop_pool
	[ ! -e "$D/fifo" ]	# it made the FIFO, so it removes it
}

@test "the FIFO serves three readers at once, each a whole line" {
	start_pool --fifo "$D/fifo" -s 1000 "$D/cfg"
	pids=()
	for i in 1 2 3; do
		timeout 3 head -n1 "$D/fifo" >"$D/r$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in 1 2 3; do [ "$(cat "$D/r$i")" = "$M" ]; done
}

@test "--fifo on a path that is not a FIFO is refused" {
	echo keep >"$D/plain"
	run -2 timeout 5 "$IPCLAB_BIN" pool --fifo "$D/plain" "$D/cfg"
	[[ ${lines[0]} == *"plain: exists and is not a FIFO" ]]
	[ "$(cat "$D/plain")" = keep ]
}

@test "a storm of 5,000 mixed signals: the master lives, N comes back within 1 s, no zombie" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	run "$IPCLAB_HELPERS/pool_storm" "$M" 5000
	[ "$status" -eq 0 ]
	kill -HUP "$M"		# TTIN/TTOU hold until the next reload
	alive "$M"
	within 1000 count_is 3
	[ -z "$(zombies_of "$M")" ]
	wait_for 5 logged "reload: N=3"
}

@test "--crash: a faulting worker reports its address and si_code, and dies of it" {
	start_pool --no-fifo --no-throttle --crash 1 -s 0.01 -n 1 "$D/cfg"
	saw() { logged "killed by SIGSEGV" && logged "killed by SIGFPE" && logged "killed by SIGABRT"; }
	wait_for 10 saw
	logged "caught SIGSEGV at address 0x10 (si_code 1 SEGV_MAPERR"
	logged "caught SIGFPE at address 0x[0-9a-f]* (si_code 1 FPE_INTDIV"
	logged "caught SIGABRT (si_code -6 SI_TKILL"
	# every death the kernel reported as SIGSEGV was announced by that worker
	for w in $(sed -n 's/^worker \([0-9]*\) killed by SIGSEGV.*/\1/p' "$D/err"); do
		logged "^worker $w: caught SIGSEGV"
	done
}

@test "a crash loop slows restarts down instead of spinning" {
	echo 2 >"$D/cfg"
	start_pool --no-fifo "$D/cfg" -- sh -c 'echo x >>"$0"; exit 1' "$D/runs"
	wait_for 5 logged "crash loop: 3 workers died within 1 s of starting"
	sleep 1.5	# a window to count in: delays of 0.1, 0.2, 0.4, 0.8 s
	n=$(wc -l <"$D/runs")
	[ "$n" -lt 30 ]
	kill -USR1 "$M"
	wait_for 2 logged "why: workers kept failing within 1 s of starting"
	run grep -c "fork(2) failed" "$D/err"
	[ "$output" -eq 0 ]
}

@test "the crash-loop delay ends once a worker lives 1 s" {
	echo 1 >"$D/cfg"
	start_pool --no-fifo "$D/cfg" -- sh -c '[ -e "$0" ] && exec sleep 600; exit 1' "$D/ok"
	wait_for 5 logged "crash loop: 3 workers died within 1 s"
	touch "$D/ok"
	wait_for 10 logged "workers live normally again: restarts at once"
	count_is 1
	kill -USR1 "$M"
	wait_for 2 logged "created [0-9]* workers, 1 alive of 1 wanted"
	run sed -n '/normally again/,$p' "$D/err"
	[[ $output != *"restarts delayed"* ]]
}

@test "--pidfile refuses a second master and names the PID holding it" {
	start_pool --no-fifo --pidfile "$D/pid" -s 1000 "$D/cfg"
	wait_for 2 eval '[ "$(cat "$D/pid" 2>/dev/null)" = "$M" ]'
	run -1 timeout 5 "$IPCLAB_BIN" pool --no-fifo --pidfile "$D/pid" "$D/cfg"
	[[ $output == *"pid: held by PID $M: another pool master is running"* ]]
	stop_pool
	[ ! -e "$D/pid" ]
	# pidfile_open truncates: a file holding anything else is left alone
	echo precious >"$D/notes"
	run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo --pidfile "$D/notes" "$D/cfg"
	[[ ${lines[0]} == *"notes: holds something other than a PID; not overwriting it" ]]
	[ "$(cat "$D/notes")" = precious ]
}

@test "an idle master makes no context switch at all" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	sleep 0.2
	before=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$M/status")
	sleep 1		# the measurement window itself
	after=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$M/status")
	[ "$after" -eq "$before" ]
}

@test "--json: the final report alone on stdout, counting what the kernel saw" {
	echo 2 >"$D/cfg"
	"$IPCLAB_HELPERS/pool_reaper" "$IPCLAB_BIN" pool --no-fifo --json "$D/cfg" \
		-- sh -c 'echo chatter; exec sleep 600' >"$D/out" 2>"$D/err" &
	R=$!
	wait_for 5 eval 'M=$(master_under "$R") && [ -n "$M" ]'
	wait_for 5 count_is 2
	victim=$(workers | head -n1)
	kill -9 "$victim"
	wait_for 2 dead "$victim"
	wait_for 2 count_is 2
	stop_pool
	[ "$status" -eq 0 ]
	[ "$(jq -s length "$D/out")" -eq 1 ]		# one document, nothing else
	[ "$(jq .pool.created "$D/out")" -eq 3 ]
	[ "$(jq '[.causes[] | select(.cause == "killed by SIGKILL") | .deaths] | add' "$D/out")" -eq 1 ]
	[ "$(jq '[.causes[].deaths] | add' "$D/out")" -eq 3 ]
	[ "$(grep -c chatter "$D/err")" -eq 3 ]	# the workers' stdout went to stderr
}

@test "bad options: one line, a hint, exit 2" {
	run -2 "$IPCLAB_BIN" pool --crash 2 "$D/cfg"
	[[ ${lines[0]} == *"--crash '2': want a rate from 0 to 1"* ]]
	[[ ${lines[1]} == "Try 'ipclab pool --help' for more information." ]]
	run -2 "$IPCLAB_BIN" pool
	run -2 "$IPCLAB_BIN" pool "$D/cfg" sleep 1
	[[ ${lines[0]} == *"a COMMAND after --"* ]]
	run -0 "$IPCLAB_BIN" pool --help
	[[ $output == *"Usage:"* ]]
}

@test "man page example: the seed's FIFO and pstree recipe, then HUP and USR1" {
	cd "$D"
	echo 3 >pool.conf
	"$IPCLAB_HELPERS/pool_reaper" bash -c 'ipclab() { "$IPCLAB_BIN" "$@"; }
		ipclab pool --fifo pool.fifo pool.conf 2>pool.log &
		wait' &
	R=$!
	wait_for 5 test -p pool.fifo
	run timeout 5 bash -c 'read pid <pool.fifo && pstree -p $pid'
	[ "$(grep -o 'pool-worker([0-9]*)' <<<"$output" | wc -l)" -eq 3 ]
	M=$(timeout 5 head -n1 pool.fifo)
	[ "$M" = "$(master_under "$R")" ]
	echo 5 >pool.conf; kill -HUP $M; kill -USR1 $M
	wait_for 2 count_is 5
	wait_for 2 eval 'grep -q "created [35] workers" pool.log'
}

@test "man page example: crashing workers are replaced, each death in words" {
	cd "$D"
	echo 3 >pool.conf
	"$IPCLAB_HELPERS/pool_reaper" bash -c 'ipclab() { "$IPCLAB_BIN" "$@"; }
		exec 2>err
		ipclab pool --no-fifo --crash 0.3 --sleep 0.2 pool.conf' &
	R=$!
	wait_for 5 eval 'M=$(master_under "$R") && [ -n "$M" ]'
	wait_for 10 logged "^worker [0-9]* killed by SIG[A-Z]* after [0-9.]* s$"
	wait_for 2 count_is 3
}

@test "man page example: a supervised COMMAND with a pidfile" {
	cd "$D"
	echo 3 >pool.conf
	"$IPCLAB_HELPERS/pool_reaper" bash -c 'ipclab() { "$IPCLAB_BIN" "$@"; }
		exec 2>err
		ipclab pool --no-fifo --pidfile pool.pid pool.conf -- sleep 600' &
	R=$!
	wait_for 5 test -s pool.pid
	M=$(cat pool.pid)
	[ "$M" = "$(master_under "$R")" ]
	wait_for 5 count_is 3
	wait_for 2 all_run sleep
}

@test "SIGTERM stops each worker's whole process group: nothing of sh -c 'sleep 100 & sleep 100' is left" {
	echo 2 >"$D/cfg"
	start_pool --no-fifo "$D/cfg" -- sh -c "$BG"
	wait_for 5 count_is 2
	wait_for 5 eval '[ "$(tree | wc -l)" -ge 4 ]'	# sh and the background sleep, twice
	t=$(note_tree)
	stop_pool
	[ "$status" -eq 0 ]
	none_alive $t
}

@test "kill -9 of the master: within 1 s nothing of any worker's process group is left" {
	echo 2 >"$D/cfg"
	# below the worker nothing names the master: only its group finds them
	start_pool --no-fifo "$D/cfg" -- sh -c "env -u IPCLAB_POOL_MASTER sh -c '$BG'"
	wait_for 5 count_is 2
	wait_for 5 eval '[ "$(tree | wc -l)" -ge 6 ]'
	t=$(note_tree)
	k=$(keeper)
	[ -n "$k" ]
	kill -9 "$M"
	within 1000 none_alive $t
	wait_for 2 dead "$k"	# the keeper's work is done
}

@test "a dead worker's background child is stopped within 1.5 s, logged once, and the worker replaced" {
	echo 1 >"$D/cfg"
	start_pool --no-fifo "$D/cfg" -- sh -c "$BG"
	wait_for 5 count_is 1
	w=$(workers)
	wait_for 5 eval '[ "$(pgrep -g "$w" | wc -l)" -ge 2 ]'
	t=$(note_tree)
	left=$(($(pgrep -g "$w" | wc -l) - 1))
	kill -9 "$w"
	within 1500 none_alive $t
	wait_for 2 eval '[ -n "$(workers)" ] && [ "$(workers)" != "$w" ]'
	wait_for 2 logged "^worker $w killed by SIGKILL after [0-9.]* s; stopped $left process"
	[ "$(grep -c "^worker $w " "$D/err")" -eq 1 ]
	note_tree >/dev/null
}

@test "--kill-mode process leaves a dead worker's children alive, as before" {
	echo 1 >"$D/cfg"
	start_pool --no-fifo --kill-mode process "$D/cfg" -- sh -c "$BG"
	wait_for 5 count_is 1
	w=$(workers)
	wait_for 5 eval '[ "$(pgrep -P "$w" | wc -l)" -ge 1 ]'
	kids=$(pgrep -P "$w" | tee -a "$D/tree")
	[ -z "$(keeper)" ]
	kill -9 "$w"
	wait_for 2 eval '[ -n "$(workers)" ] && [ "$(workers)" != "$w" ]'
	wait_for 2 logged "^worker $w killed by SIGKILL after [0-9.]* s$"
	for k in $kids; do alive "$k"; done
	run -2 "$IPCLAB_BIN" pool --kill-mode cgroup "$D/cfg"
	[[ ${lines[0]} == *"--kill-mode 'cgroup': want group or process" ]]
}

@test "a setsid double-forked child is a stray of its worker in USR1/USR2, stopped with the pool" {
	echo 1 >"$D/cfg"
	start_pool --no-fifo "$D/cfg" -- sh -c 'setsid -f sleep 100; exec sleep 100'
	wait_for 5 count_is 1
	wait_for 5 has_strays 1
	w=$(workers)
	s=$(strays | tee -a "$D/tree")
	[ "$(awk '{print $6}' "/proc/$s/stat")" != "$(awk '{print $6}' "/proc/$w/stat")" ]	# its own session
	kill -USR1 "$M"
	wait_for 2 logged "1 alive of 1 wanted, 0 retiring, 1 strays,"
	kill -USR2 "$M"
	wait_for 2 logged "^pool $M: 1 workers, 1 strays$"
	wait_for 2 logged "^ *$s *stray of worker $w$"
	[ "$(awk -v w="$w" '$2 == w {print $(NF-1)}' "$D/err")" -eq 1 ]	# its STRAYS cell
	stop_pool
	[ "$status" -eq 0 ]
	logged "SIGTERM: stopping 1 workers and 1 stray$"
	none_alive $s $w
}

@test "the keeper is restarted when something kills it" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	k=$(keeper)
	kill -9 "$k"
	wait_for 3 eval '[ -n "$(keeper)" ] && [ "$(keeper)" != "$k" ]'
	count_is 3
}

@test "a FIFO as CONFIG is refused at once, naming its type" {
	mkfifo "$D/fifo"
	run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo "$D/fifo"
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == "ipclab pool: $D/fifo: open: not a regular file (it is a FIFO)" ]]
	[ -p "$D/fifo" ]
}

@test "a CONFIG replaced by a FIFO before SIGHUP: N kept, and SIGTERM still obeyed" {
	start_pool --no-fifo -s 1000 "$D/cfg"
	wait_for 5 count_is 3
	rm "$D/cfg"
	mkfifo "$D/cfg"
	kill -HUP "$M"
	wait_for 2 logged "cfg: open: not a regular file (it is a FIFO); keeping N=3$"
	count_is 3
	stop_pool
	[ "$status" -eq 0 ]
}

# long_dir N: a directory under $D whose path is about N bytes long.
long_dir() {
	local d=$D c
	c=$(printf 'c%.0s' {1..199})
	while [ $((${#d} + 200)) -lt "$1" ]; do d=$d/$c; done
	echo "$d"
}

@test "a 4,000-byte CONFIG path is used whole; a longer one than PATH_MAX is refused, not cut" {
	d=$(long_dir 3990)
	mkdir -p "$d"
	echo 2 >"$d/cfg"
	[ "${#d}" -gt 3700 ]
	start_pool --no-fifo -s 1000 "$d/cfg"
	wait_for 5 count_is 2
	echo 3 >"$d/cfg"
	kill -HUP "$M"
	wait_for 2 count_is 3
	stop_pool
	rm "$d/cfg"
	run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo "$d/cfg"
	[[ ${lines[0]} == "ipclab pool: ${D:0:20}"*"..."*"ccc/cfg: open: No such file or directory" ]]
	[ "${#lines[0]}" -lt 200 ]	# the name shortened in the middle
	x=$(printf 'x%.0s' {1..200})
	run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo "$d/$x/$x/cfg"
	[[ ${lines[0]} == *"x/cfg: open: the path is longer than PATH_MAX (4096 bytes) allows" ]]
}

@test "a second pool refused by the pidfile leaves nothing it made: no FIFO" {
	start_pool --no-fifo --pidfile "$D/pid" -s 1000 "$D/cfg"
	wait_for 2 eval '[ "$(cat "$D/pid" 2>/dev/null)" = "$M" ]'
	run -1 timeout 5 "$IPCLAB_BIN" pool --fifo "$D/fifo2" --pidfile "$D/pid" "$D/cfg"
	[[ $output == *"pid: held by PID $M: another pool master is running"* ]]
	[ ! -e "$D/fifo2" ]
	[ "$(cat "$D/pid")" = "$M" ]
}

@test "more workers than RLIMIT_NPROC leaves room for: one line, exit 2, nothing started" {
	U=$((40000 + $$ % 10000))
	pgrep -U "$U" >/dev/null && skip "user $U has processes"
	E=$(mktemp -d /tmp/ipclab-pool.XXXXXX)
	chmod 755 "$E"
	echo 2 >"$E/cfg"
	cp "$IPCLAB_BIN" "$E/ipclab"
	chmod 755 "$E/ipclab"
	# the user's processes, as the kernel counts them: only this one, the
	# master, so a limit of 3 leaves room for the keeper and one worker
	run setpriv --reuid="$U" --regid="$U" --clear-groups prlimit --nproc=3 "$E/ipclab" pool --no-fifo "$E/cfg" -- sleep 100
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ipclab pool: $E/cfg: 2 workers is above the RLIMIT_NPROC headroom (1)" ]
	[ -z "$(pgrep -U "$U")" ]
}

@test "a failed fork (RLIMIT_NPROC) is throttled and said once per backoff step" {
	# a user of its own, for which the limit holds (it does not for root)
	U=$((40000 + $$ % 10000))
	pgrep -U "$U" >/dev/null && skip "user $U has processes"
	E=$(mktemp -d /tmp/ipclab-pool.XXXXXX)	# a directory that user can read
	chmod 755 "$E"
	echo 1 >"$E/cfg"
	# a copy that user can run, wherever the build tree is (a private
	# scratch directory, say)
	cp "$IPCLAB_BIN" "$E/ipclab"
	chmod 755 "$E/ipclab"
	"$IPCLAB_HELPERS/pool_reaper" setpriv --reuid="$U" --regid="$U" --clear-groups \
		prlimit --nproc=3 "$E/ipclab" pool --no-fifo -s 1000 "$E/cfg" 2>"$D/err" &
	R=$!
	wait_for 5 master_up
	M=$(pgrep -P "$R")
	wait_for 5 count_is 1	# the master, the keeper and one worker: 3
	kill -TTIN "$M"		# a second worker: its fork fails
	wait_for 5 logged "fork: Resource temporarily unavailable; restarting after 0.8 s$"
	sleep 1			# a window in which a spinning master would fork thousands of times
	kill -USR1 "$M"
	wait_for 2 logged "failed forks$"
	n=$(sed -n 's/^pool [0-9]*: \([0-9]*\) failed forks$/\1/p' "$D/err")
	[ "$n" -ge 4 ]
	[ "$n" -le 8 ]
	[ "$(grep -c 'fork: Resource temporarily unavailable' "$D/err")" -eq "$n" ]
	[ -z "$(grep 'fork: Resource' "$D/err" | sort | uniq -d)" ]	# each step said once
	logged "why: fork(2) failed (a limit such as RLIMIT_NPROC, or memory)"
	[ "$(grep -c "why: workers kept failing" "$D/err")" -eq 0 ]	# that is for deaths
	alive "$M"
	count_is 1
	stop_pool
	[ "$status" -eq 0 ]
}

@test "more than 32 causes of death: each its own row, with its own count" {
	echo 1 >"$D/cfg"
	echo 0 >"$D/n"
	"$IPCLAB_HELPERS/pool_reaper" "$IPCLAB_BIN" pool --no-fifo --no-throttle --json "$D/cfg" \
		-- sh -c 'n=$(cat "$0"); [ "$n" -ge 80 ] && exec sleep 100; echo $((n + 1)) >"$0"; exit $((n % 40 + 1))' \
		"$D/n" >"$D/out" 2>"$D/err" &
	R=$!
	wait_for 5 eval 'M=$(master_under "$R") && [ -n "$M" ]'
	wait_for 20 eval '[ "$(cat "$D/n")" -eq 80 ] && all_run sleep && count_is 1'
	stop_pool
	[ "$status" -eq 0 ]
	[ "$(jq '.causes | length' "$D/out")" -eq 41 ]
	for c in 1 7 33 38 40; do
		[ "$(jq --arg c "exited $c" '[.causes[] | select(.cause == $c) | .deaths] | add' "$D/out")" -eq 2 ]
	done
	[ "$(jq '[.causes[].deaths] | add' "$D/out")" -eq 81 ]
	[ "$(jq .pool.deaths "$D/out")" -eq 81 ]
}

@test "--json with stdout on /dev/full: exit 1 and a message" {
	echo 1 >"$D/cfg"
	"$IPCLAB_HELPERS/pool_reaper" "$IPCLAB_BIN" pool --no-fifo --json "$D/cfg" -- sleep 100 \
		>/dev/full 2>"$D/err" &
	R=$!
	wait_for 5 eval 'M=$(master_under "$R") && [ -n "$M" ]'
	wait_for 5 count_is 1
	stop_pool
	[ "$status" -eq 1 ]
	[ "$(tail -n1 "$D/err")" = "ipclab pool: stdout: write error: No space left on device" ]
}

# example_path: $D/bin/ipclab is the build's binary, so that in an example
# `ipclab pool ... &` makes $! the master itself, as it is for a user.
example_path() {
	mkdir -p "$D/bin"
	ln -sf "$IPCLAB_BIN" "$D/bin/ipclab"
	echo "$D/bin:$PATH"
}

@test "man page example: a background child of each worker, nothing left after SIGTERM" {
	cd "$D"
	echo 3 >pool.conf
	"$IPCLAB_HELPERS/pool_reaper" env PATH="$(example_path)" bash -c 'exec 2>err
		ipclab pool --no-fifo pool.conf -- sh -c '\''sleep 100 & sleep 100'\'' &
		echo $! >master
		for i in $(seq 500); do	# until a worker has its background child
			pgrep -g "$(pgrep -P $! -x sh | head -n1)" 2>/dev/null | sed -n 2p | grep -q . && break
			sleep 0.01
		done
		pgrep -g $(pgrep -P $! -x sh | head -n1) >group
		kill -TERM $!
		wait $!' &
	R=$!
	wait_for 5 test -s master
	M=$(cat master)
	wait_for 15 dead "$R"
	wait "$R"
	R= M=
	[ "$(wc -l <group)" -ge 2 ]	# sh and its background sleep at least
	cat group >>"$D/tree"
	none_alive $(cat group)
	logged "^SIGTERM: stopping 3 workers$"
}

@test "man page example: a daemonized child is a stray, listed by USR2 and stopped with the pool" {
	cd "$D"
	"$IPCLAB_HELPERS/pool_reaper" env PATH="$(example_path)" bash -c 'exec 2>err
		echo 1 >pool.conf
		ipclab pool --no-fifo pool.conf -- sh -c '\''setsid -f sleep 100; exec sleep 100'\'' &
		echo $! >master
		wait' &
	R=$!
	wait_for 5 test -s master
	M=$(cat master)
	wait_for 5 has_strays 1
	strays >>"$D/tree"
	s=$(strays)
	kill -USR2 "$M"
	wait_for 2 logged "^ *$s *stray of worker [0-9]*$"
	stop_pool
	[ "$status" -eq 0 ]
	none_alive "$s"
}

@test "man page example: --kill-mode process, the old behaviour" {
	cd "$D"
	echo 1 >pool.conf
	"$IPCLAB_HELPERS/pool_reaper" bash -c 'ipclab() { "$IPCLAB_BIN" "$@"; }
		exec 2>err
		ipclab pool --no-fifo --kill-mode process pool.conf -- sh -c '\''sleep 100 & sleep 100'\''' &
	R=$!
	wait_for 5 eval 'M=$(master_under "$R") && [ -n "$M" ]'
	wait_for 5 count_is 1
	w=$(workers)
	[ "$(awk '{print $5}' "/proc/$w/stat")" = "$(awk '{print $5}' "/proc/$M/stat")" ]	# the master's group
	wait_for 5 eval '[ -n "$(pgrep -P "$w")" ]'
	kids=$(pgrep -P "$w" | tee -a "$D/tree")
	kill -TERM "$w"
	wait_for 2 eval '[ -n "$(workers)" ] && [ "$(workers)" != "$w" ]'
	for k in $kids; do alive "$k"; done
}

# port_of: the port the start-up line says the pool listens on.
port_of() { sed -n 's/^pool [0-9]*: .*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$D/err"; }

@test "--listen: 300 connections, none refused while workers are killed in a loop, counts that add up" {
	"$IPCLAB_HELPERS/pool_reaper" "$IPCLAB_BIN" pool --no-fifo --json --listen 127.0.0.1:0 \
		"$D/cfg" >"$D/out" 2>"$D/err" &
	R=$!
	wait_for 5 eval 'M=$(master_under "$R") && [ -n "$M" ]'
	wait_for 5 count_is 3
	port=$(port_of)
	[ -n "$port" ]
	# ten rounds: a worker told to go, then 30 connections at once after
	run bash -c 'for i in $(seq 10); do
			kill -TERM "$(pgrep -P "$0" -x pool-worker | head -n1)"
			"$1" 127.0.0.1 "$2" 30 || exit
		done' "$M" "$IPCLAB_HELPERS/pool_client" "$port"
	[ "$status" -eq 0 ]			# not one connection refused
	[ "${#lines[@]}" -eq 300 ]
	[ "$(grep -c '^worker [0-9]* served connection [0-9]*$' <<<"$output")" -eq 300 ]
	nworkers_seen=$(awk '{print $2}' <<<"$output" | sort -u | wc -l)
	[ "$nworkers_seen" -gt 3 ]		# replacements served too
	stop_pool
	[ "$status" -eq 0 ]
	[ "$(jq .connections.connections "$D/out")" -eq 300 ]
	[ "$(jq '[.connections.accepted[].accepted] | add' "$D/out")" -eq 300 ]
	# each worker's count is what its own answers say
	for w in $(awk '{print $2}' <<<"$output" | sort -u | head -n5); do
		[ "$(jq --argjson w "$w" '[.connections.accepted[] | select(.pid == $w) | .accepted] | add' "$D/out")" \
			-eq "$(grep -c "^worker $w " <<<"$output")" ]
	done
	[ "$(jq -r .connections.listen "$D/out")" = "127.0.0.1:$port" ]
	# the why: on the spread is a finding of the connections section: the
	# shared socket's, not --reuseport's
	[ "$(jq '[.findings[] | select(.section == "connections")] | length' "$D/out")" -eq 1 ]
	[ "$(jq '[.findings[] | select(.text | startswith("each connection wakes one worker waiting in accept(2)"))] | length' "$D/out")" -eq 1 ]
	[ "$(jq '[.findings[] | select(.text | test("SO_REUSEPORT"))] | length' "$D/out")" -eq 0 ]
}

@test "-J: a crash loop's why: is a finding in JSON, in USR1's document and the last" {
	echo 2 >"$D/cfg"
	"$IPCLAB_HELPERS/pool_reaper" "$IPCLAB_BIN" pool --no-fifo -J -c 1 -s 0.01 "$D/cfg" \
		>"$D/out" 2>"$D/err" &
	R=$!
	wait_for 5 eval 'M=$(master_under "$R") && [ -n "$M" ]'
	wait_for 10 grep -q 'crash loop:' "$D/err"
	kill -USR1 "$M"
	wait_for 5 grep -q '"crash_loop"' "$D/err"
	stop_pool
	[ "$status" -eq 0 ]
	[ "$(jq -s length "$D/out")" -eq 1 ]
	[ "$(jq '[.findings[] | select(.section == "crash_loop")] | length' "$D/out")" -eq 1 ]
	[ "$(jq -r '.signals.signals[] | select(.signal == "SIGUSR1") | .received' "$D/out")" -eq 1 ]
	[ "$(jq '.crash_loop.delay_s > 0' "$D/out")" = true ]
	# USR1's document on stderr has the same finding
	sed -n '/^{/,/^}/p' "$D/err" >"$D/usr1"
	[ "$(jq -s '[.[] | .findings[] | select(.section == "crash_loop")] | length' "$D/usr1")" -ge 1 ]
}

@test "--listen: USR1 counts the connections, USR2 each worker's share" {
	start_pool --no-fifo --listen 127.0.0.1:0 "$D/cfg"
	wait_for 5 count_is 3
	kill -USR1 "$M"
	wait_for 2 logged "^pool $M: listening on 127.0.0.1:[0-9]*, 0 connections$"
	run grep -c "why: each connection wakes" "$D/err"
	[ "$output" -eq 0 ]	# no connection, nothing to explain
	run -0 "$IPCLAB_HELPERS/pool_client" 127.0.0.1 "$(port_of)" 30
	kill -USR1 "$M"
	wait_for 2 logged "^pool $M: listening on 127.0.0.1:[0-9]*, 30 connections$"
	logged "why: each connection wakes one worker waiting in accept(2)"
	kill -USR2 "$M"
	wait_for 2 logged "^pool $M: 3 workers, 0 strays$"
	sum=$(awk '$NF == "running" {s += $5} END {print s}' "$D/err")
	[ "$sum" -eq 30 ]
	for w in $(workers); do
		[ "$(awk -v w="$w" '$2 == w && $NF == "running" {print $5}' "$D/err")" -eq "$(grep -c "^worker $w " <<<"$output")" ]
	done
}

@test "--listen: a port in use or a bad address is one line, and nothing starts" {
	start_pool --no-fifo --listen 127.0.0.1:0 -s 1000 "$D/cfg"
	port=$(port_of)
	run -1 timeout 5 "$IPCLAB_BIN" pool --fifo "$D/fifo2" --listen "127.0.0.1:$port" "$D/cfg"
	[[ ${lines[0]} == "ipclab pool: --listen 127.0.0.1:$port: bind: Address already in use" ]]
	[ ! -e "$D/fifo2" ]
	run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo --listen 127.0.0.1:99999 "$D/cfg"
	[[ ${lines[0]} == *"--listen '127.0.0.1:99999': port '99999' is too large (want 0 to 65535)" ]]
	run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo --listen 300.1.2.3:80 "$D/cfg"
	[[ ${lines[0]} == "ipclab pool: --listen '300.1.2.3:80': "* ]]
	run -2 timeout 5 "$IPCLAB_BIN" pool --no-fifo --listen '[::1:80' "$D/cfg"
	[[ ${lines[0]} == *"want [HOST:]PORT, an IPv6 HOST in brackets" ]]
}

@test "--listen -- COMMAND: the socket on fd 3 with LISTEN_FDS=1 and the worker's own LISTEN_PID" {
	start_pool --no-fifo --listen 127.0.0.1:0 "$D/cfg" -- sh -c \
		'echo "$$ $LISTEN_PID $LISTEN_FDS $LISTEN_FDNAMES $(readlink /proc/$$/fd/3)" >>"$0"; exec sleep 100' "$D/env"
	wait_for 5 eval '[ "$(wc -l <"$D/env" 2>/dev/null)" -eq 3 ]'
	while read -r pid lpid fds names fd3; do
		[ "$pid" = "$lpid" ]
		[ "$fds" = 1 ]
		[ "$names" = ipclab-pool ]
		[[ $fd3 == socket:\[* ]]
	done <"$D/env"
}

@test "--listen -- python3: a ten-line server on fd 3 runs pre-forked" {
	timeout 10 python3 -c 'import socket' 2>/dev/null || skip "no python3"
	echo 2 >"$D/cfg"
	cat >"$D/srv.py" <<'PY'
import os, socket
assert os.environ["LISTEN_FDS"] == "1" and int(os.environ["LISTEN_PID"]) == os.getpid()
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    c.sendall(b"python %d\n" % os.getpid())
    c.close()
PY
	start_pool --no-fifo --listen 127.0.0.1:0 "$D/cfg" -- python3 "$D/srv.py"
	wait_for 5 count_is 2
	run -0 "$IPCLAB_HELPERS/pool_client" 127.0.0.1 "$(port_of)" 20
	[ "$(grep -c '^python [0-9]*$' <<<"$output")" -eq 20 ]
	for p in $(awk '{print $2}' <<<"$output" | sort -u); do workers | grep -qx "$p"; done
}

@test "man page example: a pre-fork server of three built-in workers" {
	cd "$D"
	"$IPCLAB_HELPERS/pool_reaper" env PATH="$(example_path)" bash -c 'exec 2>err
		echo 3 >pool.conf
		ipclab pool --no-fifo --listen 127.0.0.1:0 pool.conf 2>pool.log &
		echo $! >master
		for i in $(seq 500); do grep -q listening pool.log && break; sleep 0.01; done
		port=$(sed -n '\''s/.*listening on 127.0.0.1://p'\'' pool.log)
		cat </dev/tcp/127.0.0.1/$port >answer
		kill -TERM $!
		wait $!' &
	R=$!
	wait_for 5 test -s master
	M=$(cat master)
	wait_for 10 dead "$R"
	wait "$R"
	R= M=
	grep -q '^worker [0-9]* served connection 1$' answer
}

@test "man page example: server.py served the way socket activation would" {
	timeout 10 python3 -c 'import socket' 2>/dev/null || skip "no python3"
	cd "$D"
	echo 3 >pool.conf
	# server.py as the man page has it
	mandoc -Tutf8 "$IPCLAB_SRC/man/ipclab-pool.1" 2>/dev/null | col -bx |
		sed -n '/^ *import os, socket$/,/^ *c.close()$/p' | sed 's/^ \{11\}//' >server.py
	[ "$(wc -l <server.py)" -eq 8 ] || skip "no mandoc to read the page"
	start_pool --no-fifo --listen 127.0.0.1:0 pool.conf -- python3 server.py
	wait_for 5 count_is 3
	run -0 "$IPCLAB_HELPERS/pool_client" 127.0.0.1 "$(port_of)" 6
	[ "$(grep -c '^python [0-9]*$' <<<"$output")" -eq 6 ]
}

@test "kill -9 of the master: a stray goes too, within 1 s" {
	echo 1 >"$D/cfg"
	start_pool --no-fifo "$D/cfg" -- sh -c 'setsid -f sleep 100; sleep 100 & exec sleep 100'
	wait_for 5 count_is 1
	wait_for 5 has_strays 1
	wait_for 5 eval '[ "$(tree | wc -l)" -ge 3 ]'
	t=$(note_tree)
	s=$(strays)
	[ "$(tr '\0' '\n' <"/proc/$s/environ" | sed -n 's/^IPCLAB_POOL_MASTER=//p')" = "$M" ]
	kill -9 "$M"
	within 1000 none_alive $t
}

@test "--reuseport: each worker listens on a socket of its own, the hash spread in the report" {
	"$IPCLAB_HELPERS/pool_reaper" "$IPCLAB_BIN" pool --no-fifo -J --reuseport \
		--listen 127.0.0.1:0 "$D/cfg" >"$D/out" 2>"$D/err" &
	R=$!
	wait_for 5 eval 'M=$(master_under "$R") && [ -n "$M" ]'
	wait_for 5 count_is 3
	port=$(port_of)
	[ -n "$port" ]
	# the kernel's view: three listening sockets on the port, none the master's
	wait_for 5 eval '[ "$(ss -Hltnp "sport = :$port" | wc -l)" -eq 3 ]'
	[ "$(ss -Hltnp "sport = :$port" | grep -c "pid=$M,")" -eq 0 ]
	for w in $(workers); do
		[ "$(ss -Hltnp "sport = :$port" | grep -c "pid=$w,")" -eq 1 ]
	done
	run "$IPCLAB_HELPERS/pool_client" 127.0.0.1 "$port" 60
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 60 ]
	least=$(awk '{print $2}' <<<"$output" | sort | uniq -c | sort -n | awk 'NR == 1 {print $1}')
	[ "$(awk '{print $2}' <<<"$output" | sort -u | wc -l)" -eq 3 ] || least=0
	stop_pool
	[ "$status" -eq 0 ]
	[ "$(jq -r .connections.socket "$D/out")" = reuseport ]
	[ "$(jq .connections.connections "$D/out")" -eq 60 ]
	[ "$(jq '[.connections.accepted[].accepted] | add' "$D/out")" -eq 60 ]
	[ "$(jq --argjson l "$least" '(.connections.smallest_share - $l / 60) | (. < 0.001 and . > -0.001)' "$D/out")" = true ]
	[ "$(jq '[.findings[] | select(.section == "connections") | .text | test("SO_REUSEPORT")] | any' "$D/out")" = true ]
	[ "$(jq '[.findings[] | select(.text | startswith("each connection wakes one worker"))] | length' "$D/out")" -eq 0 ]
}

@test "--reuseport without --listen: one line, exit 2, nothing started" {
	run "$IPCLAB_BIN" pool --no-fifo --reuseport "$D/cfg"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"--reuseport applies to --listen"* ]]
}

@test "bench/pool runs end to end at a small scale: both floors, both loops, the idle master" {
	command -v cc >/dev/null || skip "cc is needed"
	run env IPCLAB_BIN="$IPCLAB_BIN" TMPDIR="$D" "$IPCLAB_SRC/bench/pool" 30 0.5 1
	echo "$output"
	[ "$status" -eq 0 ]
	grep -Eq '^  ipclab pool +median +[0-9.]+ us +p99 +[0-9.]+ us$' <<<"$output"
	grep -Eq '^  posix_spawn floor \(C loop\) +median +[0-9.]+ us' <<<"$output"
	grep -Eq '^  fork\+exec floor \(C loop\) +median +[0-9.]+ us' <<<"$output"
	grep -Eq '^  ratio pool/posix_spawn +[0-9.]+x +goal: at most 1.1x' <<<"$output"
	grep -Eq '^  posix_spawn\+wait \(C loop\) +[1-9][0-9]* runs/s$' <<<"$output"
	grep -Eq '^  ratio pool/posix_spawn loop +[0-9.]+x +goal: 0.9x or more$' <<<"$output"
	grep -Eq '^  context switches +[0-9]+ \(voluntary [0-9]+\) +goal: 0$' <<<"$output"
}
