/*
 * sockmap.h - Postfix's socketmap protocol (the service side).
 *
 * Postfix sends a netstring "NAME KEY" (map name, one space, the key as the
 * client gave it); the server answers a netstring:
 *   "OK VALUE"       found (VALUE is never empty: Postfix 3.7 treats an
 *                    empty OK as a configuration error)
 *   "NOTFOUND "      not found (the trailing space is part of the protocol)
 *   "TEMP REASON"    try again later (sealed, store error, overload)
 *   "PERM REASON"    permanent error (malformed request)
 * Postfix keeps a connection per process and reuses it; requests are
 * answered in order.
 *
 * This module parses and checks a request and formats replies; it does no
 * lookup (see lookup.h) and no I/O.
 *
 * Security: the request is capped at SOCKMAP_REQUEST_MAX bytes (Postfix
 * itself limits socketmap replies to 100000 bytes); the map name must be
 * one of the known names; the key may not be empty, may not hold NUL,
 * control characters or spaces.  Reasons in TEMP/PERM replies are fixed
 * strings, quoting at most the map name through name_quote(), never the
 * key.
 */
#ifndef VS_SOCKMAP_H
#define VS_SOCKMAP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vs_err.h"

/* Longest request payload accepted (a key is at most an address, 320
 * bytes; Postfix keys are short).  Longer requests get PERM and the
 * connection is closed. */
#define SOCKMAP_REQUEST_MAX 1024
/* Longest reply payload (Postfix's own limit is 100000). */
#define SOCKMAP_REPLY_MAX 100000

enum sockmap_map {
	SOCKMAP_DOMAINS,        /* virtual_mailbox_domains */
	SOCKMAP_MAILBOXES,      /* virtual_mailbox_maps */
	SOCKMAP_ALIASES,        /* virtual_alias_maps */
	SOCKMAP_SENDERS,        /* smtpd_sender_login_maps */
};

struct sockmap_request {
	enum sockmap_map map;
	char key[SOCKMAP_REQUEST_MAX + 1];      /* NUL-terminated copy */
};

/* Parse a request payload (the netstring's content): a known map name
 * (case-sensitive), exactly one space, a non-empty key without NUL,
 * control characters (DEL included) or spaces.  Bytes >= 0x80 are passed
 * on: the lookup (names.c) refuses them.  The key is copied as sent (not
 * lower-cased).  VS_EINVAL with a short reason suitable for a PERM reply
 * ("unknown map name \"x\"", "empty key", "key holds a control
 * character", ...); VS_ELIMIT "request too long" above
 * SOCKMAP_REQUEST_MAX.  On error req->key is "". */
int sockmap_parse(const uint8_t *p, size_t n, struct sockmap_request *req,
    struct vs_err *err);

/* Map name as Postfix writes it ("domains", ...). */
const char *sockmap_map_name(enum sockmap_map m);

/* Append the reply netstring to out.  status: "OK", "NOTFOUND", "TEMP",
 * "PERM"; text: the value or reason (may be NULL; ignored for NOTFOUND,
 * whose payload is always "NOTFOUND ").  An OK with an empty value is
 * turned into "TEMP empty value" - never sent - and one whose value holds
 * a control character into "TEMP value holds a control character" (a
 * value is never altered).  Control characters in a TEMP/PERM reason
 * become spaces; an empty reason becomes "unspecified error".  A payload
 * longer than SOCKMAP_REPLY_MAX becomes "TEMP reply too long".  Returns
 * 0, VS_EINVAL for an unknown status, or VS_ELIMIT / VS_ENOMEM; on error
 * nothing is appended. */
int sockmap_reply(struct buf *out, const char *status, const char *text);

#endif
