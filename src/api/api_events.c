/*
 * api_events.c — the API's routes for what m2mguard observed and did:
 * alerts (list, acknowledge, resolve), findings, actions, both together
 * by time (events), a SIM's sessions and usage, and the Prometheus
 * metrics.  Registered in api.c's route table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "out/webhook.h"
#include "cmd/cmd.h"
#include "core/ident.h"
#include "engine/accounting.h"
#include "engine/engine.h"
#include "engine/journal.h"
#include "engine/model.h"
#include "radius/gpp.h"
#include "radius/server.h"

/* ---- alerts ---- */

struct alert_page {
    json_t *items;
    int64_t last_id;
};

static int collect_alert(void *arg, const struct store_alert *a)
{
    struct alert_page *p = arg;
    json_t *ev = json_loads(a->evidence, 0, NULL);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id",
                          (json_int_t)a->id, "tenant", a->tenant, "kind", a->kind, "subject",
                          a->subject, "severity", a->severity, "state", a->state, "count",
                          (json_int_t)a->count, "first_seen_ms", (json_int_t)a->first_ms,
                          "last_seen_ms", (json_int_t)a->last_ms);
    if (!o) {
        json_decref(ev);
        return -ENOMEM;
    }
    json_object_set_new(o, "acknowledged_by", a->acked_by[0] ? json_string(a->acked_by)
                                                             : json_null());
    /* Truncated evidence (the list keeps 512 bytes) stays a string. */
    json_object_set_new(o, "evidence", ev ? ev : json_string(a->evidence));
    json_array_append_new(p->items, o);
    p->last_id = a->id;
    return 0;
}

int h_alerts_list(struct call *c)
{
    int limit, ret;
    int64_t before;
    if (page_args(c, 'a', &limit, &before, &ret) < 0)
        return ret;
    const char *state = arg(c, "state");
    if (state && strcmp(state, "open") != 0 && strcmp(state, "acknowledged") != 0 &&
        strcmp(state, "resolved") != 0 && strcmp(state, "all") != 0)
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "state must be open, acknowledged, resolved or all");
    struct alert_page p = { .items = json_array() };
    if (store_alert_page(c->a->st, c->scope, state, before, limit, collect_alert, &p) < 0) {
        json_decref(p.items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    return page_reply(c, p.items, (int)json_array_size(p.items) == limit, 'a', p.last_id);
}

static int alert_set(struct call *c, const char *state)
{
    long long id;
    if (parse_int(c->param, 1, INT64_MAX, &id) < 0)
        return problem(c, MHD_HTTP_NOT_FOUND, "not found", "no alert %s", c->param);
    if (c->body_len)
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "this request takes no body");
    char *out = NULL, *err = NULL;
    size_t outlen = 0, errlen = 0;
    struct cmd_ctx cc = { .st = c->a->st, .tenant_scope = c->scope };
    snprintf(cc.actor, sizeof cc.actor, "api:%s", c->tok.name);
    snprintf(cc.role, sizeof cc.role, "%s", c->tok.role);
    cc.out = open_memstream(&out, &outlen);
    cc.err = open_memstream(&err, &errlen);
    int r = cc.out && cc.err ? cmd_alert_set_state(&cc, id, state) : -ENOMEM;
    if (cc.out)
        (void)fclose(cc.out);
    if (cc.err)
        (void)fclose(cc.err);
    int ret;
    if (r == -ENOENT)
        ret = problem(c, MHD_HTTP_NOT_FOUND, "not found", "no alert %lld", id);
    else if (r == -EALREADY)
        ret = problem(c, MHD_HTTP_CONFLICT, "conflict", "alert %lld is already resolved", id);
    else if (r < 0)
        ret = problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s", err ? err : "");
    else
        ret = ok(c, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", state));
    free(out);
    free(err);
    return ret;
}

int h_alert_ack(struct call *c)
{
    return alert_set(c, "acknowledged");
}

int h_alert_resolve(struct call *c)
{
    return alert_set(c, "resolved");
}

/* ---- findings ---- */

struct finding_page {
    json_t *items;
    int64_t last_id;
    const char *kind, *subject;
    int matched, limit;
};

static int collect_finding(void *arg, const struct store_finding_row *f)
{
    struct finding_page *p = arg;
    p->last_id = f->id;
    if ((p->kind && strcmp(p->kind, f->kind) != 0) ||
        (p->subject && strcmp(p->subject, f->subject) != 0))
        return 0;
    json_t *ev = json_loads(f->evidence, 0, NULL);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)f->id, "ts_ms",
                          (json_int_t)f->ts_ms, "tenant", f->tenant, "kind", f->kind,
                          "severity", f->severity, "subject", f->subject);
    if (!o) {
        json_decref(ev);
        return -ENOMEM;
    }
    json_object_set_new(o, "evidence", ev ? ev : json_string(f->evidence));
    json_array_append_new(p->items, o);
    return ++p->matched >= p->limit;    /* a full page stops the walk */
}

