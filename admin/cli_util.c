/*
 * cli_util.c - shared pieces of the vmseal command (see cli.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "prompt.h"
#include "reckey.h"
#include "shamir.h"

int
cli_exit_code(int status)
{
	switch (status) {
	case VS_OK: return EX_VS_OK;
	case VS_ENOTFOUND: return EX_VS_NOTFOUND;
	case VS_EINVAL: return EX_VS_USAGE;
	case VS_EBADKEY: return EX_VS_BADKEY;
	case VS_EEXIST: return EX_VS_CONFLICT;
	default: return EX_VS_STORE;
	}
}

const char *
cli_where(struct cli *cli)
{
	store_location_show(cli->dir, cli->where);
	return cli->where;
}

int
cli_fail(const struct cli *cli, int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(cli->err, "%s: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(cli->err, fmt, ap);
	va_end(ap);
	fputc('\n', cli->err);
	return cli_exit_code(status);
}

int
cli_fail_err(const struct cli *cli, const struct vs_err *err)
{
	return cli_fail(cli, err->code, "%s", err->msg[0] ? err->msg :
	    vs_strstatus(err->code));
}

int
cli_usage(const struct cli *cli, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(cli->err, "%s: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(cli->err, fmt, ap);
	va_end(ap);
	fprintf(cli->err, "\nTry '%s %s --help'.\n", cli->prog, cmd);
	return EX_VS_USAGE;
}

bool
cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

bool
cli_parse_fd(const char *s, int *fd_r)
{
	uint64_t v;

	if (!cli_parse_u64(s, INT_MAX, &v))
		return false;
	*fd_r = (int)v;
	return true;
}

bool
cli_common_opt(struct cli *cli, int c, const char *arg, int *exit_r)
{
	*exit_r = -1;
	switch (c) {
	case 'P':
		if (!cli_parse_fd(arg, &cli->passphrase_fd))
			*exit_r = cli_fail(cli, VS_EINVAL,
			    "--passphrase-fd needs a descriptor number");
		return true;
	case 'R':
		if (!cli_parse_fd(arg, &cli->recovery_key_fd))
			*exit_r = cli_fail(cli, VS_EINVAL,
			    "--recovery-key-fd needs a descriptor number");
		return true;
	case 'j':
		cli->json = true;
		return true;
	}
	return false;
}

bool
cli_parse_shares(const char *arg, unsigned *out)
{
	uint64_t v;

	if (!cli_parse_u64(arg, SHAMIR_MAX_SHARES, &v) || v < SHAMIR_MIN_SHARES)
		return false;
	*out = (unsigned)v;
	return true;
}

int
cli_print_recovery(struct cli *cli, uint8_t key[32], unsigned n, unsigned k,
    bool fresh_store)
{
	uint8_t (*shares)[SHAMIR_SHARE_BYTES];
	char text[SHAMIR_TEXT_BUF > RECKEY_TEXT_BUF ? SHAMIR_TEXT_BUF :
	    RECKEY_TEXT_BUF];
	struct vs_err err;
	unsigned i;

	if (n == 0) {
		reckey_encode(key, text);
		sodium_memzero(key, 32);
		fprintf(cli->out, "%sRECOVERY KEY - shown once.  Write it on "
		    "paper and keep it offline;\nit re-opens the store when "
		    "every passphrase is lost:\n\n    %.41s\n    %s\n\n",
		    fresh_store ? "" : "NEW ", text, text + 42);
		sodium_memzero(text, sizeof(text));
		return EX_VS_OK;
	}
	vs_err_clear(&err);
	if ((shares = sodium_malloc(n * SHAMIR_SHARE_BYTES)) == NULL ||
	    shamir_split(key, n, k, shares, &err) != VS_OK) {
		if (shares != NULL)
			sodium_free(shares);
		sodium_memzero(key, 32);
		return cli_fail(cli, VS_EINVAL, "cannot split the recovery "
		    "key: %s", err.msg[0] ? err.msg : "out of memory");
	}
	sodium_memzero(key, 32);
	fprintf(cli->out, "%sRECOVERY KEY, split into %u shares - any %u of "
	    "them rebuild it, fewer\nreveal nothing.  Shown once: give each "
	    "share to a different person, on paper:\n\n", fresh_store ? "" :
	    "NEW ", n, k);
	for (i = 0; i < n; i++) {
		shamir_share_encode(shares[i], k, n, text, sizeof(text));
		fprintf(cli->out, "  share %u of %u:\n    %.47s\n    %s\n\n",
		    i + 1, n, text, text + 48);
	}
	sodium_memzero(text, sizeof(text));
	sodium_free(shares);    /* wipes */
	return EX_VS_OK;
}

