/*
 * cli_util.c - shared pieces of the vmseal command (see cli.h): exit codes
 * and messages, reading what unseals the store, the local cli_io, opening
 * and ending a command's transaction, and cli_run(), which runs a command
 * again after a conflict with a concurrent writer (PostgreSQL).
 *
 * cli_run's protocol: the command runs with a cli_io that records what it
 * asks the real one (secrets, "is this a terminal") and keeps the store it
 * opens open; its transaction ends in cli_open_txn/cli_finish_txn/
 * cli_commit_close, which note a conflict (store_txn_conflicted, or
 * VS_EBUSY at begin or commit on a PostgreSQL store) and a commit.  A run
 * that met a conflict, committed nothing and touched no file is run again
 * on the recorded answers; its output, held in a buffer, is dropped.
 *
 * Security: recorded secrets live in sodium_malloc()ed memory and are
 * wiped when cli_run returns; held-back output goes to wiping buffers
 * (buf_stream_open), as the service's own output does.
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

#include "buf.h"
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

/* --- cli_run: a command run again after a conflict --- */

#define RETRY_SECRETS 8         /* secrets a command may ask for */
#define RETRY_TTYS 8            /* descriptors asked about */

struct cli_retry {
	const struct cli_io *io;        /* the real one */
	unsigned attempt;               /* 1, 2, ... */
	bool conflict;                  /* this run met a concurrent writer */
	bool committed;                 /* this run committed something */
	bool unrepeatable;              /* used a file, or asked too much */
	struct recorded {               /* what the first run was given */
		int fd;
		char what[48];
		bool used;              /* handed out in this run */
		struct secret sec;
	} rec[RETRY_SECRETS];
	size_t nrec;
	int have_tty;                   /* -1: not asked yet */
	struct { int fd; bool yes; } tty[RETRY_TTYS];
	size_t ntty;
	struct store *st;               /* kept open between runs */
	bool st_write;
};

/* Commands of one write transaction whose only input is secrets. */
static bool
run_again_ok(const char *cmd)
{
	static const char *const ok[] = { "domain", "address", "alias",
	    "user", "app-password", "mail-key" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(cmd, ok[i]) == 0)
			return true;
	return false;
}

/* A write on a PostgreSQL store met a concurrent writer (VS_EBUSY at
 * begin or commit: nothing committed). */
static void
note_conflict(struct cli *cli, const struct store *st)
{
	if (cli->retry != NULL && st != NULL &&
	    store_backend(st) == STORE_BACKEND_PG)
		cli->retry->conflict = true;
}

/* A conflict's message: nothing was written, how often it was tried. */
static int
conflict_fail(const struct cli *cli, const struct vs_err *err)
{
	unsigned n = cli->retry != NULL ? cli->retry->attempt : 1;

	return cli_fail(cli, VS_EBUSY, "%s; nothing was written (tried %u "
	    "time%s): run the command again", err->msg, n, n == 1 ? "" : "s");
}

static int
secret_copy(const struct secret *from, struct secret *to)
{
	size_t cap = from->cap > from->len ? from->cap : from->len + 1;

	if ((to->s = sodium_malloc(cap)) == NULL)
		return VS_ENOMEM;
	memcpy(to->s, from->s, from->len);
	to->s[from->len] = '\0';
	to->len = from->len;
	to->cap = cap;
	return VS_OK;
}

static int
rt_secret(struct cli *cli, int fd, const char *prompt, const char *what,
    bool confirm, struct secret *out, struct vs_err *err)
{
	struct cli_retry *rt = cli->retry;
	size_t i;
	int r;

	if (rt->attempt > 1) {
		/* Given again as the first run read it: the same secret (by
		 * descriptor and name, in order) - a run that finds the store
		 * open asks for no passphrase. */
		for (i = 0; i < rt->nrec; i++) {
			struct recorded *c = &rt->rec[i];

			if (c->used || c->fd != fd ||
			    strncmp(c->what, what, sizeof(c->what)) != 0)
				continue;
			c->used = true;
			if (secret_copy(&c->sec, out) != VS_OK)
				return vs_fail(err, VS_ENOMEM, "out of memory");
			return VS_OK;
		}
		rt->unrepeatable = true;
		return vs_fail(err, VS_EINVAL, "internal: the command asked "
		    "for a %s it did not ask for the first time", what);
	}
	r = rt->io->secret(cli, fd, prompt, what, confirm, out, err);
	if (r != VS_OK)
		return r;
	if (rt->nrec == RETRY_SECRETS ||
	    secret_copy(out, &rt->rec[rt->nrec].sec) != VS_OK) {
		rt->unrepeatable = true;
		return r;
	}
	rt->rec[rt->nrec].fd = fd;
	snprintf(rt->rec[rt->nrec].what, sizeof(rt->rec[rt->nrec].what),
	    "%s", what);
	rt->nrec++;
	return r;
}

static bool
rt_have_tty(struct cli *cli)
{
	struct cli_retry *rt = cli->retry;

	if (rt->have_tty < 0)
		rt->have_tty = rt->io->have_tty(cli) ? 1 : 0;
	return rt->have_tty == 1;
}

