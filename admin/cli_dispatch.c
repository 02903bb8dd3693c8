/*
 * cli_dispatch.c - the table of vmseal commands, shared by the vmseal
 * binary (offline mode) and vmsealed (commands sent over the admin socket).
 */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "cmd_opts.h"

const char cli_help_unseal[] =
"usage: vmseal [--socket-dir DIR] unseal [--passphrase-fd N | --recovery-key-fd N]\n"
"\n"
"Give the running vmsealed its key: the passphrase is asked on this terminal\n"
"(without echo) or read from descriptor N, and sent over the admin socket.\n"
"The service derives the key and from then on answers lookups.\n";

const char cli_help_seal[] =
"usage: vmseal [--socket-dir DIR] seal\n"
"\n"
"Make the running vmsealed wipe its key at once.  From then on every\n"
"lookup is answered 'temporary failure' (mail is deferred, never bounced)\n"
"until someone unseals it again.\n";

const char cli_help_status[] =
"usage: vmseal [--socket-dir DIR] status [--json]\n"
"\n"
"Show whether vmsealed runs, whether it is sealed, its uptime, store and\n"
"sockets, the store's counts and the open connections.  Exit status 0\n"
"when the service answered (sealed or not), 4 when no service answers.\n";

/*
 * unseal, seal and status outside the service (service/cmd_service.c runs
 * them inside): options and --help as there, then "no service".
 */
static int
cmd_no_service(struct cli *cli, int argc, char **argv)
{
	const char *help = strcmp(argv[0], "unseal") == 0 ? cli_help_unseal :
	    strcmp(argv[0], "seal") == 0 ? cli_help_seal : cli_help_status;
	char **pos;
	int npos, ex;

	ex = cmd_parse(cli, argv[0], help, argc, argv, "", NULL, 0, NULL,
	    NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, argv[0], "too many arguments");
	if (strcmp(argv[0], "status") == 0) {
		if (cli->json)
			fprintf(cli->out, "{\"running\":false}\n");
		else
			fprintf(cli->out, "vmsealed: not running\n");
	}
	return cli_fail(cli, VS_EIO, "no vmsealed answers on %s/admin "
	    "(is it running? see --socket-dir)", cli->socket_dir);
}

static const struct cli_command commands[] = {
	{ "init", cmd_init },
	{ "unseal", cmd_no_service },
	{ "seal", cmd_no_service },
	{ "status", cmd_no_service },
	{ "domain", cmd_domain },
	{ "user", cmd_user },
	{ "app-password", cmd_apppw },
	{ "mail-key", cmd_mailkey },
	{ "address", cmd_address },
	{ "alias", cmd_alias },
	{ "import", cmd_import },
	{ "export", cmd_export },
	{ "audit", cmd_audit },
	{ "stats", cmd_stats },
	{ "throttle", cmd_throttle },
	{ "passphrase", cmd_passphrase },
	{ "rotate", cmd_rotate },
	{ "recover", cmd_recover },
	{ "backup", cmd_backup },
	{ "verify", cmd_verify },
	{ "migrate", cmd_migrate },
};

bool
cli_command_is_local_only(const char *cmd)
{
	/* init creates a store: there is no service for it yet. */
	/* backup and verify open the files read-only themselves (no lock:
	 * they work while vmsealed runs); migrate copies the store to
	 * another location, offline (admin/cmd_migrate.c). */
	return strcmp(cmd, "init") == 0 || strcmp(cmd, "help") == 0 ||
	    strcmp(cmd, "backup") == 0 || strcmp(cmd, "verify") == 0 ||
	    strcmp(cmd, "migrate") == 0;
}

int
cli_dispatch(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *c;
	size_t i;

	if (cli->svc != NULL && cli->svc->commands != NULL)
		for (c = cli->svc->commands; c->name != NULL; c++)
			if (strcmp(argv[0], c->name) == 0)
				return c->fn(cli, argc, argv);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(cli, argc, argv);
	fprintf(cli->err, "%s: unknown command '%s'\nTry 'vmseal --help'.\n",
	    cli->prog, argv[0]);
	return EX_VS_USAGE;
}
