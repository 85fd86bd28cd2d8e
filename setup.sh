#!/bin/sh
# Sets up a fresh Debian 12 machine for netwave and builds it.
#
#   ./setup.sh demo    install, build, and run the demo (files in ./netwave-demo/)
#   ./setup.sh test    install, build under AddressSanitizer and
#                      UndefinedBehaviorSanitizer, and run every test
#   ./setup.sh build   install and build only
#   ./setup.sh fuzz    also install clang and libFuzzer, build the fuzz targets
#                      and run each for FUZZ_TIME seconds (default 20;
#                      docs/testing.md)
#   ./setup.sh deb     also install debhelper, build the Debian package from a
#                      release tarball (build-deb/), install it and run
#                      `netwave demo` from it
#
# Installs Debian packages with apt-get (as root, or through sudo).
set -eu

cd "$(dirname "$0")"
mode=${1:-build}

PACKAGES="build-essential autoconf automake pkg-config \
libcurl4-openssl-dev libjansson-dev libgit2-dev libsqlite3-dev libmicrohttpd-dev libssl-dev check \
curl ca-certificates openssl graphviz python3-jsonschema groff-base"

need_install() {
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 0
	done
	return 1
}

if need_install; then
	if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
	echo "setup: installing Debian packages" >&2
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
fi

# The conformance suite drives the emulator with Microsoft's JavaScript SDK;
# it needs node and npm (Debian's, when the machine has none).
if [ "$mode" = test ] && ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null ||
		echo "setup: nodejs/npm could not be installed; the SDK conformance suite will be skipped" >&2
fi

# The fuzz targets need clang and libFuzzer's runtime (Debian 12: clang 14,
# whose compiler-rt libraries are in libclang-rt-14-dev).
if [ "$mode" = fuzz ]; then
	FUZZ_PACKAGES="clang libclang-rt-14-dev"
	for p in $FUZZ_PACKAGES; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
			echo "setup: installing $FUZZ_PACKAGES" >&2
			$SUDO apt-get update -qq
			# shellcheck disable=SC2086
			DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
				$FUZZ_PACKAGES >/dev/null
			break
		fi
	done
fi

# The package needs debhelper (dh) and dpkg-dev (dpkg-buildpackage).
if [ "$mode" = deb ]; then
	for p in debhelper dpkg-dev; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
			echo "setup: installing debhelper dpkg-dev" >&2
			$SUDO apt-get update -qq
			DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
				debhelper dpkg-dev >/dev/null
			break
		fi
	done
fi

[ -x configure ] || ./autogen.sh >/dev/null 2>&1

jobs=$(nproc 2>/dev/null || echo 2)

build() {
	dir=$1
	shift
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && ../configure "$@" >/dev/null)
	fi
	make -C "$dir" -s -j"$jobs"
}

case "$mode" in
build)
	build build
	echo "setup: built build/netwave" >&2
	;;
demo)
	build build
	./build/netwave demo
	;;
test)
	build build-sanitize --enable-asan --enable-ubsan
	status=0
	make -C build-sanitize -j"$jobs" check >build-sanitize/check.out 2>&1 || status=$?
	grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' build-sanitize/check.out || true
	if [ "$status" -ne 0 ]; then
		tail -n 60 build-sanitize/check.out
		for log in $(grep -lE '^(FAIL|ERROR)' build-sanitize/tests/*.log build-sanitize/tests/cli/*.log 2>/dev/null); do
			echo "---- $log" && tail -n 80 "$log"
		done
	fi
	pass=$(sed -n 's/^# PASS: *//p' build-sanitize/check.out | tail -n 1)
	fail=$(sed -n 's/^# FAIL: *//p' build-sanitize/check.out | tail -n 1)
	err=$(sed -n 's/^# ERROR: *//p' build-sanitize/check.out | tail -n 1)
	echo "${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed"
	exit "$status"
	;;
fuzz)
	# its own build directory: configure must run after clang is installed
	# to find it, and make fuzz builds only what the targets need
	mkdir -p build-fuzz
	[ -f build-fuzz/Makefile ] || (cd build-fuzz && ../configure >/dev/null)
	make -C build-fuzz -s -j"$jobs" fuzz
	FUZZ_BIN=build-fuzz/tests/fuzz FUZZ_SRC=tests/fuzz FUZZ_TIME=${FUZZ_TIME:-20} \
		sh tests/fuzz/run.sh
	;;
deb)
	# from the release tarball, as a distribution would: make dist, unpack,
	# dpkg-buildpackage; then install the .deb and run the demo from it
	build build
	rm -rf build-deb
	mkdir -p build-deb
	make -C build -s dist >/dev/null
	version=$(sed -n 's/^PACKAGE_VERSION = //p' build/Makefile)
	tar -C build-deb -xzf "build/netwave-$version.tar.gz"
	(cd "build-deb/netwave-$version" && dpkg-buildpackage -us -uc -b >../build.log 2>&1) || {
		tail -n 40 build-deb/build.log
		exit 1
	}
	deb=$(ls build-deb/netwave_*.deb)
	if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
	$SUDO dpkg -i "$deb" >/dev/null
	echo "setup: installed $deb" >&2
	n=$(dpkg -L netwave | grep -cE '^/usr/(bin/netwave|share/man/man1/netwave\.1\.gz|share/bash-completion/completions/netwave|share/zsh/vendor-completions/_netwave|share/doc/netwave/commands\.md|share/doc/netwave/schemas/plan\.schema\.json)$' || true)
	if [ "$n" -ne 6 ]; then
		echo "setup: the package lacks files ($n of 6 found)" >&2
		exit 1
	fi
	/usr/bin/netwave --version
	# bounded: the demo takes seconds; a hang fails CI instead of holding it
	timeout 300 /usr/bin/netwave demo --dir build-deb/demo --spokes 10 >build-deb/demo.out
	tail -n 5 build-deb/demo.out
	;;
*)
	echo "usage: ./setup.sh [build|demo|test|fuzz|deb]" >&2
	exit 2
	;;
esac
