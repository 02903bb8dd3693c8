/*
 * cmd_export.c - vmseal export: write the store in a plaintext format.
 *
 * Formats: json (everything, default), htpasswd (login:hash),
 * dovecot-passwd (passwd-file with userdb fields), postfix-map (address
 * login), postfix-aliases (address dest,dest).
 *
 * Mail keys (Dovecot's mail_crypt, lib/mailkey.h) are left out unless
 * --with-mail-keys is given (json only): then each user with keys gets
 * "mail_keys" {protection, created, public, private} (the PEMs), the
 * warning names the private keys and the audit entry says so.
 *
 * Security: an export is the store in the clear.  It always warns on
 * stderr, refuses to write to a terminal unless --force is given, and
 * writes -o FILE with mode 0600, never over an existing file.  The
 * document is built in a struct buf (lib/buf.h: every growth wipes the
 * block it leaves, unlike realloc or open_memstream), written out in one
 * piece, and wiped.  Every export is in the audit trail before anything
 * is read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cmd_opts.h"
#include "json.h"
#include "pwhash.h"

static const char export_help[] =
"usage: vmseal [-d DIR] export [--format FORMAT] [-o FILE] [--force]\n"
"                   [--with-mail-keys]\n"
"\n"
"Write the store in a plaintext format, to standard output or FILE\n"
"(created with mode 0600; an existing file is not overwritten).\n"
"  --format json             domains, users (with hashes), addresses,\n"
"                            aliases (default)\n"
"  --format htpasswd         login:hash\n"
"  --format dovecot-passwd   Dovecot passwd-file with userdb fields\n"
"  --format postfix-map      address login (virtual_mailbox_maps)\n"
"  --format postfix-aliases  address dest,dest (virtual_alias_maps)\n"
"  --force                   write to a terminal anyway\n"
"  --with-mail-keys          (json) add users' mail key pairs, private\n"
"                            keys included: whoever holds the export can\n"
"                            read their encrypted mail\n"
"\n"
"WARNING: the output holds password hashes and addresses in the clear.\n";

enum exp_format { EXP_JSON, EXP_HTPASSWD, EXP_DOVECOT, EXP_MAP, EXP_ALIASES };
static const char *const fmt_names[] = { "json", "htpasswd",
    "dovecot-passwd", "postfix-map", "postfix-aliases" };

struct export_opts {
	enum exp_format fmt;
	const char *out;
	bool force;
	bool mail_keys;
};

static int
export_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct export_opts *o = vctx;

	switch (c) {
	case 'f':
		if (strcmp(arg, "json") == 0) o->fmt = EXP_JSON;
		else if (strcmp(arg, "htpasswd") == 0) o->fmt = EXP_HTPASSWD;
		else if (strcmp(arg, "dovecot-passwd") == 0) o->fmt = EXP_DOVECOT;
		else if (strcmp(arg, "postfix-map") == 0) o->fmt = EXP_MAP;
		else if (strcmp(arg, "postfix-aliases") == 0) o->fmt = EXP_ALIASES;
		else
			return cli_usage(cli, "export", "unknown format '%s'",
			    arg);
		return CMD_OPT_OK;
	case 'o': o->out = arg; return CMD_OPT_OK;
	case 'F': o->force = true; return CMD_OPT_OK;
	case 'K': o->mail_keys = true; return CMD_OPT_OK;
	}
	return cli_usage(cli, "export", "unknown option");
}

static void
export_json(FILE *fp, struct vs_domain *d, size_t nd, struct vs_user *u,
    size_t nu, struct vs_alias *a, size_t na, bool mail_keys)
{
	struct json j;
	size_t i, k;

	json_init(&j, fp);
	json_obj_begin(&j);
	json_key(&j, "format"); json_str(&j, "vmseal-export-1");
	json_key(&j, "domains");
	json_arr_begin(&j);
	for (i = 0; i < nd; i++)
		json_str(&j, d[i].name);
	json_arr_end(&j);
	json_key(&j, "users");
	json_arr_begin(&j);
	for (i = 0; i < nu; i++) {
		json_obj_begin(&j);
		json_key(&j, "login"); json_str(&j, u[i].login);
		json_key(&j, "password_hash"); json_str(&j, u[i].pwhash);
		json_key(&j, "enabled"); json_bool(&j, u[i].enabled);
		json_key(&j, "home"); json_str(&j, u[i].home);
		json_key(&j, "uid");
		if (u[i].has_uid) json_int(&j, u[i].uid); else json_str(&j, NULL);
		json_key(&j, "gid");
		if (u[i].has_gid) json_int(&j, u[i].gid); else json_str(&j, NULL);
		json_key(&j, "mail"); json_str(&j, u[i].mail);
		json_key(&j, "quota_rule"); json_str(&j, u[i].quota);
		json_key(&j, "addresses");
		json_arr_begin(&j);
		for (k = 0; k < u[i].n_addresses; k++)
			json_str(&j, u[i].addresses[k]);
		json_arr_end(&j);
		if (mail_keys && u[i].mail_pub != NULL) {
			json_key(&j, "mail_keys");
			json_obj_begin(&j);
			json_key(&j, "protection");
			json_str(&j, u[i].mail_pw ? "password" : "store");
			json_key(&j, "created");
			json_time(&j, u[i].mail_key_created);
			json_key(&j, "public"); json_str(&j, u[i].mail_pub);
			/* password protection: only the wrapped forms (no
			 * key here opens them) */
			json_key(&j, "private"); json_str(&j, u[i].mail_priv);
			if (u[i].mail_pw) {
				json_key(&j, "wrapped");
				json_str(&j, u[i].mail_wrap);
				json_key(&j, "escrow");
				json_str(&j, u[i].mail_escrow);
			}
			json_obj_end(&j);
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "aliases");
	json_arr_begin(&j);
	for (i = 0; i < na; i++) {
		json_obj_begin(&j);
		json_key(&j, "address"); json_str(&j, a[i].address);
		json_key(&j, "destinations");
		json_arr_begin(&j);
		for (k = 0; k < a[i].n_dests; k++)
			json_str(&j, a[i].dests[k]);
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

static void
export_text(FILE *fp, enum exp_format fmt, struct vs_user *u, size_t nu,
    struct vs_alias *a, size_t na, unsigned long *nopw)
{
	size_t i, k;

	for (i = 0; fmt == EXP_HTPASSWD && i < nu; i++) {
		if (u[i].pwhash == NULL) {
			(*nopw)++;
			continue;
		}
		fprintf(fp, "%s:%s\n", u[i].login, u[i].pwhash);
	}
	for (i = 0; fmt == EXP_DOVECOT && i < nu; i++) {
		if (u[i].pwhash == NULL)
			(*nopw)++;
		fprintf(fp, "%s:%s:", u[i].login,
		    u[i].pwhash ? u[i].pwhash : "!");
		if (u[i].has_uid)
			fprintf(fp, "%u", u[i].uid);
		fputc(':', fp);
		if (u[i].has_gid)
			fprintf(fp, "%u", u[i].gid);
		fprintf(fp, "::%s::", or_empty(u[i].home));
		if (u[i].mail)
			fprintf(fp, "userdb_mail=%s", u[i].mail);
		if (u[i].quota)
			fprintf(fp, "%suserdb_quota_rule=%s",
			    u[i].mail ? " " : "", u[i].quota);
		if (!u[i].enabled)
			fprintf(fp, "%snologin", u[i].mail || u[i].quota ?
			    " " : "");
		fputc('\n', fp);
	}
	for (i = 0; fmt == EXP_MAP && i < nu; i++)
		for (k = 0; k < u[i].n_addresses; k++)
			fprintf(fp, "%s %s\n", u[i].addresses[k], u[i].login);
	for (i = 0; fmt == EXP_ALIASES && i < na; i++) {
		fprintf(fp, "%s ", a[i].address);
		for (k = 0; k < a[i].n_dests; k++)
			fprintf(fp, "%s%s", k ? "," : "", a[i].dests[k]);
		fputc('\n', fp);
	}
}

int
cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'F' },
		{ "with-mail-keys", no_argument, NULL, 'K' },
	};
	struct export_opts o = { EXP_JSON, NULL, false, false };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_domain *d = NULL;
	struct vs_user *u = NULL;
	struct vs_alias *a = NULL;
	size_t nd = 0, nu = 0, na = 0;
	unsigned long nopw = 0;
	struct buf doc = { 0 };
	struct vs_err err;
	FILE *fp, *mem;
	char **pos;
	int npos, ex, r;

	ex = cmd_parse(cli, "export", export_help, argc, argv, "o:", lo,
	    sizeof(lo) / sizeof(lo[0]), export_opt, &o, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "export", "too many arguments");
	if (o.mail_keys && o.fmt != EXP_JSON)
		return cli_usage(cli, "export", "--with-mail-keys needs "
		    "--format json");
	if (o.out == NULL && cli->io->is_tty(cli, 1) && !o.force)
		return cli_fail(cli, VS_EINVAL, "refusing to write secrets to "
		    "a terminal (redirect the output, use -o FILE, or --force)");
	/* An export is recorded in the audit trail (lib/audit.h) before
	 * anything is read: a small write transaction of its own, then the
	 * read in a read transaction (a long write transaction would hold up
	 * the service's other writers).  No entry, no export. */
	if ((ex = cli_open_txn(cli, true, &st, &txn)) != EX_VS_OK)
		return ex;
	vs_err_clear(&err);
	if ((r = cli_audit(cli, txn, "export", &err, "%s%s to %s",
	    fmt_names[o.fmt], o.mail_keys ? " with mail keys" : "",
	    o.out ? o.out : "standard output")) != VS_OK ||
	    (r = store_txn_commit(&txn, &err)) != VS_OK ||
	    (r = store_txn_begin(st, false, &txn, &err)) != VS_OK) {
		cli_abort_close(cli, &st, &txn);
		return cli_fail_err(cli, &err);
	}
	if ((r = store_domain_list(txn, &d, &nd, &err)) == VS_OK &&
	    (r = store_user_list(txn, &u, &nu, &err)) == VS_OK)
		r = store_alias_list(txn, &a, &na, &err);
	/* Close the store before writing: nothing waits on the client while
	 * the store is open (in the service it holds the key lock). */
	if ((ex = cli_finish_txn(cli, &st, &txn, false, r, &err)) != EX_VS_OK)
		goto out;
	/* The whole document in a wiping buffer first. */
	if ((mem = buf_stream_open(&doc, BUF_MAX)) == NULL) {
		ex = cli_fail(cli, VS_ENOMEM, "out of memory");
		goto out;
	}
	if (o.fmt == EXP_JSON)
		export_json(mem, d, nd, u, nu, a, na, o.mail_keys);
	else
		export_text(mem, o.fmt, u, nu, a, na, &nopw);
	if (fclose(mem) != 0) {
		ex = cli_fail(cli, VS_ELIMIT, "the export does not fit in "
		    "memory (%u MiB at most)", BUF_MAX >> 20);
		goto out;
	}
	fp = cli->out;
	if (o.out != NULL &&
	    (fp = cli->io->create_output(cli, o.out, &err)) == NULL) {
		ex = cli_fail_err(cli, &err);
		goto out;
	}
	fprintf(cli->err, "vmseal: warning: this export holds %s in the clear; "
	    "keep it as safe as the passphrase, and delete it after use\n",
	    (o.fmt == EXP_MAP || o.fmt == EXP_ALIASES) ? "addresses" :
	    o.mail_keys ? "password hashes and mail private keys (whoever "
	    "holds it can read the users' encrypted mail)" :
	    "password hashes");
	if (doc.len > 0 && fwrite(doc.data, 1, doc.len, fp) != doc.len &&
	    o.out == NULL)
		ex = cli_fail(cli, VS_EIO, "cannot write the export");
	if (nopw > 0)
		fprintf(cli->err, "vmseal: %lu user(s) without a password %s\n",
		    nopw, o.fmt == EXP_HTPASSWD ? "left out" :
		    "written with '!' (cannot log in)");
	if (o.out != NULL && cli->io->finish_output(cli, fp, o.out, &err) !=
	    VS_OK)
		ex = cli_fail_err(cli, &err);
out:
	buf_free(&doc);         /* wipes */
	store_domain_list_free(d, nd);
	store_user_list_free(u, nu);
	store_alias_list_free(a, na);
	cli_abort_close(cli, &st, &txn);
	return ex;
}
