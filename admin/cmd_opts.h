/*
 * cmd_opts.h - option parsing shared by vmseal's subcommands.
 */
#ifndef VS_CMD_OPTS_H
#define VS_CMD_OPTS_H

#include <getopt.h>
#include <stddef.h>

#include "audit.h"
#include "cli.h"

/* Returned by cmd_parse() when parsing went through and the command should
 * run; any other value is an exit code to return at once. */
#define CMD_PARSED (-1)
/* Returned by a cmd_opt_fn that took its option. */
#define CMD_OPT_OK (-1)

typedef int cmd_opt_fn(struct cli *cli, void *ctx, int c, const char *arg);

/* Parse argv (argv[0] is the action or command word) with the common
 * options plus extra; positional arguments are returned in *pos_r. */
/* shortopts: extra short options in getopt form ("o:"), or "". */
int cmd_parse(struct cli *cli, const char *cmd, const char *help, int argc,
    char **argv, const char *shortopts, const struct option *extra, size_t n_extra,
    cmd_opt_fn *on_opt, void *ctx, char ***pos_r, int *npos_r);

/* Room for an audit detail before audit_append() cuts it. */
#define CMD_AUDIT_DETAIL_BUF (AUDIT_DETAIL_MAX + 64)

/* A command whose first word is an action or format ("user add ...",
 * "import htpasswd ..."): CMD_PARSED when argv[1] is there and is not an
 * option; else its help for --help/-h (EX_VS_OK), or a usage error
 * "missing WHAT (CHOICES)". */
int cmd_need_action(struct cli *cli, const char *cmd, const char *help,
    int argc, char **argv, const char *what, const char *choices);
/* CMD_PARSED when min <= n <= max positional arguments, else a usage
 * error ("missing argument", "too many arguments"). */
int cmd_need_args(struct cli *cli, const char *cmd, int n, int min, int max);

#endif
