/*
 * cmd_stats.c - vmseal stats (the attack report) and vmseal throttle
 * (what is blocked now, and lifting a block).
 *
 * stats reads the sealed event log (lib/events.h), offline or through the
 * service; throttle talks to the running service's throttle tables.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_opts.h"
#include "events.h"
#include "json.h"

static const char stats_help[] =
"usage: vmseal stats [--since TIME] [--json] [--top N]\n"
"\n"
"The attack report from the log of failed and throttled logins: per client\n"
"address, first and last attempt, duration, attempts, how many were\n"
"throttled, the share aimed at root/admin-like names, the valid names\n"
"tried (with counts), the number of distinct invalid names and the most\n"
"tried names; then totals.  TIME: seconds since the epoch, or a duration\n"
"back from now such as 30m, 12h, 7d.  --top N: at most N most-tried names\n"
"per address (default 5).\n";

static const char throttle_help[] =
"usage: vmseal throttle list [--json]\n"
"       vmseal throttle clear ADDRESS|LOGIN|h:HASH\n"
"\n"
"Show the addresses (IPv4, or IPv6 /64) and logins with recent failed\n"
"logins in vmsealed's throttle, and which are blocked.  A login is counted\n"
"under its canonical name (any spelling or address of the user); with\n"
"log_names = hashed the list shows the h:HASH it is logged as.  'clear'\n"
"lifts a block at once, by address, by any spelling of the login, or by\n"
"its h:HASH.  Needs the running service.\n";

struct stats_opts {
	int64_t since;
	unsigned top;
};

static bool
parse_time(const char *s, int64_t *out)
{
	uint64_t v;
	size_t n = strlen(s);
	int64_t mult = 0;
	char num[32];

	if (n == 0 || n >= sizeof(num))
		return false;
	switch (s[n - 1]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	}
	memcpy(num, s, n + 1);
	if (mult)
		num[n - 1] = '\0';
	if (!cli_parse_u64(num, (uint64_t)1 << 40, &v))
		return false;
	*out = mult ? (int64_t)time(NULL) - (int64_t)v * mult : (int64_t)v;
	return true;
}

static int
stats_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct stats_opts *o = vctx;
	uint64_t v;

	if (c == 's') {
		if (!parse_time(arg, &o->since))
			return cli_usage(cli, "stats", "--since wants seconds "
			    "since the epoch or a duration like 12h");
		return CMD_OPT_OK;
	}
	if (c == 't') {
		if (!cli_parse_u64(arg, 1000, &v))
			return cli_usage(cli, "stats", "--top wants a number");
		o->top = (unsigned)v;
		return CMD_OPT_OK;
	}
	return cli_usage(cli, "stats", "unknown option");
}

static void
print_json(struct cli *cli, const struct report *r, unsigned top)
{
	struct json j;
	size_t i, k;
	unsigned shown;

	json_init(&j, cli->out);
	json_obj_begin(&j);
	json_key(&j, "attempts"); json_int(&j, r->attempts);
	json_key(&j, "throttled"); json_int(&j, r->throttled);
	json_key(&j, "at_admin_names"); json_int(&j, r->at_admin);
	json_key(&j, "first"); json_time(&j, r->first);
	json_key(&j, "last"); json_time(&j, r->last);
	json_key(&j, "addresses");
	json_arr_begin(&j);
	for (i = 0; i < r->n; i++) {
		const struct report_addr *a = &r->addrs[i];

		json_obj_begin(&j);
		json_key(&j, "address"); json_str(&j, a->ip);
		json_key(&j, "first"); json_time(&j, a->first);
		json_key(&j, "last"); json_time(&j, a->last);
		json_key(&j, "duration_seconds");
		json_int(&j, a->last - a->first);
		json_key(&j, "attempts"); json_int(&j, a->attempts);
		json_key(&j, "throttled"); json_int(&j, a->throttled);
		json_key(&j, "at_admin_names"); json_int(&j, a->at_admin);
		json_key(&j, "valid_names");
		json_obj_begin(&j);
		for (k = 0; k < a->n_names; k++)
			if (a->names[k].valid) {
				json_key(&j, a->names[k].name);
				json_int(&j, a->names[k].count);
			}
		json_obj_end(&j);
		json_key(&j, "invalid_names_distinct");
		json_int(&j, a->invalid_distinct);
		json_key(&j, "most_tried");
		json_arr_begin(&j);
		for (k = 0, shown = 0; k < a->n_names && shown < top; k++,
		    shown++) {
			json_obj_begin(&j);
			json_key(&j, "name"); json_str(&j, a->names[k].name);
			json_key(&j, "count"); json_int(&j, a->names[k].count);
			json_key(&j, "valid"); json_bool(&j, a->names[k].valid);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

static void
print_text(struct cli *cli, const struct report *r, unsigned top)
{
	char t1[64], t2[64];
	size_t i, k;
	unsigned shown;

	if (r->attempts == 0) {
		fprintf(cli->out, "no failed logins recorded\n");
		return;
	}
	for (i = 0; i < r->n; i++) {
		const struct report_addr *a = &r->addrs[i];

		cli_fmt_time(a->first, t1, sizeof(t1));
		cli_fmt_time(a->last, t2, sizeof(t2));
		fprintf(cli->out, "%s\n", a->ip);
		fprintf(cli->out, "  first attempt     %s\n", t1);
		fprintf(cli->out, "  last attempt      %s\n", t2);
		fprintf(cli->out, "  duration          %lld min %lld s\n",
		    (long long)(a->last - a->first) / 60,
		    (long long)(a->last - a->first) % 60);
		fprintf(cli->out, "  attempts          %u (throttled %u)\n",
		    a->attempts, a->throttled);
		fprintf(cli->out, "  aimed at root/admin %u (%.1f %%)\n",
		    a->at_admin, 100.0 * a->at_admin / a->attempts);
		fprintf(cli->out, "  valid names tried ");
		for (k = 0, shown = 0; k < a->n_names; k++)
			if (a->names[k].valid)
				fprintf(cli->out, "%s%s (%u)", shown++ ? ", " :
				    "", a->names[k].name, a->names[k].count);
		fprintf(cli->out, "%s\n", shown ? "" : "none");
		fprintf(cli->out, "  invalid names     %u distinct\n",
		    a->invalid_distinct);
		fprintf(cli->out, "  most tried        ");
		for (k = 0, shown = 0; k < a->n_names && shown < top; k++,
		    shown++)
			fprintf(cli->out, "%s%s (%u)", shown ? ", " : "",
			    a->names[k].name, a->names[k].count);
		fprintf(cli->out, "\n");
	}
	cli_fmt_time(r->first, t1, sizeof(t1));
	cli_fmt_time(r->last, t2, sizeof(t2));
	fprintf(cli->out, "total: %u attempts from %zu address(es), %u "
	    "throttled, %u (%.1f %%) aimed at root/admin, %s to %s\n",
	    r->attempts, r->n, r->throttled, r->at_admin,
	    100.0 * r->at_admin / r->attempts, t1, t2);
}

int
cmd_stats(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "since", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 't' },
	};
	struct stats_opts o = { 0, 5 };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct report r;
	struct vs_err err;
	char **pos;
	int npos, ex, rc;

	ex = cmd_parse(cli, "stats", stats_help, argc, argv, "", lo, 2,
	    stats_opt, &o, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "stats", "too many arguments");
	if ((ex = cli_open_txn(cli, false, &st, &txn)) != EX_VS_OK)
		return ex;
	vs_err_clear(&err);
	/* A read: closed before printing (in the service an open store
	 * holds the key lock). */
	rc = report_build(txn, o.since, &r, &err);
	if ((ex = cli_finish_txn(cli, &st, &txn, false, rc, &err)) !=
	    EX_VS_OK)
		return ex;
	if (cli->json)
		print_json(cli, &r, o.top);
	else
		print_text(cli, &r, o.top);
	report_free(&r);
	return EX_VS_OK;
}

