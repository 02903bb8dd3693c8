/* STUB - being written.  Argon2id only for now. */
#include "config.h"
#include <string.h>
#include <sodium.h>
#include "pwhash.h"
enum pw_scheme pw_identify(const char *s) { return strncmp(s, "$argon2id$", 10) == 0 ? PW_ARGON2ID : PW_DES_CRYPT; }
const char *pw_scheme_name(enum pw_scheme s) { return s == PW_ARGON2ID ? "argon2id" : "legacy"; }
int pw_check_format(const char *stored, enum pw_scheme *scheme_r, struct vs_err *err) { (void)err; *scheme_r = pw_identify(stored); return VS_OK; }
int pw_hash(const char *password, size_t len, const struct pw_cost *cost, char out[PW_HASH_MAX], struct vs_err *err)
{
	if (crypto_pwhash_str(out, password, len, cost->opslimit, cost->memlimit) != 0)
		return vs_fail(err, VS_ENOMEM, "argon2id failed");
	return VS_OK;
}
int pw_verify(const char *stored, const char *password, size_t len, struct vs_err *err)
{
	(void)err;
	return crypto_pwhash_str_verify(stored, password, len) == 0;
}
bool pw_needs_upgrade(const char *stored, const struct pw_cost *cost) { (void)cost; return pw_identify(stored) != PW_ARGON2ID; }
