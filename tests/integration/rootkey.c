/*
 * rootkey.c - test helper for tests/integration/keys.sh: print a store's
 * root key and its three subkeys in hex, one per line:
 *
 *   root <64 hex>
 *   record <64 hex>
 *   index <64 hex>
 *   log <64 hex>
 *
 * usage: rootkey STOREDIR [PASSFD]
 *
 * The passphrase is read from descriptor PASSFD (default 0), one line.
 * The store is opened read-only (no lock: it works while vmsealed holds
 * the store).  The subkeys are derived here with crypto_kdf (context
 * "vmsealv1", ids 1 record, 2 index, 3 log - seal.h), independently of
 * lib/seal.c, so a change there that the test should know about shows.
 *
 * For tests only: it prints the key in the clear.  Exit 0 ok, 3 wrong
 * passphrase, 4 any other failure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "seal.h"
#include "store.h"
#include "vs_err.h"

static void
put_hex(const char *label, const uint8_t *k)
{
	char hex[SEAL_KEY_BYTES * 2 + 1];

	sodium_bin2hex(hex, sizeof(hex), k, SEAL_KEY_BYTES);
	printf("%s %s\n", label, hex);
	sodium_memzero(hex, sizeof(hex));
}

int
main(int argc, char **argv)
{
	static const char *const labels[] = { "record", "index", "log" };
	struct store *st = NULL;
	struct vs_err err;
	uint8_t root[SEAL_KEY_BYTES], sub[SEAL_KEY_BYTES];
	char pass[1024];
	size_t len = 0;
	ssize_t n;
	int fd = 0, r, i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: rootkey STOREDIR [PASSFD]\n");
		return 2;
	}
	if (argc == 3)
		fd = atoi(argv[2]);
	if (sodium_init() < 0)
		return 4;
	/* One line from fd, byte by byte (no stdio buffering of a secret). */
	while (len < sizeof(pass) - 1 && (n = read(fd, pass + len, 1)) == 1 &&
	    pass[len] != '\n')
		len++;
	pass[len] = '\0';
	vs_err_clear(&err);
	if ((r = store_open(argv[1], 0, &st, &err)) != VS_OK) {
		fprintf(stderr, "rootkey: open %s: %s\n", argv[1], err.msg);
		return 4;
	}
	r = store_unseal_passphrase(st, pass, len, &err);
	sodium_memzero(pass, sizeof(pass));
	if (r != VS_OK) {
		fprintf(stderr, "rootkey: unseal: %s\n", err.msg);
		store_close(&st);
		return r == VS_EBADKEY ? 3 : 4;
	}
	if (!seal_keys_export_root(store_keys(st), root)) {
		fprintf(stderr, "rootkey: no key\n");
		store_close(&st);
		return 4;
	}
	store_close(&st);
	put_hex("root", root);
	for (i = 0; i < 3; i++) {
		crypto_kdf_derive_from_key(sub, sizeof(sub), (uint64_t)i + 1,
		    "vmsealv1", root);
		put_hex(labels[i], sub);
	}
	sodium_memzero(root, sizeof(root));
	sodium_memzero(sub, sizeof(sub));
	return 0;
}
