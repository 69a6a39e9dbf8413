/*
 * profile.h — a device profile: what a group's devices may send as SenML
 * (which names, of which type and unit, in which range, which ones every
 * pack must carry) and the size limits their payloads are decoded under.
 *
 * The JSON form, to live in a group policy:
 *
 *   {"schema": {"temp": {"type": "number", "unit": "Cel",
 *                        "min": -40, "max": 85, "required": true},
 *               "door": {"type": "boolean"}},
 *    "max_bytes": 512, "max_records": 32}
 *
 * A compiled profile is immutable; checking a pack against it reads it
 * only and allocates nothing, so workers share one.
 */
#ifndef M2MG_COAP_PROFILE_H
#define M2MG_COAP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap/senml.h"

struct json_t;

/* Names in one schema. */
#define PROFILE_NAMES_MAX 256

enum profile_type {
    PROFILE_NUMBER,                 /* v, or a sum without a value */
    PROFILE_STRING,                 /* vs */
    PROFILE_BOOLEAN,                /* vb */
    PROFILE_DATA,                   /* vd */
};

struct profile_field {
    char name[SENML_NAME_MAX + 1];
    uint8_t name_len;
    uint8_t type;                   /* enum profile_type */
    bool required;
    bool has_min;
    bool has_max;
    char unit[SENML_UNIT_MAX + 1];  /* "" = any unit */
    double min;
    double max;
};

struct profile {
    struct senml_limits limits;     /* for senml_decode() */
    bool has_schema;                /* false: any name, any type */
    size_t nfields;
    struct profile_field *fields;   /* sorted by name */
};

/*
 * The first way a pack breaks its profile.  Negative like errno;
 * profile_error_name() gives the counter's name.
 */
enum profile_violation_code {
    PROFILE_OK = 0,
    PROFILE_E_UNKNOWN_NAME = -1,    /* a name the schema does not list */
    PROFILE_E_TYPE = -2,            /* e.g. a string for a number */
    PROFILE_E_UNIT = -3,            /* a unit other than the schema's */
    PROFILE_E_RANGE = -4,           /* a number below min or above max */
    PROFILE_E_MISSING = -5,         /* a required name in no record */
    PROFILE_E__COUNT = 6,
};

const char *profile_error_name(int err);

struct profile_violation {
    int code;
    long record;                    /* the record's index in the pack; -1 for MISSING */
    char name[SENML_NAME_MAX + 1];  /* the record's name, or the missing one */
    char reason[SENML_REASON_MAX];  /* one line, printable ASCII */
};

/*
 * Compile a profile from its JSON object (a policy's section).  path
 * prefixes the JSON paths in messages ("device" gives
 * "device.schema.temp.min: ..."); NULL for none.  Returns 0, -ENOMEM,
 * or -EINVAL with "PATH: message" in err (errlen bytes, NUL included)
 * naming the first problem.  Defaults: no schema, SENML_DEFAULT_MAX_*.
 */
int profile_from_json(const struct json_t *obj, const char *path, struct profile **ret,
                      char *err, size_t errlen) __attribute__((warn_unused_result));

/* The same from JSON text; a syntax error reads "line L, column C: ...". */
int profile_parse(const char *text, size_t len, struct profile **ret, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Frees; accepts NULL. */
void profile_free(struct profile *p);

/*
 * Which schema entry a record answers to: the part of its name after the
 * base name — a device names itself in bn ("urn:dev:imei:...:") and its
 * measurements in n ("temp") — or, when the record has no name of its
 * own, the whole name.  NULL when the schema has no such name.
 */
const struct profile_field *profile_lookup(const struct profile *p,
                                           const struct senml_record *rec);

/*
 * Check a decoded pack: every record's name in the schema, of the
 * schema's type, with the schema's unit when it carries one (no unit at
 * all is the profile's unit, RFC 8428 §4.5.2), a number within
 * [min, max]; then every required name in some record.  A sum-only record
 * fits a number and is not range-checked (a sum is in unit-seconds).
 * Returns 0, or the first violation's code in the order of the pack (then
 * of the schema) with *ret (if not NULL) filled.
 */
int profile_check(const struct profile *p, const struct senml_pack *pack,
                  struct profile_violation *ret) __attribute__((warn_unused_result));

#endif
