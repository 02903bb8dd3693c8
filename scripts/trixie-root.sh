# scripts/trixie-root.sh - a Debian 13 ("trixie") root for vmseal's tests,
# made with mmdebstrap from the Debian archive this machine's apt already
# uses, and entered with chroot (sourced by scripts/test-debian13).
#
# The root is built once into a tarball (about 60 s and 180 MB) kept in
# $TRIXIE_CACHE (default /var/cache/vmseal); its name carries a hash of the
# package list, so a changed list makes a new one.  Each run unpacks a fresh
# copy (about 4 s), so nothing one run leaves behind reaches the next.
#
# Needs root (mmdebstrap, chroot, mount).

TRIXIE_PACKAGES="dovecot-core dovecot-imapd dovecot-lmtpd dovecot-dev
  dovecot-auth-lua lua-socket postfix build-essential autoconf automake
  libtool pkg-config libsodium-dev liblmdb-dev libcrypt-dev libcmocka-dev
  python3 lmdb-utils binutils whois apache2-utils openssl procps gdb
  strace fail2ban groff-base man-db iproute2 libsasl2-modules libpq-dev libssl-dev
  postgresql"
# tests/integration/apache.sh (as in scripts/deps.sh's VMSEAL_TEST_DEPS)
TRIXIE_PACKAGES="$TRIXIE_PACKAGES apache2 libapache2-mod-authnz-external curl"
# Self-service (as in scripts/deps.sh): the libraries, cracklib's
# dictionary, Roundcube's password drivers under php-cli (its database
# question preseeded to "no" by the essential hook below).
TRIXIE_PACKAGES="$TRIXIE_PACKAGES libmicrohttpd-dev libpwquality-dev
  cracklib-runtime php-cli roundcube-plugins roundcube-sqlite3"

# trixie_mirror: the Debian archive apt uses here (deb822 or one-line form).
trixie_mirror() {
	local m
	m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' \
	    /etc/apt/sources.list.d/debian.sources 2>/dev/null |
	    grep -v -- '-security' | head -1)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
	    /etc/apt/sources.list 2>/dev/null)
	[ -n "$m" ] || return 1
	echo "$m"
}

# trixie_tarball: print the cached tarball's path, making it if needed.
trixie_tarball() {
	local cache=${TRIXIE_CACHE:-/var/cache/vmseal} sum tar mirror inc
	sum=$(echo $TRIXIE_PACKAGES | sha256sum | cut -c1-12)
	tar="$cache/trixie-$sum.tar.zst"
	if [ -s "$tar" ]; then echo "$tar"; return 0; fi
	command -v mmdebstrap >/dev/null ||
	    { echo "trixie-root: mmdebstrap not installed" >&2; return 1; }
	mirror=$(trixie_mirror) ||
	    { echo "trixie-root: no Debian mirror in apt's sources" >&2; return 1; }
	mkdir -p "$cache" || return 1
	inc=$(echo $TRIXIE_PACKAGES | tr ' ' ,)
	echo "trixie-root: making $tar from $mirror (about a minute)" >&2
	# Postfix unconfigured, as a fresh machine's; no docs or man pages.
	if ! mmdebstrap --variant=minbase --include="$inc" \
	    --essential-hook='echo "postfix postfix/main_mailer_type select No configuration" | chroot "$1" debconf-set-selections' \
	    --essential-hook='echo "roundcube-core roundcube/dbconfig-install boolean false" | chroot "$1" debconf-set-selections' \
	    --dpkgopt='path-exclude=/usr/share/doc/*' \
	    --dpkgopt='path-exclude=/usr/share/man/*' \
	    --dpkgopt='path-exclude=/usr/share/locale/*' \
	    trixie "$tar.tmp.tar.zst" "$mirror" >"$cache/mmdebstrap.log" 2>&1
	then
		tail -30 "$cache/mmdebstrap.log" >&2
		rm -f "$tar.tmp.tar.zst"
		return 1
	fi
	mv "$tar.tmp.tar.zst" "$tar" && echo "$tar"
}

# trixie_unpack DIR: a fresh root in DIR (bind-mounted on itself), with
# /proc, /dev and a /run tmpfs mounted.
trixie_unpack() {
	local root=$1 tar
	tar=$(trixie_tarball) || return 1
	mkdir -p "$root" || return 1
	tar --zstd -xpf "$tar" -C "$root" || return 1
	# The root a mount point of its own, so that inside it "/" can be
	# made private (unshare -m --propagation private: the auth benchmark).
	mount --bind "$root" "$root" || return 1
	mount -t proc proc "$root/proc" || return 1
	mount --bind /dev "$root/dev" || return 1
	mount -t tmpfs tmpfs "$root/run" || return 1
	# a hostname Postfix can use
	echo localhost >"$root/etc/mailname"
}

# trixie_cleanup DIR: stop what runs inside, unmount, remove.
trixie_cleanup() {
	local root=$1 pid m
	[ -n "$root" ] && [ -d "$root" ] || return 0
	# every process whose root is this tree
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do
		[ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] &&
		    kill -9 "$pid" 2>/dev/null
	done
	sleep 0.2
	for m in run dev proc; do
		mountpoint -q "$root/$m" && umount -l "$root/$m"
	done
	mountpoint -q "$root" && umount -l "$root"
	# refuse to remove anything still mounted below
	if grep -q " $root/" /proc/mounts; then
		echo "trixie-root: $root still has mounts; left in place" >&2
		return 1
	fi
	rm -rf --one-file-system "$root"
}
