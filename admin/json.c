/*
 * json.c - tiny JSON writer (see json.h).
 */
#include "config.h"

#include <inttypes.h>
#include <time.h>

#include "json.h"

void
json_init(struct json *j, FILE *fp)
{
	j->fp = fp;
	j->depth = 0;
	j->first[0] = true;
}

/* Before a value: a comma unless it is the first in its container, or it
 * follows a key. */
static void
sep(struct json *j)
{
	if (!j->first[j->depth])
		fputc(',', j->fp);
	j->first[j->depth] = false;
}

static void
open_c(struct json *j, char c)
{
	sep(j);
	fputc(c, j->fp);
	if (j->depth + 1 < JSON_DEPTH_MAX)
		j->depth++;
	j->first[j->depth] = true;
}

static void
close_c(struct json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	fputc(c, j->fp);
}

void json_obj_begin(struct json *j) { open_c(j, '{'); }
void json_obj_end(struct json *j) { close_c(j, '}'); }
void json_arr_begin(struct json *j) { open_c(j, '['); }
void json_arr_end(struct json *j) { close_c(j, ']'); }

static void
raw_str(struct json *j, const char *s)
{
	const unsigned char *p;

	fputc('"', j->fp);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", j->fp); break;
		case '\\': fputs("\\\\", j->fp); break;
		case '\n': fputs("\\n", j->fp); break;
		case '\r': fputs("\\r", j->fp); break;
		case '\t': fputs("\\t", j->fp); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(j->fp, "\\u%04x", *p);
			else
				fputc(*p, j->fp);
		}
	}
	fputc('"', j->fp);
}

void
json_key(struct json *j, const char *key)
{
	sep(j);
	raw_str(j, key);
	fputc(':', j->fp);
	j->first[j->depth] = true;      /* the value takes no comma */
}

void
json_str(struct json *j, const char *s)
{
	sep(j);
	if (s == NULL)
		fputs("null", j->fp);
	else
		raw_str(j, s);
}

void
json_int(struct json *j, int64_t v)
{
	sep(j);
	fprintf(j->fp, "%" PRId64, v);
}

void
json_bool(struct json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->fp);
}

void
json_time(struct json *j, int64_t t)
{
	char b[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		json_str(j, NULL);
		return;
	}
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_str(j, b);
}

void
json_end(struct json *j)
{
	fputc('\n', j->fp);
}
