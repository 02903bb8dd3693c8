/*
 * log.h - vmsealed's log: syslog with the configured facility, or standard
 * error in the foreground (--foreground, and under systemd's journal).
 *
 * Protocol: one line per call, printf-style; at start the log goes to
 * standard error until svc_log_syslog() opens syslog.  Under systemd
 * (JOURNAL_STREAM set) standard-error lines carry no "vmsealed[pid]: "
 * tag, since the journal adds its own.
 *
 * Security: no caller ever passes a secret (passphrases, passwords, keys,
 * record contents); login names appear only as service/guard.c decides
 * (log_names).  Nothing here allocates or reads peer input.
 */
#ifndef VS_SVC_LOG_H
#define VS_SVC_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Log one line at prio (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO). */
void svc_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The syslog facility named name ("mail", "daemon", "auth", "authpriv",
 * "local0".."local7"), or -1. */
int svc_log_facility(const char *name);
/* From now on log to syslog as "vmsealed" with this facility. */
void svc_log_syslog(int facility);
/* true once svc_log_syslog() was called (a fatal error then also goes to
 * standard error, for whoever started the service by hand). */
bool svc_log_to_syslog(void);

#endif
