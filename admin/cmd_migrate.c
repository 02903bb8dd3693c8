/*
 * cmd_migrate.c - vmseal migrate --to LOCATION: the whole store copied to
 * another location (an LMDB folder or a PostgreSQL database, either way),
 * entry by entry as it is, in ONE transaction of the target; then the
 * copy is opened with the same passphrase and verified like 'vmseal
 * verify', and an audit entry naming the source is added to it.
 *
 * Why a raw copy: every record is sealed to the store id, its table and
 * its key (blind index), all of which come along unchanged, and the meta
 * table (format, store id, key slots, settings, audit head, head) comes
 * along too - so the copy opens with the same passphrases and recovery
 * key and matches its own head.  No record is opened or re-sealed here:
 * the copy goes through kv.h (iter on the source, put on the target),
 * below the store layer.
 *
 * Order of work:
 *   1. the source is opened read-only and unsealed (the passphrase is
 *      proved, and the source checked against its head, before anything
 *      is written); an LMDB source's writer lock (vmseal.lock) is held
 *      for the whole run, so no vmsealed starts writing meanwhile; when
 *      the lock is taken (vmsealed runs) migrate refuses, unless --live:
 *      then it copies a read snapshot, and writes made after it are not in
 *      the copy;
 *   2. the target is opened (an LMDB folder made 0700, its writer lock
 *      taken; a PostgreSQL table made if missing) and, inside the write
 *      transaction, checked to be empty in every table (else VS_EEXIST:
 *      "a store already exists", exit 5, nothing touched);
 *   3. every table is copied from one read snapshot of the source into
 *      that one write transaction, and committed: a crash or a killed
 *      database leaves the target as it was (empty).  A new LMDB copy is
 *      built in DIR/.vmseal-migrate and, once committed and closed,
 *      linked into place as DIR/data.mdb (never over a file there): a
 *      crash leaves no data.mdb in DIR, only that folder, which the next
 *      migrate into DIR removes;
 *   4. the target is opened for writing, unsealed with the same secret
 *      (which checks it against its head), every record is opened
 *      (store_verify), and the "store-migrate" audit entry is written in
 *      the same transaction;
 *   5. if that fails, the target is emptied again - but only when its
 *      head is still byte for byte the one copied (nobody wrote since),
 *      in one transaction; an LMDB database this run put in place is
 *      removed (and the folder, if this run made it).
 *
 * Security: the passphrase (or recovery key) is read once, from the
 * terminal or --passphrase-fd, never argv, kept in sodium memory and
 * wiped when both stores are unsealed.  A PostgreSQL conninfo may hold a
 * password: locations are shown only through store_location_show(), in
 * messages, the summary and the audit entry.  The source is only read
 * (read-only LMDB environment or a READ ONLY transaction).  An LMDB
 * target folder is made without following a symbolic link and refused
 * when it belongs to another uid.  Nothing is ever written over a store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "cmd_opts.h"
#include "json.h"
#include "kv.h"
#ifdef HAVE_PQ
#include "kv_pg.h"
#endif
#include "prompt.h"

#define MIG_LOCK_FILE "vmseal.lock"
/* An LMDB copy is built in this folder inside the target and linked into
 * place once committed: a crash never leaves a data.mdb in the target. */
#define MIG_TMP ".vmseal-migrate"
#define MIG_HEAD_KEY "head"
#define MIG_FORMAT_KEY "format"
/* Progress lines on a terminal: at most one each this many ms. */
#define MIG_PROGRESS_MS 250

