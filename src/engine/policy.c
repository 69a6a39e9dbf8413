/*
 * policy.c — compiling a group policy (JSON, jansson) into struct policy.
 *
 * Compilation is where every policy mistake is caught: unknown keys are
 * errors (a typo such as "alowed_mcc" would otherwise silently disable a
 * rule), every list entry is validated, and all problems are reported, not
 * just the first.  The result is sorted arrays for O(log n) membership on
 * the authentication path.  Not on the hot path: allocation is fine here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/ident.h"
#include "engine/policy.h"

struct pctx {
    const char *source;
    FILE *errf;
    int errors;
};

static void perr(struct pctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(struct pctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    c->errors++;
    if (!c->errf)
        return;
    fprintf(c->errf, "%s: %s: ", c->source, path);
    va_start(ap, fmt);
    vfprintf(c->errf, fmt, ap);
    va_end(ap);
    fputc('\n', c->errf);
}

const char *rule_mode_name(int mode)
{
    static const char *const n[] = { "off", "alert", "enforce", "learn" };
    return mode >= 0 && mode <= MODE_LEARN ? n[mode] : "unknown";
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return x < y ? -1 : x > y;
}

int policy_has_u32(const uint32_t *v, uint32_t n, uint32_t x)
{
    return n && bsearch(&x, v, n, sizeof *v, cmp_u32) != NULL;
}

int policy_has_mcc(const struct policy *p, uint16_t mcc)
{
    return p->nmccs && bsearch(&mcc, p->mccs, p->nmccs, sizeof mcc, cmp_u16) != NULL;
}

int policy_has_plmn(const struct gpp_plmn *v, uint32_t n, const struct gpp_plmn *x)
{
    for (uint32_t i = 0; i < n; i++)
        if (gpp_plmn_equal(&v[i], x))
            return 1;
    return 0;
}

/* Check that `obj` has only the listed keys. */
static void only_keys(struct pctx *c, json_t *obj, const char *path,
                      const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        int ok = 0;
        for (const char *const *kk = keys; *kk; kk++)
            if (strcmp(*kk, k) == 0)
                ok = 1;
        if (!ok) {
            char list[512] = "";
            for (const char *const *kk = keys; *kk; kk++) {
                strncat(list, *kk, sizeof list - strlen(list) - 3);
                if (kk[1])
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            perr(c, path, "unknown key \"%s\" (known: %s)", k, list);
        }
    }
}

static json_t *section(struct pctx *c, json_t *root, const char *name)
{
    json_t *s = json_object_get(root, name);
    if (s && !json_is_object(s)) {
        perr(c, name, "must be an object");
        return NULL;
    }
    return s;
}

static int mode_of(struct pctx *c, json_t *sec, const char *path, int allow_learn,
                   int dflt)
{
    json_t *m = sec ? json_object_get(sec, "mode") : NULL;
    if (!m)
        return dflt;
    const char *s = json_string_value(m);
    if (s) {
        if (strcmp(s, "off") == 0) return MODE_OFF;
        if (strcmp(s, "alert") == 0) return MODE_ALERT;
        if (strcmp(s, "enforce") == 0) return MODE_ENFORCE;
        if (allow_learn && strcmp(s, "learn") == 0) return MODE_LEARN;
    }
    perr(c, path, "mode must be one of off, alert, %senforce", allow_learn ? "learn, " : "");
    return dflt;
}

/* A JSON array of strings or integers → validated uint32 list, sorted. */
typedef int (*item_fn)(const char *s, size_t len, uint64_t *ret);

static int item_tac(const char *s, size_t len, uint64_t *ret)
{
    if (len != TAC_LEN || !ident_all_digits(s, len))
        return -1;
    return ident_digits_u64(s, len, ret);
}

static int item_mcc(const char *s, size_t len, uint64_t *ret)
{
    if (len != 3 || !ident_all_digits(s, len))
        return -1;
    return ident_digits_u64(s, len, ret);
}

