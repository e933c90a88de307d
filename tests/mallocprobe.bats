#!/usr/bin/env bats
# ipclab mallocprobe: checked against strace and malloc_usable_size in a
# separate plain program (helpers/mallocprobe_alloc), never against itself.

load common

ALLOC=$IPCLAB_HELPERS/mallocprobe_alloc

# The probing tests mean nothing where ASan replaces malloc.
need_glibc_malloc() {
	if [ "$IPCLAB_SANITIZE" = 1 ]; then
		skip "ASan replaces malloc, so there are no glibc chunks to probe in this build"
	fi
}

# strace_mmaps [ALLOC ARGS]: the lengths of the anonymous mmaps that the
# helper's mallocs made (between its "begin" and "end"), as strace saw them.
# With FROM=again, from the "again" mark of -D instead.
strace_mmaps() {
	local tr
	tr=$(scratch)/trace
	strace -qq -o "$tr" -e trace=mmap,brk,write "$ALLOC" "$@" >/dev/null
	sed -n "/^write(1, \"${FROM:-begin}/,/^write(1, \"end/p" "$tr" |
		sed -n 's/^mmap(NULL, \([0-9]*\), PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = .*/\1/p'
}

# Every line the helper printed after "end": "SIZE USABLE".
usable_of() {
	"$ALLOC" "$@" | sed '1,/^end$/d'
}

teardown() {
	# no probe child may outlive a test (a `!` line would never fail here)
	if pgrep -f -- '--probe-child' >/dev/null; then
		echo "a probe child outlived the test" >&2
		return 1
	fi
}

@test "an unknown section is a usage error with one line and exit 2" {
	run ipclab mallocprobe --section heap
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ipclab mallocprobe: --section: unknown section 'heap' (ladder, bits, switch, kernel, dynamic, tunables)" ]
	[ "${lines[1]}" = "Try 'ipclab mallocprobe --help' for more information." ]
}

@test "under AddressSanitizer mallocprobe says so and exits 1 without probing" {
	if [ "$IPCLAB_SANITIZE" != 1 ]; then
		skip "only the ASan build replaces malloc"
	fi
	run ipclab mallocprobe -S switch
	[ "$status" -eq 1 ]
	[[ "$output" == *"malloc is AddressSanitizer's, not glibc's"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "a preloaded malloc is refused with a clear message and nothing on stdout" {
	need_glibc_malloc
	local lib=/lib/x86_64-linux-gnu/libc_malloc_debug.so.0
	[ -e "$lib" ] || skip "no $lib to preload"
	LD_PRELOAD=$lib run --separate-stderr "$IPCLAB_BIN" mallocprobe -S ladder
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"malloc comes from $lib, not from glibc's libc.so.6 (LD_PRELOAD)"* ]]
}

@test "--json is one document with the thresholds, the ladder and the run" {
	need_glibc_malloc
	ipclab mallocprobe --json >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -s length "$BATS_TEST_TMPDIR/out")" -eq 1 ]
	jq -e '(.switch.threshold_fresh | type == "number") and (.switch.threshold_drained | type == "number")
	       and (.ladder.rungs | length == 17) and any(.findings[]; .section == "switch")
	       and .run.interrupted == false and .run.probes_failed == 0 and .run.probes > 0
	       and (.run.page_size | type == "number") and (.run.glibc_version | type == "string")' "$BATS_TEST_TMPDIR/out"
	jq -e 'keys == ["bits", "dynamic", "findings", "kernel", "ladder", "run", "switch", "tunables"]' "$BATS_TEST_TMPDIR/out"
}

