/*
 * cmd_user.c - vmseal user: add, del, show, list, passwd, disable,
 * enable, set (offline: the store opened with the passphrase; in vmsealed:
 * its unsealed store), one transaction with its audit entry each, ended
 * by cli_finish_txn().
 *
 * Security: a new password is read from a descriptor or the terminal
 * (asked before the store is opened, so that nothing waits on a person
 * while the store is held), never argv; it lives in sodium memory and is
 * wiped.  show/list print the hash scheme, never the hash; the audit entry
 * names the fields set, never the password.  Userdb values are refused
 * with control characters (they reach Dovecot), and --uid/--gid below the
 * floor of vmseal.conf (uid_min, gid_min) are refused.
 *
 * Mail keys (Dovecot's mail_crypt, lib/mailkey.h): "user add --mail-keys"
 * makes a key pair for the new user; "user mail-key LOGIN --generate"
 * makes one for a user who has none, and never replaces one
 * (mail encrypted to it would become unreadable).  The private key is
 * kept only in the sealed record ("store" protection), never printed and
 * wiped after use; show says whether the user has keys.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_opts.h"
#include "import.h"
#include "json.h"
#include "prompt.h"
#include "pwhash.h"
#include "pwpolicy.h"

/* --- user --- */

static const char user_help[] =
"usage: vmseal [-d DIR] user add LOGIN [--address ADDR]... [--home DIR]\n"
"                   [--uid N] [--gid N] [--mail LOCATION] [--quota RULE]\n"
"                   [--password-fd N | --no-password] [--disabled]\n"
"                   [--mail-keys] [--no-policy]\n"
"       vmseal [-d DIR] user set LOGIN [--home DIR] [--uid N] [--gid N]\n"
"                   [--mail LOCATION] [--quota RULE]\n"
"                   [app-passwords-only=yes|no]\n"
"       vmseal [-d DIR] user passwd LOGIN [--password-fd N] [--no-policy]\n"
"                   [--yes]\n"
"       vmseal [-d DIR] user del|disable|enable LOGIN\n"
"       vmseal [-d DIR] user show LOGIN [--json]\n"
"       vmseal [-d DIR] user list [--json] [--legacy]\n"
"       vmseal [-d DIR] user mail-key LOGIN --generate\n"
"\n"
"Users: login name, password (Argon2id; imported legacy hashes are kept\n"
"until the first login), and Dovecot userdb fields.  A new password is\n"
"asked twice on the terminal or read from descriptor N; never from argv.\n"
"'show' and 'list' print the hash scheme, never the hash.  --legacy lists\n"
"only users whose hash is not Argon2id at the store's cost.\n"
"An empty --home/--mail/--quota value in 'set' removes the field.\n"
"--uid and --gid must be at least uid_min and gid_min of vmseal.conf\n"
"(default 500): system accounts cannot be mail users.\n"
"--mail-keys (add) makes a mail key pair for Dovecot's mail_crypt (EC\n"
"P-256, kept sealed in the user's record); 'mail-key LOGIN --generate'\n"
"makes one for a user who has none.  Keys are never replaced: mail\n"
"encrypted to them would become unreadable.\n"
"A new password must pass the password policy of vmseal.conf (length,\n"
"libpwquality's checks; password_policy = off turns it off); --no-policy\n"
"skips it for this one password, and the audit entry says so.\n"
"A user whose mail key is in password protection ('vmseal mail-key'):\n"
"'passwd' without the old password cannot re-wrap the key, so the old\n"
"mail stays unreadable until 'vmseal --offline mail-key recover' with\n"
"the recovery key; it is refused unless --yes confirms that.\n"
"app-passwords-only=yes: mail clients must log in with an app password\n"
"('vmseal app-password'); the main password then serves web logins and\n"
"the self-service password change only.\n";

struct user_opts {
	char **addresses;
	size_t n_addresses;
	const char *home, *mail, *quota;
	bool set_home, set_mail, set_quota;
	bool has_uid, has_gid;
	uint32_t uid, gid;
	int password_fd;
	bool no_password, disabled, legacy;
	bool mail_keys, generate, no_policy, yes;
	bool locked;            /* passwd locked a mail key (audit) */
	int apppw_only;         /* set: -1 unchanged, 0 no, 1 yes */
	struct secret pw;       /* asked before the store is opened */
};