static uint32_t *u32_list(struct pctx *c, json_t *sec, const char *key,
                          const char *path, item_fn fn, const char *what,
                          uint32_t max_int, uint32_t *ret_n)
{
    json_t *arr = sec ? json_object_get(sec, key) : NULL;
    char ipath[128];
    *ret_n = 0;
    if (!arr)
        return NULL;
    snprintf(ipath, sizeof ipath, "%s.%s", path, key);
    if (!json_is_array(arr)) {
        perr(c, ipath, "must be an array");
        return NULL;
    }
    size_t n = json_array_size(arr);
    if (n > POLICY_MAX_LIST) {
        perr(c, ipath, "more than %d entries", POLICY_MAX_LIST);
        return NULL;
    }
    if (n == 0)
        return NULL;
    uint32_t *v = calloc(n, sizeof *v);
    if (!v) {
        perr(c, ipath, "out of memory");
        return NULL;
    }
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) {
        uint64_t x;
        snprintf(ipath, sizeof ipath, "%s.%s[%zu]", path, key, i);
        if (fn && json_is_string(it)) {
            if (fn(json_string_value(it), json_string_length(it), &x) < 0) {
                perr(c, ipath, "\"%s\" is not %s", json_string_value(it), what);
                continue;
            }
        } else if (!fn && json_is_integer(it)) {
            json_int_t j = json_integer_value(it);
            if (j < 0 || (uint64_t)j > max_int) {
                perr(c, ipath, "%lld is not %s", (long long)j, what);
                continue;
            }
            x = (uint64_t)j;
        } else {
            perr(c, ipath, "must be %s", what);
            continue;
        }
        v[(*ret_n)++] = (uint32_t)x;
    }
    qsort(v, *ret_n, sizeof *v, cmp_u32);
    return v;
}

static struct gpp_plmn *plmn_list(struct pctx *c, json_t *sec, const char *key,
                                  const char *path, uint32_t *ret_n)
{
    json_t *arr = sec ? json_object_get(sec, key) : NULL;
    char ipath[128];
    *ret_n = 0;
    if (!arr)
        return NULL;
    snprintf(ipath, sizeof ipath, "%s.%s", path, key);
    if (!json_is_array(arr) || json_array_size(arr) > POLICY_MAX_LIST) {
        perr(c, ipath, "must be an array of at most %d MCC-MNC strings", POLICY_MAX_LIST);
        return NULL;
    }
    size_t n = json_array_size(arr);
    if (n == 0)
        return NULL;
    struct gpp_plmn *v = calloc(n, sizeof *v);
    if (!v)
        return NULL;
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) {
        snprintf(ipath, sizeof ipath, "%s.%s[%zu]", path, key, i);
        const char *s = json_string_value(it);
        if (!s || gpp_plmn_parse(s, strlen(s), &v[*ret_n]) < 0) {
            perr(c, ipath, "must be an MCC-MNC string of 5 or 6 digits, e.g. \"23415\"");
            continue;
        }
        (*ret_n)++;
    }
    return v;
}

static uint32_t uint_of(struct pctx *c, json_t *sec, const char *key, const char *path,
                        uint32_t min, uint32_t max, uint32_t dflt)
{
    json_t *v = sec ? json_object_get(sec, key) : NULL;
    if (!v)
        return dflt;
    json_int_t j = json_is_integer(v) ? json_integer_value(v) : -1;
    if (!json_is_integer(v) || j < (json_int_t)min || j > (json_int_t)max) {
        perr(c, path, "%s must be an integer %u..%u", key, min, max);
        return dflt;
    }
    return (uint32_t)j;
}

static char *str_of(struct pctx *c, json_t *sec, const char *key, const char *path,
                    size_t max)
{
    json_t *v = sec ? json_object_get(sec, key) : NULL;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        perr(c, path, "%s must be a string of 1..%zu characters", key, max);
        return NULL;
    }
    return strdup(json_string_value(v));
}

