/*
 * store_webhook.c — webhooks and their durable outbox (store.h, schema
 * version 8).
 *
 * The journal writes a finding or action and, in the same transaction, one
 * outbox row per webhook that wants it (store_webhook_enqueue): an event
 * the store has is an event the webhooks will hear of, across a crash.
 * The sender (out/webhook.c) claims due rows with a lease, posts them, and
 * records each attempt's outcome; a row is 'pending' until it is delivered
 * or given up ('failed').
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/sqlite_internal.h"
#include "store/store.h"

#define HOOK_COLS "w.id, w.tenant_id, t.name, w.url, w.events, w.min_severity, w.secret," \
    " w.enabled, w.pending, w.dropped, w.created_at, w.created_by" \
    " FROM webhooks w JOIN tenants t ON t.id = w.tenant_id"

static void hook_row(sqlite3_stmt *st, struct store_webhook *w)
{
    memset(w, 0, sizeof *w);
    w->id = sqlite3_column_int64(st, 0);
    w->tenant_id = sqlite3_column_int64(st, 1);
    store_copy_col(w->tenant, sizeof w->tenant, st, 2);
    store_copy_col(w->url, sizeof w->url, st, 3);
    store_copy_col(w->events, sizeof w->events, st, 4);
    w->min_severity = sqlite3_column_int(st, 5);
    store_copy_col(w->secret, sizeof w->secret, st, 6);
    w->enabled = sqlite3_column_int(st, 7);
    w->pending = sqlite3_column_int64(st, 8);
    w->dropped = sqlite3_column_int64(st, 9);
    w->created_at = sqlite3_column_int64(st, 10);
    store_copy_col(w->created_by, sizeof w->created_by, st, 11);
}

int store_webhook_insert(struct store *s, const struct store_webhook *w, int64_t *ret_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), "INSERT INTO webhooks (tenant_id, url, events,"
                           " min_severity, secret, enabled, created_at, created_by)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, w->tenant_id);
    sqlite3_bind_text(st, 2, w->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->events, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, w->min_severity);
    sqlite3_bind_text(st, 5, w->secret, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, w->enabled);
    sqlite3_bind_int64(st, 7, w->created_at);
    sqlite3_bind_text(st, 8, w->created_by, -1, SQLITE_STATIC);
    int r = store_step_done(s, st);
    sqlite3_finalize(st);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(store_db(s));
    return r;
}

int store_webhook_get(struct store *s, int64_t id, struct store_webhook *ret)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), "SELECT " HOOK_COLS " WHERE w.id = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        hook_row(st, ret);
    int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_webhook_list(struct store *s, int64_t tenant_id, store_webhook_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), "SELECT " HOOK_COLS
                           " WHERE ?1 = 0 OR w.tenant_id = ?1 ORDER BY w.id", -1, &st, NULL) !=
        SQLITE_OK)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, tenant_id);
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_webhook w;
        hook_row(st, &w);
        if ((r = cb(ctx, &w)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_webhook_count(struct store *s, int64_t tenant_id, int64_t *ret)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), "SELECT count(*) FROM webhooks WHERE tenant_id = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, tenant_id);
    int rc = sqlite3_step(st);
    *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int r = rc == SQLITE_ROW ? 0 : store_fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_webhook_update(struct store *s, const struct store_webhook *w)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), "UPDATE webhooks SET url = ?2, events = ?3,"
                           " min_severity = ?4, enabled = ?5, secret = ?6 WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, w->id);
    sqlite3_bind_text(st, 2, w->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->events, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, w->min_severity);
    sqlite3_bind_int(st, 5, w->enabled);
    sqlite3_bind_text(st, 6, w->secret, -1, SQLITE_STATIC);
    int r = store_step_done(s, st);
    sqlite3_finalize(st);
    return r < 0 ? r : sqlite3_changes(store_db(s)) ? 0 : -ENOENT;
}

int store_webhook_delete(struct store *s, int64_t id)
{
    sqlite3_stmt *st;
    /* The outbox rows go with it (ON DELETE CASCADE). */
    if (sqlite3_prepare_v2(store_db(s), "DELETE FROM webhooks WHERE id = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, id);
    int r = store_step_done(s, st);
    sqlite3_finalize(st);
    return r < 0 ? r : sqlite3_changes(store_db(s)) ? 0 : -ENOENT;
}

/* Does the filter (a comma list) take the event?  An entry is "*", a type
 * ("finding", "action") or a type and kind ("finding.imei_mismatch"). */
static int filter_takes(const char *filter, const char *type, const char *kind)
{
    size_t tl = strlen(type);
    const char *p = filter;
    while (*p) {
        size_t n = strcspn(p, ",");
        if ((n == 1 && *p == '*') || (n == tl && memcmp(p, type, tl) == 0) ||
            (n > tl + 1 && memcmp(p, type, tl) == 0 && p[tl] == '.' &&
             strlen(kind) == n - tl - 1 && memcmp(p + tl + 1, kind, n - tl - 1) == 0))
            return 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int store_webhook_enqueue(struct store *s, const struct store_webhook_event *e,
                          int64_t max_pending, int *queued, int *dropped)
{
    *queued = *dropped = 0;
    sqlite3_stmt *st = store_cached(s, XST_HOOKS_OF_TENANT,
                                    "SELECT id, events, min_severity, pending FROM webhooks"
                                    " WHERE tenant_id = ?1 AND enabled = 1 ORDER BY id");
    if (!st)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, e->tenant_id);
    /* Collected first: the statement is not stepped while the rows change. */
    struct { int64_t id; int full; } take[STORE_WEBHOOKS_PER_TENANT];
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < STORE_WEBHOOKS_PER_TENANT) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *events = (const char *)sqlite3_column_text(st, 1);
        if (e->only_webhook ? id != e->only_webhook
                            : !events || !filter_takes(events, e->type, e->kind ? e->kind : "") ||
                                  e->severity < sqlite3_column_int(st, 2))
            continue;
        take[n].id = id;
        take[n].full = sqlite3_column_int64(st, 3) >= max_pending;
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, rc);
    sqlite3_reset(st);

    char event[48];
    snprintf(event, sizeof event, "%s%s%s", e->type, e->kind && e->kind[0] ? "." : "",
             e->kind ? e->kind : "");
    for (int i = 0; i < n; i++) {
        int r;
        if (take[i].full) {
            if (!(st = store_cached(s, XST_HOOK_DROPPED_ADD,
                                    "UPDATE webhooks SET dropped = dropped + 1 WHERE id = ?1")))
                return store_fail(s, SQLITE_ERROR);
            sqlite3_bind_int64(st, 1, take[i].id);
            if ((r = store_step_done(s, st)) < 0)
                return r;
            (*dropped)++;
            continue;
        }
        if (!(st = store_cached(s, XST_OUTBOX_INSERT,
                                "INSERT INTO webhook_outbox (webhook_id, tenant_id, created_ms,"
                                " event, body, next_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?3)")))
            return store_fail(s, SQLITE_ERROR);
        sqlite3_bind_int64(st, 1, take[i].id);
        sqlite3_bind_int64(st, 2, e->tenant_id);
        sqlite3_bind_int64(st, 3, e->ts_ms);
        sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, e->body, -1, SQLITE_STATIC);
        if ((r = store_step_done(s, st)) < 0)
            return r;
        if (!(st = store_cached(s, XST_HOOK_PENDING_ADD,
                                "UPDATE webhooks SET pending = pending + ?2 WHERE id = ?1")))
            return store_fail(s, SQLITE_ERROR);
        sqlite3_bind_int64(st, 1, take[i].id);
        sqlite3_bind_int(st, 2, 1);
        if ((r = store_step_done(s, st)) < 0)
            return r;
        (*queued)++;
    }
    return 0;
}

