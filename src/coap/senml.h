/*
 * senml.h — SenML (RFC 8428) payloads of device messages: decoding a pack
 * in JSON (application/senml+json) or CBOR (application/senml+cbor) into
 * resolved records (§4.6), and a refusal that says what was wrong and
 * where, for the malformed_message finding's evidence.
 *
 * A decoder works in a struct senml_pack, allocated once (one per worker
 * thread) with the largest limits it will be asked to honour; each call of
 * senml_decode() gives the limits of the device's profile, which must fit
 * in the pack's.  The pack owns the resolved records and a byte arena for
 * their string and data values, reused by the next decode.
 */
#ifndef M2MG_COAP_SENML_H
#define M2MG_COAP_SENML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest resolved name (Base Name + Name), in bytes. */
#define SENML_NAME_MAX 64
/*
 * The longest unit.  The registered units (RFC 8428 §12.1) and the
 * secondary units of RFC 8798 are all under 16 bytes.
 */
#define SENML_UNIT_MAX 32
/* Fields in one record, known and ignored ones together. */
#define SENML_FIELDS_MAX 32
/* Ceilings for any profile's limits (a pack is sized with at most these). */
#define SENML_MAX_BYTES 65536
#define SENML_MAX_RECORDS 1024
/* Defaults for a profile that gives no limits: one CoAP block of 1024. */
#define SENML_DEFAULT_MAX_BYTES 1024
#define SENML_DEFAULT_MAX_RECORDS 64
/* The version this decoder implements (§4.4); a pack with a later one is refused. */
#define SENML_VERSION 10
/* §4.5.3: times below 2**28 are relative to "now". */
#define SENML_RELATIVE_TIME_LIMIT 268435456.0

/* CoAP Content-Format IDs (RFC 8428 §12.5). */
#define SENML_CONTENT_FORMAT_JSON 110
#define SENML_CONTENT_FORMAT_CBOR 112

enum senml_format {
    SENML_JSON,
    SENML_CBOR,
};

/*
 * Why a pack was refused.  Negative like errno; senml_error_name() gives
 * the counter's name.  Keep SENML_E__COUNT last: counter arrays are sized
 * with it.
 */
enum senml_error_code {
    SENML_OK = 0,
    SENML_E_TOO_LARGE = -1,         /* more bytes than the profile allows */
    SENML_E_SYNTAX = -2,            /* not JSON / not well-formed CBOR */
    SENML_E_TRAILING = -3,          /* bytes after the pack */
    SENML_E_NOT_ARRAY = -4,         /* the pack is not a (definite) array */
    SENML_E_EMPTY = -5,             /* an array without records (§11: 1* record) */
    SENML_E_TOO_MANY_RECORDS = -6,  /* more records than the profile allows */
    SENML_E_NOT_RECORD = -7,        /* a record that is not an object / map */
    SENML_E_NESTING = -8,           /* an array or object as a field's value */
    SENML_E_BAD_LABEL = -9,         /* a CBOR key that is neither int nor text */
    SENML_E_DUPLICATE = -10,        /* a field twice in one record */
    SENML_E_TOO_MANY_FIELDS = -11,  /* over SENML_FIELDS_MAX fields in a record */
    SENML_E_MUST_UNDERSTAND = -12,  /* a label ending in '_' (§4.4) */
    SENML_E_TYPE = -13,             /* a field of the wrong type */
    SENML_E_NOT_FINITE = -14,       /* NaN, infinity, or a sum that overflows */
    SENML_E_RANGE = -15,            /* negative ut; a JSON number past a double */
    SENML_E_VERSION = -16,          /* bver not 1..10, or not the same in every record */
    SENML_E_MULTIPLE_VALUES = -17,  /* more than one of v, vs, vb, vd (§4.2) */
    SENML_E_NO_VALUE = -18,         /* neither a value nor a sum (§4.2) */
    SENML_E_NAME_EMPTY = -19,       /* the resolved name is empty (§4.5.1) */
    SENML_E_NAME_CHARS = -20,       /* a character outside §4.5.1's set */
    SENML_E_NAME_TOO_LONG = -21,    /* a resolved name over SENML_NAME_MAX */
    SENML_E_UNIT = -22,             /* a unit over SENML_UNIT_MAX or not printable */
    SENML_E_STRING = -23,           /* a text string not UTF-8, or with U+0000 */
    SENML_E_DATA = -24,             /* vd not unpadded base64url (§5) */
    SENML_E_NO_MEMORY = -25,        /* the JSON parser could not allocate */
    SENML_E_INVALID = -26,          /* bad argument from the caller */
    SENML_E__COUNT = 27,
};

const char *senml_error_name(int err);

/*
 * The CoAP response code for a refusal, as the octet of RFC 7252 §3
 * (class << 5 | detail): 4.13 Request Entity Too Large for
 * SENML_E_TOO_LARGE, 5.00 for the decoder's own failures (no memory, bad
 * argument), 4.00 Bad Request for everything the device got wrong.
 */
uint8_t senml_coap_code(int err);

