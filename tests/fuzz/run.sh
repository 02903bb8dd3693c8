#!/bin/sh
# run.sh TOP_SRCDIR TOP_BUILDDIR [SECONDS] - run every fuzz target built by
# build.sh for SECONDS each (default: $FUZZ_SECONDS, else 20), starting from
# a copy of its seed corpus tests/fuzz/corpus/<target>/ ("make fuzz-run"
# calls it; CI too).  Fails when a target finds a crash, a leak, a timeout
# or a sanitizer report; the input that did it is kept in
# TOP_BUILDDIR/tests/fuzz/corpus-work/crash/.
#
# Per target, tests/fuzz/<target>.dict is given as -dict= and the words of
# tests/fuzz/<target>.options are added to the command line.  FUZZ_ARGS
# adds options to every target.
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 TOP_SRCDIR TOP_BUILDDIR [SECONDS]" >&2
	exit 2
fi
srcdir=$1
builddir=$2
secs=${3:-${FUZZ_SECONDS:-20}}
case $secs in
''|*[!0-9]*) echo "$0: SECONDS must be a number, not '$secs'" >&2; exit 2 ;;
esac

dir=$builddir/tests/fuzz
work=$dir/corpus-work
crash=$work/crash
mkdir -p "$crash"

n=0
failed=
for bin in "$dir"/fuzz_*; do
	case $bin in *.c|*.h|*.o) continue ;; esac
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		continue
	fi
	name=$(basename "$bin")
	corpus=$work/$name
	rm -rf "$corpus"
	mkdir -p "$corpus"
	if [ -d "$srcdir/tests/fuzz/corpus/$name" ]; then
		cp "$srcdir/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null ||
		    true
	fi
	set -- -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$crash/$name-"
	if [ -f "$srcdir/tests/fuzz/$name.dict" ]; then
		set -- "$@" -dict="$srcdir/tests/fuzz/$name.dict"
	fi
	if [ -f "$srcdir/tests/fuzz/$name.options" ]; then
		# shellcheck disable=SC2046
		set -- "$@" $(cat "$srcdir/tests/fuzz/$name.options")
	fi
	# shellcheck disable=SC2086
	set -- "$@" ${FUZZ_ARGS:-}
	log=$work/$name.log
	echo "  FUZZ     $name (${secs}s)"
	if "$bin" "$@" "$corpus" >"$log" 2>&1; then
		grep -E '^#[0-9]+.*DONE|^stat::(number_of_exec|peak_rss)' \
		    "$log" | sed 's/^/    /' || true
	else
		echo "FAIL: $name (log: $log)" >&2
		tail -n 40 "$log" >&2
		failed="$failed $name"
	fi
	n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
	echo "$0: no fuzz targets in $dir: run 'make fuzz' first" >&2
	exit 1
fi
if [ -n "$failed" ]; then
	echo "fuzz targets that failed:$failed" >&2
	exit 1
fi
echo "ran $n fuzz target(s) for ${secs}s each: no crash"