@test "--json has the common skeleton, and its findings are the report's why: lines" {
	need_glibc_malloc
	COLUMNS=1000 ipclab mallocprobe >"$BATS_TEST_TMPDIR/human"
	ipclab mallocprobe --json >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r '.findings[].text' "$BATS_TEST_TMPDIR/out")" = "$(sed -n 's/^  why: //p' "$BATS_TEST_TMPDIR/human")" ]
	jq -e '.findings | length >= 6 and all(keys == ["section", "text"])' "$BATS_TEST_TMPDIR/out"
	# each section's findings under its key, in the order of the sections
	[ "$(jq -r '[.findings[].section] | unique | sort | join(" ")' "$BATS_TEST_TMPDIR/out")" = "bits dynamic kernel ladder switch tunables" ]
	jq -e '[paths | .[] | strings] | all(test("^[a-z][a-z0-9_]*$"))' "$BATS_TEST_TMPDIR/out"
	jq -e '[.ladder.rungs[0] | .request, .chunk, .usable] + [.switch.states[0].probes, .bits.readings[0].p] |
	       all(type == "number")' "$BATS_TEST_TMPDIR/out"
	jq -e '[.ladder.rungs[0].address, .ladder.rungs[0].tag, .kernel.calls[0].tag] | all(test("^0x[0-9a-f]+$"))' "$BATS_TEST_TMPDIR/out"
}

@test "ladder tags agree with malloc_usable_size measured in another process" {
	need_glibc_malloc
	json=$(ipclab mallocprobe -S ladder --from 24 --to 2e6 --json)
	mapfile -t reqs < <(jq -r '.ladder.rungs[].request' <<<"$json")
	mapfile -t rows < <(jq -r '.ladder.rungs[] | "\(.request) \(.tag) \(.chunk) \(.flags) \(.usable)"' <<<"$json")
	mapfile -t truth < <(usable_of "${reqs[@]}")
	# 24, 48, ... 24 << 16 = 1572864: the last rung at most --to
	[ "${#rows[@]}" -eq 17 ]
	[ "${#truth[@]}" -eq 17 ]
	[ "${reqs[16]}" -eq 1572864 ]
	for i in "${!rows[@]}"; do
		read -r req tag chunk flags usable <<<"${rows[i]}"
		read -r treq tusable <<<"${truth[i]}"
		[ "$req" = "$treq" ]
		[ $((tag & ~7)) -eq "$chunk" ]
		[ "$usable" -eq "$tusable" ]
		# an in-use heap chunk lends the next prev_size; an mmapped one has 16 bytes of header
		if [[ $flags == *M* ]]; then [ "$tusable" -eq $((chunk - 16)) ]; else [ "$tusable" -eq $((chunk - 8)) ]; fi
	done
}

@test "the ladder's M bit is set on exactly the requests that strace sees mmapped" {
	need_glibc_malloc
	json=$(ipclab mallocprobe -S ladder --json)
	mapfile -t reqs < <(jq -r '.ladder.rungs[].request' <<<"$json")
	want=$(jq -r '.ladder.rungs[] | select(.flags | contains("M")) | .chunk' <<<"$json")
	[ -n "$want" ]
	[ "$(strace_mmaps "${reqs[@]}")" = "$want" ]
}

@test "the fresh switch point is, to the byte, where strace sees malloc's first mmap" {
	need_glibc_malloc
	json=$(ipclab mallocprobe -S switch --json)
	thr=$(jq -r .switch.threshold_fresh <<<"$json")
	len=$(jq -r '.switch.states[] | select(.state == "fresh") | .mmap_length' <<<"$json")
	[ -z "$(strace_mmaps $((thr - 1)))" ]
	[ "$(strace_mmaps "$thr")" = "$len" ]
}

@test "the drained switch point is, to the byte, where strace sees an mmap once the top is used up" {
	need_glibc_malloc
	json=$(ipclab mallocprobe -S switch --json)
	thr=$(jq -r .switch.threshold_drained <<<"$json")
	len=$(jq -r '.switch.states[] | select(.state == "drained") | .mmap_length' <<<"$json")
	[ -z "$(strace_mmaps -d $((thr - 1)))" ]
	[ "$(strace_mmaps -d "$thr")" = "$len" ]
	[ "$thr" -lt "$(jq -r .switch.threshold_fresh <<<"$json")" ]
}

@test "MALLOC_MMAP_THRESHOLD_=65536 moves the drained switch to 64 KiB, as strace agrees" {
	need_glibc_malloc
	export MALLOC_MMAP_THRESHOLD_=65536
	json=$(ipclab mallocprobe -S switch --json)
	thr=$(jq -r .switch.threshold_drained <<<"$json")
	# the request whose chunk (request + header, 16-aligned) first reaches 65536
	[ "$thr" -gt $((65536 - 32)) ]
	[ "$thr" -le 65536 ]
	[ -z "$(strace_mmaps -d $((thr - 1)))" ]
	[ -n "$(strace_mmaps -d "$thr")" ]
}

