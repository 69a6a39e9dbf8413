/*
 * jsonw.h — a tiny JSON writer into a caller-supplied buffer.
 *
 * Findings carry evidence built on the RADIUS path, where jansson's
 * allocation per value would cost too much; this writer appends to a fixed
 * buffer, escapes every string (wire data is hostile: User-Name may hold
 * quotes or control bytes), and marks the result truncated rather than
 * overflowing.  Parsing JSON (policies, API bodies) uses jansson.
 */
#ifndef M2MG_CORE_JSONW_H
#define M2MG_CORE_JSONW_H

#include <stddef.h>
#include <stdint.h>

struct jsonw {
    char *buf;
    size_t cap;
    size_t len;
    int first;          /* no comma before the next member */
    int truncated;
};

void jsonw_init(struct jsonw *w, char *buf, size_t cap);
void jsonw_open(struct jsonw *w);           /* "{" */
void jsonw_close(struct jsonw *w);          /* "}" */
/* "key":{ — a nested object member; close it with jsonw_close(). */
void jsonw_open_member(struct jsonw *w, const char *key);
void jsonw_str(struct jsonw *w, const char *key, const char *val);
void jsonw_strn(struct jsonw *w, const char *key, const char *val, size_t len);
void jsonw_int(struct jsonw *w, const char *key, int64_t val);
void jsonw_bool(struct jsonw *w, const char *key, int val);
/* A member whose value is already JSON text (an object built elsewhere). */
void jsonw_raw(struct jsonw *w, const char *key, const char *json);
/* NUL-terminates and returns the length. */
size_t jsonw_finish(struct jsonw *w);

#endif
