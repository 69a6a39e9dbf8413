/*
 * senml.c — SenML (RFC 8428) decoding: a pack in JSON or CBOR becomes
 * resolved records (§4.6) in a caller's struct senml_pack, or a refusal
 * with a reason, the record and field, and the byte offset when known.
 *
 * Where it sits: the device plane's CoAP listener has verified a
 * message (OSCORE or DTLS) and hands its payload here with the device's
 * profile limits; the resolved records go to the engine as one device
 * message, checked against the profile's schema (coap/profile.c).  A
 * refusal becomes a 4.00 (4.13 when too large) for the device and a
 * malformed_message finding whose evidence is senml_evidence()'s
 * rendering of the offending bytes.
 *
 * Both formats feed one resolver: each record is first read into a
 * struct rec (one slot per known field, type-checked as it is read),
 * then resolved against the base values in effect.  JSON is parsed with
 * jansson (duplicate keys refused by the parser itself); its tree is
 * bounded by the profile's max_bytes, checked before parsing.  CBOR is
 * read head by head with libcbor's streaming decoder turned into a pull
 * reader: nothing is allocated — libcbor's tree builder would allocate
 * an array of whatever length a 9-byte header claims — and every
 * refusal knows its byte offset.
 *
 * Strict where RFC 8428 says MUST (names, one value, versions, labels
 * ending in '_', definite-length arrays and strings in CBOR) and where a
 * looser reading would let one pack mean two things (duplicate keys,
 * padded or non-canonical base64url, trailing bytes).  Unknown fields
 * are ignored as §4.4 requires, but their values must still be SenML
 * values (§11: text, bytes, number or boolean), never a nested array or
 * map.
 *
 * Must never: log (library code), read past the payload, or let a
 * refusal leave records behind — pack->count is 0 after any failure.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <jansson.h>

#include "coap/senml.h"

static const char *const error_names[SENML_E__COUNT] = {
    [0] = "ok",
    [-SENML_E_TOO_LARGE] = "senml_too_large",
    [-SENML_E_SYNTAX] = "senml_syntax",
    [-SENML_E_TRAILING] = "senml_trailing_bytes",
    [-SENML_E_NOT_ARRAY] = "senml_not_an_array",
    [-SENML_E_EMPTY] = "senml_empty_pack",
    [-SENML_E_TOO_MANY_RECORDS] = "senml_too_many_records",
    [-SENML_E_NOT_RECORD] = "senml_record_not_an_object",
    [-SENML_E_NESTING] = "senml_nested_value",
    [-SENML_E_BAD_LABEL] = "senml_bad_label",
    [-SENML_E_DUPLICATE] = "senml_duplicate_field",
    [-SENML_E_TOO_MANY_FIELDS] = "senml_too_many_fields",
    [-SENML_E_MUST_UNDERSTAND] = "senml_must_understand_field",
    [-SENML_E_TYPE] = "senml_wrong_type",
    [-SENML_E_NOT_FINITE] = "senml_not_finite",
    [-SENML_E_RANGE] = "senml_out_of_range",
    [-SENML_E_VERSION] = "senml_version",
    [-SENML_E_MULTIPLE_VALUES] = "senml_multiple_values",
    [-SENML_E_NO_VALUE] = "senml_no_value",
    [-SENML_E_NAME_EMPTY] = "senml_name_empty",
    [-SENML_E_NAME_CHARS] = "senml_name_characters",
    [-SENML_E_NAME_TOO_LONG] = "senml_name_too_long",
    [-SENML_E_UNIT] = "senml_bad_unit",
    [-SENML_E_STRING] = "senml_bad_string",
    [-SENML_E_DATA] = "senml_bad_data_value",
    [-SENML_E_NO_MEMORY] = "senml_no_memory",
    [-SENML_E_INVALID] = "senml_invalid_argument",
};

const char *senml_error_name(int err)
{
    if (err > 0 || err <= -SENML_E__COUNT)   /* not -err: INT_MIN has no negation */
        return "unknown_error";
    return error_names[-err];
}

/* RFC 7252 §3: the code octet is class << 5 | detail. */
#define COAP_CODE(c, d) ((uint8_t)((c) << 5 | (d)))

uint8_t senml_coap_code(int err)
{
    if (err == SENML_E_TOO_LARGE)
        return COAP_CODE(4, 13);
    if (err == SENML_E_NO_MEMORY || err == SENML_E_INVALID)
        return COAP_CODE(5, 0);
    return COAP_CODE(4, 0);
}

/* ------------------------------------------------------------------ */
/* Fields (RFC 8428 Table 1 and Table 4)                               */
/* ------------------------------------------------------------------ */

enum field {
    F_BVER, F_BN, F_BT, F_BU, F_BV, F_BS,
    F_N, F_U, F_V, F_VS, F_VB, F_S, F_T, F_UT, F_VD,
    F__COUNT
};

#define BIT(f) (1u << (f))
#define BASE_FIELDS (BIT(F_BVER) | BIT(F_BN) | BIT(F_BT) | BIT(F_BU) | BIT(F_BV) | BIT(F_BS))
#define VALUE_FIELDS (BIT(F_V) | BIT(F_VS) | BIT(F_VB) | BIT(F_VD))

/* What a field's value must be; VT_DATA is text in JSON, bytes in CBOR. */
enum vtype { VT_NUMBER, VT_TEXT, VT_BYTES, VT_BOOL, VT_DATA };

static const struct field_def {
    const char *label;
    int cbor;
    enum vtype type;
} fields[F__COUNT] = {
    [F_BVER] = { "bver", -1, VT_NUMBER },
    [F_BN] = { "bn", -2, VT_TEXT },
    [F_BT] = { "bt", -3, VT_NUMBER },
    [F_BU] = { "bu", -4, VT_TEXT },
    [F_BV] = { "bv", -5, VT_NUMBER },
    [F_BS] = { "bs", -6, VT_NUMBER },
    [F_N] = { "n", 0, VT_TEXT },
    [F_U] = { "u", 1, VT_TEXT },
    [F_V] = { "v", 2, VT_NUMBER },
    [F_VS] = { "vs", 3, VT_TEXT },
    [F_VB] = { "vb", 4, VT_BOOL },
    [F_S] = { "s", 5, VT_NUMBER },
    [F_T] = { "t", 6, VT_NUMBER },
    [F_UT] = { "ut", 7, VT_NUMBER },
    [F_VD] = { "vd", 8, VT_DATA },
};