int h_findings_list(struct call *c)
{
    int limit, ret;
    int64_t after;
    if (page_args(c, 'f', &limit, &after, &ret) < 0)
        return ret;
    struct finding_page p = { .items = json_array(), .kind = arg(c, "kind"),
                              .subject = arg(c, "subject"), .limit = limit };
    if (p.kind && finding_kind_from_name(p.kind) < 0) {
        json_decref(p.items);
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "unknown finding kind \"%.40s\"",
                       p.kind);
    }
    /* Filtered walks read on in steps; each step is bounded, and so is
     * their number: a walk that stops there answers what it found so far
     * with a cursor to read on from (a short page that is not the last). */
    int64_t from = after;
    int more = 1;
    for (int step = 0; step < 64; step++) {
        int64_t before = p.last_id;
        int r = store_finding_list(c->a->st, c->scope, from, 1000, collect_finding, &p);
        if (r < 0) {
            json_decref(p.items);
            return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                           store_errmsg(c->a->st));
        }
        if (r > 0)
            break;      /* a full page */
        if (p.last_id == before) {
            more = 0;   /* nothing more */
            break;
        }
        from = p.last_id;
    }
    return page_reply(c, p.items, p.matched >= limit || (more && p.last_id > after), 'f',
                      p.last_id);
}

/* ---- actions ---- */

struct action_page {
    json_t *items;
    int64_t last_id;
};

static int collect_action(void *arg, const struct store_action_row *a)
{
    struct action_page *p = arg;
    json_t *detail = json_loads(a->detail, 0, NULL);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)a->id, "ts_ms",
                          (json_int_t)a->ts_ms, "tenant", a->tenant, "kind", a->kind, "target",
                          a->target, "outcome", a->outcome);
    if (!o) {
        json_decref(detail);
        return -ENOMEM;
    }
    json_object_set_new(o, "finding_id", a->finding_id ? json_integer(a->finding_id)
                                                       : json_null());
    json_object_set_new(o, "detail", detail ? detail : json_string(a->detail));
    json_array_append_new(p->items, o);
    p->last_id = a->id;
    return 0;
}

int h_actions_list(struct call *c)
{
    int limit, ret;
    int64_t after;
    if (page_args(c, 'c', &limit, &after, &ret) < 0)
        return ret;
    const char *kind = arg(c, "kind"), *target = arg(c, "target");
    if ((kind && strlen(kind) > 15) || (target && strlen(target) > 63))
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "kind or target too long");
    struct action_page p = { .items = json_array() };
    if (store_action_list(c->a->st, c->scope, after, kind, target, limit, collect_action, &p) <
        0) {
        json_decref(p.items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    return page_reply(c, p.items, (int)json_array_size(p.items) == limit, 'c', p.last_id);
}

/* ---- findings and actions together, by time ---- */

struct event_page {
    json_t *items;
    struct store_event_row last;
};

static int collect_event(void *arg, const struct store_event_row *e)
{
    struct event_page *p = arg;
    json_t *body = json_loads(e->body, 0, NULL);
    json_t *o = e->type == STORE_EVENT_FINDING
        ? json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "type", "finding", "id",
                    (json_int_t)e->id, "ts_ms", (json_int_t)e->ts_ms, "tenant", e->tenant,
                    "kind", e->kind, "severity", e->severity, "subject", e->subject)
        : json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "type", "action", "id",
                    (json_int_t)e->id, "ts_ms", (json_int_t)e->ts_ms, "tenant", e->tenant,
                    "kind", e->kind, "target", e->subject, "outcome", e->outcome);
    if (!o) {
        json_decref(body);
        return -ENOMEM;
    }
    if (e->type == STORE_EVENT_FINDING) {
        json_object_set_new(o, "evidence", body ? body : json_string(e->body));
    } else {
        json_object_set_new(o, "finding_id", e->finding_id ? json_integer(e->finding_id)
                                                           : json_null());
        json_object_set_new(o, "detail", body ? body : json_string(e->body));
    }
    json_array_append_new(p->items, o);
    p->last = *e;
    p->last.body = NULL;    /* valid during the callback only */
    return 0;
}

