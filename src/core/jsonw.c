/*
 * jsonw.c — append-only JSON writer with string escaping (RFC 8259 §7).
 * Bytes that are not printable ASCII are written as \u00XX so the output
 * is always valid UTF-8 whatever the wire carried.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/jsonw.h"

void jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->first = 1;
    w->truncated = 0;
    if (cap)
        buf[0] = '\0';
}

static void put(struct jsonw *w, const char *s, size_t n)
{
    /* Keep one byte for the terminating NUL. */
    if (w->truncated || w->len + n + 1 > w->cap) {
        w->truncated = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_escaped(struct jsonw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            put(w, e, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            put(w, e, 6);
        } else {
            put(w, (const char *)&c, 1);
        }
    }
    put(w, "\"", 1);
}

static void key(struct jsonw *w, const char *k)
{
    if (!w->first)
        put(w, ",", 1);
    w->first = 0;
    put_escaped(w, k, strlen(k));
    put(w, ":", 1);
}

void jsonw_open(struct jsonw *w)
{
    put(w, "{", 1);
    w->first = 1;
}

void jsonw_open_member(struct jsonw *w, const char *k)
{
    key(w, k);
    jsonw_open(w);
}

void jsonw_close(struct jsonw *w)
{
    put(w, "}", 1);
    w->first = 0;
}

void jsonw_strn(struct jsonw *w, const char *k, const char *val, size_t len)
{
    key(w, k);
    put_escaped(w, val, len);
}

void jsonw_str(struct jsonw *w, const char *k, const char *val)
{
    if (!val) {
        key(w, k);
        put(w, "null", 4);
        return;
    }
    jsonw_strn(w, k, val, strlen(val));
}

void jsonw_int(struct jsonw *w, const char *k, int64_t val)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, val);
    key(w, k);
    put(w, tmp, (size_t)n);
}

void jsonw_bool(struct jsonw *w, const char *k, int val)
{
    key(w, k);
    put(w, val ? "true" : "false", val ? 4 : 5);
}

void jsonw_raw(struct jsonw *w, const char *k, const char *json)
{
    key(w, k);
    put(w, json, strlen(json));
}

size_t jsonw_finish(struct jsonw *w)
{
    static const char cut[] = "{\"truncated\":true}";
    /* A cut-off object is not JSON; say so in a form every reader parses. */
    if (w->truncated && w->cap > sizeof cut) {
        memcpy(w->buf, cut, sizeof cut);
        w->len = sizeof cut - 1;
        return w->len;
    }
    if (w->cap)
        w->buf[w->len < w->cap ? w->len : w->cap - 1] = '\0';
    return w->len;
}
