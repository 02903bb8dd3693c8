/*
 * cli_dispatch.c - the table of vmseal commands, shared by the vmseal
 * binary (offline mode) and vmsealed (commands sent over the admin socket).
 */
#include "config.h"

#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	cli_cmd_fn *fn;
} commands[] = {
	{ "init", cmd_init },
	{ "unseal", cmd_unseal },
	{ "seal", cmd_seal },
	{ "status", cmd_status },
	{ "domain", cmd_domain },
	{ "user", cmd_user },
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
};

bool
cli_command_is_local_only(const char *cmd)
{
	/* init creates a store: there is no service for it yet. */
	/* backup and verify open the files read-only themselves (no lock:
	 * they work while vmsealed runs). */
	return strcmp(cmd, "init") == 0 || strcmp(cmd, "help") == 0 ||
	    strcmp(cmd, "backup") == 0 || strcmp(cmd, "verify") == 0;
}

int
cli_dispatch(struct cli *cli, int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(cli, argc, argv);
	fprintf(cli->err, "%s: unknown command '%s'\nTry 'vmseal --help'.\n",
	    cli->prog, argv[0]);
	return EX_VS_USAGE;
}