static const char migrate_help[] =
"usage: vmseal [-d DIR | --store LOCATION] migrate --to LOCATION\n"
"                  [--live] [--passphrase-fd N | --recovery-key-fd N]\n"
"                  [--json]\n"
"\n"
"Copy the whole store (the source: -d or --store) to LOCATION - lmdb:DIR,\n"
"a folder, postgresql:CONNINFO or a postgresql:// URI - entry by entry as\n"
"it is: records stay sealed, the key slots and the head come along, so the\n"
"copy opens with the same passphrases and recovery key.  The copy is ONE\n"
"transaction of the target: interrupted, it leaves the target empty.\n"
"The target must be new or empty: a store there is refused (exit 5).\n"
"\n"
"The passphrase is asked once; it must open the source before anything is\n"
"written, then it opens the copy, every record of which is checked as by\n"
"'vmseal verify'.  If that check fails the target is emptied again (when\n"
"nothing else wrote to it meanwhile) and the exit status is 4.  An audit\n"
"entry 'store-migrate' naming the source is added to the target.  The\n"
"source is only read.\n"
"\n"
"Offline: migrate always runs here, never inside vmsealed.  An LMDB\n"
"source's writer lock is held for the whole copy, so migrate refuses while\n"
"vmsealed runs on it (exit 4): stop vmsealed, migrate, point its 'store ='\n"
"at the target, start it.  --live copies a consistent snapshot anyway,\n"
"but what vmsealed writes after it (events, admin changes) is not in the\n"
"copy.  A PostgreSQL source has no lock: stop its vmsealed instances\n"
"yourself; the copy is one consistent snapshot either way.\n"
"\n"
"  --to LOCATION   where the copy goes (a password in it is never shown)\n"
"  --live          copy while vmsealed runs (LMDB source; see above)\n"
"  --json          a summary: entries per table, seconds, head\n";

static const char *const table_names[KV_TABLE_COUNT] = {
	"meta", "domains", "users", "addresses", "aliases", "events", "audit",
};

struct mig {
	struct cli *cli;
	const char *src, *dst;          /* locations as given */
	char src_shown[STORE_SHOW_MAX], dst_shown[STORE_SHOW_MAX];
	bool live;
	int src_lock;                   /* LMDB source's vmseal.lock, or -1 */
	int dst_dirfd, dst_lock;        /* LMDB target, or -1 */
	bool dst_made_dir, dst_made_env;       /* made by this run */
	bool dst_tmp;                   /* built in DIR/MIG_TMP */
	char tmp_path[4096];
	size_t count[KV_TABLE_COUNT], copied[KV_TABLE_COUNT], total, done;
	struct kv_txn *dtxn;            /* the target's write transaction */
	enum kv_table table;            /* being copied */
	uint8_t *head;                  /* meta "head" as copied */
	size_t head_len;
	bool progress;
	struct timespec last;
	struct vs_err *err;
	int result;
};

/* --- locations --- */

/* The kv backend of a location (flags: KV_OPEN_*). */
static int
open_kv(const char *loc, unsigned flags, struct kv **kv_r, struct vs_err *err)
{
	const char *rest;

	if (store_location(loc, &rest) == STORE_BACKEND_PG) {
#ifdef HAVE_PQ
		return kv_pg_open(rest, flags, kv_r, err);
#else
		(void)kv_r;
		(void)flags;
		return vs_fail(err, VS_EINVAL, "this vmseal was built without "
		    "PostgreSQL support");
#endif
	}
	return kv_lmdb_open(rest, flags, 0, kv_r, err);
}

/* flock(LOCK_EX | LOCK_NB) on DIRFD/vmseal.lock (made if missing, as
 * every writer does): the LMDB writer's lock, held while the fd is. */
static int
lock_dir(int dirfd, const char *shown, int *fd_r, struct vs_err *err)
{
	int fd, e;

	fd = openat(dirfd, MIG_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd < 0)
		return vs_fail(err, VS_EIO, "cannot open %s/%s: %s", shown,
		    MIG_LOCK_FILE, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return vs_fail(err, VS_EBUSY, "the store in %s is in "
			    "use by another writer (is vmsealed running? stop "
			    "it first)", shown);
		return vs_fail(err, VS_EIO, "cannot lock %s/%s: %s", shown,
		    MIG_LOCK_FILE, strerror(e));
	}
	*fd_r = fd;
	return VS_OK;
}

