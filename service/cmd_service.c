/*
 * cmd_service.c - vmseal unseal, seal and status: the commands that run
 * only inside vmsealed (sent over the admin socket, service/admin.c).  They
 * reach the service through cli->svc; their help texts and the answer when
 * no service runs live with the command table (admin/cli_dispatch.c).
 */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "cmd_opts.h"
#include "prompt.h"

static int
cmd_unseal(struct cli *cli, int argc, char **argv)
{
	struct secret sec = { NULL, 0, 0 };
	struct vs_err err;
	char **pos;
	bool recovery;
	int npos, ex, r;

	ex = cmd_parse(cli, "unseal", cli_help_unseal, argc, argv, "", NULL, 0,
	    NULL, NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "unseal", "too many arguments");
	vs_err_clear(&err);
	r = cli_read_unseal_secret(cli, &sec, &recovery, &err);
	if (r == VS_OK)
		r = cli->svc->unseal(cli, sec.s, sec.len, recovery, &err);
	prompt_free(&sec);
	if (r != VS_OK)
		return cli_fail_err(cli, &err);
	fprintf(cli->out, "unsealed\n");
	fprintf(cli->err, "vmseal: hint: run 'postfix reload' so that smtpd "
	    "processes forget the lookups that failed while sealed\n");
	return EX_VS_OK;
}

static int
cmd_seal(struct cli *cli, int argc, char **argv)
{
	char **pos;
	int npos, ex;

	ex = cmd_parse(cli, "seal", cli_help_seal, argc, argv, "", NULL, 0, NULL,
	    NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "seal", "too many arguments");
	cli->svc->seal(cli);
	fprintf(cli->out, "sealed\n");
	return EX_VS_OK;
}

static int
cmd_status(struct cli *cli, int argc, char **argv)
{
	char **pos;
	int npos, ex;

	ex = cmd_parse(cli, "status", cli_help_status, argc, argv, "", NULL, 0,
	    NULL, NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "status", "too many arguments");
	cli->svc->status(cli, cli->json);
	return EX_VS_OK;
}

const struct cli_command svc_commands[] = {
	{ "unseal", cmd_unseal },
	{ "seal", cmd_seal },
	{ "status", cmd_status },
	{ NULL, NULL },
};
