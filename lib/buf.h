/*
 * buf.h - a growable byte buffer, and secret wiping.
 *
 * buf_* is used to build records and output.  A buffer that ever held a
 * secret is released with buf_free(), which wipes it first (every buffer is
 * wiped, so callers never have to remember which ones held secrets).
 * Growth is capped at BUF_MAX so that no peer-supplied length can make it
 * allocate without limit.
 */
#ifndef VS_BUF_H
#define VS_BUF_H

#include <stddef.h>
#include <stdint.h>

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
