/*
 * test_lookup.c - the socketmap answers (lookup.h) on a real store: case,
 * extensions, catch-alls, sender rights, invalid keys, and errors that
 * must never read as "not found" (sealed store, tampered records).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lmdb.h>
#include <sodium.h>

#include "lookup.h"
#include "names.h"
#include "store.h"
#include "store_fx.h"

#define PASS STORE_FX_PASS

static struct store_fx *
make_store(bool fold_local)
{
	return store_fx_new(fold_local);
}

static void
add_user(struct store_txn *t, char *login, bool enabled, char **addrs,
    size_t n)
{
	struct vs_user u;

	memset(&u, 0, sizeof(u));
	u.login = login;
	u.enabled = enabled;
	u.addresses = addrs;
	u.n_addresses = n;
	assert_int_equal(store_user_add(t, &u, NULL), VS_OK);
}

static void
add_alias(struct store_txn *t, const char *addr, const char *const *dests,
    size_t n)
{
	struct vs_err err;

	if (store_alias_put(t, addr, dests, n, false, &err) != VS_OK)
		fail_msg("alias %s: %s", addr, err.msg);
}

/*
 * The seed (linuxcoaching.eu, somedomain.ie; ron, alice) plus:
 *   @somedomain.ie          -> alice@somedomain.ie      (catch-all)
 *   info@somedomain.ie      -> team@somedomain.ie       (alias of alias)
 *   team@somedomain.ie      -> ron@..., alice@...
 *   ext@linuxcoaching.eu    -> someone@example.org      (external only)
 *   fwd@linuxcoaching.eu    -> someone@example.org, ron+lists@...
 *   carols@linuxcoaching.eu -> both of carol's addresses
 *   carol: carol@linuxcoaching.eu, c.smith@somedomain.ie
 *   dan (disabled): dan@somedomain.ie
 *   eve@linuxcoaching.eu: a login that is an address, no mailbox
 */
