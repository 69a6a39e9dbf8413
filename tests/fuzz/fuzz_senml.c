/*
 * fuzz_senml.c — libFuzzer harness for the SenML decoder
 * (src/coap/senml.c) and the device-profile check (src/coap/profile.c).
 *
 * Input: one selector octet, then the payload.  Selector bit 0: the
 * format (0 JSON, 1 CBOR); bits 1-3: max_records (1, 5, ... 25, or
 * SENML_MAX_RECORDS for 7); bit 4: max_bytes 64 instead of 4096.
 *
 * Properties, beyond "does not crash or leak":
 *   - the verdict is a known code, never SENML_E_INVALID; "too large"
 *     exactly when the payload is over max_bytes; a refusal leaves no
 *     record, carries a printable reason and field, and an offset inside
 *     the payload;
 *   - every accepted record is resolved: a name of 1..64 bytes in
 *     RFC 8428 §4.5.1's set starting with a letter or digit, a printable
 *     unit, finite numbers, a value or a sum, a string value that is
 *     UTF-8 without U+0000 (checked here independently), indexes rising
 *     and below the pack's length and the limit;
 *   - decoding the same input again, in the same pack and in another one,
 *     gives the same verdict, error and records;
 *   - the resolved records, written back as a resolved pack (§4.6) in
 *     JSON and in CBOR by the encoders here, decode to the same records;
 *   - an accepted CBOR pack is one well-formed item for libcbor's own
 *     parser, an array as long as the records sent; a JSON document
 *     jansson refuses is never accepted;
 *   - the evidence of a refusal is printable and bounded, and the profile
 *     check's verdict names a record of the pack.
 * Seeds: tests/fuzz/corpus/fuzz_senml/ (tests/fuzz/make_senml_corpus.py):
 * the RFC 8428 examples in both formats and one input per refusal.
 */
#include <math.h>
#include <string.h>

#include <cbor.h>
#include <jansson.h>

#include "coap/profile.h"
#include "coap/senml.h"
#include "fuzz.h"

#define NOW 1700000000.0
#define OUT_MAX (2 * SENML_MAX_BYTES)

static struct senml_pack *pack_a, *pack_b;
static struct profile *prof;

static void init(void)
{
    static const char profile_json[] =
        "{\"schema\": {\"temp\": {\"type\": \"number\", \"unit\": \"Cel\", \"min\": -40,"
        " \"max\": 85, \"required\": true}, \"label\": {\"type\": \"string\"},"
        " \"open\": {\"type\": \"boolean\"}, \"nfv-reader\": {\"type\": \"data\"}}}";
    const struct senml_limits cap = { SENML_MAX_BYTES, SENML_MAX_RECORDS };
    char err[256];
    if (senml_pack_new(&cap, &pack_a) != 0 || senml_pack_new(&cap, &pack_b) != 0 ||
        profile_parse(profile_json, sizeof profile_json - 1, &prof, err, sizeof err) != 0)
        abort();
}

static bool printable_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