/* The LMDB source: hold its writer lock (unless --live), so that no
 * vmsealed writes while it is copied. */
static int
lock_source(struct mig *m, struct vs_err *err)
{
	const char *dir;
	int dfd, r;

	if (store_location(m->src, &dir) != STORE_BACKEND_LMDB || m->live)
		return VS_OK;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vs_fail(err, errno == ENOENT ? VS_ENOTFOUND : VS_EIO,
		    "cannot open store %s: %s", m->src_shown, strerror(errno));
	r = lock_dir(dfd, m->src_shown, &m->src_lock, err);
	close(dfd);
	if (r == VS_EBUSY)
		vs_fail(err, r, "the store in %s is in use by another writer "
		    "(is vmsealed running? migrate is offline: stop it first, "
		    "or copy a snapshot with --live)", m->src_shown);
	return r;
}

/* The LMDB target folder: made 0700 if missing, never through a symbolic
 * link, ours, not the source; its writer lock taken. */
static int
prepare_lmdb_target(struct mig *m, const char *dir, struct vs_err *err)
{
	struct stat sb, ss;
	const char *sdir;
	int e;

	if (mkdir(dir, 0700) == 0)
		m->dst_made_dir = true;
	else if (errno != EEXIST)
		return vs_fail(err, VS_EIO, "cannot create %s: %s", m->dst_shown,
		    strerror(errno));
	m->dst_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (m->dst_dirfd < 0) {
		e = errno;
		if (e == ELOOP || e == ENOTDIR)
			return vs_fail(err, VS_EINVAL, "%s is a symbolic link "
			    "or not a folder: refused", m->dst_shown);
		return vs_fail(err, VS_EIO, "cannot open %s: %s",
		    m->dst_shown, strerror(e));
	}
	if (fstat(m->dst_dirfd, &sb) != 0)
		return vs_fail(err, VS_EIO, "cannot stat %s: %s", m->dst_shown,
		    strerror(errno));
	if (sb.st_uid != geteuid())
		return vs_fail(err, VS_EINVAL, "%s belongs to uid %lu, not to "
		    "uid %lu (running): refused", m->dst_shown,
		    (unsigned long)sb.st_uid, (unsigned long)geteuid());
	if (store_location(m->src, &sdir) == STORE_BACKEND_LMDB &&
	    stat(sdir, &ss) == 0 && ss.st_dev == sb.st_dev &&
	    ss.st_ino == sb.st_ino)
		return vs_fail(err, VS_EINVAL, "the target is the source "
		    "(%s)", m->dst_shown);
	if ((sb.st_mode & 077) != 0 && fchmod(m->dst_dirfd, 0700) != 0)
		return vs_fail(err, VS_EIO, "cannot set mode 0700 on %s: %s",
		    m->dst_shown, strerror(errno));
	return lock_dir(m->dst_dirfd, m->dst_shown, &m->dst_lock, err);
}

/* Remove DIR/MIG_TMP with the LMDB files in it (what a migrate that
 * did not finish left; the target's lock is held, and the name is ours). */