#define DELIVERY_COLS "id, webhook_id, tenant_id, created_ms, event, body, state, attempts," \
    " next_ms, last_status, last_error, done_ms"

static void delivery_row(sqlite3_stmt *st, struct store_delivery *d)
{
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    d->webhook_id = sqlite3_column_int64(st, 1);
    d->tenant_id = sqlite3_column_int64(st, 2);
    d->created_ms = sqlite3_column_int64(st, 3);
    store_copy_col(d->event, sizeof d->event, st, 4);
    d->body = (const char *)sqlite3_column_text(st, 5);
    if (!d->body)
        d->body = "";
    store_copy_col(d->state, sizeof d->state, st, 6);
    d->attempts = sqlite3_column_int(st, 7);
    d->next_ms = sqlite3_column_int64(st, 8);
    d->last_status = sqlite3_column_int(st, 9);
    store_copy_col(d->last_error, sizeof d->last_error, st, 10);
    d->done_ms = sqlite3_column_int64(st, 11);
}

int store_delivery_claim(struct store *s, int64_t now_ms, int64_t lease_ms, int limit,
                         store_delivery_cb cb, void *ctx)
{
    sqlite3_stmt *st = store_cached(s, XST_DELIVERY_CLAIM,
        "UPDATE webhook_outbox SET next_ms = ?2 WHERE id IN"
        " (SELECT o.id FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id"
        "  WHERE o.state = 'pending' AND o.next_ms <= ?1 AND w.enabled = 1"
        "  ORDER BY o.next_ms LIMIT ?3)"
        " RETURNING " DELIVERY_COLS);
    if (!st)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, lease_ms);
    sqlite3_bind_int(st, 3, limit);
    int rc, r = 0;
    /* RETURNING rows are all computed by the first step; the callback
     * only copies them. */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_delivery d;
        delivery_row(st, &d);
        if (r == 0)
            r = cb(ctx, &d);
    }
    if (rc != SQLITE_DONE && r == 0)
        r = store_fail(s, rc);
    sqlite3_reset(st);
    return r;
}

