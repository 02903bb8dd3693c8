/*
 * cmd_apppw.c - vmseal app-password: add, list, del (offline: the store
 * opened with the passphrase; in vmsealed: its unsealed store), one
 * transaction with its audit entry each, ended by cli_finish_txn().
 *
 * An app password (lib/apppw.h) is made here from 160 random bits and
 * printed once - the only time it exists outside the device it is typed
 * into; the store keeps a salted hash of it in the user's sealed record.
 * list shows names, services, times and the last client address, never a
 * password or a hash; the audit entry names the app password and its
 * limits, never the password.
 *
 * Security: the password is built in a stack buffer and wiped once
 * printed; in vmsealed the output stream is a buffer wiped when sent
 * (service/admin.c).  The transaction commits before the password is
 * printed, so a password is never shown that was not saved.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "apppw.h"
#include "cli.h"
#include "cmd_opts.h"
#include "json.h"
#include "mailwrap.h"
#include "names.h"

static const char apppw_help[] =
"usage: vmseal [-d DIR] app-password add LOGIN --name NAME\n"
"                   [--services LIST] [--expires DURATION] [--json]\n"
"       vmseal [-d DIR] app-password list [LOGIN] [--json]\n"
"       vmseal [-d DIR] app-password del LOGIN NAME\n"
"\n"
"App passwords: one per device, random (160 bits, shown once, in groups\n"
"easy to type on a phone), each limited to the services it names and, with\n"
"--expires, to a time.  A mail client logs in with it instead of the\n"
"user's password; deleting it locks that device out at once, nothing else.\n"
"LIST: imap, pop3, smtp (SMTP AUTH through Dovecot), sieve, or all (the\n"
"default), separated by commas.  DURATION: a number and a unit (s, m, h,\n"
"d, w, y), e.g. 90d.  NAME: letters, digits and . _ @ + -, up to 64.\n"
"A user may have up to 50.  'user set LOGIN app-passwords-only=yes' makes\n"
"them the only way in for mail clients (the main password then serves\n"
"web logins and the self-service password change).\n"
"list shows name, services, created, expires, last use and from which\n"
"address (noted at most once a minute) - never a password.\n";

struct apppw_opts {
	const char *name, *services, *expires;
};

static int
apppw_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct apppw_opts *o = vctx;

	switch (c) {
	case 'n': o->name = arg; return CMD_OPT_OK;
	case 's': o->services = arg; return CMD_OPT_OK;
	case 'e': o->expires = arg; return CMD_OPT_OK;
	}
	return cli_usage(cli, "app-password", "unknown option");
}

static void
print_entry(struct cli *cli, struct json *j, const char *login,
    const struct vs_apppw *e)
{
	char svc[48], t1[64], t2[64], t3[64];

	apppw_services_format(e->services, svc, sizeof(svc));
	if (cli->json) {
		json_obj_begin(j);
		json_key(j, "login"); json_str(j, login);
		json_key(j, "name"); json_str(j, e->name);
		json_key(j, "services"); json_str(j, svc);
		json_key(j, "created"); json_time(j, e->created);
		json_key(j, "expires");
		if (e->expires) json_time(j, e->expires); else json_str(j, NULL);
		json_key(j, "expired");
		json_bool(j, e->expires != 0 && (int64_t)time(NULL) >= e->expires);
		json_key(j, "last_used");
		if (e->last_used) json_time(j, e->last_used); else json_str(j, NULL);
		json_key(j, "last_ip"); json_str(j, e->last_ip);
		json_obj_end(j);
		return;
	}
	cli_fmt_time(e->created, t1, sizeof(t1));
	if (e->expires)
		cli_fmt_time(e->expires, t2, sizeof(t2));
	else
		snprintf(t2, sizeof(t2), "never");
	if (e->last_used)
		cli_fmt_time(e->last_used, t3, sizeof(t3));
	else
		snprintf(t3, sizeof(t3), "never");
	fprintf(cli->out, "%s\t%s\t%s\tcreated %s\texpires %s%s\tlast used "
	    "%s%s%s\n", login, e->name, svc, t1, t2,
	    e->expires != 0 && (int64_t)time(NULL) >= e->expires ?
	    " (expired)" : "", t3, e->last_ip ? " from " : "",
	    e->last_ip ? e->last_ip : "");
}

static int
do_list(struct cli *cli, struct store_txn *txn, const char *login,
    struct vs_err *err)
{
	struct vs_user u, *l = NULL;
	struct json j;
	size_t n = 0, i, k;
	int r;

	json_init(&j, cli->out);
	if (login != NULL) {
		if ((r = store_user_get(txn, login, &u, err)) != VS_OK)
			return r;
		l = &u;
		n = 1;
	} else if ((r = store_user_list(txn, &l, &n, err)) != VS_OK) {
		return r;
	}
	if (cli->json)
		json_arr_begin(&j);
	for (i = 0; i < n; i++)
		for (k = 0; k < l[i].n_apppws; k++)
			print_entry(cli, &j, l[i].login, &l[i].apppws[k]);
	if (cli->json) {
		json_arr_end(&j);
		json_end(&j);
	}
	if (login != NULL)
		vs_user_clear(&u);
	else
		store_user_list_free(l, n);
	return VS_OK;
}

/* Add one to login's record: the new password into text, the canonical
 * login into canon (NAME_BUF). */