static size_t
count_alnum(const struct secret *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->len; i++)
		n += (s->s[i] >= '0' && s->s[i] <= '9') ||
		    (s->s[i] >= 'A' && s->s[i] <= 'Z') ||
		    (s->s[i] >= 'a' && s->s[i] <= 'z');
	return n;
}

/* A share or key printed on two lines: when the first line holds exactly
 * half of it, read the second and join them with a dash. */
static int
join_second_line(struct cli *cli, int fd, const char *what, size_t half,
    struct secret *sec, struct vs_err *err)
{
	struct secret second = { NULL, 0, 0 };
	int r;

	if (count_alnum(sec) != half)
		return VS_OK;
	if ((r = cli->io->secret(cli, fd, NULL, what, false, &second, err)) !=
	    VS_OK) {
		prompt_free(sec);
		return r;
	}
	if (sec->len + 1 + second.len > PROMPT_SECRET_MAX ||
	    sec->len + 1 + second.len >= sec->cap) {
		r = vs_fail(err, VS_EINVAL, "the %s is too long", what);
	} else {
		sec->s[sec->len++] = '-';
		memcpy(sec->s + sec->len, second.s, second.len);
		sec->len += second.len;
		sec->s[sec->len] = '\0';
	}
	prompt_free(&second);
	if (r != VS_OK)
		prompt_free(sec);
	return r;
}

/* Recovery shares, one per line (or two, as printed) from fd, until as
 * many as the first one says are needed; combined into the recovery
 * key's text form in sec. */
