/*
 * cmd_store.c - vmseal init, domain, address and alias commands (users:
 * cmd_user.c).  Each opens the store (offline: asking for the passphrase;
 * in vmsealed: the unsealed store), does its work in one transaction with
 * its audit entry, and ends it with cli_finish_txn().
 *
 * Security: init reads the new passphrase from a descriptor or the
 * terminal, never argv, and wipes it; names are checked and normalized by
 * the store (lib/names.h), never trusted here.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "cmd_opts.h"
#include "json.h"
#include "prompt.h"
#include "reckey.h"

#define MIN_PASSPHRASE 8

static int
parse_cost(const char *s, struct seal_slot_cost *c)
{
	const char *colon = strchr(s, ':');
	char ops[32];
	uint64_t o, kib;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(ops))
		return -1;
	memcpy(ops, s, (size_t)(colon - s));
	ops[colon - s] = '\0';
	if (!cli_parse_u64(ops, crypto_pwhash_OPSLIMIT_MAX, &o) ||
	    !cli_parse_u64(colon + 1, (uint64_t)1 << 32, &kib))
		return -1;
	if (o < crypto_pwhash_OPSLIMIT_MIN ||
	    kib * 1024 < crypto_pwhash_MEMLIMIT_MIN)
		return -1;
	c->opslimit = o;
	c->memlimit = kib * 1024;
	return 0;
}

/* --- init --- */

static const char init_help[] =
"usage: vmseal [-d DIR] init [--passphrase-fd N] [--unseal-cost OPS:KIB]\n"
"                            [--hash-cost OPS:KIB] [--no-fold-local]\n"
"                            [--recovery-shares N --recovery-threshold K]\n"
"\n"
"Create a new encrypted store in DIR (mode 0700) with one passphrase and a\n"
"recovery key.  The passphrase is asked twice on the terminal, or read from\n"
"descriptor N.  The recovery key is printed ONCE: write it down and keep it\n"
"offline; it is the only way in if every passphrase is lost.\n"
"\n"
"  --unseal-cost OPS:KIB  Argon2id cost of the passphrase slot\n"
"                         (default 3:262144, libsodium MODERATE)\n"
"  --hash-cost OPS:KIB    Argon2id cost of user password hashes\n"
"                         (default 2:19456, OWASP: t=2, m=19 MiB)\n"
"  --no-fold-local        keep the case of local parts and logins\n"
"  --recovery-shares N --recovery-threshold K\n"
"                         split the recovery key into N shares, any K of\n"
"                         which rebuild it (Shamir; 2 <= K <= N <= 16)\n"
"Low costs (1:8) are for tests only.\n";

struct init_opts {
	struct store_init_params p;
	unsigned shares, threshold;
};

static int
init_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct init_opts *o = vctx;
	struct seal_slot_cost cost;

	switch (c) {
	case 'u':
		if (parse_cost(arg, &o->p.slot_cost) != 0)
			return cli_usage(cli, "init", "--unseal-cost wants "
			    "OPS:KIB within libsodium's limits");
		return CMD_OPT_OK;
	case 'H':
		if (parse_cost(arg, &cost) != 0)
			return cli_usage(cli, "init", "--hash-cost wants "
			    "OPS:KIB within libsodium's limits");
		o->p.settings.pw_opslimit = cost.opslimit;
		o->p.settings.pw_memlimit = cost.memlimit;
		return CMD_OPT_OK;
	case 'F':
		o->p.settings.fold_local = false;
		return CMD_OPT_OK;
	case 'S':
	case 'T':
		if (!cli_parse_shares(arg, c == 'S' ? &o->shares :
		    &o->threshold))
			return cli_usage(cli, "init", "--recovery-shares and "
			    "--recovery-threshold take 2 to 16");
		return CMD_OPT_OK;
	}
	return cli_usage(cli, "init", "unknown option");
}

