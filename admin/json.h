/*
 * json.h - a tiny JSON writer for --json output.
 *
 * Writes straight to a FILE; strings are escaped per RFC 8259 (control
 * characters as \u00XX, non-ASCII bytes passed through as they are, since
 * the store holds ASCII names).  The caller writes the structure; commas
 * are handled by the json_* calls through a small nesting stack.
 */
#ifndef VS_JSON_H
#define VS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

struct json {
	FILE *fp;
	int depth;
	bool first[JSON_DEPTH_MAX];
};

void json_init(struct json *j, FILE *fp);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
/* Object member key (before a value). */
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);   /* NULL -> null */
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
/* Seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (0 -> null). */
void json_time(struct json *j, int64_t t);
/* Ends the document with a newline. */
void json_end(struct json *j);

#endif