static int
read_shares(struct cli *cli, int fd, struct secret *sec, struct vs_err *err)
{
	uint8_t (*sh)[SHAMIR_SHARE_BYTES];
	uint8_t key[RECKEY_BYTES];
	struct secret line = { NULL, 0, 0 };
	unsigned k = 0, n = 0, got = 0, kk, nn;
	char what[32];
	int r = VS_OK;

	if ((sh = sodium_malloc(SHAMIR_MAX_SHARES * SHAMIR_SHARE_BYTES)) ==
	    NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	/* The first share was already read into sec. */
	r = shamir_share_decode(sec->s, sec->len, sh[0], &k, &n, err);
	if (r == VS_OK)
		got = 1;
	else
		vs_fail(err, r, "recovery share 1: %s", err->msg);
	while (r == VS_OK && got < k) {
		snprintf(what, sizeof(what), "recovery share %u", got + 1);
		r = cli->io->secret(cli, fd, NULL, what, false, &line, err);
		if (r == VS_OK)
			r = join_second_line(cli, fd, what,
			    SHAMIR_GROUPS * 5 / 2, &line, err);
		if (r != VS_OK)
			break;
		r = shamir_share_decode(line.s, line.len, sh[got], &kk, &nn,
		    err);
		prompt_free(&line);
		if (r != VS_OK) {
			char m[VS_ERR_MSG_MAX];

			snprintf(m, sizeof(m), "%s", err->msg);
			vs_fail(err, r, "recovery share %u: %s", got + 1, m);
		} else if (kk != k || nn != n) {
			r = vs_fail(err, VS_EINVAL, "recovery share %u is from a "
			    "%u-of-%u split, not %u-of-%u", got + 1, kk, nn,
			    k, n);
		} else {
			got++;
		}
	}
	if (r == VS_OK)
		r = shamir_combine((const uint8_t (*)[SHAMIR_SHARE_BYTES])sh, k,
		    key, err);
	sodium_free(sh);
	if (r != VS_OK) {
		prompt_free(sec);
		return r;
	}
	/* Hand it on in the recovery key's text form. */
	if (sec->len < RECKEY_TEXT_BUF) {
		prompt_free(sec);
		sodium_memzero(key, sizeof(key));
		return vs_fail(err, VS_ENOMEM, "internal: share buffer");
	}
	reckey_encode(key, sec->s);
	sec->len = strlen(sec->s);
	sodium_memzero(key, sizeof(key));
	return VS_OK;
}

/* The recovery key as init prints it: on one line, or on two (7 groups
 * each) - or recovery shares, one per line.  A second line is read only
 * when the first holds half a key. */
static int
read_recovery_key(struct cli *cli, int fd, struct secret *sec,
    struct vs_err *err)
{
	int r;

	if ((r = cli->io->secret(cli, fd, NULL, "recovery key", false, sec,
	    err)) != VS_OK)
		return r;
	/* A share is 16 groups (printed as two lines of 8), a key 14
	 * (two lines of 7). */
	if ((r = join_second_line(cli, fd, "recovery share 1",
	    SHAMIR_GROUPS * 5 / 2, sec, err)) != VS_OK)
		return r;
	if (count_alnum(sec) == SHAMIR_GROUPS * 5) {
		/* Room for the key's text form in the same buffer. */
		if (sec->len < RECKEY_TEXT_BUF)
			return vs_fail(err, VS_EINVAL, "recovery share 1 is "
			    "malformed");
		return read_shares(cli, fd, sec, err);
	}
	return join_second_line(cli, fd, "recovery key (second line)",
	    (RECKEY_GROUPS / 2) * 5, sec, err);
}

int
cli_read_unseal_secret(struct cli *cli, struct secret *sec, bool *recovery_r,
    struct vs_err *err)
{
	char prompt[STORE_SHOW_MAX + 32];

	*recovery_r = cli->recovery_key_fd >= 0;
	if (*recovery_r)
		return read_recovery_key(cli, cli->recovery_key_fd, sec, err);
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ",
	    cli_where(cli));
	return cli->io->secret(cli, cli->passphrase_fd, prompt, "passphrase",
	    false, sec, err);
}

/* Unseal an opened store with what cli_read_unseal_secret() read: the one
 * unseal path of lib (store_unseal), which also checks the store's head. */
int
cli_unseal_store(struct store *st, const struct secret *sec, bool recovery,
    struct vs_err *err)
{
	return store_unseal(st, sec->s, sec->len, recovery ?
	    STORE_UNSEAL_RECOVERY : STORE_UNSEAL_PASSPHRASE, err);
}

/* --- the local implementation of cli_io --- */

static int
local_secret(struct cli *cli, int fd, const char *prompt, const char *what,
    bool confirm, struct secret *out, struct vs_err *err)
{
	if (fd < 0 && prompt == NULL)
		return vs_fail(err, VS_EINVAL, "no %s given", what);
	return prompt_secret(fd, prompt, what, confirm, out, err);
}

static bool
local_have_tty(struct cli *cli)
{
	return prompt_have_tty();
}

static bool
local_is_tty(struct cli *cli, int fd)
{
	return isatty(fd) != 0;
}

static FILE *
local_open_input(struct cli *cli, const char *path, struct vs_err *err)
{
	FILE *fp;

	if (strcmp(path, "-") == 0)
		return stdin;
	if ((fp = fopen(path, "re")) == NULL)
		vs_fail(err, errno == ENOENT ? VS_ENOTFOUND : VS_EIO,
		    "cannot open %s: %s", path, strerror(errno));
	return fp;
}

static void
local_close_input(struct cli *cli, FILE *fp)
{
	if (fp != NULL && fp != stdin)
		fclose(fp);
}