@test "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=300000 moves both switches to 300000" {
	need_glibc_malloc
	export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=300000
	json=$(ipclab mallocprobe -S switch,tunables --json)
	for k in threshold_fresh threshold_drained; do
		thr=$(jq -r ".switch.$k" <<<"$json")
		[ "$thr" -gt $((300000 - 32)) ]
		[ "$thr" -le 300000 ]
	done
	thr=$(jq -r .switch.threshold_fresh <<<"$json")
	[ -z "$(strace_mmaps $((thr - 1)))" ]
	[ -n "$(strace_mmaps "$thr")" ]
	jq -e '.tunables.settings[] | select(.name == "glibc.malloc.mmap_threshold") | .value == "0x493e0"' <<<"$json"
}

@test "the mmap lengths reported are the ones strace sees for the same requests" {
	need_glibc_malloc
	json=$(ipclab mallocprobe -S kernel --json)
	for req in 200000 1048576; do
		len=$(jq -r ".kernel.calls[] | select(.request == $req and .by == \"malloc\" and (.call | startswith(\"mmap\"))) | .length" <<<"$json")
		[ -n "$len" ]
		[ "$(strace_mmaps "$req")" = "$len" ]
	done
}

@test "--size probes one request fresh and drained, with strace's mmap length as its chunk" {
	need_glibc_malloc
	json=$(ipclab mallocprobe --size 200000 --json)
	jq -e '(.sizes.probes | length == 2) and (.ladder == null) and ([.sizes.probes[].from] == ["mmap", "mmap"])' <<<"$json"
	[ "$(jq -r '.sizes.probes[0].chunk' <<<"$json")" = "$(strace_mmaps 200000)" ]
	[ "$(jq -r '.sizes.probes[1].chunk' <<<"$json")" = "$(strace_mmaps -d 200000)" ]
	# the length asked of mmap, in JSON only: here the chunk itself
	[ "$(jq -r '[.sizes.probes[].mmap_length] | join(" ")' <<<"$json")" = "$(strace_mmaps 200000) $(strace_mmaps -d 200000)" ]
}

@test "after free of an mmapped chunk the same malloc comes from the heap, unless the threshold is set" {
	need_glibc_malloc
	json=$(ipclab mallocprobe -S dynamic --json)
	[ "$(jq -r '[.dynamic.steps[] | select(.run == "default" and .from != null) | .from] | join(" ")' <<<"$json")" = "mmap heap" ]
	[ "$(jq -r '[.dynamic.steps[] | select(.run != "default" and .from != null) | .from] | join(" ")' <<<"$json")" = "mmap mmap" ]
	# strace agrees: no mmap after the free by default, an mmap with the threshold set
	[ -z "$(FROM=again strace_mmaps -D 1048576)" ]
	[ -n "$(MALLOC_MMAP_THRESHOLD_=131072 FROM=again strace_mmaps -D 1048576)" ]
	json=$(MALLOC_MMAP_THRESHOLD_=131072 ipclab mallocprobe -S dynamic --json)
	[ "$(jq -r '[.dynamic.steps[] | select(.run == "default" and .from != null) | .from] | join(" ")' <<<"$json")" = "mmap mmap" ]
}

@test "only a free into the unsorted bin clears P, and prev_size then holds A's chunk size" {
	need_glibc_malloc
	json=$(ipclab mallocprobe -S bits --json)
	after() { jq -r ".bits.readings[] | select(.experiment == \"$1\" and .chunk == \"B after free(A)\") | .$2" <<<"$json"; }
	[ "$(after tcache p)" = 1 ]
	[ "$(after fastbin p)" = 1 ]
	[ "$(after unsorted p)" = 0 ]
	# A was malloc(2000): its chunk is its usable size plus the 8 bytes it lends
	read -r _ usable < <(usable_of 2000)
	[ $(($(after unsorted prev_size))) -eq $((usable + 8)) ]
}

