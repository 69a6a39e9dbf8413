/*
 * api_audit.c — the audit trail over HTTP: GET /v1/audit (records, paged,
 * filtered) and GET /v1/audit/verify (audit_verify_ex(), the walk behind
 * `m2mguard audit verify`).  Registered in api.c's route table.
 *
 * Both are for admins.  A tenant's admin sees its tenant's records only,
 * and its verification says whether the chain is intact and how many of
 * its own records it proved; the head, and what is wrong with a record of
 * another tenant, are the platform's (the head's sequence number alone
 * tells how busy every other tenant is).
 *
 * Verifying hashes every record of the chain again: seconds for millions
 * of records.  The API's one thread must not wait that long, so the walk
 * runs in a thread of its own with its own store connection (a read
 * snapshot: writers are not held up), the request's connection is
 * suspended meanwhile (libmicrohttpd serves the others) and resumed with
 * the verdict.  One verification at a time (another gets 429); stopping
 * the API cancels a walk under way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "audit/audit.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- records ---- */

struct audit_page {
    json_t *items;
    int64_t last_seq;
};

static int collect_record(void *arg, const struct store_audit_row *r)
{
    struct audit_page *p = arg;
    json_t *body = json_loads(r->body, 0, NULL);
    json_t *o = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s}", "seq", (json_int_t)r->seq, "ts_ms",
                          (json_int_t)r->ts_ms, "tenant_id", (json_int_t)r->tenant_id, "kind",
                          r->kind, "prev_hash", r->prev_hash, "hash", r->hash);
    if (!o) {
        json_decref(body);
        return -ENOMEM;
    }
    json_object_set_new(o, "tenant", r->tenant ? json_string(r->tenant) : json_null());
    /* What the hash covers is the stored text: a body that no longer parses
     * (tampered with) is shown as that text. */
    json_object_set_new(o, "record", body ? body : json_string(r->body));
    json_array_append_new(p->items, o);
    p->last_seq = r->seq;
    return 0;
}

int h_audit_list(struct call *c)
{
    struct store_audit_filter f = { .tenant_id = c->scope };
    const char *v;
    int ret;
    if (page_args(c, 'r', &f.limit, &f.after_seq, &ret) < 0 ||
        time_args(c, &f.since_ms, &f.until_ms, &ret) < 0)
        return ret;
    if ((v = arg(c, "kind"))) {
        if (strcmp(v, "admin") != 0 && strcmp(v, "action") != 0)
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "kind must be admin or action");
        f.kind = v;
    }
    if ((v = arg(c, "target"))) {
        if (!v[0] || strlen(v) > 64)
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "target is 1 to 64 characters (an ICCID, a group, alert:ID, ...)");
        f.target = v;
    }
    /* A platform token may narrow to one tenant; a tenant's token is its
     * tenant whatever it asks for. */
    if ((v = arg(c, "tenant")) && c->scope == 0 &&
        store_tenant_find(c->a->st, v, &f.tenant_id) < 0)
        return ok(c, json_pack("{s:[], s:n}", "items", "next_cursor"));
    struct audit_page p = { .items = json_array() };
    if (store_audit_page(c->a->st, &f, collect_record, &p) < 0) {
        json_decref(p.items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    return page_reply(c, p.items, (int)json_array_size(p.items) == f.limit, 'r', p.last_seq);
}

/* ---- verification ---- */

/* One verification: asked for by a request, run by its own thread,
 * answered when the request's connection is resumed.  The request owns it
 * (struct req; freed when the request completes); the thread stops using
 * it once it has resumed the connection. */
struct audit_job {
    struct api *a;
    struct MHD_Connection *conn;
    int64_t tenant_id;              /* the caller's scope: 0 = the platform */
    int64_t anchor_seq;
    char anchor_hex[AUDIT_HEX_LEN];
    int result;                     /* audit_verify_ex()'s, or a store error */
    char error[256];
    struct audit_verdict v;
    int64_t ms;                     /* how long the walk took */
};

static void *verify_main(void *arg)
{
    struct audit_job *j = arg;
    struct api *a = j->a;
    struct store *st = NULL;
    int64_t t0 = mono_ms();
    int r = store_open(a->database, &st);
    if (r == 0) {
        struct audit_verify_opts o = { .anchor_seq = j->anchor_seq,
                                       .anchor_hex = j->anchor_seq ? j->anchor_hex : NULL,
                                       .tenant_id = j->tenant_id, .cancel = &a->stopping };
        r = audit_verify_ex(st, &o, &j->v);
    }
    if (r < 0 && r != -ECANCELED)
        snprintf(j->error, sizeof j->error, "%s", st && store_errmsg(st)[0] ? store_errmsg(st)
                                                                           : strerror(-r));
    store_close(st);
    j->result = r;
    j->ms = mono_ms() - t0;
    struct MHD_Connection *conn = j->conn;
    /* Free for the next one before the answer goes out, so that a client
     * asking again at once is not refused.  A new verification joins this
     * thread meanwhile: it only has the resume left to do, which takes no
     * lock the API's thread holds. */
    pthread_mutex_lock(&a->verify_lock);
    a->verify_busy = 0;
    pthread_mutex_unlock(&a->verify_lock);
    MHD_resume_connection(conn);        /* from here on the job is the request's */
    return NULL;
}

int h_audit_verify(struct call *c)
{
    struct api *a = c->a;
    const char *head = arg(c, "head");
    int64_t seq = 0;
    char hex[AUDIT_HEX_LEN] = "";
    if (head && c->scope)
        return problem(c, MHD_HTTP_FORBIDDEN, "forbidden",
                       "checking against a published head is for a platform-admin token");
    if (head && audit_parse_head(head, &seq, hex) < 0)
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "head must be SEQ:HASH, a head as the daemon logs it (a record number, "
                       "64 lowercase hex digits)");
    if (!a->database[0])    /* an empty path would open a new, empty database */
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "no store",
                       "the API was started without the store's path");
    struct audit_job *j = calloc(1, sizeof *j);
    if (!j)
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", "audit verify");
    j->a = a;
    j->conn = c->conn;
    j->tenant_id = c->scope;
    j->anchor_seq = seq;
    memcpy(j->anchor_hex, hex, sizeof hex);

    pthread_mutex_lock(&a->verify_lock);
    int stopping = atomic_load(&a->stopping), busy = a->verify_busy;
    if (stopping || busy) {
        pthread_mutex_unlock(&a->verify_lock);
        free(j);
        return stopping ? problem(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                  "the API is stopping")
                        : problem(c, MHD_HTTP_TOO_MANY_REQUESTS, "too many requests",
                                  "another audit verification is running; try again in a few "
                                  "seconds");
    }
    if (a->verify_joinable) {
        /* The last one is done (verify_busy is 0) or resuming its
         * connection: collect it. */
        pthread_join(a->verify_thread, NULL);
        a->verify_joinable = 0;
    }
    /* Suspended before the thread exists, so that its resume always finds
     * the connection suspended. */
    c->rq->job = j;
    MHD_suspend_connection(c->conn);
    a->verify_busy = 1;
    int e = pthread_create(&a->verify_thread, NULL, verify_main, j);
    if (e != 0) {
        a->verify_busy = 0;
        j->result = -e;
        snprintf(j->error, sizeof j->error, "cannot start a thread: %s", strerror(e));
        MHD_resume_connection(c->conn);
    } else {
        a->verify_joinable = 1;
    }
    pthread_mutex_unlock(&a->verify_lock);
    return MHD_YES;
}

