/*
 * prompt.h - reading secrets (passphrases, passwords, recovery keys) from
 * the terminal without echo or from a numbered file descriptor.
 *
 * Secrets never come from argv or the environment.  From a descriptor,
 * exactly one line is read, byte by byte so that nothing after it is
 * consumed; a trailing CR/LF is removed.  From the terminal (/dev/tty), echo
 * is switched off and restored, also when reading fails.
 *
 * Security: results live in sodium_malloc()ed memory; release them with
 * prompt_free(), which wipes.  Error messages never include the secret.
 */
#ifndef VS_PROMPT_H
#define VS_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "vs_err.h"

#define PROMPT_SECRET_MAX 1024

struct secret {
	char *s;        /* NUL-terminated, sodium_malloc()ed */
	size_t len;
	size_t cap;     /* bytes allocated at s (PROMPT_SECRET_MAX + 1) */
};

/* Read one line from fd.  what names the secret in errors ("passphrase"). */
int prompt_read_fd(int fd, const char *what, struct secret *out,
    struct vs_err *err);
/* Ask on /dev/tty without echo; confirm: ask twice and compare. */
int prompt_tty(const char *prompt, bool confirm, struct secret *out,
    struct vs_err *err);
/* fd >= 0: prompt_read_fd, else prompt_tty. */
int prompt_secret(int fd, const char *prompt, const char *what,
    bool confirm, struct secret *out, struct vs_err *err);
/* True when a terminal is available for prompts. */
bool prompt_have_tty(void);
void prompt_free(struct secret *sec);

#endif