@test "a chunk allocated in a second thread carries NON_MAIN_ARENA and one from mmap IS_MMAPPED" {
	need_glibc_malloc
	json=$(ipclab mallocprobe -S bits --json)
	[ "$(jq -r '.bits.readings[] | select(.experiment == "arena") | "\(.a)"' <<<"$json" | tr '\n' ' ')" = "0 1 " ]
	[ "$(jq -r '.bits.readings[] | select(.experiment == "mmap") | "\(.m)"' <<<"$json" | tr '\n' ' ')" = "0 1 " ]
}

@test "the report names every section and gives each a finding" {
	need_glibc_malloc
	run ipclab mallocprobe
	[ "$status" -eq 0 ]
	for h in "Allocation ladder" "Bit experiments" "Switch from heap to mmap" \
		 "What malloc asked the kernel for" "Dynamic threshold" "Tunables and environment"; do
		[[ "$output" == *"$h"* ]]
	done
	[ "$(grep -c '^  why: ' <<<"$output")" -ge 6 ]
}

@test "the ladder runs from --from to --to, doubling, one row a rung" {
	need_glibc_malloc
	run --separate-stderr ipclab mallocprobe -S ladder --json
	[ "$status" -eq 0 ]
	want=$(for i in $(seq 0 16); do echo $((16 << i)); done | paste -sd,)
	[ "$(jq -c '[.ladder.rungs[].request]' <<<"$output")" = "[$want]" ]
	run --separate-stderr ipclab mallocprobe -S ladder --from 100 --to 800 --json
	[ "$(jq -c '[.ladder.rungs[].request]' <<<"$output")" = "[100,200,400,800]" ]
}

@test "the kernel table's mmap call is the one strace prints, protection and flags in place" {
	need_glibc_malloc
	command -v strace >/dev/null || skip "strace is not installed"
	json=$(ipclab mallocprobe -S kernel --json)
	call=$(jq -r '.kernel.calls[] | select(.request == 200000 and .by == "malloc" and (.call | startswith("mmap"))) | .call' <<<"$json")
	tr=$BATS_TEST_TMPDIR/trace
	strace -qq -o "$tr" -e trace=mmap,write "$ALLOC" 200000 >/dev/null
	want=$(sed -n '/^write(1, "begin/,/^write(1, "end/p' "$tr" | grep '^mmap(NULL, ' | head -1)
	[ -n "$want" ]
	# the same call to the left of " = " (the address differs between processes)
	[ "${call% = *}" = "${want% = *}" ]
	[[ "$call" == "mmap(NULL, "*", PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x"* ]]
}

@test "the report's switch findings appear where the bisection found a switch" {
	need_glibc_malloc
	run --separate-stderr ipclab mallocprobe -S switch --json
	[ "$status" -eq 0 ]
	run jq -r '.findings[] | select(.section == "switch") | .text' <<<"$output"
	[[ "$output" == *"With the top chunk used up, every request from "*" on is mmapped"* ]]
	[[ "$output" == *"At each switch the trace shows the first mmap"* ]]
	[[ "$output" != *"came from the heap"* ]]
	[[ "$output" != *"could not run"* ]]
}

# mp_findings [VAR=VALUE...] -- ARGS: the findings, "section: text" a line, of
# a run in an environment without malloc settings but the VARs given.
mp_findings() {
	local vars=()
	while [ "$1" != -- ]; do vars+=("$1"); shift; done
	shift
	env -u GLIBC_TUNABLES -u MALLOC_ARENA_MAX -u MALLOC_MMAP_THRESHOLD_ -u MALLOC_MMAP_MAX_ \
		-u MALLOC_TOP_PAD_ -u MALLOC_TRIM_THRESHOLD_ -u MALLOC_PERTURB_ -u MALLOC_CHECK_ \
		"${vars[@]}" "$IPCLAB_BIN" mallocprobe --json "$@" |
		jq -r '.findings[] | .section + ": " + .text'
}

