/*
 * vmseal.c - the operator command: global options and dispatch.
 *
 *   vmseal [-d STOREDIR | --store LOCATION] COMMAND [ARGS...]
 *
 * The store: --store LOCATION (lmdb:DIR, postgresql:CONNINFO; store.h),
 * else -d DIR (= lmdb:DIR), else "store" in vmseal.conf, else
 * "store_dir".  A CONNINFO may hold a password: it is passed to libpq and
 * shown nowhere (cli_where()); libpq's passfile keeps it out of argv.
 *
 * Online mode (vmsealed answers on SOCKET_DIR/admin): the command runs
 * inside the service, on its unsealed store (helper/cli_client.c).
 * Offline mode (no service, or --offline): the command opens the store
 * itself and asks for the passphrase (terminal without echo, or
 * --passphrase-fd N).  Secrets never come from argv or the environment.
 * Core dumps are disabled before any secret is read, and the umask is 077
 * before anything is created (a store, a backup, an export).
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <sodium.h>

#include "cli.h"
#include "conf.h"

static const char usage_text[] =
"usage: vmseal [-d STOREDIR | --store LOCATION] [-c CONFIG] [-s SOCKETDIR]\n"
"              [--offline] COMMAND [ARGS...]\n"
"\n"
"Manage vmseal's encrypted store of virtual mail users.\n"
"\n"
"Commands:\n"
"  init                      create a new store (prints the recovery key once)\n"
"  unseal, seal, status      give the running vmsealed its key, take it back,\n"
"                            show its state\n"
"  domain add|del|list|show  hosted domains\n"
"  user add|del|show|list|passwd|disable|enable|set\n"
"                            users (login, password, home, uid, gid, mail, quota)\n"
"  app-password add|list|del a device's own password, limited to services\n"
"  mail-key enable|status    users' mail keys (Dovecot's mail_crypt)\n"
"  address add|del|list|show mailbox addresses (address -> user)\n"
"  alias add|del|list|show   aliases (address or @domain -> destinations)\n"
"  import htpasswd|dovecot-passwd|postfix-map FILE\n"
"                            take over a plaintext setup\n"
"  export                    write users/maps in a plaintext format\n"
"  stats                     the attack report (failed and throttled logins)\n"
"  throttle list|clear       what vmsealed's throttle blocks now\n"
"  audit [--verify|--head]   the operators' actions, hash-chained; the\n"
"                            store's head (to log it outside the store)\n"
"  passphrase list|add|change|remove  passphrase key slots\n"
"  rotate, recover           a new root key; a new passphrase from the\n"
"                            recovery key (offline)\n"
"  backup DEST, verify [DIR] hot sealed copy; check every record\n"
"  migrate --to LOCATION     copy the whole store to another location\n"
"                            (LMDB <-> PostgreSQL; offline)\n"
"\n"
"Global options:\n"
"  -d, --store-dir DIR   store folder (default " STORE_DEFAULT_DIR ")\n"
"  --store LOCATION      the store: lmdb:DIR (= -d DIR) or\n"
"                        postgresql:CONNINFO (libpq key=value or URI;\n"
"                        a password in it is never shown)\n"
"  -c, --config FILE     configuration (default " CONF_DEFAULT_PATH ")\n"
"  -s, --socket-dir DIR  vmsealed's sockets (default " CONF_DEFAULT_SOCKET_DIR ")\n"
"  --offline             never go through vmsealed: open the store here\n"
"  -h, --help            this help; 'vmseal COMMAND --help' for a command\n"
"  -V, --version         print the version\n"
"\n"
"Options every command takes (before or after the command):\n"
"  --passphrase-fd N     read the passphrase from descriptor N (one line)\n"
"  --recovery-key-fd N   unseal with the recovery key read from descriptor N\n"
"  --json                machine-readable output (list, show, import,\n"
"                        export, status, stats, audit, throttle, verify)\n"
"\n"
"Exit codes: 0 ok, 1 not found, 2 usage/invalid input, 3 wrong passphrase\n"
"or key, 4 store error, 5 conflict (exists/in use), 6 bad import lines.\n"
"\n"
"When vmsealed runs (its admin socket answers), every command runs inside\n"
"it, on its unsealed store, without asking for the passphrase; otherwise\n"
"the command opens the store itself and asks for it.\n"
"See vmseal(8).\n";

static void
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
#ifdef HAVE_SYS_PRCTL_H
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

/* Forward the global options that commands read to the service. */
static char **
forward_argv(const struct cli *cli, int argc, char **argv, int *argc_r)
{
	static char pfd[16], rfd[16];
	char **v = calloc((size_t)argc + 6, sizeof(char *));
	int n = 0, i;

	if (v == NULL)
		return NULL;
	for (i = 0; i < argc; i++)
		v[n++] = argv[i];
	if (cli->json)
		v[n++] = "--json";
	if (cli->passphrase_fd >= 0) {
		snprintf(pfd, sizeof(pfd), "%d", cli->passphrase_fd);
		v[n++] = "--passphrase-fd";
		v[n++] = pfd;
	}
	if (cli->recovery_key_fd >= 0) {
		snprintf(rfd, sizeof(rfd), "%d", cli->recovery_key_fd);
		v[n++] = "--recovery-key-fd";
		v[n++] = rfd;
	}
	*argc_r = n;
	return v;
}

