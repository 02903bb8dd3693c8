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

struct cli {
	const char *prog;
	const char *dir;        /* store folder */
	int passphrase_fd;      /* -1: ask on the terminal */
	int recovery_key_fd;    /* -1: not used */
	bool json;
};

/* A subcommand: argv[0] is its own name. */
typedef int cli_cmd_fn(struct cli *cli, int argc, char **argv);

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_domain(struct cli *cli, int argc, char **argv);
int cmd_user(struct cli *cli, int argc, char **argv);
int cmd_address(struct cli *cli, int argc, char **argv);
int cmd_alias(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);

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

/* Open the store and unseal it: with the recovery key when
 * --recovery-key-fd was given (one line, or the two lines init prints),
 * else with the passphrase from --passphrase-fd or the terminal. */
int cli_open(struct cli *cli, bool write, struct store **st_r);
/* Begin a transaction on an opened store; on failure the store is closed
 * and the exit code returned. */
int cli_open_txn(struct cli *cli, bool write, struct store **st_r,
    struct store_txn **txn_r);
/* Commit and close; returns an exit code. */
int cli_commit_close(struct cli *cli, struct store **st,
    struct store_txn **txn);
/* Abort and close. */
void cli_abort_close(struct store **st, struct store_txn **txn);

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
