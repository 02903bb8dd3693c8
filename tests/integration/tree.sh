#!/bin/bash
# tree.sh - the shape of the source tree holds (doc/DESIGN.md section 2):
# the folders depend on one another in one direction only (lib <- admin <-
# helper, service; the plugin and vmseal-checkpassword on lib alone), no C
# file of lib/, admin/ or service/ grows past 900 lines, and every C file
# opens with a comment saying what it is.  Reads the sources; runs nothing.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
cd "$TOP_SRCDIR" || bail "cd $TOP_SRCDIR"

# includes FOLDER: the quoted includes of FOLDER's C files that name
# another folder ("../x/y.h"), as "file: include" lines.
includes() {
	grep -Hn '^#include "\.\./' "$1"/*.[ch] 2>/dev/null
}

# Which folder may include from which ("../F/"): none across, today.
for d in lib admin helper service plugin; do
	out=$(includes "$d")
	if [ -z "$out" ]; then
		t_ok "$d/ includes no other folder's header by path"
	else
		t_fail "$d/ includes other folders' headers by path:"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
done

# Link order, from the build files: what each library or program links.
check_links() {  # check_links LOCALMK VAR ALLOWED-REGEX WHAT
	local line
	line=$(sed -n "/^$2 *=/,/[^\\\\]\$/p" "$1" | tr -d '\\\n')
	if [ -z "$line" ]; then
		t_fail "$4: $2 not found in $1"
	elif printf '%s\n' "$line" | tr ' \t' '\n\n' | grep '\.la$' |
	    grep -Evq "$3"; then
		t_fail "$4 links more than it may: $line"
	else
		t_ok "$4 links only $3"
	fi
}
check_links admin/local.mk admin_libvmsealadmin_la_LIBADD '^lib/libvmseal\.la$' \
    "admin/ (the command library)"
check_links helper/local.mk helper_vmseal_LDADD '^admin/libvmsealadmin\.la$' \
    "vmseal"
check_links helper/local.mk helper_vmseal_checkpassword_LDADD \
    '^lib/libvmseal\.la$' "vmseal-checkpassword"
check_links helper/local.mk helper_vmseal_authcheck_LDADD \
    '^lib/libvmseal\.la$' "vmseal-authcheck"
check_links service/local.mk service_vmsealed_LDADD \
    '^admin/libvmsealadmin\.la$' "vmsealed"

# Sizes.
big=
for f in lib/*.c admin/*.c service/*.c; do
	n=$(wc -l <"$f")
	[ "$n" -le 900 ] || big="$big $f($n)"
done
if [ -z "$big" ]; then
	t_ok "no C file of lib/, admin/ or service/ is over 900 lines"
else
	t_fail "C files over 900 lines:$big"
fi

# Every C file opens with its purpose: "/*" then " * name.c - ...".
bare=
for f in lib/*.[ch] admin/*.[ch] service/*.[ch] helper/*.c plugin/*.[ch]; do
	[ "$(sed -n 1p "$f")" = "/*" ] &&
	    sed -n 2p "$f" | grep -q "^ \* $(basename "$f") - " ||
	    bare="$bare $f"
done
if [ -z "$bare" ]; then
	t_ok "every C file opens with a comment naming it and its purpose"
else
	t_fail "C files without an opening purpose comment:$bare"
fi
t_done
