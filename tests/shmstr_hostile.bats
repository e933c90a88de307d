#!/usr/bin/env bats
# ipclab shmstr under hostile input: files it did not make, impossible names,
# odd file types, low limits, a full stdout, PID 1.

load common

setup() {
	dir=$(scratch)
	f=$dir/str.dat
	name=ipclab-test-$$
}

teardown() {
	rm -f "/dev/shm/$name"
	true
}

bytes() { od -An -tx1 -v "$1" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

@test "a 49-byte text file starting with '0' is not taken for a shmstr file" {
	# 0x30 = 48: its size is 1 + its first byte, as a shmstr file's is
	printf '0%048d' 0 >"$f"
	[ "$(stat -c %s "$f")" -eq 49 ]
	before=$(sha256sum "$f")
	run ipclab shmstr "$f" hello
	[ "$status" -eq 1 ]
	[[ "$output" == *"$f: exists and shmstr did not make it"*"not replaced without --force" ]]
	[ "$(sha256sum "$f")" = "$before" ]
}

@test "a 200-byte file of zeros is not truncated" {
	head -c 200 /dev/zero >"$f"
	run ipclab shmstr "$f" hi
	[ "$status" -eq 1 ]
	[[ "$output" == *"--force"* ]]
	[ "$(stat -c %s "$f")" -eq 200 ]
	cmp "$f" <(head -c 200 /dev/zero)
}

@test "a file shmstr made carries its mark and is reused without --force" {
	run ipclab shmstr --quiet "$f" first
	[ "$status" -eq 0 ]
	run python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.ipclab.shmstr").decode())' "$f"
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	run ipclab shmstr --quiet "$f" second
	[ "$status" -eq 0 ]
	[ "$output" = second ]
	[ "$(bytes "$f")" = "06 73 65 63 6f 6e 64" ]
}

@test "--force replaces a regular file of the caller's and marks it" {
	printf 'precious data\n' >"$f"
	run ipclab shmstr --quiet --force "$f" hello
	[ "$status" -eq 0 ]
	[ "$(bytes "$f")" = "05 68 65 6c 6c 6f" ]
	run ipclab shmstr --quiet "$f" again
	[ "$status" -eq 0 ]
}

@test "a file of another user is refused, even with --force" {
	printf 'theirs\n' >"$f"
	chown nobody "$f" 2>/dev/null || skip "cannot chown here"
	for force in "" --force; do
		run ipclab shmstr $force "$f" hello
		[ "$status" -eq 1 ]
		[ "$output" = "ipclab shmstr: $f: exists and it belongs to user nobody; shmstr replaces only its own files, even with --force" ]
		[ "$(cat "$f")" = theirs ]
	done
}

@test "another user's --shm object is refused, root or not, even with --force" {
	printf 'theirs' >"/dev/shm/$name"
	chown nobody "/dev/shm/$name" 2>/dev/null || skip "cannot chown here"
	for force in "" --force; do
		run ipclab shmstr $force --shm "$name" hello
		[ "$status" -eq 1 ]
		[[ "$output" == *"$name: exists and it belongs to user nobody"* ]]
		[ "$(cat "/dev/shm/$name")" = theirs ]
	done
}

@test "a --shm object of ours that shmstr did not make needs --force" {
	printf 'mine' >"/dev/shm/$name"
	run ipclab shmstr --shm "$name" hello
	[ "$status" -eq 1 ]
	[[ "$output" == *"$name: exists and shmstr did not make it"*"--force" ]]
	[ "$(cat "/dev/shm/$name")" = mine ]
	run ipclab shmstr --quiet --force --shm "$name" hello
	[ "$status" -eq 0 ]
	[ "$(bytes "/dev/shm/$name")" = "05 68 65 6c 6c 6f" ]
	run ipclab shmstr --quiet --shm "$name" again
	[ "$status" -eq 0 ]
	[ "$output" = again ]
}

@test "impossible --shm names exit 2 saying what is wrong with the name" {
	long=$(printf 'x%.0s' $(seq 300))
	for n in "" / a/b "$long"; do
		run ipclab shmstr --shm "$n" hello
		[ "$status" -eq 2 ]
		[[ "${lines[0]}" == "ipclab shmstr: object name '"*"': the name "* ]]
		[[ "${lines[0]}" != *"Invalid argument"* ]]
		[ "${lines[1]}" = "Try 'ipclab shmstr --help' for more information." ]
	done
	run ipclab shmstr --shm a/b x
	[ "${lines[0]}" = "ipclab shmstr: object name 'a/b': the name has a '/' after its first character" ]
	run ipclab shmstr --shm "$long" x
	[[ "${lines[0]}" == *"..."*"longer than NAME_MAX"* ]]
}

@test "an empty or too long FILE exits 2 and names the problem" {
	run ipclab shmstr "" hello
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ipclab shmstr: FILE '': the path is empty" ]
	run ipclab shmstr "$dir/$(printf 'y%.0s' $(seq 300))" hello
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"longer than NAME_MAX"* ]]
}

