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
 *   mail-key recover LOGIN --recovery-key-fd N --password-fd M (offline)
 *       a user in password protection who lost the password: the escrow
 *       copy opened with the recovery key (or K of N shares), the key
 *       wrapped under the new password, which is set.
 *
 * Protection: "store" (the private key sealed in the user's record under
 * the root key) or "password" (lib/mailwrap.h, doc/DESIGN.md 17.8): the
 * key wrapped under a key from the user's own password hash, with an
 * escrow copy only the recovery key opens.  'enable --protection
 * password' marks the user; vmsealed moves the key at the next verified
 * password (it needs the password).  The first one makes the store's
 * escrow key and so needs the recovery key (offline, --recovery-key-fd).
 *
 * Security: private keys are made, sealed and wiped here (mailkey.h); no
 * key is ever printed; status shows only the state.  The recovery key and
 * the new password come from descriptors (never argv) and are wiped.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "cmd_opts.h"
#include "json.h"
#include "mailkey.h"
#include "mailwrap.h"
#include "names.h"
#include "prompt.h"
#include "pwhash.h"
#include "pwpolicy.h"
#include "reckey.h"

static const char mailkey_help[] =
"usage: vmseal [-d DIR] mail-key enable LOGIN|--all\n"
"                   [--protection store|password] [--json]\n"
"       vmseal [-d DIR] mail-key status [LOGIN] [--json]\n"
"       vmseal --offline mail-key recover LOGIN --recovery-key-fd N\n"
"                   [--password-fd M] [--no-policy]\n"
"\n"
"Mail keys for Dovecot's mail_crypt (EC P-256): Dovecot stores a user's\n"
"new mail encrypted to the public key, and reads it with the private key,\n"
"which vmsealed hands over only after a verified password.\n"
"'enable' makes a key pair for a user (or, with --all, for every user)\n"
"who has none; keys are never replaced.\n"
"--protection store (the default): the private key is sealed in the\n"
"user's record under the store's key, so an operator's password reset\n"
"keeps the mail readable.\n"
"--protection password: the private key is also wrapped under a key that\n"
"only the user's password gives, so not even a running vmsealed can read\n"
"it between the user's logins; vmsealed moves it at the user's next\n"
"verified password (until then: pending).  An escrow copy is sealed to a\n"
"key only the recovery key opens.  The first such 'enable' makes that\n"
"escrow key: run it offline with --recovery-key-fd N.  An operator's\n"
"password reset then leaves the old mail unreadable ('user passwd' asks\n"
"for --yes) until 'mail-key recover'.\n"
"'recover' (offline, with the recovery key or K of N shares on\n"
"descriptor N) opens the escrow copy and wraps the key under a new\n"
"password, which becomes the user's password.\n"
"'status' says which users have keys, their protection and state\n"
"(pending, locked) and when they were made.  See doc/mail-crypt.md.\n";

struct mk_opts {
	bool all, no_policy;
	const char *protection;
	int password_fd;
};

