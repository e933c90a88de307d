#!/usr/bin/env bats
# Packaging: the .deb that `cpack -G DEB` makes, run from where dpkg would
# put it, and `uninstall` removing exactly what `cmake --install` put in
# place.  The build tree's install_manifest.txt and ipclab_installed.txt
# are left as they were (CI installs from the same tree).

load common

setup() {
	dir=$(scratch)
	manifest="$IPCLAB_BUILD/install_manifest.txt"
	installed="$IPCLAB_BUILD/ipclab_installed.txt"
	[ -e "$manifest" ] && cp -p "$manifest" "$dir/manifest.saved"
	[ -e "$installed" ] && cp -p "$installed" "$dir/installed.saved"
	command -v cpack >/dev/null || skip "cpack is not installed"
}

teardown() {
	if [ -e "$dir/manifest.saved" ]; then
		cp -p "$dir/manifest.saved" "$manifest"
	else
		rm -f "$manifest"
	fi
	if [ -e "$dir/installed.saved" ]; then
		cp -p "$dir/installed.saved" "$installed"
	else
		rm -f "$installed"
	fi
}

# deb: makes the package in $dir/deb and prints its path.
deb() {
	(cd "$IPCLAB_BUILD" && cpack -G DEB -B "$dir/deb" >/dev/null 2>&1) || return 1
	ls "$dir"/deb/ipclab_*.deb
}

@test "cpack makes a .deb that declares the libraries the binary really links" {
	run deb
	[ "$status" -eq 0 ]
	pkg=$output
	run dpkg-deb -f "$pkg" Depends
	[ "$status" -eq 0 ]
	[[ $output == *libbsd0* && $output == *libsmartcols1* && $output == *libc6* ]]
	# the truth: the packages that hold the binary's own DT_NEEDED objects
	for lib in $(readelf -d "$IPCLAB_BIN" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
		so=$(ldd "$IPCLAB_BIN" | awk -v l="$lib" '$1 == l {print $3}')
		[ -n "$so" ] || continue
		owner=$(dpkg -S "$(readlink -f "$so")" 2>/dev/null || dpkg -S "$so" 2>/dev/null) || continue
		owner=${owner%%:*}
		case $owner in libasan*|libubsan*|libgcc-s1) continue ;; esac
		[[ $output == *"$owner"* ]] || { echo "Depends lacks $owner ($so)"; false; }
	done
	run dpkg-deb -c "$pkg"
	[[ $output == *" ./usr/bin/ipclab"* ]]
	[[ $output == *" ./usr/lib/ipclab/libipclab_io.so"* ]]
	[[ $output == *" ./usr/share/man/man1/ipclab.1"* ]]
	[[ $output == *" ./usr/share/man/man1/ipclab-shmstr.1"* ]]
	[[ $output == *" ./usr/share/bash-completion/completions/ipclab"* ]]
}

@test "the packaged ipclab runs from /usr and finds its own shim and manual pages" {
	run deb
	[ "$status" -eq 0 ]
	dpkg-deb -x "$output" "$dir/root"
	bin="$dir/root/usr/bin/ipclab"
	run "$bin" shmstr "$dir/s.dat" hello
	[ "$status" -eq 0 ]
	[[ $output == *'"hello"'* ]]
	[ ! -e "$dir/s.dat" ] || [ "$(head -c1 "$dir/s.dat" | od -An -tu1 | tr -d ' ')" = 5 ]
	# the shim the packaged iotrace preloads is the packaged one
	IPCLAB_LIBDIR= run "$bin" iotrace -s -- sh -c 'printf %s "$LD_PRELOAD"'
	[ "$status" -eq 0 ]
	[ "$(readlink -f "${output%%iotrace:*}")" = "$dir/root/usr/lib/ipclab/libipclab_io.so" ]
	command -v man >/dev/null || skip "man is not installed"
	MANPAGER=cat PAGER=cat MANWIDTH=80 run "$bin" help shmstr
	[ "$status" -eq 0 ]
	[[ $output == *"ipclab-shmstr"* ]]
}

@test "uninstall removes what cmake --install put in place, and only that" {
	cmake --install "$IPCLAB_BUILD" --prefix "$dir/prefix" >/dev/null
	touch "$dir/prefix/bin/mine"
	[ -x "$dir/prefix/bin/ipclab" ]
	run cmake --build "$IPCLAB_BUILD" --target uninstall
	[ "$status" -eq 0 ]
	[ ! -e "$dir/prefix/bin/ipclab" ]
	[ ! -e "$dir/prefix/lib/ipclab/libipclab_io.so" ]
	[ -e "$dir/prefix/bin/mine" ]
	[ "$(find "$dir/prefix" -type f | wc -l)" -eq 1 ]
	# a second uninstall has nothing left to name
	run cmake --build "$IPCLAB_BUILD" --target uninstall
	[ "$status" -ne 0 ]
	# cmake wraps its error text: compare with the white space folded
	folded=$(printf "%s" "$output" | tr -s "[:space:]" " ")
	[[ $folded == *"nothing was installed from this build tree"* ]]
}

@test "a cpack run never makes uninstall name the files of /usr" {
	cmake --install "$IPCLAB_BUILD" --prefix "$dir/prefix" >/dev/null
	run deb
	[ "$status" -eq 0 ]
	run grep -c "^$dir/prefix/" "$IPCLAB_BUILD/ipclab_installed.txt"
	[ "$output" -gt 5 ]
	run grep -vc "^$dir/prefix/" "$IPCLAB_BUILD/ipclab_installed.txt"
	[ "$output" -eq 0 ]
	cmake --build "$IPCLAB_BUILD" --target uninstall >/dev/null
}