int
cmd_throttle(struct cli *cli, int argc, char **argv)
{
	char **pos;
	int npos, ex;

	if ((ex = cmd_need_action(cli, "throttle", throttle_help, argc, argv,
	    "action", "list, clear")) != CMD_PARSED)
		return ex;
	ex = cmd_parse(cli, "throttle", throttle_help, argc - 1, argv + 1, "",
	    NULL, 0, NULL, NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "clear") != 0)
		return cli_usage(cli, "throttle", "unknown action '%s'",
		    argv[1]);
	if (npos != (strcmp(argv[1], "clear") == 0 ? 1 : 0))
		return cli_usage(cli, "throttle", "wrong number of arguments");
	if (cli->svc == NULL || cli->svc->throttle_list == NULL)
		return cli_fail(cli, VS_EIO, "the throttle lives in vmsealed: "
		    "no service answers on %s/admin", cli->socket_dir);
	if (strcmp(argv[1], "list") == 0) {
		cli->svc->throttle_list(cli, cli->json);
		return EX_VS_OK;
	}
	if (!cli->svc->throttle_clear(cli, pos[0]))
		return cli_fail(cli, VS_ENOTFOUND, "%s is not in the throttle",
		    pos[0]);
	fprintf(cli->out, "cleared %s\n", pos[0]);
	return EX_VS_OK;
}
