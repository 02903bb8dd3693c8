/*
 * buf.c - growable byte buffer, a stdio stream into one, and secret wiping
 * (see buf.h).
 *
 * Security: every block given back (growth, buf_free, the stream's stdio
 * buffer) is wiped with sodium_memzero() before free(); sizes are capped
 * at BUF_MAX before any arithmetic can overflow.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "vs_err.h"

void
vs_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		sodium_memzero(p, n);
}

void
vs_freestr(char *s)
{
	if (s == NULL)
		return;
	vs_wipe(s, strlen(s));
	free(s);
}

char *
vs_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
vs_strdup(const char *s)
{
	return vs_strndup(s, strlen(s));
}

static void (*release_hook)(const void *, size_t);

void
buf_set_release_hook(void (*hook)(const void *p, size_t n))
{
	release_hook = hook;
}

/* Wipe a block of ours and free it. */
static void
release(uint8_t *p, size_t n)
{
	if (p == NULL)
		return;
	vs_wipe(p, n);
	if (release_hook != NULL)
		release_hook(p, n);
	free(p);
}

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t want, ncap;
	uint8_t *n;

	if (extra > BUF_MAX || b->len > BUF_MAX - extra)
		return VS_ELIMIT;
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap *= 2;
	if (ncap > BUF_MAX)
		ncap = BUF_MAX;
	/* Never realloc: the old block may hold a secret and must be wiped. */
	n = malloc(ncap);
	if (n == NULL)
		return VS_ENOMEM;
	if (b->data != NULL) {
		memcpy(n, b->data, b->len);
		release(b->data, b->cap);
	}
	b->data = n;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	int r = buf_reserve(b, n);

	if (r != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_append_u8(struct buf *b, uint8_t v)
{
	return buf_append(b, &v, 1);
}

int
buf_append_u32be(struct buf *b, uint32_t v)
{
	uint8_t t[4];

	vs_put_u32be(t, v);
	return buf_append(b, t, 4);
}

int
buf_append_u64be(struct buf *b, uint64_t v)
{
	uint8_t t[8];

	vs_put_u64be(t, v);
	return buf_append(b, t, 8);
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

void
buf_free(struct buf *b)
{
	release(b->data, b->cap);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* --- a stream into a buf --- */

/* stdio's buffer for the stream: ours, so that it can be wiped. */
#define BUF_STREAM_IOBUF 4096

struct buf_stream {
	struct buf *b;
	size_t max;
	char iobuf[BUF_STREAM_IOBUF];
};

static ssize_t
stream_write(void *cookie, const char *p, size_t n)
{
	struct buf_stream *s = cookie;
	int r;

	if (n > s->max || s->b->len > s->max - n) {
		errno = EFBIG;
		return -1;
	}
	if ((r = buf_append(s->b, p, n)) != 0) {
		errno = r == VS_ENOMEM ? ENOMEM : EFBIG;
		return -1;
	}
	return (ssize_t)n;
}

/* Called by fclose() after the last flush: stdio is done with iobuf. */
static int
stream_close(void *cookie)
{
	struct buf_stream *s = cookie;

	release((uint8_t *)s, sizeof(*s));
	return 0;
}

FILE *
buf_stream_open(struct buf *b, size_t max)
{
	static const cookie_io_functions_t io = {
		.write = stream_write,
		.close = stream_close,
	};
	struct buf_stream *s;
	FILE *fp;

	if (b == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->b = b;
	s->max = max < BUF_MAX ? max : BUF_MAX;
	if ((fp = fopencookie(s, "w", io)) == NULL) {
		free(s);
		return NULL;
	}
	if (setvbuf(fp, s->iobuf, _IOFBF, sizeof(s->iobuf)) != 0) {
		fclose(fp);
		errno = ENOMEM;
		return NULL;
	}
	return fp;
}

uint32_t
vs_get_u32be(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

uint64_t
vs_get_u64be(const uint8_t *p)
{
	return ((uint64_t)vs_get_u32be(p) << 32) | vs_get_u32be(p + 4);
}

void
vs_put_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
vs_put_u64be(uint8_t *p, uint64_t v)
{
	vs_put_u32be(p, (uint32_t)(v >> 32));
	vs_put_u32be(p + 4, (uint32_t)v);
}
