/*
 * api.c — the HTTP/JSON API (libmicrohttpd): routing, authentication,
 * errors, and the SIM routes.  See api.h and docs/openapi.json.
 *
 * One libmicrohttpd thread serves every connection (internal polling), so
 * the API's own store connection is used by that thread alone.  A request
 * body is read up to API_BODY_MAX bytes (more: 413).  Every error is an RFC
 * 7807 problem+json document.  Changes go through the command layer
 * (cmd/cmd.h) with the token's tenant as its scope, exactly as the CLI's do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api/api.h"
#include "api/internal.h"
#include "cmd/cmd.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "engine/engine.h"
#include "engine/journal.h"
#include "engine/model.h"
#include "store/store.h"


static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- responses ---- */

int send_json(struct call *c, unsigned status, json_t *doc, const char *type)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return MHD_NO;
    size_t len = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    int ret = MHD_queue_response(c->conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

int ok(struct call *c, json_t *doc)
{
    return send_json(c, MHD_HTTP_OK, doc, "application/json");
}

/* RFC 7807: type, title, status, detail (and the request path). */
int problem(struct call *c, unsigned status, const char *title, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    char type[128];
    snprintf(type, sizeof type, "https://m2mguard.org/problems/%s", title);
    for (char *p = type + 30; *p; p++)
        if (*p == ' ')
            *p = '-';
    for (int i = 0; i < API_ERR__COUNT; i++)
        if (api_err_status[i] == status)
            atomic_fetch_add(&c->a->errors[i], 1);
    json_t *doc = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type, "title", title,
                            "status", (int)status, "detail", detail, "instance", c->url);
    return send_json(c, status, doc, "application/problem+json");
}

/* ---- authentication ---- */

static enum role role_of(const char *name)
{
    if (strcmp(name, "platform-admin") == 0)
        return ROLE_PLATFORM;
    if (strcmp(name, "admin") == 0)
        return ROLE_ADMIN;
    if (strcmp(name, "operator") == 0)
        return ROLE_OPERATOR;
    return ROLE_VIEWER;
}

static struct fail_entry *fail_slot(struct api *a, uint32_t ip, int64_t now)
{
    struct fail_entry *oldest = &a->fails[0];
    for (int i = 0; i < API_FAIL_SOURCES; i++) {
        struct fail_entry *f = &a->fails[i];
        if (f->ip == ip && f->window_start)
            return f;
        if (f->window_start < oldest->window_start)
            oldest = f;
    }
    memset(oldest, 0, sizeof *oldest);
    oldest->ip = ip;
    oldest->window_start = now;
    return oldest;
}

/* A failed authentication: counted, and an api_auth_failure finding per
 * source at most once per window (with the count). */
static void auth_failed(struct call *c, const char *why, int64_t now)
{
    struct api *a = c->a;
    atomic_fetch_add(&a->auth_failures, 1);
    struct fail_entry *f = fail_slot(a, c->src_ip, now);
    if (now - f->window_start > API_FAIL_WINDOW_MS) {
        f->window_start = now;
        f->count = 0;
    }
    f->count++;
    f->unreported++;
    if (f->unreported > 1 && f->count > 1)
        return;     /* reported at the first failure of the window */
    if (!a->eng || !a->eng->journal)
        return;
    struct journal_msg m;
    struct jsonw w;
    char ip[INET_ADDRSTRLEN];
    uint32_t n = htonl(c->src_ip);
    inet_ntop(AF_INET, &n, ip, sizeof ip);
    memset(&m, 0, sizeof m);
    m.type = JM_FINDING;
    m.kind = FK_API_AUTH_FAILURE;
    m.severity = (uint8_t)finding_kind_severity(FK_API_AUTH_FAILURE);
    m.tenant_id = a->eng->platform_tenant_id;
    m.ts_ms = now;
    m.alert = m.severity >= a->eng->default_policy->min_severity;
    snprintf(m.subject, sizeof m.subject, "%s", ip);
    jsonw_init(&w, m.evidence, sizeof m.evidence);
    jsonw_open(&w);
    jsonw_str(&w, "source", ip);
    jsonw_str(&w, "reason", why);
    jsonw_str(&w, "method", c->method);
    jsonw_str(&w, "path", c->url);
    jsonw_int(&w, "failures_in_window", f->count);
    jsonw_close(&w);
    jsonw_finish(&w);
    f->unreported = 0;
    atomic_fetch_add(&a->eng->findings[FK_API_AUTH_FAILURE], 1);
    (void)journal_push(a->eng->journal, &m);
}

