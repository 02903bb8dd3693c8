/*
 * names.h - the one place where domains, addresses and login names are
 * checked and normalized.
 *
 * Every name that enters the store or is looked up in it goes through these
 * functions first, so that "Alice@SomeDomain.IE" and "alice@somedomain.ie"
 * are the same key.  Domains are lower-cased ASCII (IDNA is a later
 * concern: non-ASCII is refused with a clear error).  Local parts are
 * lower-cased when fold_local is set (the store's setting, default on).
 * Login names follow the same rule as local parts and may contain one '@'.
 *
 * Refused everywhere: control characters (NUL, TAB, LF, ...), space, ':'
 * (the separator of htpasswd and passwd-file) and anything longer than the
 * limits below.  Error messages quote at most the first 64 characters of the
 * offending name, with non-printable bytes escaped.
 *
 * All functions write NAME_BUF-sized out buffers and set out to "" on
 * failure.
 */
#ifndef VS_NAMES_H
#define VS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "vs_err.h"

#define NAME_DOMAIN_MAX 253
#define NAME_LOCAL_MAX 64
#define NAME_LOGIN_MAX 255
#define NAME_ADDRESS_MAX (NAME_LOCAL_MAX + 1 + NAME_DOMAIN_MAX)
/* Big enough for any normalized name, NUL included. */
#define NAME_BUF (NAME_ADDRESS_MAX + NAME_LOGIN_MAX + 2)

/* Normalize a domain ("Example.COM" -> "example.com"; a trailing dot is
 * removed).  Labels: 1-63 of [a-z0-9-_], no leading/trailing '-'.
 * out must hold NAME_BUF bytes.  Returns VS_OK or VS_EINVAL. */
int name_domain(const char *in, char *out, struct vs_err *err);

/* Normalize an address "local@domain" (exactly one '@').  The local part is
 * 1-64 printable ASCII characters other than space and @ : " \ < > , ; ( )
 * [ ]; the domain follows name_domain().  When allow_catchall is set, the
 * form "@domain" is accepted too (an alias catch-all).  Returns VS_OK or
 * VS_EINVAL. */
int name_address(const char *in, bool fold_local, bool allow_catchall,
    char *out, struct vs_err *err);

/* Normalize a login name (same character rules as a local part, may hold
 * one '@' followed by a valid domain, which is normalized as a domain).
 * At most NAME_LOGIN_MAX characters once normalized.  Returns VS_OK or
 * VS_EINVAL. */
int name_login(const char *in, bool fold_local, char *out,
    struct vs_err *err);

/* Pointer to the domain part of a normalized address (after '@'), or NULL. */
const char *name_domain_of(const char *address);

/* Write a printable, truncated copy of untrusted text for an error message
 * (at most the first 64 of the len bytes of in, NUL included; non-printables
 * and the quoting characters '"' and '\' as \xNN; "..." when cut).
 * out must hold 64*4+4 bytes. */
#define NAME_QUOTE_BUF (64 * 4 + 4)
void name_quote(const char *in, size_t len, char *out);

#endif