/* RFC 3629, read again: UTF-8 without overlongs, surrogates or U+0000. */
static bool utf8_ok(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t c = s[i], cp;
        size_t n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                 : (c & 0xf8) == 0xf0 ? 3 : 9;
        if (c == 0 || n == 9 || len - i <= n)
            return false;
        cp = n == 0 ? c : c & (0x3fu >> n);
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

static void check_record(const struct senml_pack *p, size_t i, long prev_index, size_t sent)
{
    const struct senml_record *r = &p->records[i];
    FUZZ_CHECK(r->name_len == strnlen(r->name, sizeof r->name));
    FUZZ_CHECK(r->name_len >= 1 && r->name_len <= SENML_NAME_MAX);
    FUZZ_CHECK(senml_name_valid(r->name, r->name_len));
    FUZZ_CHECK(r->base_len <= r->name_len);
    FUZZ_CHECK(r->unit_len == strnlen(r->unit, sizeof r->unit));
    for (size_t k = 0; k < r->unit_len; k++)
        FUZZ_CHECK(r->unit[k] > 0x20 && r->unit[k] < 0x7f);
    FUZZ_CHECK(r->kind <= SENML_KIND_DATA);
    FUZZ_CHECK(r->kind != SENML_KIND_NONE || r->has_sum);
    FUZZ_CHECK(isfinite(r->number) && isfinite(r->sum) && isfinite(r->time));
    FUZZ_CHECK(r->has_sum || r->sum == 0);
    FUZZ_CHECK(isfinite(r->update_time) && r->update_time >= 0);
    FUZZ_CHECK(r->relative_time || r->time >= SENML_RELATIVE_TIME_LIMIT);
    if (r->kind == SENML_KIND_STRING || r->kind == SENML_KIND_DATA) {
        FUZZ_CHECK(r->str >= p->arena && r->str + r->str_len < p->arena + p->arena_len);
        FUZZ_CHECK(r->str[r->str_len] == 0);
    } else {
        FUZZ_CHECK(r->str == NULL && r->str_len == 0);
    }
    if (r->kind == SENML_KIND_STRING)
        FUZZ_CHECK(utf8_ok(r->str, r->str_len));
    FUZZ_CHECK((long)r->index > prev_index && r->index < sent);
}

/* Two decodes gave the same records (string values compared by content). */
static void check_same(const struct senml_pack *a, const struct senml_pack *b, bool index,
                       bool time)
{
    FUZZ_CHECK(a->count == b->count);
    for (size_t i = 0; i < a->count; i++) {
        const struct senml_record *x = &a->records[i], *y = &b->records[i];
        FUZZ_CHECK(strcmp(x->name, y->name) == 0 && strcmp(x->unit, y->unit) == 0);
        FUZZ_CHECK(x->kind == y->kind && x->boolean == y->boolean);
        FUZZ_CHECK(x->number == y->number);
        FUZZ_CHECK(x->str_len == y->str_len);
        FUZZ_CHECK(x->str_len == 0 || memcmp(x->str, y->str, x->str_len) == 0);
        FUZZ_CHECK(x->has_sum == y->has_sum && x->sum == y->sum);
        FUZZ_CHECK(x->has_update_time == y->has_update_time && x->update_time == y->update_time);
        if (time || x->time >= SENML_RELATIVE_TIME_LIMIT)
            FUZZ_CHECK(x->time == y->time);
        if (index)
            FUZZ_CHECK(x->index == y->index && x->base_len == y->base_len &&
                       x->relative_time == y->relative_time);
    }
}

/* ---- the resolved pack written back (§4.6): JSON ---- */

struct out {
    uint8_t *p;
    size_t len;
    bool full;
};

static void put(struct out *o, const void *s, size_t n)
{
    if (o->full || OUT_MAX - o->len < n) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_json_string(struct out *o, const uint8_t *s, size_t n)
{
    puts_(o, "\"");
    for (size_t i = 0; i < n; i++) {
        char esc[8];
        if (s[i] == '"' || s[i] == '\\' || s[i] < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", s[i]);
            puts_(o, esc);
        } else {
            put(o, &s[i], 1);
        }
    }
    puts_(o, "\"");
}

static void put_json_number(struct out *o, const char *label, double v)
{
    char num[40];
    snprintf(num, sizeof num, ",\"%s\":%.17g", label, v);
    puts_(o, num);
}

static void put_b64url(struct out *o, const uint8_t *s, size_t n)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    unsigned bits = 0;
    puts_(o, "\"");
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | s[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            put(o, &abc[(acc >> bits) & 63], 1);
        }
    }
    if (bits)
        put(o, &abc[(acc << (6 - bits)) & 63], 1);
    puts_(o, "\"");
}

static void write_json(const struct senml_pack *p, struct out *o)
{
    puts_(o, "[");
    for (size_t i = 0; i < p->count; i++) {
        const struct senml_record *r = &p->records[i];
        puts_(o, i ? ",{\"n\":" : "{\"n\":");
        put_json_string(o, (const uint8_t *)r->name, r->name_len);
        if (r->unit_len) {
            puts_(o, ",\"u\":");
            put_json_string(o, (const uint8_t *)r->unit, r->unit_len);
        }
        if (r->kind == SENML_KIND_NUMBER)
            put_json_number(o, "v", r->number);
        if (r->kind == SENML_KIND_STRING) {
            puts_(o, ",\"vs\":");
            put_json_string(o, r->str, r->str_len);
        }
        if (r->kind == SENML_KIND_BOOLEAN)
            puts_(o, r->boolean ? ",\"vb\":true" : ",\"vb\":false");
        if (r->kind == SENML_KIND_DATA) {
            puts_(o, ",\"vd\":");
            put_b64url(o, r->str, r->str_len);
        }
        if (r->has_sum)
            put_json_number(o, "s", r->sum);
        put_json_number(o, "t", r->time);
        if (r->has_update_time)
            put_json_number(o, "ut", r->update_time);
        puts_(o, "}");
    }
    puts_(o, "]");
}

