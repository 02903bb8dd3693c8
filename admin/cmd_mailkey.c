/*
 * cmd_mailkey.c - vmseal mail-key: enable and status (issue 13), the
 * commands for users' mail keys (Dovecot's mail_crypt, lib/mailkey.h).
 *
 *   mail-key enable LOGIN|--all [--protection store|password]
 *       make a key pair for the user (or for every user) who has none, in
 *       one transaction with one audit entry; keys are never replaced
 *       (mail encrypted to them would become unreadable): a user who has
 *       keys is left as is (enable LOGIN says so, exit 5).
 *   mail-key status [LOGIN] [--json]
 *       which users have keys, their protection, when made.
 *
 * Protection: "store" (the private key sealed in the user's record under
 * the root key) is what exists; "password" (also wrapped by a key derived
 * from the user's password, with an escrow copy for the recovery key) is
 * not built yet and is refused with a clear message, so that nobody
 * believes it is in place.
 *
 * Security: private keys are made, sealed and wiped here (mailkey.h); no
 * key is ever printed; status shows only whether there is one.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_opts.h"
#include "json.h"
#include "mailkey.h"
#include "names.h"

static const char mailkey_help[] =
"usage: vmseal [-d DIR] mail-key enable LOGIN|--all [--protection store]\n"
"       vmseal [-d DIR] mail-key status [LOGIN] [--json]\n"
"\n"
"Mail keys for Dovecot's mail_crypt (EC P-256): Dovecot stores a user's\n"
"new mail encrypted to the public key, and reads it with the private key,\n"
"which vmsealed hands over only after a verified password.\n"
"'enable' makes a key pair for a user (or, with --all, for every user)\n"
"who has none; keys are never replaced.  --protection store (the default,\n"
"and the only one built so far): the private key is sealed in the user's\n"
"record under the store's key, so an operator's password reset keeps the\n"
"mail readable.  'status' says which users have keys, their protection\n"
"and when they were made.  See doc/mail-crypt.md.\n";

struct mk_opts {
	bool all;
	const char *protection;
};

static int
mk_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct mk_opts *o = vctx;

	switch (c) {
	case 'a': o->all = true; return CMD_OPT_OK;
	case 'p': o->protection = arg; return CMD_OPT_OK;
	}
	return cli_usage(cli, "mail-key", "unknown option");
}

int
cli_mail_keys_make(struct vs_user *u, struct vs_err *err)
{
	int r = mailkey_generate(&u->mail_pub, &u->mail_priv, err);

	if (r == VS_OK)
		u->mail_key_created = (int64_t)time(NULL);
	return r;
}

/* Keys for u if it has none: 1 made, 0 had some, or an error. */
static int
enable_one(struct store_txn *txn, struct vs_user *u, struct vs_err *err)
{
	int r;

	if (u->mail_pub != NULL)
		return 0;
	if ((r = cli_mail_keys_make(u, err)) != VS_OK ||
	    (r = store_user_update(txn, u, err)) != VS_OK)
		return r;
	return 1;
}

int
cli_mail_key_enable(struct store_txn *txn, const char *login, char *canon,
    struct vs_err *err)
{
	struct vs_user u;
	int r;