struct policy *policy_default(void)
{
    struct policy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->imei_mode = MODE_LEARN;
    p->location_mode = MODE_OFF;
    p->rat_mode = MODE_OFF;
    p->roaming_mode = MODE_ALERT;
    p->min_severity = SEV_WARNING;
    p->storm_max = 30;
    p->storm_window = 60;
    p->interim_interval = 600;
    return p;
}

int policy_compile(const char *text, size_t len, const char *source, FILE *errf,
                   struct policy **ret)
{
    struct pctx c = { .source = source ? source : "policy", .errf = errf };
    json_error_t jerr;
    struct policy *p;
    static const char *const top_keys[] = { "description", "imei_lock", "location",
        "roaming", "rat", "attach_storm", "credential", "session", "usage", "restrict",
        "alerts", "response", NULL };

    if (len > POLICY_MAX_BODY) {
        perr(&c, "(document)", "larger than %d bytes", POLICY_MAX_BODY);
        return -EINVAL;
    }
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (errf)
            fprintf(errf, "%s:%d:%d: %s\n", c.source, jerr.line, jerr.column, jerr.text);
        return -EINVAL;
    }
    if (!json_is_object(root)) {
        perr(&c, "(document)", "must be a JSON object");
        json_decref(root);
        return -EINVAL;
    }
    p = policy_default();
    if (!p) {
        json_decref(root);
        return -ENOMEM;
    }
    only_keys(&c, root, "(document)", top_keys);
    json_t *desc = json_object_get(root, "description");
    if (desc && !json_is_string(desc))
        perr(&c, "description", "must be a string");

    json_t *s = section(&c, root, "imei_lock");
    if (s) {
        static const char *const k[] = { "mode", "allowed_tacs", NULL };
        only_keys(&c, s, "imei_lock", k);
        p->imei_mode = (uint8_t)mode_of(&c, s, "imei_lock.mode", 1, MODE_LEARN);
        p->tacs = u32_list(&c, s, "allowed_tacs", "imei_lock", item_tac,
                           "an 8-digit TAC string", 0, &p->ntacs);
    }
    s = section(&c, root, "location");
    if (s) {
        static const char *const k[] = { "mode", "allowed_mcc", "allowed_plmns",
                                         "allowed_areas", "allowed_cells", NULL };
        only_keys(&c, s, "location", k);
        p->location_mode = (uint8_t)mode_of(&c, s, "location.mode", 0, MODE_ENFORCE);
        uint32_t n;
        uint32_t *m = u32_list(&c, s, "allowed_mcc", "location", item_mcc,
                               "a 3-digit MCC string", 0, &n);
        if (m) {
            p->mccs = calloc(n ? n : 1, sizeof *p->mccs);
            for (uint32_t i = 0; p->mccs && i < n; i++)
                p->mccs[i] = (uint16_t)m[i];
            p->nmccs = p->mccs ? n : 0;
            free(m);
        }
        p->plmns = plmn_list(&c, s, "allowed_plmns", "location", &p->nplmns);
        p->areas = u32_list(&c, s, "allowed_areas", "location", NULL,
                            "a LAC/TAC integer 0..65535", 65535, &p->nareas);
        p->cells = u32_list(&c, s, "allowed_cells", "location", NULL,
                            "a cell id integer 0..268435455", 268435455, &p->ncells);
        if (p->location_mode != MODE_OFF && !p->nmccs && !p->nplmns && !p->nareas && !p->ncells)
            perr(&c, "location", "mode is %s but no allowed_mcc, allowed_plmns, "
                 "allowed_areas or allowed_cells is given", rule_mode_name(p->location_mode));
    }
    s = section(&c, root, "roaming");
    if (s) {
        static const char *const k[] = { "mode", "home_plmns", NULL };
        only_keys(&c, s, "roaming", k);
        p->roaming_mode = (uint8_t)mode_of(&c, s, "roaming.mode", 0, MODE_ALERT);
        if (p->roaming_mode == MODE_ENFORCE) {
            perr(&c, "roaming.mode", "roaming only alerts; to refuse visited networks "
                 "list the allowed ones in location.allowed_plmns");
        }
        p->home = plmn_list(&c, s, "home_plmns", "roaming", &p->nhome);
    }
    s = section(&c, root, "rat");
    if (s) {
        static const char *const k[] = { "mode", "allowed", NULL };
        only_keys(&c, s, "rat", k);
        p->rat_mode = (uint8_t)mode_of(&c, s, "rat.mode", 0, MODE_ENFORCE);
        json_t *arr = json_object_get(s, "allowed");
        if (arr && !json_is_array(arr)) {
            perr(&c, "rat.allowed", "must be an array of radio type names");
        } else if (arr) {
            size_t i;
            json_t *it;
            json_array_foreach(arr, i, it) {
                const char *name = json_string_value(it);
                int r = name ? gpp_rat_from_name(name)
                        : json_is_integer(it) && json_integer_value(it) >= 0 &&
                                  json_integer_value(it) <= 255
                            ? (int)json_integer_value(it) : -1;
                if (r < 1 || r > 31) {
                    char path[64];
                    snprintf(path, sizeof path, "rat.allowed[%zu]", i);
                    perr(&c, path, "unknown radio type (UTRAN, GERAN, WLAN, GAN, "
                         "HSPA-Evolution, EUTRAN, Virtual, NB-IoT, LTE-M, NR)");
                    continue;
                }
                p->rat_allowed |= 1u << r;
            }
        }
        if (p->rat_mode != MODE_OFF && !p->rat_allowed)
            perr(&c, "rat", "mode is %s but \"allowed\" lists no radio type",
                 rule_mode_name(p->rat_mode));
    }
    s = section(&c, root, "attach_storm");
    if (s) {
        static const char *const k[] = { "max_requests", "window_seconds", NULL };
        only_keys(&c, s, "attach_storm", k);
        p->storm_max = uint_of(&c, s, "max_requests", "attach_storm", 0, 1000000, p->storm_max);
        p->storm_window = uint_of(&c, s, "window_seconds", "attach_storm", 1, 86400, p->storm_window);
    }
    s = section(&c, root, "credential");
    if (s) {
        static const char *const k[] = { "username", "password", NULL };
        only_keys(&c, s, "credential", k);
        p->cred_user = str_of(&c, s, "username", "credential", POLICY_CRED_MAX);
        p->cred_password = str_of(&c, s, "password", "credential", POLICY_CRED_MAX);
        if (p->cred_user && !p->cred_password)
            perr(&c, "credential", "username without password");
    }
    s = section(&c, root, "session");
    if (s) {
        static const char *const k[] = { "acct_interim_interval", "session_timeout", "class", NULL };
        only_keys(&c, s, "session", k);
        p->interim_interval = uint_of(&c, s, "acct_interim_interval", "session",
                                      0, 86400, p->interim_interval);
        if (p->interim_interval > 0 && p->interim_interval < 60)
            perr(&c, "session", "acct_interim_interval below 60 s floods the accounting "
                 "server (RFC 2869 §5.16); use 0 (off) or at least 60");
        p->session_timeout = uint_of(&c, s, "session_timeout", "session", 0, 0x7fffffff, 0);
        char *cls = str_of(&c, s, "class", "session", POLICY_CLASS_MAX - 1);
        if (cls) {
            snprintf(p->class_, sizeof p->class_, "%s", cls);
            free(cls);
        }
    }
    s = section(&c, root, "usage");
    if (s) {
        static const char *const periods[] = { "daily", "monthly", "session", NULL };
        static const char *const sections[] = { "daily", "monthly", "session", "burst", NULL };
        static const char *const keys[] = { "warn_bytes", "warn_up_bytes", "warn_down_bytes",
            "limit_bytes", "limit_up_bytes", "limit_down_bytes", NULL };
        only_keys(&c, s, "usage", sections);
        json_t *b = json_object_get(s, "burst");
        if (b && !json_is_object(b)) {
            perr(&c, "usage.burst", "must be an object");
        } else if (b) {
            static const char *const bk[] = { "factor", "min_bytes", "baseline_hours",
                                              "min_history_hours", NULL };
            only_keys(&c, b, "usage.burst", bk);
            json_t *f = json_object_get(b, "factor");
            if (!f || !json_is_number(f) || json_number_value(f) < 1.5 ||
                json_number_value(f) > 1000)
                perr(&c, "usage.burst", "factor must be a number from 1.5 to 1000");
            else
                p->burst_factor = json_number_value(f);
            p->burst_min_bytes = uint_of(&c, b, "min_bytes", "usage.burst", 0, 0x7fffffff,
                                         1000000);
            p->burst_baseline_hours = uint_of(&c, b, "baseline_hours", "usage.burst", 2, 720,
                                              24);
            p->burst_min_history = uint_of(&c, b, "min_history_hours", "usage.burst", 1, 720,
                                           p->burst_baseline_hours);
        }
        for (int pi = 0; pi < USAGE__PERIODS; pi++) {
            char path[32];
            snprintf(path, sizeof path, "usage.%s", periods[pi]);
            json_t *ps = json_object_get(s, periods[pi]);
            if (!ps)
                continue;
            if (!json_is_object(ps)) {
                perr(&c, path, "must be an object");
                continue;
            }
            only_keys(&c, ps, path, keys);
            for (int k = 0; keys[k]; k++) {
                json_t *v = json_object_get(ps, keys[k]);
                if (!v)
                    continue;
                if (!json_is_integer(v) || json_integer_value(v) <= 0) {
                    perr(&c, path, "%s must be a positive number of bytes", keys[k]);
                    continue;
                }
                p->usage[pi][k / 3][k % 3] = (uint64_t)json_integer_value(v);
                p->has_usage = 1;
            }
            for (int d = 0; d < USAGE__DIRS; d++)
                if (p->usage[pi][USAGE_WARN][d] && p->usage[pi][USAGE_LIMIT][d] &&
                    p->usage[pi][USAGE_WARN][d] >= p->usage[pi][USAGE_LIMIT][d])
                    perr(&c, path, "a warn threshold must be below its limit");
        }
    }
    s = section(&c, root, "restrict");
    if (s) {
        static const char *const k[] = { "filter_id", NULL };
        only_keys(&c, s, "restrict", k);
        char *f = str_of(&c, s, "filter_id", "restrict", POLICY_CLASS_MAX - 1);
        if (f) {
            snprintf(p->restrict_filter, sizeof p->restrict_filter, "%s", f);
            free(f);
        }
    }
    s = section(&c, root, "alerts");
    if (s) {
        static const char *const k[] = { "min_severity", NULL };
        only_keys(&c, s, "alerts", k);
        json_t *v = json_object_get(s, "min_severity");
        if (v) {
            int sev = json_is_string(v) ? severity_from_name(json_string_value(v)) : -1;
            if (sev < 0)
                perr(&c, "alerts.min_severity", "must be info, notice, warning or critical");
            else
                p->min_severity = (uint8_t)sev;
        }
    }
    s = section(&c, root, "response");
    if (s) {
        const char *kind;
        json_t *acts;
        json_object_foreach(s, kind, acts) {
            char path[96];
            snprintf(path, sizeof path, "response.%s", kind);
            int k = finding_kind_from_name(kind);
            if (k < 0) {
                perr(&c, path, "unknown finding kind");
                continue;
            }
            if (!json_is_array(acts) || json_array_size(acts) == 0) {
                perr(&c, path, "must be a non-empty array of actions (reject, alert, suspend, "
                     "disconnect, none)");
                continue;
            }
            size_t i;
            json_t *it;
            unsigned bits = 0;
            json_array_foreach(acts, i, it) {
                int a = json_is_string(it) ? action_from_name(json_string_value(it)) : -1;
                if (a < 0) {
                    perr(&c, path, "unknown action (reject, alert, suspend, disconnect, restrict, none)");
                    continue;
                }
                bits |= (unsigned)a;
            }
            if ((bits & ACT_NONE) && (bits & ~ACT_NONE))
                perr(&c, path, "\"none\" cannot be combined with other actions");
            if ((bits & ACT_RESTRICT) && !p->restrict_filter[0])
                perr(&c, path, "\"restrict\" needs \"restrict\": {\"filter_id\": …} in the policy");
            p->response[k] = (uint8_t)bits;
        }
    }
    json_decref(root);
    if (c.errors) {
        policy_free(p);
        return -EINVAL;
    }
    *ret = p;
    return 0;
}

