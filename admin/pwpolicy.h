/*
 * pwpolicy.h - the password policy for passwords a person chooses: the
 * self-service change (service/passwd.c: poppassd, httpapi) and "vmseal
 * user passwd"/"user add".  Never for imports (a hash is not checked).
 *
 * Checks, in order (vmseal.conf: password_policy, password_min_length,
 * password_quality_conf, password_dictcheck; vmseal.conf(5)):
 *   1. password_policy = off: everything passes;
 *   2. no NUL byte, at least password_min_length characters (UTF-8 code
 *      points; libpwquality's credits never lower this floor);
 *   3. libpwquality (the library behind PAM's pam_pwquality): the
 *      settings of password_quality_conf (a pwquality.conf; none: the
 *      library's defaults), then minlen = password_min_length and
 *      dictcheck = password_dictcheck; pwquality_check() with the old
 *      password (when given: not the same, not too similar) and the user
 *      name (not contained in the password).
 * The dictionary check needs cracklib's dictionary (Debian:
 * cracklib-runtime).  When it is on and the dictionary cannot be loaded,
 * the answer is VS_EIO with a reason saying so - never a silent pass.
 *
 * Thread safety: one mutex around libpwquality and cracklib (cracklib's
 * dictionary reader keeps static state).
 *
 * Security: the passwords are copied (NUL-terminated, for libpwquality)
 * into sodium_malloc()ed memory and wiped before return; a reason never
 * holds a password or a part of one (libpwquality's messages name the
 * rule that failed, not the text).
 */
#ifndef VS_PWPOLICY_H
#define VS_PWPOLICY_H

#include <stddef.h>

#include "conf.h"

/* Cap of a reason worth showing; the caller's reasonsize may be less. */
#define PWPOLICY_REASON_MAX 256

/*
 * Check newpw[0..newlen) for user (may be NULL: no user-name check),
 * oldpw[0..oldlen) the current password (NULL: none).  VS_OK; VS_EINVAL
 * with a reason that may be shown to the user; VS_EIO (libpwquality could
 * not check: its configuration file, the dictionary) or VS_ENOMEM, with
 * a reason for the operator.
 */
int pwpolicy_check(const struct vs_conf *conf, const char *user,
    const char *newpw, size_t newlen, const char *oldpw, size_t oldlen,
    char *reason, size_t reasonsize);

#endif