static bool
rt_is_tty(struct cli *cli, int fd)
{
	struct cli_retry *rt = cli->retry;
	bool yes;
	size_t i;

	for (i = 0; i < rt->ntty; i++)
		if (rt->tty[i].fd == fd)
			return rt->tty[i].yes;
	yes = rt->io->is_tty(cli, fd);
	if (rt->ntty < RETRY_TTYS) {
		rt->tty[rt->ntty].fd = fd;
		rt->tty[rt->ntty++].yes = yes;
	}
	return yes;
}

/* Files are read or written once: a run that used one is not repeated. */
static FILE *
rt_open_input(struct cli *cli, const char *path, struct vs_err *err)
{
	cli->retry->unrepeatable = true;
	return cli->retry->io->open_input(cli, path, err);
}

static void
rt_close_input(struct cli *cli, FILE *fp)
{
	cli->retry->io->close_input(cli, fp);
}

static FILE *
rt_create_output(struct cli *cli, const char *path, struct vs_err *err)
{
	cli->retry->unrepeatable = true;
	return cli->retry->io->create_output(cli, path, err);
}

static int
rt_finish_output(struct cli *cli, FILE *fp, const char *path,
    struct vs_err *err)
{
	return cli->retry->io->finish_output(cli, fp, path, err);
}

/* The store stays open (and, offline, unsealed) from one run to the
 * next; cli_run closes it at the end. */
static int
rt_open_store(struct cli *cli, bool write, struct store **st_r)
{
	struct cli_retry *rt = cli->retry;
	int ex;

	if (rt->st != NULL && rt->st_write != write)
		rt->io->close_store(cli, &rt->st);
	if (rt->st == NULL) {
		if ((ex = rt->io->open_store(cli, write, &rt->st)) !=
		    EX_VS_OK) {
			rt->st = NULL;
			return ex;
		}
		rt->st_write = write;
	}
	*st_r = rt->st;
	return EX_VS_OK;
}

static void
rt_close_store(struct cli *cli, struct store **st)
{
	*st = NULL;
}

static const struct cli_io retry_io = {
	.secret = rt_secret,
	.have_tty = rt_have_tty,
	.is_tty = rt_is_tty,
	.open_input = rt_open_input,
	.close_input = rt_close_input,
	.create_output = rt_create_output,
	.finish_output = rt_finish_output,
	.open_store = rt_open_store,
	.close_store = rt_close_store,
};

int
cli_run(struct cli *cli, int argc, char **argv)
{
	struct cli_retry rt;
	FILE *out = cli->out, *errf = cli->err;
	struct buf ob = { 0 }, eb = { 0 };
	size_t i;
	int ex;

	/* LMDB has one writer and no conflict: the command as it is. */
	if (argc < 1 || cli->retry != NULL || !run_again_ok(argv[0]) ||
	    cli->dir == NULL ||
	    store_location(cli->dir, NULL) != STORE_BACKEND_PG)
		return cli_dispatch(cli, argc, argv);
	memset(&rt, 0, sizeof(rt));
	rt.io = cli->io;
	rt.have_tty = -1;
	cli->retry = &rt;
	cli->io = &retry_io;
	for (rt.attempt = 1;; rt.attempt++) {
		rt.conflict = rt.committed = false;
		for (i = 0; i < rt.nrec; i++)
			rt.rec[i].used = false;
		buf_free(&ob);          /* wipes the last run's output */
		buf_free(&eb);
		cli->out = buf_stream_open(&ob, BUF_MAX);
		cli->err = buf_stream_open(&eb, BUF_MAX);
		if (cli->out == NULL || cli->err == NULL) {
			if (cli->out != NULL)
				fclose(cli->out);
			if (cli->err != NULL)
				fclose(cli->err);
			buf_free(&ob);
			buf_free(&eb);
			cli->out = out;
			cli->err = errf;
			ex = cli_fail(cli, VS_ENOMEM, "out of memory");
			break;
		}
		ex = cli_dispatch(cli, argc, argv);
		fclose(cli->out);
		fclose(cli->err);
		cli->out = out;
		cli->err = errf;
		if (ex == EX_VS_OK || !rt.conflict || rt.committed ||
		    rt.unrepeatable || rt.st == NULL ||
		    !store_retry_wait(rt.st, rt.attempt))
			break;
	}
	cli->io = rt.io;
	cli->retry = NULL;
	if (rt.st != NULL)
		rt.io->close_store(cli, &rt.st);
	if (ob.len > 0)
		fwrite(ob.data, 1, ob.len, out);
	if (eb.len > 0)
		fwrite(eb.data, 1, eb.len, errf);
	buf_free(&ob);
	buf_free(&eb);
	for (i = 0; i < rt.nrec; i++)
		prompt_free(&rt.rec[i].sec);
	return ex;
}

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
		if (err.code == VS_EBUSY)
			note_conflict(cli, *st_r);
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
	if (r == VS_EBUSY)
		note_conflict(cli, *st);
	else if (r == VS_OK && cli->retry != NULL)
		cli->retry->committed = true;
	cli->io->close_store(cli, st);
	if (r == VS_EBUSY)         /* a PostgreSQL conflict */
		return conflict_fail(cli, &err);
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
		bool conflict = store_txn_conflicted(*txn);

		if (conflict && cli->retry != NULL)
			cli->retry->conflict = true;
		cli_abort_close(cli, st, txn);
		if (conflict)
			return conflict_fail(cli, err);
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
