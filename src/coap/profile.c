/*
 * profile.c — device profiles: compiling the JSON form a group policy
 * carries, and checking a decoded SenML pack (coap/senml.h) against it.
 *
 * Where it sits: the policy compiler hands the profile's JSON object to
 * profile_from_json() when a policy is set, so a bad profile is refused
 * with its JSON path before it is ever used; the device plane decodes a
 * payload under profile->limits and calls profile_check(), whose first
 * violation becomes a malformed_message finding (unknown name, wrong
 * type, wrong unit, out of range, missing required).
 *
 * Compiling allocates (once per policy change); checking reads the
 * compiled profile only — a binary search per record over the sorted
 * names and a bitmap of the required ones on the stack — so it is
 * allocation-free and safe from any number of threads.  Nothing here
 * logs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coap/profile.h"

static const char *const error_names[PROFILE_E__COUNT] = {
    [0] = "ok",
    [-PROFILE_E_UNKNOWN_NAME] = "profile_unknown_name",
    [-PROFILE_E_TYPE] = "profile_wrong_type",
    [-PROFILE_E_UNIT] = "profile_wrong_unit",
    [-PROFILE_E_RANGE] = "profile_out_of_range",
    [-PROFILE_E_MISSING] = "profile_missing_required",
};

const char *profile_error_name(int err)
{
    if (err > 0 || err <= -PROFILE_E__COUNT)
        return "unknown_error";
    return error_names[-err];
}

static const char *const type_names[] = {
    [PROFILE_NUMBER] = "number",
    [PROFILE_STRING] = "string",
    [PROFILE_BOOLEAN] = "boolean",
    [PROFILE_DATA] = "data",
};
#define NTYPES (sizeof type_names / sizeof type_names[0])

/* ------------------------------------------------------------------ */
/* Compiling the JSON form                                             */
/* ------------------------------------------------------------------ */

/* Where the parser is, for messages: err is "PATH: message". */
struct pctx {
    const char *prefix;             /* "" or "device." */
    char *err;
    size_t errlen;
};

static int perr(struct pctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct pctx *c, const char *path, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s%s: %s", c->prefix, path, msg);
    return -EINVAL;
}

/* Refuse a key outside `known` (a NULL-terminated list): a typo must not pass. */
static int only_keys(struct pctx *c, const json_t *obj, const char *path,
                     const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok = ok || strcmp(k, known[i]) == 0;
        if (!ok) {
            char shown[48];
            senml_printable(shown, sizeof shown, (const uint8_t *)k, strlen(k));
            return perr(c, path, "unknown key \"%s\"", shown);
        }
    }
    return 0;
}

/* An optional integer in [min, max], dflt when absent. */
static int limit_of(struct pctx *c, const json_t *obj, const char *key, size_t min, size_t max,
                    size_t dflt, size_t *ret)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        *ret = dflt;
        return 0;
    }
    json_int_t j = json_is_integer(v) ? json_integer_value(v) : -1;
    if (!json_is_integer(v) || j < (json_int_t)min || j > (json_int_t)max)
        return perr(c, key, "must be an integer %zu..%zu", min, max);
    *ret = (size_t)j;
    return 0;
}