static bool
asks_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "store-dir", required_argument, NULL, 'd' },
		{ "store", required_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'c' },
		{ "socket-dir", required_argument, NULL, 's' },
		{ "offline", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ "recovery-key-fd", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static struct vs_conf conf;
	const char *config_path = NULL, *dir = NULL, *sockdir = NULL;
	const char *loc = NULL;
	struct vs_err err;
	struct cli cli;
	int c, ex, r;

	/* Whatever vmseal creates is the operator's alone (files that must
	 * be shared get their mode set explicitly). */
	umask(077);
	memset(&cli, 0, sizeof(cli));
	cli.prog = "vmseal";
	cli.passphrase_fd = -1;
	cli.recovery_key_fd = -1;
	cli.out = stdout;
	cli.err = stderr;
	cli.io = &cli_io_local;

	no_core_dumps();
	/* A refused admin connection may be closed before our request is
	 * written: read the service's answer instead of dying of SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fprintf(stderr, "vmseal: cannot initialise libsodium\n");
		return EX_VS_STORE;
	}
	/* '+': stop at the first non-option (the command). */
	while ((c = getopt_long(argc, argv, "+d:c:s:hV", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'S':
			loc = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 's':
			sockdir = optarg;
			break;
		case 'O':
			cli.offline = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EX_VS_OK;
		case 'V':
			printf("vmseal %s\n", PACKAGE_VERSION);
			return EX_VS_OK;
		case 'P':
		case 'R':
		case 'j':
			cli_common_opt(&cli, c, optarg, &ex);
			if (ex >= 0)
				return ex;
			break;
		default:
			fputs("Try 'vmseal --help'.\n", stderr);
			return EX_VS_USAGE;
		}
	}
	conf_defaults(&conf);
	vs_err_clear(&err);
	r = conf_load(&conf, config_path ? config_path : CONF_DEFAULT_PATH,
	    &err);
	if (r != VS_OK && (r != VS_ENOTFOUND || config_path != NULL)) {
		fprintf(stderr, "vmseal: %s\n", err.msg);
		return EX_VS_USAGE;
	}
	cli.conf = &conf;
	if (dir != NULL && loc != NULL) {
		fputs("vmseal: -d and --store both name the store: give one\n"
		    "Try 'vmseal --help'.\n", stderr);
		return EX_VS_USAGE;
	}
	cli.dir = loc ? loc : dir ? dir : conf_store_location(&conf);
	cli.socket_dir = sockdir ? sockdir : conf.socket_dir;
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EX_VS_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		fputs(usage_text, stdout);
		return EX_VS_OK;
	}
	if (!cli.offline && !cli_command_is_local_only(argv[optind]) &&
	    !asks_help(argc - optind, argv + optind)) {
		int fargc;
		char **fargv = forward_argv(&cli, argc - optind, argv + optind,
		    &fargc);

		cli.dir_explicit = dir != NULL || loc != NULL;
		if (fargv != NULL && cli_client_run(&cli, fargc, fargv, &ex)) {
			free(fargv);
			fflush(stdout);
			return ex;
		}
		free(fargv);
	}
	ex = cli_run(&cli, argc - optind, argv + optind);      /* retries */
	if (cli.last_passphrase.s != NULL)
		sodium_free(cli.last_passphrase.s);     /* wipes */
	if (fflush(stdout) != 0 && ex == EX_VS_OK) {
		fprintf(stderr, "vmseal: cannot write output\n");
		ex = EX_VS_STORE;
	}
	return ex;
}
