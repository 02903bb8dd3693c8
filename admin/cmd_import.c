/*
 * cmd_import.c - vmseal import: take over a plaintext setup.
 *
 *   import htpasswd FILE        login:hash lines (the seed's htpasswd)
 *   import dovecot-passwd FILE  Dovecot passwd-file lines
 *   import postfix-map FILE     virtual_mailbox_maps source (address login)
 *                               or, with --as aliases, virtual_alias_maps
 *
 * The whole file is imported in one transaction: all or nothing, unless
 * --partial is given, in which case bad lines are skipped.  Every bad line
 * is reported with its number and reason (never its hash), and a summary
 * says what was imported and skipped.  Legacy hashes are kept as they are;
 * {PLAIN} passwords are hashed with Argon2id at once.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "cmd_opts.h"
#include "import.h"
#include "json.h"
#include "names.h"
#include "pwhash.h"

static const char import_help[] =
"usage: vmseal [-d DIR] import htpasswd FILE [OPTIONS]\n"
"       vmseal [-d DIR] import dovecot-passwd FILE [OPTIONS]\n"
"       vmseal [-d DIR] import postfix-map FILE [--as mailboxes|aliases]\n"
"                                               [--partial] [--json]\n"
"\n"
"Import users from an htpasswd or Dovecot passwd-file, or addresses and\n"
"aliases from a Postfix table source (the text file given to postmap).\n"
"FILE '-' reads standard input.  One transaction: nothing is imported if\n"
"any line is bad, unless --partial is given.  Import users before maps.\n"
"\n"
"  --partial          skip bad lines, import the rest (exit 6 if any)\n"
"  --home TEMPLATE    home for users without one (%n user part of the\n"
"                     login, %d its domain, %u the whole login, %% a %)\n"
"  --mail TEMPLATE    mail location for users without one\n"
"  --uid N, --gid N   uid/gid for users without one (at least uid_min\n"
"                     and gid_min of vmseal.conf, default 500; a line\n"
"                     with a lower uid or gid is a bad line)\n"
"  --quota RULE       quota rule for users without one\n"
"  --as mailboxes     postfix-map: address -> login (virtual_mailbox_maps;\n"
"                     the value's last path component is the login)\n"
"  --as aliases       postfix-map: address or @domain -> destinations\n"
"                     (virtual_alias_maps)\n"
"  --no-add-domains   postfix-map: refuse addresses of unhosted domains\n"
"                     instead of adding the domains\n"
"  --json             print the summary as JSON\n"
"\n"
"The seed setup:\n"
"  vmseal import htpasswd /kx/horde/htpasswd --uid 555 --gid 555 \\\n"
"      --home /kx/dovecot/home/%n \\\n"
"      --mail 'mbox:~/mail:INBOX=/kx/dovecot/mail/%n'\n"
"  vmseal import postfix-map /kx/dovecot/virtual_mailbox_map\n";

struct import_opts {
	bool partial, aliases, no_add_domains;
	const char *home, *mail, *quota;
	bool has_uid, has_gid;
	uint32_t uid, gid;
	unsigned uid_min, gid_min;      /* the floor (vmseal.conf) */
};

struct import_stats {
	unsigned long lines, imported, skipped, legacy, hashed, domains;
	struct bad_line {
		unsigned long line;
		char reason[VS_ERR_MSG_MAX];
	} *bad;
	size_t n_bad;
};

#define BAD_LINES_KEPT 1000

/* --uid/--gid below the floor: refused before anything is read. */
static int
import_check_floor(struct cli *cli, const struct import_opts *o)
{
	struct import_user ids = { .has_uid = o->has_uid, .uid = o->uid,
	    .has_gid = o->has_gid, .gid = o->gid };
	struct vs_err err;

	vs_err_clear(&err);
	if (import_check_ids(&ids, o->uid_min, o->gid_min, &err) != VS_OK)
		return cli_fail(cli, VS_EINVAL, "--%s", err.msg);
	return CMD_OPT_OK;
}