@test "the default run's why: lines, one per fact, and none of the alternatives" {
	need_glibc_malloc
	out=$(mp_findings --)
	# ladder
	has "ladder: Bit 0x2 (M) first appears at malloc("; has "and that is exactly where"
	hasnt "but no mmap"; hasnt "No rung got bit 0x2"
	has "ladder: Bit 0x1 (P) is set on every heap chunk"; has "ladder: The rest of the tag is the chunk size"
	# bits
	has "bits: free(A) into the tcache, and into a fastbin"; hasnt "free(A) of a small block changed"
	has "bits: Only the 2000-byte A"; hasnt "The unsorted-bin free changed"
	has "bits: Bit 0x2 is set only on the malloc(1048576) chunk"; hasnt "Bit 0x2 is set on both"
	hasnt "was not mmapped here"; hasnt "A itself was mmapped here"
	has "bits: The second thread's chunk carries bit 0x4"; hasnt "both came f"
	# switch
	has "switch: With the top chunk used up"; has "switch: A fresh process switches later"
	hasnt "Fresh and drained agree"; has "switch: At each switch the trace shows"
	hasnt "Warning: the tag's 0x2 bit and the trace disagree"; hasnt "Interrupted during the bisection"
	hasnt "even malloc(0), was"; hasnt "probes even malloc("; hasnt "could not run"
	# kernel, dynamic, tunables
	has "kernel: A heap request makes no system call"; has "kernel: For malloc(200000) malloc asked mmap for"
	has "dynamic: After free() of the mmapped 1 MiB chunk glibc raised its threshold"
	has "dynamic: With the threshold set explicitly by mallopt"
	hasnt "Even after free() of the mmapped chunk"; hasnt "was not mmapped in the first place"
	hasnt "Surprise: even with mallopt"
	has "tunables: Nothing in the environment changes malloc here"; hasnt "malloc settings are in the environment"
	[ "$(wc -l <<<"$out")" -eq 15 ]
}

@test "each alternative why: appears under the setting that provokes it" {
	need_glibc_malloc
	out=$(mp_findings -- -S ladder --to 1000)
	has "ladder: No rung got bit 0x2 (M): every block came from the heap"; hasnt "first appears at"
	out=$(mp_findings MALLOC_ARENA_MAX=1 -- -S bits,tunables)
	has "bits: The second thread's chunk has tag 0x71, the main thread's 0x71: both came f"
	hasnt "carries bit 0x4"
	has "tunables: malloc settings are in the environment"; hasnt "Nothing in the environment"
	# set, though to what changes nothing: still a setting in the environment
	out=$(mp_findings MALLOC_PERTURB_=0 -- -S tunables)
	has "tunables: malloc settings are in the environment"; hasnt "Nothing in the environment"
	out=$(mp_findings MALLOC_MMAP_MAX_=0 -- -S bits,kernel,dynamic)
	has "bits: malloc(67108864) was not mmapped here"; hasnt "Bit 0x2 is set only on"
	has "kernel: A heap request makes no system call"; hasnt "malloc asked mmap for"
	has "dynamic: malloc(1 MiB) was not mmapped in the first place"; hasnt "glibc raised its threshold"
	out=$(mp_findings GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0 -- -S bits)
	has "bits: free(A) of a small block changed B's tag from 0x21 to 0x20"; hasnt "free(A) into the tcache"
	out=$(mp_findings MALLOC_MMAP_THRESHOLD_=1 -- -S bits,ladder)
	has "ladder: Bit 0x2 (M) first appears at malloc(16)"
	hasnt "Bit 0x1 (P) is set on every heap chunk"; hasnt "The rest of the tag is the chunk size"
	has "bits: A itself was mmapped here"; has "bits: Bit 0x2 is set on both chunks: even malloc(24)"
	hasnt "Bit 0x2 is set only on"
	out=$(mp_findings MALLOC_MMAP_THRESHOLD_=131072 -- -S dynamic)
	has "dynamic: Even after free() of the mmapped chunk the same request was mmapped again"
	hasnt "glibc raised its threshold"
}

