/*
 * cmd_service.c - vmseal unseal, seal and status: commands that talk to
 * the running vmsealed (they run inside it, through the admin socket).
 */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "cmd_opts.h"
#include "prompt.h"

static const char unseal_help[] =
"usage: vmseal [--socket-dir DIR] unseal [--passphrase-fd N | --recovery-key-fd N]\n"
"\n"
"Give the running vmsealed its key: the passphrase is asked on this terminal\n"
"(without echo) or read from descriptor N, and sent over the admin socket.\n"
"The service derives the key and from then on answers lookups.\n";

static const char seal_help[] =
"usage: vmseal [--socket-dir DIR] seal\n"
"\n"
"Make the running vmsealed wipe its key at once.  From then on every\n"
"lookup is answered 'temporary failure' (mail is deferred, never bounced)\n"
"until someone unseals it again.\n";

static const char status_help[] =
"usage: vmseal [--socket-dir DIR] status [--json]\n"
"\n"
"Show whether vmsealed runs, whether it is sealed, its uptime, store and\n"
"sockets, the store's counts and the open connections.  Exit status 0\n"
"when the service answered (sealed or not), 4 when no service answers.\n";

static int
no_service(struct cli *cli)
{
	return cli_fail(cli, VS_EIO, "no vmsealed answers on %s/admin "
	    "(is it running? see --socket-dir)", cli->socket_dir);
}

int
cmd_unseal(struct cli *cli, int argc, char **argv)
{
	struct secret sec = { NULL, 0, 0 };
	struct vs_err err;
	char **pos;
	bool recovery;
	int npos, ex, r;

	ex = cmd_parse(cli, "unseal", unseal_help, argc, argv, "", NULL, 0,
	    NULL, NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "unseal", "too many arguments");
	if (cli->svc == NULL)
		return no_service(cli);
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

int
cmd_seal(struct cli *cli, int argc, char **argv)
{
	char **pos;
	int npos, ex;

	ex = cmd_parse(cli, "seal", seal_help, argc, argv, "", NULL, 0, NULL,
	    NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "seal", "too many arguments");
	if (cli->svc == NULL)
		return no_service(cli);
	cli->svc->seal(cli);
	fprintf(cli->out, "sealed\n");
	return EX_VS_OK;
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	char **pos;
	int npos, ex;

	ex = cmd_parse(cli, "status", status_help, argc, argv, "", NULL, 0,
	    NULL, NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "status", "too many arguments");
	if (cli->svc == NULL) {
		if (cli->json)
			fprintf(cli->out, "{\"running\":false}\n");
		else
			fprintf(cli->out, "vmsealed: not running\n");
		return no_service(cli);
	}
	cli->svc->status(cli, cli->json);
	return EX_VS_OK;
}
