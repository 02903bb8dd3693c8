/*
 * planthash.c - test helper for tests/integration/hold.sh: store a
 * password hash for a user as it is, with no check of its cost, the way a
 * store written before the cost caps (lib/pwhash.h) may hold one.
 * Nothing in vmseal itself stores a hash over the caps any more; this is
 * how the test gets one, to show the service never computes it.
 *
 * usage: planthash STOREDIR LOGIN PASSFD < HASH
 *
 * The passphrase is read from descriptor PASSFD, one line; the hash from
 * standard input, one line.  The store is opened for writing (vmsealed must
 * not run on it).  For tests only.  Exit 0 ok, 4 any failure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "record.h"
#include "store.h"
#include "vs_err.h"

/* One line from fd, byte by byte (no stdio buffering of a secret). */
static size_t
read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size - 1 && read(fd, buf + len, 1) == 1 &&
	    buf[len] != '\n')
		len++;
	buf[len] = '\0';
	return len;
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_user u;
	struct vs_err err;
	char pass[1024], hash[1024], *old;
	size_t plen;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: planthash STOREDIR LOGIN PASSFD < HASH\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 4;
	plen = read_line(atoi(argv[3]), pass, sizeof(pass));
	read_line(0, hash, sizeof(hash));
	vs_err_clear(&err);
	r = store_open(argv[1], STORE_OPEN_WRITE, &st, &err);
	if (r == VS_OK)
		r = store_unseal_passphrase(st, pass, plen, &err);
	sodium_memzero(pass, sizeof(pass));
	if (r == VS_OK)
		r = store_txn_begin(st, true, &txn, &err);
	if (r == VS_OK && (r = store_user_get(txn, argv[2], &u, &err)) ==
	    VS_OK) {
		old = u.pwhash;
		u.pwhash = hash;
		r = store_user_update(txn, &u, &err);
		u.pwhash = old;
		vs_user_clear(&u);
	}
	if (r == VS_OK)
		r = store_txn_commit(&txn, &err);
	store_txn_abort(&txn);
	store_close(&st);
	if (r != VS_OK) {
		fprintf(stderr, "planthash: %s\n", err.msg);
		return 4;
	}
	return 0;
}