/* 0 when the request carries a valid token (c->tok, role, scope); else the
 * response is queued and its MHD result returned through *ret. */
static int authenticate(struct call *c, int *ret)
{
    int64_t now = now_ms();
    struct fail_entry *f = NULL;
    for (int i = 0; i < API_FAIL_SOURCES; i++)
        if (c->a->fails[i].ip == c->src_ip && c->a->fails[i].window_start)
            f = &c->a->fails[i];
    if (f && now - f->window_start <= API_FAIL_WINDOW_MS && f->count >= API_FAIL_LIMIT) {
        atomic_fetch_add(&c->a->throttled, 1);
        *ret = problem(c, MHD_HTTP_TOO_MANY_REQUESTS, "too many failed authentications",
                       "%d failed authentications from this address in the last minute; "
                       "try again later", API_FAIL_LIMIT);
        return -1;
    }
    const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0) {
        auth_failed(c, "no bearer token", now);
        *ret = problem(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                       "send Authorization: Bearer TOKEN (m2mguard token create)");
        return -1;
    }
    int r = token_verify(c->a->st, h + 7, now / 1000, &c->tok);
    if (r < 0) {
        const char *why = r == -EKEYREVOKED ? "revoked token"
                          : r == -EKEYEXPIRED ? "expired token"
                          : r == -EACCES ? "unknown or malformed token" : "store error";
        auth_failed(c, why, now);
        *ret = problem(c, MHD_HTTP_UNAUTHORIZED, "unauthorized", "%s", why);
        return -1;
    }
    c->role = role_of(c->tok.role);
    c->scope = c->role == ROLE_PLATFORM ? 0 : c->tok.tenant_id;
    /* last_used_at to the minute: not a write per request. */
    if (now / 1000 - c->tok.last_used_at >= 60)
        (void)store_token_used(c->a->st, c->tok.id, now / 1000);
    return 0;
}

/* ---- JSON of the model ---- */

json_t *sim_to_json(const struct store_sim *s)
{
    char ip[INET_ADDRSTRLEN] = "";
    if (s->ip) {
        uint32_t n = htonl(s->ip);
        inet_ntop(AF_INET, &n, ip, sizeof ip);
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
                          "iccid", s->iccid, "imsi", s->imsi, "state", sim_state_name(s->state),
                          "tenant", s->tenant, "group", s->group, "msisdn", s->msisdn,
                          "revision", (json_int_t)s->rev, "updated_at", (json_int_t)s->updated_at);
    if (!o)
        return NULL;
    json_object_set_new(o, "imei", s->imei[0] ? json_string(s->imei) : json_null());
    json_object_set_new(o, "imei_source", s->imei[0] ? json_string(s->imei_source) : json_null());
    json_object_set_new(o, "ip", ip[0] ? json_string(ip) : json_null());
    return o;
}

/* ---- routes ---- */

static int h_health(struct call *c)
{
    int64_t rev = store_rev_current(c->a->st);
    int db = rev >= 0;
    return send_json(c, db ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:b, s:I}", "status", db ? "ok" : "store unavailable",
                               "store", db, "revision", (json_int_t)rev),
                     "application/json");
}

struct list_ctx {
    json_t *items;
    int64_t last_id;
};

static int collect_sim(void *arg, const struct store_sim *s)
{
    struct list_ctx *l = arg;
    json_array_append_new(l->items, sim_to_json(s));
    l->last_id = s->id;
    return 0;
}