static int field_cmp(const void *a, const void *b)
{
    const struct profile_field *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int parse_field(struct pctx *c, const char *name, const json_t *spec,
                       struct profile_field *ret)
{
    static const char *const keys[] = { "type", "unit", "min", "max", "required", NULL };
    char path[SENML_NAME_MAX + 32];
    char sub[SENML_NAME_MAX + 48];
    size_t len = strlen(name);

    memset(ret, 0, sizeof *ret);
    snprintf(path, sizeof path, "schema.%s", name);
    /* The schema's names are resolved SenML names (RFC 8428 §4.5.1). */
    if (!senml_name_valid(name, len)) {
        char shown[48];
        senml_printable(shown, sizeof shown, (const uint8_t *)name, len);
        return perr(c, "schema", "\"%s\" is not a SenML name (1..%d of A-Z a-z 0-9 - : . / _, "
                    "starting with a letter or a digit)", shown, SENML_NAME_MAX);
    }
    memcpy(ret->name, name, len + 1);
    ret->name_len = (uint8_t)len;
    if (!json_is_object(spec))
        return perr(c, path, "must be an object with a \"type\"");
    int rc = only_keys(c, spec, path, keys);
    if (rc < 0)
        return rc;

    const char *type = json_string_value(json_object_get(spec, "type"));
    size_t t = 0;
    while (t < NTYPES && !(type && strcmp(type, type_names[t]) == 0))
        t++;
    snprintf(sub, sizeof sub, "%s.type", path);
    if (t == NTYPES)
        return perr(c, sub, "must be one of number, string, boolean, data");
    ret->type = (uint8_t)t;

    const json_t *unit = json_object_get(spec, "unit");
    if (unit) {
        const char *u = json_string_value(unit);
        size_t ulen = u ? json_string_length(unit) : 0;
        bool ok = u && ulen >= 1 && ulen <= SENML_UNIT_MAX && strlen(u) == ulen;
        for (size_t i = 0; ok && i < ulen; i++)
            ok = u[i] > 0x20 && u[i] < 0x7f;
        snprintf(sub, sizeof sub, "%s.unit", path);
        if (!ok)
            return perr(c, sub, "must be a SenML unit: 1..%d characters of printable ASCII, "
                        "e.g. \"Cel\"", SENML_UNIT_MAX);
        memcpy(ret->unit, u, ulen + 1);
    }

    static const char *const bounds[2] = { "min", "max" };
    for (int i = 0; i < 2; i++) {
        const json_t *b = json_object_get(spec, bounds[i]);
        if (!b)
            continue;
        snprintf(sub, sizeof sub, "%s.%s", path, bounds[i]);
        if (!json_is_number(b))
            return perr(c, sub, "must be a number");
        if (ret->type != PROFILE_NUMBER)
            return perr(c, sub, "only a number has a range");
        if (i == 0) {
            ret->has_min = true;
            ret->min = json_number_value(b);
        } else {
            ret->has_max = true;
            ret->max = json_number_value(b);
        }
    }
    if (ret->has_min && ret->has_max && ret->min > ret->max) {
        snprintf(sub, sizeof sub, "%s.min", path);
        return perr(c, sub, "%g is above max %g", ret->min, ret->max);
    }

    const json_t *req = json_object_get(spec, "required");
    if (req) {
        snprintf(sub, sizeof sub, "%s.required", path);
        if (!json_is_boolean(req))
            return perr(c, sub, "must be true or false");
        ret->required = json_is_true(req);
    }
    return 0;
}

int profile_from_json(const struct json_t *obj, const char *path, struct profile **ret,
                      char *err, size_t errlen)
{
    static const char *const keys[] = { "schema", "max_bytes", "max_records", NULL };
    const char *root = path && *path ? path : "profile";
    char prefix[64] = "";
    struct pctx c = { "", err, errlen };
    struct profile *p = NULL;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!ret)
        return -EINVAL;
    /* Problems with the object itself are reported at its own path. */
    if (!json_is_object(obj))
        return perr(&c, root, "must be an object");
    if ((rc = only_keys(&c, obj, root, keys)) < 0)
        return rc;
    if (path && *path)
        snprintf(prefix, sizeof prefix, "%s.", path);
    c.prefix = prefix;
    p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    if ((rc = limit_of(&c, obj, "max_bytes", 1, SENML_MAX_BYTES, SENML_DEFAULT_MAX_BYTES,
                       &p->limits.max_bytes)) < 0 ||
        (rc = limit_of(&c, obj, "max_records", 1, SENML_MAX_RECORDS,
                       SENML_DEFAULT_MAX_RECORDS, &p->limits.max_records)) < 0)
        goto fail;

    const json_t *schema = json_object_get(obj, "schema");
    if (schema) {
        if (!json_is_object(schema)) {
            rc = perr(&c, "schema", "must be an object of names");
            goto fail;
        }
        size_t n = json_object_size(schema);
        if (n > PROFILE_NAMES_MAX) {
            rc = perr(&c, "schema", "%zu names (at most %d)", n, PROFILE_NAMES_MAX);
            goto fail;
        }
        p->has_schema = true;
        p->fields = calloc(n ? n : 1, sizeof *p->fields);
        if (!p->fields) {
            rc = -ENOMEM;
            goto fail;
        }
        const char *name;
        json_t *spec;
        json_object_foreach((json_t *)schema, name, spec) {
            rc = parse_field(&c, name, spec, &p->fields[p->nfields]);
            if (rc < 0)
                goto fail;
            p->nfields++;
        }
        /* A JSON object holds each key once: the sorted names are distinct. */
        qsort(p->fields, p->nfields, sizeof *p->fields, field_cmp);
    }
    *ret = p;
    return 0;
fail:
    profile_free(p);
    return rc;
}

int profile_parse(const char *text, size_t len, struct profile **ret, char *err, size_t errlen)
{
    json_error_t je;
    if (err && errlen)
        err[0] = '\0';
    if (!text || !ret)
        return -EINVAL;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (err && errlen)
            snprintf(err, errlen, "profile: line %d, column %d: %s", je.line, je.column, je.text);
        return -EINVAL;
    }
    int rc = profile_from_json(root, NULL, ret, err, errlen);
    json_decref(root);
    return rc;
}