static void
remove_tmp(struct mig *m)
{
	int fd;

	fd = openat(m->dst_dirfd, MIG_TMP, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	unlinkat(fd, "data.mdb", 0);
	unlinkat(fd, "lock.mdb", 0);
	close(fd);
	unlinkat(m->dst_dirfd, MIG_TMP, AT_REMOVEDIR);
}

/* Open the target's backend.  A new LMDB copy is built in DIR/MIG_TMP
 * (linked into DIR by publish() once committed); an existing data.mdb
 * must be a vmseal one (its tables are checked empty later). */
static int
open_target(struct mig *m, struct kv **kv_r, struct vs_err *err)
{
	const char *dir;
	int r;

	if (store_location(m->dst, &dir) == STORE_BACKEND_PG)
		return open_kv(m->dst, KV_OPEN_CREATE, kv_r, err);
	if ((r = prepare_lmdb_target(m, dir, err)) != VS_OK)
		return r;
	if (faccessat(m->dst_dirfd, "data.mdb", F_OK, AT_SYMLINK_NOFOLLOW) ==
	    0) {
		r = kv_lmdb_open(dir, 0, 0, kv_r, err);
		if (r == VS_ENOTFOUND)
			r = vs_fail(err, VS_EEXIST, "%s holds an LMDB database "
			    "that is not a vmseal store: refused",
			    m->dst_shown);
		return r;
	}
	remove_tmp(m);
	if ((size_t)snprintf(m->tmp_path, sizeof(m->tmp_path), "%s/%s", dir,
	    MIG_TMP) >= sizeof(m->tmp_path))
		return vs_fail(err, VS_EINVAL, "the target's path is too long");
	if (mkdirat(m->dst_dirfd, MIG_TMP, 0700) != 0)
		return vs_fail(err, VS_EIO, "cannot create %s/%s: %s",
		    m->dst_shown, MIG_TMP, strerror(errno));
	m->dst_tmp = true;
	return kv_lmdb_open(m->tmp_path, KV_OPEN_CREATE, 0, kv_r, err);
}

/* The committed LMDB copy into place: DIR/data.mdb linked to the one
 * built in DIR/MIG_TMP (never over an existing file), then MIG_TMP
 * removed. */
static int
publish(struct mig *m, struct vs_err *err)
{
	if (linkat(m->dst_dirfd, MIG_TMP "/data.mdb", m->dst_dirfd,
	    "data.mdb", 0) != 0)
		return vs_fail(err, errno == EEXIST ? VS_EEXIST : VS_EIO,
		    "cannot put the copy in place as %s/data.mdb: %s",
		    m->dst_shown, strerror(errno));
	m->dst_made_env = true;
	return VS_OK;
}

/* Remove what this run put in the LMDB target (its lock is held): the
 * database it linked into place, the folder it made. */
static void
remove_made_env(struct mig *m)
{
	const char *dir;

	if (m->dst_dirfd < 0)
		return;
	store_location(m->dst, &dir);
	if (m->dst_made_env) {
		unlinkat(m->dst_dirfd, "data.mdb", 0);
		unlinkat(m->dst_dirfd, "lock.mdb", 0);
		m->dst_made_env = false;
	}
	if (m->dst_made_dir) {
		unlinkat(m->dst_dirfd, MIG_LOCK_FILE, 0);
		rmdir(dir);     /* only if nothing else came in */
	}
}

/* --- the copy --- */

static void
progress(struct mig *m, bool last)
{
	struct timespec now;
	long ms;

	if (!m->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - m->last.tv_sec) * 1000 +
	    (now.tv_nsec - m->last.tv_nsec) / 1000000;
	if (!last && ms < MIG_PROGRESS_MS)
		return;
	m->last = now;
	fprintf(m->cli->err, "\r%s: migrate: %zu/%zu entries%s",
	    m->cli->prog, m->done, m->total, last ? "\n" : "");
	fflush(m->cli->err);
}

static int
copy_cb(void *ctx, const struct kv_val *key, const struct kv_val *val)
{
	struct mig *m = ctx;
	int r;

	r = kv_put(m->dtxn, m->table, key->data, key->len, val->data,
	    val->len, true, m->err);
	if (r == VS_EEXIST)
		r = vs_fail(m->err, VS_EEXIST, "%s: an entry of the %s table "
		    "is already there: refused", m->dst_shown,
		    table_names[m->table]);
	if (r == VS_OK && m->table == KV_META && key->len ==
	    strlen(MIG_HEAD_KEY) && memcmp(key->data, MIG_HEAD_KEY,
	    key->len) == 0) {
		free(m->head);
		if ((m->head = malloc(val->len ? val->len : 1)) == NULL)
			r = vs_fail(m->err, VS_ENOMEM, "out of memory");
		else
			memcpy(m->head, val->data, m->head_len = val->len);
	}
	if (r != VS_OK) {
		m->result = r;
		return 1;
	}
	m->copied[m->table]++;
	m->done++;
	progress(m, false);
	return 0;
}

/* Every table of the target empty, in its write transaction. */
static int
check_empty(struct mig *m, struct vs_err *err)
{
	struct kv_val v;
	size_t n, all = 0;
	int t, r;

	for (t = 0; t < KV_TABLE_COUNT; t++) {
		if ((r = kv_count(m->dtxn, (enum kv_table)t, &n, err)) != VS_OK)
			return r;
		all += n;
	}
	if (all == 0)
		return VS_OK;
	r = kv_get(m->dtxn, KV_META, MIG_FORMAT_KEY, strlen(MIG_FORMAT_KEY),
	    &v, err);
	if (r == VS_OK)
		return vs_fail(err, VS_EEXIST, "a store already exists in %s: "
		    "refused, nothing written (migrate copies into a new or "
		    "empty target only)", m->dst_shown);
	if (r != VS_ENOTFOUND)
		return r;
	return vs_fail(err, VS_EEXIST, "%s is not empty (%zu entries, no "
	    "store): refused, nothing written", m->dst_shown, all);
}

/* Steps 2 and 3: one read snapshot of the source into one write
 * transaction of the target. */
static int
copy_all(struct mig *m, struct vs_err *err)
{
	struct kv *skv = NULL, *dkv = NULL;
	struct kv_txn *stxn = NULL;
	struct kv_val v;
	char msg[VS_ERR_MSG_MAX];
	int t, r;

	if ((r = open_kv(m->src, KV_OPEN_RDONLY, &skv, err)) != VS_OK)
		goto out;
	if ((r = open_target(m, &dkv, err)) != VS_OK)
		goto out;
	if ((r = kv_txn_begin(dkv, true, &m->dtxn, err)) != VS_OK)
		goto out;
	if ((r = check_empty(m, err)) != VS_OK)
		goto out;
	if ((r = kv_txn_begin(skv, false, &stxn, err)) != VS_OK)
		goto out;
	r = kv_get(stxn, KV_META, MIG_HEAD_KEY, strlen(MIG_HEAD_KEY), &v, err);
	if (r == VS_ENOTFOUND)
		r = vs_fail(err, VS_EINVAL, "the source has no head (a format "
		    "1 store): open it for writing once (any change, or "
		    "vmsealed) to give it one, then migrate");
	if (r != VS_OK)
		goto out;
	for (t = 0; t < KV_TABLE_COUNT; t++) {
		if ((r = kv_count(stxn, (enum kv_table)t, &m->count[t], err)) !=
		    VS_OK)
			goto out;
		m->total += m->count[t];
	}
	clock_gettime(CLOCK_MONOTONIC, &m->last);
	m->err = err;
	for (t = 0; t < KV_TABLE_COUNT; t++) {
		m->table = (enum kv_table)t;
		m->result = VS_OK;
		r = kv_iter(stxn, m->table, copy_cb, m, err);
		if (r != VS_OK && m->result != VS_OK)
			r = m->result;
		if (r == VS_OK && m->copied[t] != m->count[t])
			r = vs_fail(err, VS_EIO, "the source's %s table gave "
			    "%zu entries, it counts %zu: nothing written",
			    table_names[t], m->copied[t], m->count[t]);
		if (r != VS_OK)
			goto out;
	}
	if (m->head == NULL) {
		r = vs_fail(err, VS_ECORRUPT, "the source's head was not "
		    "copied");
		goto out;
	}
	kv_txn_abort(stxn);
	stxn = NULL;
	r = kv_txn_commit(m->dtxn, err);
	m->dtxn = NULL;
	if (r == VS_EBUSY) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		vs_fail(err, r, "%s; nothing was written: run the command "
		    "again", msg);
	}
	if (r == VS_OK)
		progress(m, true);
out:
	if (r != VS_OK && m->progress && m->done > 0)
		fputc('\n', m->cli->err);
	if (stxn != NULL)
		kv_txn_abort(stxn);
	if (m->dtxn != NULL)
		kv_txn_abort(m->dtxn);
	m->dtxn = NULL;
	kv_close(&skv);
	kv_close(&dkv);
	if (r == VS_OK && m->dst_tmp)
		r = publish(m, err);
	if (m->dst_tmp)
		remove_tmp(m);
	if (r != VS_OK)
		remove_made_env(m);
	/* Let the store layer take the target's lock (step 4). */
	if (m->dst_lock >= 0)
		close(m->dst_lock);
	m->dst_lock = -1;
	return r;
}

