/*
 * api_webhooks.c — a tenant's webhooks and their deliveries (out/webhook.h).
 *
 * Changes go through the command layer (cmd/webhooks.c), as the CLI's do.
 * A webhook's secret appears in exactly two answers: the creation and a
 * PATCH with "rotate_secret": true.  Another tenant's webhook answers 404.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "cmd/cmd.h"
#include "engine/model.h"
#include "out/webhook.h"

static json_t *webhook_to_json(const struct store_webhook *w)
{
    json_t *events = json_array();
    for (const char *p = w->events; *p;) {
        size_t n = strcspn(p, ",");
        json_array_append_new(events, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    return json_pack("{s:I, s:s, s:s, s:o, s:s, s:b, s:I, s:I, s:I, s:s}",
                     "id", (json_int_t)w->id, "tenant", w->tenant, "url", w->url,
                     "events", events, "min_severity", severity_name(w->min_severity),
                     "enabled", w->enabled, "pending", (json_int_t)w->pending,
                     "dropped", (json_int_t)w->dropped, "created_at", (json_int_t)w->created_at,
                     "created_by", w->created_by);
}

static int collect_webhook(void *ctx, const struct store_webhook *w)
{
    json_array_append_new(ctx, webhook_to_json(w));
    return 0;
}

int h_webhooks_list(struct call *c)
{
    json_t *items = json_array();
    if (store_webhook_list(c->a->st, c->scope, collect_webhook, items) < 0) {
        json_decref(items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    /* At most STORE_WEBHOOKS_PER_TENANT a tenant: one page. */
    return ok(c, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

/* The webhook of the path inside the caller's tenant, else 404 (-1). */
static int find_webhook(struct call *c, struct store_webhook *w, int *ret)
{
    long long id;
    if (parse_int(c->param, 1, INT64_MAX, &id) < 0 ||
        store_webhook_get(c->a->st, id, w) < 0 || (c->scope && w->tenant_id != c->scope)) {
        *ret = problem(c, MHD_HTTP_NOT_FOUND, "not found", "no webhook %s", c->param);
        return -1;
    }
    return 0;
}

int h_webhook_get(struct call *c)
{
    struct store_webhook w;
    int ret;
    if (find_webhook(c, &w, &ret) < 0)
        return ret;
    return ok(c, webhook_to_json(&w));
}

/* The body of a create or a PATCH into `in`; events are joined into
 * events_buf.  0, or -1 with the problem queued in *ret. */
static int parse_body(struct call *c, int create, json_t **doc, struct webhook_input *in,
                      const char **tenant, char *events_buf, size_t cap, int *ret)
{
    json_error_t err;
    memset(in, 0, sizeof *in);
    in->min_severity = in->enabled = -1;
    *tenant = NULL;
    *doc = json_loadb(c->body ? c->body : "", c->body_len, JSON_REJECT_DUPLICATES, &err);
    if (!*doc || !json_is_object(*doc)) {
        *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "the body must be a JSON object: %s",
                       *doc ? "not an object" : err.text);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(*doc, key, v) {
        const char *bad = NULL;
        if (strcmp(key, "url") == 0) {
            if (!json_is_string(v))
                bad = "url is a string";
            else
                in->url = json_string_value(v);
        } else if (strcmp(key, "events") == 0) {
            size_t i, len = 0;
            json_t *e;
            if (!json_is_array(v) || json_array_size(v) == 0)
                bad = "events is a non-empty array of strings";
            json_array_foreach(v, i, e) {
                const char *s = json_string_value(e);
                size_t n = s ? strlen(s) : 0;
                if (!s || n == 0 || strchr(s, ',') || len + n + 2 > cap) {
                    bad = "events is a non-empty array of strings (at most 255 characters in all)";
                    break;
                }
                len += (size_t)snprintf(events_buf + len, cap - len, "%s%s", i ? "," : "", s);
            }
            if (!bad)
                in->events = events_buf;
        } else if (strcmp(key, "min_severity") == 0) {
            const char *s = json_string_value(v);
            if (!s || (in->min_severity = severity_from_name(s)) < 0)
                bad = "min_severity is info, notice, warning or critical";
        } else if (strcmp(key, "enabled") == 0) {
            if (!json_is_boolean(v))
                bad = "enabled is true or false";
            else
                in->enabled = json_is_true(v);
        } else if (strcmp(key, "tenant") == 0 && create) {
            if (!json_is_string(v))
                bad = "tenant is a string";
            else
                *tenant = json_string_value(v);
        } else if (strcmp(key, "rotate_secret") == 0 && !create) {
            if (!json_is_boolean(v))
                bad = "rotate_secret is true or false";
            else
                in->rotate_secret = json_is_true(v);
        } else {
            *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "unknown member \"%.40s\" (url, events, min_severity, enabled%s)", key,
                           create ? ", tenant" : ", rotate_secret");
            return -1;
        }
        if (bad) {
            *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "%s", bad);
            return -1;
        }
    }
    return 0;
}

/* A command's failure as a problem. */
static int command_problem(struct call *c, int r, struct captured *k)
{
    const char *msg = k->err ? k->err : "";
    if (strncmp(msg, "m2mguard: ", 10) == 0)
        msg += 10;
    size_t n = strcspn(msg, "\n");
    unsigned status = r == -EINVAL ? MHD_HTTP_BAD_REQUEST
                      : r == -ENOENT ? MHD_HTTP_NOT_FOUND
                      : r == -ENOSPC || r == -EAGAIN ? MHD_HTTP_CONFLICT
                      : MHD_HTTP_INTERNAL_SERVER_ERROR;
    const char *title = status == MHD_HTTP_BAD_REQUEST ? "bad request"
                        : status == MHD_HTTP_NOT_FOUND ? "not found"
                        : status == MHD_HTTP_CONFLICT ? "conflict" : "store error";
    return problem(c, status, title, "%.*s", (int)n, msg);
}