int
cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "unseal-cost", required_argument, NULL, 'u' },
		{ "hash-cost", required_argument, NULL, 'H' },
		{ "no-fold-local", no_argument, NULL, 'F' },
		{ "recovery-shares", required_argument, NULL, 'S' },
		{ "recovery-threshold", required_argument, NULL, 'T' },
	};
	struct init_opts o;
	struct secret pass = { NULL, 0, 0 };
	struct vs_err err;
	uint8_t reckey[RECKEY_BYTES];
	char **pos;
	int npos, ex, r;

	store_init_params_default(&o.p);
	o.shares = o.threshold = 0;
	ex = cmd_parse(cli, "init", init_help, argc, argv, "", lo, 5, init_opt, &o,
	    &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if ((o.shares == 0) != (o.threshold == 0) || o.threshold > o.shares)
		return cli_usage(cli, "init", "give --recovery-shares N and "
		    "--recovery-threshold K together, K <= N");
	if ((ex = cmd_need_args(cli, "init", npos, 0, 0)) != CMD_PARSED)
		return ex;
	vs_err_clear(&err);
	r = cli->io->secret(cli, cli->passphrase_fd, "New passphrase: ",
	    "passphrase",
	    true, &pass, &err);
	if (r != VS_OK)
		return cli_fail_err(cli, &err);
	if (pass.len < MIN_PASSPHRASE) {
		prompt_free(&pass);
		return cli_fail(cli, VS_EINVAL, "the passphrase must have at "
		    "least %d characters", MIN_PASSPHRASE);
	}
	r = store_init(cli->dir, &o.p, pass.s, pass.len, reckey, &err);
	prompt_free(&pass);
	if (r != VS_OK)
		return cli_fail_err(cli, &err);
	fprintf(cli->out, "Store created in %s.\n\n", cli_where(cli));
	return cli_print_recovery(cli, reckey, o.shares, o.threshold, true);
}

/* --- domain --- */

static const char domain_help[] =
"usage: vmseal [-d DIR] domain add DOMAIN\n"
"       vmseal [-d DIR] domain del DOMAIN\n"
"       vmseal [-d DIR] domain show DOMAIN [--json]\n"
"       vmseal [-d DIR] domain list [--json]\n"
"\n"
"Hosted domains: the answer to Postfix's virtual_mailbox_domains.  A domain\n"
"is deleted only when no address or alias uses it.\n";

static void
print_domain(struct cli *cli, struct json *j, const struct vs_domain *d)
{
	char t[64];

	if (cli->json) {
		json_obj_begin(j);
		json_key(j, "domain");
		json_str(j, d->name);
		json_key(j, "created");
		json_time(j, d->created);
		json_obj_end(j);
		return;
	}
	cli_fmt_time(d->created, t, sizeof(t));
	fprintf(cli->out, "%s\tcreated %s\n", d->name, t);
}

