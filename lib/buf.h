/*
 * buf.h - a growable byte buffer, a stdio stream into one, and secret
 * wiping.
 *
 * buf_* is used to build records and output.  A buffer that ever held a
 * secret is released with buf_free(), which wipes it first (every buffer is
 * wiped, so callers never have to remember which ones held secrets).
 * Growth never uses realloc(): it allocates the new block, copies, wipes
 * the old one and frees it, so no copy of the contents is left behind in
 * freed memory (realloc, and so open_memstream(), leave one at every
 * growth).  Growth is capped at BUF_MAX so that no peer-supplied length can
 * make it allocate without limit.
 *
 * buf_stream_open() gives a FILE that writes into a buf, for output that
 * may hold hashes (exports, the service's replies): it replaces
 * open_memstream(); its stdio buffer is its own and wiped at fclose().
 */
#ifndef VS_BUF_H
#define VS_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BUF_MAX (128u * 1024u * 1024u)

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* All return 0, or VS_ENOMEM / VS_ELIMIT. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_u8(struct buf *b, uint8_t v);
int buf_append_u32be(struct buf *b, uint32_t v);
int buf_append_u64be(struct buf *b, uint64_t v);
int buf_append_str(struct buf *b, const char *s);
/* Wipe and free; leaves b empty and reusable. */
void buf_free(struct buf *b);

/* A write-only stream appending to b (which may already hold data) until
 * b->len would pass max (capped at BUF_MAX).  A write that does not fit
 * fails as a whole (the stream's error flag is set, errno EFBIG, or
 * ENOMEM): check fclose() or ferror().  b stays the caller's: fclose() the
 * stream first (it flushes and wipes the stream's own buffer), then use
 * b->data/b->len and release it with buf_free().  NULL (errno set) when
 * the stream cannot be made. */
FILE *buf_stream_open(struct buf *b, size_t max);

/* For tests only: hook called with every block buf_reserve() and
 * buf_free() give back, after wiping it and before free(); NULL removes
 * it.  Not thread-safe; production code never sets it. */
void buf_set_release_hook(void (*hook)(const void *p, size_t n));

/* Wipe n bytes at p in a way the compiler cannot optimise away. */
void vs_wipe(void *p, size_t n);
/* Wipe a NUL-terminated string and free it; NULL is allowed. */
void vs_freestr(char *s);
/* strdup that returns NULL only on allocation failure (s may not be NULL). */
char *vs_strdup(const char *s);
char *vs_strndup(const char *s, size_t n);

uint32_t vs_get_u32be(const uint8_t *p);
uint64_t vs_get_u64be(const uint8_t *p);
void vs_put_u32be(uint8_t *p, uint32_t v);
void vs_put_u64be(uint8_t *p, uint64_t v);

#endif