/* The answer, once the job's thread has resumed the connection. */
int audit_verify_respond(struct call *c, const struct audit_job *j)
{
    if (j->result == -ECANCELED)
        return problem(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                       "the API is stopping; the verification was cancelled");
    if (j->result == -EINVAL)
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "head is not SEQ:HASH");
    if (j->result < 0)
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error",
                       "reading the audit chain: %s", j->error);
    const struct audit_verdict *v = &j->v;
    int intact = v->fault == AUDIT_INTACT;
    json_t *doc = json_pack("{s:b, s:s, s:I}", "intact", intact, "verdict",
                            audit_fault_name(v->fault), "duration_ms", (json_int_t)j->ms);
    if (!doc)
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", "audit verify");
    if (j->tenant_id == 0) {
        json_object_set_new(doc, "scope", json_string("platform"));
        json_object_set_new(doc, "records", json_integer(v->records));
        json_object_set_new(doc, "seq", intact ? json_null() : json_integer(v->seq));
        json_object_set_new(doc, "head", intact ? json_pack("{s:I, s:s}", "seq",
                                                            (json_int_t)v->head_seq, "hash",
                                                            v->head_hash) : json_null());
        json_object_set_new(doc, "detail", json_string(v->why));
        return ok(c, doc);
    }
    /* A tenant's admin: its own records; another tenant's record (or one
     * that is missing, so nobody's) is not described. */
    int own = !intact && v->fault_tenant_id == j->tenant_id;
    char detail[320];
    if (intact)
        snprintf(detail, sizeof detail, "the chain is intact: %lld records of this tenant "
                 "verified", (long long)v->tenant_records);
    else if (own)
        snprintf(detail, sizeof detail, "%s", v->why);
    else
        snprintf(detail, sizeof detail, "the chain is broken at a record that is not this "
                 "tenant's; every tenant's records after it are unproven (the platform's "
                 "operator has the details)");
    json_object_set_new(doc, "scope", json_string("tenant"));
    json_object_set_new(doc, "records", json_integer(v->tenant_records));
    json_object_set_new(doc, "seq", own ? json_integer(v->seq) : json_null());
    json_object_set_new(doc, "head", json_null());
    json_object_set_new(doc, "detail", json_string(detail));
    return ok(c, doc);
}

void audit_job_free(struct audit_job *j)
{
    free(j);
}

void audit_verify_stop(struct api *a)
{
    pthread_mutex_lock(&a->verify_lock);
    atomic_store(&a->stopping, 1);      /* no new one; the running one stops */
    int joinable = a->verify_joinable;
    a->verify_joinable = 0;
    pthread_mutex_unlock(&a->verify_lock);
    if (joinable)
        pthread_join(a->verify_thread, NULL);
}
