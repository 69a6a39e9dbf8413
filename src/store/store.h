/*
 * store.h — the store interface: the source of truth for inventory,
 * policies, findings, actions, alerts and the administrative log
 * (DESIGN.md §5).  The embedded backend is SQLite (store_sqlite.c); a
 * PostgreSQL backend will be a sibling file behind this same interface.
 *
 * Every row belongs to a tenant.  Every change to what the daemon holds in
 * memory (SIMs, groups, policies) stamps the row with a new revision from
 * one counter in the same transaction; the daemon loads `rev > last seen`
 * to apply changes without a restart and without missing one, whoever made
 * them (CLI, API, another process).
 *
 * Functions return 0 or a negative errno-style code; -ENOENT for "no such
 * row", -EEXIST for a uniqueness conflict.  The store does not log: the
 * last SQLite message is available from store_errmsg().  One struct store
 * per thread.
 */
#ifndef M2MG_STORE_H
#define M2MG_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_SCHEMA_VERSION 8

/* Open (creating the file and its directory's schema if needed). */
int store_open(const char *path, struct store **ret)
    __attribute__((warn_unused_result));
void store_close(struct store *s);
const char *store_errmsg(const struct store *s);
/* Bulk loading: a large page cache so index builds stay in memory. */
void store_bulk_mode(struct store *s);
/* PRAGMA user_version after migrations. */
int store_schema_version(struct store *s);

int store_begin(struct store *s);
/* Wait at most ms for a locked database (5000 by default). */
void store_busy_timeout(struct store *s, int ms);
/* Replace the busy timeout: cb(ctx, n) is called for the n-th retry of
 * a locked database; non-zero retries again. */
