/*
 * cmd_opts.c - option and argument parsing shared by vmseal's subcommands
 * (see cmd_opts.h).  Nothing here touches the store; every refusal is a
 * usage error (exit 2) printed on cli->err.
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cmd_opts.h"

/* getopt keeps its state in globals; in vmsealed several admin sessions
 * may parse at once, so parsing is done under one lock. */
static pthread_mutex_t getopt_mu = PTHREAD_MUTEX_INITIALIZER;

static int parse_locked(struct cli *, const char *, const char *, int,
    char **, const char *, const struct option *, size_t, cmd_opt_fn *,
    void *, char ***, int *);

int
cmd_parse(struct cli *cli, const char *cmd, const char *help, int argc,
    char **argv, const char *shortopts, const struct option *extra,
    size_t n_extra,
    cmd_opt_fn *on_opt, void *ctx, char ***pos_r, int *npos_r)
{
	int r;

	pthread_mutex_lock(&getopt_mu);
	r = parse_locked(cli, cmd, help, argc, argv, shortopts, extra,
	    n_extra, on_opt, ctx, pos_r, npos_r);
	pthread_mutex_unlock(&getopt_mu);
	return r;
}

static int
parse_locked(struct cli *cli, const char *cmd, const char *help, int argc,
    char **argv, const char *shortopts, const struct option *extra,
    size_t n_extra, cmd_opt_fn *on_opt, void *ctx, char ***pos_r,
    int *npos_r)
{
	struct option lo[64] = { CLI_COMMON_LONGOPTS };
	char optstring[32];
	size_t nlo = 4, i;
	int c, ex;

	for (i = 0; i < n_extra && nlo < 63; i++)
		lo[nlo++] = extra[i];
	memset(&lo[nlo], 0, sizeof(lo[nlo]));
	optind = 0;     /* glibc: full re-initialisation */
	opterr = 0;
	/* GNU permutation: options may follow the positional arguments, as in
	 * "user add LOGIN --address ADDR". */
	snprintf(optstring, sizeof(optstring), ":h%s", shortopts);
	while ((c = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, cli->out);
			return EX_VS_OK;
		}
		if (c == '?')
			return cli_usage(cli, cmd, "unknown option '%s'",
			    argv[optind - 1]);
		if (c == ':')
			return cli_usage(cli, cmd, "option '%s' needs a value",
			    argv[optind - 1]);
		if (cli_common_opt(cli, c, optarg, &ex)) {
			if (ex >= 0)
				return ex;
			continue;
		}
		if (on_opt == NULL ||
		    (ex = on_opt(cli, ctx, c, optarg)) != CMD_OPT_OK)
			return ex == CMD_OPT_OK ? EX_VS_USAGE : ex;
	}
	*pos_r = argv + optind;
	*npos_r = argc - optind;
	return CMD_PARSED;
}


int
cmd_need_action(struct cli *cli, const char *cmd, const char *help, int argc,
    char **argv, const char *what, const char *choices)
{
	if (argc >= 2 && argv[1][0] != '-')
		return CMD_PARSED;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(help, cli->out);
		return EX_VS_OK;
	}
	return cli_usage(cli, cmd, "missing %s (%s)", what, choices);
}

int
cmd_need_args(struct cli *cli, const char *cmd, int n, int min, int max)
{
	if (n < min)
		return cli_usage(cli, cmd, "missing argument");
	if (n > max)
		return cli_usage(cli, cmd, "too many arguments");
	return CMD_PARSED;
}
