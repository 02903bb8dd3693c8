/*
 * kv_pg_listen.c - what a PostgreSQL store handle does for a service
 * (vmsealed) beside its transactions: the read cache kept true by
 * LISTEN/NOTIFY, and this host's line in the hosts table.
 *
 * One thread, one connection of its own ("the listener"):
 *  1. connect; LISTEN vmseal_kv; make the hosts table if it is missing;
 *  2. the cache is made live (emptied), then warmed: one REPEATABLE READ
 *     snapshot taken after the LISTEN, the domains, users, addresses and
 *     aliases tables read in pages into the cache (up to its size);
 *  3. then, until the handle closes: every notification's payload is
 *     applied (kv_pg_cache.h: forget keys, or flush), and every
 *     KV_PG_BEAT_MS the host's row is written (name, pid, start, the
 *     database's now()) - which is also the check that the connection
 *     still answers, within the answer deadline;
 *  4. on any failure (connection lost, a beat not answered in time) the
 *     cache stops being live at once - every read goes to the database,
 *     which answers or fails (TEMP) as without a cache - and the thread
 *     starts again at 1 after KV_PG_RETRY_MS.
 *
 * Why this order is right: a commit's NOTIFY is delivered at its commit to
 * every session listening then, and to a session in a transaction only
 * when that transaction ends.  Every commit after the LISTEN is therefore
 * heard, and the warm-up's notifications come after its puts; every
 * commit before the LISTEN is in the warm-up's snapshot.  A commit whose
 * notification is on its way is the staleness window: measured as the
 * propagation delay (tests/bench/pg_e2e.sh).  A failed listener costs
 * at most KV_PG_BEAT_MS plus the deadline of answers from the cache
 * before every read goes to the database again.
 *
 * Writers that do not go through vmseal (psql, a restore) send nothing:
 * `NOTIFY vmseal_kv, '*'` then flushes every host's cache (doc/cluster.md).
 *
 * Security: the payloads are untrusted text, read by kvpg_notify_parse
 * (bounded, fuzzed); the hosts table holds host names, process ids and
 * times, which the database administrator sees anyway in
 * pg_stat_activity.  The listener's failures are kept as a message for
 * kv_pg_service_info(), with the conninfo's password hidden as every
 * message of the backend.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "kv_pg.h"
#include "kv_pg_cache.h"
#include "kv_pg_int.h"

#define KV_PG_BEAT_MS 2000
#define KV_PG_RETRY_MS 1000
#define KV_PG_HOSTS_MAX 256

static const char sql_listen[] = "LISTEN " KVPG_NOTIFY_CHANNEL;
static const char sql_hosts_create[] =
    "CREATE TABLE IF NOT EXISTS vmseal_hosts ("
    "name text PRIMARY KEY, pid integer NOT NULL, "
    "started timestamptz NOT NULL, seen timestamptz NOT NULL)";
static const char sql_beat[] =
    "INSERT INTO vmseal_hosts (name, pid, started, seen) "
    "VALUES ($1, $2::integer, to_timestamp($3::float8), now()) "
    "ON CONFLICT (name) DO UPDATE SET pid = EXCLUDED.pid, "
    "started = EXCLUDED.started, seen = now()";
static const char sql_ping[] = "SELECT 1";
static const char sql_hosts[] =
    "SELECT name, pid, "
    "floor(extract(epoch FROM (now() - seen)))::bigint, "
    "floor(extract(epoch FROM (now() - started)))::bigint "
    "FROM vmseal_hosts ORDER BY name LIMIT 256";
static const char sql_warm_begin[] =
    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
static const char sql_warm_page[] =
    "SELECT k, v FROM vmseal_kv WHERE tbl = $1::smallint AND k > $2 "
    "ORDER BY k LIMIT 512";

static void
set_state(struct kv_pg *pg, const char *msg)
{
	pthread_mutex_lock(&pg->lock);
	snprintf(pg->listen_msg, sizeof(pg->listen_msg), "%s", msg);
	pthread_mutex_unlock(&pg->lock);
}

/* The database answers (false) or not (true): the cache off with it. */
static void
set_down(struct kv_pg *pg, bool down)
{
	if (down)
		kvpg_cache_set_live(pg->cache, false);
	pthread_mutex_lock(&pg->lock);
	pg->down = down;
	pthread_mutex_unlock(&pg->lock);
}