static int field_by_text(const uint8_t *s, size_t len)
{
    for (int f = 0; f < F__COUNT; f++)
        if (strlen(fields[f].label) == len && memcmp(fields[f].label, s, len) == 0)
            return f;
    return -1;
}

/* CBOR labels -6..8 (Table 4); any other integer is an unknown field. */
static int field_by_int(bool negative, uint64_t u)
{
    int64_t label;
    if (negative)
        label = u < 6 ? -1 - (int64_t)u : -100;
    else
        label = u <= 8 ? (int64_t)u : -100;
    for (int f = 0; f < F__COUNT; f++)
        if (fields[f].cbor == label)
            return f;
    return -1;
}

static const char *vtype_name(enum vtype t, enum senml_format format)
{
    switch (t) {
    case VT_NUMBER: return "a number";
    case VT_TEXT: return "a string";
    case VT_BYTES: return "a byte string";
    case VT_BOOL: return "a boolean";
    case VT_DATA: return format == SENML_JSON ? "a base64url string" : "a byte string";
    }
    return "?";
}

/* ------------------------------------------------------------------ */
/* The decoder's state, and refusals                                   */
/* ------------------------------------------------------------------ */

/* One field's value as read, before it is given a meaning. */
struct value {
    enum vtype type;                /* VT_NUMBER, VT_TEXT, VT_BYTES or VT_BOOL */
    bool is_uint;                   /* CBOR major type 0; JSON: integral, >= 0 */
    bool b;
    double num;
    const uint8_t *p;               /* text or bytes, in the payload or jansson's tree */
    size_t len;
};

/* A key of an ignored field, for the duplicate check in CBOR maps. */
struct other_key {
    bool text;
    bool negative;
    uint64_t u;
    const uint8_t *p;
    size_t len;
};

/* One record as read: the known fields' values and where each one was. */
struct rec {
    uint32_t seen;                  /* BIT(field) */
    struct value f[F__COUNT];
    size_t at[F__COUNT];            /* byte offset of each value (CBOR) */
    size_t start;                   /* the record's first byte (CBOR) */
    unsigned nfields;               /* known and ignored */
    struct other_key other[SENML_FIELDS_MAX];
    unsigned nother;
};

struct dec {
    struct senml_pack *pack;
    const struct senml_limits *lim;
    enum senml_format format;
    double now;
    struct senml_error *err;
    long record;                    /* the record being read, -1 outside */
    /* The base values in effect (§4.1): they apply from their record on. */
    char bn[SENML_NAME_MAX + 1];
    size_t bn_len;
    char bu[SENML_UNIT_MAX + 1];
    size_t bu_len;
    double bt, bv, bs;
    bool has_bs;
    int version;
};

void senml_printable(char *out, size_t cap, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (o + 1 >= cap)
                break;
            out[o++] = (char)c;
        } else {
            if (o + 4 >= cap)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/*
 * Refuse: fill the error and return its code.  label is the field's
 * label, already printable (a Table 1 label or senml_printable()'s output), or
 * NULL.  The reason reads
 * `record 2, "v": a string where a number belongs (byte 31)`.
 */
static int fail(struct dec *d, int code, size_t offset, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(struct dec *d, int code, size_t offset, const char *label, const char *fmt, ...)
{
    struct senml_error *e = d->err;
    char msg[SENML_REASON_MAX];
    char where[48] = "";
    char at[32] = "";
    va_list ap;

    e->code = code;
    e->offset = offset;
    e->record = d->record;
    snprintf(e->field, sizeof e->field, "%s", label ? label : "");
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->record >= 0 && label)
        snprintf(where, sizeof where, "record %ld, \"%s\": ", d->record, e->field);
    else if (d->record >= 0)
        snprintf(where, sizeof where, "record %ld: ", d->record);
    else if (label)
        snprintf(where, sizeof where, "\"%s\": ", e->field);
    if (offset != SENML_NO_OFFSET)
        snprintf(at, sizeof at, " (byte %zu)", offset);
    snprintf(e->reason, sizeof e->reason, "%s%s%s", where, msg, at);
    return code;
}

/* ------------------------------------------------------------------ */
/* Checks on strings                                                   */
/* ------------------------------------------------------------------ */

/* §4.5.1: A-Z a-z 0-9 - : . / _ */
static bool name_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == ':' || c == '.' || c == '/' || c == '_';
}

