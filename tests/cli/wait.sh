# Shared by tests/cli/lib.sh and bench/lib.sh: waiting, bounded, for a
# process started in the background to say where it listens.

# port_wait FILE PID TENTHS: waits at most TENTHS tenths of a second (less
# when PID exits) for FILE, a --port-file, to be written; prints what it
# holds (the base URL), nothing when it was not written.
port_wait() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt "$3" ] && kill -0 "$2" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	cat "$1" 2>/dev/null || true
}
