#!/bin/bash
# keys.sh - the key's life end to end (admin/cmd_keys.c):
#
#  1. rotate is atomic: a store of 20,000 users ({SSHA} of known passwords)
#     and `vmseal --offline rotate` killed with SIGKILL at 20 moments of its
#     run (timed from a measured run; before it writes, in the middle, near
#     the end).  After each kill the store holds exactly one key - the old
#     one (the old recovery key opens it) or the new one (it refuses the old
#     recovery key as a wrong key), the root key printed by rootkey agrees -
#     and either way verify and audit --verify pass and the export is the
#     same 20,001 lines.  Then one rotate that completes.
#  2. passphrase list/add/change/remove, the last way in kept, recover from
#     a lost passphrase with the recovery key, recovery-key typos named by
#     their group.
#  3. (root) a vmsealed of our own: while unsealed its memory holds the root
#     key and subkeys once (the search works), a default gcore does not
#     (MADV_DONTDUMP), a gcore with dump-excluded-mappings does; after
#     `vmseal seal` neither /proc/PID/mem nor either core holds them, and
#     the passphrase (sent with `unseal --passphrase-fd`) is not in its
#     memory either (the same search finds it in a process that holds it).
#  4. (root) `vmseal backup` while 4 writers change users through the
#     service: every backup verifies and opens offline.
#
# Needs python3; parts 3-4 need root (vmsealed drops to nobody), gdb for
# the cores.  The test helper rootkey (tests/integration/rootkey.c) is
# taken from the build tree if built, else compiled here against
# lib/.libs/libvmseal.a.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
BUILD=$(cd "$(dirname "$VMSEAL")/.." && pwd)
export LC_ALL=C

WORK=$(mktemp -d /tmp/vmseal-keys-XXXXXX)
chmod 0711 "$WORK"              # nobody reaches the sockets and config
DPID=
WPIDS=
KEEP_LOGS=

cleanup() {
	local p
	for p in $WPIDS $DPID; do
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null
			sleep 0.3
			kill -KILL "$p" 2>/dev/null
		fi
	done
	wait 2>/dev/null
	if [ "$T_FAILED" -gt 0 ]; then
		for p in "$WORK"/vmsealed.log "$WORK"/crash.log \
		    "$WORK"/writer.*.err; do
			[ -s "$p" ] || continue
			echo "# --- tail of $(basename "$p") ---"
			tail -n 25 "$p" | sed 's/^/#   /'
		done
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 1" TERM INT HUP

# --- helpers ---

expect_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"
	else t_fail "$1: got '$2', wanted '$3'"; fi
}


# new_store DIR OUTFILE: init with cheap Argon2 costs; the recovery key
# (one line) to OUTFILE.
new_store() {
	rm -rf "$1"
	"$VMSEAL" -d "$1" init --unseal-cost 1:8 --hash-cost 1:8 \
	    --passphrase-fd 3 3<<<"$PASS" >"$1.init" || return 1
	reckey_of "$1.init" >"$2"
	[ "$(tr -cd '-' <"$2" | wc -c)" -eq 13 ]
}

# reckey_of FILE: the recovery key init or rotate printed in FILE.
reckey_of() {
	sed -n 's/^    \([0-9A-Z]\{5\}-.*\)$/\1/p' "$1" | paste -sd-
}

# vo DIR ARGS...: offline vmseal on DIR with the passphrase on fd 3.
vo() {
	local d=$1; shift
	timeout 60 "$VMSEAL" --offline -d "$d" --passphrase-fd 3 "$@" \
	    3<<<"$PASS"
}

# vr DIR KEYFILE ARGS...: offline vmseal on DIR with a recovery key file.
vr() {
	local d=$1 k=$2; shift 2
	timeout 60 "$VMSEAL" --offline -d "$d" --recovery-key-fd 4 "$@" 4<"$k"
}

# vpass DIR PASSPHRASE ARGS...: offline vmseal with another passphrase.
vpass() {
	local d=$1 p=$2; shift 2
	timeout 60 "$VMSEAL" --offline -d "$d" --passphrase-fd 3 "$@" 3<<<"$p"
}

# The test helper that prints the root key and subkeys.
ROOTKEY=
if [ -x "$BUILD/tests/integration/rootkey" ]; then
	ROOTKEY=$BUILD/tests/integration/rootkey
elif [ -f "$BUILD/lib/.libs/libvmseal.a" ] && [ -f "$BUILD/config.h" ]; then
	libs=$(sed -n 's/^\(SODIUM_LIBS\|LMDB_LIBS\|CRYPT_LIBS\) = //p' \
	    "$BUILD/Makefile" 2>/dev/null | tr '\n' ' ')
	cflags=$(sed -n 's/^\(SODIUM_CFLAGS\|LMDB_CFLAGS\) = //p' \
	    "$BUILD/Makefile" 2>/dev/null | tr '\n' ' ')
	# shellcheck disable=SC2086
	if ${CC:-cc} -I"$BUILD" -I"$TOP_SRCDIR/lib" $cflags \
	    -o "$WORK/rootkey" "$TOP_SRCDIR/tests/integration/rootkey.c" \
	    "$BUILD/lib/.libs/libvmseal.a" ${libs:--lsodium -llmdb -lcrypt} \
	    >"$WORK/rootkey.cc" 2>&1; then
		ROOTKEY=$WORK/rootkey
	else
		echo "# cannot build rootkey:"; sed 's/^/#   /' "$WORK/rootkey.cc"
	fi
fi
# rootof DIR: the store's root key (hex), or nothing.
rootof() {
	[ -n "$ROOTKEY" ] && "$ROOTKEY" "$1" 3 3<<<"$PASS" 2>/dev/null |
	    sed -n 's/^root //p'
}

# --- 20,000 users: {SSHA} of "pw<i>", quick to make and to check ---
python3 - "$WORK" <<'PY'
import base64, hashlib, os, sys
w = sys.argv[1]
with open(os.path.join(w, "big.htpasswd"), "w") as h:
    for i in range(20000):
        salt = os.urandom(4)
        d = hashlib.sha1(("pw%d" % i).encode() + salt).digest()
        h.write("u%05d:{SSHA}%s\n" % (i, base64.b64encode(d + salt).decode()))
