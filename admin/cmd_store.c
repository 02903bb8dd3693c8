/*
 * cmd_store.c - vmseal init, domain, user, address and alias commands
 * (offline: each opens the store, asks for the passphrase, and does its
 * work in one transaction).
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "cli.h"
#include "cmd_opts.h"
#include "json.h"
#include "names.h"
#include "prompt.h"
#include "pwhash.h"
#include "reckey.h"

#define MIN_PASSPHRASE 8
/* Room for an audit detail before audit_append() cuts it. */
#define AUDIT_DETAIL_BUF (AUDIT_DETAIL_MAX + 64)

static int
need_args(struct cli *cli, const char *cmd, int n, int min, int max)
{
	if (n < min)
		return cli_usage(cli, cmd, "missing argument");
	if (n > max)
		return cli_usage(cli, cmd, "too many arguments");
	return CMD_PARSED;
}

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
	if ((ex = need_args(cli, "init", npos, 0, 0)) != CMD_PARSED)
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
	fprintf(cli->out, "Store created in %s.\n\n", cli->dir);
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

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			fputs(domain_help, cli->out);
			return EX_VS_OK;
		}
		return cli_usage(cli, "domain", "missing action "
		    "(add, del, list, show)");
	}
	act = argv[1];
	ex = cmd_parse(cli, "domain", domain_help, argc - 1, argv + 1, "", NULL, 0,
	    NULL, NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (strcmp(act, "list") == 0)
		ex = need_args(cli, "domain", npos, 0, 0);
	else if (strcmp(act, "add") == 0 || strcmp(act, "del") == 0 ||
	    strcmp(act, "show") == 0)
		ex = need_args(cli, "domain", npos, 1, 1);
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

/* --- user --- */

static const char user_help[] =
"usage: vmseal [-d DIR] user add LOGIN [--address ADDR]... [--home DIR]\n"
"                   [--uid N] [--gid N] [--mail LOCATION] [--quota RULE]\n"
"                   [--password-fd N | --no-password] [--disabled]\n"
"       vmseal [-d DIR] user set LOGIN [--home DIR] [--uid N] [--gid N]\n"
"                   [--mail LOCATION] [--quota RULE]\n"
"       vmseal [-d DIR] user passwd LOGIN [--password-fd N]\n"
"       vmseal [-d DIR] user del|disable|enable LOGIN\n"
"       vmseal [-d DIR] user show LOGIN [--json]\n"
"       vmseal [-d DIR] user list [--json] [--legacy]\n"
"\n"
"Users: login name, password (Argon2id; imported legacy hashes are kept\n"
"until the first login), and Dovecot userdb fields.  A new password is\n"
"asked twice on the terminal or read from descriptor N; never from argv.\n"
"'show' and 'list' print the hash scheme, never the hash.  --legacy lists\n"
"only users whose hash is not Argon2id at the store's cost.\n"
"An empty --home/--mail/--quota value in 'set' removes the field.\n";

struct user_opts {
	char **addresses;
	size_t n_addresses;
	const char *home, *mail, *quota;
	bool set_home, set_mail, set_quota;
	bool has_uid, has_gid;
	uint32_t uid, gid;
	int password_fd;
	bool no_password, disabled, legacy;
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
	    u->pwhash && pw_identify(u->pwhash) != PW_ARGON2ID ?
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
	if ((r = store_user_add(txn, &u, err)) != VS_OK)
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
	char action[32], d[AUDIT_DETAIL_BUF], num[16];
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
	if (strcmp(act, "add") == 0) {
		describe(d, sizeof(d), o->no_password ? "no-password" :
		    "password-set", NULL);
		if (o->disabled)
			describe(d, sizeof(d), "disabled", NULL);
	}
	return cli_audit(cli, txn, action, err, "%s", d);
}

static int
user_modify(struct cli *cli, struct store_txn *txn, const char *act,
    const char *login, struct user_opts *o, struct vs_err *err)
{
	struct vs_user u;
	int r;

	if (strcmp(act, "passwd") == 0)
		return store_user_set_password(txn, login, o->pw.s, o->pw.len,
		    err);
	if ((r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
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
	};
	static const char *const actions[] = { "add", "del", "show", "list",
	    "passwd", "disable", "enable", "set" };
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

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			fputs(user_help, cli->out);
			return EX_VS_OK;
		}
		return cli_usage(cli, "user", "missing action (add, del, show, "
		    "list, passwd, disable, enable, set)");
	}
	act = argv[1];
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		known |= strcmp(act, actions[i]) == 0;
	if (!known)
		return cli_usage(cli, "user", "unknown action '%s'", act);
	memset(&o, 0, sizeof(o));
	o.password_fd = -1;
	ex = cmd_parse(cli, "user", user_help, argc - 1, argv + 1, "", lo,
	    sizeof(lo) / sizeof(lo[0]), user_opt, &o, &pos, &npos);
	if (ex == CMD_PARSED)
		ex = need_args(cli, "user", npos, strcmp(act, "list") ? 1 : 0,
		    strcmp(act, "list") ? 1 : 0);
	if (ex == CMD_PARSED && o.no_password && o.password_fd >= 0)
		ex = cli_usage(cli, "user", "--password-fd and --no-password "
		    "exclude each other");
	if (ex == CMD_PARSED)
		ex = check_field(cli, "home", o.home);
	if (ex == CMD_PARSED)
		ex = check_field(cli, "mail", o.mail);
	if (ex == CMD_PARSED)
		ex = check_field(cli, "quota", o.quota);
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
	char action[32], d[AUDIT_DETAIL_BUF];
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

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			fputs(help, cli->out);
			return EX_VS_OK;
		}
		return cli_usage(cli, cmd, "missing action "
		    "(add, del, list, show)");
	}
	act = argv[1];
	ex = cmd_parse(cli, cmd, help, argc - 1, argv + 1, "", alias ? lo : NULL,
	    alias ? 1 : 0, alias ? alias_opt : NULL, &ao, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (strcmp(act, "list") == 0)
		ex = need_args(cli, cmd, npos, 0, 0);
	else if (strcmp(act, "del") == 0 || strcmp(act, "show") == 0)
		ex = need_args(cli, cmd, npos, 1, 1);
	else if (strcmp(act, "add") == 0)
		ex = need_args(cli, cmd, npos, 2, alias ? INT_MAX : 2);
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