static FILE *
local_create_output(struct cli *cli, const char *path, struct vs_err *err)
{
	FILE *fp;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		vs_fail(err, errno == EEXIST ? VS_EEXIST : VS_EIO,
		    "cannot create %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return fp;
}

static int
local_finish_output(struct cli *cli, FILE *fp, const char *path,
    struct vs_err *err)
{
	if (fclose(fp) != 0)
		return vs_fail(err, VS_EIO, "cannot write %s: %s", path,
		    strerror(errno));
	return VS_OK;
}

static int
local_open_store(struct cli *cli, bool write, struct store **st_r)
{
	struct vs_err err;
	struct secret sec = { NULL, 0, 0 };
	bool recovery;
	int r;

	vs_err_clear(&err);
	/* A read-only open may look at a store that does not match its head
	 * (verify and audit --verify say what is wrong; nothing commits); a
	 * writer refuses to unseal it. */
	r = store_open(cli->dir, write ? STORE_OPEN_WRITE : STORE_OPEN_INSPECT,
	    st_r, &err);
	if (r != VS_OK)
		return cli_fail_err(cli, &err);
	r = cli_read_unseal_secret(cli, &sec, &recovery, &err);
	if (r == VS_OK)
		r = cli_unseal_store(*st_r, &sec, recovery, &err);
	if (r == VS_OK && !recovery) {
		/* Kept (sodium memory) for rotate and passphrase change;
		 * main() frees (wipes) it when the command is done. */
		cli->last_passphrase.s = sec.s;
		cli->last_passphrase.len = sec.len;
		sec.s = NULL;
	}
	prompt_free(&sec);
	if (r != VS_OK) {
		store_close(st_r);
		return cli_fail_err(cli, &err);
	}
	{
		struct store_head h;
		const char *problem;

		store_head_of(*st_r, &h, &problem);
		if (problem != NULL && cli->io->is_tty(cli, 2))
			fprintf(cli->err, "%s: WARNING: %s\n", cli->prog,
			    problem);
		if (h.created)
			fprintf(cli->err, "%s: the store had no head (format 1):"
			    " created now, generation %llu - anchor it "
			    "('vmseal audit --head')\n", cli->prog,
			    (unsigned long long)h.generation);
	}
	return EX_VS_OK;
}

static void
local_close_store(struct cli *cli, struct store **st)
{
	store_close(st);
}

const struct cli_io cli_io_local = {
	.secret = local_secret,
	.have_tty = local_have_tty,
	.is_tty = local_is_tty,
	.open_input = local_open_input,
	.close_input = local_close_input,
	.create_output = local_create_output,
	.finish_output = local_finish_output,
	.open_store = local_open_store,
	.close_store = local_close_store,
};

int
cli_open_txn(struct cli *cli, bool write, struct store **st_r,
    struct store_txn **txn_r)
{
	struct vs_err err;
	int ex;

	if ((ex = cli->io->open_store(cli, write, st_r)) != EX_VS_OK)
		return ex;
	vs_err_clear(&err);
	if (store_txn_begin(*st_r, write, txn_r, &err) != VS_OK) {
		cli->io->close_store(cli, st_r);
		return cli_fail_err(cli, &err);
	}
	return EX_VS_OK;
}

int
cli_commit_close(struct cli *cli, struct store **st, struct store_txn **txn)
{
	struct vs_err err;
	int r;

	vs_err_clear(&err);
	r = store_txn_commit(txn, &err);
	cli->io->close_store(cli, st);
	if (r == VS_EBUSY)         /* a PostgreSQL conflict */
		return cli_fail(cli, r, "%s; nothing was written: run the "
		    "command again", err.msg);
	if (r != VS_OK)
		return cli_fail_err(cli, &err);
	return EX_VS_OK;
}

void
cli_abort_close(struct cli *cli, struct store **st, struct store_txn **txn)
{
	store_txn_abort(txn);
	cli->io->close_store(cli, st);
}

int
cli_finish_txn(struct cli *cli, struct store **st, struct store_txn **txn,
    bool write, int r, struct vs_err *err)
{
	if (r != VS_OK) {
		cli_abort_close(cli, st, txn);
		return cli_fail_err(cli, err);
	}
	if (!write) {
		cli_abort_close(cli, st, txn);
		return EX_VS_OK;
	}
	return cli_commit_close(cli, st, txn);
}

void
cli_fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}