/* "e<ts>.<f|a><id>": the (ts, type, id) a page continues after. */
static int event_cursor_parse(const char *v, struct store_event_filter *f)
{
    long long ts, id;
    char num[24];
    const char *dot = v[0] == 'e' ? strchr(v, '.') : NULL;
    if (!dot || dot == v + 1 || (size_t)(dot - v - 1) >= sizeof num ||
        (dot[1] != 'f' && dot[1] != 'a'))
        return -1;
    snprintf(num, sizeof num, "%.*s", (int)(dot - v - 1), v + 1);
    if (parse_int(num, 0, API_TIME_MAX_MS, &ts) < 0 || parse_int(dot + 2, 1, INT64_MAX, &id) < 0)
        return -1;
    f->after_ts = ts;
    f->after_type = dot[1] == 'f' ? STORE_EVENT_FINDING : STORE_EVENT_ACTION;
    f->after_id = id;
    return 0;
}

int h_events_list(struct call *c)
{
    struct store_event_filter f = { .types = STORE_EVENTS_FINDINGS | STORE_EVENTS_ACTIONS,
                                    .tenant_id = c->scope, .after_ts = -1 };
    int ret;
    const char *v;
    if (limit_arg(c, &f.limit, &ret) < 0 || time_args(c, &f.since_ms, &f.until_ms, &ret) < 0)
        return ret;
    if ((v = arg(c, "cursor")) && event_cursor_parse(v, &f) < 0)
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "cursor is not one this API returned (next_cursor)");
    if ((v = arg(c, "type"))) {
        if (strcmp(v, "finding") == 0)
            f.types = STORE_EVENTS_FINDINGS;
        else if (strcmp(v, "action") == 0)
            f.types = STORE_EVENTS_ACTIONS;
        else
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "type must be finding or action");
    }
    if ((v = arg(c, "kind"))) {
        /* A kind is either a finding's or an action's: it names the type. */
        int types = finding_kind_from_name(v) >= 0 ? STORE_EVENTS_FINDINGS
                    : action_from_name(v) >= 0 && strcmp(v, "none") != 0 &&
                      strcmp(v, "alert") != 0 ? STORE_EVENTS_ACTIONS : 0;
        if (!types)
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "kind \"%.40s\" is neither a finding kind (docs/policy.md) nor an "
                           "action (reject, suspend, disconnect, restrict)", v);
        if (!(f.types & types))
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "kind %s is %s kind; it is never of type %s", v,
                           types == STORE_EVENTS_FINDINGS ? "a finding" : "an action",
                           arg(c, "type"));
        f.types = types;
        f.kind = v;
    }
    if ((v = arg(c, "sim"))) {
        size_t n = strlen(v);
        if (n < IMSI_MIN || n > ICCID_MAX || strspn(v, "0123456789") != n)
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "sim must be an ICCID (or the IMSI of an unknown SIM): %d to %d "
                           "digits", IMSI_MIN, ICCID_MAX);
        f.subject = v;
    }
    struct event_page p = { .items = json_array() };
    if (store_event_page(c->a->st, &f, collect_event, &p) < 0) {
        json_decref(p.items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    int full = (int)json_array_size(p.items) == f.limit;
    char cur[64];
    snprintf(cur, sizeof cur, "e%lld.%c%lld", (long long)p.last.ts_ms,
             p.last.type == STORE_EVENT_FINDING ? 'f' : 'a', (long long)p.last.id);
    return ok(c, json_pack("{s:o, s:o}", "items", p.items, "next_cursor",
                           full ? json_string(cur) : json_null()));
}

/* ---- a SIM's sessions and usage ---- */

static void fresh(struct call *c)
{
    /* Sessions and usage reach the store every second; get them now. */
    if (c->a->eng && c->a->eng->acct)
        (void)accounting_flush(c->a->eng->acct, 2000);
}

static int collect_session(void *arg, const struct store_session *s)
{
    json_t *items = arg;
    char ip[16] = "";
    if (s->framed_ip)
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", s->framed_ip >> 24, (s->framed_ip >> 16) & 255,
                 (s->framed_ip >> 8) & 255, s->framed_ip & 255);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "id", (json_int_t)s->id,
                          "nas", s->nas, "acct_session_id", s->acct_session_id, "state",
                          s->open ? "open" : "closed", "started_ms", (json_int_t)s->started_ms,
                          "updated_ms", (json_int_t)s->updated_ms, "in_octets",
                          (json_int_t)s->in_octets, "out_octets", (json_int_t)s->out_octets);
    if (!o)
        return -ENOMEM;
    json_object_set_new(o, "imeisv", s->imei[0] ? json_string(s->imei) : json_null());
    json_object_set_new(o, "framed_ip", ip[0] ? json_string(ip) : json_null());
    json_object_set_new(o, "plmn", s->plmn[0] ? json_string(s->plmn) : json_null());
    json_object_set_new(o, "rat", s->rat ? json_string(gpp_rat_name(s->rat)) : json_null());
    json_object_set_new(o, "stopped_ms", s->open ? json_null() : json_integer(s->stopped_ms));
    json_object_set_new(o, "close_reason",
                        s->close_reason[0] ? json_string(s->close_reason) : json_null());
    json_array_append_new(items, o);
    return 0;
}

