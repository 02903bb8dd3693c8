/*
 * vs_err.h - status codes and error strings shared by the whole core library.
 *
 * The core library never exits and never logs: every function that can fail
 * returns one of the VS_* codes below and, when given a struct vs_err, writes
 * a one-line, human-readable reason into it.  The binaries decide what to do
 * with the code (exit status, log line, protocol reply).
 *
 * Security: error messages may name a user, a file or a line number, never a
 * password, a hash, a key or a passphrase.  Callers building messages from
 * peer data must keep to that rule.
 */
#ifndef VS_ERR_H
#define VS_ERR_H

#include <stddef.h>

enum vs_status {
	VS_OK = 0,
	VS_ENOTFOUND = -1,  /* the name is not in the store (a definite "no") */
	VS_EEXIST = -2,     /* the name is already in the store */
	VS_EBADKEY = -3,    /* wrong passphrase / recovery key */
	VS_ECORRUPT = -4,   /* a record or the store failed to authenticate */
	VS_EIO = -5,        /* the store could not be read or written */
	VS_EINVAL = -6,     /* invalid input (name, option, file line) */
	VS_ENOMEM = -7,     /* out of memory */
	VS_EBUSY = -8,      /* the store is locked by another process */
	VS_ESEALED = -9,    /* the key is not loaded */
	VS_ELIMIT = -10,    /* a size limit was exceeded */
};

#define VS_ERR_MSG_MAX 512

struct vs_err {
	int code;
	char msg[VS_ERR_MSG_MAX];
};

/* Set err (if not NULL) to code and a printf-style message; returns code so
 * callers can write "return vs_fail(err, VS_EINVAL, "...")". */
int vs_fail(struct vs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reset err to VS_OK and an empty message. */
void vs_err_clear(struct vs_err *err);

/* A short, fixed name for a status code ("not found", "wrong key", ...).
 * Returns a static string. */
const char *vs_strstatus(int code);

#endif