static int
mk_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct mk_opts *o = vctx;

	switch (c) {
	case 'a': o->all = true; return CMD_OPT_OK;
	case 'p': o->protection = arg; return CMD_OPT_OK;
	case 'y': o->no_policy = true; return CMD_OPT_OK;
	case 'w':
		if (!cli_parse_fd(arg, &o->password_fd))
			return cli_usage(cli, "mail-key", "--password-fd needs "
			    "a descriptor number");
		return CMD_OPT_OK;
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

/* Keys for u as asked (pw: password protection): 1 made or changed, 0
 * already so, or an error. */
static int
enable_one(struct store_txn *txn, struct vs_user *u, bool pw,
    struct vs_err *err)
{
	enum vs_mailkey_state was = vs_user_mailkey_state(u);
	int r;

	if (was != MK_NONE && (!pw || was != MK_STORE))
		return 0;
	if (was == MK_NONE && (r = cli_mail_keys_make(u, err)) != VS_OK)
		return r;
	u->mail_pw = pw;
	if ((r = store_user_update(txn, u, err)) != VS_OK)
		return r;
	return 1;
}

static int
enable_login(struct store_txn *txn, const char *login, bool pw, char *canon,
    struct vs_err *err)
{
	enum vs_mailkey_state was;
	struct vs_user u;
	int r;

	if ((r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	if (canon != NULL)
		snprintf(canon, NAME_BUF, "%s", u.login);
	was = vs_user_mailkey_state(&u);
	r = enable_one(txn, &u, pw, err);
	if (r == 0 && !pw && was != MK_STORE)
		r = vs_fail(err, VS_EEXIST, "user %s has mail keys in password "
		    "protection: going back to store protection is not "
		    "offered", u.login);
	else if (r == 0 && !pw)
		r = vs_fail(err, VS_EEXIST, "user %s already has mail keys: "
		    "they are never replaced (mail encrypted to them would "
		    "become unreadable)", u.login);
	else if (r == 0)
		r = vs_fail(err, VS_EEXIST, "user %s is already in password "
		    "protection (%s)", u.login, vs_mailkey_state_name(was));
	else if (r == 1)
		r = VS_OK;
	vs_user_clear(&u);
	return r;
}

int
cli_mail_key_enable(struct store_txn *txn, const char *login, char *canon,
    struct vs_err *err)
{
	return enable_login(txn, login, false, canon, err);
}

/* Password protection needs the store's escrow key: made now from the
 * recovery key (reckey, when the store was opened with it), else the
 * operator is told how. */
static int
need_escrow(struct store_txn *txn, const uint8_t *reckey, struct vs_err *err)
{
	uint8_t pk[MAILWRAP_PK_BYTES];
	int r = mailwrap_escrow_pk(txn, pk, err);

	if (r != VS_ENOTFOUND)
		return r;
	if (reckey != NULL)
		return mailwrap_escrow_make(txn, reckey, err);
	return vs_fail(err, VS_EINVAL, "this store has no mail escrow key "
	    "yet: the first 'mail-key enable --protection password' makes it "
	    "from the recovery key - run it offline with --recovery-key-fd N "
	    "(vmseal --offline mail-key enable ... --recovery-key-fd N)");
}

static int
do_enable(struct cli *cli, struct store_txn *txn, const char *login,
    bool pw, const uint8_t *reckey, size_t *made_r, size_t *had_r,
    struct vs_err *err)
{
	struct vs_user *l = NULL;
	bool progress = login == NULL && cli->io->is_tty(cli, 2);
	const char *prot = pw ? "password" : "store";
	char canon[NAME_BUF];
	size_t n = 0, i;
	int r = VS_OK;

	*made_r = *had_r = 0;
	if (pw && (r = need_escrow(txn, reckey, err)) != VS_OK)
		return r;
	if (login != NULL) {
		if ((r = enable_login(txn, login, pw, canon, err)) != VS_OK)
			return r;
		*made_r = 1;
		return cli_audit(cli, txn, "mail-key-enable", err,
		    "%s protection=%s", canon, prot);
	}
	if ((r = store_user_list(txn, &l, &n, err)) != VS_OK)
		return r;
	for (i = 0; i < n && r >= 0; i++) {
		r = enable_one(txn, &l[i], pw, err);
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
	    "protection=%s made=%zu had=%zu", prot, *made_r, *had_r);
}

static void
print_status(struct cli *cli, struct json *j, const struct vs_user *u)
{
	enum vs_mailkey_state ms = vs_user_mailkey_state(u);
	char t[64];

	if (cli->json) {
		json_obj_begin(j);
		json_key(j, "login"); json_str(j, u->login);
		json_key(j, "mail_keys"); json_bool(j, u->mail_pub != NULL);
		json_key(j, "protection");
		json_str(j, ms == MK_NONE ? NULL : ms == MK_STORE ? "store" :
		    "password");
		json_key(j, "state");
		json_str(j, ms == MK_NONE ? NULL : ms == MK_PENDING ?
		    "pending" : ms == MK_LOCKED ? "locked" : "active");
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
	fprintf(cli->out, "%s\t%s\t%s\n", u->login,
	    ms == MK_STORE ? "store" : ms == MK_PENDING ? "password-pending" :
	    ms == MK_LOCKED ? "password-locked" : "password", t);
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

/* Offline, with --recovery-key-fd: open the store for writing with the
 * recovery key (or its shares) and keep the raw key in reckey for the
 * escrow (wiped by the caller). */
static int
open_recovery(struct cli *cli, struct store **st_r, struct store_txn **txn_r,
    uint8_t reckey[RECKEY_BYTES])
{
	struct secret sec = { NULL, 0, 0 };
	struct vs_err err;
	bool rec;
	int r;

	vs_err_clear(&err);
	r = store_open(cli->dir, STORE_OPEN_WRITE, st_r, &err);
	if (r == VS_OK)
		r = cli_read_unseal_secret(cli, &sec, &rec, &err);
	if (r == VS_OK)
		r = reckey_decode(sec.s, sec.len, reckey, &err);
	prompt_free(&sec);
	if (r == VS_OK)
		r = store_unseal_recovery(*st_r, reckey, &err);
	if (r == VS_OK)
		r = store_txn_begin(*st_r, true, txn_r, &err);
	if (r != VS_OK) {
		sodium_memzero(reckey, RECKEY_BYTES);
		store_close(st_r);
		return cli_fail_err(cli, &err);
	}
	return EX_VS_OK;
}

/* The escrow copy of login's key opened with the recovery key, wrapped
 * under the new password pw, which is set. */
static int
recover_user(struct store *st, struct store_txn *txn, const char *login,
    const uint8_t reckey[RECKEY_BYTES], const struct secret *pw,
    char *canon, struct vs_err *err)
{
	const struct vs_settings *set = store_settings(st);
	struct pw_cost cost = { set->pw_opslimit, (size_t)set->pw_memlimit };
	uint8_t pk[MAILWRAP_PK_BYTES], sk[MAILWRAP_SK_BYTES];
	uint8_t key[PW_WRAPKEY_BYTES];
	char hash[PW_HASH_MAX], *pem = NULL, *wrap = NULL, *prev;
	enum vs_mailkey_state ms;
	struct vs_user u;
	int r;

	if ((r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	snprintf(canon, NAME_BUF, "%s", u.login);
	ms = vs_user_mailkey_state(&u);
	if (ms != MK_PASSWORD && ms != MK_LOCKED) {
		r = vs_fail(err, VS_EINVAL, "user %s has no mail key in "
		    "password protection (%s): nothing to recover; an "
		    "operator's 'user passwd' keeps it readable", u.login,
		    vs_mailkey_state_name(ms));
		vs_user_clear(&u);
		return r;
	}
	r = mailwrap_escrow_keys(txn, reckey, pk, sk, err);
	if (r == VS_OK)
		r = mailwrap_escrow_open(u.mail_escrow, u.login, pk, sk, &pem,
		    err);
	sodium_memzero(sk, sizeof(sk));
	if (r == VS_OK)
		r = mailkey_check(u.mail_pub, pem, err);
	if (r == VS_OK)
		r = pw_hash_key(pw->s, pw->len, &cost, hash, key, err);
	if (r == VS_OK)
		r = mailwrap_seal(pem, u.login, key, &wrap, err);
	if (r == VS_OK) {
		size_t made;

		free(u.mail_wrap);
		u.mail_wrap = wrap;
		r = mailwrap_app_copies(&u, pem, &made, err);
	}
	if (r == VS_OK) {
		prev = u.pwhash;
		u.pwhash = hash;
		u.pw_changed = (int64_t)time(NULL);
		r = store_user_update(txn, &u, err);
		u.pwhash = prev;
	}
	vs_freestr(pem);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hash, sizeof(hash));
	vs_user_clear(&u);
	return r;
}

static int
do_recover(struct cli *cli, const char *login, const struct mk_opts *o)
{
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct secret pw = { NULL, 0, 0 };
	uint8_t reckey[RECKEY_BYTES];
	char canon[NAME_BUF], reason[PWPOLICY_REASON_MAX];
	struct vs_err err;
	int ex, r;

	if (cli->svc != NULL)
		return cli_fail(cli, VS_EINVAL, "mail-key recover runs "
		    "offline (the recovery key never passes through "
		    "vmsealed): stop vmsealed, then 'vmseal --offline "
		    "mail-key recover'");
	if (cli->recovery_key_fd < 0)
		return cli_usage(cli, "mail-key", "recover needs the recovery "
		    "key: --recovery-key-fd N");
	vs_err_clear(&err);
	/* Secrets first: the new password, then the recovery key. */
	if (o->password_fd < 0 && !cli->io->have_tty(cli))
		return cli_fail(cli, VS_EINVAL, "no password given: use "
		    "--password-fd N");
	if (cli->io->secret(cli, o->password_fd, "New password: ",
	    "password", true, &pw, &err) != VS_OK)
		return cli_fail_err(cli, &err);
	reason[0] = '\0';
	if (!o->no_policy && (r = pwpolicy_check(cli->conf, login, pw.s,
	    pw.len, NULL, 0, reason, sizeof(reason))) != VS_OK) {
		prompt_free(&pw);
		if (r == VS_EINVAL)
			return cli_fail(cli, r, "the password is refused by "
			    "the password policy: %s (--no-policy sets it "
			    "anyway)", reason[0] ? reason : "too weak");
		return cli_fail(cli, r, "cannot check the password policy: "
		    "%s", reason[0] ? reason : "unknown error");
	}
	if ((ex = open_recovery(cli, &st, &txn, reckey)) != EX_VS_OK) {
		prompt_free(&pw);
		return ex;
	}
	r = recover_user(st, txn, login, reckey, &pw, canon, &err);
	sodium_memzero(reckey, sizeof(reckey));
	prompt_free(&pw);
	if (r == VS_OK)
		r = cli_audit(cli, txn, "mail-key-recover", &err, "%s new "
		    "password set%s", canon, o->no_policy ?
		    " password-policy-skipped" : "");
	ex = cli_finish_txn(cli, &st, &txn, true, r, &err);
	if (ex == EX_VS_OK)
		fprintf(cli->out, "mail key of %s recovered: the new password "
		    "opens it (and the mail)\n", canon);
	return ex;
}

int
cmd_mailkey(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "protection", required_argument, NULL, 'p' },
		{ "password-fd", required_argument, NULL, 'w' },
		{ "no-policy", no_argument, NULL, 'y' },
	};
	struct mk_opts o = { .password_fd = -1 };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_err err;
	uint8_t reckey[RECKEY_BYTES];
	size_t made = 0, had = 0;
	bool enable, recover, pw, rec;
	char **pos;
	int npos, ex, r;

	if ((ex = cmd_need_action(cli, "mail-key", mailkey_help, argc, argv,
	    "action", "enable, status, recover")) != CMD_PARSED)
		return ex;
	enable = strcmp(argv[1], "enable") == 0;
	recover = strcmp(argv[1], "recover") == 0;
	if (!enable && !recover && strcmp(argv[1], "status") != 0)
		return cli_usage(cli, "mail-key", "unknown action '%s'",
		    argv[1]);
	ex = cmd_parse(cli, "mail-key", mailkey_help, argc - 1, argv + 1, "",
	    lo, sizeof(lo) / sizeof(lo[0]), mk_opt, &o, &pos, &npos);
	if (ex == CMD_PARSED)
		ex = cmd_need_args(cli, "mail-key", npos, (enable && !o.all) ||
		    recover ? 1 : 0, o.all ? 0 : 1);
	if (ex != CMD_PARSED)
		return ex;
	if (!enable && (o.all || o.protection))
		return cli_usage(cli, "mail-key", "--all and --protection go "
		    "with 'enable'");
	if (!recover && (o.password_fd >= 0 || o.no_policy))
		return cli_usage(cli, "mail-key", "--password-fd and "
		    "--no-policy go with 'recover'");
	if (recover)
		return do_recover(cli, pos[0], &o);
	if (o.protection != NULL && strcmp(o.protection, "store") != 0 &&
	    strcmp(o.protection, "password") != 0)
		return cli_usage(cli, "mail-key", "--protection takes store or "
		    "password");
	pw = o.protection != NULL && strcmp(o.protection, "password") == 0;
	/* The recovery key, offline: it may make the escrow key. */
	rec = enable && pw && cli->svc == NULL && cli->recovery_key_fd >= 0;
	if (rec)
		ex = open_recovery(cli, &st, &txn, reckey);
	else
		ex = cli_open_txn(cli, enable, &st, &txn);
	if (ex != EX_VS_OK)
		return ex;
	vs_err_clear(&err);
	if (!enable)
		return cli_finish_txn(cli, &st, &txn, false,
		    do_status(cli, txn, npos ? pos[0] : NULL, &err), &err);
	r = do_enable(cli, txn, npos ? pos[0] : NULL, pw, rec ? reckey : NULL,
	    &made, &had, &err);
	if (rec)
		sodium_memzero(reckey, sizeof(reckey));
	ex = cli_finish_txn(cli, &st, &txn, true, r, &err);
	if (ex == EX_VS_OK && cli->json) {
		struct json j;

		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_key(&j, "made"); json_int(&j, (int64_t)made);
		json_key(&j, "had"); json_int(&j, (int64_t)had);
		json_key(&j, "protection"); json_str(&j, pw ? "password" :
		    "store");
		json_obj_end(&j);
		json_end(&j);
	} else if (ex == EX_VS_OK && o.all) {
		if (pw)
			fprintf(cli->out, "mail keys put in password "
			    "protection for %zu user(s) (%zu were in it "
			    "already)\n", made, had);
		else
			fprintf(cli->out, "mail keys made for %zu user(s) "
			    "(%zu had keys already)\n", made, had);
	} else if (ex == EX_VS_OK && pw) {
		fprintf(cli->out, "mail key of %s in password protection: "
		    "pending, moved at the user's next login\n", pos[0]);
	} else if (ex == EX_VS_OK) {
		fprintf(cli->out, "mail keys made for %s\n", pos[0]);
	}
	return ex;
}
