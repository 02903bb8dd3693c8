/*
 * cmd_keys.c - the key's life: vmseal passphrase, rotate, recover, backup
 * and verify.
 *
 * passphrase add|remove|change|list  manage passphrase slots (online or
 *                                    offline); at least one way in always
 *                                    remains
 * rotate                             a new root key: every record
 *                                    re-sealed and re-indexed in one
 *                                    transaction, a new recovery key shown
 *                                    once (offline: the service must be
 *                                    stopped, since it holds the old key)
 * recover                            with the recovery key: set a new
 *                                    passphrase, remove the lost ones
 * backup DEST                        a consistent hot copy, still sealed
 *                                    (works while vmsealed runs)
 * verify [DIR]                       every record of a store or backup
 *                                    authenticates with the passphrase
 *
 * Secrets: passphrases from the terminal (asked twice when new) or
 * --passphrase-fd / --new-passphrase-fd, the recovery key from
 * --recovery-key-fd; never argv.  The new recovery key is printed once.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "cli.h"
#include "cmd_opts.h"
#include "json.h"
#include "mailwrap.h"
#include "prompt.h"
#include "reckey.h"

#define MIN_PASSPHRASE 8

static const char passphrase_help[] =
"usage: vmseal passphrase list [--json]\n"
"       vmseal passphrase add [--new-passphrase-fd N]\n"
"       vmseal passphrase change [--new-passphrase-fd N]\n"
"       vmseal passphrase remove SLOT\n"
"\n"
"Passphrase slots: each wraps the store's key under one passphrase.\n"
"'add' asks for a new passphrase (twice on the terminal); 'change' asks for\n"
"the current one (it opens the store) and a new one, writes the new slot and\n"
"removes the old in one transaction; 'remove' removes a slot by number (see\n"
"'list'), never the last way in.  Offline, the current passphrase is asked\n"
"first to open the store (--passphrase-fd N).\n";

static const char rotate_help[] =
"usage: vmseal --offline rotate [--passphrase-fd N]\n"
"                              [--recovery-shares N --recovery-threshold K]\n"
"                              [--old-recovery-key-fd N]\n"
"\n"
"Make a new root key: every record is re-sealed and re-indexed and the\n"
"audit chain recomputed, in one transaction (a crash leaves the old store\n"
"or the new one, whole).  The passphrase you type is kept; other\n"
"passphrase slots are removed (add them again); a NEW recovery key is\n"
"printed once - the old one stops working.  vmsealed must be stopped: it\n"
"holds the old key.  Old backups still open with the old key.\n"
"A store with mail keys in password protection ('vmseal mail-key') has an\n"
"escrow key that only the recovery key opens: give the CURRENT recovery\n"
"key (or its shares) with --old-recovery-key-fd N, and rotate wraps the\n"
"escrow key under the new one in the same transaction.\n";

static const char recover_help[] =
"usage: vmseal --offline recover --recovery-key-fd N [--new-passphrase-fd M]\n"
"\n"
"Descriptor N gives the recovery key (one line, or the two lines init\n"
"printed) or, for a split key, the shares (each on one line or the two\n"
"printed) until as many as they need are in (a typo is named).\n"
"\n"
"When every passphrase is lost: open the store with the recovery key, set a\n"
"new passphrase, and remove the old passphrase slots.\n";

static const char backup_help[] =
"usage: vmseal backup DEST\n"
"\n"
"A consistent, compacted copy of the store into DEST (created, mode 0700),\n"
"taken while vmsealed runs if it does.  DEST is never followed if it is a\n"
"symbolic link, and an existing DEST owned by another user is refused\n"
"(exit 2).  The copy is as sealed as the store:\n"
"it opens with the passphrases (and recovery key) valid NOW - a passphrase\n"
"removed later still opens this backup.\n";

static const char verify_help[] =
"usage: vmseal verify [DIR] [--passphrase-fd N | --recovery-key-fd N]\n"
"\n"
"Check that a store or backup (DIR, default the store) opens with the key,\n"
"that every record authenticates, and that the records, key slots and\n"
"audit entries are those its head commits to (none put back from an older\n"
"copy, deleted or added outside vmseal); report any that are not (exit 4).\n"
"Prints the head's generation and hash: compare them with those logged.\n";

struct key_opts {
	int new_fd;
};

static int
key_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct key_opts *o = vctx;

	if (c == 'n') {
		if (!cli_parse_fd(arg, &o->new_fd))
			return cli_usage(cli, "passphrase", "--new-passphrase-fd "
			    "needs a descriptor number");
		return CMD_OPT_OK;
	}
	return cli_usage(cli, "passphrase", "unknown option");
}

static const struct option key_lo[] = {
	{ "new-passphrase-fd", required_argument, NULL, 'n' },
};

static int
ask_new(struct cli *cli, int fd, struct secret *s, struct vs_err *err)
{
	int r;

	r = cli->io->secret(cli, fd, "New passphrase: ", "new passphrase",
	    true, s, err);
	if (r == VS_OK && s->len < MIN_PASSPHRASE) {
		prompt_free(s);
		r = vs_fail(err, VS_EINVAL, "the passphrase must have at least "
		    "%d characters", MIN_PASSPHRASE);
	}
	return r;
}

int
cmd_passphrase(struct cli *cli, int argc, char **argv)
{
	struct key_opts o = { -1 };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct secret nw = { NULL, 0, 0 }, cur = { NULL, 0, 0 };
	struct vs_err err;
	const char *act;
	char **pos;
	int npos, ex, r = VS_OK;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			fputs(passphrase_help, cli->out);
			return EX_VS_OK;
		}
		return cli_usage(cli, "passphrase", "missing action (list, "
		    "add, change, remove)");
	}
	act = argv[1];
	ex = cmd_parse(cli, "passphrase", passphrase_help, argc - 1, argv + 1,
	    "", key_lo, 1, key_opt, &o, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (strcmp(act, "list") == 0) {
		struct store_slot sl[SEAL_MAX_SLOTS];
		struct json j;
		size_t n, i;

		if (npos != 0)
			return cli_usage(cli, "passphrase", "too many arguments");
		if ((ex = cli_open_txn(cli, false, &st, &txn)) != EX_VS_OK)
			return ex;
		store_slot_list(st, sl, &n);
		cli_abort_close(cli, &st, &txn);
		json_init(&j, cli->out);
		if (cli->json)
			json_arr_begin(&j);
		for (i = 0; i < n; i++) {
			const char *type = sl[i].type == SEAL_SLOT_PASSPHRASE ?
			    "passphrase" : "recovery";

			if (cli->json) {
				json_obj_begin(&j);
				json_key(&j, "slot"); json_int(&j, sl[i].id);
				json_key(&j, "type"); json_str(&j, type);
				json_key(&j, "opslimit");
				json_int(&j, (int64_t)sl[i].cost.opslimit);
				json_key(&j, "memlimit");
				json_int(&j, (int64_t)sl[i].cost.memlimit);
				json_obj_end(&j);
			} else if (sl[i].type == SEAL_SLOT_PASSPHRASE) {
				fprintf(cli->out, "slot %u\tpassphrase\tArgon2id "
				    "ops %llu, %llu KiB\n", sl[i].id,
				    (unsigned long long)sl[i].cost.opslimit,
				    (unsigned long long)sl[i].cost.memlimit /
				    1024);
			} else {
				fprintf(cli->out, "slot %u\trecovery key\n",
				    sl[i].id);
			}
		}
		if (cli->json) {
			json_arr_end(&j);
			json_end(&j);
		}
		return EX_VS_OK;
	}
	if (strcmp(act, "add") != 0 && strcmp(act, "change") != 0 &&
	    strcmp(act, "remove") != 0)
		return cli_usage(cli, "passphrase", "unknown action '%s'", act);
	if (npos != (strcmp(act, "remove") == 0 ? 1 : 0))
		return cli_usage(cli, "passphrase", "wrong number of arguments");
	vs_err_clear(&err);
	/* Secrets before the store opens. */
	if (strcmp(act, "change") == 0 && cli->svc != NULL &&
	    (r = cli->io->secret(cli, cli->passphrase_fd,
	    "Current passphrase: ", "current passphrase", false, &cur,
	    &err)) != VS_OK)
		return cli_fail_err(cli, &err);
	if (strcmp(act, "remove") != 0 &&
	    (r = ask_new(cli, o.new_fd, &nw, &err)) != VS_OK) {
		prompt_free(&cur);
		return cli_fail_err(cli, &err);
	}
	if ((ex = cli_open_txn(cli, true, &st, &txn)) != EX_VS_OK) {
		prompt_free(&cur);
		prompt_free(&nw);
		return ex;
	}
	if (strcmp(act, "add") == 0) {
		uint8_t id;

		r = store_slot_add_passphrase(txn, nw.s, nw.len, NULL, &id,
		    &err);
		if (r == VS_OK)
			r = cli_audit(cli, txn, "passphrase-add", &err,
			    "slot %u", id);
	} else if (strcmp(act, "change") == 0) {
		uint8_t old, id;

		/* Offline the passphrase that opened the store is the one
		 * to change; in the service it was asked above. */
		if (cli->svc != NULL)
			r = store_slot_match(st, cur.s, cur.len, &old, &err);
		else if (cli->last_passphrase.s == NULL)
			r = vs_fail(&err, VS_EINVAL, "'passphrase change' "
			    "changes the passphrase that opens the store: open "
			    "it with that passphrase, not the recovery key (or "
			    "use 'passphrase add' and 'remove')");
		else
			r = store_slot_match(st, cli->last_passphrase.s,
			    cli->last_passphrase.len, &old, &err);
		if (r == VS_OK)
			r = store_slot_add_passphrase(txn, nw.s, nw.len, NULL,
			    &id, &err);
		if (r == VS_OK)
			r = store_slot_remove(txn, old, &err);
		if (r == VS_OK)
			r = cli_audit(cli, txn, "passphrase-change", &err,
			    "slot %u replaced by slot %u", old, id);
	} else {
		uint64_t id;

		if (!cli_parse_u64(pos[0], SEAL_MAX_SLOTS - 1, &id))
			r = vs_fail(&err, VS_EINVAL, "SLOT is a number from 0 "
			    "to %d", SEAL_MAX_SLOTS - 1);
		else
			r = store_slot_remove(txn, (uint8_t)id, &err);
		if (r == VS_OK)
			r = cli_audit(cli, txn, "passphrase-remove", &err,
			    "slot %u", (unsigned)id);
	}
	prompt_free(&cur);
	prompt_free(&nw);
	if ((ex = cli_finish_txn(cli, &st, &txn, true, r, &err)) == EX_VS_OK)
		fprintf(cli->out, "done\n");
	return ex;
}

