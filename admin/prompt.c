/*
 * prompt.c - secrets from a descriptor or the terminal (see prompt.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "prompt.h"

static int
alloc_secret(struct secret *out, struct vs_err *err)
{
	out->s = sodium_malloc(PROMPT_SECRET_MAX + 1);
	out->len = 0;
	out->cap = out->s ? PROMPT_SECRET_MAX + 1 : 0;
	if (out->s == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	return VS_OK;
}

void
prompt_free(struct secret *sec)
{
	if (sec->s != NULL)
		sodium_free(sec->s);   /* wipes */
	sec->s = NULL;
	sec->len = 0;
	sec->cap = 0;
}

/* Read one line from fd into out; VS_ENOTFOUND on EOF before anything. */
static int
read_line(int fd, const char *what, struct secret *out, struct vs_err *err)
{
	ssize_t n;
	char c;
	bool got = false;

	out->len = 0;
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vs_fail(err, VS_EIO, "cannot read the %s: %s",
			    what, strerror(errno));
		if (n == 0)
			break;
		got = true;
		if (c == '\n')
			break;
		if (c == '\0')
			return vs_fail(err, VS_EINVAL,
			    "the %s holds a NUL byte", what);
		if (out->len >= PROMPT_SECRET_MAX)
			return vs_fail(err, VS_EINVAL,
			    "the %s is longer than %d bytes", what,
			    PROMPT_SECRET_MAX);
		out->s[out->len++] = c;
	}
	if (!got)
		return vs_fail(err, VS_EINVAL, "no %s given (end of input)",
		    what);
	if (out->len > 0 && out->s[out->len - 1] == '\r')
		out->len--;
	out->s[out->len] = '\0';
	if (out->len == 0)
		return vs_fail(err, VS_EINVAL, "the %s is empty", what);
	return VS_OK;
}

int
prompt_read_fd(int fd, const char *what, struct secret *out,
    struct vs_err *err)
{
	int r;

	if ((r = alloc_secret(out, err)) != VS_OK)
		return r;
	if ((r = read_line(fd, what, out, err)) != VS_OK)
		prompt_free(out);
	return r;
}

bool
prompt_have_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int
ask_once(int tty, const char *prompt, struct secret *out, struct vs_err *err)
{
	struct termios old, quiet;
	int r, have_old;

	(void)write(tty, prompt, strlen(prompt));
	have_old = tcgetattr(tty, &old) == 0;
	if (have_old) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	r = read_line(tty, "input", out, err);
	if (have_old)
		tcsetattr(tty, TCSAFLUSH, &old);
	(void)write(tty, "\n", 1);
	return r;
}

int
prompt_tty(const char *prompt, bool confirm, struct secret *out,
    struct vs_err *err)
{
	struct secret again = { NULL, 0, 0 };
	int tty, r;

	tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0)
		return vs_fail(err, VS_EINVAL, "no terminal to ask on "
		    "(give the secret with a --*-fd option)");
	if ((r = alloc_secret(out, err)) != VS_OK)
		goto out;
	if ((r = ask_once(tty, prompt, out, err)) != VS_OK)
		goto out;
	if (confirm) {
		if ((r = alloc_secret(&again, err)) != VS_OK)
			goto out;
		if ((r = ask_once(tty, "Again: ", &again, err)) != VS_OK)
			goto out;
		if (again.len != out->len ||
		    sodium_memcmp(again.s, out->s, out->len) != 0)
			r = vs_fail(err, VS_EINVAL, "the two entries differ");
	}
out:
	prompt_free(&again);
	if (r != VS_OK)
		prompt_free(out);
	close(tty);
	return r;
}

int
prompt_secret(int fd, const char *prompt, const char *what, bool confirm,
    struct secret *out, struct vs_err *err)
{
	if (fd >= 0)
		return prompt_read_fd(fd, what, out, err);
	return prompt_tty(prompt, confirm, out, err);
}
