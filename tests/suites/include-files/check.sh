# Runs inside the guest (tests/suites/include-files.yaml, under the host's
# /bin/sh as a payload: dash builtins only, the image has no applets).
# Every included file must be at its guest path with the lines the host
# file has, and absent where only another test's image carries it; then
# the scheduler's own log says what it was started with and what it read
# from its config file. Exit 0 when all holds, else 1 (the test fails).
# $1: "own" (the test with include_files of its own) or "shared".
fail=0

# expect FILE LINE...: FILE holds exactly these lines.
expect() {
	f=$1
	shift
	if [ ! -f "$f" ]; then
		echo "MISSING $f"
		fail=1
		return
	fi
	n=0
	while IFS= read -r l; do
		n=$((n + 1))
		if [ $# -eq 0 ] || [ "$l" != "$1" ]; then
			echo "WRONG $f line $n: '$l'"
			fail=1
			return
		fi
		shift
	done <"$f"
	if [ $# -ne 0 ]; then
		echo "SHORT $f: no line '$1'"
		fail=1
		return
	fi
	echo "OK $f"
}

expect /opt/ktstr-data/hello.txt "hello from the host"
expect /opt/ktstr-data/sub/b.txt "b"
expect /include-files/scx_ktstr.conf \
	"# scx_ktstr options, one per line (schedulers/fixture: --config)" "timeout-ms 24000"
if [ "$1" = own ]; then
	expect /etc/ktstr/hello.txt "hello from the host"
elif [ -e /etc/ktstr/hello.txt ]; then
	echo "LEAKED /etc/ktstr/hello.txt (another test's include_files)"
	fail=1
else
	echo "ABSENT /etc/ktstr/hello.txt"
fi
while IFS= read -r l; do
	case "$l" in
	"scx_ktstr: argv:"* | "scx_ktstr: --config"* | "scx_ktstr: --cell-parent-cgroup"*)
		echo "$l"
		;;
	esac
done </tmp/sched.log
exit $fail
