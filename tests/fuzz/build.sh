#!/bin/sh
# build.sh TOP_SRCDIR TOP_BUILDDIR - build every tests/fuzz/fuzz_*.c as a
# libFuzzer binary TOP_BUILDDIR/tests/fuzz/fuzz_* ("make fuzz" calls it).
#
# The core library is compiled again from lib/*.c with clang and the
# sanitizers (the libtool objects of the normal build are gcc's, without
# coverage instrumentation); every lib/*.c is compiled, so a new target may
# use any of it.  config.h comes from TOP_BUILDDIR.
#
# Environment: FUZZ_CC (clang), FUZZ_CFLAGS (-g -O1), FUZZ_SANITIZE
# (address,undefined), FUZZ_CPPFLAGS and FUZZ_LIBS (the library flags,
# from configure).
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 TOP_SRCDIR TOP_BUILDDIR" >&2
	exit 2
fi
srcdir=$1
builddir=$2
cc=${FUZZ_CC:-clang}
cflags=${FUZZ_CFLAGS:--g -O1}
sanitize=${FUZZ_SANITIZE:-address,undefined}
cppflags=${FUZZ_CPPFLAGS:-}
libs=${FUZZ_LIBS:-}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "$0: $cc not found (set FUZZ_CC to a clang with libFuzzer)" >&2
	exit 1
fi
[ -f "$builddir/config.h" ] || {
	echo "$0: $builddir/config.h missing: run configure first" >&2
	exit 1
}

out=$builddir/tests/fuzz
obj=$out/obj
mkdir -p "$obj"
rm -f "$obj"/*.o

# -fno-sanitize-recover: undefined behaviour aborts, so libFuzzer sees it.
common="$cflags -fno-omit-frame-pointer -fno-sanitize-recover=undefined
    -I$builddir -I$srcdir/lib $cppflags"

for src in "$srcdir"/lib/*.c; do
	# The PostgreSQL backend is in the library only when configure
	# found libpq (config.h's HAVE_PQ); no fuzz target calls it.
	case $(basename "$src") in
	kv_pg_cache.c) ;;       # pure: no libpq (fuzz_pgnotify)
	kv_pg*.c)
		grep -q '^#define HAVE_PQ 1' "$builddir/config.h" || continue ;;
	esac
	o=$obj/$(basename "$src" .c).o
	echo "  FUZZCC   lib/$(basename "$src")"
	# shellcheck disable=SC2086
	$cc $common -fsanitize=fuzzer-no-link,$sanitize -c "$src" -o "$o"
done

n=0
for src in "$srcdir"/tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	echo "  FUZZLD   tests/fuzz/$name"
	# shellcheck disable=SC2086
	$cc $common -I"$srcdir/tests/fuzz" -fsanitize=fuzzer,$sanitize \
	    "$src" "$obj"/*.o $libs -o "$out/$name"
	n=$((n + 1))
done
echo "built $n fuzz target(s) in $out"