static int
user_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct user_opts *o = vctx;
	uint64_t v;
	char **na;

	switch (c) {
	case 'a':
		na = realloc(o->addresses, (o->n_addresses + 1) * sizeof(*na));
		if (na == NULL)
			return cli_fail(cli, VS_ENOMEM, "out of memory");
		o->addresses = na;
		o->addresses[o->n_addresses++] = (char *)arg;
		return CMD_OPT_OK;
	case 'o': o->home = arg; o->set_home = true; return CMD_OPT_OK;
	case 'm': o->mail = arg; o->set_mail = true; return CMD_OPT_OK;
	case 'q': o->quota = arg; o->set_quota = true; return CMD_OPT_OK;
	case 'U':
	case 'G':
		if (!cli_parse_u64(arg, UINT32_MAX, &v))
			return cli_usage(cli, "user", "--%s needs a number "
			    "from 0 to 4294967295", c == 'U' ? "uid" : "gid");
		if (c == 'U') {
			o->uid = (uint32_t)v;
			o->has_uid = true;
		} else {
			o->gid = (uint32_t)v;
			o->has_gid = true;
		}
		return CMD_OPT_OK;
	case 'p':
		if (!cli_parse_fd(arg, &o->password_fd))
			return cli_usage(cli, "user", "--password-fd needs a "
			    "descriptor number");
		return CMD_OPT_OK;
	case 'n': o->no_password = true; return CMD_OPT_OK;
	case 'D': o->disabled = true; return CMD_OPT_OK;
	case 'L': o->legacy = true; return CMD_OPT_OK;
	case 'K': o->mail_keys = true; return CMD_OPT_OK;
	case 'g': o->generate = true; return CMD_OPT_OK;
	case 'y': o->no_policy = true; return CMD_OPT_OK;
	case 'Y': o->yes = true; return CMD_OPT_OK;
	}
	return cli_usage(cli, "user", "unknown option");
}

/* Userdb values end up in Dovecot's environment and protocol: refuse
 * control characters here already. */