@test "--read of a FIFO or /dev/zero says it is not a regular file, and never blocks" {
	mkfifo "$dir/fifo"
	run timeout 10 "$IPCLAB_BIN" shmstr --read "$dir/fifo"
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab shmstr: $dir/fifo: open: not a regular file (it is a FIFO)" ]
	run timeout 10 "$IPCLAB_BIN" shmstr --read /dev/zero
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab shmstr: /dev/zero: open: not a regular file (it is a character device)" ]
	run timeout 10 "$IPCLAB_BIN" shmstr "$dir/fifo" hello
	[ "$status" -eq 1 ]
	[[ "$output" == *"not a regular file (it is a FIFO)"* ]]
	[ -p "$dir/fifo" ]
}

@test "a failure at pipe(2) under a small ulimit -n removes the file just created" {
	# bats holds descriptors above 2 open: close them, so that 0-2, the
	# file (3) and one end of the first pipe fit, and the pipe does not
	run bash -c 'for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
		ulimit -n 5 && exec "$0" shmstr "$1" hello' "$IPCLAB_BIN" "$f"
	[ "$status" -eq 1 ]
	[ "$output" = "ipclab shmstr: pipe: Too many open files" ]
	[ ! -e "$f" ]
}

@test "run as PID 1, the child does not take getppid() == 1 for a dead parent" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a PID namespace"
	unshare -fp --mount-proc true 2>/dev/null || skip "unshare -p does not work here"
	run --separate-stderr unshare -fp --mount-proc "$IPCLAB_BIN" shmstr --json "$f" hello
	[ "$status" -eq 0 ]
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq '.handover.roles[] | select(.role == "parent") | .pid' <<<"$output")" -eq 1 ]
	[ "$(jq -r .handover.read <<<"$output")" = hello ]
	run unshare -fp --mount-proc "$IPCLAB_BIN" shmstr --quiet --notify signal "$f" hi
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
}

@test "stdout on /dev/full is an error with a message, for a run and for --read" {
	run --separate-stderr bash -c '"$0" shmstr --quiet "$1" hello >/dev/full' "$IPCLAB_BIN" "$f"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"stdout: No space left on device"* ]]
	run --separate-stderr bash -c '"$0" shmstr --json "$1" hello >/dev/full' "$IPCLAB_BIN" "$f"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"stdout"*"No space left on device"* ]]
	for j in "" --json; do
		run --separate-stderr bash -c '"$0" shmstr --read $2 "$1" >/dev/full' "$IPCLAB_BIN" "$f" "$j"
		[ "$status" -eq 1 ]
		[[ "$stderr" == *"stdout"*"No space left on device"* ]]
	done
}

@test "a closed pipe on stdout ends quietly" {
	run --separate-stderr bash -c 'set -e -o pipefail; "$0" shmstr --quiet "$1" hello | true; "$0" shmstr --json "$1" hello | true' "$IPCLAB_BIN" "$f"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
}

@test "invalid UTF-8 (a surrogate) prints null for the string, as the man page says" {
	run --separate-stderr ipclab shmstr --json "$f" "$(printf 'a\xed\xa0\x80b')"
	[ "$status" -eq 0 ]
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq -c '.handover | [.string, .string_hex, .read]' <<<"$output")" = '[null,"61eda08062",null]' ]
	run --separate-stderr ipclab shmstr --read --json "$f"
	[ "$(jq -c '.read | [.string, .string_hex]' <<<"$output")" = '[null,"61eda08062"]' ]
	run --separate-stderr ipclab shmstr --json "$f" "$(printf 'caf\xc3\xa9')"
	[ "$(jq -r .handover.string <<<"$output")" = "café" ]
}

@test "on a file system without extended attributes an existing file needs --force" {
	mkdir "$dir/mnt"
	mount -t ramfs ramfs "$dir/mnt" 2>/dev/null || skip "cannot mount a ramfs here"
	g=$dir/mnt/str.dat
	run ipclab shmstr --quiet "$g" first
	st=$status out=$output
	run ipclab shmstr --quiet "$g" second
	st2=$status out2=$output
	run ipclab shmstr --quiet --force "$g" third
	st3=$status out3=$output
	bytes3=$(bytes "$g")
	umount "$dir/mnt"
	[ "$st" -eq 0 ]
	[ "$out" = first ]
	[ "$st2" -eq 1 ]
	[ "$out2" = "ipclab shmstr: $g: exists and its file system keeps no extended attributes, so shmstr cannot tell whether it made it; not replaced without --force" ]
	[ "$st3" -eq 0 ]
	[ "$out3" = third ]
	[ "$bytes3" = "05 74 68 69 72 64" ]
}

@test "every --json output is exactly one document" {
	for args in "" "--parent private" "--child private" "--notify signal --repeat 20" "--quiet" "--verbose"; do
		rm -f "$f"
		run --separate-stderr ipclab shmstr --json $args "$f" hello
		[ "$status" -eq 0 ]
		[ "$(jq -s length <<<"$output")" -eq 1 ] || { echo "--json $args: $output"; false; }
	done
	run --separate-stderr ipclab shmstr --read --json "$f"
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq -c . <<<"$output")" = "{\"read\":{\"file\":\"$f\",\"length\":5,\"string\":\"hello\",\"string_hex\":\"68656c6c6f\"},\"findings\":[]}" ]
}
