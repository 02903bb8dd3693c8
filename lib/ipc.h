/*
 * ipc.h - framed messages between vmseal's own processes (the vmseal
 * client and vmsealed's admin socket).
 *
 * A message is one netstring whose payload is a sequence of netstrings,
 * the message's items: the first names the message ("run", "out",
 * "secret", "exit", ...), the rest are its arguments (see service/admin.c
 * for the conversation).  Both sides validate every message fully: item
 * count and sizes are capped, the outer and inner framing must fill the
 * bytes exactly, trailing bytes are an error.
 *
 * I/O is blocking with a timeout (poll), on a connected stream socket.
 *
 * Security: items may carry secrets (a password on its way to the
 * service): the frame buffers are struct buf, wiped when freed.
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
};

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
