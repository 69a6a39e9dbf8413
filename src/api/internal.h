/*
 * internal.h — what the API's route files share (api.c owns the server).
 */
#ifndef M2MG_API_INTERNAL_H
#define M2MG_API_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api/api.h"
#include "cmd/cmd.h"
#include "store/store.h"

#define API_BODY_MAX 65536
#define API_LIST_DEFAULT 100
#define API_LIST_MAX 1000
#define API_FAIL_SOURCES 256        /* sources tracked for failed authentication */
#define API_FAIL_WINDOW_MS 60000
#define API_FAIL_LIMIT 10           /* failures per source per window, then 429 */

enum role { ROLE_NONE, ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN, ROLE_PLATFORM };

struct fail_entry {
    uint32_t ip;
    uint32_t count;             /* failures in the window */
    uint32_t unreported;        /* not yet in a finding */
    int64_t window_start;
};

struct api {
    struct MHD_Daemon *mhd;
    struct store *st;
    struct engine *eng;
    char control[256];
    char database[PATH_MAX];        /* for connections of other threads */
    /* The audit verification thread (api_audit.c): at most one. */
    pthread_mutex_t verify_lock;
    pthread_t verify_thread;
    int verify_busy;                /* running (under verify_lock) */
    int verify_joinable;            /* started and not joined yet */
    _Atomic int stopping;           /* api_stop(): cancels a walk, refuses new ones */
    struct api_tls tls;             /* HTTPS: certificate and key (PEM), else NULLs */
    struct fail_entry fails[API_FAIL_SOURCES];
    _Atomic uint64_t requests, auth_failures, throttled;
    _Atomic uint64_t errors[API_ERR__COUNT];    /* problem responses, by status */
    /* Connections, and what libmicrohttpd refuses before on_request(). */
    _Atomic uint64_t conn_opened, conn_refused, http_errors;
    _Atomic int64_t conn_open;
    struct stream_bus *bus;     /* GET /v1/stream */
    struct webhook_sender *webhooks;    /* /metrics */
};

struct audit_job;

/* A request being read (libmicrohttpd's per-connection context). */
struct req {
    char *body;
    size_t len;
    int too_large;
    struct audit_job *job;          /* an audit verification under way */
};

struct call {
    struct api *a;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *body;
    size_t body_len;
    char param[64];                 /* the {…} of the route */
    struct store_token tok;         /* who */
    enum role role;
    int64_t scope;                  /* tenant, 0 = every tenant */
    uint32_t src_ip;
    struct req *rq;                 /* its per-connection context */
};

typedef int (*handler_fn)(struct call *c);

struct route {
    const char *method;
    const char *path;               /* one {param} segment at most */
    enum role need;
    handler_fn fn;
};