/* Runs inside the rotation's transaction, with the new key: the audit
 * chain is recomputed and the rotation recorded in the same commit.
 * (rotate runs offline only, one at a time: a static is enough.) */
static struct cli *rotating_cli;
/* The escrow key's re-wrap: the old recovery key (NULL: no escrow key)
 * and where store_rotate() puts the new one before calling after(). */
static const uint8_t *rotating_old;
static const uint8_t *rotating_new;

static int
rotate_after(struct store_txn *txn, struct vs_err *err)
{
	int r = audit_rechain(txn, err);

	if (r == VS_OK && rotating_old != NULL)
		r = mailwrap_escrow_rewrap(txn, rotating_old, rotating_new,
		    err);

	if (r == VS_OK)
		r = cli_audit(rotating_cli, txn, "rotate", err, "new root key");
	return r;
}

static void
progress(void *ctx, size_t done, size_t total)
{
	struct cli *cli = ctx;

	if (cli->io->is_tty(cli, 2))
		fprintf(cli->err, "\rvmseal: rotate: %zu/%zu records%s", done,
		    total, done == total ? "\n" : "");
}

struct rotate_opts {
	unsigned shares, threshold;
	int old_fd;
};

static int
rotate_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct rotate_opts *o = vctx;

	if (c == 'O') {
		if (cli_parse_fd(arg, &o->old_fd))
			return CMD_OPT_OK;
		return cli_usage(cli, "rotate", "--old-recovery-key-fd needs a "
		    "descriptor number");
	}
	if ((c == 'S' || c == 'T') &&
	    cli_parse_shares(arg, c == 'S' ? &o->shares : &o->threshold))
		return CMD_OPT_OK;
	return cli_usage(cli, "rotate", "--recovery-shares and "
	    "--recovery-threshold take 2 to 16");
}

