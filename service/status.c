/*
 * status.c - what "vmseal status" shows of a running vmsealed (the admin
 * command, service/admin.c): its state, the store's backend and health
 * (one timed read), on a PostgreSQL store this host, its read cache and
 * every host's last contact (lib/kv_pg_listen.c), the counters of every
 * socket; as text or as one JSON object.  Reads only: counters are a racy
 * snapshot, the store is read under the key lock for reading.  Shows no
 * secret: names of hosts, counts and times.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#ifdef HAVE_PQ
#include "kv_pg.h"
#endif
#include "service.h"

/* --- status: the PostgreSQL part (this host, its cache, the others) --- */

#ifdef HAVE_PQ
#define STATUS_HOSTS_MAX 64
struct host_list {
	struct kv_pg_host h[STATUS_HOSTS_MAX];
	size_t n;
};

static int
host_cb(void *ctx, const struct kv_pg_host *h)
{
	struct host_list *l = ctx;

	if (l->n == STATUS_HOSTS_MAX)
		return 1;
	l->h[l->n++] = *h;
	return 0;
}
#endif

/* json: one "cluster" member (null on LMDB); text: its lines. */
static void
status_cluster(struct svc *s, FILE *out, struct json *j)
{
#ifdef HAVE_PQ
	struct kv_pg_service_info in;
	struct host_list *hl;
	struct vs_err herr;
	int hr;
	size_t i;
	uint64_t asked;

	if (!store_service_info(s->st, &in)) {
		if (j != NULL) {
			json_key(j, "cluster");
			json_str(j, NULL);
		}
		return;
	}
	if ((hl = calloc(1, sizeof(*hl))) == NULL)
		return;
	vs_err_clear(&herr);
	hr = store_hosts(s->st, host_cb, hl, &herr);
	asked = in.cache.hits + in.cache.absent_hits + in.cache.misses;
	if (j != NULL) {
		json_key(j, "cluster");
		json_obj_begin(j);
		json_key(j, "host_name"); json_str(j, in.host_name);
		json_key(j, "answer_timeout_s");
		json_int(j, (int64_t)in.answer_timeout_s);
		json_key(j, "listener"); json_str(j, in.listener);
		json_key(j, "cache");
		if (in.cache_on) {
			json_obj_begin(j);
			json_key(j, "live"); json_bool(j, in.cache.live);
			json_key(j, "entries");
			json_int(j, (int64_t)in.cache.entries);
			json_key(j, "bytes"); json_int(j, (int64_t)in.cache.bytes);
			json_key(j, "max_bytes");
			json_int(j, (int64_t)in.cache.max_bytes);
			json_key(j, "hits"); json_int(j, (int64_t)in.cache.hits);
			json_key(j, "absent_hits");
			json_int(j, (int64_t)in.cache.absent_hits);
			json_key(j, "misses");
			json_int(j, (int64_t)in.cache.misses);
			json_key(j, "invalidations");
			json_int(j, (int64_t)in.cache.invalidations);
			json_key(j, "flushes");
			json_int(j, (int64_t)in.cache.flushes);
			json_obj_end(j);
		} else {
			json_str(j, NULL);
		}
		json_key(j, "hosts");
		if (hr == VS_OK) {
			json_arr_begin(j);
			for (i = 0; i < hl->n; i++) {
				json_obj_begin(j);
				json_key(j, "name"); json_str(j, hl->h[i].name);
				json_key(j, "self"); json_bool(j, hl->h[i].self);
				json_key(j, "pid");
				json_int(j, (int64_t)hl->h[i].pid);
				json_key(j, "last_contact_s");
				json_int(j, (int64_t)hl->h[i].seen_ago_s);
				json_key(j, "up_s");
				json_int(j, (int64_t)hl->h[i].up_s);
				json_obj_end(j);
			}
			json_arr_end(j);
		} else {
			json_str(j, NULL);
		}
		json_key(j, "hosts_error");
		json_str(j, hr == VS_OK ? NULL : herr.msg);
		json_obj_end(j);
		free(hl);
		return;
	}
	fprintf(out, "this host:    %s (PostgreSQL answer deadline %u s)\n",
	    in.host_name[0] != '\0' ? in.host_name : "(no name)",
	    in.answer_timeout_s);
	if (!in.cache_on)
		fprintf(out, "read cache:   off (pg_cache_mb = 0): every lookup "
		    "asks PostgreSQL\n");
	else
		fprintf(out, "read cache:   %s, %zu records (%.1f of %zu MiB), "
		    "%.1f%% of %llu reads answered; listener: %s\n",
		    in.cache.live ? "live" : "NOT LIVE (reads go to "
		    "PostgreSQL)", in.cache.entries,
		    (double)in.cache.bytes / 1048576.0,
		    in.cache.max_bytes >> 20, asked == 0 ? 0.0 :
		    100.0 * (double)(in.cache.hits + in.cache.absent_hits) /
		    (double)asked, (unsigned long long)asked, in.listener);
	if (hr != VS_OK)
		fprintf(out, "hosts:        unknown - %s\n", herr.msg);
	for (i = 0; hr == VS_OK && i < hl->n; i++)
		fprintf(out, "%s%s%s: last contact %llds ago (pid %ld, up "
		    "%llds)\n", i == 0 ? "hosts:        " : "              ",
		    hl->h[i].name, hl->h[i].self ? " (this host)" : "",
		    hl->h[i].seen_ago_s, hl->h[i].pid, hl->h[i].up_s);
	free(hl);
#else
	(void)s;
	(void)out;
	if (j != NULL) {
		json_key(j, "cluster");
		json_str(j, NULL);
	}
#endif
}

