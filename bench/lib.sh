# Shared by the bench scripts that serve an estate from `netwave emulator`
# (bench_discover.sh, bench_export.sh): a scratch directory removed on exit,
# the emulator started on a free 127.0.0.1 port and stopped, and the clock.
# A script sets NETWAVE and sources this file: . "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/netwave-bench.XXXXXX")
EMU=""
cleanup() {
	if [ -n "$EMU" ] && kill -0 "$EMU" 2>/dev/null; then
		kill -TERM "$EMU" 2>/dev/null || true
		wait "$EMU" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }

# bench_emulator NAME ARGS: `netwave emulator ARGS` in the background (stderr
# in $TMP/emu.err); waits at most 120 s for its port file and sets EMU and
# BASE, or says so under NAME, with the emulator's stderr, and exits 1.
bench_emulator() {
	name=$1
	shift
	"$NETWAVE" emulator --listen 127.0.0.1:0 --port-file "$TMP/port" "$@" 2>"$TMP/emu.err" &
	EMU=$!
	i=0
	while [ ! -s "$TMP/port" ] && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -s "$TMP/port" ]; then
		echo "$name: the emulator did not start" >&2
		cat "$TMP/emu.err" >&2
		exit 1
	fi
	BASE=$(cat "$TMP/port")
}