void profile_free(struct profile *p)
{
    if (!p)
        return;
    free(p->fields);
    free(p);
}

/* ------------------------------------------------------------------ */
/* Checking a pack                                                     */
/* ------------------------------------------------------------------ */

static int name_cmp(const void *key, const void *elem)
{
    const struct profile_field *f = elem;
    return strcmp(key, f->name);
}

const struct profile_field *profile_lookup(const struct profile *p,
                                           const struct senml_record *rec)
{
    const char *local = rec->name_len > rec->base_len ? rec->name + rec->base_len : rec->name;
    if (!p || !p->fields)
        return NULL;
    return bsearch(local, p->fields, p->nfields, sizeof *p->fields, name_cmp);
}

static const char *kind_name(uint8_t kind)
{
    switch (kind) {
    case SENML_KIND_NUMBER: return "a number";
    case SENML_KIND_STRING: return "a string";
    case SENML_KIND_BOOLEAN: return "a boolean";
    case SENML_KIND_DATA: return "data";
    default: return "no value";
    }
}

static bool type_fits(uint8_t type, const struct senml_record *rec)
{
    switch (type) {
    case PROFILE_NUMBER:
        return rec->kind == SENML_KIND_NUMBER || (rec->kind == SENML_KIND_NONE && rec->has_sum);
    case PROFILE_STRING:
        return rec->kind == SENML_KIND_STRING;
    case PROFILE_BOOLEAN:
        return rec->kind == SENML_KIND_BOOLEAN;
    case PROFILE_DATA:
        return rec->kind == SENML_KIND_DATA;
    default:
        return false;
    }
}

static int violation(struct profile_violation *ret, int code, long record, const char *name,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int violation(struct profile_violation *ret, int code, long record, const char *name,
                     const char *fmt, ...)
{
    va_list ap;
    int n;
    if (!ret)
        return code;
    ret->code = code;
    ret->record = record;
    snprintf(ret->name, sizeof ret->name, "%s", name);
    if (record >= 0)
        n = snprintf(ret->reason, sizeof ret->reason, "record %ld, \"%s\": ", record, name);
    else
        n = snprintf(ret->reason, sizeof ret->reason, "\"%s\": ", name);
    if (n > 0 && (size_t)n < sizeof ret->reason) {
        va_start(ap, fmt);
        vsnprintf(ret->reason + n, sizeof ret->reason - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

int profile_check(const struct profile *p, const struct senml_pack *pack,
                  struct profile_violation *ret)
{
    uint64_t seen[(PROFILE_NAMES_MAX + 63) / 64] = { 0 };

    if (ret)
        memset(ret, 0, sizeof *ret);
    if (!p || !pack || !p->has_schema)
        return 0;
    for (size_t i = 0; i < pack->count; i++) {
        const struct senml_record *rec = &pack->records[i];
        const struct profile_field *f = profile_lookup(p, rec);
        long at = (long)rec->index;
        if (!f)
            return violation(ret, PROFILE_E_UNKNOWN_NAME, at, rec->name,
                             "not a name of the device profile");
        if (!type_fits(f->type, rec))
            return violation(ret, PROFILE_E_TYPE, at, rec->name, "%s where the profile has a %s",
                             kind_name(rec->kind), type_names[f->type]);
        /* No unit at all: the profile supplies it (RFC 8428 §4.5.2). */
        if (f->unit[0] && rec->unit_len && strcmp(rec->unit, f->unit) != 0)
            return violation(ret, PROFILE_E_UNIT, at, rec->name,
                             "unit \"%s\" where the profile has \"%s\"", rec->unit, f->unit);
        if (rec->kind == SENML_KIND_NUMBER &&
            ((f->has_min && rec->number < f->min) || (f->has_max && rec->number > f->max))) {
            char lo[32] = "-inf", hi[32] = "inf";
            if (f->has_min)
                snprintf(lo, sizeof lo, "%g", f->min);
            if (f->has_max)
                snprintf(hi, sizeof hi, "%g", f->max);
            return violation(ret, PROFILE_E_RANGE, at, rec->name, "%.17g outside [%s, %s]",
                             rec->number, lo, hi);
        }
        size_t k = (size_t)(f - p->fields);
        seen[k / 64] |= 1ull << (k % 64);
    }
    for (size_t k = 0; k < p->nfields; k++)
        if (p->fields[k].required && !(seen[k / 64] & (1ull << (k % 64))))
            return violation(ret, PROFILE_E_MISSING, -1, p->fields[k].name,
                             "required by the device profile, in no record");
    return 0;
}