const char *arg(struct call *c, const char *name)
{
    return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

int parse_int(const char *s, long long min, long long max, long long *ret)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *ret = v;
    return 0;
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil): arithmetic only, no time zone. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int api_parse_time(const char *s, int64_t *ret_ms)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    size_t n = strlen(s);
    if (n > 0 && n <= 15 && strspn(s, "0123456789") == n) {
        long long v;
        if (parse_int(s, 0, API_TIME_MAX_MS, &v) < 0)
            return -1;
        *ret_ms = v;
        return 0;
    }
    /* RFC 3339 §5.6: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
    if (n < 20 || s[4] != '-' || s[7] != '-' || !strchr("Tt ", s[10]) || s[13] != ':' ||
        s[16] != ':')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return -1;
    const char *p = s + 19;
    int64_t ms = 0;
    if (*p == '.') {
        int k = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, k++)
            if (k < 3)
                ms = ms * 10 + (*p - '0');      /* below a millisecond: cut */
        if (k == 0)
            return -1;
        for (; k < 3; k++)
            ms *= 10;
    }
    int64_t offset_s = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset_s = 0;
    } else if ((*p == '+' || *p == '-' || *p == ' ') && strlen(p) == 6 && p[3] == ':') {
        /* An unencoded '+' in a query string arrives as a space. */
        int oh = digits(p + 1, 2), om = digits(p + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        offset_s = (*p == '-' ? -1 : 1) * ((int64_t)oh * 3600 + (int64_t)om * 60);
    } else {
        return -1;
    }
    /* A leap second (:60) is the first millisecond after :59.999. */
    int64_t t = (days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec -
                 offset_s) * 1000 + ms;
    if (t < 0 || t > API_TIME_MAX_MS)
        return -1;
    *ret_ms = t;
    return 0;
}

int time_args(struct call *c, int64_t *since, int64_t *until, int *ret)
{
    static const char *const names[2] = { "since", "until" };
    int64_t *out[2] = { since, until };
    *since = 0;
    *until = INT64_MAX;
    for (int i = 0; i < 2; i++) {
        const char *v = arg(c, names[i]);
        if (v && api_parse_time(v, out[i]) < 0) {
            *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "%s must be an RFC 3339 time with its offset (2024-06-01T12:00:00Z, "
                           "2024-06-01T14:00:00.250+02:00) or milliseconds since the epoch, "
                           "from 1970 to 9999; not \"%.40s\"", names[i], v);
            return -1;
        }
    }
    if (*since > *until) {
        *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "since (%lld) is after until (%lld): the range is since <= ts < until",
                       (long long)*since, (long long)*until);
        return -1;
    }
    return 0;
}

int limit_arg(struct call *c, int *limit, int *ret)
{
    const char *v = arg(c, "limit");
    long long n;
    *limit = API_LIST_DEFAULT;
    if (v) {
        if (parse_int(v, 1, API_LIST_MAX, &n) < 0) {
            *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "limit must be a whole number from 1 to %d", API_LIST_MAX);
            return -1;
        }
        *limit = (int)n;
    }
    return 0;
}

int page_args(struct call *c, char letter, int *limit, int64_t *cursor, int *ret)
{
    const char *v;
    long long n;
    *cursor = 0;
    if (limit_arg(c, limit, ret) < 0)
        return -1;
    if ((v = arg(c, "cursor"))) {
        if (!letter || v[0] != letter || parse_int(v + 1, 0, INT64_MAX, &n) < 0) {
            *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "cursor is not one this API returned (next_cursor)");
            return -1;
        }
        *cursor = n;
    }
    return 0;
}

int page_reply(struct call *c, json_t *items, int more, char letter, int64_t last)
{
    char cur[32];
    snprintf(cur, sizeof cur, "%c%lld", letter, (long long)last);
    return ok(c, json_pack("{s:o, s:o}", "items", items, "next_cursor",
                           more ? json_string(cur) : json_null()));
}