int
cmd_domain(struct cli *cli, int argc, char **argv)
{
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_err err;
	struct json j;
	const char *act;
	char **pos;
	int npos, ex, r = VS_OK;
	bool write;

	if ((ex = cmd_need_action(cli, "domain", domain_help, argc, argv,
	    "action", "add, del, list, show")) != CMD_PARSED)
		return ex;
	act = argv[1];
	ex = cmd_parse(cli, "domain", domain_help, argc - 1, argv + 1, "", NULL, 0,
	    NULL, NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (strcmp(act, "list") == 0)
		ex = cmd_need_args(cli, "domain", npos, 0, 0);
	else if (strcmp(act, "add") == 0 || strcmp(act, "del") == 0 ||
	    strcmp(act, "show") == 0)
		ex = cmd_need_args(cli, "domain", npos, 1, 1);
	else
		return cli_usage(cli, "domain", "unknown action '%s'", act);
	if (ex != CMD_PARSED)
		return ex;
	write = strcmp(act, "add") == 0 || strcmp(act, "del") == 0;
	if ((ex = cli_open_txn(cli, write, &st, &txn)) != EX_VS_OK)
		return ex;
	vs_err_clear(&err);
	json_init(&j, cli->out);
	if (strcmp(act, "add") == 0) {
		r = store_domain_add(txn, pos[0], &err);
	} else if (strcmp(act, "del") == 0) {
		r = store_domain_del(txn, pos[0], &err);
	} else if (strcmp(act, "show") == 0) {
		struct vs_domain d;

		r = store_domain_get(txn, pos[0], &d, &err);
		if (r == VS_OK) {
			print_domain(cli, &j, &d);
			if (cli->json)
				json_end(&j);
			vs_domain_clear(&d);
		}
	} else {
		struct vs_domain *l;
		size_t n, i;

		r = store_domain_list(txn, &l, &n, &err);
		if (r == VS_OK) {
			if (cli->json)
				json_arr_begin(&j);
			for (i = 0; i < n; i++)
				print_domain(cli, &j, &l[i]);
			if (cli->json) {
				json_arr_end(&j);
				json_end(&j);
			}
			store_domain_list_free(l, n);
		}
	}
	/* Recorded in the same transaction as the change (lib/audit.h). */
	if (r == VS_OK && write)
		r = cli_audit(cli, txn, strcmp(act, "add") == 0 ?
		    "domain-add" : "domain-del", &err, "%s", pos[0]);
	return cli_finish_txn(cli, &st, &txn, write, r, &err);
}

/* --- address --- */

static const char address_help[] =
"usage: vmseal [-d DIR] address add ADDRESS LOGIN\n"
"       vmseal [-d DIR] address del ADDRESS\n"
"       vmseal [-d DIR] address show ADDRESS [--json]\n"
"       vmseal [-d DIR] address list [--json]\n"
"\n"
"Mailbox addresses: which user receives mail for an address (Postfix's\n"
"virtual_mailbox_maps).  The domain must be hosted, the user must exist,\n"
"and an address cannot be an alias at the same time.\n";

static void
print_address(struct cli *cli, struct json *j, const struct vs_address *a)
{
	if (cli->json) {
		json_obj_begin(j);
		json_key(j, "address"); json_str(j, a->address);
		json_key(j, "login"); json_str(j, a->login);
		json_key(j, "created"); json_time(j, a->created);
		json_obj_end(j);
		return;
	}
	fprintf(cli->out, "%s\t%s\n", a->address, a->login);
}

/* --- alias --- */

static const char alias_help[] =
"usage: vmseal [-d DIR] alias add ADDRESS DEST[,DEST]... [--replace]\n"
"       vmseal [-d DIR] alias del ADDRESS\n"
"       vmseal [-d DIR] alias show ADDRESS [--json]\n"
"       vmseal [-d DIR] alias list [--json]\n"
"\n"
"Aliases (Postfix's virtual_alias_maps): ADDRESS is local@domain, or\n"
"@domain for a catch-all that applies to addresses that are not mailboxes.\n"
"Destinations are addresses, here or elsewhere, separated by commas or\n"
"given as separate arguments.  --replace overwrites an existing alias.\n";

static void
print_alias(struct cli *cli, struct json *j, const struct vs_alias *a)
{
	size_t i;

	if (cli->json) {
		json_obj_begin(j);
		json_key(j, "address"); json_str(j, a->address);
		json_key(j, "destinations");
		json_arr_begin(j);
		for (i = 0; i < a->n_dests; i++)
			json_str(j, a->dests[i]);
		json_arr_end(j);
		json_key(j, "created"); json_time(j, a->created);
		json_obj_end(j);
		return;
	}
	fprintf(cli->out, "%s\t", a->address);
	for (i = 0; i < a->n_dests; i++)
		fprintf(cli->out, "%s%s", i ? "," : "", a->dests[i]);
	fprintf(cli->out, "\n");
}

struct alias_opts {
	bool replace;
};

static int
alias_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct alias_opts *o = vctx;

	if (c == 'r') {
		o->replace = true;
		return CMD_OPT_OK;
	}
	return cli_usage(cli, "alias", "unknown option");
}

/* Split "a,b c" arguments into a list of destinations (pointers into a
 * copy owned by *buf_r). */
static int
split_dests(char **args, int n, char ***dests_r, size_t *n_r, char **buf_r)
{
	size_t total = 0, cnt = 0;
	char *buf, *p, *tok, *save;
	char **d;
	int i;

	for (i = 0; i < n; i++)
		total += strlen(args[i]) + 1;
	if ((buf = malloc(total + 1)) == NULL)
		return VS_ENOMEM;
	p = buf;
	for (i = 0; i < n; i++) {
		size_t l = strlen(args[i]);

		memcpy(p, args[i], l);
		p[l] = ',';
		p += l + 1;
	}
	*p = '\0';
	if ((d = calloc(total + 1, sizeof(*d))) == NULL) {
		free(buf);
		return VS_ENOMEM;
	}
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save))
		d[cnt++] = tok;
	*dests_r = d;
	*n_r = cnt;
	*buf_r = buf;
	return VS_OK;
}

/* The audit entry of an address or alias change: "ADDRESS LOGIN",
 * "ADDRESS DEST,DEST" or "ADDRESS". */
static int
map_audit(struct cli *cli, struct store_txn *txn, const char *cmd,
    const char *act, char **pos, int npos, bool replace, struct vs_err *err)
{
	char action[32], d[CMD_AUDIT_DETAIL_BUF];
	size_t l;
	int i;

	snprintf(action, sizeof(action), "%s-%s", cmd, act);
	snprintf(d, sizeof(d), "%s", pos[0]);
	for (i = 1; strcmp(act, "add") == 0 && i < npos; i++) {
		l = strlen(d);
		if (l < sizeof(d))
			snprintf(d + l, sizeof(d) - l, "%s%s", i == 1 ? " " :
			    ",", pos[i]);
	}
	if (replace && strcmp(act, "add") == 0) {
		l = strlen(d);
		if (l < sizeof(d))
			snprintf(d + l, sizeof(d) - l, " (replaced)");
	}
	return cli_audit(cli, txn, action, err, "%s", d);
}