/* The current recovery key (or its shares) from fd, raw. */
static int
read_old_reckey(struct cli *cli, int fd, uint8_t key[RECKEY_BYTES],
    struct vs_err *err)
{
	struct secret sec = { NULL, 0, 0 };
	int keep = cli->recovery_key_fd, r;
	bool rec;

	cli->recovery_key_fd = fd;
	r = cli_read_unseal_secret(cli, &sec, &rec, err);
	cli->recovery_key_fd = keep;
	if (r == VS_OK)
		r = reckey_decode(sec.s, sec.len, key, err);
	prompt_free(&sec);
	return r;
}

static int
has_escrow(struct store *st, bool *yes_r, struct vs_err *err)
{
	struct store_txn *txn = NULL;
	uint8_t pk[MAILWRAP_PK_BYTES];
	int r;

	*yes_r = false;
	if ((r = store_txn_begin(st, false, &txn, err)) != VS_OK)
		return r;
	r = mailwrap_escrow_pk(txn, pk, err);
	store_txn_abort(&txn);
	*yes_r = r == VS_OK;
	return r == VS_ENOTFOUND ? VS_OK : r;
}

int
cmd_rotate(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "recovery-shares", required_argument, NULL, 'S' },
		{ "recovery-threshold", required_argument, NULL, 'T' },
		{ "old-recovery-key-fd", required_argument, NULL, 'O' },
	};
	struct rotate_opts o = { 0, 0, -1 };
	struct store *st = NULL;
	struct vs_err err;
	uint8_t reckey[RECKEY_BYTES], oldkey[RECKEY_BYTES];
	bool escrow = false;
	char **pos;
	int npos, ex, r;

	ex = cmd_parse(cli, "rotate", rotate_help, argc, argv, "", lo, 3,
	    rotate_opt, &o, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "rotate", "too many arguments");
	if ((o.shares == 0) != (o.threshold == 0) || o.threshold > o.shares)
		return cli_usage(cli, "rotate", "give --recovery-shares N and "
		    "--recovery-threshold K together, K <= N");
	if (cli->svc != NULL)
		return cli_fail(cli, VS_EINVAL, "rotate runs offline: stop "
		    "vmsealed (it holds the old key), then 'vmseal --offline "
		    "rotate'");
	vs_err_clear(&err);
	if (o.old_fd >= 0 && (r = read_old_reckey(cli, o.old_fd, oldkey,
	    &err)) != VS_OK)
		return cli_fail_err(cli, &err);
	if ((ex = cli->io->open_store(cli, true, &st)) != EX_VS_OK) {
		sodium_memzero(oldkey, sizeof(oldkey));
		return ex;
	}
	if (cli->last_passphrase.s == NULL) {
		cli->io->close_store(cli, &st);
		sodium_memzero(oldkey, sizeof(oldkey));
		return cli_fail(cli, VS_EINVAL, "rotate needs the passphrase "
		    "(not the recovery key): it is kept for the new key");
	}
	/* The escrow key (password protection of mail keys) is wrapped
	 * under the recovery key: without the current one it would be
	 * lost with it. */
	r = has_escrow(st, &escrow, &err);
	if (r == VS_OK && escrow && o.old_fd < 0)
		r = vs_fail(&err, VS_EINVAL, "this store has mail keys in "
		    "password protection, whose escrow key only the recovery "
		    "key opens: give the CURRENT recovery key with "
		    "--old-recovery-key-fd N so that rotate wraps it under "
		    "the new one");
	if (r != VS_OK) {
		cli->io->close_store(cli, &st);
		sodium_memzero(oldkey, sizeof(oldkey));
		return cli_fail_err(cli, &err);
	}
	rotating_cli = cli;
	rotating_old = escrow ? oldkey : NULL;
	rotating_new = reckey;
	r = store_rotate(st, cli->last_passphrase.s, cli->last_passphrase.len,
	    reckey, rotate_after, progress, cli, &err);
	rotating_old = rotating_new = NULL;
	sodium_memzero(oldkey, sizeof(oldkey));
	cli->io->close_store(cli, &st);
	if (r != VS_OK)
		return cli_fail_err(cli, &err);
	fprintf(cli->out, "rotated: every record is sealed with a new key.\n"
	    "The old recovery key no longer opens this store.\n\n");
	ex = cli_print_recovery(cli, reckey, o.shares, o.threshold, false);
	if (ex == EX_VS_OK && fflush(cli->out) != 0) {
		/* The store is rotated, but its new recovery key may not have
		 * reached anyone: say so, and how to get a fresh one. */
		fprintf(cli->err, "vmseal: the store WAS rotated, but its new "
		    "recovery key could not be written out; run 'vmseal "
		    "--offline rotate' again (with the passphrase) to get a "
		    "new one you can see\n");
		return EX_VS_STORE;
	}
	return ex;
}