/* Where a refusal was found, and why, in words. */
#define SENML_NO_OFFSET SIZE_MAX
#define SENML_REASON_MAX 160
struct senml_error {
    int code;
    /*
     * Byte offset in the payload: the offending CBOR item's first byte,
     * or where the JSON parser stopped.  SENML_NO_OFFSET when unknown
     * (jansson keeps no positions once a document has parsed).
     */
    size_t offset;
    long record;                    /* 0-based index in the pack, -1: none */
    char field[12];                 /* the label ("v", "bn", "-5"), "" if none */
    char reason[SENML_REASON_MAX];  /* one line, printable ASCII */
};

/* The caller's limits, from the device's profile. */
struct senml_limits {
    size_t max_bytes;               /* 1..SENML_MAX_BYTES, checked before parsing */
    size_t max_records;             /* 1..SENML_MAX_RECORDS records in the pack */
};

enum senml_kind {
    SENML_KIND_NONE,                /* no value field: a record with a sum only */
    SENML_KIND_NUMBER,              /* v (plus the Base Value) */
    SENML_KIND_STRING,              /* vs: UTF-8 without U+0000 */
    SENML_KIND_BOOLEAN,             /* vb */
    SENML_KIND_DATA,                /* vd: octets (base64url-decoded in JSON) */
};

/*
 * A resolved record (§4.6): no base values left, no relative time.
 * Strings are NUL-terminated; str points into the pack's arena and is
 * valid until the pack's next decode.
 */
struct senml_record {
    char name[SENML_NAME_MAX + 1];  /* Base Name + Name, never empty */
    uint8_t name_len;
    uint8_t base_len;               /* how many leading bytes came from bn */
    char unit[SENML_UNIT_MAX + 1];  /* u, else bu; "" = no unit */
    uint8_t unit_len;
    uint8_t kind;                   /* enum senml_kind */
    bool boolean;
    bool has_sum;
    bool has_update_time;
    bool relative_time;             /* bt + t was below 2**28: the device had no clock */
    double number;
    const uint8_t *str;             /* KIND_STRING, KIND_DATA */
    size_t str_len;
    double sum;                     /* bs + s */
    double time;                    /* seconds since the epoch: bt + t, plus now if relative */
    double update_time;             /* ut, seconds, >= 0 */
    uint32_t index;                 /* the record's position in the pack */
};

/*
 * The records of the last decode.  A record that carries only base
 * fields (§5.1.7's first record) resolves to nothing, so count can be
 * smaller than the number of records sent; each record's index says which
 * one it was.
 */
struct senml_pack {
    struct senml_record *records;
    size_t count;
    struct senml_limits cap;        /* what the pack was allocated for */
    uint8_t *arena;                 /* cap.max_bytes octets for vs / vd values */
    size_t arena_len;
};

/*
 * A pack able to hold the result of any decode within cap (both limits
 * 1..SENML_MAX_*).  Returns 0, SENML_E_INVALID or -ENOMEM.
 */
int senml_pack_new(const struct senml_limits *cap, struct senml_pack **ret)
    __attribute__((warn_unused_result));
/* Frees; accepts NULL. */
void senml_pack_free(struct senml_pack *pack);

/*
 * Decode a payload into pack.  Refused before any parsing when len is
 * over lim->max_bytes; lim must fit within the pack's cap.  now (seconds
 * since the epoch, the time of reception) resolves relative times.
 *
 * On success returns 0 with pack->count resolved records, in the order
 * of the pack.  On failure returns a SENML_E_* code, pack->count is 0,
 * and *ret_err (if not NULL) says what and where; the first problem in
 * the order of the payload is the one reported.
 *
 * JSON is parsed by jansson (an allocated tree, bounded by max_bytes);
 * CBOR is read item by item with libcbor's streaming decoder, without any
 * allocation.
 */
int senml_decode(struct senml_pack *pack, enum senml_format format, const uint8_t *data,
                 size_t len, const struct senml_limits *lim, double now,
                 struct senml_error *ret_err) __attribute__((warn_unused_result));

/*
 * Is this a name RFC 8428 §4.5.1 allows: 1..SENML_NAME_MAX bytes of
 * A-Z a-z 0-9 - : . / _, starting with a letter or a digit?
 */
bool senml_name_valid(const char *name, size_t len);

/*
 * A label or name from a payload, made printable for a message: bytes
 * outside 0x21..0x7e, '"' and '\\' as \xHH; truncated to fit cap (NUL
 * included, cap >= 1).
 */
void senml_printable(char *out, size_t cap, const uint8_t *s, size_t len);

/*
 * Evidence: the payload, or the part of it around offset, as one line of
 * printable ASCII.  At most SENML_EVIDENCE_BYTES bytes of the payload are
 * shown, from 16 before offset (from the start when offset is
 * SENML_NO_OFFSET or near it); '\\' and '"' are escaped, other bytes
 * outside 0x20..0x7e are written \xHH.  "..." marks bytes left out on
 * either side, and the total length follows: `[{"n":"x","v":"hi"}]`
 * (20 bytes) or `...:"hi"},{"n...` (912 bytes, from 400).  Writes at most
 * cap bytes, NUL included; SENML_EVIDENCE_MAX is always enough.  Returns
 * the length written.
 */
#define SENML_EVIDENCE_BYTES 64
#define SENML_EVIDENCE_MAX (4 * SENML_EVIDENCE_BYTES + 64)
size_t senml_evidence(const uint8_t *data, size_t len, size_t offset, char *out, size_t cap);

#endif