static int
map_command(struct cli *cli, int argc, char **argv, bool alias)
{
	static const struct option lo[] = {
		{ "replace", no_argument, NULL, 'r' },
	};
	const char *cmd = alias ? "alias" : "address";
	const char *help = alias ? alias_help : address_help;
	struct alias_opts ao = { false };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_err err;
	struct json j;
	const char *act;
	char **pos;
	int npos, ex, r = VS_OK;
	bool write;

	if ((ex = cmd_need_action(cli, cmd, help, argc, argv, "action",
	    "add, del, list, show")) != CMD_PARSED)
		return ex;
	act = argv[1];
	ex = cmd_parse(cli, cmd, help, argc - 1, argv + 1, "", alias ? lo : NULL,
	    alias ? 1 : 0, alias ? alias_opt : NULL, &ao, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (strcmp(act, "list") == 0)
		ex = cmd_need_args(cli, cmd, npos, 0, 0);
	else if (strcmp(act, "del") == 0 || strcmp(act, "show") == 0)
		ex = cmd_need_args(cli, cmd, npos, 1, 1);
	else if (strcmp(act, "add") == 0)
		ex = cmd_need_args(cli, cmd, npos, 2, alias ? INT_MAX : 2);
	else
		return cli_usage(cli, cmd, "unknown action '%s'", act);
	if (ex != CMD_PARSED)
		return ex;
	write = strcmp(act, "add") == 0 || strcmp(act, "del") == 0;
	if ((ex = cli_open_txn(cli, write, &st, &txn)) != EX_VS_OK)
		return ex;
	vs_err_clear(&err);
	json_init(&j, cli->out);
	if (strcmp(act, "add") == 0 && !alias) {
		r = store_address_add(txn, pos[0], pos[1], &err);
	} else if (strcmp(act, "add") == 0) {
		char **d = NULL, *buf = NULL;
		size_t n = 0;

		r = split_dests(pos + 1, npos - 1, &d, &n, &buf);
		if (r != VS_OK)
			vs_fail(&err, r, "out of memory");
		else
			r = store_alias_put(txn, pos[0],
			    (const char *const *)d, n, ao.replace, &err);
		free(d);
		free(buf);
	} else if (strcmp(act, "del") == 0) {
		r = alias ? store_alias_del(txn, pos[0], &err) :
		    store_address_del(txn, pos[0], &err);
	} else if (strcmp(act, "show") == 0 && !alias) {
		struct vs_address a;

		if ((r = store_address_get(txn, pos[0], &a, &err)) == VS_OK) {
			print_address(cli, &j, &a);
			vs_address_clear(&a);
		}
	} else if (strcmp(act, "show") == 0) {
		struct vs_alias a;

		if ((r = store_alias_get(txn, pos[0], &a, &err)) == VS_OK) {
			print_alias(cli, &j, &a);
			vs_alias_clear(&a);
		}
	} else if (!alias) {
		struct vs_address *l;
		size_t n, i;

		if ((r = store_address_list(txn, &l, &n, &err)) == VS_OK) {
			if (cli->json)
				json_arr_begin(&j);
			for (i = 0; i < n; i++)
				print_address(cli, &j, &l[i]);
			if (cli->json)
				json_arr_end(&j);
			store_address_list_free(l, n);
		}
	} else {
		struct vs_alias *l;
		size_t n, i;

		if ((r = store_alias_list(txn, &l, &n, &err)) == VS_OK) {
			if (cli->json)
				json_arr_begin(&j);
			for (i = 0; i < n; i++)
				print_alias(cli, &j, &l[i]);
			if (cli->json)
				json_arr_end(&j);
			store_alias_list_free(l, n);
		}
	}
	if (r == VS_OK && cli->json && !write)
		json_end(&j);
	/* Recorded in the same transaction as the change (lib/audit.h). */
	if (r == VS_OK && write)
		r = map_audit(cli, txn, cmd, act, pos, npos, ao.replace, &err);
	return cli_finish_txn(cli, &st, &txn, write, r, &err);
}

int
cmd_address(struct cli *cli, int argc, char **argv)
{
	return map_command(cli, argc, argv, false);
}

int
cmd_alias(struct cli *cli, int argc, char **argv)
{
	return map_command(cli, argc, argv, true);
}
