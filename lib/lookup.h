/*
 * lookup.h - the answers to Postfix's questions, computed from the store
 * with Postfix's own semantics (measured on Postfix 3.7, see DESIGN.md):
 *
 *   domains    is this domain hosted?            (virtual_mailbox_domains)
 *   mailboxes  is this address a mailbox?         (virtual_mailbox_maps)
 *   aliases    where does this address go?        (virtual_alias_maps)
 *   senders    which logins may send as this?     (smtpd_sender_login_maps)
 *
 * Postfix hands socketmap the full address exactly as the client wrote it,
 * so the work Postfix does for its own tables is done here: keys are
 * normalized (names.h: lower-cased domain, local part folded by the store's
 * setting); for an address with a recipient_delimiter extension
 * ("alice+tag@example.org") the address without it is tried next; and the
 * "@domain" catch-all alias applies only to addresses that are neither an
 * alias nor a mailbox (with or without extension).
 *
 * Resolving an address A (as delivery sees it): A is an alias, else A is a
 * mailbox, else A-without-extension is an alias, else it is a mailbox,
 * else A is unknown.  The first hit decides, so a mailbox address is never
 * redirected by an alias on its extension-less form.
 *
 *   domains:   OK <domain>           when hosted (keys holding '@' are
 *                                    not domains)
 *   mailboxes: OK <login>            for a mailbox address (or its
 *                                    extension-less form); never for
 *                                    "@domain" keys
 *   aliases:   OK <dest>,<dest>...   when A resolves to an alias (one
 *                                    level: Postfix feeds the destinations
 *                                    back and recurses itself); NOTFOUND
 *                                    when it resolves to a mailbox, so
 *                                    Postfix delivers there; when unknown,
 *                                    the domain's catch-all.  The key
 *                                    "@domain" gives the catch-all itself.
 *   senders:   OK <login>,<login>... the owner of the mailbox A resolves
 *                                    to; when A resolves to an alias, the
 *                                    owners of those of its destinations
 *                                    that resolve to mailboxes here (one
 *                                    level: an alias of an alias grants
 *                                    nothing; catch-alls give no sending
 *                                    right, "@domain" keys find nothing);
 *                                    plus a user whose login is A itself
 *                                    or A without its extension.  Logins
 *                                    are listed once, in that order.
 *
 * Disabled users: disabling blocks login, not delivery.  A disabled user's
 * addresses are still mailboxes (and still keep the catch-all off them) and
 * still list the user in senders (it cannot authenticate anyway);
 * lookup_sender_allowed() refuses a disabled login outright.
 *
 * Extensions are split as Postfix's split_addr() does: at the first
 * delimiter character in the local part, not when that would leave the
 * local part empty ("+tag@d" stays whole), never for postmaster,
 * mailer-daemon and double-bounce, and - when '-' is a delimiter
 * (owner_request_special=yes) - not for owner-* and *-request.
 *
 * A key that is not a valid name is simply not found (Postfix may ask for
 * anything a client typed).  Values are never empty.
 *
 * Errors are never "not found": a sealed store, a store error or a record
 * that fails to authenticate returns a negative VS_* code other than
 * VS_ENOTFOUND, which the service answers with TEMP.  (A sealed store is
 * reported by store_txn_begin() as VS_ESEALED, before any lookup runs.)
 * Any record read on the way can cause this: with a tampered catch-all,
 * unknown addresses in its domain get an error, not a bounce.
 *
 * o may be NULL for lookup_opts_default().  Values can be long (an alias
 * has up to REC_LIST_MAX destinations); the caller enforces any size limit
 * of its protocol.
 *
 * Ownership: *value_r is malloc()ed; free() it.  It is NULL on failure.
 */
#ifndef VS_LOOKUP_H
#define VS_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"
#include "vs_err.h"

#define LOOKUP_DELIMS_MAX 8

struct lookup_opts {
	/* Postfix's recipient_delimiter: each character starts an extension
	 * ("" = no extensions).  Default "+". */
	char delimiters[LOOKUP_DELIMS_MAX + 1];
};

void lookup_opts_default(struct lookup_opts *o);

int lookup_domain(struct store_txn *txn, const char *key, char **value_r,
    struct vs_err *err);
int lookup_mailbox(struct store_txn *txn, const struct lookup_opts *o,
    const char *key, char **value_r, struct vs_err *err);
int lookup_alias(struct store_txn *txn, const struct lookup_opts *o,
    const char *key, char **value_r, struct vs_err *err);
int lookup_senders(struct store_txn *txn, const struct lookup_opts *o,
    const char *key, char **value_r, struct vs_err *err);

/* May login send with this envelope sender?  1 yes, 0 no, negative VS_*
 * on error.  The empty sender (bounces) is always allowed.  Otherwise yes
 * only when login is an existing, enabled user listed by the senders map
 * for sender; an unknown or invalid login or sender is 0. */
int lookup_sender_allowed(struct store_txn *txn, const struct lookup_opts *o,
    const char *login, const char *sender, struct vs_err *err);

/* Copy addr without its extension into out (NAME_BUF bytes): the local
 * part (before the last '@', or all of addr without one) is cut at the
 * first delimiter character, unless that would leave it empty or the name
 * is one Postfix never splits (above).  Returns true when something was
 * cut.  delims NULL or "" cuts nothing; an addr of NAME_BUF bytes or more
 * gives "" and false. */
bool lookup_strip_extension(const char *addr, const char *delims, char *out);

#endif