static int
setup(void **state)
{
	static const char *const catchall[] = { "alice@somedomain.ie" };
	static const char *const info[] = { "Team@SomeDomain.ie" };
	static const char *const team[] = { "ron@linuxcoaching.eu",
	    "alice@somedomain.ie" };
	static const char *const ext[] = { "someone@example.org" };
	static const char *const fwd[] = { "someone@example.org",
	    "ron+lists@linuxcoaching.eu" };
	static const char *const carols[] = { "carol@linuxcoaching.eu",
	    "c.smith@somedomain.ie" };
	char *ra[] = { "Ron@LinuxCoaching.EU" };
	char *aa[] = { "alice@somedomain.ie" };
	char *ca[] = { "carol@linuxcoaching.eu", "C.Smith@somedomain.ie" };
	char *da[] = { "dan@somedomain.ie" };
	struct store_txn *t = NULL;
	struct store_fx *f;

	if ((f = make_store(true)) == NULL)
		return -1;
	assert_int_equal(store_txn_begin(f->st, true, &t, NULL), VS_OK);
	assert_int_equal(store_domain_add(t, "LinuxCoaching.eu", NULL), VS_OK);
	assert_int_equal(store_domain_add(t, "somedomain.ie", NULL), VS_OK);
	add_user(t, "Ron", true, ra, 1);
	add_user(t, "alice", true, aa, 1);
	add_user(t, "carol", true, ca, 2);
	add_user(t, "dan", false, da, 1);
	add_user(t, "Eve@LinuxCoaching.eu", true, NULL, 0);
	add_alias(t, "@somedomain.ie", catchall, 1);
	add_alias(t, "info@somedomain.ie", info, 1);
	add_alias(t, "team@somedomain.ie", team, 2);
	add_alias(t, "ext@linuxcoaching.eu", ext, 1);
	add_alias(t, "fwd@linuxcoaching.eu", fwd, 2);
	add_alias(t, "carols@linuxcoaching.eu", carols, 2);
	assert_int_equal(store_txn_commit(&t, NULL), VS_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct store_fx *f = *state;

	store_fx_free(&f);
	return 0;
}

/* --- running a lookup the way the service does --- */

enum map { M_DOMAIN, M_MAILBOX, M_ALIAS, M_SENDER };

static const char *const map_names[] = { "domains", "mailboxes",
    "aliases", "senders" };

static int
run(struct store_txn *t, enum map m, const char *delims, const char *key,
    char **value_r, struct vs_err *err)
{
	struct lookup_opts o;

	lookup_opts_default(&o);
	if (delims != NULL)
		strcpy(o.delimiters, delims);
	switch (m) {
	case M_DOMAIN:
		return lookup_domain(t, key, value_r, err);
	case M_MAILBOX:
		return lookup_mailbox(t, &o, key, value_r, err);
	case M_ALIAS:
		return lookup_alias(t, &o, key, value_r, err);
	case M_SENDER:
		return lookup_senders(t, &o, key, value_r, err);
	}
	return VS_EINVAL;
}

/* Begin a read transaction, look up, end it: what the service does per
 * request.  An error beginning (sealed) is the lookup's answer. */
static int
run_st(struct store *st, enum map m, const char *delims, const char *key,
    char **value_r, struct vs_err *err)
{
	struct store_txn *t = NULL;
	int r;

	*value_r = NULL;
	if ((r = store_txn_begin(st, false, &t, err)) != VS_OK)
		return r;
	r = run(t, m, delims, key, value_r, err);
	store_txn_abort(&t);
	return r;
}

struct lcase {
	enum map map;
	const char *delims;             /* NULL: the default "+" */
	const char *key;
	int want;
	const char *value;              /* for VS_OK */
};

#define OK(m, k, v)             { m, NULL, k, VS_OK, v }
#define NF(m, k)                { m, NULL, k, VS_ENOTFOUND, NULL }
#define OKD(m, d, k, v)         { m, d, k, VS_OK, v }
#define NFD(m, d, k)            { m, d, k, VS_ENOTFOUND, NULL }

static void
check_case(struct store *st, const struct lcase *c)
{
	struct vs_err err;
	char *v = NULL;
	int r;

	vs_err_clear(&err);
	r = run_st(st, c->map, c->delims, c->key, &v, &err);
	if (r != c->want)
		fail_msg("%s \"%.60s\" (delims \"%s\"): got %d (%s, %s), "
		    "want %d", map_names[c->map], c->key,
		    c->delims ? c->delims : "+", r, v ? v : "-", err.msg,
		    c->want);
	if (r == VS_OK) {
		assert_non_null(v);
		if (strcmp(v, c->value) != 0)
			fail_msg("%s \"%s\": got \"%s\", want \"%s\"",
			    map_names[c->map], c->key, v, c->value);
	} else {
		assert_null(v);
		assert_int_equal(err.code, r);
		assert_true(err.msg[0] != '\0');
	}
	free(v);
}

static void
check_cases(struct store *st, const struct lcase *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_case(st, &cases[i]);
}

/* --- extension stripping --- */

static void
test_strip_extension(void **state)
{
	static const struct {
		const char *in, *delims, *out;
		bool cut;
	} cases[] = {
		{ "alice+tag@d.ie", "+", "alice@d.ie", true },
		{ "alice+@d.ie", "+", "alice@d.ie", true },
		{ "alice+a+b@d.ie", "+", "alice@d.ie", true },
		{ "Alice+Tag@D.ie", "+", "Alice@D.ie", true },
		{ "alice@d.ie", "+", "alice@d.ie", false },
		{ "alice-tag@d.ie", "+", "alice-tag@d.ie", false },
		/* no delimiters: no extensions */
		{ "alice+tag@d.ie", "", "alice+tag@d.ie", false },
		/* several delimiters: the first found in the local part */
		{ "alice-a+b@d.ie", "+-", "alice@d.ie", true },
		{ "alice+a-b@d.ie", "+-", "alice@d.ie", true },
		{ "alice-a@d.ie", "-+", "alice@d.ie", true },
		/* a leading delimiter would leave the local part empty */
		{ "+tag@d.ie", "+", "+tag@d.ie", false },
		{ "-x+y@d.ie", "+-", "-x+y@d.ie", false },
		{ "@d.ie", "+", "@d.ie", false },
		/* only the local part is looked at */
		{ "alice@my+domain.ie", "+", "alice@my+domain.ie", false },
		{ "a+b@my+domain.ie", "+", "a@my+domain.ie", true },
		{ "nodomain+x", "+", "nodomain", true },
		/* Postfix's split_addr(): reserved names stay whole ... */
		{ "postmaster@d.ie", "t", "postmaster@d.ie", false },
		{ "Mailer-Daemon@d.ie", "-", "Mailer-Daemon@d.ie", false },
		{ "double-bounce@d.ie", "-", "double-bounce@d.ie", false },
		/* ... and owner-x, x-request with '-' as a delimiter */
		{ "owner-list@d.ie", "-", "owner-list@d.ie", false },
		{ "owner-list+x@d.ie", "+-", "owner-list+x@d.ie", false },
		{ "list-request@d.ie", "-", "list-request@d.ie", false },
		{ "owner+x@d.ie", "+", "owner@d.ie", true },
		{ "owner-list+x@d.ie", "+", "owner-list@d.ie", true },
		{ "list-request+x@d.ie", "+", "list-request@d.ie", true },
		{ "list-x@d.ie", "-", "list@d.ie", true },
	};
	char out[NAME_BUF];
	char *big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'X', sizeof(out));
		if (lookup_strip_extension(cases[i].in, cases[i].delims, out) !=
		    cases[i].cut || strcmp(out, cases[i].out) != 0)
			fail_msg("strip \"%s\" (\"%s\"): got \"%s\", want "
			    "\"%s\"", cases[i].in, cases[i].delims, out,
			    cases[i].out);
	}
	/* Longer than any name: nothing copied, nothing cut. */
	big = malloc(NAME_BUF + 10);
	assert_non_null(big);
	memset(big, 'a', NAME_BUF + 9);
	big[5] = '+';
	big[NAME_BUF + 9] = '\0';
	assert_false(lookup_strip_extension(big, "+", out));
	assert_string_equal(out, "");
	free(big);
	assert_false(lookup_strip_extension("a+b@c", NULL, out));
	assert_string_equal(out, "a+b@c");
}