static int
check_field(struct cli *cli, const char *name, const char *v)
{
	const unsigned char *p;

	if (v == NULL)
		return CMD_PARSED;
	if (strlen(v) > 1024)
		return cli_usage(cli, "user", "--%s is too long", name);
	for (p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return cli_usage(cli, "user", "--%s holds a control "
			    "character", name);
	return CMD_PARSED;
}

/* --uid/--gid at or above the floor (uid_min, gid_min in vmseal.conf):
 * checked before a password is asked or the store opened. */
static int
check_ids(struct cli *cli, const char *login, const struct user_opts *o)
{
	struct import_user ids = { .login = login, .has_uid = o->has_uid,
	    .uid = o->uid, .has_gid = o->has_gid, .gid = o->gid };
	struct vs_err err;

	vs_err_clear(&err);
	if (import_check_ids(&ids, cli->conf->uid_min, cli->conf->gid_min,
	    &err) != VS_OK)
		return cli_fail(cli, VS_EINVAL, "%s", err.msg);
	return CMD_PARSED;
}

static void
print_user(struct cli *cli, struct json *j, const struct vs_user *u,
    bool full)
{
	const char *scheme = u->pwhash ? pw_scheme_name(pw_identify(u->pwhash))
	    : "none";
	char t1[64], t2[64], t3[64];
	size_t i;

	if (cli->json) {
		json_obj_begin(j);
		json_key(j, "login"); json_str(j, u->login);
		json_key(j, "enabled"); json_bool(j, u->enabled);
		json_key(j, "scheme"); json_str(j, scheme);
		json_key(j, "home"); json_str(j, u->home);
		json_key(j, "uid");
		if (u->has_uid) json_int(j, u->uid); else json_str(j, NULL);
		json_key(j, "gid");
		if (u->has_gid) json_int(j, u->gid); else json_str(j, NULL);
		json_key(j, "mail"); json_str(j, u->mail);
		json_key(j, "quota_rule"); json_str(j, u->quota);
		json_key(j, "addresses");
		json_arr_begin(j);
		for (i = 0; i < u->n_addresses; i++)
			json_str(j, u->addresses[i]);
		json_arr_end(j);
		json_key(j, "created"); json_time(j, u->created);
		json_key(j, "updated"); json_time(j, u->updated);
		json_key(j, "password_changed"); json_time(j, u->pw_changed);
		json_key(j, "app_passwords"); json_int(j, (int64_t)u->n_apppws);
		json_key(j, "app_passwords_only"); json_bool(j, u->apppw_only);
		json_key(j, "mail_keys"); json_bool(j, u->mail_pub != NULL);
		if (u->mail_pub != NULL) {
			json_key(j, "mail_keys_protection");
			json_str(j, u->mail_pw ? "password" : "store");
			json_key(j, "mail_keys_state");
			json_str(j, vs_user_mailkey_state(u) == MK_PENDING ?
			    "pending" : vs_user_mailkey_state(u) == MK_LOCKED ?
			    "locked" : "active");
			json_key(j, "mail_keys_created");
			json_time(j, u->mail_key_created);
		}
		json_obj_end(j);
		return;
	}
	if (!full) {
		fprintf(cli->out, "%s\t%s\t%s\n", u->login,
		    u->enabled ? "enabled" : "disabled", scheme);
		return;
	}
	cli_fmt_time(u->created, t1, sizeof(t1));
	cli_fmt_time(u->updated, t2, sizeof(t2));
	cli_fmt_time(u->pw_changed, t3, sizeof(t3));
	fprintf(cli->out, "login:            %s\n", u->login);
	fprintf(cli->out, "state:            %s\n", u->enabled ? "enabled" : "disabled");
	fprintf(cli->out, "password scheme:  %s%s\n", scheme,
	    u->pwhash && pw_identify(u->pwhash) != PW_ARGON2ID &&
	    pw_identify(u->pwhash) != PW_VMSEAL_ARGON2ID ?
	    " (legacy: replaced at next login)" : "");
	fprintf(cli->out, "home:             %s\n", u->home ? u->home : "-");
	if (u->has_uid)
		fprintf(cli->out, "uid:              %u\n", u->uid);
	else
		fprintf(cli->out, "uid:              -\n");
	if (u->has_gid)
		fprintf(cli->out, "gid:              %u\n", u->gid);
	else
		fprintf(cli->out, "gid:              -\n");
	fprintf(cli->out, "mail:             %s\n", u->mail ? u->mail : "-");
	fprintf(cli->out, "quota rule:       %s\n", u->quota ? u->quota : "-");
	fprintf(cli->out, "addresses:       ");
	for (i = 0; i < u->n_addresses; i++)
		fprintf(cli->out, " %s", u->addresses[i]);
	fprintf(cli->out, "%s\n", u->n_addresses ? "" : " -");
	fprintf(cli->out, "created:          %s\n", t1);
	fprintf(cli->out, "updated:          %s\n", t2);
	fprintf(cli->out, "password changed: %s\n", t3);
	fprintf(cli->out, "app passwords:    %zu%s\n", u->n_apppws,
	    u->apppw_only ? " (mail clients must use one: "
	    "app-passwords-only)" : "");
	if (u->mail_pub != NULL) {
		cli_fmt_time(u->mail_key_created, t1, sizeof(t1));
		fprintf(cli->out, "mail keys:        yes (protection: %s, "
		    "made %s)\n", vs_mailkey_state_name(
		    vs_user_mailkey_state(u)), t1);
	} else {
		fprintf(cli->out, "mail keys:        none\n");
	}
}

static int
ask_password(struct cli *cli, int fd, struct secret *pw, struct vs_err *err)
{
	if (fd < 0 && !cli->io->have_tty(cli))
		return vs_fail(err, VS_EINVAL, "no password given: use "
		    "--password-fd N (or --no-password for an account that "
		    "cannot log in yet)");
	return cli->io->secret(cli, fd, "New password: ", "password", true, pw,
	    err);
}

static char *
opt_or_null(const char *v)
{
	return (v == NULL || *v == '\0') ? NULL : (char *)v;
}

/* "app-passwords-only=yes|no", the one setting "set" takes as a word. */
static int
user_setting(struct cli *cli, const char *kv, struct user_opts *o)
{
	static const char key[] = "app-passwords-only=";

	if (strncmp(kv, key, sizeof(key) - 1) == 0) {
		const char *v = kv + sizeof(key) - 1;

		if (strcmp(v, "yes") == 0)
			o->apppw_only = 1;
		else if (strcmp(v, "no") == 0)
			o->apppw_only = 0;
		else
			return cli_usage(cli, "user", "app-passwords-only "
			    "takes yes or no");
		return CMD_PARSED;
	}
	return cli_usage(cli, "user", "unknown setting '%.40s' (set takes "
	    "app-passwords-only=yes|no)", kv);
}

/* Options that an action does not take are refused, not ignored. */
static int
user_check_opts(struct cli *cli, const char *act, const struct user_opts *o)
{
	bool add = strcmp(act, "add") == 0, set = strcmp(act, "set") == 0;
	bool pw = add || strcmp(act, "passwd") == 0;

	if (!add && (o->n_addresses || o->no_password || o->disabled ||
	    o->mail_keys))
		return cli_usage(cli, "user", "--address, --no-password, "
		    "--disabled and --mail-keys go with 'add'");
	if (!add && !set && (o->set_home || o->set_mail || o->set_quota ||
	    o->has_uid || o->has_gid))
		return cli_usage(cli, "user", "--home, --mail, --quota, --uid "
		    "and --gid go with 'add' and 'set'");
	if (!pw && (o->password_fd >= 0 || o->no_policy))
		return cli_usage(cli, "user", "--password-fd and --no-policy "
		    "go with 'add' and 'passwd'");
	if (o->yes && strcmp(act, "passwd") != 0)
		return cli_usage(cli, "user", "--yes goes with 'passwd'");
	if (o->legacy && strcmp(act, "list") != 0)
		return cli_usage(cli, "user", "--legacy goes with 'list'");
	if (o->generate && strcmp(act, "mail-key") != 0)
		return cli_usage(cli, "user", "--generate goes with 'mail-key'");
	return CMD_PARSED;
}

/* The password policy (admin/pwpolicy.h) on the new password. */
static int
user_policy(struct cli *cli, const char *login, struct user_opts *o)
{
	char reason[PWPOLICY_REASON_MAX];
	int r;

	reason[0] = '\0';
	r = pwpolicy_check(cli->conf, login, o->pw.s, o->pw.len, NULL, 0,
	    reason, sizeof(reason));
	if (r == VS_OK)
		return CMD_PARSED;
	if (r == VS_EINVAL)
		return cli_fail(cli, VS_EINVAL, "the password is refused by "
		    "the password policy: %s (--no-policy sets it anyway)",
		    reason[0] ? reason : "too weak");
	return cli_fail(cli, r, "cannot check the password policy: %s",
	    reason[0] ? reason : "unknown error");
}

static int
user_add(struct cli *cli, struct store_txn *txn, const char *login,
    struct user_opts *o, struct vs_err *err)
{
	struct vs_user u;
	int r;

	memset(&u, 0, sizeof(u));
	u.login = (char *)login;
	u.home = opt_or_null(o->home);
	u.mail = opt_or_null(o->mail);
	u.quota = opt_or_null(o->quota);
	u.has_uid = o->has_uid;
	u.uid = o->uid;
	u.has_gid = o->has_gid;
	u.gid = o->gid;
	u.enabled = !o->disabled;
	u.addresses = o->addresses;
	u.n_addresses = o->n_addresses;
	if (o->mail_keys && (r = cli_mail_keys_make(&u, err)) != VS_OK)
		return r;
	r = store_user_add(txn, &u, err);
	free(u.mail_pub);
	vs_freestr(u.mail_priv);
	if (r != VS_OK)
		return r;
	if (o->no_password)
		return VS_OK;
	return store_user_set_password(txn, login, o->pw.s, o->pw.len, err);
}

/* Append " name=value" to b (for the audit trail: what changed). */
static void
describe(char *b, size_t cap, const char *name, const char *v)
{
	size_t l = strlen(b);

	if (l < cap)
		snprintf(b + l, cap - l, " %s%s%s", name, v ? "=" : "",
		    v ? v : "");
}

/* The audit entry of a user change: the login and the fields set (their
 * values are not secret); never the password. */
static int
user_audit(struct cli *cli, struct store_txn *txn, const char *act,
    const char *login, const struct user_opts *o, struct vs_err *err)
{
	char action[32], d[CMD_AUDIT_DETAIL_BUF], num[16];
	size_t i;

	snprintf(action, sizeof(action), "user-%s", act);
	snprintf(d, sizeof(d), "%s", login);
	if (strcmp(act, "add") == 0 || strcmp(act, "set") == 0) {
		for (i = 0; i < o->n_addresses; i++)
			describe(d, sizeof(d), "address", o->addresses[i]);
		if (o->set_home)
			describe(d, sizeof(d), "home", o->home);
		if (o->set_mail)
			describe(d, sizeof(d), "mail", o->mail);
		if (o->set_quota)
			describe(d, sizeof(d), "quota", o->quota);
		if (o->has_uid) {
			snprintf(num, sizeof(num), "%u", o->uid);
			describe(d, sizeof(d), "uid", num);
		}
		if (o->has_gid) {
			snprintf(num, sizeof(num), "%u", o->gid);
			describe(d, sizeof(d), "gid", num);
		}
	}
	if (o->apppw_only >= 0)
		describe(d, sizeof(d), "app-passwords-only",
		    o->apppw_only ? "yes" : "no");
	if (strcmp(act, "add") == 0) {
		describe(d, sizeof(d), o->no_password ? "no-password" :
		    "password-set", NULL);
		if (o->disabled)
			describe(d, sizeof(d), "disabled", NULL);
		if (o->mail_keys)
			describe(d, sizeof(d), "mail-keys", NULL);
	}
	if (strcmp(act, "mail-key") == 0)
		describe(d, sizeof(d), "generated", NULL);
	if (o->no_policy && !o->no_password)
		describe(d, sizeof(d), "password-policy-skipped", NULL);
	if (o->locked)
		describe(d, sizeof(d), "mail-key-locked", NULL);
	return cli_audit(cli, txn, action, err, "%s", d);
}

static int
user_modify(struct cli *cli, struct store_txn *txn, const char *act,
    const char *login, struct user_opts *o, struct vs_err *err)
{
	struct vs_user u;
	int r;

	if ((r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	if (strcmp(act, "passwd") == 0) {
		/* A key in password protection cannot follow a reset. */
		if (vs_user_mailkey_state(&u) == MK_PASSWORD && !o->yes)
			r = vs_fail(err, VS_EINVAL, "%s's mail key is protected "
			    "by their password: a reset without it leaves "
			    "their old mail UNREADABLE until 'vmseal --offline "
			    "mail-key recover %s --recovery-key-fd N' (which "
			    "sets a new password itself); give --yes to reset "
			    "anyway", u.login, u.login);
		else
			r = store_user_set_password(txn, login, o->pw.s,
			    o->pw.len, err);
		o->locked = r == VS_OK &&
		    vs_user_mailkey_state(&u) == MK_PASSWORD;
		if (o->locked)
			fprintf(cli->err, "%s: %s's mail key is locked: their "
			    "old mail stays unreadable until 'vmseal --offline "
			    "mail-key recover'\n", cli->prog, u.login);
		vs_user_clear(&u);
		return r;
	}
	{
		char *home = u.home, *mail = u.mail, *quota = u.quota;

		if (strcmp(act, "disable") == 0)
			u.enabled = false;
		else if (strcmp(act, "enable") == 0)
			u.enabled = true;
		else {  /* set */
			if (o->set_home)
				u.home = opt_or_null(o->home);
			if (o->set_mail)
				u.mail = opt_or_null(o->mail);
			if (o->set_quota)
				u.quota = opt_or_null(o->quota);
			if (o->has_uid) {
				u.has_uid = true;
				u.uid = o->uid;
			}
			if (o->has_gid) {
				u.has_gid = true;
				u.gid = o->gid;
			}
			if (o->apppw_only >= 0)
				u.apppw_only = o->apppw_only == 1;
		}
		r = store_user_update(txn, &u, err);
		u.home = home;
		u.mail = mail;
		u.quota = quota;
	}
	vs_user_clear(&u);
	return r;
}

int
cmd_user(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "home", required_argument, NULL, 'o' },
		{ "mail", required_argument, NULL, 'm' },
		{ "quota", required_argument, NULL, 'q' },
		{ "uid", required_argument, NULL, 'U' },
		{ "gid", required_argument, NULL, 'G' },
		{ "password-fd", required_argument, NULL, 'p' },
		{ "no-password", no_argument, NULL, 'n' },
		{ "disabled", no_argument, NULL, 'D' },
		{ "legacy", no_argument, NULL, 'L' },
		{ "mail-keys", no_argument, NULL, 'K' },
		{ "generate", no_argument, NULL, 'g' },
		{ "no-policy", no_argument, NULL, 'y' },
		{ "yes", no_argument, NULL, 'Y' },
	};
	static const char *const actions[] = { "add", "del", "show", "list",
	    "passwd", "disable", "enable", "set", "mail-key" };
	struct user_opts o;
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_err err;
	struct json j;
	const char *act;
	char **pos;
	size_t i;
	int npos, ex, r = VS_OK;
	bool write, known = false;

	if ((ex = cmd_need_action(cli, "user", user_help, argc, argv, "action",
	    "add, del, show, list, passwd, disable, enable, set, mail-key")) !=
	    CMD_PARSED)
		return ex;
	act = argv[1];
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		known |= strcmp(act, actions[i]) == 0;
	if (!known)
		return cli_usage(cli, "user", "unknown action '%s'", act);
	memset(&o, 0, sizeof(o));
	o.password_fd = -1;
	o.apppw_only = -1;
	ex = cmd_parse(cli, "user", user_help, argc - 1, argv + 1, "", lo,
	    sizeof(lo) / sizeof(lo[0]), user_opt, &o, &pos, &npos);
	if (ex == CMD_PARSED)
		ex = cmd_need_args(cli, "user", npos, strcmp(act, "list") ? 1 : 0,
		    strcmp(act, "list") == 0 ? 0 : strcmp(act, "set") == 0 ?
		    2 : 1);
	if (ex == CMD_PARSED && npos == 2)
		ex = user_setting(cli, pos[1], &o);
	if (ex == CMD_PARSED)
		ex = user_check_opts(cli, act, &o);
	if (ex == CMD_PARSED && o.no_password && o.password_fd >= 0)
		ex = cli_usage(cli, "user", "--password-fd and --no-password "
		    "exclude each other");
	if (ex == CMD_PARSED && strcmp(act, "mail-key") == 0 && !o.generate)
		ex = cli_usage(cli, "user", "mail-key needs --generate");
	if (ex == CMD_PARSED)
		ex = check_field(cli, "home", o.home);
	if (ex == CMD_PARSED)
		ex = check_field(cli, "mail", o.mail);
	if (ex == CMD_PARSED)
		ex = check_field(cli, "quota", o.quota);
	if (ex == CMD_PARSED)
		ex = check_ids(cli, npos > 0 ? pos[0] : NULL, &o);
	if (ex != CMD_PARSED) {
		free(o.addresses);
		return ex;
	}
	write = strcmp(act, "show") != 0 && strcmp(act, "list") != 0;
	/* Secrets first: nothing waits on a person while the store is open
	 * (in the service, an open store holds the key lock). */
	if ((strcmp(act, "add") == 0 && !o.no_password) ||
	    strcmp(act, "passwd") == 0) {
		vs_err_clear(&err);
		if (ask_password(cli, o.password_fd, &o.pw, &err) != VS_OK) {
			free(o.addresses);
			return cli_fail_err(cli, &err);
		}
		if (!o.no_policy && (ex = user_policy(cli, pos[0], &o)) !=
		    CMD_PARSED) {
			free(o.addresses);
			prompt_free(&o.pw);
			return ex;
		}
	}
	if ((ex = cli_open_txn(cli, write, &st, &txn)) != EX_VS_OK) {
		free(o.addresses);
		prompt_free(&o.pw);
		return ex;
	}
	vs_err_clear(&err);
	json_init(&j, cli->out);
	if (strcmp(act, "add") == 0) {
		r = user_add(cli, txn, pos[0], &o, &err);
	} else if (strcmp(act, "mail-key") == 0) {
		r = cli_mail_key_enable(txn, pos[0], NULL, &err);
	} else if (strcmp(act, "del") == 0) {
		r = store_user_del(txn, pos[0], &err);
	} else if (strcmp(act, "show") == 0) {
		struct vs_user u;

		if ((r = store_user_get(txn, pos[0], &u, &err)) == VS_OK) {
			print_user(cli, &j, &u, true);
			if (cli->json)
				json_end(&j);
			vs_user_clear(&u);
		}
	} else if (strcmp(act, "list") == 0) {
		const struct vs_settings *s = store_settings(st);
		struct pw_cost cost = { s->pw_opslimit,
		    (size_t)s->pw_memlimit };
		struct vs_user *l;
		size_t n;

		if ((r = store_user_list(txn, &l, &n, &err)) == VS_OK) {
			if (cli->json)
				json_arr_begin(&j);
			for (i = 0; i < n; i++) {
				if (o.legacy && (l[i].pwhash == NULL ||
				    !pw_needs_upgrade(l[i].pwhash, &cost)))
					continue;
				print_user(cli, &j, &l[i], false);
			}
			if (cli->json) {
				json_arr_end(&j);
				json_end(&j);
			}
			store_user_list_free(l, n);
		}
	} else {
		r = user_modify(cli, txn, act, pos[0], &o, &err);
	}
	/* Recorded in the same transaction as the change (lib/audit.h). */
	if (r == VS_OK && write)
		r = user_audit(cli, txn, act, pos[0], &o, &err);
	free(o.addresses);
	prompt_free(&o.pw);
	return cli_finish_txn(cli, &st, &txn, write, r, &err);
}