static int h_sims_list(struct call *c)
{
    struct store_sim_filter f = { .tenant_id = c->scope, .state = -1 };
    const char *v;
    int ret;
    if (page_args(c, 's', &f.limit, &f.after_id, &ret) < 0)
        return ret;
    if ((v = arg(c, "state"))) {
        if ((f.state = sim_state_from_name(v)) < 0)
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "state must be active, suspended or deactivated");
    }
    if ((v = arg(c, "q"))) {
        if (strlen(v) > 64)
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "q is at most 64 characters");
        f.text = v;
    }
    const char *tenant = arg(c, "tenant");
    if (tenant && c->scope == 0) {
        if (store_tenant_find(c->a->st, tenant, &f.tenant_id) < 0)
            return ok(c, json_pack("{s:[], s:n}", "items", "next_cursor"));
    }
    if ((v = arg(c, "group"))) {
        if (!f.tenant_id)
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "a platform token filtering by group also names the tenant");
        if (store_group_find(c->a->st, f.tenant_id, v, &f.group_id) < 0)
            return ok(c, json_pack("{s:[], s:n}", "items", "next_cursor"));
    }
    struct list_ctx l = { .items = json_array(), .last_id = 0 };
    if (store_sim_list(c->a->st, &f, collect_sim, &l) < 0) {
        json_decref(l.items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    return page_reply(c, l.items, (int)json_array_size(l.items) == f.limit, 's', l.last_id);
}

/* The SIM of the path, inside the caller's tenant (else 404, as if absent). */
int find_sim(struct call *c, struct store_sim *s, int *ret)
{
    if (store_sim_find(c->a->st, c->param, s) < 0 || (c->scope && s->tenant_id != c->scope)) {
        *ret = problem(c, MHD_HTTP_NOT_FOUND, "not found", "no SIM with ICCID or IMSI %s",
                       c->param);
        return -1;
    }
    return 0;
}

static int h_sim_get(struct call *c)
{
    struct store_sim s;
    int ret;
    if (find_sim(c, &s, &ret) < 0)
        return ret;
    return ok(c, sim_to_json(&s));
}

int reason_body(struct call *c, json_t **ret_body, const char **ret_reason, int *ret)
{
    *ret_body = NULL;
    *ret_reason = NULL;
    if (!c->body_len)
        return 0;
    json_error_t err;
    json_t *body = json_loadb(c->body, c->body_len, JSON_REJECT_DUPLICATES, &err);
    if (!body || !json_is_object(body)) {
        json_decref(body);
        *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "the body must be a JSON object ({\"reason\": \"...\"}): %s",
                       body ? "not an object" : err.text);
        return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach(body, key, val) {
        if (strcmp(key, "reason") != 0 || !json_is_string(val) ||
            strlen(json_string_value(val)) > CMD_REASON_MAX) {
            *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "only \"reason\" (a string of at most %d characters) is "
                           "accepted, not \"%.40s\"", CMD_REASON_MAX, key);
            json_decref(body);
            return -1;
        }
    }
    *ret_body = body;
    *ret_reason = json_string_value(json_object_get(body, "reason"));
    return 0;
}

static int set_state(struct call *c, int state)
{
    const char *reason;
    json_t *body;
    struct store_sim s;
    int ret;
    if (reason_body(c, &body, &reason, &ret) < 0)
        return ret;
    if (find_sim(c, &s, &ret) < 0) {
        json_decref(body);
        return ret;
    }
    char *out = NULL, *err = NULL;
    size_t outlen = 0, errlen = 0;
    struct cmd_ctx cc = { .st = c->a->st, .control = c->a->control[0] ? c->a->control : NULL,
                          .tenant_scope = c->scope };
    snprintf(cc.actor, sizeof cc.actor, "api:%s", c->tok.name);
    snprintf(cc.role, sizeof cc.role, "%s", c->tok.role);
    cc.out = open_memstream(&out, &outlen);
    cc.err = open_memstream(&err, &errlen);
    int r = cc.out && cc.err ? cmd_sim_set_state(&cc, s.iccid, state, reason) : -ENOMEM;
    /* Memory streams: closing only fails without memory, and then the
     * messages are merely shorter. */
    if (cc.out)
        (void)fclose(cc.out);
    if (cc.err)
        (void)fclose(cc.err);
    json_decref(body);
    if (r < 0) {
        ret = r == -ENOENT ? problem(c, MHD_HTTP_NOT_FOUND, "not found", "no SIM %s", c->param)
                           : problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                                     err ? err : "");
    } else {
        (void)store_sim_find(c->a->st, s.iccid, &s);
        ret = ok(c, sim_to_json(&s));
    }
    free(out);
    free(err);
    return ret;
}

static int h_sim_suspend(struct call *c)
{
    return set_state(c, SIM_SUSPENDED);
}

static int h_sim_resume(struct call *c)
{
    return set_state(c, SIM_ACTIVE);
}