int store_delivery_next_due(struct store *s, int64_t *ret_ms)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), "SELECT min(o.next_ms) FROM webhook_outbox o"
                           " JOIN webhooks w ON w.id = o.webhook_id"
                           " WHERE o.state = 'pending' AND w.enabled = 1", -1, &st, NULL) !=
        SQLITE_OK)
        return store_fail(s, SQLITE_ERROR);
    int rc = sqlite3_step(st);
    int r = rc != SQLITE_ROW ? store_fail(s, rc)
            : sqlite3_column_type(st, 0) == SQLITE_NULL ? -ENOENT : 0;
    if (r == 0)
        *ret_ms = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return r;
}

int store_delivery_result(struct store *s, const struct store_delivery *d)
{
    sqlite3_stmt *st = store_cached(s, XST_DELIVERY_RESULT,
        "UPDATE webhook_outbox SET state = ?2, attempts = ?3, next_ms = ?4, last_status = ?5,"
        " last_error = ?6, done_ms = ?7 WHERE id = ?1 AND state = 'pending'");
    if (!st)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, d->id);
    sqlite3_bind_text(st, 2, d->state, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, d->attempts);
    sqlite3_bind_int64(st, 4, d->next_ms);
    sqlite3_bind_int(st, 5, d->last_status);
    sqlite3_bind_text(st, 6, d->last_error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, d->done_ms);
    int r = store_step_done(s, st);
    if (r < 0 || sqlite3_changes(store_db(s)) == 0 || strcmp(d->state, "pending") == 0)
        return r;   /* deleted meanwhile (its webhook was), or still pending */
    if (!(st = store_cached(s, XST_HOOK_PENDING_ADD,
                            "UPDATE webhooks SET pending = pending + ?2 WHERE id = ?1")))
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, d->webhook_id);
    sqlite3_bind_int(st, 2, -1);
    return store_step_done(s, st);
}

int store_delivery_list(struct store *s, int64_t webhook_id, const char *state,
                        int64_t before_id, int limit, store_delivery_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), "SELECT " DELIVERY_COLS " FROM webhook_outbox"
                           " WHERE webhook_id = ?1 AND (?2 IS NULL OR state = ?2)"
                           " AND (?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4", -1, &st,
                           NULL) != SQLITE_OK)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, webhook_id);
    if (state)
        sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, before_id);
    sqlite3_bind_int(st, 4, limit);
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_delivery d;
        delivery_row(st, &d);
        if ((r = cb(ctx, &d)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_delivery_prune(struct store *s, int64_t before_ms, int limit, int *deleted)
{
    sqlite3_stmt *st;
    *deleted = 0;
    if (sqlite3_prepare_v2(store_db(s), "DELETE FROM webhook_outbox WHERE id IN"
                           " (SELECT id FROM webhook_outbox WHERE state != 'pending'"
                           "  AND done_ms < ?1 ORDER BY done_ms LIMIT ?2)", -1, &st, NULL) !=
        SQLITE_OK)
        return store_fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, before_ms);
    sqlite3_bind_int(st, 2, limit);
    int r = store_step_done(s, st);
    if (r == 0)
        *deleted = sqlite3_changes(store_db(s));
    sqlite3_finalize(st);
    return r;
}