void
svc_status_print(struct svc *s, FILE *out, bool json)
{
	static const char *const kinds[SOCK_KINDS] = { "admin", "socketmap",
	    "policy", "auth" };
	struct store_counts counts;
	struct store_txn *txn = NULL;
	struct svc_stats st = s->stats;        /* a racy snapshot: counters */
	bool sealed, have_counts = false;
	time_t now = time(NULL);
	struct json j;
	int k;
	struct timespec t0, t1;
	struct vs_err herr;
	double ms = 0;
	const char *backend = store_backend(s->st) == STORE_BACKEND_PG ?
	    "postgresql" : "lmdb";

	/* The store's health: one read transaction counting the tables
	 * (for PostgreSQL a round trip to the database), timed. */
	vs_err_clear(&herr);
	pthread_rwlock_rdlock(&s->keylock);
	sealed = store_is_sealed(s->st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!sealed && store_txn_begin(s->st, false, &txn, &herr) == VS_OK) {
		have_counts = store_count(txn, &counts, &herr) == VS_OK;
		store_txn_abort(&txn);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_rwlock_unlock(&s->keylock);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (json) {
		json_init(&j, out);
		json_obj_begin(&j);
		json_key(&j, "running"); json_bool(&j, true);
		json_key(&j, "sealed"); json_bool(&j, sealed);
		json_key(&j, "pid"); json_int(&j, (int64_t)getpid());
		json_key(&j, "uptime"); json_int(&j, (int64_t)(now - s->started));
		json_key(&j, "unsealed_for");
		json_int(&j, sealed ? 0 : (int64_t)(now - s->unsealed_at));
		json_key(&j, "store"); json_str(&j, store_dir(s->st));
		json_key(&j, "backend"); json_str(&j, backend);
		json_key(&j, "store_health");
		json_str(&j, sealed ? NULL : have_counts ? "ok" : herr.msg);
		json_key(&j, "store_read_ms");
		if (sealed) json_str(&j, NULL);
		else json_int(&j, (int64_t)(ms + 0.5));
		json_key(&j, "socket_dir"); json_str(&j, s->conf.socket_dir);
		json_key(&j, "unsealed_from_keyfile");
		json_bool(&j, s->from_keyfile);
		json_key(&j, "auto_seal_after");
		json_int(&j, (int64_t)s->conf.auto_seal_after);
		json_key(&j, "key_locked_in_ram");
		if (sealed) json_str(&j, NULL);
		else json_bool(&j, seal_keys_locked(store_keys(s->st)));
		json_key(&j, "counts");
		if (have_counts) {
			json_obj_begin(&j);
			json_key(&j, "domains"); json_int(&j, (int64_t)counts.domains);
			json_key(&j, "users"); json_int(&j, (int64_t)counts.users);
			json_key(&j, "addresses");
			json_int(&j, (int64_t)counts.addresses);
			json_key(&j, "aliases"); json_int(&j, (int64_t)counts.aliases);
			json_obj_end(&j);
		} else {
			json_str(&j, NULL);
		}
		json_key(&j, "connections");
		json_obj_begin(&j);
		for (k = 0; k < SOCK_KINDS; k++) {
			json_key(&j, kinds[k]);
			json_int(&j, (int64_t)st.connections[k]);
		}
		json_obj_end(&j);
		json_key(&j, "lookups");
		json_obj_begin(&j);
		json_key(&j, "total"); json_int(&j, (int64_t)st.lookups);
		json_key(&j, "found"); json_int(&j, (int64_t)st.found);
		json_key(&j, "notfound"); json_int(&j, (int64_t)st.notfound);
		json_key(&j, "temp"); json_int(&j, (int64_t)st.temp);
		json_key(&j, "perm"); json_int(&j, (int64_t)st.perm);
		json_obj_end(&j);
		json_key(&j, "policy");
		json_obj_begin(&j);
		json_key(&j, "requests");
		json_int(&j, (int64_t)st.policy_requests);
		json_key(&j, "rejects"); json_int(&j, (int64_t)st.policy_rejects);
		json_key(&j, "defers"); json_int(&j, (int64_t)st.policy_defers);
		json_obj_end(&j);
		json_key(&j, "auth");
		json_obj_begin(&j);
		json_key(&j, "requests"); json_int(&j, (int64_t)st.auth_requests);
		json_key(&j, "throttled");
		json_int(&j, (int64_t)st.auth_throttled);
		json_key(&j, "busy"); json_int(&j, (int64_t)st.auth_busy);
		json_key(&j, "hash_verifications");
		json_int(&j, (int64_t)__atomic_load_n(&s->stats.auth_hashes,
		    __ATOMIC_RELAXED));
		json_key(&j, "too_costly");
		json_int(&j, (int64_t)__atomic_load_n(
		    &s->stats.auth_too_costly, __ATOMIC_RELAXED));
		json_obj_end(&j);
		json_key(&j, "refused_connections");
		json_int(&j, (int64_t)st.refused);
		status_cluster(s, NULL, &j);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	fprintf(out, "vmsealed:     running (pid %ld), up %lds\n",
	    (long)getpid(), (long)(now - s->started));
	fprintf(out, "state:        %s\n", sealed ?
	    "SEALED - lookups answer 'temporary failure'; run vmseal unseal" :
	    "unsealed");
	fprintf(out, "store:        %s (%s)\n", store_dir(s->st), backend);
	if (!sealed && have_counts)
		fprintf(out, "store health: ok (a read in %.1f ms)\n", ms);
	else if (!sealed)
		fprintf(out, "store health: FAILING - %s\n", herr.msg);
	status_cluster(s, out, NULL);
	fprintf(out, "sockets:      %s\n", s->conf.socket_dir);
	if (!sealed)
		fprintf(out, "key memory:   %s\n",
		    seal_keys_locked(store_keys(s->st)) ? "locked in RAM" :
		    "NOT locked in RAM (mlock failed: it may reach swap)");
	if (s->from_keyfile)
		fprintf(out, "WARNING:      unsealed at start from the "
		    "key file %s - the key lies next to the lock (demo "
		    "only)\n", s->conf.unseal_keyfile);
	if (s->conf.auto_seal_after > 0)
		fprintf(out, "auto seal:    after %us without admin "
		    "contact\n", s->conf.auto_seal_after);
	if (have_counts)
		fprintf(out, "counts:       %zu domains, %zu users, "
		    "%zu addresses, %zu aliases\n", counts.domains,
		    counts.users, counts.addresses, counts.aliases);
	fprintf(out, "connections:  admin %lu, socketmap %lu, policy %lu,"
	    " auth %lu (refused over limit: %lu)\n", st.connections[0],
	    st.connections[1], st.connections[2], st.connections[3],
	    st.refused);
	fprintf(out, "lookups:      %lu (found %lu, not found %lu, "
	    "temporary %lu, malformed %lu)\n", st.lookups, st.found,
	    st.notfound, st.temp, st.perm);
	fprintf(out, "policy:       %lu requests, %lu rejected, "
	    "%lu deferred\n", st.policy_requests, st.policy_rejects,
	    st.policy_defers);
	fprintf(out, "auth:         %lu requests, %lu throttled, %lu "
	    "busy, %lu password hashes verified, %lu refused as too costly "
	    "to verify\n", st.auth_requests, st.auth_throttled,
	    st.auth_busy, (unsigned long)__atomic_load_n(
	    &s->stats.auth_hashes, __ATOMIC_RELAXED),
	    (unsigned long)__atomic_load_n(&s->stats.auth_too_costly,
	    __ATOMIC_RELAXED));
}