static int
import_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct import_opts *o = vctx;
	uint64_t v;

	switch (c) {
	case 'p': o->partial = true; return CMD_OPT_OK;
	case 'o': o->home = arg; return CMD_OPT_OK;
	case 'm': o->mail = arg; return CMD_OPT_OK;
	case 'q': o->quota = arg; return CMD_OPT_OK;
	case 'N': o->no_add_domains = true; return CMD_OPT_OK;
	case 'a':
		if (strcmp(arg, "aliases") == 0)
			o->aliases = true;
		else if (strcmp(arg, "mailboxes") == 0)
			o->aliases = false;
		else
			return cli_usage(cli, "import", "--as takes mailboxes "
			    "or aliases");
		return CMD_OPT_OK;
	case 'U':
	case 'G':
		if (!cli_parse_u64(arg, UINT32_MAX, &v))
			return cli_usage(cli, "import", "--%s needs a number "
			    "from 0 to 4294967295", c == 'U' ? "uid" : "gid");
		if (c == 'U') {
			o->uid = (uint32_t)v;
			o->has_uid = true;
		} else {
			o->gid = (uint32_t)v;
			o->has_gid = true;
		}
		return import_check_floor(cli, o);
	}
	return cli_usage(cli, "import", "unknown option");
}

/* Expand %n %d %u %% in a template for a normalized login.  Returns a
 * malloc()ed string or NULL (no template, or out of memory: *oom set). */
static char *
expand(const char *tmpl, const char *login, bool *oom)
{
	struct buf b = { 0 };
	const char *at = strchr(login, '@'), *p;
	size_t nlen = at ? (size_t)(at - login) : strlen(login);
	char *s;
	int r = 0;

	if (tmpl == NULL)
		return NULL;
	for (p = tmpl; *p && r == 0; p++) {
		if (*p != '%' || p[1] == '\0') {
			r = buf_append(&b, p, 1);
			continue;
		}
		switch (*++p) {
		case 'n': r = buf_append(&b, login, nlen); break;
		case 'u': r = buf_append_str(&b, login); break;
		case 'd': r = at ? buf_append_str(&b, at + 1) : 0; break;
		case '%': r = buf_append(&b, "%", 1); break;
		default:
			r = buf_append(&b, p - 1, 2);
			break;
		}
	}
	if (r == 0)
		r = buf_append(&b, "", 1);
	if (r != 0) {
		buf_free(&b);
		*oom = true;
		return NULL;
	}
	s = vs_strdup((char *)b.data);
	buf_free(&b);
	if (s == NULL)
		*oom = true;
	return s;
}

static int
import_user(struct store *st, struct store_txn *txn,
    const struct import_user *iu, const struct import_opts *o,
    struct import_stats *stats, struct vs_err *err)
{
	const struct vs_settings *set = store_settings(st);
	const struct pw_cost own = { set->pw_opslimit,
	    (size_t)set->pw_memlimit };
	struct vs_user u;
	struct import_user ids;
	enum pw_scheme scheme;
	char login[NAME_BUF];
	char hash[PW_HASH_MAX];
	char *home = NULL, *mail = NULL;
	bool oom = false;
	int r;

	/* Well formed, and not too costly to verify (lib/pwhash.h): a bad
	 * line, reported with its number. */
	if ((r = import_check_user_hash(iu, &own, &scheme, err)) != VS_OK)
		return r;
	if ((r = name_login(iu->login, set->fold_local, login, err)) != VS_OK)
		return r;
	/* The uid and gid it will have (its own, or --uid/--gid), at or
	 * above the floor: a bad line too. */
	ids = *iu;
	ids.login = login;
	ids.has_uid = iu->has_uid || o->has_uid;
	ids.uid = iu->has_uid ? iu->uid : o->uid;
	ids.has_gid = iu->has_gid || o->has_gid;
	ids.gid = iu->has_gid ? iu->gid : o->gid;
	if ((r = import_check_ids(&ids, o->uid_min, o->gid_min, err)) !=
	    VS_OK)
		return r;
	memset(&u, 0, sizeof(u));
	u.login = login;
	u.enabled = true;
	if (scheme == PW_PLAIN) {
		struct pw_cost cost = { set->pw_opslimit,
		    (size_t)set->pw_memlimit };
		const char *clear = strchr(iu->hash, '}') + 1;

		r = pw_hash(clear, strlen(clear), &cost, hash, err);
		if (r != VS_OK)
			return r;
		u.pwhash = hash;
	} else {
		u.pwhash = (char *)iu->hash;
	}
	u.home = iu->home ? (char *)iu->home :
	    (home = expand(o->home, login, &oom));
	u.mail = iu->mail ? (char *)iu->mail :
	    (mail = expand(o->mail, login, &oom));
	u.quota = (char *)(iu->quota ? iu->quota : o->quota);
	u.has_uid = ids.has_uid;
	u.uid = ids.uid;
	u.has_gid = ids.has_gid;
	u.gid = ids.gid;
	if (oom)
		r = vs_fail(err, VS_ENOMEM, "out of memory");
	else
		r = store_user_add(txn, &u, err);
	if (r == VS_OK) {
		if (scheme == PW_PLAIN)
			stats->hashed++;
		else if (scheme != PW_ARGON2ID)
			stats->legacy++;
	}
	sodium_memzero(hash, sizeof(hash));
	free(home);
	free(mail);
	return r;
}

