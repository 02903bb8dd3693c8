/*
 * pwpolicy.c - the password policy with libpwquality (see pwpolicy.h for
 * the rules, the settings and the answers).
 *
 * Security: the passwords are copied into sodium_malloc() memory to get
 * their NUL, and wiped with it before return; libpwquality's settings
 * are made afresh for each check (a SIGHUP-free, lock-free read of the
 * configuration) and freed; reasons come from libpwquality's own texts
 * (which name the rule, never the password) or from here.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <pwquality.h>
#include <sodium.h>

#include "pwpolicy.h"
#include "vs_err.h"

/* cracklib's dictionary reader keeps static state. */
static pthread_mutex_t pwq_mu = PTHREAD_MUTEX_INITIALIZER;

static int
say(char *reason, size_t size, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
say(char *reason, size_t size, int code, const char *fmt, ...)
{
	va_list ap;

	if (reason != NULL && size > 0) {
		va_start(ap, fmt);
		vsnprintf(reason, size, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* UTF-8 code points (a byte that does not continue one counts as one). */
static size_t
chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static char *
dup_secret(const char *s, size_t n)
{
	char *d;

	if ((d = sodium_malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static void
free_secret(char *d, size_t n)
{
	if (d != NULL) {
		sodium_memzero(d, n + 1);
		sodium_free(d);
	}
}

/* libpwquality's verdict on pw (lock held). */
static int
quality(const struct vs_conf *conf, const char *user, const char *pw,
    const char *old, char *reason, size_t size)
{
	pwquality_settings_t *pwq;
	void *aux = NULL;
	char text[PWPOLICY_REASON_MAX];
	const char *msg;
	int r, rc;

	if ((pwq = pwquality_default_settings()) == NULL)
		return say(reason, size, VS_ENOMEM, "out of memory");
	if (conf->password_quality_conf[0] != '\0') {
		r = pwquality_read_config(pwq, conf->password_quality_conf,
		    &aux);
		if (r != 0) {
			msg = pwquality_strerror(text, sizeof(text), r, aux);
			pwquality_free_settings(pwq);
			return say(reason, size, VS_EIO, "password_quality_conf "
			    "%s: %s", conf->password_quality_conf, msg);
		}
		aux = NULL;
	}
	if (pwquality_set_int_value(pwq, PWQ_SETTING_MIN_LENGTH,
	    (int)conf->password_min_length) != 0 ||
	    pwquality_set_int_value(pwq, PWQ_SETTING_DICT_CHECK,
	    conf->password_dictcheck ? 1 : 0) != 0) {
		pwquality_free_settings(pwq);
		return say(reason, size, VS_EIO, "libpwquality refused a "
		    "setting");
	}
	r = pwquality_check(pwq, pw, old, user, &aux);
	if (r >= 0) {
		rc = VS_OK;
	} else if (r == PWQ_ERROR_CRACKLIB_CHECK && aux != NULL &&
	    strstr((const char *)aux, "error loading dictionary") != NULL) {
		/* No dictionary: not the password's fault, and no pass. */
		rc = say(reason, size, VS_EIO, "the dictionary check is on "
		    "(password_dictcheck) but cracklib's dictionary cannot "
		    "be loaded: install cracklib-runtime, or set "
		    "password_dictcheck = off");
	} else if (r == PWQ_ERROR_MEM_ALLOC) {
		rc = say(reason, size, VS_ENOMEM, "out of memory");
	} else if (r == PWQ_ERROR_FATAL_FAILURE || r == PWQ_ERROR_RNG ||
	    r == PWQ_ERROR_GENERATION_FAILED || r == PWQ_ERROR_INTEGER ||
	    (r <= PWQ_ERROR_CFGFILE_OPEN && r >= PWQ_ERROR_NON_STR_SETTING)) {
		msg = pwquality_strerror(text, sizeof(text), r, aux);
		rc = say(reason, size, VS_EIO, "libpwquality: %s", msg);
	} else {
		/* The text it returns may be its own, not in text[]. */
		msg = pwquality_strerror(text, sizeof(text), r, aux);
		rc = say(reason, size, VS_EINVAL, "%s", msg);
	}
	pwquality_free_settings(pwq);
	return rc;
}

int
pwpolicy_check(const struct vs_conf *conf, const char *user,
    const char *newpw, size_t newlen, const char *oldpw, size_t oldlen,
    char *reason, size_t reasonsize)
{
	char *pw = NULL, *old = NULL, *name = NULL;
	const char *at;
	size_t ulen;
	int r;

	if (reason != NULL && reasonsize > 0)
		reason[0] = '\0';
	if (!conf->password_policy)
		return VS_OK;
	if (sodium_init() < 0)  /* for sodium_malloc; idempotent */
		return say(reason, reasonsize, VS_ENOMEM, "cannot initialise "
		    "libsodium");
	if (newpw == NULL || newlen == 0)
		return say(reason, reasonsize, VS_EINVAL, "The password is "
		    "empty");
	if (memchr(newpw, '\0', newlen) != NULL)
		return say(reason, reasonsize, VS_EINVAL, "The password holds "
		    "a NUL byte");
	if (chars(newpw, newlen) < conf->password_min_length)
		return say(reason, reasonsize, VS_EINVAL, "The password is "
		    "shorter than %u characters", conf->password_min_length);
	if (oldpw != NULL && oldlen == newlen &&
	    sodium_memcmp(oldpw, newpw, newlen) == 0)
		return say(reason, reasonsize, VS_EINVAL, "The password is "
		    "the same as the old one");
	if (oldpw != NULL && memchr(oldpw, '\0', oldlen) != NULL)
		oldpw = NULL;   /* cannot be compared as a C string */
	pw = dup_secret(newpw, newlen);
	if (oldpw != NULL)
		old = dup_secret(oldpw, oldlen);
	/* The user check on the local part: "alice2024" for alice@... */
	if (user != NULL) {
		at = strchr(user, '@');
		ulen = at != NULL && at > user ? (size_t)(at - user) :
		    strlen(user);
		name = dup_secret(user, ulen);
	}
	if (pw == NULL || (oldpw != NULL && old == NULL) ||
	    (user != NULL && name == NULL)) {
		r = say(reason, reasonsize, VS_ENOMEM, "out of memory");
	} else {
		pthread_mutex_lock(&pwq_mu);
		r = quality(conf, name, pw, old, reason, reasonsize);
		pthread_mutex_unlock(&pwq_mu);
	}
	free_secret(pw, newlen);
	free_secret(old, oldlen);
	if (name != NULL)
		free_secret(name, strlen(name));
	return r;
}
