/*
 * httpapi.c - the HTTP front end of the self-service password change, for
 * Roundcube's password plugin driver "httpapi" (drivers/httpapi.php).
 *
 * Protocol: HTTP/1.x served by libmicrohttpd (not hand-written HTTP) on
 * the loopback address httpapi_listen (off by default).  One request:
 *   POST <any path>
 *   Content-Type: application/x-www-form-urlencoded
 *   httpapi_user_field=LOGIN&httpapi_curpass_field=OLD&
 *       httpapi_newpass_field=NEW       (default username, curpass, newpass)
 * The body is parsed by lib/form.c (strict, capped, fuzzed).  Answers, in
 * text/plain, one sentence and a newline (passwd.c's, never a password):
 *   200 "password changed"              (Roundcube: success; an expect
 *                                        regex may test /^password changed/)
 *   400 malformed form, 403 wrong current password, unknown user or a
 *   disabled account, 422 refused by the policy, 429 throttled
 *                                        (Roundcube: "could not save")
 *   503 temporary failure: sealed, overloaded, store error (Roundcube:
 *                                        "connection error"), 405 not
 *   POST (GET would put passwords in URLs and logs), 413 body over
 *   FORM_BODY_MAX, 415 another content type, 431 too many headers.
 *
 * Threads and limits: MHD's listening thread and one thread per
 * connection (MHD_USE_INTERNAL_POLLING_THREAD | THREAD_PER_CONNECTION);
 * at most selfservice_max_connections connections, each closed after
 * selfservice_timeout idle seconds; 16 KiB of MHD memory per connection
 * (request line and headers), at most HTTPAPI_HEADERS_MAX headers; the
 * body at most FORM_BODY_MAX bytes, gathered into sodium_malloc() memory.
 * The handler calls svc_passwd_change() (blocking: it waits for a hash
 * worker) on the connection's own thread, never on the event loop.
 *
 * Security: the socket is bound before privileges are dropped, to a
 * loopback address only (conf_listen_parse refuses others); MHD starts
 * only after the hash workers; the body (passwords) is wiped when the
 * request ends, whatever the outcome; MHD's own error lines go to the log
 * without request data; the client's address goes to the throttle.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "form.h"
#include "names.h"
#include "pwhash.h"
#include "service.h"

#define HTTPAPI_HEADERS_MAX 32
#define HTTPAPI_MEMORY (16 * 1024)
#define FORM_CT "application/x-www-form-urlencoded"

struct request {
	size_t len;
	bool over;
	char body[FORM_BODY_MAX];
};

static struct {
	struct svc *svc;
	int fd;
	struct MHD_Daemon *d;
} http = { .fd = -1 };

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char body[300];
	size_t n;

	n = (size_t)snprintf(body, sizeof(body), "%s\n", text);
	if (n >= sizeof(body))
		n = sizeof(body) - 1;
#if MHD_VERSION >= 0x00097701
	r = MHD_create_response_from_buffer_copy(n, body);
#else
	r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_COPY);
#endif
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
client_ip(struct MHD_Connection *conn, char *ip, size_t size)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ip[0] = '\0';
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, ip, (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, ip, (socklen_t)size);
}

static unsigned
status_of(enum passwd_result r)
{
	switch (r) {
	case PASSWD_OK: return MHD_HTTP_OK;
	case PASSWD_FAIL: return MHD_HTTP_FORBIDDEN;
	case PASSWD_DISABLED: return MHD_HTTP_FORBIDDEN;
	case PASSWD_POLICY: return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case PASSWD_THROTTLED: return MHD_HTTP_TOO_MANY_REQUESTS;
	default: return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
}

static const char *
result_name(enum passwd_result r)
{
	switch (r) {
	case PASSWD_OK: return "changed";
	case PASSWD_FAIL: return "fail";
	case PASSWD_THROTTLED: return "throttled";
	case PASSWD_POLICY: return "policy";
	case PASSWD_DISABLED: return "disabled";
	default: return "temp";
	}
}

/* The whole body is in: parse it, change, answer. */
static enum MHD_Result
complete(struct MHD_Connection *conn, struct request *rq)
{
	struct svc *s = http.svc;
	struct form_field f[3];
	struct passwd_change c;
	struct vs_err err;
	enum passwd_result r;
	char *user = NULL, *cur = NULL, *nw = NULL;
	char ip[INET6_ADDRSTRLEN], msg[256], who[SVC_LOG_NAME_BUF];
	char rip[NAME_QUOTE_BUF];
	enum MHD_Result ret;

	client_ip(conn, ip, sizeof(ip));
	name_quote(ip, strlen(ip), rip);
	if (rq->over) {
		svc_log(LOG_WARNING, "httpapi: request refused: rip=%s: the "
		    "body is over %d bytes", ip[0] ? rip : "-", FORM_BODY_MAX);
		return answer(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request too "
		    "large");
	}
	user = sodium_malloc(NAME_BUF);
	cur = sodium_malloc(PW_PASSWORD_MAX + 1);
	nw = sodium_malloc(PW_PASSWORD_MAX + 1);
	if (user == NULL || cur == NULL || nw == NULL) {
		ret = answer(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "temporary "
		    "failure, try again later");
		goto out;
	}
	memset(f, 0, sizeof(f));
	f[0].name = s->conf.httpapi_user_field;
	f[0].value = user;
	f[0].cap = NAME_BUF;
	f[1].name = s->conf.httpapi_curpass_field;
	f[1].value = cur;
	f[1].cap = PW_PASSWORD_MAX + 1;
	f[2].name = s->conf.httpapi_newpass_field;
	f[2].value = nw;
	f[2].cap = PW_PASSWORD_MAX + 1;
	vs_err_clear(&err);
	if (form_parse(rq->body, rq->len, f, 3, &err) != VS_OK) {
		/* The message names a configured field or a position. */
		svc_log(LOG_NOTICE, "httpapi: malformed request: rip=%s: %s",
		    ip[0] ? rip : "-", err.msg);
		ret = answer(conn, MHD_HTTP_BAD_REQUEST, err.msg);
		goto out;
	}
	sodium_memzero(rq->body, sizeof(rq->body));
	memset(&c, 0, sizeof(c));
	c.login = user;
	c.old_pw = cur;
	c.old_len = f[1].len;
	c.new_pw = nw;
	c.new_len = f[2].len;
	c.remote_ip = ip;
	c.via = "httpapi";
	msg[0] = '\0';
	r = svc_passwd_change(s, &c, msg, sizeof(msg));
	if (r != PASSWD_OK) {
		svc_auth_log_name(s, user, false, who);
		svc_log(LOG_NOTICE, "httpapi: password not changed: rip=%s "
		    "user=%s result=%s (%s)", ip[0] ? rip : "-", who,
		    result_name(r), msg);
	}
	ret = answer(conn, status_of(r), msg[0] ? msg : result_name(r));
out:
	if (user != NULL)
		sodium_free(user);      /* sodium_free wipes */
	if (cur != NULL)
		sodium_free(cur);
	if (nw != NULL)
		sodium_free(nw);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct request *rq = *con_cls;
	const char *ct;
	int n;

	(void)cls;
	(void)url;
	(void)version;
	if (rq == NULL) {
		/* The headers are in; the body is not read yet. */
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "only POST is served");
		n = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL,
		    NULL);
		if (n < 0 || n > HTTPAPI_HEADERS_MAX)
			return answer(conn,
			    MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
			    "too many headers");
		ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_TYPE);
		if (ct == NULL || strncasecmp(ct, FORM_CT,
		    strlen(FORM_CT)) != 0 || (ct[strlen(FORM_CT)] != '\0' &&
		    ct[strlen(FORM_CT)] != ';'))
			return answer(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			    "the body must be " FORM_CT);
		if ((rq = sodium_malloc(sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->len = 0;
		rq->over = false;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (*upload_data_size > sizeof(rq->body) - rq->len) {
			rq->over = true;        /* keep reading, then 413 */
		} else if (!rq->over) {
			memcpy(rq->body + rq->len, upload_data,
			    *upload_data_size);
			rq->len += *upload_data_size;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return complete(conn, rq);
}

/* The request's memory, wiped whatever happened to it. */
static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	if (*con_cls != NULL) {
		sodium_free(*con_cls);
		*con_cls = NULL;
	}
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	svc_log(LOG_WARNING, "httpapi: %s", line);
}

int
svc_httpapi_open(struct svc *s, struct vs_err *err)
{
	http.svc = s;
	if (s->conf.httpapi_listen[0] == '\0')
		return VS_OK;
	if ((http.fd = svc_listen_tcp("httpapi_listen", s->conf.httpapi_listen,
	    err)) < 0)
		return err->code;
	return VS_OK;
}

int
svc_httpapi_start(struct svc *s, struct vs_err *err)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	unsigned max = s->conf.selfservice_max_connections ?
	    s->conf.selfservice_max_connections : 8;
	unsigned timeout = s->conf.selfservice_timeout ?
	    s->conf.selfservice_timeout : 30;

	if (http.fd < 0)
		return VS_OK;
	if (strchr(s->conf.httpapi_listen, '[') != NULL)
		flags |= MHD_USE_IPv6;
	/* The logger first, so that MHD never writes to stderr itself. */
	http.d = MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)http.fd,
	    MHD_OPTION_CONNECTION_LIMIT, max,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPAPI_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_END);
	if (http.d == NULL)
		return vs_fail(err, VS_EIO, "httpapi: libmicrohttpd cannot "
		    "serve %s", s->conf.httpapi_listen);
	svc_log(LOG_INFO, "httpapi: serving %s", s->conf.httpapi_listen);
	return VS_OK;
}