int
cmd_recover(struct cli *cli, int argc, char **argv)
{
	struct key_opts o = { -1 };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct store_slot sl[SEAL_MAX_SLOTS];
	struct secret nw = { NULL, 0, 0 };
	struct vs_err err;
	char **pos;
	uint8_t id;
	size_t n, i;
	int npos, ex, r;

	ex = cmd_parse(cli, "recover", recover_help, argc, argv, "", key_lo, 1,
	    key_opt, &o, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "recover", "too many arguments");
	if (cli->recovery_key_fd < 0)
		return cli_usage(cli, "recover", "give the recovery key with "
		    "--recovery-key-fd N");
	if (cli->svc != NULL)
		return cli_fail(cli, VS_EINVAL, "recover runs offline: stop "
		    "vmsealed, then 'vmseal --offline recover' (or unseal "
		    "the service with --recovery-key-fd and use 'vmseal "
		    "passphrase add')");
	vs_err_clear(&err);
	if ((r = ask_new(cli, o.new_fd, &nw, &err)) != VS_OK)
		return cli_fail_err(cli, &err);
	if ((ex = cli_open_txn(cli, true, &st, &txn)) != EX_VS_OK) {
		prompt_free(&nw);
		return ex;
	}
	store_slot_list(st, sl, &n);
	r = store_slot_add_passphrase(txn, nw.s, nw.len, NULL, &id, &err);
	for (i = 0; r == VS_OK && i < n; i++)
		if (sl[i].type == SEAL_SLOT_PASSPHRASE)
			r = store_slot_remove(txn, sl[i].id, &err);
	if (r == VS_OK)
		r = cli_audit(cli, txn, "recover", &err, "new passphrase in "
		    "slot %u, lost ones removed", id);
	prompt_free(&nw);
	if ((ex = cli_finish_txn(cli, &st, &txn, true, r, &err)) == EX_VS_OK)
		fprintf(cli->out, "recovered: the new passphrase opens the "
		    "store; the old ones no longer do\n");
	return ex;
}

