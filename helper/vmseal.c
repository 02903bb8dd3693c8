/*
 * vmseal.c - the operator command: global options and dispatch.
 *
 *   vmseal [-d STOREDIR] COMMAND [ARGS...]
 *
 * Offline mode: the command opens the store itself and asks for the
 * passphrase (terminal without echo, or --passphrase-fd N).  Secrets never
 * come from argv or the environment.  Core dumps are disabled before any
 * secret is read.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <sodium.h>

#include "cli.h"

static const char usage_text[] =
"usage: vmseal [-d STOREDIR] COMMAND [ARGS...]\n"
"\n"
"Manage vmseal's encrypted store of virtual mail users.\n"
"\n"
"Commands:\n"
"  init                      create a new store (prints the recovery key once)\n"
"  domain add|del|list|show  hosted domains\n"
"  user add|del|show|list|passwd|disable|enable|set\n"
"                            users (login, password, home, uid, gid, mail, quota)\n"
"  address add|del|list|show mailbox addresses (address -> user)\n"
"  alias add|del|list|show   aliases (address or @domain -> destinations)\n"
"  import htpasswd|dovecot-passwd|postfix-map FILE\n"
"                            take over a plaintext setup\n"
"  export                    write users/maps in a plaintext format\n"
"\n"
"Global options:\n"
"  -d, --store-dir DIR   store folder (default " STORE_DEFAULT_DIR ")\n"
"  -h, --help            this help; 'vmseal COMMAND --help' for a command\n"
"  -V, --version         print the version\n"
"\n"
"Options every command takes (before or after the command):\n"
"  --passphrase-fd N     read the passphrase from descriptor N (one line)\n"
"  --recovery-key-fd N   unseal with the recovery key read from descriptor N\n"
"  --json                machine-readable output (list, show, import)\n"
"\n"
"Exit codes: 0 ok, 1 not found, 2 usage/invalid input, 3 wrong passphrase\n"
"or key, 4 store error, 5 conflict (exists/in use), 6 bad import lines.\n"
"See vmseal(8).\n";

static const struct {
	const char *name;
	cli_cmd_fn *fn;
} commands[] = {
	{ "init", cmd_init },
	{ "domain", cmd_domain },
	{ "user", cmd_user },
	{ "address", cmd_address },
	{ "alias", cmd_alias },
	{ "import", cmd_import },
	{ "export", cmd_export },
};

static void
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
#ifdef HAVE_SYS_PRCTL_H
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "store-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ "recovery-key-fd", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli cli;
	size_t i;
	int c;

	memset(&cli, 0, sizeof(cli));
	cli.prog = "vmseal";
	cli.dir = STORE_DEFAULT_DIR;
	cli.passphrase_fd = -1;
	cli.recovery_key_fd = -1;

	no_core_dumps();
	if (sodium_init() < 0) {
		fprintf(stderr, "vmseal: cannot initialise libsodium\n");
		return EX_VS_STORE;
	}
	/* '+': stop at the first non-option (the command). */
	while ((c = getopt_long(argc, argv, "+d:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cli.dir = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EX_VS_OK;
		case 'V':
			printf("vmseal %s\n", PACKAGE_VERSION);
			return EX_VS_OK;
		case 'P':
		case 'R':
		case 'j': {
			int ex;

			cli_common_opt(&cli, c, optarg, &ex);
			if (ex >= 0)
				return ex;
			break;
		}
		default:
			fputs("Try 'vmseal --help'.\n", stderr);
			return EX_VS_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EX_VS_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		fputs(usage_text, stdout);
		return EX_VS_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int ex;

			ex = commands[i].fn(&cli, argc - optind, argv + optind);
			if (fflush(stdout) != 0 && ex == EX_VS_OK) {
				fprintf(stderr, "vmseal: cannot write output\n");
				ex = EX_VS_STORE;
			}
			return ex;
		}
	}
	fprintf(stderr, "vmseal: unknown command '%s'\nTry 'vmseal --help'.\n",
	    argv[optind]);
	return EX_VS_USAGE;
}