static int
do_add(struct cli *cli, struct store_txn *txn, const char *login,
    const struct apppw_opts *o, uint32_t services, int64_t ttl,
    char text[APPPW_TEXT_BUF], struct vs_apppw *e, char *canon,
    struct vs_err *err)
{
	char svc[48], when[64];
	struct vs_user u;
	int r;

	if ((r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	snprintf(canon, NAME_BUF, "%s", u.login);
	memset(e, 0, sizeof(*e));
	e->name = (char *)o->name;
	e->services = services;
	e->created = (int64_t)time(NULL);
	e->expires = ttl ? e->created + ttl : 0;
	apppw_generate(text, e);
	r = vs_user_add_apppw(&u, e);
	if (r == VS_EEXIST)
		r = vs_fail(err, r, "%s already has an app password called %s",
		    u.login, o->name);
	else if (r == VS_ELIMIT)
		r = vs_fail(err, VS_EINVAL, "%s already has %d app passwords "
		    "(the most one user may have): delete one first", u.login,
		    APPPW_MAX);
	else if (r != VS_OK)
		r = vs_fail(err, r, "out of memory");
	/* A key pending for password protection is at hand: its copy for
	 * this app password now (else at the next main-password login). */
	if (r == VS_OK && u.mail_pw && u.mail_priv != NULL) {
		size_t made;

		r = mailwrap_app_copies(&u, u.mail_priv, &made, err);
	}
	if (r == VS_OK)
		r = store_user_update(txn, &u, err);
	apppw_services_format(services, svc, sizeof(svc));
	if (e->expires)
		cli_fmt_time(e->expires, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "never");
	if (r == VS_OK)
		r = cli_audit(cli, txn, "app-password-add", err, "%s %s "
		    "services=%s expires=%s", u.login, o->name, svc, when);
	vs_user_clear(&u);
	return r;
}

static void
print_new(struct cli *cli, const char *login, const struct vs_apppw *e,
    const char *text)
{
	char svc[48], when[64];
	struct json j;

	apppw_services_format(e->services, svc, sizeof(svc));
	if (e->expires)
		cli_fmt_time(e->expires, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "never");
	if (cli->json) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_key(&j, "login"); json_str(&j, login);
		json_key(&j, "name"); json_str(&j, e->name);
		json_key(&j, "password"); json_str(&j, text);
		json_key(&j, "services"); json_str(&j, svc);
		json_key(&j, "created"); json_time(&j, e->created);
		json_key(&j, "expires");
		if (e->expires) json_time(&j, e->expires); else json_str(&j, NULL);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	fprintf(cli->out, "app password '%s' for %s (services %s, expires "
	    "%s):\n\n    %s\n\nIt is shown this once: type it into the "
	    "device now.\n", e->name, login, svc, when, text);
}

int
cmd_apppw(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "services", required_argument, NULL, 's' },
		{ "expires", required_argument, NULL, 'e' },
	};
	char text[APPPW_TEXT_BUF], login[NAME_BUF];
	struct apppw_opts o = { 0 };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_apppw e;
	struct vs_err err;
	const char *act;
	uint32_t services = APPPW_ALL;
	int64_t ttl = 0;
	char **pos;
	int npos, ex, r, i;
	bool add, del, list;