PY
# checkpw FILE: every u<i> line of an htpasswd export verifies with "pw<i>"
# and there are exactly 20,000 of them.
cat >"$WORK/checkpw.py" <<'PY'
import base64, hashlib, sys
ok = bad = 0
for line in open(sys.argv[1]):
    login, h = line.rstrip("\n").split(":", 1)
    if not login.startswith("u"):
        continue
    raw = base64.b64decode(h[len("{SSHA}"):])
    d, salt = raw[:20], raw[20:]
    if h.startswith("{SSHA}") and \
            hashlib.sha1(("pw%d" % int(login[1:])).encode() + salt).digest() == d:
        ok += 1
    else:
        bad += 1
print("%d verify, %d do not" % (ok, bad))
sys.exit(0 if ok == 20000 and bad == 0 else 1)
PY

# The kill driver: run a command, SIGKILL it DELAY seconds after it was
# started (it is exec'd when Popen returns), report "rc elapsed".  With
# DELAY "none": wait for it and report its time (the measurement).
cat >"$WORK/killer.py" <<'PY'
import fcntl, os, signal, subprocess, sys, time
delay, out = sys.argv[1], sys.argv[2]
cmd = sys.argv[3:]
if delay == "block":
    # stdout a pipe that is already full and never read: the command
    # blocks at its first write to stdout (the new recovery key, after
    # the commit); wait until it is in write(1, ...), then SIGKILL.
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
    try:
        while True:
            os.write(w, b"x" * 4096)
    except BlockingIOError:
        pass
    fcntl.fcntl(w, fcntl.F_SETFL, 0)
    with open(out, "wb") as e:
        p = subprocess.Popen(cmd, stdout=w, stderr=e, pass_fds=(3,))
    os.close(w)
    state, t0 = "exited", time.monotonic()
    while time.monotonic() - t0 < 20 and p.poll() is None:
        try:
            sc = open("/proc/%d/syscall" % p.pid).read().split()
        except OSError:
            sc = []
        if len(sc) > 1 and sc[0] == "1" and int(sc[1], 16) == 1:
            state = "blocked"
            break
        time.sleep(0.01)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    print(p.wait(), state)
    sys.exit(0)
with open(out, "wb") as o:
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=o, stderr=subprocess.STDOUT,
                         pass_fds=(3,))
    if delay != "none":
        end = t0 + float(delay)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, 0.002))
        try:
            p.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
    rc = p.wait()
    print(rc, "%.4f" % (time.monotonic() - t0))
PY

echo "# === 1. rotate: 20,000 users, SIGKILL at 20 moments ==="
BIG=$WORK/big
check "init the big store" new_store "$BIG" "$WORK/big.reckey0"
vo "$BIG" import htpasswd "$WORK/big.htpasswd" >"$WORK/out" 2>&1
expect_in "$WORK/out" "imported 20000 user(s)" "20,000 {SSHA} users imported"
check "seed: domain example.org" vo "$BIG" domain add example.org
check "seed: user postmaster with an Argon2id password" \
    timeout 60 "$VMSEAL" --offline -d "$BIG" --passphrase-fd 3 user add --no-policy \
    postmaster --address postmaster@example.org --password-fd 5 \
    3<<<"$PASS" 5<<<"postmaster password"
check "seed: address u00042@example.org" \
    vo "$BIG" address add u00042@example.org u00042
check "seed: alias info@example.org" \
    vo "$BIG" alias add info@example.org postmaster@example.org
NUSERS=20001
vo "$BIG" export --format htpasswd --force -o "$WORK/ref.raw" >/dev/null 2>&1
sort "$WORK/ref.raw" >"$WORK/ref"
check "reference export: 20,001 lines, 20,000 of them the imported ones" \
    test "$(wc -l <"$WORK/ref")" -eq "$NUSERS" -a \
    "$(grep -v '^postmaster:' "$WORK/ref" | cmp - <(sort "$WORK/big.htpasswd") && echo same)" = same
python3 "$WORK/checkpw.py" "$WORK/ref" >"$WORK/out" 2>&1
check "every one of the 20,000 exported hashes verifies with its password ($(cat "$WORK/out"))" \
    test $? -eq 0
