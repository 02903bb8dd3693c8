# scripts/deps.sh - the Debian 12 packages vmseal builds, runs and tests
# with (sourced by scripts/demo and scripts/test).
VMSEAL_BUILD_DEPS="build-essential autoconf automake libtool pkg-config
  libsodium-dev liblmdb-dev libcrypt-dev libcmocka-dev"
# Tests: lmdb-utils (mdb_dump/mdb_load for tamper tests), binutils
# (strings), whois (mkpasswd), apache2-utils (htpasswd), openssl, python3,
# dovecot-core (doveadm pw), clang + libclang-rt-14-dev (libFuzzer,
# sanitizers), groff-base and man-db (man page checks).
VMSEAL_TEST_DEPS="lmdb-utils binutils whois apache2-utils openssl python3
  dovecot-core clang libclang-rt-14-dev groff-base man-db"

install_deps() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "scripts: run as root (it installs Debian packages)" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	echo "== installing packages"
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $VMSEAL_BUILD_DEPS "$@" \
	    >/tmp/vmseal-apt.log 2>&1 || {
		tail -20 /tmp/vmseal-apt.log >&2
		return 1
	}
}