	if ((ex = cmd_need_action(cli, "app-password", apppw_help, argc, argv,
	    "action", "add, list, del")) != CMD_PARSED)
		return ex;
	act = argv[1];
	add = strcmp(act, "add") == 0;
	del = strcmp(act, "del") == 0;
	list = strcmp(act, "list") == 0;
	if (!add && !del && !list)
		return cli_usage(cli, "app-password", "unknown action '%s'",
		    act);
	ex = cmd_parse(cli, "app-password", apppw_help, argc - 1, argv + 1,
	    "", lo, sizeof(lo) / sizeof(lo[0]), apppw_opt, &o, &pos, &npos);
	if (ex == CMD_PARSED)
		ex = cmd_need_args(cli, "app-password", npos, add ? 1 : del ? 2 :
		    0, add ? 1 : del ? 2 : 1);
	if (ex != CMD_PARSED)
		return ex;
	vs_err_clear(&err);
	if (!add && (o.name || o.services || o.expires))
		return cli_usage(cli, "app-password", "--name, --services and "
		    "--expires go with 'add'");
	if (add && o.name == NULL)
		return cli_usage(cli, "app-password", "add needs --name NAME");
	if ((add || del) && apppw_name_check(add ? o.name : pos[1], &err) !=
	    VS_OK)
		return cli_usage(cli, "app-password", "%s", err.msg);
	if (o.services && apppw_services_parse(o.services, &services, &err) !=
	    VS_OK)
		return cli_usage(cli, "app-password", "--services: %s", err.msg);
	if (o.expires && apppw_duration_parse(o.expires, &ttl, &err) != VS_OK)
		return cli_usage(cli, "app-password", "--expires: %s", err.msg);

	if ((ex = cli_open_txn(cli, !list, &st, &txn)) != EX_VS_OK)
		return ex;
	if (list)
		return cli_finish_txn(cli, &st, &txn, false,
		    do_list(cli, txn, npos ? pos[0] : NULL, &err), &err);
	if (del) {
		struct vs_user u;

		if ((r = store_user_get(txn, pos[0], &u, &err)) == VS_OK) {
			if ((i = vs_user_find_apppw(&u, pos[1])) < 0) {
				r = vs_fail(&err, VS_ENOTFOUND, "%s has no app "
				    "password called %s", u.login, pos[1]);
			} else {
				vs_user_del_apppw(&u, (size_t)i);
				r = store_user_update(txn, &u, &err);
			}
			if (r == VS_OK)
				r = cli_audit(cli, txn, "app-password-del",
				    &err, "%s %s", u.login, pos[1]);
			vs_user_clear(&u);
		}
		return cli_finish_txn(cli, &st, &txn, true, r, &err);
	}
	r = do_add(cli, txn, pos[0], &o, services, ttl, text, &e, login, &err);
	ex = cli_finish_txn(cli, &st, &txn, true, r, &err);
	if (ex == EX_VS_OK)
		print_new(cli, login, &e, text);
	sodium_memzero(text, sizeof(text));
	sodium_memzero(e.salt, sizeof(e.salt));
	sodium_memzero(e.hash, sizeof(e.hash));
	return ex;
}