void store_busy_handler(struct store *s, int (*cb)(void *ctx, int n), void *ctx);
/* A read snapshot (BEGIN DEFERRED); end it with store_rollback(). */
int store_begin_read(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/* True inside a transaction (store_begin / store_begin_read). */
int store_in_transaction(struct store *s);
/* Take the next revision (inside a transaction). */
int64_t store_rev_next(struct store *s);
int64_t store_rev_current(struct store *s);

/* ---- tenants and groups ---- */
int store_tenant_find(struct store *s, const char *name, int64_t *ret_id);
int store_tenant_create(struct store *s, const char *name, int64_t *ret_id);
/* Find, creating when `create` is set. */
int store_tenant_ensure(struct store *s, const char *name, int create, int64_t *ret_id);
typedef int (*store_tenant_cb)(void *ctx, int64_t id, const char *name, int64_t sims);
int store_tenant_list(struct store *s, store_tenant_cb cb, void *ctx);
int store_tenant_name(struct store *s, int64_t id, char *out, size_t outlen);

struct store_group {
    int64_t id;
    int64_t tenant_id;
    char tenant[64];
    char name[64];
    int64_t policy_version;     /* 0: default policy */
    int64_t sims;
    int64_t rev;
};
int store_group_find(struct store *s, int64_t tenant_id, const char *name, int64_t *ret_id);
int store_group_create(struct store *s, int64_t tenant_id, const char *name, int64_t *ret_id);
int store_group_ensure(struct store *s, int64_t tenant_id, const char *name, int create,
                       int64_t *ret_id);
int store_group_get(struct store *s, int64_t id, struct store_group *ret);
typedef int (*store_group_cb)(void *ctx, const struct store_group *g, const char *policy_body);
/* tenant_id 0 = all.  The callback's non-zero result stops the walk and is returned. */
int store_group_list(struct store *s, int64_t tenant_id, store_group_cb cb, void *ctx);
int store_groups_changed(struct store *s, int64_t since_rev, store_group_cb cb, void *ctx);

/* ---- policies ---- */
/* Store a new version as the group's policy (body already validated). */
int store_policy_set(struct store *s, int64_t group_id, const char *body,
                     const char *actor, int64_t *ret_version);
/* The current body (caller frees) or -ENOENT when the group uses the default. */
int store_policy_get(struct store *s, int64_t group_id, char **ret_body, int64_t *ret_version);

/* ---- SIMs ---- */
struct store_sim {
    int64_t id;
    int64_t tenant_id;
    int64_t group_id;
    char tenant[64];
    char group[64];
    char iccid[23];
    char imsi[16];
    char msisdn[17];
    char imei[15];              /* bound IMEI (TAC+serial), "" if none */
    char imei_source[12];       /* import, learn, admin */
    uint32_t ip;                /* host order, 0 = none */
    int state;                  /* enum sim_state */
    int last_sv;                /* -1 unknown */
    int64_t rev;
    int64_t updated_at;
};
typedef int (*store_sim_cb)(void *ctx, const struct store_sim *sim);

struct store_sim_filter {
    int64_t tenant_id;          /* 0 = all */
    int64_t group_id;           /* 0 = all */
    int state;                  /* -1 = all */
    const char *text;           /* substring of ICCID, IMSI, MSISDN or IMEI; NULL = all */
    int64_t after_id;           /* cursor: ids greater than this */
    int limit;                  /* 0 = no limit */
};

/* Insert one SIM (import); -EEXIST with store_errmsg() naming the column. */
int store_sim_insert(struct store *s, const struct store_sim *sim, int64_t rev);
/* By ICCID or IMSI (whichever `key` is). */
int store_sim_find(struct store *s, const char *key, struct store_sim *ret);
int store_sim_list(struct store *s, const struct store_sim_filter *f, store_sim_cb cb, void *ctx);
int store_sims_changed(struct store *s, int64_t since_rev, store_sim_cb cb, void *ctx);
int store_sim_count(struct store *s, int64_t tenant_id, int64_t *ret);
/* Group, MSISDN, static IP and bound IMEI ("" unbinds, source "admin")
 * at once; bumps rev so the daemon reloads the SIM. */
int store_sim_update(struct store *s, int64_t sim_id, int64_t group_id, const char *msisdn,
                     uint32_t ip, const char *imei);
/* New state; bumps rev. */
int store_sim_set_state(struct store *s, int64_t sim_id, int state);
/* Bind an IMEI (14 digits) learned at attach or set by an admin; bumps rev
 * only when `bump` (the daemon's own learning does not need to reload). */
int store_sim_bind_imei(struct store *s, int64_t sim_id, const char *imei,
                        const char *source, int bump);
int store_sim_set_sv(struct store *s, int64_t sim_id, int sv);
/* Devices seen: upsert last_seen and software version. */
int store_device_seen(struct store *s, int64_t tenant_id, const char *imei,
                      const char *sv, int64_t now_ms);

/* ---- findings, actions, alerts ---- */
struct store_finding {
    int64_t tenant_id;
    int64_t ts_ms;
    int kind;                   /* enum finding_kind */
    int severity;
    int64_t sim_id;             /* 0 when no SIM (unknown SIM, NAS) */
    const char *subject;        /* ICCID, IMSI or client name */
    const char *evidence;       /* JSON object */
};
int store_finding_insert(struct store *s, const struct store_finding *f, int64_t *ret_id);
int store_action_insert(struct store *s, int64_t tenant_id, int64_t ts_ms,
                        int64_t finding_id, const char *kind, const char *target,
                        const char *outcome, const char *detail);
/* One open (not resolved) alert per tenant, kind and subject: raise or count. */
int store_alert_raise(struct store *s, const struct store_finding *f, int64_t finding_id,
                      int64_t *ret_alert_id);

struct store_alert {
    int64_t id;
    int64_t tenant_id;
    char tenant[64];
    char kind[32];
    char subject[64];
    char severity[12];
    char state[16];
    int64_t count;
    int64_t first_ms;
    int64_t last_ms;
    char acked_by[64];
    char evidence[512];         /* of the last finding, truncated */
};
typedef int (*store_alert_cb)(void *ctx, const struct store_alert *a);
/* state NULL = open and acknowledged; "all" = every state. */
int store_alert_list(struct store *s, int64_t tenant_id, const char *state, int limit,
                     store_alert_cb cb, void *ctx);
/* Pages for the API: newest alert first, ids below before_id (0: from the top). */
int store_alert_page(struct store *s, int64_t tenant_id, const char *state, int64_t before_id,
                     int limit, store_alert_cb cb, void *ctx);
/* "acknowledged" or "resolved"; -ENOENT if no such alert, -EALREADY if resolved. */
int store_alert_set_state(struct store *s, int64_t id, const char *state, const char *actor,
                          int64_t *ret_tenant_id);

struct store_finding_row {
    int64_t id;
    int64_t ts_ms;
    char tenant[64];
    char kind[32];
    char severity[12];
    char subject[64];
    char evidence[1024];
};
typedef int (*store_finding_cb)(void *ctx, const struct store_finding_row *f);
int store_finding_list(struct store *s, int64_t tenant_id, int64_t after_id, int limit,
                       store_finding_cb cb, void *ctx);

struct store_action_row {
    int64_t id;
    int64_t ts_ms;
    int64_t finding_id;         /* 0: none (an administrator's command) */
    char tenant[64];
    char kind[16];              /* reject, disconnect, suspend, restrict, ... */
    char target[64];            /* ICCID, IMSI, client */
    char outcome[16];           /* taken, done, sent, ack, nak, timeout, failed */
    char detail[1024];
};
typedef int (*store_action_cb)(void *ctx, const struct store_action_row *a);
/* Oldest first after after_id; kind / target NULL = any. */
int store_action_list(struct store *s, int64_t tenant_id, int64_t after_id, const char *kind,
                      const char *target, int limit, store_action_cb cb, void *ctx);

/* ---- accounting (sessions, usage, acknowledged records) ---- */
#define STORE_SESSION_ID_MAX 128    /* Acct-Session-Id bytes kept (RFC 2866 allows 253) */

struct store_session {
    int64_t id;                 /* 0 until first saved */
    int64_t tenant_id;
    int64_t sim_id;             /* 0: IMSI not provisioned */
    char nas[64];
    uint32_t nas_ip;            /* host order: where Disconnect-Requests go */
    char acct_session_id[STORE_SESSION_ID_MAX + 1];
    char imsi[16];
    char imei[17];
    uint32_t framed_ip;         /* host order */
    char plmn[8];
    int rat;
    int64_t area, cell;
    uint32_t interim;           /* seconds, for stale detection */
    int64_t started_ms, updated_ms, stopped_ms;
    uint64_t in_octets, out_octets;     /* totals counted (sum of deltas) */
    uint64_t last_in, last_out;         /* last cumulative counters seen */
    uint32_t last_time;                 /* last Acct-Session-Time seen */
    int open;
    char close_reason[24];
    uint32_t usage_fired;       /* memory only: session thresholds reported */
    int stored;                 /* memory only: its row is in the sessions table */
    int dirty;                  /* memory only: changed since the row was written */
    uint64_t undo_batch;        /* memory only: the accounting batch that logged it */
    char dm_cause[32];          /* memory only: why the last Disconnect-Request was sent */
};
typedef int (*store_session_cb)(void *ctx, const struct store_session *ss);

/* Commits wait for the disk (synchronous=FULL): what is acknowledged is
 * durable.  Also a 128 MiB page cache (sessions and usage rows are all over
 * the file). */
void store_durable(struct store *s);
/* This connection never copies the WAL back itself (see checkpointer.h):
 * after each commit it calls cb(ctx, frames now in the WAL). */
void store_manual_checkpoints(struct store *s, void (*cb)(void *ctx, int wal_pages), void *ctx);
/* Copy the WAL into the database.  PASSIVE never waits for a writer (but
 * under a steady stream of commits never finishes either, so the WAL would
 * never start over); RESTART waits for the writer, copies the rest and makes
 * the next commit write the WAL from its start; TRUNCATE also empties the
 * file.  *wal_pages and *copied: frames in the WAL, frames copied. */
enum store_ckpt { STORE_CKPT_PASSIVE, STORE_CKPT_RESTART, STORE_CKPT_TRUNCATE };
int store_checkpoint(struct store *s, enum store_ckpt mode, int *wal_pages, int *copied);
/* Write a session's row: INSERT when !ss->stored (with ss->id, or a new id
 * when 0, set in ss->id), else UPDATE (an open session's update touches
 * no indexed column).  The caller sets ss->stored once committed. */
int store_session_save(struct store *s, struct store_session *ss);
/* Add a usage delta to the SIM's day ("YYYY-MM-DD", UTC). */
int store_usage_add(struct store *s, int64_t tenant_id, int64_t sim_id, const char *day,
                    uint64_t in, uint64_t out);
/* A SIM's usage per day from `from_day` ("YYYY-MM-DD") on, oldest first. */
typedef int (*store_usage_day_cb)(void *ctx, const char *day, uint64_t in, uint64_t out);
int store_usage_days(struct store *s, int64_t sim_id, const char *from_day,
                     store_usage_day_cb cb, void *ctx);
/* A SIM's usage today and this month ("YYYY-MM"); zeros when none. */
int store_usage_get(struct store *s, int64_t sim_id, const char *day, const char *month,
                    uint64_t ret[4]);
/*
 * The accounting log: every acknowledged record as the NAS sent it, with the
 * usage it counted and the state of its session afterwards.  The sessions
 * and usage_daily tables are written from memory every second or so; the
 * log rows after the mark (store_acct_mark_get) redo what they miss after a
 * crash.  *id: the new row's id.
 */
struct store_acct_log {
    int64_t ts_ms;
    const char *nas, *sid, *imsi;       /* as received (sid, imsi may be "") */
    int status;
    uint64_t in, out;                   /* cumulative counters as received */
    uint32_t session_time;
    const struct store_session *s;      /* the session after it, or NULL */
    uint64_t d_in, d_out;               /* usage counted from it */
};
int store_acct_log(struct store *s, const struct store_acct_log *l, int64_t *id);
/* A row of the log after the mark, for the redo at start: the session
 * snapshot (id 0 when the record had none), the usage it counted, and
 * whether the session's row exists in the table (and is closed). */
struct store_acct_redo {
    int64_t log_id, ts_ms;
    struct store_session s;
    uint64_t d_in, d_out;
    int row_exists, row_closed;
};
typedef int (*store_acct_redo_cb)(void *ctx, const struct store_acct_redo *r);
int store_acct_redo(struct store *s, int64_t after_id, store_acct_redo_cb cb, void *ctx);
/* The usage_burst detector's state of one SIM (-ENOENT: none yet). */
struct store_burst {
    int64_t hour;               /* hours since the epoch (UTC) of hour_bytes */
    uint64_t hour_bytes;        /* up + down in that hour so far */
    double baseline;            /* moving mean of the SIM's hourly bytes */
    uint32_t hours;             /* hours of history in the mean */
    int fired;                  /* usage_burst already raised in `hour` */
};
int store_burst_get(struct store *s, int64_t sim_id, struct store_burst *b);
int store_burst_put(struct store *s, int64_t sim_id, const struct store_burst *b);
/* The log row up to which sessions and usage_daily are written. */
int store_acct_mark_get(struct store *s, int64_t *log_id);
int store_acct_mark_set(struct store *s, int64_t log_id);
/* Retention of the log: the first row's id and time (-ENOENT: empty), the
 * time of the first row at or after `id`, and deleting ids [lo, hi). */
int store_acct_first(struct store *s, int64_t *id, int64_t *ts_ms);
int store_acct_ts_at(struct store *s, int64_t id, int64_t *found_id, int64_t *ts_ms);
int store_acct_delete(struct store *s, int64_t lo, int64_t hi);
/* The highest session id in the sessions table; the highest log id. */
int store_acct_max_ids(struct store *s, int64_t *session_id, int64_t *log_id);
/* A SIM's sessions, newest first (at most `limit`). */
int store_sessions_of_sim(struct store *s, int64_t sim_id, int limit, store_session_cb cb,
                          void *ctx);
/* Every open session, and the closed ones that stopped after since_ms (start). */
int store_sessions_load(struct store *s, int64_t since_ms, store_session_cb cb, void *ctx);

/* ---- API tokens ---- */
struct store_token {
    int64_t id;
    int64_t tenant_id;          /* 0: platform (role platform-admin) */
    char tenant[64];            /* "" for platform */
    char name[64];
    char role[16];
    uint8_t secret_sha256[32];
    int64_t created_at, expires_at, revoked_at, last_used_at;   /* s; 0 = none */
    char created_by[96];
};
int store_token_insert(struct store *s, const struct store_token *t, int64_t *ret_id);
int store_token_get(struct store *s, int64_t id, struct store_token *ret);
typedef int (*store_token_cb)(void *ctx, const struct store_token *t);
/* tenant_id -1: all. */
int store_token_list(struct store *s, int64_t tenant_id, store_token_cb cb, void *ctx);
int store_token_revoke(struct store *s, int64_t id, int64_t now_s);
int store_token_used(struct store *s, int64_t id, int64_t now_s);

/* ---- administrative log and the audit chain (audit/audit.h) ---- */
/* An admin_log row and its audit chain record, in the caller's transaction. */
int store_admin_log(struct store *s, int64_t tenant_id, const char *actor,
                    const char *action, const char *target, const char *detail);
/* The same with the actor's role, when the caller knows it (API tokens). */
int store_admin_log_role(struct store *s, int64_t tenant_id, const char *actor,
                         const char *role, const char *action, const char *target,
                         const char *detail);

/* One record of the audit chain as stored; body is valid during a callback. */
struct store_audit_row {
    int64_t seq;
    int64_t ts_ms;
    int64_t tenant_id;
    char kind[16];              /* admin, action */
    const char *body;           /* the canonical encoding the hash covers */
    char prev_hash[65];         /* hex */
    char hash[65];
};
typedef int (*store_audit_cb)(void *ctx, const struct store_audit_row *r);
/* The last record's seq and hash; -ENOENT when the chain is empty. */
int store_audit_last(struct store *s, int64_t *ret_seq, char ret_hash[65]);
/* Insert a record and advance the appended count (inside a transaction). */
int store_audit_insert(struct store *s, const struct store_audit_row *r);
/* Records in seq order; tenant_id 0 = all; limit > 0: only the last `limit`.
 * A callback's non-zero result stops the walk and is returned. */
int store_audit_walk(struct store *s, int64_t tenant_id, int limit, store_audit_cb cb,
                     void *ctx);
/* The seq of a record other than exclude_seq whose hash is `hash` (-ENOENT). */
int store_audit_find_hash(struct store *s, const char *hash, int64_t exclude_seq,
                          int64_t *ret_seq);
/* How many records m2mguard appended (the head seq it last wrote). */
int store_audit_expected(struct store *s, int64_t *ret_seq);

/* ---- webhooks and their outbox (out/webhook.h) ---- */
#define STORE_WEBHOOKS_PER_TENANT 16
struct store_webhook {
    int64_t id;
    int64_t tenant_id;
    char tenant[64];
    char url[1024];
    char events[256];           /* filter: "*", "finding", "action.disconnect", … (comma list) */
    int min_severity;           /* events below it are not sent (enum severity; an
                                 * action has its finding's, an outcome notice) */
    char secret[64];            /* the HMAC key; kept because signing needs it */
    int enabled;
    int64_t pending;            /* outbox rows not yet delivered or given up */
    int64_t dropped;            /* events not queued: outbox full */
    int64_t created_at;         /* s */
    char created_by[96];
};
int store_webhook_insert(struct store *s, const struct store_webhook *w, int64_t *ret_id);
int store_webhook_get(struct store *s, int64_t id, struct store_webhook *ret);
typedef int (*store_webhook_cb)(void *ctx, const struct store_webhook *w);
/* tenant_id 0: every tenant. */
int store_webhook_list(struct store *s, int64_t tenant_id, store_webhook_cb cb, void *ctx);
int store_webhook_count(struct store *s, int64_t tenant_id, int64_t *ret);
/* url, events, min_severity, enabled and secret of w->id. */
int store_webhook_update(struct store *s, const struct store_webhook *w);
/* The webhook and its outbox. */
int store_webhook_delete(struct store *s, int64_t id);

/* An event for a tenant's webhooks (inside the caller's transaction). */
struct store_webhook_event {
    int64_t tenant_id;
    int64_t ts_ms;
    const char *type;           /* finding, action, ping */
    const char *kind;           /* the finding kind or action */
    int severity;
    const char *body;           /* JSON */
    int64_t only_webhook;       /* > 0: this webhook alone (ping) */
};
/* One outbox row for each enabled webhook of the tenant whose filter
 * takes the event; a webhook with max_pending rows waiting gets none
 * (its `dropped` counts it).  *queued / *dropped: how many. */
int store_webhook_enqueue(struct store *s, const struct store_webhook_event *e,
                          int64_t max_pending, int *queued, int *dropped);

/* One delivery: an outbox row.  body is valid during a callback only. */
struct store_delivery {
    int64_t id;
    int64_t webhook_id;
    int64_t tenant_id;
    int64_t created_ms;
    char event[48];             /* type.kind */
    const char *body;
    char state[12];             /* pending, delivered, failed */
    int attempts;
    int64_t next_ms;
    int last_status;            /* HTTP status of the last attempt, 0: none */
    char last_error[160];
    int64_t done_ms;            /* delivered or given up */
};
typedef int (*store_delivery_cb)(void *ctx, const struct store_delivery *d);
/* Claim up to `limit` due deliveries (next_ms <= now_ms) of enabled
 * webhooks, oldest first: their next_ms becomes lease_ms, so that a crash
 * in the middle only delays them.  Commits on its own. */
int store_delivery_claim(struct store *s, int64_t now_ms, int64_t lease_ms, int limit,
                         store_delivery_cb cb, void *ctx);
/* When the next pending delivery is due; -ENOENT when none is. */
int store_delivery_next_due(struct store *s, int64_t *ret_ms);
/* An attempt's outcome: state, attempts, next_ms, last_status, last_error,
 * done_ms of d->id; a row leaving 'pending' leaves its webhook's count. */
int store_delivery_result(struct store *s, const struct store_delivery *d);
/* A webhook's deliveries, newest first, id < before_id (0: from the
 * newest); state NULL: all. */
int store_delivery_list(struct store *s, int64_t webhook_id, const char *state,
                        int64_t before_id, int limit, store_delivery_cb cb, void *ctx);
/* Delete delivered and failed rows finished before before_ms (at most
 * `limit`); *deleted: how many. */
int store_delivery_prune(struct store *s, int64_t before_ms, int limit, int *deleted);

#endif