void policy_free(struct policy *p)
{
    if (!p)
        return;
    free(p->tacs);
    free(p->mccs);
    free(p->plmns);
    free(p->areas);
    free(p->cells);
    free(p->home);
    free(p->cred_user);
    if (p->cred_password) {
        memset(p->cred_password, 0, strlen(p->cred_password));
        free(p->cred_password);
    }
    free(p);
}

void policy_free_void(void *p)
{
    policy_free(p);
}

/* Default actions: what the rule's mode implies, before overrides. */
static unsigned default_actions(const struct policy *p, int kind)
{
    switch (kind) {
    case FK_SIM_UNKNOWN:
    case FK_SIM_INACTIVE:
    case FK_CREDENTIAL_FAILURE:
        return ACT_REJECT;
    case FK_IMEI_MISMATCH:
    case FK_TAC_NOT_ALLOWED:
    case FK_IMEI_MISSING:
        return p->imei_mode == MODE_ENFORCE || p->imei_mode == MODE_LEARN ? ACT_REJECT : 0;
    case FK_LOCATION_NOT_ALLOWED:
        return p->location_mode == MODE_ENFORCE ? ACT_REJECT : 0;
    case FK_RAT_NOT_ALLOWED:
        return p->rat_mode == MODE_ENFORCE ? ACT_REJECT : 0;
    default:
        return 0;
    }
}