/* --- step 5: undo a copy that does not verify --- */

struct keylist {
	uint8_t **k;
	size_t *len, n, cap;
};

static int
collect_cb(void *ctx, const struct kv_val *key, const struct kv_val *val)
{
	struct keylist *l = ctx;
	void *nk, *nl;

	(void)val;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		nk = realloc(l->k, l->cap * sizeof(*l->k));
		if (nk != NULL)
			l->k = nk;
		nl = realloc(l->len, l->cap * sizeof(*l->len));
		if (nl != NULL)
			l->len = nl;
		if (nk == NULL || nl == NULL)
			return 1;
	}
	if ((l->k[l->n] = malloc(key->len ? key->len : 1)) == NULL)
		return 1;
	memcpy(l->k[l->n], key->data, key->len);
	l->len[l->n++] = key->len;
	return 0;
}

/* Empty the target when its head is still the one copied; returns a
 * sentence for the operator. */
static const char *
undo_copy(struct mig *m)
{
	struct kv *kv = NULL;
	struct kv_txn *txn = NULL;
	struct kv_val v;
	struct vs_err err;
	struct keylist l = { NULL, NULL, 0, 0 };
	const char *said = "the target could not be emptied: remove it by "
	    "hand";
	size_t i;
	int t, r;

	vs_err_clear(&err);
	if (m->dst_dirfd >= 0 && lock_dir(m->dst_dirfd, m->dst_shown,
	    &m->dst_lock, &err) != VS_OK)
		return said;
	if (open_kv(m->dst, 0, &kv, &err) != VS_OK ||
	    kv_txn_begin(kv, true, &txn, &err) != VS_OK)
		goto out;
	r = kv_get(txn, KV_META, MIG_HEAD_KEY, strlen(MIG_HEAD_KEY), &v, &err);
	if (r != VS_OK || v.len != m->head_len ||
	    memcmp(v.data, m->head, v.len) != 0) {
		said = "the target changed since the copy: left as it is";
		goto out;
	}
	for (t = 0; t < KV_TABLE_COUNT; t++) {
		l.n = 0;
		r = kv_iter(txn, (enum kv_table)t, collect_cb, &l, &err);
		for (i = 0; i < l.n; i++) {
			if (r == VS_OK)
				r = kv_del(txn, (enum kv_table)t, l.k[i],
				    l.len[i], &err);
			free(l.k[i]);
		}
		if (r != VS_OK)
			goto out;
	}
	r = kv_txn_commit(txn, &err);
	txn = NULL;
	if (r == VS_OK) {
		said = "the target was emptied again";
		kv_close(&kv);
		if (m->dst_made_env) {
			remove_made_env(m);
			said = "the target was removed again";
		}
	}
out:
	free(l.k);
	free(l.len);
	if (txn != NULL)
		kv_txn_abort(txn);
	kv_close(&kv);
	if (m->dst_lock >= 0)
		close(m->dst_lock);
	m->dst_lock = -1;
	return said;
}

