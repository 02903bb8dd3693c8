/*
 * ipc.h - framed messages between vmseal's own processes (the vmseal
 * client and vmsealed's admin socket).
 *
 * A message is one netstring whose payload is a sequence of netstrings,
 * the message's items: the first names the message ("run", "secret",
 * "exit", ...), the rest are its arguments.  ipc_send/ipc_recv check the
 * framing only (item count and sizes capped, the outer and inner framing
 * must fill the bytes exactly, trailing bytes are an error); the auth
 * socket (authproto.h) uses them as they are.
 *
 * The admin conversation (vmseal client <-> vmsealed, helper/cli_client.c
 * and service/admin.c) goes through ipc_verb_send/ipc_verb_recv, which
 * check every message against ONE table of verbs (ipc.c, OpenSMTPD's imsg
 * discipline): who may send it, how many items it has (extra items are an
 * error), each item's kind (bytes, text without NUL, decimal int, 0/1)
 * and maximum length, and that the receiver expects it now.  Neither end
 * parses a message the table has not passed:
 *
 *   from     verb      items after the verb
 *   client   run       PASSPHRASE-FD PASSPHRASE RECOVERY-KEY-FD
 *                      RECOVERY-KEY ARG... (1 to 251 args)
 *   client   ok        [DATA]
 *   client   fail      CODE MSG
 *   service  secret    FD PROMPT WHAT CONFIRM
 *   service  have_tty  -
 *   service  is_tty    FD
 *   service  input     PATH
 *   service  output    PATH DATA
 *   service  exit      CODE STDOUT STDERR
 *
 * In "run", a secret the operator gave with --passphrase-fd or
 * --recovery-key-fd travels with the request (FD "-1" and an empty item
 * when none): the client read it before sending.  Other secrets (the
 * terminal, --password-fd, ...) are asked for with "secret".
 *
 * I/O is blocking with a timeout (poll), on a connected stream socket.
 *
 * Security: items may carry secrets (a password or passphrase on its way
 * to the service): the frame buffers are struct buf, wiped when freed.
 * Error messages name verbs, items and lengths, never an item's content
 * (an unknown verb is quoted, cut to 16 printable bytes).
 */
#ifndef VS_IPC_H
#define VS_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vs_err.h"

/* The largest message: an import file travels in one (64 MiB). */
#define IPC_MSG_MAX (64u * 1024u * 1024u)
#define IPC_ITEMS_MAX 256

struct ipc_msg {
	struct buf frame;               /* owns the bytes */
	const uint8_t **items;          /* point into frame */
	size_t *lens;
	size_t n;
	int verb;                       /* ipc_verb_recv: enum ipc_verb */
};

/* --- the admin conversation's verbs --- */

enum ipc_verb {
	IPC_RUN, IPC_OK, IPC_FAIL,                      /* from the client */
	IPC_SECRET, IPC_HAVE_TTY, IPC_IS_TTY, IPC_INPUT, IPC_OUTPUT,
	IPC_EXIT,                                       /* from the service */
	IPC_NVERBS
};
enum ipc_side { IPC_CLIENT = 1, IPC_SERVICE = 2 };
#define IPC_BIT(v) (1u << (v))
/* What each side may be sent at a given moment. */
#define IPC_EXPECT_ANSWER (IPC_BIT(IPC_OK) | IPC_BIT(IPC_FAIL))
#define IPC_EXPECT_REQUEST (IPC_BIT(IPC_SECRET) | IPC_BIT(IPC_HAVE_TTY) | \
	IPC_BIT(IPC_IS_TTY) | IPC_BIT(IPC_INPUT) | IPC_BIT(IPC_OUTPUT) | \
	IPC_BIT(IPC_EXIT))

/* Caps of the table's items (besides IPC_MSG_MAX for data). */
#define IPC_SECRET_MAX 1024     /* = PROMPT_SECRET_MAX (admin/prompt.h) */
#define IPC_ARG_MAX 65536       /* one argument of the command line */
#define IPC_PATH_MAX 4095
#define IPC_PROMPT_MAX 255
#define IPC_WHAT_MAX 63
/* "run" VERB + 4 secret items + at most this many arguments. */
#define IPC_RUN_ARGS_MAX (IPC_ITEMS_MAX - 5)

/* The verb's name ("run"); NULL if v is out of range. */
const char *ipc_verb_name(int v);
/* Check msg (as ipc_recv left it) against the table: its first item a
 * known verb sent by side `from`, in the set `expect` (IPC_BIT()s), with
 * its arity and items' kinds and lengths.  Sets msg->verb.  VS_EINVAL
 * (VS_ELIMIT for an item over its length) with a message naming the
 * verb and the item. */
int ipc_verb_check(struct ipc_msg *msg, enum ipc_side from, unsigned expect,
    struct vs_err *err);
/* ipc_recv (max IPC_MSG_MAX) then ipc_verb_check; on a check failure the
 * message is freed (wiped). */
int ipc_verb_recv(int fd, enum ipc_side from, unsigned expect,
    int timeout_ms, struct ipc_msg *msg, struct vs_err *err);
/* Send verb v with args[0..n) (lens[i] == (size_t)-1: strlen), checked
 * against the same table first (a message the peer would refuse is never
 * sent: VS_EINVAL/VS_ELIMIT, nothing written). */
int ipc_verb_send(int fd, enum ipc_side from, int v,
    const void *const *args, const size_t *lens, size_t n, int timeout_ms,
    struct vs_err *err);
/* Item i of a checked message as an int (items of kind int only; 0
 * otherwise). */
int ipc_item_int(const struct ipc_msg *msg, size_t i);

/* Connect a stream socket to the Unix socket at path; -1 with errno on
 * failure (a path too long for sockaddr_un is ENAMETOOLONG). */
int ipc_connect(const char *path);

/* Send items[0..n) as one message.  timeout_ms < 0: no timeout. */
int ipc_send(int fd, const void *const *items, const size_t *lens, size_t n,
    int timeout_ms, struct vs_err *err);
/* Same, for NUL-terminated strings. */
int ipc_send_strs(int fd, const char *const *items, size_t n, int timeout_ms,
    struct vs_err *err);

/* Receive one message of at most max bytes.  VS_ENOTFOUND when the peer
 * closed the connection before a new message began. */
int ipc_recv(int fd, size_t max, int timeout_ms, struct ipc_msg *msg,
    struct vs_err *err);
/* Item i as a NUL-terminated copy in out (len bytes); false if it does
 * not fit or holds a NUL. */
int ipc_item_str(const struct ipc_msg *msg, size_t i, char *out,
    size_t len);
/* Item i equals s. */
int ipc_item_is(const struct ipc_msg *msg, size_t i, const char *s);
void ipc_msg_free(struct ipc_msg *msg);

#endif