int
cmd_backup(struct cli *cli, int argc, char **argv)
{
	struct store *st = NULL;
	struct vs_err err;
	char **pos;
	int npos, ex, r;

	ex = cmd_parse(cli, "backup", backup_help, argc, argv, "", NULL, 0,
	    NULL, NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 1)
		return cli_usage(cli, "backup", "give the destination folder");
	vs_err_clear(&err);
	/* A raw copy needs no key: open read-only (no lock, so it works
	 * while vmsealed runs). */
	if ((r = store_open(cli->dir, 0, &st, &err)) != VS_OK)
		return cli_fail_err(cli, &err);
	r = store_backup(st, pos[0], &err);
	store_close(&st);
	if (r != VS_OK)
		return cli_fail_err(cli, &err);
	fprintf(cli->out, "backup written to %s (sealed; it opens with the "
	    "passphrases valid now)\n", pos[0]);
	return EX_VS_OK;
}

int
cmd_verify(struct cli *cli, int argc, char **argv)
{
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct store_verify_report rep;
	struct store_head h;
	struct vs_err err;
	char hex[STORE_HEAD_HASH_BYTES * 2 + 1];
	char **pos;
	int npos, ex, r;

	ex = cmd_parse(cli, "verify", verify_help, argc, argv, "", NULL, 0,
	    NULL, NULL, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos > 1)
		return cli_usage(cli, "verify", "too many arguments");
	if (npos == 1)
		cli->dir = pos[0];
	if ((ex = cli_open_txn(cli, false, &st, &txn)) != EX_VS_OK)
		return ex;
	vs_err_clear(&err);
	r = store_verify(txn, &rep, &err);
	if (r == VS_OK)
		r = store_head(txn, &h, &err);
	if ((ex = cli_finish_txn(cli, &st, &txn, false, r, &err)) != EX_VS_OK)
		return ex;
	if (rep.bad > 0)
		return cli_fail(cli, VS_ECORRUPT, "%zu of %zu records fail to "
		    "authenticate (first: %s)%s%s", rep.bad, rep.records,
		    rep.first_bad, rep.head_ok ? "" : "; and ",
		    rep.head_ok ? "" : rep.head_problem);
	if (!rep.head_ok)
		return cli_fail(cli, VS_ECORRUPT, "NOT verified: %s",
		    rep.head_problem);
	fprintf(cli->out, "%s: the key opens it and all %zu records "
	    "authenticate\n", cli_where(cli), rep.records);
	if (h.present)
		fprintf(cli->out, "%s: they match its head: generation %llu, "
		    "hash %s\n", cli_where(cli), (unsigned long long)h.generation,
		    sodium_bin2hex(hex, sizeof(hex), h.hash, sizeof(h.hash)));
	else
		fprintf(cli->out, "%s: %s\n", cli_where(cli), rep.head_problem);
	return EX_VS_OK;
}
