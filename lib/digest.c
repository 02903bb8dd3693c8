/* STUB - being written. */
#include "config.h"
#include <string.h>
#include "digest.h"
void digest_md5_init(struct digest_md5 *c) { memset(c, 0, sizeof(*c)); }
void digest_md5_update(struct digest_md5 *c, const void *p, size_t n) { (void)c; (void)p; (void)n; }
void digest_md5_final(struct digest_md5 *c, uint8_t out[DIGEST_MD5_LEN]) { (void)c; memset(out, 0, DIGEST_MD5_LEN); }
void digest_sha1_init(struct digest_sha1 *c) { memset(c, 0, sizeof(*c)); }
void digest_sha1_update(struct digest_sha1 *c, const void *p, size_t n) { (void)c; (void)p; (void)n; }
void digest_sha1_final(struct digest_sha1 *c, uint8_t out[DIGEST_SHA1_LEN]) { (void)c; memset(out, 0, DIGEST_SHA1_LEN); }
