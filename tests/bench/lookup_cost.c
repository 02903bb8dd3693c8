/*
 * lookup_cost.c - what one socketmap lookup costs inside vmsealed, with no
 * socket around it: the part of tests/bench/socketmap.sh's per-request
 * time that the do-nothing server does not have, split into its steps.
 *
 *   lookup_cost -d STOREDIR -P PASSFILE -f HITS -F MISSES [-p HIT_PCT]
 *               [-n LOOKUPS] [-r REPEATS] [-b BATCH]
 *
 * It opens the store read-only (vmsealed may be running on it: LMDB has
 * any number of readers), unseals it with the passphrase in PASSFILE (a
 * benchmark store's throw-away passphrase), and draws LOOKUPS keys (default
 * 200000) as sockmap_client does: HIT_PCT percent (default 80) from HITS,
 * the rest from MISSES.  Then it times, on one thread, each over the same
 * keys (REPEATS times, default 5, keeping the fastest - the least
 * disturbed by other jobs; CLOCK_MONOTONIC around the whole loop):
 *
 *   lookup     lookup_mailbox() as vmsealed calls it (lib/lookup.c): one
 *              read transaction per BATCH lookups (default 8: vmsealed
 *              renews one per event-loop round), value freed
 *   txn        store_txn_renew() + store_txn_reset(), per lookup / BATCH
 *   normalize  store_name_address() of the key
 *   index      seal_index() of the normalized key (keyed BLAKE2b)
 *   aead       seal_open_into() of a record the size of an address record
 *              (XChaCha20-Poly1305), counted for the hits only
 *   rest       lookup - the four above: the B-tree search (mdb_get),
 *              record decoding, the answer's copy, and glue
 *
 * Output: one line of KEY=VALUE fields, nanoseconds per lookup:
 *   lookups= hit_pct= batch= lookup_ns= txn_ns= normalize_ns= index_ns=
 *   aead_ns= rest_ns= found= notfound=
 * Exit status 0, or 1 on an error (a message on standard error).
 *
 * A benchmark tool, never installed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench_util.h"
#include "kv.h"
#include "lookup.h"
#include "names.h"
#include "seal.h"
#include "store.h"

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "lookup_cost: %s%s%s\n", what, why ? ": " : "",
	    why ? why : "");
	exit(1);
}

static unsigned long
number(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0)
		die("not a positive number", what);
	return v;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *passfile = NULL, *hitf = NULL, *missf = NULL;
	unsigned long n = 200000, repeats = 5, batch = 8, pct = 80;
	struct bench_lines hits = { 0 }, miss = { 0 };
	struct lookup_opts lo;
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_err err;
	char pass[1024], norm[NAME_BUF], *value;
	const char **seq;
	uint8_t idx[SEAL_INDEX_BYTES], rkey[SEAL_INDEX_BYTES], pt[64], out[256];
	uint8_t sid[SEAL_STORE_ID_BYTES];
	struct buf ct = { 0 };
	size_t i, len, nhit = 0, found = 0, notfound = 0;
	double t, best[5];
	unsigned long rep;
	int c, r;
	FILE *pf;

	while ((c = getopt(argc, argv, "d:P:f:F:p:n:r:b:")) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'P': passfile = optarg; break;
		case 'f': hitf = optarg; break;
		case 'F': missf = optarg; break;
		case 'p': pct = strtoul(optarg, NULL, 10); break;
		case 'n': n = number(optarg, "-n"); break;
		case 'r': repeats = number(optarg, "-r"); break;
		case 'b': batch = number(optarg, "-b"); break;
		default:
			fprintf(stderr, "usage: lookup_cost -d STOREDIR -P PASSFILE"
			    " -f HITS -F MISSES [-p PCT] [-n N] [-r R] [-b B]\n");
			return 1;
		}
	}
	if (!dir || !passfile || !hitf || !missf || pct > 100)
		die("-d, -P, -f and -F are needed; -p is 0..100", NULL);
	if (sodium_init() < 0)
		die("cannot initialize libsodium", NULL);
	bench_load_lines("lookup_cost", hitf, "key", &hits);
	bench_load_lines("lookup_cost", missf, "key", &miss);
	if ((pf = fopen(passfile, "r")) == NULL ||
	    fgets(pass, sizeof(pass), pf) == NULL)
		die("cannot read", passfile);
	fclose(pf);
	pass[strcspn(pass, "\r\n")] = '\0';

	vs_err_clear(&err);
	if (store_open(dir, 0, &st, &err) != VS_OK ||
	    store_unseal_passphrase(st, pass, strlen(pass), &err) != VS_OK)
		die("cannot open the store", err.msg);
	sodium_memzero(pass, sizeof(pass));
	lookup_opts_default(&lo);

	/* The key sequence: the same mix as sockmap_client. */
	if ((seq = calloc(n, sizeof(*seq))) == NULL)
		die("out of memory", NULL);
	for (i = 0; i < n; i++) {
		if (randombytes_uniform(100) < pct) {
			seq[i] = hits.v[randombytes_uniform((uint32_t)hits.n)];
			nhit++;
		} else {
			seq[i] = miss.v[randombytes_uniform((uint32_t)miss.n)];
		}
	}
	/* A sealed record the size of an address record (its plaintext:
	 * version, address, login, created: about 60 bytes). */
	randombytes_buf(pt, sizeof(pt));
	randombytes_buf(sid, sizeof(sid));
	randombytes_buf(rkey, sizeof(rkey));
	if (seal_record(store_keys(st), sid, KV_ADDRESSES, rkey, sizeof(rkey),
	    pt, sizeof(pt), &ct, &err) != VS_OK)
		die("cannot seal a record", err.msg);
	if (store_txn_begin(st, false, &txn, &err) != VS_OK)
		die("cannot begin a read transaction", err.msg);

	for (i = 0; i < 5; i++)
		best[i] = 1e300;
	for (rep = 0; rep <= repeats; rep++) {   /* round 0: warm-up */
		double m[5];

		found = notfound = 0;
		t = (double)bench_now_ns();
		for (i = 0; i < n; i++) {
			if (i % batch == 0) {
				store_txn_reset(txn);
				if (store_txn_renew(txn, &err) != VS_OK)
					die("cannot renew", err.msg);
			}
			r = lookup_mailbox(txn, &lo, seq[i], &value, &err);
			if (r == VS_OK) {
				found++;
				free(value);
			} else if (r == VS_ENOTFOUND) {
				notfound++;
			} else {
				die("lookup failed", err.msg);
			}
		}
		m[0] = (double)bench_now_ns() - t;

		t = (double)bench_now_ns();
		for (i = 0; i < n; i += batch) {
			store_txn_reset(txn);
			if (store_txn_renew(txn, &err) != VS_OK)
				die("cannot renew", err.msg);
		}
		m[1] = (double)bench_now_ns() - t;

		t = (double)bench_now_ns();
		for (i = 0; i < n; i++)
			(void)store_name_address(txn, seq[i], false, norm, NULL);
		m[2] = (double)bench_now_ns() - t;

		t = (double)bench_now_ns();
		for (i = 0; i < n; i++)
			seal_index(store_keys(st), KV_ADDRESSES, seq[i],
			    strlen(seq[i]), idx);
		m[3] = (double)bench_now_ns() - t;

		t = (double)bench_now_ns();
		for (i = 0; i < nhit; i++)
			if (seal_open_into(store_keys(st), sid, KV_ADDRESSES,
			    rkey, sizeof(rkey), ct.data, ct.len, out,
			    sizeof(out), &len, NULL) != VS_OK)
				die("the test record does not open", NULL);
		m[4] = (double)bench_now_ns() - t;

		for (i = 0; rep > 0 && i < 5; i++)
			if (m[i] < best[i])
				best[i] = m[i];
	}
	printf("lookups=%lu hit_pct=%lu batch=%lu lookup_ns=%.0f txn_ns=%.0f "
	    "normalize_ns=%.0f index_ns=%.0f aead_ns=%.0f rest_ns=%.0f "
	    "found=%zu notfound=%zu\n", n, pct, batch, best[0] / n,
	    best[1] / n, best[2] / n, best[3] / n, best[4] / n,
	    (best[0] - best[1] - best[2] - best[3] - best[4]) / n,
	    found, notfound);
	buf_free(&ct);
	store_txn_abort(&txn);
	store_close(&st);
	return 0;
}