/* --- steps 1 and 4 --- */

/* Step 1: the source opens read-only with the secret. */
static int
unseal_source(struct mig *m, const struct secret *sec, bool recovery,
    struct vs_err *err)
{
	struct store *st = NULL;
	int r;

	/* Read-only, not INSPECT: a source that does not match its head
	 * does not unseal - nothing of it is copied. */
	if ((r = store_open(m->src, 0, &st, err)) != VS_OK)
		return r;
	r = cli_unseal_store(st, sec, recovery, err);
	store_close(&st);
	return r;
}

/* Step 4: open the copy for writing with the secret (its head checked),
 * open every record, and record the migration in it. */
static int
verify_target(struct mig *m, const struct secret *sec, bool recovery,
    struct store_verify_report *rep, struct store_head *h,
    struct vs_err *err)
{
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((r = store_open(m->dst, STORE_OPEN_WRITE, &st, err)) != VS_OK)
		return r;
	if ((r = cli_unseal_store(st, sec, recovery, err)) != VS_OK)
		goto out;
	if ((r = store_txn_begin(st, true, &txn, err)) != VS_OK)
		goto out;
	if ((r = store_verify(txn, rep, err)) != VS_OK)
		goto out;
	if (rep->bad > 0) {
		r = vs_fail(err, VS_ECORRUPT, "%zu of %zu records of the copy "
		    "fail to authenticate (first: %s)", rep->bad, rep->records,
		    rep->first_bad);
		goto out;
	}
	if (!rep->head_ok) {
		r = vs_fail(err, VS_ECORRUPT, "the copy does not match its "
		    "head: %s", rep->head_problem);
		goto out;
	}
	if ((r = cli_audit(m->cli, txn, "store-migrate", err, "from %s: %zu "
	    "entries", m->src_shown, m->total)) != VS_OK)
		goto out;
	r = store_txn_commit(&txn, err);
	if (r == VS_OK)
		store_head_of(st, h, NULL);
out:
	store_txn_abort(&txn);
	store_close(&st);
	return r;
}