int h_webhook_create(struct call *c)
{
    struct webhook_input in;
    const char *tenant;
    char events[256];
    json_t *doc;
    int ret;
    if (parse_body(c, 1, &doc, &in, &tenant, events, sizeof events, &ret) < 0) {
        json_decref(doc);
        return ret;
    }
    if (c->scope == 0 && !tenant) {
        json_decref(doc);
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "a platform token names the webhook's tenant (\"tenant\")");
    }
    struct captured k;
    int64_t id = 0;
    char secret[WEBHOOK_SECRET_MAX] = "";
    int r = capture_begin(c, &k);
    if (r == 0)
        r = cmd_webhook_create(&k.cc, tenant, &in, &id, secret);
    capture_end(&k);
    json_decref(doc);
    struct store_webhook w;
    if (r == 0 && (r = store_webhook_get(c->a->st, id, &w)) == 0) {
        json_t *o = webhook_to_json(&w);
        json_object_set_new(o, "secret", json_string(secret));
        ret = send_json(c, MHD_HTTP_CREATED, o, "application/json");
    } else {
        ret = command_problem(c, r, &k);
    }
    memset(secret, 0, sizeof secret);
    capture_free(&k);
    return ret;
}

int h_webhook_patch(struct call *c)
{
    struct webhook_input in;
    const char *tenant;
    char events[256];
    json_t *doc;
    struct store_webhook w;
    int ret;
    if (find_webhook(c, &w, &ret) < 0)
        return ret;
    if (parse_body(c, 0, &doc, &in, &tenant, events, sizeof events, &ret) < 0) {
        json_decref(doc);
        return ret;
    }
    struct captured k;
    char secret[WEBHOOK_SECRET_MAX] = "";
    int r = capture_begin(c, &k);
    if (r == 0)
        r = cmd_webhook_update(&k.cc, w.id, &in, secret);
    capture_end(&k);
    json_decref(doc);
    if (r == 0 && (r = store_webhook_get(c->a->st, w.id, &w)) == 0) {
        json_t *o = webhook_to_json(&w);
        if (in.rotate_secret)
            json_object_set_new(o, "secret", json_string(secret));
        ret = ok(c, o);
    } else {
        ret = command_problem(c, r, &k);
    }
    memset(secret, 0, sizeof secret);
    capture_free(&k);
    return ret;
}

/* Run a command on the webhook of the path: 0 and the captured output,
 * or -1 with the problem queued in *ret. */
static int webhook_command(struct call *c, int (*cmd)(struct cmd_ctx *, int64_t), int *ret)
{
    struct store_webhook w;
    struct captured k;
    if (find_webhook(c, &w, ret) < 0)
        return -1;
    int r = capture_begin(c, &k);
    if (r == 0)
        r = cmd(&k.cc, w.id);
    capture_end(&k);
    if (r < 0)
        *ret = command_problem(c, r, &k);
    capture_free(&k);
    return r < 0 ? -1 : 0;
}

int h_webhook_delete(struct call *c)
{
    int ret;
    if (webhook_command(c, cmd_webhook_delete, &ret) < 0)
        return ret;
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    ret = MHD_NO;
    if (resp) {
        ret = MHD_queue_response(c->conn, MHD_HTTP_NO_CONTENT, resp);
        MHD_destroy_response(resp);
    }
    return ret;
}

int h_webhook_ping(struct call *c)
{
    int ret;
    if (webhook_command(c, cmd_webhook_ping, &ret) < 0)
        return ret;
    return send_json(c, MHD_HTTP_ACCEPTED, json_pack("{s:s}", "status", "queued"),
                     "application/json");
}

static int collect_delivery(void *ctx, const struct store_delivery *d)
{
    json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:i, s:i, s:s}",
                          "id", (json_int_t)d->id, "event", d->event,
                          "created_ms", (json_int_t)d->created_ms, "state", d->state,
                          "attempts", d->attempts, "last_status", d->last_status,
                          "last_error", d->last_error);
    json_object_set_new(o, "next_attempt_ms", strcmp(d->state, "pending") == 0
                        ? json_integer(d->next_ms) : json_null());
    json_object_set_new(o, "done_ms", d->done_ms ? json_integer(d->done_ms) : json_null());
    json_array_append_new(ctx, o);
    return 0;
}

int h_webhook_deliveries(struct call *c)
{
    struct store_webhook w;
    int ret, limit;
    int64_t cursor;
    if (find_webhook(c, &w, &ret) < 0)
        return ret;
    if (page_args(c, 'd', &limit, &cursor, &ret) < 0)
        return ret;
    const char *state = arg(c, "state");
    if (state && strcmp(state, "pending") != 0 && strcmp(state, "delivered") != 0 &&
        strcmp(state, "failed") != 0)
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "state must be pending, delivered or failed");
    json_t *items = json_array();
    if (store_delivery_list(c->a->st, w.id, state, cursor, limit, collect_delivery, items) < 0) {
        json_decref(items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    size_t n = json_array_size(items);
    json_int_t last = n ? json_integer_value(json_object_get(json_array_get(items, n - 1), "id"))
                        : 0;
    return page_reply(c, items, (int)n == limit, 'd', last);
}