/* Add the domain of an address if it is not hosted yet (unless refused). */
static int
ensure_domain(struct store_txn *txn, const char *addr,
    const struct import_opts *o, struct import_stats *stats,
    struct vs_err *err)
{
	const char *at = strrchr(addr, '@');
	struct vs_domain d;
	int r;

	if (at == NULL)
		return vs_fail(err, VS_EINVAL, "key is not an address "
		    "(local@domain or @domain)");
	r = store_domain_get(txn, at + 1, &d, err);
	if (r == VS_OK) {
		vs_domain_clear(&d);
		return VS_OK;
	}
	if (r != VS_ENOTFOUND || o->no_add_domains)
		return r;
	if ((r = store_domain_add(txn, at + 1, err)) == VS_OK)
		stats->domains++;
	return r;
}

static int add_map_entry(struct store_txn *, const struct import_map *,
    const struct import_opts *, struct vs_err *);

/* One map line: add its domain if needed, then the entry; if the entry
 * fails, the domain added for it is taken back, so that --partial never
 * keeps half a line. */
static int
import_map(struct store_txn *txn, const struct import_map *m,
    const struct import_opts *o, struct import_stats *stats,
    struct vs_err *err)
{
	unsigned long before = stats->domains;
	int r;

	if ((r = ensure_domain(txn, m->key, o, stats, err)) != VS_OK)
		return r;
	r = add_map_entry(txn, m, o, err);
	if (r != VS_OK && stats->domains > before) {
		stats->domains = before;
		if (store_domain_del(txn, strrchr(m->key, '@') + 1, NULL) !=
		    VS_OK)
			return vs_fail(err, VS_EIO, "cannot take back the "
			    "domain added for a bad line");
	}
	return r;
}

static int
add_map_entry(struct store_txn *txn, const struct import_map *m,
    const struct import_opts *o, struct vs_err *err)
{
	int r;

	if (o->aliases) {
		char *copy, *tok, *save;
		const char **d;
		size_t n = 0;

		if ((copy = vs_strdup(m->value)) == NULL ||
		    (d = calloc(strlen(m->value) + 1, sizeof(*d))) == NULL) {
			free(copy);
			return vs_fail(err, VS_ENOMEM, "out of memory");
		}
		for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
		    tok = strtok_r(NULL, ", \t", &save))
			d[n++] = tok;
		r = store_alias_put(txn, m->key, d, n, false, err);
		free(d);
		free(copy);
		return r;
	} else {
		/* virtual_mailbox_maps values are mailbox paths relative to
		 * virtual_mailbox_base; the seed's are bare logins.  Take the
		 * last path component. */
		char login[NAME_BUF];
		const char *v = m->value, *slash;
		size_t len = strlen(v);

		while (len > 0 && v[len - 1] == '/')
			len--;
		if (len == 0 || len >= sizeof(login))
			return vs_fail(err, VS_EINVAL, "value names no login");
		memcpy(login, v, len);
		login[len] = '\0';
		if ((slash = strrchr(login, '/')) != NULL)
			memmove(login, slash + 1, strlen(slash + 1) + 1);
		if (strpbrk(login, " \t") != NULL)
			return vs_fail(err, VS_EINVAL, "value holds more than "
			    "one word (an alias table? use --as aliases)");
		if (m->key[0] == '@')
			return vs_fail(err, VS_EINVAL, "a catch-all mailbox is "
			    "not supported; add an alias @domain instead");
		r = store_address_add(txn, m->key, login, err);
		if (r == VS_ENOTFOUND)
			r = vs_fail(err, r, "user %s not found (import the "
			    "users first)", login);
		return r;
	}
}