int h_sim_sessions(struct call *c)
{
    struct store_sim sim;
    int ret, limit;
    int64_t unused;
    if (find_sim(c, &sim, &ret) < 0)
        return ret;
    if (page_args(c, 0, &limit, &unused, &ret) < 0)
        return ret;
    fresh(c);
    json_t *items = json_array();
    if (store_sessions_of_sim(c->a->st, sim.id, limit, collect_session, items) < 0) {
        json_decref(items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    return ok(c, json_pack("{s:s, s:o}", "iccid", sim.iccid, "items", items));
}

static int collect_day(void *arg, const char *day, uint64_t in, uint64_t out)
{
    json_array_append_new(arg, json_pack("{s:s, s:I, s:I}", "day", day, "in_octets",
                                         (json_int_t)in, "out_octets", (json_int_t)out));
    return 0;
}

int h_sim_usage(struct call *c)
{
    struct store_sim sim;
    int ret;
    if (find_sim(c, &sim, &ret) < 0)
        return ret;
    long long days = 31;
    const char *v = arg(c, "days");
    if (v && parse_int(v, 1, 366, &days) < 0)
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "days must be a whole number from 1 to 366");
    fresh(c);
    time_t now = time(NULL), from = now - (time_t)(days - 1) * 86400;
    struct tm tm;
    char today[11], month[8], first[11];
    if (!gmtime_r(&now, &tm) || strftime(today, sizeof today, "%Y-%m-%d", &tm) == 0 ||
        strftime(month, sizeof month, "%Y-%m", &tm) == 0 || !gmtime_r(&from, &tm) ||
        strftime(first, sizeof first, "%Y-%m-%d", &tm) == 0)
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "clock", "the date does not fit");
    uint64_t u[4] = { 0, 0, 0, 0 };
    json_t *list = json_array();
    if (store_usage_get(c->a->st, sim.id, today, month, u) < 0 ||
        store_usage_days(c->a->st, sim.id, first, collect_day, list) < 0) {
        json_decref(list);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    return ok(c, json_pack("{s:s, s:{s:s, s:I, s:I}, s:{s:s, s:I, s:I}, s:o}", "iccid",
                           sim.iccid, "today", "day", today, "in_octets", (json_int_t)u[0],
                           "out_octets", (json_int_t)u[1], "month", "month", month,
                           "in_octets", (json_int_t)u[2], "out_octets", (json_int_t)u[3],
                           "days", list));
}

/* ---- Prometheus metrics (text format 0.0.4), platform-wide ---- */

int h_metrics(struct call *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", "metrics");
    struct engine *e = c->a->eng;
    if (e && e->srv) {
        struct server_stats ss;
        radius_server_get_stats(e->srv, &ss);
        fprintf(f, "# HELP m2mguard_radius_requests_total RADIUS requests by outcome.\n"
                   "# TYPE m2mguard_radius_requests_total counter\n");
        fprintf(f, "m2mguard_radius_requests_total{result=\"received\"} %llu\n",
                (unsigned long long)ss.received);
        fprintf(f, "m2mguard_radius_requests_total{result=\"accept\"} %llu\n",
                (unsigned long long)ss.accepts);
        fprintf(f, "m2mguard_radius_requests_total{result=\"reject\"} %llu\n",
                (unsigned long long)ss.rejects);
        fprintf(f, "m2mguard_radius_requests_total{result=\"duplicate\"} %llu\n",
                (unsigned long long)ss.duplicates);
        fprintf(f, "# HELP m2mguard_radius_dropped_total Datagrams dropped, by reason.\n"
                   "# TYPE m2mguard_radius_dropped_total counter\n");
        for (int k = 1; k < RADIUS_E__COUNT; k++)
            fprintf(f, "m2mguard_radius_dropped_total{reason=\"%s\"} %llu\n",
                    radius_error_name(-k), (unsigned long long)ss.dropped[k]);
        for (int k = 1; k < GPP_E__COUNT; k++)
            fprintf(f, "m2mguard_radius_dropped_total{reason=\"3gpp_%s\"} %llu\n",
                    gpp_error_name(-k), (unsigned long long)ss.gpp_errors[k]);
    }
    if (e) {
        fprintf(f, "# HELP m2mguard_findings_total Findings raised, by kind.\n"
                   "# TYPE m2mguard_findings_total counter\n");
        for (int k = 0; k < FK__COUNT; k++)
            fprintf(f, "m2mguard_findings_total{kind=\"%s\"} %llu\n", finding_kind_name(k),
                    (unsigned long long)atomic_load(&e->findings[k]));
    }
    if (e && e->acct) {
        struct accounting_stats as;
        accounting_get_stats(e->acct, &as);
        fprintf(f, "# HELP m2mguard_accounting_records_total Accounting records committed and "
                   "answered.\n# TYPE m2mguard_accounting_records_total counter\n"
                   "m2mguard_accounting_records_total %llu\n",
                (unsigned long long)as.records);
        fprintf(f, "# HELP m2mguard_accounting_overload_total Accounting requests dropped, queue "
                   "full.\n# TYPE m2mguard_accounting_overload_total counter\n"
                   "m2mguard_accounting_overload_total %llu\n",
                (unsigned long long)as.overload);
        fprintf(f, "# HELP m2mguard_sessions_open Live sessions.\n"
                   "# TYPE m2mguard_sessions_open gauge\nm2mguard_sessions_open %llu\n",
                (unsigned long long)as.sessions_open);
        fprintf(f, "# HELP m2mguard_actions_total Disconnect-Requests by outcome.\n"
                   "# TYPE m2mguard_actions_total counter\n");
        static const char *const names[] = { "sent", "ack", "nak", "timeout", "failed" };
        uint64_t v[] = { as.dm_sent, as.dm_ack, as.dm_nak, as.dm_timeout, as.dm_error };
        for (int i = 0; i < 5; i++)
            fprintf(f, "m2mguard_actions_total{action=\"disconnect\",outcome=\"%s\"} %llu\n",
                    names[i], (unsigned long long)v[i]);
        /* The log2 buckets as a histogram in seconds (le = the bucket's top). */
        fprintf(f, "# HELP m2mguard_trigger_to_wire_seconds From the triggering packet or "
                   "command to the Disconnect-Request on the wire.\n"
                   "# TYPE m2mguard_trigger_to_wire_seconds histogram\n");
        uint64_t cum = 0;
        for (int b = 0; b < ACCT_LAT_BUCKETS; b++) {
            cum += as.dm_latency_us[b];
            fprintf(f, "m2mguard_trigger_to_wire_seconds_bucket{le=\"%.6f\"} %llu\n",
                    (double)(1ULL << (b + 1)) / 1e6, (unsigned long long)cum);
        }
        fprintf(f, "m2mguard_trigger_to_wire_seconds_bucket{le=\"+Inf\"} %llu\n"
                   "m2mguard_trigger_to_wire_seconds_count %llu\n",
                (unsigned long long)cum, (unsigned long long)cum);
    }
    if (e && e->journal) {
        struct journal_stats js;
        journal_get_stats(e->journal, &js);
        fprintf(f, "# HELP m2mguard_journal_queue_depth Findings and actions waiting for the "
                   "store.\n# TYPE m2mguard_journal_queue_depth gauge\n"
                   "m2mguard_journal_queue_depth %llu\n"
                   "# HELP m2mguard_journal_dropped_total Findings lost, queue full.\n"
                   "# TYPE m2mguard_journal_dropped_total counter\n"
                   "m2mguard_journal_dropped_total %llu\n",
                (unsigned long long)js.depth, (unsigned long long)js.dropped);
        fprintf(f, "# HELP m2mguard_webhook_events_total Events for webhooks: queued in the "
                   "outbox, or dropped (outbox full).\n"
                   "# TYPE m2mguard_webhook_events_total counter\n"
                   "m2mguard_webhook_events_total{result=\"queued\"} %llu\n"
                   "m2mguard_webhook_events_total{result=\"dropped\"} %llu\n",
                (unsigned long long)js.webhook_queued, (unsigned long long)js.webhook_dropped);
    }
    if (c->a->webhooks) {
        struct webhook_stats ws;
        webhook_sender_get_stats(c->a->webhooks, &ws);
        fprintf(f, "# HELP m2mguard_webhook_attempts_total Webhook POSTs, by outcome "
                   "(retry: failed, to be tried again; failed: given up).\n"
                   "# TYPE m2mguard_webhook_attempts_total counter\n"
                   "m2mguard_webhook_attempts_total{outcome=\"delivered\"} %llu\n"
                   "m2mguard_webhook_attempts_total{outcome=\"retry\"} %llu\n"
                   "m2mguard_webhook_attempts_total{outcome=\"failed\"} %llu\n"
                   "# HELP m2mguard_webhook_in_flight Webhook POSTs under way.\n"
                   "# TYPE m2mguard_webhook_in_flight gauge\n"
                   "m2mguard_webhook_in_flight %llu\n",
                (unsigned long long)ws.delivered, (unsigned long long)ws.retried,
                (unsigned long long)ws.failed, (unsigned long long)ws.in_flight);
    }
    {
        uint64_t open, published, sent, gaps;
        stream_bus_get_stats(c->a->bus, &open, &published, &sent, &gaps);
        fprintf(f, "# HELP m2mguard_stream_clients Open GET /v1/stream connections.\n"
                   "# TYPE m2mguard_stream_clients gauge\nm2mguard_stream_clients %llu\n"
                   "# HELP m2mguard_stream_events_total Events written to streams; gaps "
                   "(a client too far behind).\n"
                   "# TYPE m2mguard_stream_events_total counter\n"
                   "m2mguard_stream_events_total{result=\"sent\"} %llu\n"
                   "m2mguard_stream_events_total{result=\"gap\"} %llu\n",
                (unsigned long long)open, (unsigned long long)sent, (unsigned long long)gaps);
    }
    fprintf(f, "# HELP m2mguard_api_requests_total HTTP API requests.\n"
               "# TYPE m2mguard_api_requests_total counter\nm2mguard_api_requests_total %llu\n"
               "# HELP m2mguard_api_auth_failures_total Failed API authentications.\n"
               "# TYPE m2mguard_api_auth_failures_total counter\n"
               "m2mguard_api_auth_failures_total %llu\n",
            (unsigned long long)atomic_load(&c->a->requests),
            (unsigned long long)atomic_load(&c->a->auth_failures));
    if (fclose(f) != 0 || !text) {
        free(text);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", "metrics");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
    int ret = MHD_queue_response(c->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