/* docs/openapi.json lists exactly these (tests/integration/test_api.py). */
static const struct route routes[] = {
    { "GET", "/v1/health", ROLE_NONE, h_health },
    { "GET", "/v1/sims", ROLE_VIEWER, h_sims_list },
    { "POST", "/v1/sims", ROLE_ADMIN, h_sim_create },
    { "GET", "/v1/sims/{iccid}", ROLE_VIEWER, h_sim_get },
    { "PATCH", "/v1/sims/{iccid}", ROLE_ADMIN, h_sim_patch },
    { "DELETE", "/v1/sims/{iccid}", ROLE_ADMIN, h_sim_delete },
    { "POST", "/v1/sims/{iccid}/suspend", ROLE_OPERATOR, h_sim_suspend },
    { "POST", "/v1/sims/{iccid}/resume", ROLE_OPERATOR, h_sim_resume },
    { "GET", "/v1/sims/{iccid}/sessions", ROLE_VIEWER, h_sim_sessions },
    { "GET", "/v1/sims/{iccid}/usage", ROLE_VIEWER, h_sim_usage },
    { "GET", "/v1/alerts", ROLE_VIEWER, h_alerts_list },
    { "POST", "/v1/alerts/{id}/acknowledge", ROLE_OPERATOR, h_alert_ack },
    { "POST", "/v1/alerts/{id}/resolve", ROLE_OPERATOR, h_alert_resolve },
    { "GET", "/v1/findings", ROLE_VIEWER, h_findings_list },
    { "GET", "/v1/actions", ROLE_VIEWER, h_actions_list },
    { "GET", "/v1/events", ROLE_VIEWER, h_events_list },
    { "GET", "/v1/audit", ROLE_ADMIN, h_audit_list },
    { "GET", "/v1/audit/verify", ROLE_ADMIN, h_audit_verify },
    { "POST", "/v1/sims/import", ROLE_ADMIN, h_sims_import },
    { "GET", "/v1/groups", ROLE_VIEWER, h_groups_list },
    { "GET", "/v1/groups/{name}/policy", ROLE_VIEWER, h_policy_get },
    { "PUT", "/v1/groups/{name}/policy", ROLE_ADMIN, h_policy_put },
    { "GET", "/v1/tenants", ROLE_PLATFORM, h_tenants_list },
    { "POST", "/v1/tenants", ROLE_PLATFORM, h_tenant_create },
    { "GET", "/metrics", ROLE_PLATFORM, h_metrics },
    { "GET", "/v1/webhooks", ROLE_VIEWER, h_webhooks_list },
    { "POST", "/v1/webhooks", ROLE_ADMIN, h_webhook_create },
    { "GET", "/v1/webhooks/{id}", ROLE_VIEWER, h_webhook_get },
    { "PATCH", "/v1/webhooks/{id}", ROLE_ADMIN, h_webhook_patch },
    { "DELETE", "/v1/webhooks/{id}", ROLE_ADMIN, h_webhook_delete },
    { "GET", "/v1/webhooks/{id}/deliveries", ROLE_VIEWER, h_webhook_deliveries },
    { "POST", "/v1/webhooks/{id}/ping", ROLE_ADMIN, h_webhook_ping },
    { "GET", "/v1/stream", ROLE_VIEWER, h_stream },
};

/* Does `url` match `pattern`?  A {name} segment matches one non-empty
 * segment of safe characters, copied to param. */
int api_route_match(const char *pattern, const char *url, char *param, size_t cap)
{
    while (*pattern && *url) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            size_t n = strcspn(url, "/");
            if (!close || n == 0 || n >= cap)
                return 0;
            for (size_t i = 0; i < n; i++)
                if (!((url[i] >= '0' && url[i] <= '9') || (url[i] >= 'A' && url[i] <= 'Z') ||
                      (url[i] >= 'a' && url[i] <= 'z') || url[i] == '-' || url[i] == '_' ||
                      url[i] == '.'))
                    return 0;
            memcpy(param, url, n);
            param[n] = '\0';
            pattern = close + 1;
            url += n;
            continue;
        }
        if (*pattern++ != *url++)
            return 0;
    }
    return *pattern == '\0' && *url == '\0';
}