/* ---- the same in CBOR (RFC 8949 heads, Table 4 labels) ---- */

static void put_head(struct out *o, unsigned major, uint64_t v)
{
    uint8_t h[9];
    size_t n;
    if (v < 24) {
        h[0] = (uint8_t)(major << 5 | v);
        n = 1;
    } else if (v <= 0xff) {
        h[0] = (uint8_t)(major << 5 | 24);
        h[1] = (uint8_t)v;
        n = 2;
    } else if (v <= 0xffff) {
        h[0] = (uint8_t)(major << 5 | 25);
        h[1] = (uint8_t)(v >> 8);
        h[2] = (uint8_t)v;
        n = 3;
    } else {
        h[0] = (uint8_t)(major << 5 | 27);
        for (int k = 0; k < 8; k++)
            h[1 + k] = (uint8_t)(v >> (56 - 8 * k));
        n = 9;
    }
    put(o, h, n);
}

static void put_double(struct out *o, unsigned label, double v)
{
    uint8_t b[9] = { 0xfb };            /* major type 7, additional information 27 */
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    for (int k = 0; k < 8; k++)
        b[1 + k] = (uint8_t)(bits >> (56 - 8 * k));
    put_head(o, 0, label);
    put(o, b, sizeof b);
}

static void write_cbor(const struct senml_pack *p, struct out *o)
{
    put_head(o, 4, p->count);
    for (size_t i = 0; i < p->count; i++) {
        const struct senml_record *r = &p->records[i];
        uint64_t n = 2 + (r->unit_len > 0) + (r->kind != SENML_KIND_NONE) + r->has_sum +
                     r->has_update_time;
        put_head(o, 5, n);
        put_head(o, 0, 0);
        put_head(o, 3, r->name_len);
        put(o, r->name, r->name_len);
        if (r->unit_len) {
            put_head(o, 0, 1);
            put_head(o, 3, r->unit_len);
            put(o, r->unit, r->unit_len);
        }
        if (r->kind == SENML_KIND_NUMBER)
            put_double(o, 2, r->number);
        if (r->kind == SENML_KIND_STRING || r->kind == SENML_KIND_DATA) {
            put_head(o, 0, r->kind == SENML_KIND_STRING ? 3 : 8);
            put_head(o, r->kind == SENML_KIND_STRING ? 3 : 2, r->str_len);
            put(o, r->str, r->str_len);
        }
        if (r->kind == SENML_KIND_BOOLEAN) {
            put_head(o, 0, 4);
            put_head(o, 7, r->boolean ? 21 : 20);
        }
        if (r->has_sum)
            put_double(o, 5, r->sum);
        put_double(o, 6, r->time);
        if (r->has_update_time)
            put_double(o, 7, r->update_time);
    }
}

/* Write the records back in `format`; they must decode to themselves. */
static void check_roundtrip(const struct senml_pack *p, enum senml_format format,
                            const struct senml_limits *lim)
{
    static uint8_t buf[OUT_MAX];
    struct out o = { buf, 0, false };
    struct senml_error err;
    if (p->count == 0)
        return;
    if (format == SENML_JSON)
        write_json(p, &o);
    else
        write_cbor(p, &o);
    if (o.full || o.len > SENML_MAX_BYTES)
        return;
    const struct senml_limits big = { SENML_MAX_BYTES, lim->max_records };
    int rc = senml_decode(pack_b, format, buf, o.len, &big, NOW, &err);
    if (rc != 0)
        fprintf(stderr, "round trip refused: %s\n", err.reason);
    FUZZ_CHECK(rc == 0);
    check_same(p, pack_b, false, false);
}