OLDROOT=$(rootof "$BIG")
check "rootkey prints the root key" test ${#OLDROOT} -eq 64
vo "$BIG" passphrase list >"$WORK/slots0" 2>&1
cp -a "$BIG" "$WORK/pristine"
cp "$WORK/big.reckey0" "$WORK/old.reckey"

# Measure one whole rotate on a copy (median of 3).
times=
for i in 1 2 3; do
	rm -rf "$WORK/crash"; cp -a "$WORK/pristine" "$WORK/crash"
	set -- $(python3 "$WORK/killer.py" none "$WORK/rot.out" \
	    "$VMSEAL" --offline -d "$WORK/crash" --passphrase-fd 3 rotate \
	    3<<<"$PASS")
	[ "${1:-x}" = 0 ] || { echo "# measuring rotate failed: rc ${1:-?}";
	    sed 's/^/#   /' "$WORK/rot.out"; }
	times="$times ${2:-0.3}"
done
TROT=$(printf '%s\n' $times | sort -n | sed -n 2p)
echo "# one rotate of $NUSERS users takes ${TROT}s (runs:$times)"
check "a whole rotate was measured" python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$TROT"

# The 20 kill moments, as fractions of a run: at once (before it writes),
# early, every 10%, then densely near the end where the commit is (the
# write transaction is built in memory, written and synced at the end);
# jitter of +-2% (none on the first).
read -r -a FRACS <<<"$(python3 - <<'PY'
import random
fr = [0.0, 0.02] + [0.1 * i for i in range(1, 8)] + \
    [0.76, 0.80, 0.84, 0.87, 0.90, 0.92, 0.94, 0.96, 0.98, 1.0, 1.03]
print(" ".join("%.4f" % (f if f == 0 else max(0.0, f + random.uniform(-0.02, 0.02))) for f in fr))
PY
)"
N_OLD=0 N_NEW=0 N_NEW_LOST=0 N_DONE=0 N_NORTAUDIT=0
: >"$WORK/crash.log"
k=0
for f in "${FRACS[@]}"; do
	k=$((k + 1))
	D=$WORK/crash
	rm -rf "$D"; cp -a "$WORK/pristine" "$D"
	delay=$(python3 -c "print('%.4f' % (float('$f') * float('$TROT')))")
	set -- $(python3 "$WORK/killer.py" "$delay" "$WORK/rot.out" \
	    "$VMSEAL" --offline -d "$D" --passphrase-fd 3 rotate 3<<<"$PASS")
	rc=${1:-?}
	why=
	# Which key is in force: the old recovery key, and (independently)
	# the root key the passphrase opens.
	vr "$D" "$WORK/old.reckey" passphrase list >"$WORK/rk.out" 2>&1
	rkrc=$?
	root=$(rootof "$D")
	if [ $rkrc -eq 0 ]; then
		state=old
		[ -z "$ROOTKEY" ] || [ "$root" = "$OLDROOT" ] ||
		    why="$why old recovery key opens but the root key changed;"
		vo "$D" passphrase list >"$WORK/slots" 2>&1
		cmp -s "$WORK/slots" "$WORK/slots0" ||
		    why="$why slots differ from before;"
	elif [ $rkrc -eq 3 ] && grep -q "wrong recovery key" "$WORK/rk.out"
	then
		state=new
		[ -z "$ROOTKEY" ] || { [ ${#root} -eq 64 ] &&
		    [ "$root" != "$OLDROOT" ]; } ||
		    why="$why old recovery key refused but the root key is '$root';"
		vo "$D" passphrase list --json >"$WORK/slots" 2>&1
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if [(s["slot"], s["type"]) for s in d] == [(0, "passphrase"), (1, "recovery")] else 1)' \
		    "$WORK/slots" || why="$why new store's slots: $(tr '\n' ' ' <"$WORK/slots");"
		vo "$D" audit >"$WORK/audit" 2>&1
		grep -q "rotate" "$WORK/audit" || N_NORTAUDIT=$((N_NORTAUDIT + 1))
	else
		state="neither (old recovery key: exit $rkrc, $(head -c 200 "$WORK/rk.out"))"
		why="$why no key state;"
	fi
	if grep -q "NEW RECOVERY KEY" "$WORK/rot.out"; then
		reckey_of "$WORK/rot.out" >"$WORK/new.reckey"
		N_DONE=$((N_DONE + 1))
		[ "$state" = new ] || why="$why rotate printed a new key but the store is $state;"
		vr "$D" "$WORK/new.reckey" passphrase list >/dev/null 2>&1 ||
		    why="$why the printed new recovery key does not open it;"
	elif [ "$state" = new ]; then
		N_NEW_LOST=$((N_NEW_LOST + 1))
	fi
	[ "$rc" = 0 ] && [ "$state" != new ] && why="$why rotate exited 0 but the store is $state;"
	[ "$state" = old ] && N_OLD=$((N_OLD + 1))
	[ "$state" = new ] && N_NEW=$((N_NEW + 1))
	# Whole, either way.
	vo "$D" verify >"$WORK/v.out" 2>&1 ||
	    why="$why verify: $(head -c 300 "$WORK/v.out");"
	vo "$D" audit --verify >"$WORK/a.out" 2>&1 ||
	    why="$why audit --verify: $(head -c 300 "$WORK/a.out");"
	n=$(vo "$D" user list 2>/dev/null | wc -l)
	[ "$n" -eq "$NUSERS" ] || why="$why user list has $n users;"
	rm -f "$WORK/exp"
	vo "$D" export --format htpasswd --force -o "$WORK/exp" >/dev/null 2>&1
	sort "$WORK/exp" 2>/dev/null | cmp -s - "$WORK/ref" ||
	    why="$why export differs ($(sort "$WORK/exp" 2>/dev/null | diff - "$WORK/ref" | grep -c '^[<>]') lines);"
	vo "$D" user show u$(printf %05d $((k * 997))) >/dev/null 2>&1 ||
	    why="$why user show fails;"
	msg="kill $k at ${delay}s (${f} of a run; rotate exit $rc): $state store, whole"
	echo "kill $k frac $f delay $delay rc $rc state $state why:$why" \
	    >>"$WORK/crash.log"
	if [ -z "$why" ]; then t_ok "$msg"
	else t_fail "$msg:$why"; fi
done
echo "# crash outcomes: $N_OLD old store, $N_NEW new store ($N_DONE with the new recovery key printed, $N_NEW_LOST killed after the commit but before printing it; $N_NORTAUDIT new stores without the 'rotate' audit entry)"
check "20 kills, each left the old or the new store" \
    test $((N_OLD + N_NEW)) -eq 20

# Kills at exact syscalls of the commit (strace fault injection: the
# syscall is not run, the process is killed): LMDB writes the dirty pages
# (writev/pwrite64), fdatasync, then the meta page through its O_DSYNC
# descriptor - the commit point.  The store must be the new one exactly
# when that meta write completed in the killed run's own trace.
cat >"$WORK/straceplan.py" <<'PY'
import re, sys
def parse(path):
    """[(name, occurrence, fd, completed)] of the traced syscalls, and
    the O_DSYNC descriptor."""
    out, count, dsync = [], {}, None
    for line in open(path):
        m = re.match(r"(\w+)\((\d+|AT_FDCWD)?", line)
        if not m:
            continue
        name = m.group(1)
        if name == "openat":
            r = re.search(r"= (\d+)$", line.strip())
            if "O_DSYNC" in line and "data.mdb" in line and r:
                dsync = int(r.group(1))
            continue
        count[name] = count.get(name, 0) + 1
        done = "INJECTED" not in line and not line.rstrip().endswith("= ?")
        out.append((name, count[name], int(m.group(2)), done))
    return out, dsync
def plan(path):
    calls, dsync = parse(path)
    i_sync = next(i for i, c in enumerate(calls) if c[0] == "fdatasync")
    i_meta = next(i for i, c in enumerate(calls)
                  if i > i_sync and c[0] == "pwrite64" and c[2] == dsync)
    data = [i for i in range(i_sync) if calls[i][0] in ("writev", "pwrite64")]
    pts = [(data[0], "first page write"),
           (data[len(data) // 3], "a page write 1/3 in"),
           (data[2 * len(data) // 3], "a page write 2/3 in"),
           (data[-1], "last page write"),
           (i_sync, "the data fdatasync"),
           (i_meta, "the meta page write (commit point)"),
           (i_meta + 1, "the first write after the commit"),
           (next(i for i, c in enumerate(calls) if c[0] == "write" and c[2] == 1),
            "printing the new recovery key")]
    for i, label in pts:
        print("%s %d %s" % (calls[i][0], calls[i][1], label))
def committed(path):
    """'old'/'new' (did the commit's meta write complete?) and where the
    kill fell in this run."""
    calls, dsync = parse(path)
    seen_sync = meta = False
    phase = "?"
    for name, n, fd, done in calls:
        if not done:
            phase = ("after-the-commit" if meta else
                     "at-the-meta-write" if seen_sync and name == "pwrite64" and fd == dsync else
                     "at-the-data-sync" if name == "fdatasync" else
                     "between-sync-and-meta" if seen_sync else "page-writes")
            break
        if name == "fdatasync":
            seen_sync = True
        if seen_sync and name == "pwrite64" and fd == dsync:
            meta = True
    print("new" if meta else "old", phase)
{"plan": plan, "committed": committed}[sys.argv[1]](sys.argv[2])
PY
STRACE_SET=openat,writev,pwrite64,fdatasync,write
if command -v strace >/dev/null; then
	D=$WORK/crash
	rm -rf "$D"; cp -a "$WORK/pristine" "$D"
	strace -qq -o "$WORK/trace.ref" -e trace=$STRACE_SET \
	    "$VMSEAL" --offline -d "$D" --passphrase-fd 3 rotate 3<<<"$PASS" \
	    >/dev/null 2>&1
	python3 "$WORK/straceplan.py" plan "$WORK/trace.ref" >"$WORK/plan" \
	    2>"$WORK/plan.err"
	check "strace plan: 8 syscalls of the commit to kill at (the audit entry is in the rotation's own commit)" \
	    test "$(wc -l <"$WORK/plan")" -eq 8
	S_OLD=0 S_NEW=0
	while read -r sc when label; do
		rm -rf "$D"; cp -a "$WORK/pristine" "$D"
		( strace -qq -o "$WORK/trace.k" -e trace=$STRACE_SET \
		    -e inject="$sc:error=EIO:signal=KILL:when=$when" \
		    "$VMSEAL" --offline -d "$D" --passphrase-fd 3 rotate \
		    3<<<"$PASS" >"$WORK/rot.out" 2>&1; true ) 2>/dev/null
		read -r want phase \
		    <<<"$(python3 "$WORK/straceplan.py" committed "$WORK/trace.k")"
		why=
		# The number of page writes varies a little from run to run
		# (random indexes, different tree shapes): a page-write point
		# past this run's last write is simply not reached - the
		# rotation completes and must leave the new store, whole.
		if ! grep -q "killed by SIGKILL" "$WORK/trace.k"; then
			case $label in
			*"page write"*) phase="not reached (rotation completed)" ;;
			*) why="$why not killed;" ;;
			esac
		fi
		vr "$D" "$WORK/old.reckey" passphrase list >"$WORK/rk.out" 2>&1
		rkrc=$?
		if [ $rkrc -eq 0 ]; then got=old
		elif [ $rkrc -eq 3 ]; then got=new
		else got="neither (exit $rkrc)"; fi
		[ "$got" = "$want" ] || why="$why store is $got but the meta write says $want;"
		[ "$got" = old ] && S_OLD=$((S_OLD + 1))
		[ "$got" = new ] && S_NEW=$((S_NEW + 1))
		vo "$D" verify >"$WORK/v.out" 2>&1 ||
		    why="$why verify: $(head -c 300 "$WORK/v.out");"
		vo "$D" audit --verify >"$WORK/a.out" 2>&1 ||
		    why="$why audit --verify: $(head -c 300 "$WORK/a.out");"
		rm -f "$WORK/exp"
		vo "$D" export --format htpasswd --force -o "$WORK/exp" \
		    >/dev/null 2>&1
		sort "$WORK/exp" 2>/dev/null | cmp -s - "$WORK/ref" ||
		    why="$why export differs;"
		msg="killed at $sc #$when (planned: $label; in this run: $phase): $got store, whole"
		echo "strace $sc $when $label: got $got want $want why:$why" \
		    >>"$WORK/crash.log"
		if [ -z "$why" ]; then t_ok "$msg"
		else t_fail "$msg:$why"; fi
	done <"$WORK/plan"
	echo "# strace kills: $S_OLD old store, $S_NEW new store"
else
	t_skip "no strace: no kills at exact syscalls"
fi

# Deterministically after the commit: stdout is a full pipe, so rotate
# blocks writing the new recovery key; SIGKILL it there.
D=$WORK/crash
rm -rf "$D"; cp -a "$WORK/pristine" "$D"
set -- $(python3 "$WORK/killer.py" block "$WORK/rot.err" \
    "$VMSEAL" --offline -d "$D" --passphrase-fd 3 rotate 3<<<"$PASS")
check "rotate blocked writing its new recovery key, then killed (${1:-?} ${2:-?})" \
    test "${2:-}" = blocked
expect_exit 3 "killed after the commit: the old recovery key is refused" \
    vr "$D" "$WORK/old.reckey" user list
expect_in "$WORK/last.out" "wrong recovery key" "as a wrong recovery key (the new key is in force, never shown)"
check "and the new store is whole: verify" vo "$D" verify >/dev/null
check "and audit --verify" vo "$D" audit --verify >/dev/null
rm -f "$WORK/exp"
vo "$D" export --format htpasswd --force -o "$WORK/exp" >/dev/null 2>&1
check "and the same 20,001 users" cmp -s <(sort "$WORK/exp") "$WORK/ref"
vo "$D" rotate >"$WORK/out" 2>&1
reckey_of "$WORK/out" >"$WORK/again.reckey"
check "rotating again gives a recovery key that opens it" \
    vr "$D" "$WORK/again.reckey" user show u00001 >/dev/null
# stdout that cannot be written (a full disk): the store is rotated, the
# command must not claim success.
rm -rf "$D"; cp -a "$WORK/pristine" "$D"
vo "$D" rotate >/dev/full 2>"$WORK/out"
rc=$?
check "rotate with an unwritable stdout does not exit 0 (exit $rc: $(tr '\n' ' ' <"$WORK/out"))" \
    test $rc -ne 0
vr "$D" "$WORK/old.reckey" user list >/dev/null 2>&1
rc=$?
# 3: the store WAS rotated (the key is printed after the commit) and its
# new recovery key was never shown; 0: not rotated.  Anything else is a
# broken store.
check "after rotate >/dev/full the old recovery key gives exit 0 or 3 (exit $rc)" \
    test $rc -eq 3 -o $rc -eq 0
expect_exit 0 "and the passphrase still opens the store" vo "$D" user show u00001

# --- one whole rotate ---
vo "$BIG" rotate >"$WORK/rot.out" 2>&1
check "rotate completes (exit 0)" test $? -eq 0
expect_in "$WORK/rot.out" "NEW RECOVERY KEY" "rotate prints a new recovery key"
reckey_of "$WORK/rot.out" >"$WORK/big.reckey"
check "the new recovery key has 14 groups" \
    test "$(tr -cd '-' <"$WORK/big.reckey" | wc -c)" -eq 13
NEWROOT=$(rootof "$BIG")
if [ -n "$ROOTKEY" ]; then
	check "the root key changed" test ${#NEWROOT} -eq 64 -a "$NEWROOT" != "$OLDROOT"
fi
expect_exit 3 "the old recovery key no longer opens it" \
    vr "$BIG" "$WORK/old.reckey" user list
expect_in "$WORK/last.out" "wrong recovery key" "and says wrong recovery key"
expect_exit 0 "the new recovery key opens it" \
    vr "$BIG" "$WORK/big.reckey" user show u01234
expect_exit 0 "the kept passphrase opens it" vo "$BIG" user show u00042
expect_in "$WORK/last.out" "u00042@example.org" "user show finds u00042's address"
vo "$BIG" address show u00042@example.org >"$WORK/out" 2>&1
expect_in "$WORK/out" "u00042" "address lookup after rotate"
vo "$BIG" alias show info@example.org >"$WORK/out" 2>&1
expect_in "$WORK/out" "postmaster@example.org" "alias lookup after rotate"
vo "$BIG" audit --verify >"$WORK/out" 2>&1
check "audit --verify passes after rotate" test $? -eq 0
vo "$BIG" audit >"$WORK/out" 2>&1
expect_in "$WORK/out" "rotate" "the audit trail records the rotate"
vo "$BIG" verify >"$WORK/out" 2>&1
expect_in "$WORK/out" "records authenticate" "verify passes after rotate"
rm -f "$WORK/exp"
vo "$BIG" export --format htpasswd --force -o "$WORK/exp" >/dev/null 2>&1
check "export after rotate: the same 20,001 lines" \
    cmp -s <(sort "$WORK/exp") "$WORK/ref"
python3 "$WORK/checkpw.py" "$WORK/exp" >"$WORK/out" 2>&1
check "every password still verifies ($(cat "$WORK/out"))" test $? -eq 0
vo "$BIG" passphrase list >"$WORK/out" 2>&1
check "after rotate: slot 0 the passphrase, slot 1 the recovery key" \
    test "$(cut -f1,2 "$WORK/out" | tr '\n' ' ')" = \
    "$(printf 'slot 0\tpassphrase slot 1\trecovery key ')"
expect_exit 2 "rotate with the recovery key is refused" \
    vr "$BIG" "$WORK/big.reckey" rotate
expect_in "$WORK/last.out" "needs the passphrase" "and says it needs the passphrase"
check "the old store still opens with the old recovery key (old backups)" \
    vr "$WORK/pristine" "$WORK/old.reckey" user show u00001 >/dev/null

echo "# === 2. passphrase slots, recover, typos ==="
S=$WORK/small
check "init a small store" new_store "$S" "$WORK/small.reckey"
check "small: a user" vo "$S" user add carol --no-password
P2='second passphrase'
P3='third passphrase'
P4='recovered passphrase'
expect_exit 0 "passphrase add" timeout 60 "$VMSEAL" --offline -d "$S" \
    --passphrase-fd 3 passphrase add --new-passphrase-fd 5 \
    3<<<"$PASS" 5<<<"$P2"
expect_in "$WORK/last.out" "done" "add says done"
vpass "$S" "$P2" passphrase list --json >"$WORK/out" 2>&1
check "list --json: slots 0 and 2 passphrases, 1 the recovery key" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if sorted((s["slot"], s["type"]) for s in d) == [(0, "passphrase"), (1, "recovery"), (2, "passphrase")] else 1)' \
    "$WORK/out"
vpass "$S" "$P2" passphrase list >"$WORK/out" 2>&1
expect_in "$WORK/out" "recovery key" "list shows the recovery slot"
expect_in "$WORK/out" "Argon2id ops 1, 8 KiB" "the added slot keeps the cheap cost"
expect_exit 2 "add a too short passphrase: refused" timeout 60 "$VMSEAL" \
    --offline -d "$S" --passphrase-fd 3 passphrase add --new-passphrase-fd 5 \
    3<<<"$PASS" 5<<<"short"
expect_in "$WORK/last.out" "at least 8" "and says why"
expect_exit 0 "passphrase change (opened with the second)" \
    timeout 60 "$VMSEAL" --offline -d "$S" --passphrase-fd 3 passphrase \
    change --new-passphrase-fd 5 3<<<"$P2" 5<<<"$P3"
expect_exit 3 "the changed passphrase no longer opens it" \
    vpass "$S" "$P2" user list
expect_in "$WORK/last.out" "wrong passphrase" "and says wrong passphrase"
expect_exit 0 "the new one does" vpass "$S" "$P3" user list
expect_exit 0 "the first one still does" vpass "$S" "$PASS" user list
expect_exit 0 "passphrase remove 0 (the first)" \
    vpass "$S" "$P3" passphrase remove 0
expect_exit 3 "the removed passphrase no longer opens it" \
    vpass "$S" "$PASS" user list
expect_exit 1 "remove a slot that does not exist: not found" \
    vpass "$S" "$P3" passphrase remove 5
expect_exit 2 "remove slot 9: usage" vpass "$S" "$P3" passphrase remove 9

# The last way in: on a copy, drop the recovery slot, then the last
# passphrase slot is refused.
rm -rf "$WORK/last"; cp -a "$S" "$WORK/last"
lastslot=$(vpass "$S" "$P3" passphrase list 2>/dev/null |
    awk -F'\t' '$2 == "passphrase" {sub("slot ", "", $1); print $1}')
expect_exit 0 "remove the recovery slot (a passphrase remains)" \
    vpass "$WORK/last" "$P3" passphrase remove 1
expect_exit 2 "remove the last slot: refused" \
    vpass "$WORK/last" "$P3" passphrase remove "$lastslot"
expect_in "$WORK/last.out" "last way in" "and says it is the last way in"
expect_exit 0 "the store still opens with that passphrase" \
    vpass "$WORK/last" "$P3" user show carol
# The other order: only the recovery slot left.
rm -rf "$WORK/last"; cp -a "$S" "$WORK/last"
expect_exit 0 "remove the only passphrase slot (the recovery slot is left)" \
    vpass "$WORK/last" "$P3" passphrase remove "$lastslot"
expect_exit 2 "then removing the recovery slot, the last: refused" \
    vr "$WORK/last" "$WORK/small.reckey" passphrase remove 1
expect_in "$WORK/last.out" "last way in" "and says it is the last way in"

# Recovery-key typos: one character of group G changed, for every group.
for g in 1 2 7 13 14; do
	python3 - "$WORK/small.reckey" "$g" >"$WORK/typo.key" <<'PY'
import random, sys
key = open(sys.argv[1]).read().strip().split("-")
g = int(sys.argv[2]) - 1
alpha = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
pos = random.randrange(5)
c = key[g][pos]
key[g] = key[g][:pos] + random.choice([a for a in alpha if a != c]) + key[g][pos + 1:]
print("-".join(key))
PY
	timeout 60 "$VMSEAL" --offline -d "$S" recover --recovery-key-fd 4 \
	    --new-passphrase-fd 5 4<"$WORK/typo.key" 5<<<"$P4" \
	    >"$WORK/out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q "group $g " "$WORK/out"; then
		t_ok "recovery key with a typo in group $g: exit 2, names group $g"
	else
		t_fail "recovery key with a typo in group $g: exit $rc: $(head -c 200 "$WORK/out")"
	fi
done
expect_exit 3 "recover with another store's recovery key: wrong key" \
    timeout 60 "$VMSEAL" --offline -d "$S" recover --recovery-key-fd 4 \
    --new-passphrase-fd 5 4<"$WORK/old.reckey" 5<<<"$P4"
expect_in "$WORK/last.out" "wrong recovery key" "and says wrong recovery key"
expect_exit 2 "recover without --recovery-key-fd: usage" \
    timeout 60 "$VMSEAL" --offline -d "$S" recover --new-passphrase-fd 5 \
    5<<<"$P4"
expect_exit 3 "the typos changed nothing: P4 does not open it" \
    vpass "$S" "$P4" user list

# Lost passphrase: recover.
expect_exit 0 "recover with the recovery key and a new passphrase" \
    timeout 60 "$VMSEAL" --offline -d "$S" recover --recovery-key-fd 4 \
    --new-passphrase-fd 5 4<"$WORK/small.reckey" 5<<<"$P4"
expect_in "$WORK/last.out" "recovered" "recover says recovered"
expect_exit 0 "the new passphrase opens it" vpass "$S" "$P4" user show carol
expect_exit 3 "the lost one no longer does" vpass "$S" "$P3" user list
vpass "$S" "$P4" passphrase list >"$WORK/out" 2>&1
check "after recover: one passphrase slot and the recovery slot" \
    test "$(grep -c passphrase "$WORK/out")" -eq 1 -a \
    "$(grep -c 'recovery key' "$WORK/out")" -eq 1
expect_exit 0 "the recovery key still opens it" \
    vr "$S" "$WORK/small.reckey" user show carol
vpass "$S" "$P4" audit >"$WORK/out" 2>&1
expect_in "$WORK/out" "recover" "the audit trail records the recovery"
expect_in "$WORK/out" "passphrase-change" "and the passphrase change"
expect_exit 0 "audit --verify passes" vpass "$S" "$P4" audit --verify
expect_exit 0 "verify passes" vpass "$S" "$P4" verify

# --- parts 3 and 4 need root: a vmsealed of our own ---
if [ "$(id -u)" -ne 0 ] || ! getent passwd nobody >/dev/null ||
    ! getent group nogroup >/dev/null; then
	t_skip "seal/core and backup parts need root, user nobody, group nogroup"
	t_done; exit $?
fi
if [ -z "$ROOTKEY" ]; then
	t_fail "no rootkey helper: parts 3 and 4 not run"
	t_done; exit $?
fi

echo "# === 3. seal: no key in the service's memory or core ==="
SOCK=$WORK/sock
CONF=$WORK/vmseal.conf
cat >"$CONF" <<EOF
socket_dir = $SOCK
store_dir = $BIG
user = nobody
group = nogroup
admin_socket_mode = 0666
socketmap_socket_mode = 0666
policy_socket_mode = 0666
auth_socket_mode = 0666
EOF
chmod 0644 "$CONF"
vsc() {
	timeout 30 "$VMSEAL" -c "$CONF" "$@"
}
start_service() {
	rm -rf "$SOCK"
	"$VMSEALED" -c "$CONF" -f </dev/null >"$WORK/vmsealed.log" 2>&1 &
	DPID=$!
	local i
	for i in $(seq 50); do
		vsc status >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
check "vmsealed starts" start_service
expect_exit 0 "unseal with the passphrase" vsc unseal --passphrase-fd 3 \
    3<<<"$PASS"
expect_exit 2 "rotate through the service: refused" vsc rotate
expect_in "$WORK/last.out" "offline" "and says it runs offline"
expect_exit 2 "recover through the service: refused" vsc recover \
    --recovery-key-fd 4 --new-passphrase-fd 5 4<"$WORK/big.reckey" \
    5<<<"$P4"
expect_exit 4 "offline rotate while vmsealed holds the store: busy" \
    vo "$BIG" rotate

# memscan PID KEYFILE [CORE]: hits of each key in /proc/PID/mem and CORE.
cat >"$WORK/memscan.py" <<'PY'
import mmap, sys
pid, keyfile = sys.argv[1], sys.argv[2]
core = sys.argv[3] if len(sys.argv) > 3 else None
keys = [(l.split()[0], bytes.fromhex(l.split()[1])) for l in open(keyfile)]
def count(data, k):
    n, i = 0, data.find(k)
    while i >= 0:
        n += 1
        i = data.find(k, i + 1)
    return n
mem = dict((l, 0) for l, _ in keys)
whole = pages = 0
with open("/proc/%s/maps" % pid) as m, open("/proc/%s/mem" % pid, "rb", 0) as f:
    for line in m:
        fl = line.split()
        if len(fl) > 5 and fl[5] == "[vsyscall]":
            continue
        lo, hi = (int(x, 16) for x in fl[0].split("-"))
        # Unreadable mappings hold nothing, and a sanitizer build maps
        # terabytes of shadow memory (---p or huge): skip those.
        if fl[1][0] != "r" or hi - lo > (1 << 31):
            continue
        try:
            f.seek(lo)
            data = f.read(hi - lo)
            whole += 1
        except OSError:
            parts = []
            for a in range(lo, hi, 4096):
                try:
                    f.seek(a)
                    parts.append(f.read(4096))
                except OSError:
                    pages += 1
                    parts.append(b"\0" * 4096)
            data = b"".join(parts)
        for l, k in keys:
            mem[l] += count(data, k)
cor = {}
if core:
    with open(core, "rb") as c:
        mm = mmap.mmap(c.fileno(), 0, access=mmap.ACCESS_READ)
        for l, k in keys:
            cor[l] = count(mm, k)
for l, _ in keys:
    print("%s mem %d core %s" % (l, mem[l], cor.get(l, "-")))
print("# %d mappings read whole, %d unreadable pages" % (whole, pages))
PY
"$ROOTKEY" "$BIG" 3 3<<<"$PASS" >"$WORK/keys" 2>"$WORK/out"
check "rootkey reads the key of the store vmsealed holds" \
    test "$(grep -c '^[a-z]* [0-9a-f]\{64\}$' "$WORK/keys")" -eq 4
check "it is the rotated key" test "$(sed -n 's/^root //p' "$WORK/keys")" = "$NEWROOT"
# scan WHAT [CORE-MODE]: scan the service; CORE-MODE "default" (a plain
# gcore) or "all" (gcore with dump-excluded-mappings on); result lines
# "label mem N core M" in $WORK/scan.
HAVE_GDB=
NO_GDB_WHY="no gdb: no core checks"
command -v gdb >/dev/null && HAVE_GDB=1
# A sanitizer build maps terabytes of shadow memory: its core would be tens
# of gigabytes (and minutes to write).  /proc/PID/mem is still searched.
if [ -n "$HAVE_GDB" ] && ldd "$VMSEALED" 2>/dev/null | grep -q libasan; then
	HAVE_GDB=
	NO_GDB_WHY="sanitizer build: no gcore (its core would be tens of GB; the memory scan still runs)"
fi
scan() {
	local core= mode=${1:-}
	rm -f "$WORK"/core*
	if [ -n "$mode" ] && [ -n "$HAVE_GDB" ]; then
		local set=
		[ "$mode" = all ] && set='set dump-excluded-mappings on'
		timeout 60 gdb -nx -batch -p "$DPID" ${set:+-ex "$set"} \
		    -ex "gcore $WORK/core" >"$WORK/gdb.log" 2>&1
		[ -s "$WORK/core" ] && core=$WORK/core
	fi
	python3 "$WORK/memscan.py" "$DPID" "$WORK/keys" $core \
	    >"$WORK/scan" 2>&1
	local rc=$?
	rm -f "$WORK"/core*
	return $rc
}
# hits WHERE: total hits of the 4 keys in mem or core ("-" if none made).
hits() {
	awk -v w="$1" '$2 == "mem" { v = (w == "mem") ? $3 : $5;
	    if (v == "-") d = 1; else s += v } END { print d ? "-" : s + 0 }' \
	    "$WORK/scan"
}
each_once() {
	awk -v w="$1" '$2 == "mem" { v = (w == "mem") ? $3 : $5;
	    if (v < 1) bad = 1 } END { exit bad }' "$WORK/scan"
}
if ! scan; then
	t_fail "/proc/PID/mem of the non-dumpable vmsealed cannot be read as root: $(head -c 300 "$WORK/scan")"
else
	check "unsealed: each of root, record, index, log key is in /proc/PID/mem (the search works)" \
	    each_once mem
	sed 's/^/#   /' "$WORK/scan"
	if [ -n "$HAVE_GDB" ]; then
		scan default
		if [ "$(hits core)" = - ]; then
			t_fail "gcore of the non-dumpable vmsealed failed: $(tail -n 3 "$WORK/gdb.log" | tr '\n' ' ')"
		else
			expect_eq "unsealed: a plain gcore holds no key (its memory is MADV_DONTDUMP)" \
			    "$(hits core)" 0
		fi
		if ldd "$VMSEALED" 2>/dev/null | grep -q libasan; then
			# gdb does not write a sanitizer build's excluded
			# mappings into the core: no positive control there.
			t_skip "positive control of the core search (sanitizer build)"
		else
			scan all
			check "unsealed: a gcore with dump-excluded-mappings holds each key (the core search works)" \
			    each_once core
		fi
	else
		t_skip "$NO_GDB_WHY"
	fi
	expect_exit 0 "seal" vsc seal
	scan all
	expect_eq "sealed: no root key or subkey in /proc/PID/mem" "$(hits mem)" 0
	[ -n "$HAVE_GDB" ] && expect_eq "sealed: none in a gcore with dump-excluded-mappings" \
	    "$(hits core)" 0
	scan default
	[ -n "$HAVE_GDB" ] && expect_eq "sealed: none in a plain gcore" "$(hits core)" 0
	sed 's/^/#   /' "$WORK/scan"
	# Again through the recovery key.
	expect_exit 0 "unseal with the recovery key" vsc unseal \
	    --recovery-key-fd 4 4<"$WORK/big.reckey"
	scan
	check "unsealed by the recovery key: the keys are in memory" each_once mem
	expect_exit 0 "seal again" vsc seal
	scan all
	expect_eq "sealed again: no key in /proc/PID/mem" "$(hits mem)" 0
	[ -n "$HAVE_GDB" ] && expect_eq "sealed again: none in the core" \
	    "$(hits core)" 0
	# The passphrase itself: it reached vmsealed with "unseal
	# --passphrase-fd" (in the request's frame, then sodium memory);
	# both are wiped, so after the seal no copy is left.
	printf 'pass %s\n' "$(printf %s "$PASS" | od -An -tx1 | tr -d ' \n')" \
	    >"$WORK/keys"
	scan
	expect_eq "sealed: the passphrase is absent from vmsealed's memory" \
	    "$(hits mem)" 0
	# Positive control: the same search finds it in a process that
	# holds it (a python3 with the passphrase in its argv and a bytes).
	PY=python3
	[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	"$PY" -c 'import sys, time; s = sys.argv[1].encode() * 2; time.sleep(60)' \
	    "$PASS" &
	HOLDER=$!
	WPIDS="$WPIDS $HOLDER"
	sleep 0.5
	n=$(python3 "$WORK/memscan.py" "$HOLDER" "$WORK/keys" 2>&1 |
	    awk '$1 == "pass" && $2 == "mem" { print $3 }')
	kill "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
	WPIDS=
	check "the passphrase search works: it finds the passphrase in a process holding it (${n:-no} hits)" \
	    test "${n:-0}" -ge 1
fi

echo "# === 4. backup while 4 writers change users ==="
expect_exit 0 "unseal for the writers" vsc unseal --passphrase-fd 3 \
    3<<<"$PASS"
before=$(vsc user list 2>/dev/null | wc -l)
# writer J: until the deadline, add a user wJ-N and set a u-user's home.
writer() {
	local j=$1 end=$2 n=0 ok=0 bad=0 adds=0
	while [ "$(date +%s%N)" -lt "$end" ]; do
		if vsc user add "w$j-$n" --no-password >/dev/null \
		    2>>"$WORK/writer.$j.err"; then
			ok=$((ok + 1)); adds=$((adds + 1))
		else bad=$((bad + 1)); fi
		if vsc user set "u$(printf %05d $((j * 1000 + n % 1000)))" \
		    --home "/w/$j/$n" >/dev/null 2>>"$WORK/writer.$j.err"
		then ok=$((ok + 1)); else bad=$((bad + 1)); fi
		n=$((n + 1))
	done
	echo "$ok $bad $n $adds" >"$WORK/writer.$j.res"
}
END=$(( $(date +%s%N) + 4000000000 ))
WPIDS=
for j in 1 2 3 4; do
	writer "$j" "$END" &
	WPIDS="$WPIDS $!"
done
sleep 0.7
nb=0
for b in 1 2 3; do
	vsc backup "$WORK/backup$b" >"$WORK/backup$b.out" 2>&1
	brc=$?
	cnt=$(vsc user list 2>/dev/null | wc -l)
	echo "# backup $b taken (exit $brc) with $cnt users in the live store"
	[ $brc -eq 0 ] && nb=$((nb + 1))
	expect_in "$WORK/backup$b.out" "backup written" "backup $b during the writes: done"
	sleep 0.8
done
for p in $WPIDS; do wait "$p"; done
WPIDS=
after=$(vsc user list 2>/dev/null | wc -l)
ok=0 bad=0 loops=0 adds=0
for j in 1 2 3 4; do
	read -r o b n a <"$WORK/writer.$j.res" || { o=0; b=1; n=0; a=0; }
	ok=$((ok + o)); bad=$((bad + b)); loops=$((loops + n))
	adds=$((adds + a))
done
echo "# writers: $ok writes ok, $bad failed ($loops loops); users $before -> $after"
check "the writers wrote (and none failed)" test "$ok" -gt 20 -a "$bad" -eq 0
check "the writers' $adds new users are all there" \
    test $((after - before)) -eq "$adds"
for b in 1 2 3; do
	B=$WORK/backup$b
	[ -d "$B" ] || { t_fail "backup $b: no folder"; continue; }
	check "backup $b: folder mode 0700" test "$(stat -c %a "$B")" = 700
	expect_exit 0 "backup $b: vmseal verify DEST --passphrase-fd passes" \
	    vsc verify "$B" --passphrase-fd 3 3<<<"$PASS"
	expect_in "$WORK/last.out" "records authenticate" "backup $b: every record authenticates"
	vo "$B" user list >"$WORK/blist" 2>&1
	check "backup $b opens offline: user list" test $? -eq 0
	n=$(wc -l <"$WORK/blist")
	check "backup $b: $n users, between the $before before and the $after after" \
	    test "$n" -ge "$before" -a "$n" -le "$after"
	# Index and records agree in the copy: a few of the writers' users
	# found by name, and the export complete.
	miss=0
	for u in $(grep '^w' "$WORK/blist" | cut -f1 | shuf -n 20 --random-source=<(yes)); do
		vo "$B" user show "$u" >/dev/null 2>&1 || miss=$((miss + 1))
	done
	check "backup $b: users found by name ($miss missing)" test "$miss" -eq 0
	rm -f "$WORK/bexp"
	vo "$B" export --format htpasswd --force -o "$WORK/bexp" >/dev/null 2>&1
	check "backup $b: its 20,000 passwords verify" \
	    python3 "$WORK/checkpw.py" "$WORK/bexp" >/dev/null
	vo "$B" audit --verify >"$WORK/out" 2>&1
	check "backup $b: audit --verify passes" test $? -eq 0
	m=$(stat -c %a "$B/data.mdb" 2>/dev/null)
	[ "$m" = 600 ] || echo "# note: backup $b: data.mdb mode $m (the store's is $(stat -c %a "$BIG/data.mdb"))"
done
expect_exit 5 "backup into a folder that holds a store: refused" \
    vsc backup "$WORK/backup1"
check "the live store still verifies" vsc verify --passphrase-fd 3 \
    3<<<"$PASS" >/dev/null
t_done