unsigned policy_actions(const struct policy *p, int kind)
{
    if (kind < 0 || kind >= FK__COUNT)
        return 0;
    unsigned o = p->response[kind];
    if (o & ACT_NONE)
        return 0;
    return o ? o : default_actions(p, kind);
}

const char *policy_location_violation(const struct policy *p, const struct gpp_plmn *plmn,
                                      int has_uli, uint32_t area, uint32_t cell)
{
    if (p->location_mode == MODE_OFF)
        return NULL;
    if (!plmn)
        return "no location in request";
    if ((p->nmccs || p->nplmns) && !policy_has_mcc(p, plmn->mcc) &&
        !policy_has_plmn(p->plmns, p->nplmns, plmn))
        return "network not allowed";
    if (p->nareas || p->ncells) {
        if (!has_uli)
            return "no User-Location-Info for area check";
        if (p->nareas && !policy_has_u32(p->areas, p->nareas, area))
            return "area not allowed";
        if (p->ncells && !policy_has_u32(p->cells, p->ncells, cell))
            return "cell not allowed";
    }
    return NULL;
}

const char *policy_rat_violation(const struct policy *p, int rat)
{
    if (p->rat_mode == MODE_OFF)
        return NULL;
    if (rat < 0)
        return "no 3GPP-RAT-Type in request";
    if (rat > 31 || !(p->rat_allowed & (1u << rat)))
        return "radio type not allowed";
    return NULL;
}