/* Responses: the document is consumed. */
int send_json(struct call *c, unsigned status, json_t *doc, const char *type);
int ok(struct call *c, json_t *doc);
/* An RFC 7807 problem+json error. */
int problem(struct call *c, unsigned status, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A query-string argument, or NULL. */
const char *arg(struct call *c, const char *name);
int parse_int(const char *s, long long min, long long max, long long *ret);
/* limit= (default API_LIST_DEFAULT); on bad input the problem is queued
 * and -1 returned with *ret set. */
int limit_arg(struct call *c, int *limit, int *ret);
/* limit= (default API_LIST_DEFAULT) and cursor= ("<letter><id>"; letter 0:
 * the list has no cursor); on bad input the problem is queued and -1
 * returned with *ret set. */
int page_args(struct call *c, char letter, int *limit, int64_t *cursor, int *ret);
/* An optional body {"reason": "..."} (at most CMD_REASON_MAX characters):
 * *ret_body (the caller frees; it holds *ret_reason) or NULL when there is
 * no body; on bad input the problem is queued and -1 returned with *ret. */
int reason_body(struct call *c, json_t **ret_body, const char **ret_reason, int *ret);
/* 9999-12-31T23:59:59.999Z: the latest time the API takes. */
#define API_TIME_MAX_MS 253402300799999LL
/* A time as the API takes it: milliseconds since the epoch (digits), or
 * RFC 3339 with its offset ("2024-06-01T12:00:00Z", fractions cut to the
 * millisecond; a space where the offset's '+' was, as an unencoded '+'
 * arrives).  0 and *ret_ms, or -1. */
int api_parse_time(const char *s, int64_t *ret_ms);
/* since= and until= (api_parse_time; the range is since <= ts < until):
 * *since 0 and *until INT64_MAX when absent.  On bad input, or since after
 * until, the problem is queued and -1 returned with *ret set. */
int time_args(struct call *c, int64_t *since, int64_t *until, int *ret);
/* A page: {"items": items, "next_cursor": "<letter><last>" when `more`,
 * else null}; items is consumed. */
int page_reply(struct call *c, json_t *items, int more, char letter, int64_t last);
/* The SIM of the path inside the caller's tenant, else 404 queued (-1). */
int find_sim(struct call *c, struct store_sim *s, int *ret);

/* Does url match the route pattern?  A {name} segment matches one
 * non-empty segment of [A-Za-z0-9._-] shorter than cap, copied to param. */
int api_route_match(const char *pattern, const char *url, char *param, size_t cap);

/* A command context (cmd/cmd.h) writing into memory, scoped to the
 * caller: begin, run the command, end (the text is then in out / err),
 * free. */
struct captured {
    struct cmd_ctx cc;
    char *out, *err;
    size_t outlen, errlen;
};
int capture_begin(struct call *c, struct captured *k);
void capture_end(struct captured *k);
void capture_free(struct captured *k);
/* A problem whose "errors" member lists the lines of `lines`. */
int problem_with_errors(struct call *c, unsigned status, const char *title,
                        const char *detail, const char *lines);

/* A SIM as the API shows it. */
json_t *sim_to_json(const struct store_sim *s);

/* Route handlers outside api.c. */
int h_alerts_list(struct call *c);
int h_alert_ack(struct call *c);
int h_alert_resolve(struct call *c);
int h_findings_list(struct call *c);
int h_actions_list(struct call *c);
int h_events_list(struct call *c);
int h_sim_sessions(struct call *c);
int h_sim_usage(struct call *c);
int h_metrics(struct call *c);
int h_tenants_list(struct call *c);
int h_tenant_create(struct call *c);
int h_groups_list(struct call *c);
int h_policy_get(struct call *c);
int h_policy_put(struct call *c);
int h_sims_import(struct call *c);
int h_sim_create(struct call *c);
int h_sim_patch(struct call *c);
int h_sim_delete(struct call *c);
int h_audit_list(struct call *c);
/* Suspends the connection and starts the walk in its own thread; the
 * request is answered by audit_verify_respond() once resumed. */
int h_audit_verify(struct call *c);
int audit_verify_respond(struct call *c, const struct audit_job *j);
void audit_job_free(struct audit_job *j);
/* Refuse new verifications, cancel and join a running one. */
void audit_verify_stop(struct api *a);
int h_webhooks_list(struct call *c);
int h_webhook_create(struct call *c);
int h_webhook_get(struct call *c);
int h_webhook_patch(struct call *c);
int h_webhook_delete(struct call *c);
int h_webhook_deliveries(struct call *c);
int h_webhook_ping(struct call *c);
int h_stream(struct call *c);

/* The live stream (api_stream.c). */
struct stream_bus;
int stream_bus_new(struct api *a, struct stream_bus **ret);
/* Stop taking events and end every stream (before MHD_stop_daemon). */
void stream_bus_close(struct stream_bus *b);
/* After MHD_stop_daemon. */
void stream_bus_free(struct stream_bus *b);
void stream_bus_get_stats(struct stream_bus *b, uint64_t *open, uint64_t *published,
                          uint64_t *sent, uint64_t *gaps);

#endif