/* --- output --- */

static void
summary(struct mig *m, double secs, const struct store_verify_report *rep,
    const struct store_head *h)
{
	char hex[STORE_HEAD_HASH_BYTES * 2 + 1];
	struct json j;
	int t;

	sodium_bin2hex(hex, sizeof(hex), h->hash, sizeof(h->hash));
	if (!m->cli->json) {
		fprintf(m->cli->out, "migrated %zu entries from %s to %s in "
		    "%.1f s:", m->total, m->src_shown, m->dst_shown, secs);
		for (t = 0; t < KV_TABLE_COUNT; t++)
			fprintf(m->cli->out, " %s %zu", table_names[t],
			    m->copied[t]);
		fprintf(m->cli->out, "\n%s: the key opens it and all %zu "
		    "records authenticate\n%s: its head (after the "
		    "store-migrate audit entry): generation %llu, hash %s\n",
		    m->dst_shown, rep->records, m->dst_shown,
		    (unsigned long long)h->generation, hex);
		return;
	}
	json_init(&j, m->cli->out);
	json_obj_begin(&j);
	json_key(&j, "from"); json_str(&j, m->src_shown);
	json_key(&j, "to"); json_str(&j, m->dst_shown);
	json_key(&j, "entries");
	json_obj_begin(&j);
	for (t = 0; t < KV_TABLE_COUNT; t++) {
		json_key(&j, table_names[t]);
		json_int(&j, (int64_t)m->copied[t]);
	}
	json_obj_end(&j);
	json_key(&j, "total"); json_int(&j, (int64_t)m->total);
	json_key(&j, "seconds");
	fprintf(j.fp, "%.3f", secs);    /* json.h has no decimals */
	j.first[j.depth] = false;
	json_key(&j, "verified"); json_bool(&j, true);
	json_key(&j, "records"); json_int(&j, (int64_t)rep->records);
	json_key(&j, "generation"); json_int(&j, (int64_t)h->generation);
	json_key(&j, "hash"); json_str(&j, hex);
	json_obj_end(&j);
	json_end(&j);
}

