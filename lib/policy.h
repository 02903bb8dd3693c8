/*
 * policy.h - Postfix's policy delegation protocol (the service side).
 *
 * Postfix sends "name=value" lines ending with an empty line; the server
 * answers "action=ACTION" and an empty line; the connection stays open for
 * the next request.  Attribute names are Postfix's (request, protocol_state,
 * sasl_username, sender, recipient, client_address, ...); unknown names
 * are ignored, as Postfix's documentation asks.
 *
 * This module parses a request incrementally from a byte stream and formats
 * replies; the decision is the service's.
 *
 * Line ends: Postfix sends "\n"; a "\r" just before the "\n" is dropped
 * too (a human testing with telnet), and counts towards the line cap.
 *
 * Security: each line is capped at POLICY_LINE_MAX bytes and a request at
 * POLICY_ATTRS_MAX attributes and POLICY_REQUEST_MAX bytes; a line without
 * '=' or holding NUL, a repeated attribute that we use, or an oversized
 * request is an error (the service then closes the connection).
 */
#ifndef VS_POLICY_H
#define VS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vs_err.h"

#define POLICY_LINE_MAX 2048
#define POLICY_ATTRS_MAX 64
#define POLICY_REQUEST_MAX 16384

/* The attributes vmseal uses; the strings are NUL-terminated copies owned
 * by the request ("" when absent). */
struct policy_request {
	char request[64];               /* "smtpd_access_policy" */
	char protocol_state[32];        /* "RCPT", "MAIL", "END-OF-MESSAGE"... */
	char sasl_username[256];
	char sender[330];
	char recipient[330];
	char client_address[64];
	char recipient_count[16];
	char instance[128];
	unsigned n_attrs;               /* all attributes seen, used or not */
};

/* Parse one request from the start of data[0..len).
 * Returns NETSTRING-like results: 0 need more input, 1 a whole request was
 * parsed (*used_r bytes consumed, up to and including the empty line;
 * req filled), or VS_EINVAL / VS_ELIMIT with a reason in err.  The parser
 * keeps no state: call it again from the start with more bytes; it says
 * POLICY_MORE only while no error is visible in the bytes seen, so input
 * in pieces gives the same result as input whole.
 * VS_EINVAL: NUL byte, line without '=', empty name, a used attribute
 * repeated, an empty request (empty line first).  VS_ELIMIT: a line above
 * POLICY_LINE_MAX bytes, more than POLICY_ATTRS_MAX attributes, a request
 * above POLICY_REQUEST_MAX bytes, a used attribute too long for its field
 * (never truncated).  Values are copied as sent (an empty value is "").
 * Unless POLICY_OK is returned, req is all zero and *used_r untouched. */
#define POLICY_MORE 0
#define POLICY_OK 1
int policy_parse(const uint8_t *data, size_t len,
    struct policy_request *req, size_t *used_r, struct vs_err *err);

/* Append "action=ACTION[ TEXT]\n\n" to out (no space when text is NULL
 * or "").  Newlines and control characters in action and text are
 * replaced by spaces; text is cut so that the line fits POLICY_LINE_MAX.
 * Returns 0, VS_EINVAL for an empty action, VS_ELIMIT for an action too
 * long for a line, VS_ENOMEM; on error nothing is appended. */
int policy_reply(struct buf *out, const char *action, const char *text);

#endif