static int dispatch(struct call *c)
{
    atomic_fetch_add(&c->a->requests, 1);
    int path_known = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *rt = &routes[i];
        if (!api_route_match(rt->path, c->url, c->param, sizeof c->param))
            continue;
        path_known = 1;
        if (strcmp(rt->method, c->method) != 0)
            continue;
        int ret;
        if (rt->need != ROLE_NONE) {
            if (authenticate(c, &ret) < 0)
                return ret;
            if (c->role < rt->need)
                return problem(c, MHD_HTTP_FORBIDDEN, "forbidden",
                               "a %s token may not %s %s", c->tok.role, c->method, rt->path);
        }
        return rt->fn(c);
    }
    if (path_known)
        return problem(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed",
                       "%s is not allowed on %s", c->method, c->url);
    return problem(c, MHD_HTTP_NOT_FOUND, "not found", "no route %s", c->url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct req *rq = *con_cls;
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq)))
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->len + *upload_size > API_BODY_MAX) {
            rq->too_large = 1;
        } else {
            char *n = realloc(rq->body, rq->len + *upload_size + 1);
            if (!n)
                return MHD_NO;
            memcpy(n + rq->len, upload, *upload_size);
            rq->body = n;
            rq->len += *upload_size;
            rq->body[rq->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    struct call c = { .a = cls, .conn = conn, .method = method, .url = url, .body = rq->body,
                      .body_len = rq->len, .rq = rq };
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        c.src_ip = ntohl(((const struct sockaddr_in *)ci->client_addr)->sin_addr.s_addr);
    if (rq->job)    /* resumed: the verification has its verdict */
        return audit_verify_respond(&c, rq->job) == MHD_YES ? MHD_YES : MHD_NO;
    if (rq->too_large)
        return problem(&c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large",
                       "request bodies are limited to %d bytes", API_BODY_MAX) == MHD_YES
                   ? MHD_YES : MHD_NO;
    return dispatch(&c) == MHD_YES ? MHD_YES : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct req *rq = *con_cls;
    if (rq) {
        free(rq->body);
        audit_job_free(rq->job);
        free(rq);
        *con_cls = NULL;
    }
}

/* ---- TLS ---- */

/* A whole PEM file, NUL-terminated; why[] says what is wrong with it. */
static int read_pem(const char *path, const char *what, int is_key, char **ret, char *why,
                    size_t whylen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        snprintf(why, whylen, "%s %s: %s", what, path, strerror(e));
        if (fd >= 0)
            close(fd);
        return -EINVAL;
    }
    /* The private key decides who can be this server: nobody but the
     * daemon's user (and group) may read it, let alone change it. */
    if (is_key && (st.st_mode & (S_IROTH | S_IWOTH))) {
        snprintf(why, whylen, "%s %s is %s by every user (mode %04o): chmod 600 (or 640) it",
                 what, path, st.st_mode & S_IROTH ? "readable" : "writable",
                 (unsigned)(st.st_mode & 07777));
        close(fd);
        return -EPERM;
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size > API_TLS_FILE_MAX) {
        snprintf(why, whylen, "%s %s: %s", what, path, !S_ISREG(st.st_mode) ? "not a file"
                 : st.st_size == 0 ? "empty" : "larger than 64 KiB");
        close(fd);
        return -EINVAL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (!buf || got != (size_t)st.st_size) {
        snprintf(why, whylen, "%s %s: %s", what, path, buf ? "short read" : "out of memory");
        if (buf)
            explicit_bzero(buf, (size_t)st.st_size);
        free(buf);
        return buf ? -EINVAL : -ENOMEM;
    }
    buf[got] = '\0';
    if (!strstr(buf, "-----BEGIN ")) {
        snprintf(why, whylen, "%s %s is not PEM (no -----BEGIN line)", what, path);
        explicit_bzero(buf, got);
        free(buf);
        return -EINVAL;
    }
    *ret = buf;
    return 0;
}

int api_tls_read(const char *cert_path, const char *key_path, struct api_tls *ret, char *why,
                 size_t whylen)
{
    memset(ret, 0, sizeof *ret);
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(why, whylen, "this libmicrohttpd was built without TLS");
        return -ENOTSUP;
    }
    int r = read_pem(key_path, "key", 1, &ret->key, why, whylen);
    if (r == 0 && (r = read_pem(cert_path, "certificate", 0, &ret->cert, why, whylen)) < 0)
        api_tls_free(ret);
    return r;
}

void api_tls_free(struct api_tls *t)
{
    if (t->key)
        explicit_bzero(t->key, strlen(t->key));
    free(t->key);
    free(t->cert);
    t->key = t->cert = NULL;
}

/* TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1). */
#define API_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/*
 * Connections and what libmicrohttpd refuses before a request reaches
 * on_request(): its connection limits and the requests it answers with an
 * error itself (malformed, headers larger than the connection's memory,
 * a URI too long).  It reports those only to its log, so the log callback
 * counts them by message (untranslated: the daemon never sets a locale).
 */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct api *a = cls;
    (void)conn;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&a->conn_opened, 1);
        atomic_fetch_add(&a->conn_open, 1);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&a->conn_open, 1);
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct api *a = cls;
    (void)ap;
    if (strncmp(fmt, "Server reached connection limit", 31) == 0)
        atomic_fetch_add(&a->conn_refused, 1);
    else if (strncmp(fmt, "Error processing request", 24) == 0)
        atomic_fetch_add(&a->http_errors, 1);
}