static int
migrate_opt(struct cli *cli, void *vctx, int c, const char *arg)
{
	struct mig *m = vctx;

	if (c == 't') {
		m->dst = arg;
		return CMD_OPT_OK;
	}
	if (c == 'L') {
		m->live = true;
		return CMD_OPT_OK;
	}
	return cli_usage(cli, "migrate", "unknown option");
}

int
cmd_migrate(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' },
		{ "live", no_argument, NULL, 'L' },
	};
	struct mig m;
	struct secret sec = { NULL, 0, 0 };
	struct store_verify_report rep;
	struct store_head h;
	struct timespec t0, t1;
	struct vs_err err;
	bool recovery;
	char **pos;
	int npos, ex, r;

	memset(&m, 0, sizeof(m));
	m.cli = cli;
	m.src_lock = m.dst_dirfd = m.dst_lock = -1;
	ex = cmd_parse(cli, "migrate", migrate_help, argc, argv, "", lo, 2,
	    migrate_opt, &m, &pos, &npos);
	if (ex != CMD_PARSED)
		return ex;
	if (npos != 0)
		return cli_usage(cli, "migrate", "too many arguments");
	if (m.dst == NULL || m.dst[0] == '\0')
		return cli_usage(cli, "migrate", "give the target: --to "
		    "LOCATION");
	if (cli->svc != NULL)
		return cli_fail(cli, VS_EINVAL, "migrate runs offline: stop "
		    "vmsealed, then 'vmseal --offline migrate --to ...'");
	m.src = cli->dir;
	store_location_show(m.src, m.src_shown);
	store_location_show(m.dst, m.dst_shown);
	if (strcmp(m.src, m.dst) == 0)
		return cli_usage(cli, "migrate", "the target is the source");
#ifndef HAVE_PQ
	/* Before the passphrase is asked: this build cannot write there. */
	if (store_location(m.dst, NULL) == STORE_BACKEND_PG)
		return cli_fail(cli, VS_EINVAL, "this vmseal was built without "
		    "PostgreSQL support");
#endif
	m.progress = cli->io->is_tty(cli, 2);
	vs_err_clear(&err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* 1: lock and unseal the source: nothing is written before the
	 * secret has opened it. */
	if ((r = lock_source(&m, &err)) != VS_OK)
		goto fail;
	if ((r = cli_read_unseal_secret(cli, &sec, &recovery, &err)) != VS_OK)
		goto fail;
	if ((r = unseal_source(&m, &sec, recovery, &err)) != VS_OK)
		goto fail;
	/* 2, 3: the copy, one target transaction. */
	if ((r = copy_all(&m, &err)) != VS_OK)
		goto fail;
	/* 4: open, verify and record. */
	r = verify_target(&m, &sec, recovery, &rep, &h, &err);
	prompt_free(&sec);
	if (r != VS_OK) {
		ex = cli_fail(cli, r, "the copy in %s does NOT verify: %s",
		    m.dst_shown, err.msg[0] ? err.msg : vs_strstatus(r));
		fprintf(cli->err, "%s: %s\n", cli->prog, undo_copy(&m));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	summary(&m, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, &rep, &h);
	ex = EX_VS_OK;
	goto out;
fail:
	prompt_free(&sec);
	ex = cli_fail_err(cli, &err);
out:
	free(m.head);
	if (m.src_lock >= 0)
		close(m.src_lock);
	if (m.dst_lock >= 0)
		close(m.dst_lock);
	if (m.dst_dirfd >= 0)
		close(m.dst_dirfd);
	return ex;
}