@test "--size: one why: when fresh and drained agree, another when they differ" {
	need_glibc_malloc
	local fresh drained
	fresh=$(env -u GLIBC_TUNABLES "$IPCLAB_BIN" mallocprobe -S switch --json | jq .switch.threshold_fresh)
	drained=$(env -u GLIBC_TUNABLES "$IPCLAB_BIN" mallocprobe -S switch --json | jq .switch.threshold_drained)
	[ "$drained" -lt "$fresh" ] || skip "fresh and drained switch at one size here"
	out=$(mp_findings -- -s 200000 -S switch)
	has "malloc(200000) comes from mmap in a fresh process and with the top chunk used up alike"
	hasnt "but from"
	out=$(mp_findings -- -s "$drained" -S switch)
	has "malloc($drained) comes from heap in a fresh process but from mmap once the top chunk is used up"
	hasnt "alike"
}

@test "every key of mallocprobe's JSON is documented in ipclab-mallocprobe(1) and has its type" {
	need_glibc_malloc
	local j k
	j=$(scratch)/mp.json
	ipclab mallocprobe --json >"$j"
	ipclab mallocprobe --json -s 200000 >"${j%.json}.size.json"
	jq -r '[paths | .[] | strings] | unique[]' "$j" "${j%.json}.size.json" | sort -u >"${j%.json}.keys"
	[ "$(wc -l <"${j%.json}.keys")" -ge 45 ]
	while read -r k; do
		[[ $k =~ ^[a-z][a-z0-9_]*$ ]] || { echo "bad key $k"; false; }
		grep -Eq "(^|[ (])$k([ ,):]|$)" "$IPCLAB_SRC/man/ipclab-mallocprobe.1" ||
			{ echo "undocumented key $k"; false; }
	done <"${j%.json}.keys"
	# the types: numbers as numbers, addresses and tags as hex strings, null
	# only where a value may be missing
	hex='test("^0x[0-9a-f]+$")'
	jq -e "[.ladder.rungs[] | (.request | type == \"number\") and (.address | $hex) and (.tag | $hex) and
		(.chunk | type == \"number\") and (.flags | test(\"^[PMA]*$\")) and (.from == \"heap\" or .from == \"mmap\") and
		(.usable | type == \"number\") and (.mmap_length == null or (.mmap_length | type == \"number\"))] | all" "$j"
	jq -e "[.bits.readings[] | (.experiment | type == \"string\") and (.chunk | type == \"string\") and (.tag | $hex) and
		(.size | type == \"number\") and ([.p, .m, .a] | all(. == 0 or . == 1)) and
		(.prev_size == null or (.prev_size | type == \"number\"))] | all" "$j"
	jq -e "(.switch | (.threshold_fresh | type == \"number\") and (.threshold_drained | type == \"number\")) and
		([.switch.states[] | (.state == \"fresh\" or .state == \"drained\") and (.tag | $hex) and (.heap_tag | $hex) and
		 .largest_heap_request == .smallest_mmap_request - 1 and ([.mmap_length, .top_chunk, .probes] | all(type == \"number\"))] | all)" "$j"
	jq -e "[.kernel.calls[] | (.request | type == \"number\") and (.state | type == \"string\") and (.by == \"malloc\" or .by == \"free\") and
		(.tag == null or (.tag | $hex)) and (.call | type == \"string\") and
		([.length, .extra] | all(. == null or type == \"number\"))] | all" "$j"
	jq -e "[.dynamic.steps[] | ([.run, .step, .calls] | all(type == \"string\")) and
		(if .step == \"free\" then .from == null and .tag == null else (.from == \"heap\" or .from == \"mmap\") and (.tag | $hex) end)] |
		length == 8 and all" "$j"
	jq -e '[.tunables.settings[] | [.name, .source, .value] | all(type == "string")] | length > 0 and all' "$j"
	jq -e "[.sizes.probes[] | .request == 200000 and (.state == \"fresh\" or .state == \"drained\") and (.address | $hex) and
		(.tag | $hex) and ([.chunk, .usable, .mmap_length] | all(type == \"number\")) and (.from == \"mmap\") and
		([.malloc_calls, .free_calls] | all(type == \"string\"))] | length == 2 and all" "${j%.json}.size.json"
	# the run, against getconf
	jq -e --arg v "$(getconf GNU_LIBC_VERSION | cut -d' ' -f2)" --argjson p "$(getconf PAGESIZE)" \
		'.run | .glibc_version == $v and .page_size == $p and .probes > 0 and .probes_failed == 0 and .interrupted == false' "$j"
}
