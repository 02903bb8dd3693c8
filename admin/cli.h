/*
 * cli.h - shared pieces of the vmseal operator command.
 *
 * Exit codes (documented in vmseal(8)):
 *   0 success             1 not found          2 usage or invalid input
 *   3 wrong passphrase/key 4 store error (I/O, corrupt, busy, no memory)
 *   5 conflict (already exists, still in use)
 *   6 import: some lines were bad (nothing imported without --partial)
 */
#ifndef VS_CLI_H
#define VS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "conf.h"
#include "store.h"
#include "vs_err.h"

enum {
	EX_VS_OK = 0,
	EX_VS_NOTFOUND = 1,
	EX_VS_USAGE = 2,
	EX_VS_BADKEY = 3,
	EX_VS_STORE = 4,
	EX_VS_CONFLICT = 5,
	EX_VS_BADINPUT = 6,
};

struct cli;
struct secret;

/*
 * Everything a command does outside its own logic goes through cli_io, so
 * that one implementation of every command serves both modes:
 *   local   (cli_io_local, cli_util.c): the operator's own terminal,
 *           descriptors and files; the store opened and unsealed here;
 *   service (service/admin.c): the command runs inside vmsealed on its
 *           unsealed store, and every secret, input file, output file and
 *           terminal question is asked of the vmseal client at the other
 *           end of the admin socket, which answers only for descriptors and
 *           files named on its own command line.
 */
struct cli_io {
	/* A secret from descriptor fd (>= 0) or the terminal (fd < 0). */
	int (*secret)(struct cli *cli, int fd, const char *prompt,
	    const char *what, bool confirm, struct secret *out,
	    struct vs_err *err);
	bool (*have_tty)(struct cli *cli);
	bool (*is_tty)(struct cli *cli, int fd);
	/* Open an input file ("-" = standard input); NULL + err on failure. */
	FILE *(*open_input)(struct cli *cli, const char *path,
	    struct vs_err *err);
	void (*close_input)(struct cli *cli, FILE *fp);
	/* Create an output file (mode 0600, never over an existing file). */
	FILE *(*create_output)(struct cli *cli, const char *path,
	    struct vs_err *err);
	/* Finish it; VS_OK or an error (the file could not be written). */
	int (*finish_output)(struct cli *cli, FILE *fp, const char *path,
	    struct vs_err *err);
	/* Open the unsealed store for a command; returns an exit code. */
	int (*open_store)(struct cli *cli, bool write, struct store **st_r);
	void (*close_store)(struct cli *cli, struct store **st);
};

/* What the service offers to commands that only make sense there. */
struct cli_service {
	int (*unseal)(struct cli *cli, const char *secret, size_t len,
	    bool recovery, struct vs_err *err);
	void (*seal)(struct cli *cli);
	void (*status)(struct cli *cli, bool json);
	void (*throttle_list)(struct cli *cli, bool json);
	bool (*throttle_clear)(struct cli *cli, const char *what);
	/* Commands that run only inside the service (unseal, seal, status:
	 * service/cmd_service.c), NULL-terminated; looked up before the
	 * common table.  Outside the service those names answer "no vmsealed
	 * answers" (and --help) from admin/cli_dispatch.c. */
	const struct cli_command *commands;
	void *ctx;
};

struct cli {
	const char *prog;
	const char *dir;        /* the store's location (store.h): a folder,
	                         * lmdb:DIR or postgresql:CONNINFO - never
	                         * shown: see cli_where() */
	char where[STORE_SHOW_MAX];     /* cli_where()'s buffer */
	const char *socket_dir; /* vmsealed's sockets */
	const struct vs_conf *conf;     /* vmseal.conf as loaded (defaults
	                                 * when absent); never NULL */
	int passphrase_fd;      /* -1: ask on the terminal */
	int recovery_key_fd;    /* -1: not used */
	bool json;
	bool offline;           /* --offline: never use the service */
	bool dir_explicit;      /* -d was given */
	FILE *out, *err;        /* standard output and error of the command */
	const struct cli_io *io;
	const struct cli_service *svc;  /* NULL outside the service */
	uid_t peer_uid;         /* in the service: the operator's uid */
	struct secret_ref {
		char *s;        /* the passphrase that opened the store */
		size_t len;     /* offline (rotate, passphrase change) */
	} last_passphrase;
	struct cli_retry *retry;        /* cli_run()'s, while it runs a
	                                 * command; NULL otherwise */
};

extern const struct cli_io cli_io_local;

/* Run a command line (argv[0] is the command word); both the local main()
 * and the service use it.  Returns the exit code. */
int cli_dispatch(struct cli *cli, int argc, char **argv);
/* cli_dispatch(), and the command run again when its write transaction
 * met a concurrent writer (a PostgreSQL store shared by several hosts:
 * VS_EBUSY, nothing committed), at most STORE_WRITE_ATTEMPTS times with a
 * short random pause between (store_retry_wait).  Only for the commands
 * of one write transaction whose input is secrets (domain, address,
 * alias, user, app-password, mail-key); the others run once, as
 * cli_dispatch.  A run's output is held back (wiping buffers) and only the
 * last run's is written to cli->out and cli->err; the secrets the first
 * run read are given again to the next (never read twice: a descriptor
 * or a person is asked once); the store it opened stays open between
 * runs (offline: no second unseal).  A run that used an input or output
 * file, or committed a transaction, is never repeated.  On an LMDB store
 * (one writer, no conflict) it is cli_dispatch.  Both vmseal (offline)
 * and vmsealed (the admin socket) call this. */