static void check_error(const struct senml_error *e, int rc, const uint8_t *data, size_t len)
{
    char ev[SENML_EVIDENCE_MAX];
    FUZZ_CHECK(e->code == rc);
    FUZZ_CHECK(printable_text(e->reason, sizeof e->reason) && e->reason[0]);
    FUZZ_CHECK(printable_text(e->field, sizeof e->field));
    FUZZ_CHECK(e->offset == SENML_NO_OFFSET || e->offset <= len);
    FUZZ_CHECK(e->record >= -1 && e->record < SENML_MAX_RECORDS);
    FUZZ_CHECK(strcmp(senml_error_name(rc), "unknown_error") != 0);
    size_t n = senml_evidence(data, len, e->offset, ev, sizeof ev);
    FUZZ_CHECK(n == strlen(ev) && n < sizeof ev && printable_text(ev, sizeof ev));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct senml_error e1, e2;
    if (!pack_a)
        init();
    if (size < 1)
        return 0;
    enum senml_format format = (data[0] & 1) ? SENML_CBOR : SENML_JSON;
    unsigned r = (data[0] >> 1) & 7;
    struct senml_limits lim = { (data[0] & 0x10) ? 64 : 4096,
                                r == 7 ? SENML_MAX_RECORDS : 1 + 4 * r };
    const uint8_t *payload = data + 1;
    size_t len = size - 1;

    int rc = senml_decode(pack_a, format, payload, len, &lim, NOW, &e1);
    FUZZ_CHECK(rc <= 0 && rc > -SENML_E__COUNT && rc != SENML_E_INVALID);
    FUZZ_CHECK((rc == SENML_E_TOO_LARGE) == (len > lim.max_bytes));
    if (rc != 0) {
        FUZZ_CHECK(pack_a->count == 0 && pack_a->arena_len == 0);
        check_error(&e1, rc, payload, len);
    }

    /* How many records were sent, by an independent parser. */
    size_t sent = 0;
    if (rc == 0 && format == SENML_CBOR) {
        struct cbor_load_result res;
        cbor_item_t *item = cbor_load(payload, len, &res);
        FUZZ_CHECK(item && res.error.code == CBOR_ERR_NONE && res.read == len);
        FUZZ_CHECK(cbor_isa_array(item) && cbor_array_is_definite(item));
        sent = cbor_array_size(item);
        cbor_decref(&item);
    } else if (format == SENML_JSON && len <= lim.max_bytes) {
        json_error_t je;
        json_t *root = json_loadb((const char *)payload, len,
                                  JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
                                  JSON_DECODE_INT_AS_REAL, &je);
        FUZZ_CHECK(root || rc != 0);
        if (root && rc == 0)
            sent = json_array_size(root);
        json_decref(root);
    }
    if (rc == 0) {
        FUZZ_CHECK(sent >= 1 && sent <= lim.max_records && pack_a->count <= sent);
        for (size_t i = 0; i < pack_a->count; i++)
            check_record(pack_a, i, i ? (long)pack_a->records[i - 1].index : -1, sent);
    }

    /* The same input again: in the same pack, word for word ... */
    static struct senml_record saved[SENML_MAX_RECORDS];
    size_t count = pack_a->count;
    memcpy(saved, pack_a->records, count * sizeof *saved);
    FUZZ_CHECK(senml_decode(pack_a, format, payload, len, &lim, NOW, &e2) == rc);
    FUZZ_CHECK(e1.code == e2.code && e1.offset == e2.offset && e1.record == e2.record &&
               strcmp(e1.field, e2.field) == 0 && strcmp(e1.reason, e2.reason) == 0);
    FUZZ_CHECK(pack_a->count == count &&
               memcmp(saved, pack_a->records, count * sizeof *saved) == 0);
    /* ... and in another. */
    FUZZ_CHECK(senml_decode(pack_b, format, payload, len, &lim, NOW, &e2) == rc);
    if (rc != 0)
        return 0;
    check_same(pack_a, pack_b, true, true);

    struct profile_violation v;
    int pr = profile_check(prof, pack_a, &v);
    FUZZ_CHECK(pr <= 0 && pr > -PROFILE_E__COUNT);
    if (pr != 0) {
        FUZZ_CHECK(v.code == pr && v.name[0] && printable_text(v.reason, sizeof v.reason));
        FUZZ_CHECK(pr == PROFILE_E_MISSING ? v.record == -1
                                           : v.record >= 0 && (size_t)v.record < sent);
    }

    check_roundtrip(pack_a, SENML_JSON, &lim);
    check_roundtrip(pack_a, SENML_CBOR, &lim);
    return 0;
}