	if ((r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	if (canon != NULL)
		snprintf(canon, NAME_BUF, "%s", u.login);
	r = enable_one(txn, &u, err);
	if (r == 0)
		r = vs_fail(err, VS_EEXIST, "user %s already has mail keys: "
		    "they are never replaced (mail encrypted to them would "
		    "become unreadable)", u.login);
	else if (r == 1)
		r = VS_OK;
	vs_user_clear(&u);
	return r;
}

static int
do_enable(struct cli *cli, struct store_txn *txn, const char *login,
    size_t *made_r, size_t *had_r, struct vs_err *err)
{
	struct vs_user *l = NULL;
	bool progress = login == NULL && cli->io->is_tty(cli, 2);
	char canon[NAME_BUF];
	size_t n = 0, i;
	int r = VS_OK;

	*made_r = *had_r = 0;
	if (login != NULL) {
		if ((r = cli_mail_key_enable(txn, login, canon, err)) != VS_OK)
			return r;
		*made_r = 1;
		return cli_audit(cli, txn, "mail-key-enable", err,
		    "%s protection=store", canon);
	}
	if ((r = store_user_list(txn, &l, &n, err)) != VS_OK)
		return r;
	for (i = 0; i < n && r >= 0; i++) {
		r = enable_one(txn, &l[i], err);
		if (r == 1)
			(*made_r)++;
		else if (r == 0)
			(*had_r)++;
		if (progress && (i + 1) % 500 == 0)
			fprintf(cli->err, "\rvmseal: mail keys: %zu of %zu users",
			    i + 1, n);
	}
	if (progress && n >= 500)
		fprintf(cli->err, "\n");
	store_user_list_free(l, n);
	if (r < 0)
		return r;
	return cli_audit(cli, txn, "mail-key-enable", err, "--all "
	    "protection=store made=%zu had=%zu", *made_r, *had_r);
}

static void
print_status(struct cli *cli, struct json *j, const struct vs_user *u)
{
	char t[64];

	if (cli->json) {
		json_obj_begin(j);
		json_key(j, "login"); json_str(j, u->login);
		json_key(j, "mail_keys"); json_bool(j, u->mail_pub != NULL);
		json_key(j, "protection");
		json_str(j, u->mail_pub != NULL ? "store" : NULL);
		json_key(j, "created");
		if (u->mail_pub != NULL) json_time(j, u->mail_key_created);
		else json_str(j, NULL);
		json_obj_end(j);
		return;
	}
	if (u->mail_pub == NULL) {
		fprintf(cli->out, "%s\tnone\n", u->login);
		return;
	}
	cli_fmt_time(u->mail_key_created, t, sizeof(t));
	fprintf(cli->out, "%s\tstore\t%s\n", u->login, t);
}

static int
do_status(struct cli *cli, struct store_txn *txn, const char *login,
    struct vs_err *err)
{
	struct vs_user u, *l;
	struct json j;
	size_t n, i, with = 0;
	int r;

	json_init(&j, cli->out);
	if (login != NULL) {
		if ((r = store_user_get(txn, login, &u, err)) != VS_OK)
			return r;
		print_status(cli, &j, &u);
		if (cli->json)
			json_end(&j);
		vs_user_clear(&u);
		return VS_OK;
	}
	if ((r = store_user_list(txn, &l, &n, err)) != VS_OK)
		return r;
	if (cli->json)
		json_arr_begin(&j);
	for (i = 0; i < n; i++) {
		print_status(cli, &j, &l[i]);
		with += l[i].mail_pub != NULL;
	}
	if (cli->json) {
		json_arr_end(&j);
		json_end(&j);
	} else {
		fprintf(cli->out, "# %zu of %zu users have mail keys\n", with,
		    n);
	}
	store_user_list_free(l, n);
	return VS_OK;
}

int
cmd_mailkey(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "protection", required_argument, NULL, 'p' },
	};
	struct mk_opts o = { 0 };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_err err;
	size_t made = 0, had = 0;
	bool enable;
	char **pos;
	int npos, ex, r;

	if ((ex = cmd_need_action(cli, "mail-key", mailkey_help, argc, argv,
	    "action", "enable, status")) != CMD_PARSED)
		return ex;
	enable = strcmp(argv[1], "enable") == 0;
	if (!enable && strcmp(argv[1], "status") != 0)
		return cli_usage(cli, "mail-key", "unknown action '%s'",
		    argv[1]);
	ex = cmd_parse(cli, "mail-key", mailkey_help, argc - 1, argv + 1, "",
	    lo, sizeof(lo) / sizeof(lo[0]), mk_opt, &o, &pos, &npos);
	if (ex == CMD_PARSED)
		ex = cmd_need_args(cli, "mail-key", npos, enable && !o.all ? 1 :
		    0, o.all ? 0 : 1);
	if (ex != CMD_PARSED)
		return ex;
	if (!enable && (o.all || o.protection))
		return cli_usage(cli, "mail-key", "--all and --protection go "
		    "with 'enable'");
	if (o.protection != NULL && strcmp(o.protection, "store") != 0) {
		if (strcmp(o.protection, "password") == 0)
			return cli_usage(cli, "mail-key", "--protection "
			    "password is not built yet: only store protection "
			    "exists (doc/mail-crypt.md)");
		return cli_usage(cli, "mail-key", "--protection takes store "
		    "(or, later, password)");
	}
	if ((ex = cli_open_txn(cli, enable, &st, &txn)) != EX_VS_OK)
		return ex;
	vs_err_clear(&err);
	if (!enable)
		return cli_finish_txn(cli, &st, &txn, false,
		    do_status(cli, txn, npos ? pos[0] : NULL, &err), &err);
	r = do_enable(cli, txn, npos ? pos[0] : NULL, &made, &had, &err);
	ex = cli_finish_txn(cli, &st, &txn, true, r, &err);
	if (ex == EX_VS_OK && cli->json) {
		struct json j;

		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_key(&j, "made"); json_int(&j, (int64_t)made);
		json_key(&j, "had"); json_int(&j, (int64_t)had);
		json_key(&j, "protection"); json_str(&j, "store");
		json_obj_end(&j);
		json_end(&j);
	} else if (ex == EX_VS_OK && o.all) {
		fprintf(cli->out, "mail keys made for %zu user(s) (%zu had "
		    "keys already)\n", made, had);
	} else if (ex == EX_VS_OK) {
		fprintf(cli->out, "mail keys made for %s\n", pos[0]);
	}
	return ex;
}
