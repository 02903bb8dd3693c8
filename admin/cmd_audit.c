/*
 * cmd_audit.c - vmseal audit: print or verify the audit trail (lib/audit.h),
 * print the store's head for anchoring (lib/store.h, "The head"), and the
 * helpers every writing command uses to record itself.
 *
 * Recording: a command that changes the store calls cli_audit() in its own
 * write transaction, after the change and before the commit, so the change
 * and its entry land together or not at all; if the entry cannot be
 * written (the trail was tampered with, say) the command fails and changes
 * nothing.
 */
#include "config.h"      /* _GNU_SOURCE: timegm */

#include <stdarg.h>
#include <stdio.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "cmd_opts.h"
#include "json.h"

uint32_t
cli_uid(const struct cli *cli)
{
	/* In the service, the admin socket's peer; offline, ourselves. */
	return cli->svc != NULL ? (uint32_t)cli->peer_uid : (uint32_t)getuid();
}

int
cli_audit(struct cli *cli, struct store_txn *txn, const char *action,
    struct vs_err *err, const char *fmt, ...)
{
	char detail[AUDIT_DETAIL_MAX * 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (n < 0)
		detail[0] = '\0';
	/* Over-long text is cut by audit_append() (with "..."). */
	audit_sanitize(detail);
	return audit_append(txn, cli_uid(cli), action, detail, err);
}

static const char audit_help[] =
"usage: vmseal [-d DIR] audit [--json] [--since TIME]\n"
"       vmseal [-d DIR] audit --verify [--json]\n"
"       vmseal [-d DIR] audit --head [--json]\n"
"\n"
"The audit trail: every administrative action (unseal, seal, domain, user,\n"
"address and alias changes, password changes, import, export, passphrase\n"
"changes, rotate, recover), with its\n"
"time, the operator's uid and what it was done to - never a password or\n"
"a hash.  It is sealed in the store and hash-chained.\n"
"  (no option)    one line per entry: SEQ TIME UID ACTION DETAIL\n"
"                 (tab-separated)\n"
"  --json         an array of objects\n"
"  --since TIME   only entries at or after TIME (UTC): YYYY-MM-DD,\n"
"                 'YYYY-MM-DD HH:MM[:SS]', YYYY-MM-DDTHH:MM:SSZ or seconds\n"
"                 since the epoch\n"
"  --verify       check the chain: a deleted, edited, reordered or added\n"
"                 entry is reported (exit 4) with the first bad entry; and\n"
"                 the trail against the store's head: entries cut or put\n"
"                 back from an older copy (with the audit head) are reported\n"
"  --head         the store's head: GENERATION and HASH (a keyed hash of the\n"
"                 head, which commits to every record and audit entry).\n"
"                 Log it outside the host at every change: a store put back\n"
"                 whole to an older copy shows an older generation, or\n"
"                 another hash for a generation already logged\n";

struct audit_opts {
	bool verify;
	bool head;
	bool has_since;
	int64_t since;
};

/* Parse a UTC time; false if malformed. */
static bool
parse_time(const char *s, int64_t *t_r)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = -1;
	char sep;
	uint64_t v;
	time_t t;

