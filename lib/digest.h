/*
 * digest.h - MD5 and SHA-1, for verifying legacy password hashes only.
 *
 * libsodium (rightly) has neither.  They are needed only to check hashes
 * imported from older systems ($apr1$, {SHA}, {SSHA}, {PLAIN-MD5}, {SMD5}),
 * which are replaced by Argon2id at the first successful login.  Writing
 * these two small, well-specified functions (RFC 1321, FIPS 180-4, checked
 * against their published test vectors) beats linking all of OpenSSL's
 * libcrypto into the process that holds the key.  Never use them for
 * anything new.
 */
#ifndef VS_DIGEST_H
#define VS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_MD5_LEN 16
#define DIGEST_SHA1_LEN 20

struct digest_md5 {
	uint32_t state[4];
	uint64_t count;
	uint8_t block[64];
};

struct digest_sha1 {
	uint32_t state[5];
	uint64_t count;
	uint8_t block[64];
};

void digest_md5_init(struct digest_md5 *c);
void digest_md5_update(struct digest_md5 *c, const void *p, size_t n);
/* Writes the digest and wipes the context. */
void digest_md5_final(struct digest_md5 *c, uint8_t out[DIGEST_MD5_LEN]);

void digest_sha1_init(struct digest_sha1 *c);
void digest_sha1_update(struct digest_sha1 *c, const void *p, size_t n);
void digest_sha1_final(struct digest_sha1 *c, uint8_t out[DIGEST_SHA1_LEN]);

#endif
