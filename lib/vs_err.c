/*
 * vs_err.c - status codes and error strings (see vs_err.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vs_err.h"

int
vs_fail(struct vs_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
vs_err_clear(struct vs_err *err)
{
	if (err == NULL)
		return;
	err->code = VS_OK;
	err->msg[0] = '\0';
}

const char *
vs_strstatus(int code)
{
	switch (code) {
	case VS_OK: return "ok";
	case VS_ENOTFOUND: return "not found";
	case VS_EEXIST: return "already exists";
	case VS_EBADKEY: return "wrong passphrase or key";
	case VS_ECORRUPT: return "store data failed to authenticate";
	case VS_EIO: return "store error";
	case VS_EINVAL: return "invalid input";
	case VS_ENOMEM: return "out of memory";
	case VS_EBUSY: return "store in use";
	case VS_ESEALED: return "sealed";
	case VS_ELIMIT: return "size limit exceeded";
	}
	return "unknown error";
}