int cli_run(struct cli *cli, int argc, char **argv);
/* True for commands that never go through the service: init (there is no
 * store, so no service, yet) and help. */
bool cli_command_is_local_only(const char *cmd);

/* The online client: if vmsealed answers on SOCKET_DIR/admin, run argv
 * there and return the exit code through *exit_r (true); false when no
 * service answers (the caller goes offline). */
bool cli_client_run(struct cli *cli, int argc, char **argv, int *exit_r);

/* A subcommand: argv[0] is its own name. */
typedef int cli_cmd_fn(struct cli *cli, int argc, char **argv);

struct cli_command {
	const char *name;
	cli_cmd_fn *fn;
};

/* Help of the commands that run only inside vmsealed; shown by the service
 * and, when none answers, by the client. */
extern const char cli_help_unseal[], cli_help_seal[], cli_help_status[];

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_domain(struct cli *cli, int argc, char **argv);
int cmd_user(struct cli *cli, int argc, char **argv);
int cmd_apppw(struct cli *cli, int argc, char **argv);
int cmd_mailkey(struct cli *cli, int argc, char **argv);
/* Mail keys (cmd_mailkey.c), shared with "user add --mail-keys" and
 * "user mail-key --generate": a new pair into u (which has none; the
 * private key wiped by vs_user_clear()); a pair for login in txn unless
 * it has one (VS_EEXIST: keys are never replaced), its canonical login
 * into canon (NAME_BUF, may be NULL). */
struct vs_user;
int cli_mail_keys_make(struct vs_user *u, struct vs_err *err);
int cli_mail_key_enable(struct store_txn *txn, const char *login,
    char *canon, struct vs_err *err);
int cmd_address(struct cli *cli, int argc, char **argv);
int cmd_alias(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_throttle(struct cli *cli, int argc, char **argv);
int cmd_passphrase(struct cli *cli, int argc, char **argv);
int cmd_rotate(struct cli *cli, int argc, char **argv);
int cmd_recover(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_migrate(struct cli *cli, int argc, char **argv);

/* The operator's uid: the admin socket's peer in the service, getuid()
 * offline. */
uint32_t cli_uid(const struct cli *cli);
/* Record an administrative action in txn (lib/audit.h), with cli_uid() and
 * a printf-style detail (control characters become '?').  Call it in the
 * command's write transaction before the commit; on failure abort. */
int cli_audit(struct cli *cli, struct store_txn *txn, const char *action,
    struct vs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Show a (new) recovery key once: whole, or split into n shares of which
 * k rebuild it (n == 0: whole).  Wipes key. */
int cli_print_recovery(struct cli *cli, uint8_t key[32], unsigned n,
    unsigned k, bool fresh_store);
/* Parse --recovery-shares N / --recovery-threshold K values. */
bool cli_parse_shares(const char *arg, unsigned *out);

/* cli->dir as it may be shown (store_location_show: a PostgreSQL
 * password never).  Valid until the next call. */
const char *cli_where(struct cli *cli);

/* Map a VS_* status to an exit code. */
int cli_exit_code(int status);
/* Print "vmseal: message" on stderr and return the exit code for status. */
int cli_fail(const struct cli *cli, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, from a struct vs_err. */
int cli_fail_err(const struct cli *cli, const struct vs_err *err);
/* Print a usage error and a hint, return EX_VS_USAGE. */
int cli_usage(const struct cli *cli, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read what unseals the store: the recovery key when --recovery-key-fd was
 * given (one line, or the two lines init prints), else the passphrase from
 * --passphrase-fd or the terminal.  Release with prompt_free(). */
int cli_read_unseal_secret(struct cli *cli, struct secret *sec,
    bool *recovery_r, struct vs_err *err);
int cli_unseal_store(struct store *st, const struct secret *sec,
    bool recovery, struct vs_err *err);
/* Open the store (cli->io->open_store) and begin a transaction; on failure
 * the store is closed and the exit code returned. */
int cli_open_txn(struct cli *cli, bool write, struct store **st_r,
    struct store_txn **txn_r);
/* Commit and close; returns an exit code. */
int cli_commit_close(struct cli *cli, struct store **st,
    struct store_txn **txn);
/* The end of a command's transaction: on failure (r) abort and report
 * err; a read (!write) aborts; a write commits.  Closes the store either
 * way and returns the exit code. */
int cli_finish_txn(struct cli *cli, struct store **st, struct store_txn **txn,
    bool write, int r, struct vs_err *err);
/* Abort and close. */
void cli_abort_close(struct cli *cli, struct store **st,
    struct store_txn **txn);

/* Parse a non-negative decimal that fits max; false if invalid. */
bool cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Parse a descriptor number option value. */
bool cli_parse_fd(const char *s, int *fd_r);

/* Handle the options every subcommand takes; returns 1 if it took opt,
 * 0 if not, or an exit code via *exit_r (>= 0 means stop). */
#define CLI_COMMON_LONGOPTS \
	{ "passphrase-fd", required_argument, NULL, 'P' }, \
	{ "recovery-key-fd", required_argument, NULL, 'R' }, \
	{ "json", no_argument, NULL, 'j' }, \
	{ "help", no_argument, NULL, 'h' }
bool cli_common_opt(struct cli *cli, int c, const char *arg, int *exit_r);

/* Time as "YYYY-MM-DD HH:MM:SS UTC" into buf (or "-" for 0). */
void cli_fmt_time(int64_t t, char *buf, size_t len);

#endif