	if (cli_parse_u64(s, (uint64_t)INT64_MAX, &v)) {
		*t_r = (int64_t)v;
		return true;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return false;
	s += n;
	if (*s == ' ' || *s == 'T') {
		sep = *s++;
		n = -1;
		if (sscanf(s, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
			return false;
		s += n;
		if (*s == ':') {
			n = -1;
			if (sscanf(s + 1, "%2d%n", &sec, &n) != 1 || n != 2)
				return false;
			s += 3;
		}
		if (sep == 'T' && *s == 'Z')
			s++;
	}
	if (strcmp(s, " UTC") == 0)
		s += 4;
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || y < 1970)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return false;
	*t_r = (int64_t)t;
	return true;
}

static int
audit_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct audit_opts *o = vctx;

	switch (c) {
	case 'v':
		o->verify = true;
		return CMD_OPT_OK;
	case 'H':
		o->head = true;
		return CMD_OPT_OK;
	case 's':
		if (!parse_time(arg, &o->since))
			return cli_usage(cli, "audit", "--since wants a UTC "
			    "time: YYYY-MM-DD[ HH:MM[:SS]] or seconds since "
			    "the epoch");
		o->has_since = true;
		return CMD_OPT_OK;
	}
	return cli_usage(cli, "audit", "unknown option");
}

struct print_ctx {
	struct cli *cli;
	struct json *j;
	const struct audit_opts *o;
};

static int
print_entry(void *vctx, const struct audit_entry *e, struct vs_err *err)
{
	struct print_ctx *p = vctx;
	char t[64];

	(void)err;
	if (p->o->has_since && e->time < p->o->since)
		return VS_OK;
	if (p->cli->json) {
		json_obj_begin(p->j);
		json_key(p->j, "seq"); json_int(p->j, (int64_t)e->seq);
		json_key(p->j, "time"); json_time(p->j, e->time);
		json_key(p->j, "uid"); json_int(p->j, (int64_t)e->uid);
		json_key(p->j, "action"); json_str(p->j, e->action);
		json_key(p->j, "detail"); json_str(p->j, e->detail);
		json_obj_end(p->j);
		return VS_OK;
	}
	cli_fmt_time(e->time, t, sizeof(t));
	fprintf(p->cli->out, "%llu\t%s\t%lu\t%s\t%s\n",
	    (unsigned long long)e->seq, t, (unsigned long)e->uid, e->action,
	    e->detail);
	return VS_OK;
}

static int
verify(struct cli *cli, struct store *st, struct store_txn *txn)
{
	struct vs_err err;
	struct json j;
	uint64_t bad = 0, n = 0;
	int r;

	vs_err_clear(&err);
	r = audit_verify_count(txn, &bad, &n, &err);
	/* A whole chain can still be an older one put back with its audit
	 * head: the store's head knows how many entries, and which. */
	if (r == VS_OK && (r = store_head_verify(txn, STORE_LOG_AUDIT,
	    &err)) == VS_ENOTFOUND) {
		vs_err_clear(&err);
		r = VS_OK;      /* format 1: no head yet */
	}
	/* And what the unseal found about the rest of the store: a trail
	 * kept with a store whose records were put back is no proof. */
	if (r == VS_OK) {
		struct store_head h;
		const char *problem;

		store_head_of(st, &h, &problem);
		if (problem != NULL)
			r = vs_fail(&err, VS_ECORRUPT, "%s", problem);
	}
	cli_abort_close(cli, &st, &txn);
	if (r != VS_OK && r != VS_ECORRUPT)
		return cli_fail_err(cli, &err);
	if (cli->json) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_key(&j, "verified"); json_bool(&j, r == VS_OK);
		if (r == VS_OK) {
			json_key(&j, "entries"); json_int(&j, (int64_t)n);
		} else {
			json_key(&j, "bad_seq"); json_int(&j, (int64_t)bad);
			json_key(&j, "problem"); json_str(&j, err.msg);
		}
		json_obj_end(&j);
		json_end(&j);
	}
	if (r != VS_OK)
		return cli_fail(cli, VS_ECORRUPT, "audit trail NOT verified: %s",
		    err.msg);
	if (!cli->json)
		fprintf(cli->out, "audit trail verified: %llu entr%s\n",
		    (unsigned long long)n, n == 1 ? "y" : "ies");
	return EX_VS_OK;
}

static int
print_head(struct cli *cli, struct store *st, struct store_txn *txn)
{
	struct store_head h, cached;
	struct vs_err err;
	struct json j;
	const char *problem;
	char hex[STORE_HEAD_HASH_BYTES * 2 + 1];
	int r, ex;

	vs_err_clear(&err);
	r = store_head(txn, &h, &err);
	store_head_of(st, &cached, &problem);
	if (r == VS_OK && problem != NULL)
		r = vs_fail(&err, VS_ECORRUPT, "%s", problem);
	if ((ex = cli_finish_txn(cli, &st, &txn, false, r, &err)) != EX_VS_OK)
		return ex;
	sodium_bin2hex(hex, sizeof(hex), h.hash, sizeof(h.hash));
	if (cli->json) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_key(&j, "present"); json_bool(&j, h.present);
		if (h.present) {
			json_key(&j, "generation");
			json_int(&j, (int64_t)h.generation);
			json_key(&j, "hash"); json_str(&j, hex);
			json_key(&j, "records");
			json_int(&j, (int64_t)h.records);
		}
		json_obj_end(&j);
		json_end(&j);
	} else if (h.present) {
		fprintf(cli->out, "generation %llu\thash %s\trecords %llu\n",
		    (unsigned long long)h.generation, hex,
		    (unsigned long long)h.records);
	} else {
		fprintf(cli->out, "no head yet (a format 1 store: it gets one "
		    "at its next unseal for writing)\n");
	}
	return EX_VS_OK;
}

int
cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "verify", no_argument, NULL, 'v' },
		{ "since", required_argument, NULL, 's' },
		{ "head", no_argument, NULL, 'H' },
	};
	struct audit_opts o = { false, false, false, 0 };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct print_ctx pc;
	struct vs_err err;
	struct json j;
	char **pos;
	int npos, ex, r;

	ex = cmd_parse(cli, "audit", audit_help, argc, argv, "", lo,
	    sizeof(lo) / sizeof(lo[0]), audit_opt, &o, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "audit", "too many arguments");
	if (o.verify && o.has_since)
		return cli_usage(cli, "audit", "--verify checks the whole "
		    "trail: no --since");
	if (o.head && (o.verify || o.has_since))
		return cli_usage(cli, "audit", "--head goes alone");
	if ((ex = cli_open_txn(cli, false, &st, &txn)) != EX_VS_OK)
		return ex;
	if (o.verify)
		return verify(cli, st, txn);
	if (o.head)
		return print_head(cli, st, txn);
	vs_err_clear(&err);
	json_init(&j, cli->out);
	pc.cli = cli;
	pc.j = &j;
	pc.o = &o;
	if (cli->json)
		json_arr_begin(&j);
	r = audit_each(txn, print_entry, &pc, &err);
	if (cli->json) {
		json_arr_end(&j);
		json_end(&j);
	}
	return cli_finish_txn(cli, &st, &txn, false, r, &err);
}