int
kvpg_db_down(struct kv_pg *pg, struct vs_err *err)
{
	char m[VS_ERR_MSG_MAX];
	bool down;

	pthread_mutex_lock(&pg->lock);
	down = pg->down;
	if (down)
		snprintf(m, sizeof(m), "%s", pg->listen_msg);
	pthread_mutex_unlock(&pg->lock);
	if (!down)
		return VS_OK;
	return vs_fail(err, VS_EIO, "PostgreSQL is not answering (%s): try "
	    "later", m);
}

static void
late_state(struct kv_pg *pg)
{
	char m[VS_ERR_MSG_MAX];

	snprintf(m, sizeof(m), "listener: PostgreSQL did not answer within "
	    "%u s", pg->answer_ms / 1000);
	set_state(pg, m);
}

/* Wait for the stop pipe (true: stop) at most ms. */
static bool
nap(struct kv_pg *pg, int ms)
{
	struct pollfd p = { .fd = pg->stop_pipe[0], .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

/* Was res (late: the deadline passed) an answer of status want?  If not,
 * the listener's state says why (what: the statement's purpose).  res is
 * cleared. */
static bool
answered(struct kv_pg *pg, PGconn *conn, PGresult *res, bool late,
    ExecStatusType want, const char *what)
{
	bool ok = res != NULL && PQresultStatus(res) == want;

	if (late) {
		late_state(pg);
	} else if (!ok) {
		struct vs_err e;

		vs_err_clear(&e);
		kvpg_result_fail(pg, conn, res, what, &e);
		set_state(pg, e.msg);
	}
	PQclear(res);
	return ok;
}

/* One statement without parameters, within the deadline: true when its
 * answer has status want. */
static bool
simple(struct kv_pg *pg, PGconn *conn, const char *sql, ExecStatusType want)
{
	bool late;
	PGresult *res = kvpg_exec(pg, conn, sql, &late);

	return answered(pg, conn, res, late, want, "listener");
}

static bool
beat(struct kv_pg *pg, PGconn *conn)
{
	char pid[24], started[32];
	const char *vals[3] = { pg->host_name, pid, started };
	PGresult *res;
	bool late;

	if (!pg->hosts_ok)
		return simple(pg, conn, sql_ping, PGRES_TUPLES_OK);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(started, sizeof(started), "%lld", (long long)pg->started);
	res = kvpg_exec_params(pg, conn, sql_beat, 3, NULL, vals, NULL, NULL,
	    0, &late);
	return answered(pg, conn, res, late, PGRES_COMMAND_OK, "hosts table");
}

/* Read the kept tables into the cache from one snapshot.  False when the
 * connection failed (the caller starts over). */
static bool
warm(struct kv_pg *pg, PGconn *conn)
{
	static const enum kv_table tables[] = { KV_DOMAINS, KV_USERS,
	    KV_ADDRESSES, KV_ALIASES };
	struct kvpg_cache_stats st;
	unsigned char last[512];
	size_t t, lastlen;
	int i, rows, fmts[2] = { 0, 1 }, lens[2];
	char tbl[8];
	const char *vals[2];
	PGresult *res;
	bool late, ok = true;

	if (!simple(pg, conn, sql_warm_begin, PGRES_COMMAND_OK))
		return false;
	for (t = 0; ok && t < sizeof(tables) / sizeof(tables[0]); t++) {
		lastlen = 0;
		snprintf(tbl, sizeof(tbl), "%d", (int)tables[t]);
		for (;;) {
			vals[0] = tbl;
			vals[1] = (const char *)last;
			lens[0] = 0;
			lens[1] = (int)lastlen;
			res = kvpg_exec_params(pg, conn, sql_warm_page, 2, NULL,
			    vals, lens, fmts, 1, &late);
			if (res == NULL ||
			    PQresultStatus(res) != PGRES_TUPLES_OK ||
			    PQnfields(res) != 2 || PQfformat(res, 0) != 1 ||
			    PQfformat(res, 1) != 1) {
				PQclear(res);
				ok = false;
				break;
			}
			rows = PQntuples(res);
			for (i = 0; i < rows; i++) {
				int kl = PQgetlength(res, i, 0);
				int vl = PQgetlength(res, i, 1);

				if (PQgetisnull(res, i, 0) ||
				    PQgetisnull(res, i, 1) || kl <= 0 ||
				    (size_t)kl > sizeof(last) || vl < 0)
					continue;
				kvpg_cache_put(pg->cache, tables[t],
				    PQgetvalue(res, i, 0), (size_t)kl,
				    PQgetvalue(res, i, 1), (size_t)vl,
				    kvpg_cache_epoch(pg->cache));
				if (i == rows - 1) {
					memcpy(last, PQgetvalue(res, i, 0),
					    (size_t)kl);
					lastlen = (size_t)kl;
				}
			}
			PQclear(res);
			kvpg_cache_stats(pg->cache, &st);
			if (rows < 512 || st.bytes + 4096 > st.max_bytes)
				break;
		}
	}
	/* a failed warm-up: the caller starts over (what it kept is true,
	 * but the listener is not known to be well) */
	return simple(pg, conn, "ROLLBACK", PGRES_COMMAND_OK) && ok;
}

/* Apply the notifications libpq has read. */
static void
drain(struct kv_pg *pg, PGconn *conn)
{
	PGnotify *n;

	while ((n = PQnotifies(conn)) != NULL) {
		if (strcmp(n->relname, KVPG_NOTIFY_CHANNEL) == 0)
			kvpg_cache_apply(pg->cache, n->extra);
		PQfreemem(n);
	}
}

/* Connect, LISTEN, make the hosts table, go live, warm: the connection,
 * or NULL. */
static PGconn *
start(struct kv_pg *pg)
{
	struct vs_err e;
	PGconn *conn = NULL;

	vs_err_clear(&e);
	if (kvpg_connect(pg, &conn, &e) != VS_OK) {
		set_state(pg, e.msg);
		set_down(pg, true);
		return NULL;
	}
	if (!simple(pg, conn, sql_listen, PGRES_COMMAND_OK))
		goto fail;
	if (pg->host_name[0] != '\0' && !pg->hosts_ok) {
		/* a role that may not create tables: no hosts, still a
		 * cache (the failure is kept in the state message) */
		pg->hosts_ok = simple(pg, conn, sql_hosts_create,
		    PGRES_COMMAND_OK);
		if (PQstatus(conn) != CONNECTION_OK)
			goto fail;
	}
	if (!beat(pg, conn))
		goto fail;
	set_down(pg, false);
	kvpg_cache_set_live(pg->cache, true);
	if (!warm(pg, conn))
		goto fail;
	drain(pg, conn);
	set_state(pg, "listening");
	return conn;
fail:
	set_down(pg, true);
	PQfinish(conn);
	return NULL;
}

static void *
listen_main(void *arg)
{
	struct kv_pg *pg = arg;
	struct pollfd p[2];
	PGconn *conn = NULL;
	int64_t next = 0, now;
	int left;

	for (;;) {
		if (conn == NULL) {
			if ((conn = start(pg)) == NULL) {
				if (nap(pg, KV_PG_RETRY_MS))
					break;
				continue;
			}
			next = kvpg_now_ms() + KV_PG_BEAT_MS;
		}
		now = kvpg_now_ms();
		if (now >= next) {
			if (!beat(pg, conn))
				goto lost;
			drain(pg, conn);
			next = kvpg_now_ms() + KV_PG_BEAT_MS;
			continue;
		}
		left = (int)(next - now);
		p[0].fd = PQsocket(conn);
		p[0].events = POLLIN;
		p[0].revents = 0;
		p[1].fd = pg->stop_pipe[0];
		p[1].events = POLLIN;
		p[1].revents = 0;
		if (poll(p, 2, left) < 0 && errno != EINTR)
			goto lost;
		if (p[1].revents != 0)
			break;
		if (p[0].revents != 0) {
			if (!PQconsumeInput(conn)) {
				set_state(pg, "listener: connection lost");
				goto lost;
			}
			drain(pg, conn);
		}
		continue;
lost:
		set_down(pg, true);
		PQfinish(conn);
		conn = NULL;
		if (nap(pg, KV_PG_RETRY_MS))
			break;
	}
	kvpg_cache_set_live(pg->cache, false);
	PQfinish(conn);
	return NULL;
}

int
kv_pg_serve(struct kv *kv, const struct kv_pg_service *o, struct vs_err *err)
{
	struct kv_pg *pg = kvpg_of(kv);
	size_t i;
	int r;

	if (pg->serving)
		return vs_fail(err, VS_EINVAL, "already serving");
	if (o->host_name != NULL) {
		if (strlen(o->host_name) >= sizeof(pg->host_name))
			return vs_fail(err, VS_EINVAL, "host name longer than "
			    "%zu characters", sizeof(pg->host_name) - 1);
		for (i = 0; o->host_name[i] != '\0'; i++)
			if ((unsigned char)o->host_name[i] <= ' ' ||
			    (unsigned char)o->host_name[i] >= 0x7f)
				return vs_fail(err, VS_EINVAL, "host name: "
				    "printable ASCII without spaces only");
		snprintf(pg->host_name, sizeof(pg->host_name), "%s",
		    o->host_name);
	}
	if (o->answer_timeout_s >= 0) {
		if (o->answer_timeout_s > KV_PG_ANSWER_MAX_S)
			return vs_fail(err, VS_EINVAL, "answer deadline: 0 to "
			    "%d s", KV_PG_ANSWER_MAX_S);
		pg->answer_ms = (unsigned)o->answer_timeout_s * 1000;
	}
	if (o->cache_bytes == 0)
		return VS_OK;           /* no cache, no listener */
	if ((r = kvpg_cache_new(o->cache_bytes, &pg->cache, err)) != VS_OK)
		return r;
	if (pipe2(pg->stop_pipe, O_CLOEXEC) != 0) {
		kvpg_cache_free(&pg->cache);
		return vs_fail(err, VS_EIO, "pipe: %s", strerror(errno));
	}
	pg->started = time(NULL);
	snprintf(pg->listen_msg, sizeof(pg->listen_msg), "starting");
	if (pthread_create(&pg->listener, NULL, listen_main, pg) != 0) {
		close(pg->stop_pipe[0]);
		close(pg->stop_pipe[1]);
		kvpg_cache_free(&pg->cache);
		return vs_fail(err, VS_EIO, "cannot start the listener thread");
	}
	pg->serving = true;
	return VS_OK;
}

void
kvpg_serve_stop(struct kv_pg *pg)
{
	if (!pg->serving)
		return;
	if (write(pg->stop_pipe[1], "x", 1) < 0) {
		/* the thread then waits for its next beat */
	}
	pthread_join(pg->listener, NULL);
	close(pg->stop_pipe[0]);
	close(pg->stop_pipe[1]);
	kvpg_cache_free(&pg->cache);
	pg->serving = false;
}

void
kv_pg_service_info(struct kv *kv, struct kv_pg_service_info *i_r)
{
	struct kv_pg *pg = kvpg_of(kv);

	memset(i_r, 0, sizeof(*i_r));
	i_r->answer_timeout_s = pg->answer_ms / 1000;
	snprintf(i_r->host_name, sizeof(i_r->host_name), "%s", pg->host_name);
	if (pg->cache == NULL) {
		snprintf(i_r->listener, sizeof(i_r->listener), "off");
		return;
	}
	i_r->cache_on = true;
	kvpg_cache_stats(pg->cache, &i_r->cache);
	pthread_mutex_lock(&pg->lock);
	snprintf(i_r->listener, sizeof(i_r->listener), "%s", pg->listen_msg);
	pthread_mutex_unlock(&pg->lock);
}

static int
num(const char *s, long long *v_r)
{
	char *end;

	errno = 0;
	*v_r = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' ? 0 : -1;
}

/* A name from the table as shown: what kv_pg_serve accepts, anything
 * else as '?' (the table is the database's: not to be trusted). */
static void
show_name(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < size; i++)
		out[i] = (unsigned char)in[i] > ' ' &&
		    (unsigned char)in[i] < 0x7f && in[i] != '"' &&
		    in[i] != '\\' ? in[i] : '?';
	out[i] = '\0';
}

int
kv_pg_hosts(struct kv *kv, kv_pg_host_cb *cb, void *ctx, struct vs_err *err)
{
	struct kv_pg *pg = kvpg_of(kv);
	struct kv_pg_host h;
	PGconn *conn;
	PGresult *res;
	bool late;
	int i, rows, r = VS_OK;
	long long pid, seen, up;

	if (pg->serving && (r = kvpg_db_down(pg, err)) != VS_OK)
		return r;
	if ((conn = kvpg_pool_take(pg)) == NULL &&
	    (r = kvpg_connect(pg, &conn, err)) != VS_OK)
		return r;
	res = kvpg_exec(pg, conn, sql_hosts, &late);
	if (late) {
		PQfinish(conn);
		return kvpg_late_fail(pg, "cannot read the hosts table", err);
	}
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *st = res != NULL ?
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		if (st != NULL && strcmp(st, "42P01") == 0)
			r = VS_ENOTFOUND;       /* no such table yet */
		else
			r = kvpg_result_fail(pg, conn, res, "cannot read the "
			    "hosts table", err);
		if (r == VS_ENOTFOUND)
			vs_fail(err, r, "no host has written the hosts table");
		if (kvpg_conn_broken(conn, res))
			PQfinish(conn);
		else
			kvpg_pool_give(pg, conn);
		PQclear(res);
		return r;
	}
	rows = PQntuples(res);
	if (PQnfields(res) != 4 || rows > KV_PG_HOSTS_MAX)
		r = vs_fail(err, VS_ECORRUPT, "hosts table: unexpected answer");
	for (i = 0; r == VS_OK && i < rows; i++) {
		if (PQgetisnull(res, i, 0) || PQgetisnull(res, i, 1) ||
		    PQgetisnull(res, i, 2) || PQgetisnull(res, i, 3) ||
		    num(PQgetvalue(res, i, 1), &pid) != 0 ||
		    num(PQgetvalue(res, i, 2), &seen) != 0 ||
		    num(PQgetvalue(res, i, 3), &up) != 0) {
			r = vs_fail(err, VS_ECORRUPT, "hosts table: unexpected "
			    "answer");
			break;
		}
		show_name(PQgetvalue(res, i, 0), h.name, sizeof(h.name));
		h.pid = (long)pid;
		h.seen_ago_s = seen;
		h.up_s = up;
		h.self = strcmp(h.name, pg->host_name) == 0;
		if (cb(ctx, &h) != 0)
			break;
	}
	PQclear(res);
	kvpg_pool_give(pg, conn);
	return r;
}