static void
note_bad(struct cli *cli, struct import_stats *s, const char *file,
    unsigned long line,
    const struct vs_err *err)
{
	fprintf(cli->err, "vmseal: %s:%lu: %s\n", file, line, err->msg);
	s->skipped++;
	if (s->n_bad < BAD_LINES_KEPT) {
		struct bad_line *nb = realloc(s->bad,
		    (s->n_bad + 1) * sizeof(*nb));

		if (nb == NULL)
			return;
		s->bad = nb;
		nb[s->n_bad].line = line;
		snprintf(nb[s->n_bad].reason, sizeof(nb[s->n_bad].reason),
		    "%s", err->msg);
		s->n_bad++;
	}
}

static void
print_summary(struct cli *cli, const char *file, const char *fmt,
    const struct import_stats *s, bool committed, const char *what)
{
	struct json j;
	size_t i;

	if (cli->json) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_key(&j, "file"); json_str(&j, file);
		json_key(&j, "format"); json_str(&j, fmt);
		json_key(&j, "lines"); json_int(&j, (int64_t)s->lines);
		json_key(&j, "imported"); json_int(&j, (int64_t)s->imported);
		json_key(&j, "skipped"); json_int(&j, (int64_t)s->skipped);
		json_key(&j, "legacy_hashes"); json_int(&j, (int64_t)s->legacy);
		json_key(&j, "clear_passwords_hashed");
		json_int(&j, (int64_t)s->hashed);
		json_key(&j, "domains_added"); json_int(&j, (int64_t)s->domains);
		json_key(&j, "committed"); json_bool(&j, committed);
		json_key(&j, "errors");
		json_arr_begin(&j);
		for (i = 0; i < s->n_bad; i++) {
			json_obj_begin(&j);
			json_key(&j, "line"); json_int(&j, (int64_t)s->bad[i].line);
			json_key(&j, "reason"); json_str(&j, s->bad[i].reason);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	if (!committed) {
		fprintf(cli->out, "%s: nothing imported: %lu bad line(s) out of %lu "
		    "(fix them, or use --partial to skip them)\n", file,
		    s->skipped, s->lines);
		return;
	}
	fprintf(cli->out, "%s: imported %lu %s, skipped %lu bad line(s)", file,
	    s->imported, what, s->skipped);
	if (s->legacy)
		fprintf(cli->out, ", %lu legacy hash(es) kept until first login",
		    s->legacy);
	if (s->hashed)
		fprintf(cli->out, ", %lu clear password(s) hashed", s->hashed);
	if (s->domains)
		fprintf(cli->out, ", %lu domain(s) added", s->domains);
	fprintf(cli->out, "\n");
}

int
cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "partial", no_argument, NULL, 'p' },
		{ "home", required_argument, NULL, 'o' },
		{ "mail", required_argument, NULL, 'm' },
		{ "quota", required_argument, NULL, 'q' },
		{ "uid", required_argument, NULL, 'U' },
		{ "gid", required_argument, NULL, 'G' },
		{ "as", required_argument, NULL, 'a' },
		{ "no-add-domains", no_argument, NULL, 'N' },
	};
	struct import_opts o;
	struct import_stats stats;
	struct import_reader *rd = NULL;
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_err err;
	enum import_format fmt;
	const char *file, *what;
	FILE *fp;
	char **pos, *line;
	unsigned long lineno;
	bool progress = cli->io->is_tty(cli, 2), committed = false;
	int npos, ex, r;

	if ((ex = cmd_need_action(cli, "import", import_help, argc, argv,
	    "format", "htpasswd, dovecot-passwd, postfix-map")) != CMD_PARSED)
		return ex;
	if (strcmp(argv[1], "htpasswd") == 0)
		fmt = IMPORT_HTPASSWD;
	else if (strcmp(argv[1], "dovecot-passwd") == 0)
		fmt = IMPORT_DOVECOT_PASSWD;
	else if (strcmp(argv[1], "postfix-map") == 0)
		fmt = IMPORT_POSTFIX_MAP;
	else
		return cli_usage(cli, "import", "unknown format '%s'", argv[1]);
	memset(&o, 0, sizeof(o));
	o.uid_min = cli->conf->uid_min;
	o.gid_min = cli->conf->gid_min;
	ex = cmd_parse(cli, "import", import_help, argc - 1, argv + 1, "", lo,
	    sizeof(lo) / sizeof(lo[0]), import_opt, &o, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 1)
		return cli_usage(cli, "import", npos ? "too many arguments" :
		    "missing FILE");
	if (o.aliases && fmt != IMPORT_POSTFIX_MAP)
		return cli_usage(cli, "import", "--as is for postfix-map");
	file = pos[0];
	what = fmt == IMPORT_POSTFIX_MAP ? (o.aliases ? "alias(es)" :
	    "address(es)") : "user(s)";
	vs_err_clear(&err);
	if ((fp = cli->io->open_input(cli, file, &err)) == NULL)
		return cli_fail_err(cli, &err);
	if ((ex = cli_open_txn(cli, true, &st, &txn)) != EX_VS_OK) {
		cli->io->close_input(cli, fp);
		return ex;
	}
	memset(&stats, 0, sizeof(stats));
	vs_err_clear(&err);
	if (import_reader_new(fp, fmt, &rd) != VS_OK) {
		vs_fail(&err, VS_ENOMEM, "out of memory");
		r = VS_ENOMEM;
		goto fatal;
	}
	for (;;) {
		struct import_user iu;
		struct import_map im;

		vs_err_clear(&err);
		r = import_reader_next(rd, &line, &lineno, &err);
		if (r == 0)
			break;
		if (r == VS_EIO)
			goto fatal;
		stats.lines++;
		if (progress && stats.lines % 1000 == 0)
			fprintf(cli->err, "\rvmseal: import: %lu lines read, "
			    "%lu imported", stats.lines, stats.imported);
		if (r < 0) {
			note_bad(cli, &stats, file, lineno, &err);
			continue;
		}
		if (fmt == IMPORT_POSTFIX_MAP)
			r = import_parse_postfix_map(line, &im, &err);
		else if (fmt == IMPORT_HTPASSWD)
			r = import_parse_htpasswd(line, &iu, &err);
		else
			r = import_parse_dovecot_passwd(line, &iu, &err);
		if (r == 0) {
			stats.lines--;  /* blank or comment: not counted */
			continue;
		}
		if (r > 0) {
			r = fmt == IMPORT_POSTFIX_MAP ?
			    import_map(txn, &im, &o, &stats, &err) :
			    import_user(st, txn, &iu, &o, &stats, &err);
		}
		/* The line buffer may hold a hash: wipe it now. */
		vs_wipe(line, strlen(line));
		if (r == VS_OK) {
			stats.imported++;
			continue;
		}
		if (r == VS_EIO || r == VS_ENOMEM || r == VS_ECORRUPT ||
		    r == VS_ELIMIT)
			goto fatal;     /* the store, not the line */
		note_bad(cli, &stats, file, lineno, &err);
	}
	if (progress && stats.lines >= 1000)
		fprintf(cli->err, "\r\033[K");
	import_reader_free(&rd);
	cli->io->close_input(cli, fp);
	if (stats.skipped > 0 && !o.partial) {
		cli_abort_close(cli, &st, &txn);
	} else {
		/* Recorded in the import's own transaction (lib/audit.h):
		 * counts only, never a line of the file. */
		vs_err_clear(&err);
		r = cli_audit(cli, txn, "import", &err, "%s %s: %lu %s "
		    "imported, %lu bad line(s) skipped, %lu domain(s) added",
		    argv[1], file, stats.imported, what, stats.skipped,
		    stats.domains);
		if (r != VS_OK)
			fprintf(cli->err, "vmseal: %s: import not recorded, "
			    "nothing imported\n", file);
		if ((ex = cli_finish_txn(cli, &st, &txn, true, r, &err)) !=
		    EX_VS_OK) {
			free(stats.bad);
			return ex;
		}
		committed = true;
	}
	print_summary(cli, file, argv[1], &stats, committed, what);
	free(stats.bad);
	return stats.skipped ? EX_VS_BADINPUT : EX_VS_OK;
fatal:
	if (progress)
		fprintf(cli->err, "\n");
	import_reader_free(&rd);
	cli->io->close_input(cli, fp);
	free(stats.bad);
	fprintf(cli->err, "vmseal: %s: line %lu: import stopped, nothing "
	    "imported\n", file, stats.lines);
	return cli_finish_txn(cli, &st, &txn, false, r, &err);
}
