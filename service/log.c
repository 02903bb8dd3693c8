/*
 * log.c - vmsealed's log (see log.h): syslog or standard error.
 *
 * Security: a line is written as the caller formats it; callers never pass
 * secrets and quote peer-supplied names (lib/names.h name_quote).  The
 * syslog flag is set once at start, before any thread exists, and only
 * read afterwards.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static bool use_syslog;

void
svc_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		/* Under systemd the journal adds the tag itself. */
		if (getenv("JOURNAL_STREAM") == NULL)
			fprintf(stderr, "vmsealed[%ld]: ", (long)getpid());
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

int
svc_log_facility(const char *name)
{
	static const struct { const char *n; int f; } f[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(name, f[i].n) == 0)
			return f[i].f;
	return -1;
}

void
svc_log_syslog(int facility)
{
	openlog("vmsealed", LOG_PID | LOG_NDELAY, facility);
	use_syslog = true;
}

bool
svc_log_to_syslog(void)
{
	return use_syslog;
}