const unsigned api_err_status[API_ERR__COUNT] = { 400, 401, 403, 404, 405, 409, 413, 415, 422,
                                                 429, 500, 503 };

int api_start(const struct api_options *o, struct api **ret)
{
    struct api *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->st = o->st;
    a->eng = o->eng;
    a->webhooks = o->webhooks;
    snprintf(a->control, sizeof a->control, "%s", o->control ? o->control : "");
    int r = stream_bus_new(a, &a->bus);
    if (r < 0) {
        free(a);
        return r;
    }
    snprintf(a->database, sizeof a->database, "%s", o->database ? o->database : "");
    if (o->tls && (!(a->tls.cert = strdup(o->tls->cert)) || !(a->tls.key = strdup(o->tls->key)))) {
        api_tls_free(&a->tls);
        stream_bus_free(a->bus);
        free(a);
        return -ENOMEM;
    }
    pthread_mutex_init(&a->verify_lock, NULL);
    /* HTTPS: the certificate, the key (GnuTLS copies both at start; they
     * are kept until api_stop all the same) and the protocol versions. */
    char priorities[] = API_TLS_PRIORITIES;
    struct MHD_OptionItem tls_opts[] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls.cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls.key },
        { MHD_OPTION_HTTPS_PRIORITIES, 0, priorities },
        { MHD_OPTION_END, 0, NULL },
    };
    /* Suspend / resume: a long audit verification runs in its own thread
     * while this one serves the other requests (api_audit.c). */
    /* A socket the daemon bound before it dropped root, or the address. */
    struct MHD_OptionItem where[] = {
        o->listen_fd >= 0 ? (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, o->listen_fd, NULL }
                          : (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, (void *)&o->addr },
        { MHD_OPTION_END, 0, NULL },
    };
    /* Suspend / resume: a long audit verification runs in its own thread
     * while this one serves the other requests (api_audit.c); idle event
     * streams wait suspended (api_stream.c). */
    errno = 0;
    a->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                              MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                              (o->tls ? MHD_USE_TLS : 0),
                              0, NULL, NULL, on_request, a,
                              MHD_OPTION_ARRAY, where,
                              MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, a,
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection, a,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONNECTIONS_MAX,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                              (unsigned)API_CONNECTIONS_PER_ADDRESS,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)131072,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
                              MHD_OPTION_ARRAY, o->tls ? tls_opts : &tls_opts[3],
                              MHD_OPTION_END);
    if (!a->mhd) {
        /* libmicrohttpd does not say why; a bind failure leaves errno set,
         * a certificate or key GnuTLS refuses does not. */
        int e = errno ? errno : o->tls ? EBADMSG : EADDRINUSE;
        pthread_mutex_destroy(&a->verify_lock);
        api_tls_free(&a->tls);
        stream_bus_free(a->bus);
        free(a);
        return -e;
    }
    *ret = a;
    return 0;
}

void api_get_stats(struct api *a, struct api_stats *r)
{
    r->requests = atomic_load(&a->requests);
    r->auth_failures = atomic_load(&a->auth_failures);
    r->throttled = atomic_load(&a->throttled);
    for (int i = 0; i < API_ERR__COUNT; i++)
        r->errors[i] = atomic_load(&a->errors[i]);
    r->connections = atomic_load(&a->conn_opened);
    r->connections_open = atomic_load(&a->conn_open);
    r->connections_refused = atomic_load(&a->conn_refused);
    r->http_errors = atomic_load(&a->http_errors);
    stream_bus_get_stats(a->bus, &r->streams_open, &r->stream_events, &r->stream_sent,
                         &r->stream_gaps);
}

void api_stop(struct api *a)
{
    if (!a)
        return;
    stream_bus_close(a->bus);           /* streams end; no more events */
    /* A verification's connection is resumed before the daemon stops
     * (libmicrohttpd requires it). */
    audit_verify_stop(a);
    MHD_stop_daemon(a->mhd);
    stream_bus_free(a->bus);
    pthread_mutex_destroy(&a->verify_lock);
    api_tls_free(&a->tls);
    store_close(a->st);
    free(a);
}