static void
test_opts_default(void **state)
{
	struct lookup_opts o;

	(void)state;
	memset(&o, 'x', sizeof(o));
	lookup_opts_default(&o);
	assert_string_equal(o.delimiters, "+");
}

/* --- the four maps --- */

static void
test_domains(void **state)
{
	struct store_fx *f = *state;
	static const struct lcase cases[] = {
		OK(M_DOMAIN, "linuxcoaching.eu", "linuxcoaching.eu"),
		OK(M_DOMAIN, "LinuxCoaching.EU", "linuxcoaching.eu"),
		OK(M_DOMAIN, "SOMEDOMAIN.IE", "somedomain.ie"),
		OK(M_DOMAIN, "somedomain.ie.", "somedomain.ie"),
		NF(M_DOMAIN, "example.org"),
		NF(M_DOMAIN, "sub.somedomain.ie"),
		NF(M_DOMAIN, ".somedomain.ie"),
		/* address-like keys are not domains */
		NF(M_DOMAIN, "ron@linuxcoaching.eu"),
		NF(M_DOMAIN, "@linuxcoaching.eu"),
		NF(M_DOMAIN, "linuxcoaching.eu@"),
		NF(M_DOMAIN, ""),
		NF(M_DOMAIN, "-bad-"),
		NF(M_DOMAIN, "some domain.ie"),
		NF(M_DOMAIN, "somedomain..ie"),
		NF(M_DOMAIN, "s\xc3\xb6medomain.ie"),
	};

	check_cases(f->st, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_mailboxes(void **state)
{
	struct store_fx *f = *state;
	static const struct lcase cases[] = {
		OK(M_MAILBOX, "ron@linuxcoaching.eu", "ron"),
		OK(M_MAILBOX, "Ron@LinuxCoaching.EU", "ron"),
		OK(M_MAILBOX, "ALICE@SomeDomain.IE", "alice"),
		OK(M_MAILBOX, "alice@somedomain.ie.", "alice"),
		/* a user with two addresses */
		OK(M_MAILBOX, "carol@linuxcoaching.eu", "carol"),
		OK(M_MAILBOX, "c.smith@somedomain.ie", "carol"),
		/* a disabled user still receives mail */
		OK(M_MAILBOX, "dan@somedomain.ie", "dan"),
		/* extensions */
		OK(M_MAILBOX, "alice+tag@somedomain.ie", "alice"),
		OK(M_MAILBOX, "ALICE+Tag@SomeDomain.IE", "alice"),
		OK(M_MAILBOX, "alice+@somedomain.ie", "alice"),
		OK(M_MAILBOX, "alice+a+b@somedomain.ie", "alice"),
		NF(M_MAILBOX, "alice-tag@somedomain.ie"),
		NFD(M_MAILBOX, "", "alice+tag@somedomain.ie"),
		OKD(M_MAILBOX, "", "alice@somedomain.ie", "alice"),
		OKD(M_MAILBOX, "+-", "alice-tag@somedomain.ie", "alice"),
		OKD(M_MAILBOX, "+-", "alice+tag@somedomain.ie", "alice"),
		OKD(M_MAILBOX, "-", "ron-x@linuxcoaching.eu", "ron"),
		NF(M_MAILBOX, "+tag@somedomain.ie"),
		NF(M_MAILBOX, "+alice@somedomain.ie"),
		/* aliases, catch-alls and logins are not mailboxes */
		NF(M_MAILBOX, "info@somedomain.ie"),
		NF(M_MAILBOX, "team+x@somedomain.ie"),
		NF(M_MAILBOX, "bob@somedomain.ie"),
		NF(M_MAILBOX, "@somedomain.ie"),
		NF(M_MAILBOX, "@linuxcoaching.eu"),
		NF(M_MAILBOX, "bob@linuxcoaching.eu"),
		NF(M_MAILBOX, "eve@linuxcoaching.eu"),
		NF(M_MAILBOX, "ron@example.org"),
		NF(M_MAILBOX, "ron"),
		/* not addresses */
		NF(M_MAILBOX, ""),
		NF(M_MAILBOX, "nodomain"),
		NF(M_MAILBOX, "@"),
		NF(M_MAILBOX, "alice@"),
		NF(M_MAILBOX, "a@b@c"),
		NF(M_MAILBOX, "alice@somedomain.ie@somedomain.ie"),
		NF(M_MAILBOX, "x@-bad-"),
		NF(M_MAILBOX, "alice @somedomain.ie"),
		NF(M_MAILBOX, "alice@somedomain.ie "),
		NF(M_MAILBOX, "al\tice@somedomain.ie"),
		NF(M_MAILBOX, "alice\n@somedomain.ie"),
		NF(M_MAILBOX, "<alice@somedomain.ie>"),
		NF(M_MAILBOX, "\"alice\"@somedomain.ie"),
		NF(M_MAILBOX, "al\xc3\xaf" "ce@somedomain.ie"),
		NF(M_MAILBOX, "alice@somedomain..ie"),
	};

	check_cases(f->st, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_aliases(void **state)
{
	struct store_fx *f = *state;
	static const struct lcase cases[] = {
		/* one level: Postfix recurses on team@ itself */
		OK(M_ALIAS, "info@somedomain.ie", "team@somedomain.ie"),
		OK(M_ALIAS, "INFO@SomeDomain.IE", "team@somedomain.ie"),
		OK(M_ALIAS, "team@somedomain.ie",
		    "ron@linuxcoaching.eu,alice@somedomain.ie"),
		OK(M_ALIAS, "ext@linuxcoaching.eu", "someone@example.org"),
		OK(M_ALIAS, "fwd@linuxcoaching.eu",
		    "someone@example.org,ron+lists@linuxcoaching.eu"),
		/* extensions */
		OK(M_ALIAS, "info+x@somedomain.ie", "team@somedomain.ie"),
		OK(M_ALIAS, "Info+X@SomeDomain.ie", "team@somedomain.ie"),
		OK(M_ALIAS, "ext+a+b@linuxcoaching.eu", "someone@example.org"),
		OKD(M_ALIAS, "+-", "info-x@somedomain.ie",
		    "team@somedomain.ie"),
		/* no stripping: info+x is an unknown address -> catch-all */
		OKD(M_ALIAS, "", "info+x@somedomain.ie", "alice@somedomain.ie"),
		NFD(M_ALIAS, "", "ext+x@linuxcoaching.eu"),
		/* '-' alone: owner-... is not split, so not team's */
		OKD(M_ALIAS, "-", "team-x@somedomain.ie",
		    "ron@linuxcoaching.eu,alice@somedomain.ie"),
		OKD(M_ALIAS, "-", "owner-team@somedomain.ie",
		    "alice@somedomain.ie"),
		/* mailboxes are not aliases, and the catch-all skips them
		 * (with or without extension, even a disabled user's) */
		NF(M_ALIAS, "alice@somedomain.ie"),
		NF(M_ALIAS, "ALICE@SomeDomain.IE"),
		NF(M_ALIAS, "alice+tag@somedomain.ie"),
		NF(M_ALIAS, "c.smith@somedomain.ie"),
		NF(M_ALIAS, "C.Smith+x@somedomain.ie"),
		NF(M_ALIAS, "dan@somedomain.ie"),
		NF(M_ALIAS, "ron@linuxcoaching.eu"),
		NFD(M_ALIAS, "+-", "alice-x@somedomain.ie"),
		/* ... but alice-x is no mailbox when '-' is no delimiter */
		OK(M_ALIAS, "alice-x@somedomain.ie", "alice@somedomain.ie"),
		/* catch-all */
		OK(M_ALIAS, "bob@somedomain.ie", "alice@somedomain.ie"),
		OK(M_ALIAS, "BOB+x@SomeDomain.IE", "alice@somedomain.ie"),
		OK(M_ALIAS, "+tag@somedomain.ie", "alice@somedomain.ie"),
		OK(M_ALIAS, "@somedomain.ie", "alice@somedomain.ie"),
		OK(M_ALIAS, "@SomeDomain.IE", "alice@somedomain.ie"),
		/* no catch-all there; not hosted; a login is no alias */
		NF(M_ALIAS, "bob@linuxcoaching.eu"),
		NF(M_ALIAS, "+tag@linuxcoaching.eu"),
		NF(M_ALIAS, "@linuxcoaching.eu"),
		NF(M_ALIAS, "eve@linuxcoaching.eu"),
		NF(M_ALIAS, "bob@example.org"),
		NF(M_ALIAS, "@example.org"),
		/* not addresses */
		NF(M_ALIAS, ""),
		NF(M_ALIAS, "@"),
		NF(M_ALIAS, "nodomain"),
		NF(M_ALIAS, "somedomain.ie"),
		NF(M_ALIAS, "a@b@c"),
		NF(M_ALIAS, "bob@somedomain.ie@somedomain.ie"),
		NF(M_ALIAS, "x@-bad-"),
		NF(M_ALIAS, "bob@-somedomain.ie"),
		NF(M_ALIAS, "bob@somedomain.ie "),
		NF(M_ALIAS, "bob,eve@somedomain.ie"),
		NF(M_ALIAS, "bob\r@somedomain.ie"),
	};

	check_cases(f->st, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_senders(void **state)
{
	struct store_fx *f = *state;
	static const struct lcase cases[] = {
		OK(M_SENDER, "ron@linuxcoaching.eu", "ron"),
		OK(M_SENDER, "RON@LinuxCoaching.EU", "ron"),
		OK(M_SENDER, "ron+x@linuxcoaching.eu", "ron"),
		OK(M_SENDER, "alice@somedomain.ie", "alice"),
		OK(M_SENDER, "c.smith@somedomain.ie", "carol"),
		OK(M_SENDER, "carol@linuxcoaching.eu", "carol"),
		OK(M_SENDER, "dan@somedomain.ie", "dan"),
		OKD(M_SENDER, "+-", "ron-x@linuxcoaching.eu", "ron"),
		NFD(M_SENDER, "", "ron+x@linuxcoaching.eu"),
		/* an alias: the owners of its mailbox destinations, once */
		OK(M_SENDER, "team@somedomain.ie", "ron,alice"),
		OK(M_SENDER, "Team+x@somedomain.ie", "ron,alice"),
		OK(M_SENDER, "carols@linuxcoaching.eu", "carol"),
		/* ron+lists@ is ron's mailbox; someone@ is not ours */
		OK(M_SENDER, "fwd@linuxcoaching.eu", "ron"),
		/* only external destinations, or an alias of an alias */
		NF(M_SENDER, "ext@linuxcoaching.eu"),
		NF(M_SENDER, "info@somedomain.ie"),
		/* a catch-all grants no sending right */
		NF(M_SENDER, "bob@somedomain.ie"),
		NF(M_SENDER, "@somedomain.ie"),
		/* a login that is the address */
		OK(M_SENDER, "eve@linuxcoaching.eu", "eve@linuxcoaching.eu"),
		OK(M_SENDER, "EVE@linuxcoaching.eu", "eve@linuxcoaching.eu"),
		OK(M_SENDER, "eve+x@linuxcoaching.eu", "eve@linuxcoaching.eu"),
		/* nobody's */
		NF(M_SENDER, "nobody@linuxcoaching.eu"),
		NF(M_SENDER, "ron@example.org"),
		NF(M_SENDER, "ron"),
		NF(M_SENDER, "alice"),
		NF(M_SENDER, ""),
		NF(M_SENDER, "nodomain"),
		NF(M_SENDER, "a@b@c"),
		NF(M_SENDER, "x@-bad-"),
		NF(M_SENDER, "<ron@linuxcoaching.eu>"),
	};

	check_cases(f->st, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Keys far beyond any limit, for every map. */
static void
test_long_keys(void **state)
{
	struct store_fx *f = *state;
	static const size_t lens[] = { 64, 65, 253, 254, 400, 100000 };
	struct lcase c;
	char *key;
	size_t i, n;
	int m;

	key = malloc(100000 + 64);
	assert_non_null(key);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = lens[i];
		/* long local part */
		memset(key, 'a', n);
		strcpy(key + n, "@somedomain.ie");
		c.delims = NULL;
		c.key = key;
		c.value = NULL;
		c.map = M_MAILBOX;
		c.want = VS_ENOTFOUND;
		check_case(f->st, &c);
		c.map = M_SENDER;
		check_case(f->st, &c);
		/* 64 is a valid local part: unknown -> catch-all */
		c.map = M_ALIAS;
		c.want = n <= NAME_LOCAL_MAX ? VS_OK : VS_ENOTFOUND;
		c.value = c.want == VS_OK ? "alice@somedomain.ie" : NULL;
		check_case(f->st, &c);
		/* long domain, and long domain keys */
		memcpy(key, "bob@", 4);
		memset(key + 4, 'b', n);
		strcpy(key + 4 + n, ".ie");
		for (m = M_DOMAIN; m <= M_SENDER; m++) {
			c.map = (enum map)m;
			c.key = m == M_DOMAIN ? key + 4 : key;
			c.want = VS_ENOTFOUND;
			c.value = NULL;
			check_case(f->st, &c);
		}
	}
	free(key);
}

static void
test_sender_allowed(void **state)
{
	static const struct {
		const char *login, *sender, *delims;
		int want;
	} cases[] = {
		{ "ron", "ron@linuxcoaching.eu", NULL, 1 },
		{ "Ron", "RON@LinuxCoaching.EU", NULL, 1 },
		{ "ron", "ron+tag@linuxcoaching.eu", NULL, 1 },
		{ "ron", "ron-tag@linuxcoaching.eu", "+-", 1 },
		{ "ron", "ron+tag@linuxcoaching.eu", "", 0 },
		{ "alice", "ron@linuxcoaching.eu", NULL, 0 },
		{ "alice", "alice@somedomain.ie", NULL, 1 },
		{ "ron", "alice@somedomain.ie", NULL, 0 },
		/* the empty sender (bounces) is anyone's */
		{ "alice", "", NULL, 1 },
		{ "ghost", "", NULL, 1 },
		/* aliases: the owners of their mailbox destinations */
		{ "ron", "team@somedomain.ie", NULL, 1 },
		{ "alice", "team@somedomain.ie", NULL, 1 },
		{ "carol", "team@somedomain.ie", NULL, 0 },
		{ "carol", "carols@linuxcoaching.eu", NULL, 1 },
		{ "carol", "c.smith+x@somedomain.ie", NULL, 1 },
		{ "ron", "fwd@linuxcoaching.eu", NULL, 1 },
		{ "ron", "info@somedomain.ie", NULL, 0 },
		{ "ron", "ext@linuxcoaching.eu", NULL, 0 },
		/* the catch-all's destination may not send as anybody */
		{ "alice", "bob@somedomain.ie", NULL, 0 },
		{ "alice", "@somedomain.ie", NULL, 0 },
		/* a login that is the address */
		{ "eve@linuxcoaching.eu", "eve@linuxcoaching.eu", NULL, 1 },
		{ "Eve@LinuxCoaching.EU", "eve+x@linuxcoaching.eu", NULL, 1 },
		{ "ron", "eve@linuxcoaching.eu", NULL, 0 },
		{ "eve@linuxcoaching.eu", "ron@linuxcoaching.eu", NULL, 0 },
		/* a disabled user may not send, not even as its own */
		{ "dan", "dan@somedomain.ie", NULL, 0 },
		/* unknown or invalid logins, invalid senders */
		{ "ghost", "ron@linuxcoaching.eu", NULL, 0 },
		{ "ron@linuxcoaching.eu", "ron@linuxcoaching.eu", NULL, 0 },
		{ "", "ron@linuxcoaching.eu", NULL, 0 },
		{ "r/on", "ron@linuxcoaching.eu", NULL, 0 },
		{ "ron", "ron", NULL, 0 },
		{ "ron", "<ron@linuxcoaching.eu>", NULL, 0 },
		{ "ron", "ron@linuxcoaching.eu ", NULL, 0 },
		{ "ron", "nobody@linuxcoaching.eu", NULL, 0 },
	};
	struct store_fx *f = *state;
	struct store_txn *t = NULL;
	struct lookup_opts o;
	struct vs_err err;
	size_t i;
	int r;

	assert_int_equal(store_txn_begin(f->st, false, &t, NULL), VS_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lookup_opts_default(&o);
		if (cases[i].delims != NULL)
			strcpy(o.delimiters, cases[i].delims);
		r = lookup_sender_allowed(t, &o, cases[i].login,
		    cases[i].sender, &err);
		if (r != cases[i].want)
			fail_msg("login \"%s\" sender \"%s\": got %d, want %d",
			    cases[i].login, cases[i].sender, r,
			    cases[i].want);
	}
	/* NULL options mean the defaults. */
	assert_int_equal(lookup_sender_allowed(t, NULL, "ron",
	    "ron+x@linuxcoaching.eu", NULL), 1);
	store_txn_abort(&t);
}

/* Local parts kept as typed (fold_local off): only the domain folds. */
static void
test_no_fold(void **state)
{
	static const char *const ca[] = { "Alice@SomeDomain.ie" };
	static const struct lcase cases[] = {
		OK(M_MAILBOX, "Alice@somedomain.ie", "Alice"),
		OK(M_MAILBOX, "Alice@SOMEDOMAIN.IE", "Alice"),
		OK(M_MAILBOX, "Alice+Tag@SomeDomain.IE", "Alice"),
		NF(M_MAILBOX, "alice@somedomain.ie"),
		NF(M_MAILBOX, "ALICE@somedomain.ie"),
		NF(M_ALIAS, "Alice@somedomain.ie"),
		OK(M_ALIAS, "alice@somedomain.ie", "Alice@somedomain.ie"),
		OK(M_ALIAS, "@SomeDomain.IE", "Alice@somedomain.ie"),
		OK(M_SENDER, "Alice+x@somedomain.ie", "Alice"),
		NF(M_SENDER, "alice@somedomain.ie"),
		OK(M_DOMAIN, "SomeDomain.IE", "somedomain.ie"),
	};
	char *aa[] = { "Alice@SomeDomain.ie" };
	struct store_txn *t = NULL;
	struct store_fx *f;

	(void)state;
	f = make_store(false);
	assert_non_null(f);
	assert_int_equal(store_txn_begin(f->st, true, &t, NULL), VS_OK);
	assert_int_equal(store_domain_add(t, "somedomain.ie", NULL), VS_OK);
	add_user(t, "Alice", true, aa, 1);
	add_alias(t, "@somedomain.ie", ca, 1);
	assert_int_equal(store_txn_commit(&t, NULL), VS_OK);
	check_cases(f->st, cases, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(store_txn_begin(f->st, false, &t, NULL), VS_OK);
	assert_int_equal(lookup_sender_allowed(t, NULL, "Alice",
	    "Alice@somedomain.ie", NULL), 1);
	assert_int_equal(lookup_sender_allowed(t, NULL, "alice",
	    "Alice@somedomain.ie", NULL), 0);
	store_txn_abort(&t);
	teardown((void **)&f);
}

/* --- errors are never "not found" --- */

static void
test_sealed(void **state)
{
	struct store_fx *f = *state;
	struct vs_err err;
	char *v = NULL;
	int m;

	store_seal(f->st);
	for (m = M_DOMAIN; m <= M_SENDER; m++) {
		vs_err_clear(&err);
		assert_int_equal(run_st(f->st, (enum map)m, NULL,
		    "bob@somedomain.ie", &v, &err), VS_ESEALED);
		assert_null(v);
		assert_int_equal(err.code, VS_ESEALED);
		assert_int_not_equal(err.code, VS_ENOTFOUND);
	}
	/* Unsealed again, the same store answers. */
	assert_int_equal(store_unseal_passphrase(f->st, PASS, strlen(PASS),
	    NULL), VS_OK);
	assert_int_equal(run_st(f->st, M_ALIAS, NULL, "bob@somedomain.ie", &v,
	    NULL), VS_OK);
	assert_string_equal(v, "alice@somedomain.ie");
	free(v);
}

/* Flip one byte in every record of an LMDB table, as an attacker with
 * write access to the files could. */
static void
flip_table(const char *dir, const char *table)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t *copy;
	int rc;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		copy = malloc(v.mv_size);
		assert_non_null(copy);
		memcpy(copy, v.mv_data, v.mv_size);
		copy[v.mv_size - 1] ^= 0x01;    /* in the tag */
		v.mv_data = copy;
		assert_int_equal(mdb_cursor_put(c, &k, &v, MDB_CURRENT), 0);
		free(copy);
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(c);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_corrupt(void **state)
{
	/* Every alias record tampered with. */
	static const struct lcase alias_cases[] = {
		{ M_ALIAS, NULL, "info@somedomain.ie", VS_ECORRUPT, NULL },
		{ M_ALIAS, NULL, "info+x@somedomain.ie", VS_ECORRUPT, NULL },
		/* the catch-all is unreadable: no bounce */
		{ M_ALIAS, NULL, "bob@somedomain.ie", VS_ECORRUPT, NULL },
		{ M_ALIAS, NULL, "@somedomain.ie", VS_ECORRUPT, NULL },
		{ M_SENDER, NULL, "team@somedomain.ie", VS_ECORRUPT, NULL },
		/* lookups that read no alias record still answer */
		NF(M_ALIAS, "alice@somedomain.ie"),
		NF(M_ALIAS, "bob@linuxcoaching.eu"),
		OK(M_MAILBOX, "alice+x@somedomain.ie", "alice"),
		OK(M_SENDER, "ron@linuxcoaching.eu", "ron"),
		OK(M_DOMAIN, "somedomain.ie", "somedomain.ie"),
	};
	/* Then every address record too. */
	static const struct lcase addr_cases[] = {
		{ M_MAILBOX, NULL, "alice@somedomain.ie", VS_ECORRUPT, NULL },
		{ M_MAILBOX, NULL, "alice+x@somedomain.ie", VS_ECORRUPT,
		    NULL },
		/* cannot tell a mailbox from a catch-all target */
		{ M_ALIAS, NULL, "alice@somedomain.ie", VS_ECORRUPT, NULL },
		{ M_SENDER, NULL, "ron@linuxcoaching.eu", VS_ECORRUPT, NULL },
		NF(M_MAILBOX, "bob@linuxcoaching.eu"),
	};
	struct store_fx *f = *state;
	struct store_txn *t = NULL;

	store_close(&f->st);
	flip_table(f->dir, "aliases");
	store_fx_reopen(f);
	check_cases(f->st, alias_cases,
	    sizeof(alias_cases) / sizeof(alias_cases[0]));
	assert_int_equal(store_txn_begin(f->st, false, &t, NULL), VS_OK);
	assert_int_equal(lookup_sender_allowed(t, NULL, "ron",
	    "team@somedomain.ie", NULL), VS_ECORRUPT);
	assert_int_equal(lookup_sender_allowed(t, NULL, "ron",
	    "ron@linuxcoaching.eu", NULL), 1);
	store_txn_abort(&t);

	store_close(&f->st);
	flip_table(f->dir, "addresses");
	store_fx_reopen(f);
	check_cases(f->st, addr_cases,
	    sizeof(addr_cases) / sizeof(addr_cases[0]));

	/* A tampered user record: the sender check errs. */
	store_close(&f->st);
	flip_table(f->dir, "users");
	store_fx_reopen(f);
	assert_int_equal(store_txn_begin(f->st, false, &t, NULL), VS_OK);
	assert_int_equal(lookup_sender_allowed(t, NULL, "ron",
	    "ron@linuxcoaching.eu", NULL), VS_ECORRUPT);
	assert_int_equal(lookup_sender_allowed(t, NULL, "ron", "", NULL), 1);
	store_txn_abort(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip_extension),
		cmocka_unit_test(test_opts_default),
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailboxes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_senders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sender_allowed, setup,
		    teardown),
		cmocka_unit_test(test_no_fold),
		cmocka_unit_test_setup_teardown(test_sealed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
