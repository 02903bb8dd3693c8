/*
 * fuzz_poppassd.c - libFuzzer target for lib/poppassd.c.
 *
 * Input: byte 0 seeds the piece sizes and the change results, the rest is
 * what a client sends on one connection.  The stream is run through the
 * state machine twice - whole, and as it arrives in random pieces (the
 * service's buffer: more is appended only while PP_MORE) - and both runs
 * must give the same replies, actions and change requests.  Every reply
 * is one printable line starting "200 " or "500 "; the bytes used are
 * within what was given; a PP_CHANGE has a user without spaces or
 * control characters and passwords within their caps; a closed session
 * stays closed.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "poppassd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define EVENTS_MAX 4096

struct event {
	enum pp_action act;
	char reply[POPPASSD_REPLY_MAX];
};

static struct event ev_whole[EVENTS_MAX], ev_part[EVENTS_MAX];

static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
check_reply(const char *r)
{
	size_t i, n = strlen(r);

	CHECK(n >= 4 && n < POPPASSD_REPLY_MAX);
	CHECK(memcmp(r, "200 ", 4) == 0 || memcmp(r, "500 ", 4) == 0);
	for (i = 0; i < n; i++)
		CHECK((unsigned char)r[i] >= 0x20 && (unsigned char)r[i] != 0x7f);
}

/* Run the machine over d[0..len), fed in pieces when pieces is set;
 * returns the number of events. */
static size_t
run(const uint8_t *d, size_t len, uint32_t seed, bool pieces,
    struct event *ev)
{
	struct poppassd p;
	char buf[POPPASSD_LINE_MAX * 2];
	size_t have = 0, off = 0, used, n = 0, step;
	enum pp_action a;
	bool closed = false;
	uint32_t rs = seed ^ 0x9e3779b9u;

	poppassd_init(&p);
	for (;;) {
		/* Append what the "network" delivers. */
		if (off < len && have < sizeof(buf)) {
			step = pieces ? 1 + next(&seed) % 97 : len - off;
			if (step > len - off)
				step = len - off;
			if (step > sizeof(buf) - have)
				step = sizeof(buf) - have;
			memcpy(buf + have, d + off, step);
			have += step;
			off += step;
		}
		for (;;) {
			a = poppassd_step(&p, buf, have, &used, ev[n].reply);
			CHECK(used <= have);
			if (a == PP_MORE) {
				CHECK(used == 0 && have < POPPASSD_LINE_MAX);
				break;
			}
			CHECK(!closed || a == PP_CLOSE);
			if (a == PP_CHANGE) {
				CHECK(p.state == PP_DONE);
				CHECK(p.user[0] != '\0');
				CHECK(strlen(p.user) <= POPPASSD_USER_MAX);
				CHECK(strpbrk(p.user, " \t\r\n") == NULL);
				CHECK(p.old_len >= 1 &&
				    p.old_len <= POPPASSD_PASS_MAX);
				CHECK(p.new_len >= 1 &&
				    p.new_len <= POPPASSD_PASS_MAX);
				CHECK(memchr(p.new_pw, '\0', p.new_len) == NULL);
				poppassd_result(&p, next(&rs) & 1,
				    (const char *)d, ev[n].reply);
				CHECK(p.old_len == 0 && p.new_len == 0);
			}
			/* poppassd_result's message is the raw input: made
			 * printable and cut. */
			check_reply(ev[n].reply);
			ev[n].act = a;
			if (n + 1 < EVENTS_MAX)
				n++;
			memmove(buf, buf + used, have - used);
			have -= used;
			if (a == PP_CLOSE) {
				closed = true;
				CHECK(p.state == PP_CLOSED);
				poppassd_wipe(&p);
				return n;
			}
		}
		if (off == len)
			break;
	}
	poppassd_wipe(&p);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nw, np, i;
	uint32_t seed;
	static uint8_t copy[1 << 16];

	if (size < 1 || size >= sizeof(copy))
		return 0;
	/* poppassd_result reads the input as a C string: give it a NUL. */
	memcpy(copy, data, size);
	copy[size] = 0;
	seed = 0x2545f491u ^ copy[0];
	nw = run(copy + 1, size - 1, seed, false, ev_whole);
	np = run(copy + 1, size - 1, seed, true, ev_part);
	CHECK(nw == np);
	for (i = 0; i < nw; i++) {
		CHECK(ev_whole[i].act == ev_part[i].act);
		CHECK(strcmp(ev_whole[i].reply, ev_part[i].reply) == 0);
	}
	return 0;
}