static bool name_first_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool senml_name_valid(const char *name, size_t len)
{
    if (!name || len == 0 || len > SENML_NAME_MAX || !name_first_char((uint8_t)name[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char((uint8_t)name[i]))
            return false;
    return true;
}

/* The index of the first byte outside §4.5.1's set, or len. */
static size_t name_bad_char(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!name_char(s[i]))
            return i;
    return len;
}

/* A unit: printable ASCII without space; units name quantities, not prose. */
static bool unit_valid(const uint8_t *s, size_t len)
{
    if (len > SENML_UNIT_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

/*
 * RFC 3629 §4: well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing past U+10FFFF), and here no U+0000 either: jansson refuses it
 * in JSON, and both formats then give strings a C consumer can use.
 */
static bool utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1fu;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0fu;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07u;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/*
 * RFC 4648 §5 without padding (RFC 8428 §5): the base64url alphabet
 * only, never a length of 4k + 1, and the unused bits of the last
 * character zero — so that one value has one encoding.  Returns the
 * decoded length or -1.
 */
static int b64url_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

static long b64url_decode(const uint8_t *in, size_t len, uint8_t *out)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    if (len % 4 == 1)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(in[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -1;
    return (long)n;
}

/* ------------------------------------------------------------------ */
/* Records: reading fields, then resolving (§4.6)                      */
/* ------------------------------------------------------------------ */

static void rec_init(struct rec *r, size_t start)
{
    memset(r, 0, sizeof *r);
    r->start = start;
    for (int f = 0; f < F__COUNT; f++)
        r->at[f] = SENML_NO_OFFSET;
}

/* Record field f's value, checked against the field's type. */
static int rec_set(struct dec *d, struct rec *r, int f, const struct value *v, size_t at)
{
    const struct field_def *def = &fields[f];
    enum vtype want = def->type;
    if (want == VT_DATA)
        want = d->format == SENML_JSON ? VT_TEXT : VT_BYTES;
    if (r->seen & BIT(f))
        return fail(d, SENML_E_DUPLICATE, at, def->label, "the field appears twice");
    if (v->type != want)
        return fail(d, SENML_E_TYPE, at, def->label, "%s where %s belongs",
                    vtype_name(v->type, d->format), vtype_name(def->type, d->format));
    if (want == VT_NUMBER && !isfinite(v->num))
        return fail(d, SENML_E_NOT_FINITE, at, def->label, "NaN or infinity");
    if ((BIT(f) & VALUE_FIELDS) && (r->seen & VALUE_FIELDS)) {
        const char *first = "?";
        for (int g = 0; g < F__COUNT; g++)
            if ((BIT(g) & VALUE_FIELDS) && (r->seen & BIT(g)))
                first = fields[g].label;
        return fail(d, SENML_E_MULTIPLE_VALUES, at, def->label,
                    "a second value field after \"%s\" (RFC 8428 4.2: exactly one)", first);
    }
    r->seen |= BIT(f);
    r->f[f] = *v;
    r->at[f] = at;
    return 0;
}

/* Where a field's value was, or the record's start when it had none. */
static size_t rec_at(const struct rec *r, int f)
{
    return r->at[f] != SENML_NO_OFFSET ? r->at[f] : r->start;
}

/* Apply the record's base fields (§4.1): they hold from this record on. */
static int apply_base(struct dec *d, const struct rec *r)
{
    if (r->seen & BIT(F_BVER)) {
        const struct value *v = &r->f[F_BVER];
        /* §6: in CBOR the version is an unsigned integer, never a float. */
        if (!v->is_uint || v->num < 1 || v->num > SENML_VERSION)
            return fail(d, SENML_E_VERSION, rec_at(r, F_BVER), "bver",
                        "version must be an integer 1..%d (this decoder implements %d)",
                        SENML_VERSION, SENML_VERSION);
        int version = (int)v->num;
        /* §4.4: every record of a pack has the same version. */
        if (d->record > 0 && version != d->version)
            return fail(d, SENML_E_VERSION, rec_at(r, F_BVER), "bver",
                        "version %d after %d: a pack has one version", version, d->version);
        d->version = version;
    }
    if (r->seen & BIT(F_BN)) {
        const struct value *v = &r->f[F_BN];
        if (v->len > SENML_NAME_MAX)
            return fail(d, SENML_E_NAME_TOO_LONG, rec_at(r, F_BN), "bn",
                        "base name of %zu bytes (at most %d)", v->len, SENML_NAME_MAX);
        /* Every name resolved from it starts with it (§4.5.1). */
        size_t bad = name_bad_char(v->p, v->len);
        if (bad < v->len || (v->len > 0 && !name_first_char(v->p[0]))) {
            char shown[24];
            senml_printable(shown, sizeof shown, v->p, v->len);
            return fail(d, SENML_E_NAME_CHARS, rec_at(r, F_BN), "bn",
                        "base name \"%s\": %s", shown,
                        bad < v->len ? "a character outside A-Z a-z 0-9 - : . / _"
                                     : "must start with a letter or a digit");
        }
        memcpy(d->bn, v->p, v->len);
        d->bn[v->len] = '\0';
        d->bn_len = v->len;
    }
    if (r->seen & BIT(F_BU)) {
        const struct value *v = &r->f[F_BU];
        if (!unit_valid(v->p, v->len))
            return fail(d, SENML_E_UNIT, rec_at(r, F_BU), "bu",
                        "a unit is 0..%d bytes of printable ASCII", SENML_UNIT_MAX);
        memcpy(d->bu, v->p, v->len);
        d->bu[v->len] = '\0';
        d->bu_len = v->len;
    }
    if (r->seen & BIT(F_BT))
        d->bt = r->f[F_BT].num;
    if (r->seen & BIT(F_BV))
        d->bv = r->f[F_BV].num;
    if (r->seen & BIT(F_BS)) {
        d->bs = r->f[F_BS].num;
        d->has_bs = true;
    }
    return 0;
}

/*
 * Copy field f's string (vs) or data (vd) value into the pack's arena,
 * NUL-terminated; a JSON vd is base64url-decoded on the way.
 */
static int arena_put(struct dec *d, const struct rec *r, int f, struct senml_record *out)
{
    struct senml_pack *pack = d->pack;
    const struct value *v = &r->f[f];
    uint8_t *dst = pack->arena + pack->arena_len;
    size_t room = pack->cap.max_bytes - pack->arena_len;
    size_t n = v->len;
    /*
     * Never short: a value's decoded form plus its NUL is no longer than
     * its encoding (quotes or a CBOR head; base64 shrinks), and the
     * payload is at most cap.max_bytes.  Checked anyway.
     */
    if (v->len >= room)
        return fail(d, SENML_E_INVALID, rec_at(r, f), fields[f].label, "value arena full");
    if (f == F_VD && d->format == SENML_JSON) {
        long m = b64url_decode(v->p, v->len, dst);
        if (m < 0)
            return fail(d, SENML_E_DATA, rec_at(r, f), "vd",
                        "not base64url without padding (RFC 4648 5)");
        n = (size_t)m;
    } else if (v->len) {
        memcpy(dst, v->p, v->len);
    }
    dst[n] = 0;
    pack->arena_len += n + 1;
    out->str = dst;
    out->str_len = n;
    return 0;
}

/* Resolve a record (§4.6) into the pack's next slot, or refuse it. */
static int resolve(struct dec *d, const struct rec *r)
{
    int rc = apply_base(d, r);
    if (rc < 0)
        return rc;
    /*
     * A record with base fields only sets them for the records after it
     * and is not a measurement itself: §5.1.7's first record
     * {"bn":"urn:dev:ow:10e2073a01080063:"} is one.  A record with
     * nothing in it is not; it falls through and is refused below.
     */
    if ((r->seen & BASE_FIELDS) && !(r->seen & ~BASE_FIELDS))
        return 0;

    struct senml_record *out = &d->pack->records[d->pack->count];
    memset(out, 0, sizeof *out);
    out->index = (uint32_t)d->record;

    /* §4.5.1: the name is Base Name + Name; bn was checked when it was set. */
    const struct value *n = (r->seen & BIT(F_N)) ? &r->f[F_N] : NULL;
    size_t n_len = n ? n->len : 0;
    if (d->bn_len + n_len == 0)
        return fail(d, SENML_E_NAME_EMPTY, rec_at(r, F_N), n ? "n" : NULL,
                    "no name: neither a base name nor a name (RFC 8428 4.5.1)");
    if (n_len > SENML_NAME_MAX - d->bn_len)
        return fail(d, SENML_E_NAME_TOO_LONG, rec_at(r, F_N), "n",
                    "resolved name of %zu bytes (at most %d)", d->bn_len + n_len, SENML_NAME_MAX);
    if (n_len) {
        size_t bad = name_bad_char(n->p, n_len);
        if (bad < n_len || (d->bn_len == 0 && !name_first_char(n->p[0]))) {
            char shown[24];
            senml_printable(shown, sizeof shown, n->p, n_len);
            return fail(d, SENML_E_NAME_CHARS, rec_at(r, F_N), "n", "name \"%s\": %s", shown,
                        bad < n_len ? "a character outside A-Z a-z 0-9 - : . / _"
                                    : "must start with a letter or a digit");
        }
    }
    memcpy(out->name, d->bn, d->bn_len);
    if (n_len)
        memcpy(out->name + d->bn_len, n->p, n_len);
    out->name_len = (uint8_t)(d->bn_len + n_len);
    out->name[out->name_len] = '\0';
    out->base_len = (uint8_t)d->bn_len;

    /* §4.5.2: the record's unit, else the base unit; "" is no unit. */
    if (r->seen & BIT(F_U)) {
        const struct value *u = &r->f[F_U];
        if (!unit_valid(u->p, u->len))
            return fail(d, SENML_E_UNIT, rec_at(r, F_U), "u",
                        "a unit is 0..%d bytes of printable ASCII", SENML_UNIT_MAX);
        memcpy(out->unit, u->p, u->len);
        out->unit_len = (uint8_t)u->len;
    } else {
        memcpy(out->unit, d->bu, d->bu_len);
        out->unit_len = (uint8_t)d->bu_len;
    }
    out->unit[out->unit_len] = '\0';

    /* §4.5.4: the value, plus the base value for a number. */
    if (r->seen & BIT(F_V)) {
        out->kind = SENML_KIND_NUMBER;
        out->number = d->bv + r->f[F_V].num;
        if (!isfinite(out->number))
            return fail(d, SENML_E_NOT_FINITE, rec_at(r, F_V), "v",
                        "base value + value is not a finite number");
    } else if (r->seen & BIT(F_VS)) {
        out->kind = SENML_KIND_STRING;
        rc = arena_put(d, r, F_VS, out);
        if (rc < 0)
            return rc;
    } else if (r->seen & BIT(F_VB)) {
        out->kind = SENML_KIND_BOOLEAN;
        out->boolean = r->f[F_VB].b;
    } else if (r->seen & BIT(F_VD)) {
        out->kind = SENML_KIND_DATA;
        rc = arena_put(d, r, F_VD, out);
        if (rc < 0)
            return rc;
    }

    /* §4.5.4: a sum when either the base sum or the sum is present. */
    if ((r->seen & BIT(F_S)) || d->has_bs) {
        out->has_sum = true;
        out->sum = d->bs + ((r->seen & BIT(F_S)) ? r->f[F_S].num : 0.0);
        if (!isfinite(out->sum))
            return fail(d, SENML_E_NOT_FINITE, rec_at(r, F_S), "s",
                        "base sum + sum is not a finite number");
    }
    /* §4.2: exactly one value, or none when there is a sum. */
    if (out->kind == SENML_KIND_NONE && !out->has_sum)
        return fail(d, SENML_E_NO_VALUE, r->start, NULL,
                    "no value (v, vs, vb or vd) and no sum (RFC 8428 4.2)");

    /*
     * §4.5.3: time is base time + time; below 2**28 it is relative to
     * the time of reception, which the record keeps as an absolute time
     * and a flag (a device without a clock is worth knowing about).
     */
    double t = d->bt + ((r->seen & BIT(F_T)) ? r->f[F_T].num : 0.0);
    if (t < SENML_RELATIVE_TIME_LIMIT) {
        t += d->now;
        out->relative_time = true;
    }
    if (!isfinite(t))
        return fail(d, SENML_E_NOT_FINITE, rec_at(r, F_T), "t",
                    "base time + time is not a finite number");
    out->time = t;

    if (r->seen & BIT(F_UT)) {
        if (r->f[F_UT].num < 0)
            return fail(d, SENML_E_RANGE, rec_at(r, F_UT), "ut",
                        "update time %g: a period cannot be negative", r->f[F_UT].num);
        out->has_update_time = true;
        out->update_time = r->f[F_UT].num;
    }
    d->pack->count++;
    return 0;
}

/* A label that ends in '_' must be understood (§4.4), and none is. */
static bool must_understand(const uint8_t *label, size_t len)
{
    return len > 0 && label[len - 1] == '_';
}

/* ------------------------------------------------------------------ */
/* JSON (§5), through jansson                                          */
/* ------------------------------------------------------------------ */

static int json_val(struct dec *d, const char *label, json_t *j, struct value *ret)
{
    memset(ret, 0, sizeof *ret);
    switch (json_typeof(j)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        return fail(d, SENML_E_NESTING, SENML_NO_OFFSET, label,
                    "an %s as a value: SenML values are strings, numbers and booleans",
                    json_is_object(j) ? "object" : "array");
    case JSON_STRING:
        ret->type = VT_TEXT;
        ret->p = (const uint8_t *)json_string_value(j);
        ret->len = json_string_length(j);
        return 0;
    case JSON_INTEGER:              /* not with JSON_DECODE_INT_AS_REAL; kept for safety */
        ret->type = VT_NUMBER;
        ret->num = (double)json_integer_value(j);
        ret->is_uint = json_integer_value(j) >= 0;
        return 0;
    case JSON_REAL:
        ret->type = VT_NUMBER;
        ret->num = json_real_value(j);
        /* JSON has one number type: 5 and 5.0 are the same version. */
        ret->is_uint = ret->num >= 0 && floor(ret->num) == ret->num;
        return 0;
    case JSON_TRUE:
    case JSON_FALSE:
        ret->type = VT_BOOL;
        ret->b = json_is_true(j);
        return 0;
    case JSON_NULL:
        break;
    }
    return fail(d, SENML_E_TYPE, SENML_NO_OFFSET, label, "null is not a SenML value");
}

static int json_record(struct dec *d, json_t *obj)
{
    struct rec r;
    const char *key;
    json_t *j;

    rec_init(&r, SENML_NO_OFFSET);
    if (json_object_size(obj) > SENML_FIELDS_MAX)
        return fail(d, SENML_E_TOO_MANY_FIELDS, SENML_NO_OFFSET, NULL,
                    "%zu fields (at most %d)", json_object_size(obj), SENML_FIELDS_MAX);
    /* jansson keeps insertion order: the first bad field is the first one sent. */
    json_object_foreach(obj, key, j) {
        const uint8_t *k = (const uint8_t *)key;
        size_t klen = strlen(key);       /* keys cannot hold U+0000 in jansson */
        struct value v;
        int f = field_by_text(k, klen);
        char label[SENML_REASON_MAX / 4];
        senml_printable(label, sizeof label, k, klen);
        if (f < 0 && must_understand(k, klen))
            return fail(d, SENML_E_MUST_UNDERSTAND, SENML_NO_OFFSET, label,
                        "an extension this decoder does not understand (RFC 8428 4.4)");
        int rc = json_val(d, f >= 0 ? fields[f].label : label, j, &v);
        if (rc < 0)
            return rc;
        if (f < 0)
            continue;                    /* §4.4: ignore what is not understood */
        rc = rec_set(d, &r, f, &v, SENML_NO_OFFSET);
        if (rc < 0)
            return rc;
    }
    return resolve(d, &r);
}

static int json_syntax(struct dec *d, const json_error_t *je, size_t len)
{
    size_t at = je->position >= 0 && (size_t)je->position <= len ? (size_t)je->position : len;
    char text[64];
    senml_printable(text, sizeof text, (const uint8_t *)je->text,
                    strnlen(je->text, sizeof je->text));
    switch (json_error_code(je)) {
    case json_error_end_of_input_expected:
        return fail(d, SENML_E_TRAILING, at, NULL, "bytes after the pack");
    case json_error_duplicate_key:
        return fail(d, SENML_E_DUPLICATE, at, NULL, "a field appears twice in a record");
    case json_error_numeric_overflow:
        return fail(d, SENML_E_RANGE, at, NULL, "a number beyond a double or a 64-bit integer");
    case json_error_stack_overflow:
        return fail(d, SENML_E_NESTING, at, NULL, "nested too deep");
    case json_error_out_of_memory:
        return fail(d, SENML_E_NO_MEMORY, at, NULL, "out of memory");
    default:
        return fail(d, SENML_E_SYNTAX, at, NULL, "not JSON: %s", text);
    }
}

static int decode_json(struct dec *d, const uint8_t *data, size_t len)
{
    json_error_t je;
    /*
     * DECODE_ANY so that a scalar is "not an array" rather than a syntax
     * error; INT_AS_REAL because SenML numbers are doubles (§5) and an
     * integer field (bver) is checked for being integral.
     */
    json_t *root = json_loadb((const char *)data, len,
                              JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL,
                              &je);
    if (!root)
        return json_syntax(d, &je, len);
    int rc = 0;
    size_t n = json_is_array(root) ? json_array_size(root) : 0;
    if (!json_is_array(root))
        rc = fail(d, SENML_E_NOT_ARRAY, 0, NULL, "a pack is an array of records (RFC 8428 5)");
    else if (n == 0)
        rc = fail(d, SENML_E_EMPTY, 0, NULL, "a pack has at least one record");
    else if (n > d->lim->max_records)
        rc = fail(d, SENML_E_TOO_MANY_RECORDS, 0, NULL, "%zu records (at most %zu)", n,
                  d->lim->max_records);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *obj = json_array_get(root, i);
        d->record = (long)i;
        if (!json_is_object(obj))
            rc = fail(d, SENML_E_NOT_RECORD, SENML_NO_OFFSET, NULL,
                      "a record is an object (RFC 8428 5)");
        else
            rc = json_record(d, obj);
    }
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------------ */
/* CBOR (§6), through libcbor's streaming decoder                      */
/* ------------------------------------------------------------------ */

/*
 * cbor_stream_decode() decodes one head (with a definite string's
 * content) per call and reports it through one callback; the callbacks
 * below only note what it was, so that the parser can pull items one by
 * one and know each item's offset.
 */
enum ev_type {
    EV_NONE, EV_UINT, EV_NEGINT, EV_BYTES, EV_TEXT, EV_ARRAY, EV_MAP, EV_TAG, EV_FLOAT,
    EV_BOOL, EV_NULL, EV_UNDEFINED, EV_INDEF_BYTES, EV_INDEF_TEXT, EV_INDEF_ARRAY,
    EV_INDEF_MAP, EV_BREAK,
};

struct cbor_ev {
    enum ev_type type;
    uint64_t u;                     /* uint; negint: the value is -1 - u; tag; count */
    double f;
    bool b;
    const uint8_t *p;
    size_t len;
};

static void ev_set(void *ctx, enum ev_type type, uint64_t u)
{
    struct cbor_ev *ev = ctx;
    ev->type = type;
    ev->u = u;
}
static void cb_uint8(void *c, uint8_t v) { ev_set(c, EV_UINT, v); }
static void cb_uint16(void *c, uint16_t v) { ev_set(c, EV_UINT, v); }
static void cb_uint32(void *c, uint32_t v) { ev_set(c, EV_UINT, v); }
static void cb_uint64(void *c, uint64_t v) { ev_set(c, EV_UINT, v); }
static void cb_negint8(void *c, uint8_t v) { ev_set(c, EV_NEGINT, v); }
static void cb_negint16(void *c, uint16_t v) { ev_set(c, EV_NEGINT, v); }
static void cb_negint32(void *c, uint32_t v) { ev_set(c, EV_NEGINT, v); }
static void cb_negint64(void *c, uint64_t v) { ev_set(c, EV_NEGINT, v); }
static void cb_string_ev(void *c, enum ev_type type, cbor_data p, size_t len)
{
    struct cbor_ev *ev = c;
    ev_set(c, type, 0);
    ev->p = p;
    ev->len = len;
}
static void cb_bytes(void *c, cbor_data p, size_t len) { cb_string_ev(c, EV_BYTES, p, len); }
static void cb_text(void *c, cbor_data p, size_t len) { cb_string_ev(c, EV_TEXT, p, len); }
static void cb_indef_bytes(void *c) { ev_set(c, EV_INDEF_BYTES, 0); }
static void cb_indef_text(void *c) { ev_set(c, EV_INDEF_TEXT, 0); }
static void cb_array(void *c, size_t n) { ev_set(c, EV_ARRAY, n); }
static void cb_indef_array(void *c) { ev_set(c, EV_INDEF_ARRAY, 0); }
static void cb_map(void *c, size_t n) { ev_set(c, EV_MAP, n); }
static void cb_indef_map(void *c) { ev_set(c, EV_INDEF_MAP, 0); }
static void cb_tag(void *c, uint64_t v) { ev_set(c, EV_TAG, v); }
static void cb_float(void *c, float f)
{
    ev_set(c, EV_FLOAT, 0);
    ((struct cbor_ev *)c)->f = (double)f;
}
static void cb_double(void *c, double f)
{
    ev_set(c, EV_FLOAT, 0);
    ((struct cbor_ev *)c)->f = f;
}
static void cb_undefined(void *c) { ev_set(c, EV_UNDEFINED, 0); }
static void cb_null(void *c) { ev_set(c, EV_NULL, 0); }
static void cb_bool(void *c, bool b)
{
    ev_set(c, EV_BOOL, 0);
    ((struct cbor_ev *)c)->b = b;
}
static void cb_break(void *c) { ev_set(c, EV_BREAK, 0); }

static const struct cbor_callbacks pull_callbacks = {
    .uint8 = cb_uint8, .uint16 = cb_uint16, .uint32 = cb_uint32, .uint64 = cb_uint64,
    .negint8 = cb_negint8, .negint16 = cb_negint16, .negint32 = cb_negint32,
    .negint64 = cb_negint64,
    .byte_string = cb_bytes, .byte_string_start = cb_indef_bytes,
    .string = cb_text, .string_start = cb_indef_text,
    .array_start = cb_array, .indef_array_start = cb_indef_array,
    .map_start = cb_map, .indef_map_start = cb_indef_map,
    .tag = cb_tag,
    .float2 = cb_float, .float4 = cb_float, .float8 = cb_double,
    .undefined = cb_undefined, .null = cb_null, .boolean = cb_bool,
    .indef_break = cb_break,
};

struct creader {
    const uint8_t *data;
    size_t len;
    size_t pos;                     /* the next item's first byte */
    size_t at;                      /* the current item's first byte */
    struct cbor_ev ev;
};

/* Read the next head (and a definite string's content) into c->ev. */
static int cr_next(struct dec *d, struct creader *c)
{
    c->at = c->pos;
    if (c->pos >= c->len)
        return fail(d, SENML_E_SYNTAX, c->pos, NULL, "the CBOR ends inside an item");
    memset(&c->ev, 0, sizeof c->ev);
    struct cbor_decoder_result res =
        cbor_stream_decode(c->data + c->pos, c->len - c->pos, &pull_callbacks, &c->ev);
    if (res.status == CBOR_DECODER_NEDATA)
        return fail(d, SENML_E_SYNTAX, c->pos, NULL, "a CBOR item runs past the end");
    /*
     * libcbor refuses reserved additional information (28-30), the
     * unassigned simple values and a stray 0xff only as far as it can
     * know them from one head; the parser refuses the rest by context.
     */
    if (res.status != CBOR_DECODER_FINISHED || res.read == 0 || c->ev.type == EV_NONE ||
        res.read > c->len - c->pos)
        return fail(d, SENML_E_SYNTAX, c->pos, NULL, "not well-formed CBOR (initial byte 0x%02x)",
                    c->data[c->pos]);
    c->pos += res.read;
    return 0;
}

/* An integer item as exponent or mantissa of a decimal fraction. */
static bool cr_int(const struct cbor_ev *ev, char *out, size_t cap)
{
    if (ev->type == EV_UINT)
        return snprintf(out, cap, "%llu", (unsigned long long)ev->u) < (int)cap;
    /* -1 - u must fit in an int64_t: the bignum range is not needed here. */
    if (ev->type == EV_NEGINT && ev->u <= (uint64_t)INT64_MAX)
        return snprintf(out, cap, "%lld", -1 - (long long)ev->u) < (int)cap;
    return false;
}

/*
 * §6: a number may be a decimal fraction, tag 4 [exponent, mantissa].
 * strtod() of "<mantissa>e<exponent>" gives the correctly rounded double
 * without a hand-written power of ten.
 */
static int cr_decfrac(struct dec *d, struct creader *c, const char *label, double *ret)
{
    char exp_s[24], man_s[24], text[64];
    int rc = cr_next(d, c);
    if (rc < 0)
        return rc;
    if (c->ev.type != EV_ARRAY || c->ev.u != 2)
        return fail(d, SENML_E_TYPE, c->at, label,
                    "tag 4 (decimal fraction) must hold [exponent, mantissa]");
    rc = cr_next(d, c);
    if (rc < 0)
        return rc;
    if (!cr_int(&c->ev, exp_s, sizeof exp_s))
        return fail(d, SENML_E_TYPE, c->at, label, "a decimal fraction's exponent is an integer");
    rc = cr_next(d, c);
    if (rc < 0)
        return rc;
    if (!cr_int(&c->ev, man_s, sizeof man_s))
        return fail(d, SENML_E_TYPE, c->at, label,
                    "a decimal fraction's mantissa is a 64-bit integer (no bignums)");
    snprintf(text, sizeof text, "%se%s", man_s, exp_s);
    *ret = strtod(text, NULL);  /* overflow is HUGE_VAL: refused as not finite */
    return 0;
}

/* Read one field value: a scalar (or a decimal fraction), never a container. */
static int cr_value(struct dec *d, struct creader *c, const char *label, struct value *ret)
{
    memset(ret, 0, sizeof *ret);
    int rc = cr_next(d, c);
    if (rc < 0)
        return rc;
    size_t at = c->at;
    switch (c->ev.type) {
    case EV_UINT:
        ret->type = VT_NUMBER;
        ret->num = (double)c->ev.u;
        ret->is_uint = true;
        return 0;
    case EV_NEGINT:
        ret->type = VT_NUMBER;
        ret->num = -1.0 - (double)c->ev.u;
        return 0;
    case EV_FLOAT:
        ret->type = VT_NUMBER;
        ret->num = c->ev.f;
        return 0;
    case EV_TAG:
        if (c->ev.u != 4)
            return fail(d, SENML_E_TYPE, at, label,
                        "CBOR tag %llu (only tag 4, a decimal fraction, is a SenML number)",
                        (unsigned long long)c->ev.u);
        ret->type = VT_NUMBER;
        return cr_decfrac(d, c, label, &ret->num);
    case EV_TEXT:
        if (!utf8_valid(c->ev.p, c->ev.len))
            return fail(d, SENML_E_STRING, at, label, "a text string that is not UTF-8 "
                        "or holds U+0000");
        ret->type = VT_TEXT;
        ret->p = c->ev.p;
        ret->len = c->ev.len;
        return 0;
    case EV_BYTES:
        ret->type = VT_BYTES;
        ret->p = c->ev.p;
        ret->len = c->ev.len;
        return 0;
    case EV_BOOL:
        ret->type = VT_BOOL;
        ret->b = c->ev.b;
        return 0;
    case EV_NULL:
    case EV_UNDEFINED:
        return fail(d, SENML_E_TYPE, at, label, "%s is not a SenML value",
                    c->ev.type == EV_NULL ? "null" : "undefined");
    case EV_ARRAY:
    case EV_MAP:
    case EV_INDEF_ARRAY:
    case EV_INDEF_MAP:
        return fail(d, SENML_E_NESTING, at, label,
                    "an array or map as a value: SenML values are strings, numbers and booleans");
    case EV_INDEF_BYTES:
    case EV_INDEF_TEXT:
        return fail(d, SENML_E_SYNTAX, at, label,
                    "an indefinite-length string (RFC 8428 6: definite length)");
    case EV_BREAK:
    case EV_NONE:
        break;
    }
    return fail(d, SENML_E_SYNTAX, at, label, "a break (0xff) outside an indefinite-length item");
}

/* The label of a CBOR key, printable, for reasons. */
static void cr_label(const struct other_key *k, char *out, size_t cap)
{
    if (k->text)
        senml_printable(out, cap, k->p, k->len);
    else if (k->negative && k->u == UINT64_MAX)
        snprintf(out, cap, "-18446744073709551616");
    else if (k->negative)
        snprintf(out, cap, "-%llu", (unsigned long long)k->u + 1ull);
    else
        snprintf(out, cap, "%llu", (unsigned long long)k->u);
}

/* Two keys of ignored fields are the same label. */
static bool key_equal(const struct other_key *a, const struct other_key *b)
{
    if (a->text != b->text)
        return false;
    if (a->text)
        return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
    return a->negative == b->negative && a->u == b->u;
}

static int cbor_record(struct dec *d, struct creader *c)
{
    struct rec r;
    int rc = cr_next(d, c);
    if (rc < 0)
        return rc;
    rec_init(&r, c->at);
    bool indefinite = c->ev.type == EV_INDEF_MAP;
    if (c->ev.type != EV_MAP && !indefinite)
        return fail(d, SENML_E_NOT_RECORD, c->at, NULL, "a record is a map (RFC 8428 6)");
    uint64_t n = c->ev.u;
    if (!indefinite && n > SENML_FIELDS_MAX)
        return fail(d, SENML_E_TOO_MANY_FIELDS, c->at, NULL, "%llu fields (at most %d)",
                    (unsigned long long)n, SENML_FIELDS_MAX);
    for (uint64_t i = 0; indefinite || i < n; i++) {
        struct other_key k;
        char label[SENML_REASON_MAX / 4];
        int f;

        rc = cr_next(d, c);
        if (rc < 0)
            return rc;
        size_t key_at = c->at;
        if (indefinite && c->ev.type == EV_BREAK)
            break;
        if (++r.nfields > SENML_FIELDS_MAX)
            return fail(d, SENML_E_TOO_MANY_FIELDS, key_at, NULL, "more than %d fields",
                        SENML_FIELDS_MAX);
        memset(&k, 0, sizeof k);
        switch (c->ev.type) {
        case EV_UINT:
        case EV_NEGINT:
            k.negative = c->ev.type == EV_NEGINT;
            k.u = c->ev.u;
            f = field_by_int(k.negative, k.u);
            break;
        case EV_TEXT:
            /*
             * Table 4 is CBOR's; a text label is an extension (§6), but
             * one spelled like a Table 1 label means that field here, so
             * that a JSON-to-CBOR translation loses nothing (and "n"
             * with 0 in one map is a duplicate).
             */
            if (!utf8_valid(c->ev.p, c->ev.len))
                return fail(d, SENML_E_STRING, key_at, NULL,
                            "a label that is not UTF-8 or holds U+0000");
            k.text = true;
            k.p = c->ev.p;
            k.len = c->ev.len;
            f = field_by_text(k.p, k.len);
            break;
        default:
            return fail(d, SENML_E_BAD_LABEL, key_at, NULL,
                        "a label is an integer or a text string (RFC 8428 11)");
        }
        cr_label(&k, label, sizeof label);
        if (f >= 0 && (r.seen & BIT(f)))
            return fail(d, SENML_E_DUPLICATE, key_at, fields[f].label, "the field appears twice");
        if (f < 0) {
            if (k.text && must_understand(k.p, k.len))
                return fail(d, SENML_E_MUST_UNDERSTAND, key_at, label,
                            "an extension this decoder does not understand (RFC 8428 4.4)");
            for (unsigned j = 0; j < r.nother; j++)
                if (key_equal(&r.other[j], &k))
                    return fail(d, SENML_E_DUPLICATE, key_at, label, "the field appears twice");
            r.other[r.nother++] = k;     /* nother < nfields <= SENML_FIELDS_MAX */
        }
        struct value v;
        size_t value_at = c->pos;
        rc = cr_value(d, c, f >= 0 ? fields[f].label : label, &v);
        if (rc < 0)
            return rc;
        if (f < 0)
            continue;                    /* §4.4: ignore what is not understood */
        rc = rec_set(d, &r, f, &v, value_at);
        if (rc < 0)
            return rc;
    }
    return resolve(d, &r);
}

static int decode_cbor(struct dec *d, const uint8_t *data, size_t len)
{
    struct creader c = { data, len, 0, 0, { 0 } };
    int rc = cr_next(d, &c);
    if (rc < 0)
        return rc;
    if (c.ev.type == EV_INDEF_ARRAY)
        return fail(d, SENML_E_NOT_ARRAY, 0, NULL, "an indefinite-length array is a SensML "
                    "stream; a pack is definite (RFC 8428 6)");
    if (c.ev.type != EV_ARRAY)
        return fail(d, SENML_E_NOT_ARRAY, 0, NULL, "a pack is an array of records (RFC 8428 6)");
    uint64_t n = c.ev.u;
    if (n == 0)
        return fail(d, SENML_E_EMPTY, 0, NULL, "a pack has at least one record");
    /* Before reading any record: the header's count is all it takes. */
    if (n > d->lim->max_records)
        return fail(d, SENML_E_TOO_MANY_RECORDS, 0, NULL, "%llu records (at most %zu)",
                    (unsigned long long)n, d->lim->max_records);
    for (uint64_t i = 0; i < n; i++) {
        d->record = (long)i;
        rc = cbor_record(d, &c);
        if (rc < 0)
            return rc;
    }
    d->record = -1;
    /* One data item, nothing after it (the pack has an end, §12.3). */
    if (c.pos != len)
        return fail(d, SENML_E_TRAILING, c.pos, NULL, "%zu bytes after the pack", len - c.pos);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The pack                                                            */
/* ------------------------------------------------------------------ */

static bool limits_valid(const struct senml_limits *lim)
{
    return lim && lim->max_bytes >= 1 && lim->max_bytes <= SENML_MAX_BYTES &&
           lim->max_records >= 1 && lim->max_records <= SENML_MAX_RECORDS;
}

int senml_pack_new(const struct senml_limits *cap, struct senml_pack **ret)
{
    if (!limits_valid(cap) || !ret)
        return SENML_E_INVALID;
    struct senml_pack *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->cap = *cap;
    p->records = calloc(cap->max_records, sizeof *p->records);
    p->arena = malloc(cap->max_bytes);
    if (!p->records || !p->arena) {
        senml_pack_free(p);
        return -ENOMEM;
    }
    *ret = p;
    return 0;
}

void senml_pack_free(struct senml_pack *pack)
{
    if (!pack)
        return;
    free(pack->records);
    free(pack->arena);
    free(pack);
}

int senml_decode(struct senml_pack *pack, enum senml_format format, const uint8_t *data,
                 size_t len, const struct senml_limits *lim, double now,
                 struct senml_error *ret_err)
{
    static const uint8_t empty[1];
    const struct senml_error clean = { .offset = SENML_NO_OFFSET, .record = -1 };
    struct senml_error scratch = clean;
    struct dec d;

    memset(&d, 0, sizeof d);
    d.err = ret_err ? ret_err : &scratch;
    *d.err = clean;
    d.record = -1;
    if (!pack)
        return fail(&d, SENML_E_INVALID, SENML_NO_OFFSET, NULL, "no pack");
    pack->count = 0;
    pack->arena_len = 0;
    if (!limits_valid(lim) || lim->max_bytes > pack->cap.max_bytes ||
        lim->max_records > pack->cap.max_records || (!data && len) || !isfinite(now) ||
        (format != SENML_JSON && format != SENML_CBOR))
        return fail(&d, SENML_E_INVALID, SENML_NO_OFFSET, NULL,
                    "limits beyond the pack's, no data or a bad format");
    /* Before any parsing: the size is all it takes to refuse. */
    if (len > lim->max_bytes)
        return fail(&d, SENML_E_TOO_LARGE, SENML_NO_OFFSET, NULL,
                    "%zu bytes (at most %zu)", len, lim->max_bytes);
    d.pack = pack;
    d.lim = lim;
    d.format = format;
    d.now = now;
    d.version = SENML_VERSION;
    if (!data)
        data = empty;
    int rc = format == SENML_JSON ? decode_json(&d, data, len) : decode_cbor(&d, data, len);
    if (rc < 0) {
        pack->count = 0;
        pack->arena_len = 0;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Evidence                                                            */
/* ------------------------------------------------------------------ */

/* A bounded string writer: what does not fit is dropped, NUL kept. */
struct ebuf {
    char *p;
    size_t len;
    size_t cap;
};

static void eb_put(struct ebuf *b, const char *s, size_t n)
{
    if (b->len + n >= b->cap)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

size_t senml_evidence(const uint8_t *data, size_t len, size_t offset, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    struct ebuf b = { out, 0, cap };
    char tail[64];

    if (!out || cap == 0)
        return 0;
    out[0] = '\0';
    if (!data)
        len = 0;
    /* Start a little before the offset, but show a full window if the payload has one. */
    size_t start = offset != SENML_NO_OFFSET && offset > 16 ? offset - 16 : 0;
    if (start > len || len - start < SENML_EVIDENCE_BYTES)
        start = len > SENML_EVIDENCE_BYTES ? len - SENML_EVIDENCE_BYTES : 0;
    size_t end = len - start > SENML_EVIDENCE_BYTES ? start + SENML_EVIDENCE_BYTES : len;
    if (start > 0)
        eb_put(&b, "...", 3);
    for (size_t i = start; i < end; i++) {
        uint8_t c = data[i];
        char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
        if (c == '\\' || c == '"') {
            esc[1] = (char)c;
            eb_put(&b, esc, 2);
        } else if (c >= 0x20 && c < 0x7f) {
            eb_put(&b, (const char *)&data[i], 1);
        } else {
            eb_put(&b, esc, 4);
        }
    }
    if (end < len)
        eb_put(&b, "...", 3);
    int n = start > 0 ? snprintf(tail, sizeof tail, " (%zu bytes, from %zu)", len, start)
                      : snprintf(tail, sizeof tail, " (%zu bytes)", len);
    if (n > 0 && (size_t)n < sizeof tail)
        eb_put(&b, tail, (size_t)n);
    return b.len;
}
