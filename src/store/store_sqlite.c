/*
 * store_sqlite.c — the embedded SQLite backend of store.h.
 *
 * WAL mode, synchronous=NORMAL for inventory and findings (a crash may lose
 * the last few findings but never corrupts), foreign keys on, a busy
 * timeout so the CLI and the daemon can write the same file.  The schema
 * is versioned with PRAGMA user_version and upgraded by the ordered list
 * of migrations below, each in its own transaction.
 *
 * Prepared statements are cached per connection (one per thread), so the
 * journal writer's per-finding inserts cost no re-parsing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "audit/audit.h"
#include "engine/model.h"
#include "store/store.h"
#include "store/sqlite_internal.h"

static const char *const migrations[] = {
    /* 1: the access plane's inventory, policies, findings, actions, alerts. */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO meta VALUES ('rev', 0);"
    "CREATE TABLE tenants ("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL);"
    "INSERT INTO tenants (name, created_at) VALUES ('platform', strftime('%s','now'));"
    "CREATE TABLE groups ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  name TEXT NOT NULL, policy_id INTEGER REFERENCES policies(id),"
    "  rev INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    "  UNIQUE (tenant_id, name));"
    "CREATE INDEX groups_rev ON groups(rev);"
    "CREATE TABLE policies ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  group_id INTEGER NOT NULL REFERENCES groups(id), version INTEGER NOT NULL,"
    "  body TEXT NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,"
    "  UNIQUE (group_id, version));"
    "CREATE TABLE sims ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  group_id INTEGER NOT NULL REFERENCES groups(id),"
    "  iccid TEXT NOT NULL UNIQUE, imsi TEXT NOT NULL UNIQUE, msisdn TEXT,"
    "  ip INTEGER UNIQUE, imei TEXT, imei_source TEXT,"
    "  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2),"
    "  last_sv INTEGER, rev INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX sims_rev ON sims(rev);"
    "CREATE INDEX sims_group ON sims(group_id);"
    "CREATE INDEX sims_tenant ON sims(tenant_id, id);"
    "CREATE TABLE devices ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  imei TEXT NOT NULL, tac TEXT NOT NULL, software_version TEXT,"
    "  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    "  UNIQUE (tenant_id, imei));"
    "CREATE TABLE findings ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  ts INTEGER NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,"
    "  sim_id INTEGER, subject TEXT NOT NULL, evidence TEXT NOT NULL);"
    "CREATE INDEX findings_tenant ON findings(tenant_id, id);"
    "CREATE TABLE actions ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  ts INTEGER NOT NULL, finding_id INTEGER REFERENCES findings(id),"
    "  kind TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT);"
    "CREATE TABLE alerts ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  kind TEXT NOT NULL, subject TEXT NOT NULL, sim_id INTEGER,"
    "  severity TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'open'"
    "    CHECK (state IN ('open','acknowledged','resolved')),"
    "  count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    "  last_finding_id INTEGER, acked_by TEXT, acked_at INTEGER,"
    "  resolved_by TEXT, resolved_at INTEGER);"
    "CREATE UNIQUE INDEX alerts_open ON alerts(tenant_id, kind, subject)"
    "  WHERE state != 'resolved';"
    "CREATE TABLE admin_log ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
    "  target TEXT NOT NULL, detail TEXT);",
    /* 2: accounting — sessions, daily usage, and every acknowledged record. */
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  sim_id INTEGER, nas TEXT NOT NULL, acct_session_id TEXT NOT NULL,"
    "  imsi TEXT NOT NULL, imei TEXT, framed_ip INTEGER, plmn TEXT, rat INTEGER,"
    "  area INTEGER, cell INTEGER, interim INTEGER NOT NULL,"
    "  started_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, stopped_ms INTEGER,"
    "  in_octets INTEGER NOT NULL, out_octets INTEGER NOT NULL,"
    "  last_in INTEGER NOT NULL, last_out INTEGER NOT NULL, last_time INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('open','closed')), close_reason TEXT);"
    "CREATE UNIQUE INDEX sessions_open ON sessions(nas, acct_session_id) WHERE state = 'open';"
    "CREATE INDEX sessions_sim ON sessions(sim_id, id);"
    "CREATE TABLE usage_daily ("
    "  sim_id INTEGER NOT NULL, day TEXT NOT NULL, tenant_id INTEGER NOT NULL,"
    "  in_octets INTEGER NOT NULL, out_octets INTEGER NOT NULL,"
    "  PRIMARY KEY (sim_id, day));"
    "CREATE TABLE acct_records ("
    "  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, nas TEXT NOT NULL,"
    "  acct_session_id TEXT, status INTEGER NOT NULL, imsi TEXT,"
    "  in_octets INTEGER, out_octets INTEGER, session_time INTEGER);",
    /* 3: where to send Disconnect-Requests; recently closed sessions at start. */
    "ALTER TABLE sessions ADD COLUMN nas_ip INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX sessions_stopped ON sessions(stopped_ms);",
    /* 4: daily usage as one B-tree (no rowid table beside the key). */
    "CREATE TABLE usage_daily_new ("
    "  sim_id INTEGER NOT NULL, day TEXT NOT NULL, tenant_id INTEGER NOT NULL,"
    "  in_octets INTEGER NOT NULL, out_octets INTEGER NOT NULL,"
    "  PRIMARY KEY (sim_id, day)) WITHOUT ROWID;"
    "INSERT INTO usage_daily_new SELECT sim_id, day, tenant_id, in_octets, out_octets"
    "  FROM usage_daily;"
    "DROP TABLE usage_daily;"
    "ALTER TABLE usage_daily_new RENAME TO usage_daily;"
    /* ...and the accounting log carries what its record did (the usage
     * counted, the session after it), so that sessions and usage_daily can
     * be written every second instead of every record: after a crash the
     * log rows past 'acct_flushed' are redone. */
    "ALTER TABLE acct_records ADD COLUMN session_id INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN d_in INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE acct_records ADD COLUMN d_out INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE acct_records ADD COLUMN s_tenant_id INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_sim_id INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_imsi TEXT;"
    "ALTER TABLE acct_records ADD COLUMN s_imei TEXT;"
    "ALTER TABLE acct_records ADD COLUMN s_framed_ip INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_plmn TEXT;"
    "ALTER TABLE acct_records ADD COLUMN s_rat INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_area INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_cell INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_interim INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_started_ms INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_in INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_out INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_last_in INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_last_out INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_last_time INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_nas_ip INTEGER;"
    "ALTER TABLE acct_records ADD COLUMN s_open INTEGER;"
    "INSERT OR REPLACE INTO meta VALUES ('acct_flushed',"
    "  (SELECT coalesce(max(id), 0) FROM acct_records));",
    /* 5: the usage_burst detector's state per SIM: this hour's bytes and
     * the moving mean of its hourly bytes. */
    "CREATE TABLE usage_burst ("
    "  sim_id INTEGER PRIMARY KEY, hour INTEGER NOT NULL, hour_bytes INTEGER NOT NULL,"
    "  baseline REAL NOT NULL, hours INTEGER NOT NULL, fired INTEGER NOT NULL);",
    /* 6: API tokens: only the SHA-256 of the secret is kept. */
    "CREATE TABLE api_tokens ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER REFERENCES tenants(id),"
    "  name TEXT NOT NULL, role TEXT NOT NULL"
    "    CHECK (role IN ('platform-admin','admin','operator','viewer')),"
    "  secret_sha256 BLOB NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,"
    "  expires_at INTEGER, revoked_at INTEGER, last_used_at INTEGER);"
    "CREATE INDEX api_tokens_tenant ON api_tokens(tenant_id, id);",
    /* 7: the audit chain (audit/chain.c): every administrative change and
     * enforcement action, hash-chained.  No foreign key on tenant_id: the
     * trail outlives what it describes.  meta 'audit_seq' counts what was
     * appended, so that records deleted from the end are noticed too.
     * admin_log rows from before this version are not chained. */
    "CREATE TABLE audit_chain ("
    "  seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, tenant_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX audit_chain_hash ON audit_chain(hash);"
    "CREATE INDEX audit_chain_tenant ON audit_chain(tenant_id, seq);"
    "INSERT INTO meta VALUES ('audit_seq', 0);",
    /* 8: webhooks (out/webhook.h) and their durable outbox: one row per
     * event and webhook, written in the transaction that stores the event.
     * `pending` counts the webhook's undelivered rows (outbox limit). */
    "CREATE TABLE webhooks ("
    "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    "  url TEXT NOT NULL, events TEXT NOT NULL, min_severity INTEGER NOT NULL DEFAULT 0,"
    "  secret TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
    "  pending INTEGER NOT NULL DEFAULT 0, dropped INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, created_by TEXT NOT NULL);"
    "CREATE INDEX webhooks_tenant ON webhooks(tenant_id, id);"
    "CREATE TABLE webhook_outbox ("
    "  id INTEGER PRIMARY KEY, webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
    "  tenant_id INTEGER NOT NULL, created_ms INTEGER NOT NULL, event TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL,"
    "  last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
    "  done_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX webhook_outbox_due ON webhook_outbox(next_ms) WHERE state = 'pending';"
    "CREATE INDEX webhook_outbox_hook ON webhook_outbox(webhook_id, id);"
    "CREATE INDEX webhook_outbox_done ON webhook_outbox(done_ms) WHERE state != 'pending';",
    /* 9: GET /v1/events reads findings and actions by time range. */
    "CREATE INDEX findings_ts ON findings(ts);"
    "CREATE INDEX actions_ts ON actions(ts);",
};

enum stmt_id {
    ST_REV_NEXT, ST_REV_GET,
    ST_TENANT_FIND, ST_TENANT_INSERT, ST_TENANT_NAME,
    ST_GROUP_FIND, ST_GROUP_INSERT,
    ST_SIM_INSERT, ST_SIM_NEXT_ID, ST_SIM_STATE, ST_SIM_BIND, ST_SIM_BIND_NOREV, ST_SIM_SV,
    ST_DEVICE_SEEN,
    ST_FINDING_INSERT, ST_ACTION_INSERT, ST_ALERT_UPDATE, ST_ALERT_INSERT,
    ST_ADMIN_LOG,
    ST_SESSION_INSERT, ST_SESSION_UPDATE, ST_SESSION_TOUCH, ST_USAGE_ADD, ST_USAGE_GET, ST_ACCT_RECORD, ST_META_GET, ST_META_SET, ST_ACCT_TS_AT, ST_ACCT_DELETE, ST_BURST_GET, ST_BURST_PUT,
    ST__COUNT,
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_REV_NEXT] = "UPDATE meta SET value = value + 1 WHERE key = 'rev' RETURNING value",
    [ST_REV_GET] = "SELECT value FROM meta WHERE key = 'rev'",
    [ST_TENANT_FIND] = "SELECT id FROM tenants WHERE name = ?1",
    [ST_TENANT_INSERT] = "INSERT INTO tenants (name, created_at) VALUES (?1, ?2)",
    [ST_TENANT_NAME] = "SELECT name FROM tenants WHERE id = ?1",
    [ST_GROUP_FIND] = "SELECT id FROM groups WHERE tenant_id = ?1 AND name = ?2",
    [ST_GROUP_INSERT] = "INSERT INTO groups (tenant_id, name, rev, created_at) VALUES (?1, ?2, ?3, ?4)",
    [ST_SIM_INSERT] = "INSERT INTO sims (tenant_id, group_id, iccid, imsi, msisdn, ip, imei,"
                      " imei_source, state, rev, updated_at, id)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    /* Never an id a deleted SIM had (store_sim_delete): SQLite would give
     * the highest one again once its row is gone. */
    [ST_SIM_NEXT_ID] = "SELECT max(coalesce((SELECT max(id) FROM sims), 0),"
                       " coalesce((SELECT value FROM meta WHERE key = 'sims_deleted_max'), 0)) + 1",
    [ST_SIM_STATE] = "UPDATE sims SET state = ?2, rev = ?3, updated_at = ?4 WHERE id = ?1",
    [ST_SIM_BIND] = "UPDATE sims SET imei = ?2, imei_source = ?3, rev = ?4, updated_at = ?5 WHERE id = ?1",
    [ST_SIM_BIND_NOREV] = "UPDATE sims SET imei = ?2, imei_source = ?3, updated_at = ?5 WHERE id = ?1",
    [ST_SIM_SV] = "UPDATE sims SET last_sv = ?2 WHERE id = ?1",
    [ST_DEVICE_SEEN] = "INSERT INTO devices (tenant_id, imei, tac, software_version, first_seen, last_seen)"
                       " VALUES (?1, ?2, substr(?2, 1, 8), ?3, ?4, ?4)"
                       " ON CONFLICT (tenant_id, imei) DO UPDATE SET last_seen = ?4,"
                       " software_version = coalesce(?3, software_version)",
    [ST_FINDING_INSERT] = "INSERT INTO findings (tenant_id, ts, kind, severity, sim_id, subject, evidence)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_ACTION_INSERT] = "INSERT INTO actions (tenant_id, ts, finding_id, kind, target, outcome, detail)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_ALERT_UPDATE] = "UPDATE alerts SET count = count + 1, last_seen = ?4, last_finding_id = ?5,"
                        " severity = CASE WHEN ?6 > (CASE severity WHEN 'info' THEN 0 WHEN 'notice' THEN 1"
                        " WHEN 'warning' THEN 2 ELSE 3 END) THEN ?7 ELSE severity END"
                        " WHERE tenant_id = ?1 AND kind = ?2 AND subject = ?3 AND state != 'resolved'"
                        " RETURNING id",
    [ST_ALERT_INSERT] = "INSERT INTO alerts (tenant_id, kind, subject, sim_id, severity, count,"
                        " first_seen, last_seen, last_finding_id) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?7)",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (tenant_id, sim_id, nas, acct_session_id, imsi, imei,"
                          " framed_ip, plmn, rat, area, cell, interim, started_ms, updated_ms, stopped_ms,"
                          " in_octets, out_octets, last_in, last_out, last_time, state, close_reason, nas_ip,"
                          " id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                          " ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?24, ?23)",
    [ST_SESSION_UPDATE] = "UPDATE sessions SET tenant_id = ?1, sim_id = ?2, imei = ?6, framed_ip = ?7,"
                          " plmn = ?8, rat = ?9, area = ?10, cell = ?11, interim = ?12, updated_ms = ?14,"
                          " stopped_ms = ?15, in_octets = ?16, out_octets = ?17, last_in = ?18,"
                          " last_out = ?19, last_time = ?20, state = ?21, close_reason = ?22, nas_ip = ?24"
                          " WHERE id = ?23",
    /* An open session's update: no indexed column, so only its row's page
     * is written (the hot path of every Interim-Update). */
    [ST_SESSION_TOUCH] = "UPDATE sessions SET imei = ?6, framed_ip = ?7, plmn = ?8, rat = ?9,"
                         " area = ?10, cell = ?11, updated_ms = ?14, in_octets = ?16,"
                         " out_octets = ?17, last_in = ?18, last_out = ?19, last_time = ?20,"
                         " nas_ip = ?24 WHERE id = ?23",
    /* Only for a SIM that exists: the sessions of a deleted one may still
     * report usage until their NAS lets them go. */
    [ST_USAGE_ADD] = "INSERT INTO usage_daily (sim_id, day, tenant_id, in_octets, out_octets)"
                     " SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM sims WHERE id = ?1)"
                     " ON CONFLICT (sim_id, day) DO UPDATE SET"
                     " in_octets = in_octets + ?4, out_octets = out_octets + ?5",
    [ST_USAGE_GET] = "SELECT coalesce(sum(CASE WHEN day = ?2 THEN in_octets END), 0),"
                     " coalesce(sum(CASE WHEN day = ?2 THEN out_octets END), 0),"
                     " coalesce(sum(in_octets), 0), coalesce(sum(out_octets), 0)"
                     " FROM usage_daily WHERE sim_id = ?1 AND day BETWEEN ?3 || '-01' AND ?3 || '-31'",
    [ST_ACCT_RECORD] = "INSERT INTO acct_records (ts, nas, acct_session_id, status, imsi, in_octets,"
                       " out_octets, session_time, session_id, d_in, d_out, s_tenant_id, s_sim_id,"
                       " s_imsi, s_imei, s_framed_ip, s_plmn, s_rat, s_area, s_cell, s_interim,"
                       " s_started_ms, s_in, s_out, s_last_in, s_last_out, s_last_time, s_nas_ip,"
                       " s_open) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                       " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_ACCT_TS_AT] = "SELECT id, ts FROM acct_records WHERE id >= ?1 ORDER BY id LIMIT 1",
    [ST_ACCT_DELETE] = "DELETE FROM acct_records WHERE id >= ?1 AND id < ?2",
    [ST_BURST_GET] = "SELECT hour, hour_bytes, baseline, hours, fired FROM usage_burst"
                     " WHERE sim_id = ?1",
    [ST_BURST_PUT] = "INSERT OR REPLACE INTO usage_burst (sim_id, hour, hour_bytes, baseline,"
                     " hours, fired) SELECT ?1, ?2, ?3, ?4, ?5, ?6"
                     " WHERE EXISTS (SELECT 1 FROM sims WHERE id = ?1)",
    [ST_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
    [ST_ADMIN_LOG] = "INSERT INTO admin_log (tenant_id, ts, actor, action, target, detail)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

struct store {
    sqlite3 *db;
    int64_t sim_next_id;        /* in a transaction: the next SIM's id (0: not read yet) */
    void (*wal_cb)(void *ctx, int wal_pages);
    void *wal_ctx;
    sqlite3_stmt *st[ST__COUNT];
    sqlite3_stmt *xst[STORE_XSTMT_MAX];     /* store_cached() */
    char err[256];
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SQLite's message for a file it cannot write does not say why: the
 * operating system's reason goes with it (store_open() explains a file it
 * could only open read-only). */
static void fail_message(struct store *s, int rc)
{
    int sys = sqlite3_system_errno(s->db);
    int prim = rc & 0xff;
    if (sys != 0 && (prim == SQLITE_IOERR || prim == SQLITE_FULL))
        snprintf(s->err, sizeof s->err, "%s (%s)", sqlite3_errmsg(s->db), strerror(sys));
    else
        snprintf(s->err, sizeof s->err, "%s", sqlite3_errmsg(s->db));
}

static int fail(struct store *s, int rc)
{
    fail_message(s, rc);
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return -EEXIST;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_READONLY: return -EROFS;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_CANTOPEN: return -EACCES;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return -EBADMSG;
    default: return -EIO;
    }
}

const char *store_errmsg(const struct store *s)
{
    return s->err;
}

/* A text column into a fixed buffer ("" for NULL), truncated to fit. */
static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

static sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
    if (!s->st[id]) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->st[id], NULL) != SQLITE_OK) {
            snprintf(s->err, sizeof s->err, "%s", sqlite3_errmsg(s->db));
            return NULL;
        }
    }
    sqlite3_reset(s->st[id]);
    sqlite3_clear_bindings(s->st[id]);
    return s->st[id];
}

static int exec(struct store *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(s->err, sizeof s->err, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return fail(s, rc) == -EIO ? -EIO : fail(s, rc);
    }
    return 0;
}

/* Run a statement expecting no row (or ignoring rows). */
static int step_done(struct store *s, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        int r = fail(s, rc);
        sqlite3_reset(st);
        return r;
    }
    sqlite3_reset(st);
    return 0;
}

/* ---- for the store's other files (sqlite_internal.h) ---- */

sqlite3 *store_db(struct store *s)
{
    return s->db;
}

int store_fail(struct store *s, int rc)
{
    return fail(s, rc);
}

int store_step_done(struct store *s, sqlite3_stmt *st)
{
    return step_done(s, st);
}

void store_copy_col(char *dst, size_t cap, sqlite3_stmt *st, int i)
{
    copy_col(dst, cap, st, i);
}

sqlite3_stmt *store_cached(struct store *s, int slot, const char *sql)
{
    if (!s->xst[slot] &&
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->xst[slot], NULL) !=
            SQLITE_OK) {
        snprintf(s->err, sizeof s->err, "%s", sqlite3_errmsg(s->db));
        return NULL;
    }
    sqlite3_reset(s->xst[slot]);
    sqlite3_clear_bindings(s->xst[slot]);
    return s->xst[slot];
}

int store_schema_version(struct store *s)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int migrate(struct store *s)
{
    int have = store_schema_version(s);
    int want = (int)(sizeof migrations / sizeof migrations[0]);
    if (have < 0)
        return -EIO;
    if (have > want) {
        snprintf(s->err, sizeof s->err,
                 "database schema version %d is newer than this program's %d", have, want);
        return -EPROTO;
    }
    for (int v = have; v < want; v++) {
        char pragma[64];
        int r = exec(s, "BEGIN IMMEDIATE");
        if (r < 0)
            return r;
        /* Another process may have migrated meanwhile. */
        if (store_schema_version(s) > v) {
            exec(s, "COMMIT");
            continue;
        }
        if ((r = exec(s, migrations[v])) < 0) {
            char why[200];
            snprintf(why, sizeof why, "%.199s", s->err);
            exec(s, "ROLLBACK");
            snprintf(s->err, sizeof s->err, "migration to version %d failed: %s", v + 1, why);
            return r;
        }
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if ((r = exec(s, pragma)) < 0 || (r = exec(s, "COMMIT")) < 0) {
            exec(s, "ROLLBACK");
            return r;
        }
    }
    return 0;
}

int store_open(const char *path, struct store **ret)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        int r = s->db ? fail(s, rc) : -ENOMEM;
        *ret = s;       /* so the caller can read store_errmsg(); it must close */
        return r;
    }
    sqlite3_busy_timeout(s->db, 5000);
    int r;
    if ((r = exec(s, "PRAGMA journal_mode = WAL")) < 0 ||
        (r = exec(s, "PRAGMA synchronous = NORMAL")) < 0 ||
        (r = exec(s, "PRAGMA foreign_keys = ON")) < 0 ||
        (r = migrate(s)) < 0) {
        /* A file this process may not write (a read-only file system, its
         * permissions) is opened read-only by SQLite, which then fails
         * with "unable to open database file" or "attempt to write a
         * readonly database": say why. */
        if (sqlite3_db_readonly(s->db, "main") == 1) {
            int fd = open(path, O_RDWR | O_CLOEXEC);
            if (fd < 0)
                snprintf(s->err, sizeof s->err, "cannot be opened for writing: %s",
                         strerror(errno));
            else
                close(fd);
            r = -EROFS;
        }
        *ret = s;
        return r;
    }
    *ret = s;
    return 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    for (int i = 0; i < STORE_XSTMT_MAX; i++)
        sqlite3_finalize(s->xst[i]);
    sqlite3_close(s->db);
    free(s);
}

void store_busy_timeout(struct store *s, int ms)
{
    sqlite3_busy_timeout(s->db, ms);
}

void store_busy_handler(struct store *s, int (*cb)(void *ctx, int n), void *ctx)
{
    sqlite3_busy_handler(s->db, cb, ctx);
}

int store_begin(struct store *s)
{
    s->sim_next_id = 0;
    return exec(s, "BEGIN IMMEDIATE");
}

void store_bulk_mode(struct store *s)
{
    (void)exec(s, "PRAGMA cache_size = -262144");     /* 256 MiB */
}

int store_begin_read(struct store *s)
{
    return exec(s, "BEGIN");
}

int store_in_transaction(struct store *s)
{
    return !sqlite3_get_autocommit(s->db);
}

int store_commit(struct store *s)
{
    s->sim_next_id = 0;
    return exec(s, "COMMIT");
}

void store_rollback(struct store *s)
{
    s->sim_next_id = 0;
    if (!sqlite3_get_autocommit(s->db))
        exec(s, "ROLLBACK");
}

int64_t store_rev_next(struct store *s)
{
    sqlite3_stmt *st = stmt(s, ST_REV_NEXT);
    if (!st)
        return -EIO;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return fail(s, rc);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

int64_t store_rev_current(struct store *s)
{
    sqlite3_stmt *st = stmt(s, ST_REV_GET);
    if (!st)
        return -EIO;
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -EIO;
    sqlite3_reset(st);
    return v;
}

/* ---- tenants and groups ---- */

static int find_id(struct store *s, sqlite3_stmt *st, int64_t *ret_id)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
}

int store_tenant_find(struct store *s, const char *name, int64_t *ret_id)
{
    sqlite3_stmt *st = stmt(s, ST_TENANT_FIND);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return find_id(s, st, ret_id);
}

int store_tenant_create(struct store *s, const char *name, int64_t *ret_id)
{
    sqlite3_stmt *st = stmt(s, ST_TENANT_INSERT);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_s());
    int r = step_done(s, st);
    if (r == 0 && ret_id)
        *ret_id = sqlite3_last_insert_rowid(s->db);
    return r;
}

int store_tenant_ensure(struct store *s, const char *name, int create, int64_t *ret_id)
{
    int r = store_tenant_find(s, name, ret_id);
    if (r == -ENOENT && create)
        r = store_tenant_create(s, name, ret_id);
    return r;
}

int store_tenant_list(struct store *s, store_tenant_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int rc, r = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT t.id, t.name, (SELECT count(*) FROM sims WHERE"
                           " tenant_id = t.id) FROM tenants t ORDER BY t.name", -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((r = cb(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                    sqlite3_column_int64(st, 2))) != 0)
            break;
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_tenant_name(struct store *s, int64_t id, char *out, size_t outlen)
{
    sqlite3_stmt *st = stmt(s, ST_TENANT_NAME);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
}

int store_group_find(struct store *s, int64_t tenant_id, const char *name, int64_t *ret_id)
{
    sqlite3_stmt *st = stmt(s, ST_GROUP_FIND);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    return find_id(s, st, ret_id);
}

int store_group_create(struct store *s, int64_t tenant_id, const char *name, int64_t *ret_id)
{
    int64_t rev = store_rev_next(s);
    if (rev < 0)
        return (int)rev;
    sqlite3_stmt *st = stmt(s, ST_GROUP_INSERT);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, rev);
    sqlite3_bind_int64(st, 4, now_s());
    int r = step_done(s, st);
    if (r == 0 && ret_id)
        *ret_id = sqlite3_last_insert_rowid(s->db);
    return r;
}

int store_group_ensure(struct store *s, int64_t tenant_id, const char *name, int create,
                       int64_t *ret_id)
{
    int r = store_group_find(s, tenant_id, name, ret_id);
    if (r == -ENOENT && create)
        r = store_group_create(s, tenant_id, name, ret_id);
    return r;
}

#define GROUP_COLS "g.id, g.tenant_id, t.name, g.name, coalesce(p.version, 0), g.rev, p.body," \
    " (SELECT count(*) FROM sims WHERE group_id = g.id)" \
    " FROM groups g JOIN tenants t ON t.id = g.tenant_id LEFT JOIN policies p ON p.id = g.policy_id"

static int group_walk(struct store *s, sqlite3_stmt *st, store_group_cb cb, void *ctx)
{
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_group g = { 0 };
        g.id = sqlite3_column_int64(st, 0);
        g.tenant_id = sqlite3_column_int64(st, 1);
        snprintf(g.tenant, sizeof g.tenant, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(g.name, sizeof g.name, "%s", (const char *)sqlite3_column_text(st, 3));
        g.policy_version = sqlite3_column_int64(st, 4);
        g.rev = sqlite3_column_int64(st, 5);
        g.sims = sqlite3_column_int64(st, 7);
        if ((r = cb(ctx, &g, (const char *)sqlite3_column_text(st, 6))) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_group_list(struct store *s, int64_t tenant_id, store_group_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT " GROUP_COLS
                           " WHERE ?1 = 0 OR g.tenant_id = ?1 ORDER BY t.name, g.name",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, tenant_id);
    return group_walk(s, st, cb, ctx);
}

int store_groups_changed(struct store *s, int64_t since_rev, store_group_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT " GROUP_COLS " WHERE g.rev > ?1 ORDER BY g.rev",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, since_rev);
    return group_walk(s, st, cb, ctx);
}

int store_group_get(struct store *s, int64_t id, struct store_group *ret)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(s->db, "SELECT " GROUP_COLS " WHERE g.id = ?1", -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(ret, 0, sizeof *ret);
        ret->id = sqlite3_column_int64(st, 0);
        ret->tenant_id = sqlite3_column_int64(st, 1);
        snprintf(ret->tenant, sizeof ret->tenant, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(ret->name, sizeof ret->name, "%s", (const char *)sqlite3_column_text(st, 3));
        ret->policy_version = sqlite3_column_int64(st, 4);
        ret->rev = sqlite3_column_int64(st, 5);
        ret->sims = sqlite3_column_int64(st, 7);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
}

/* ---- policies ---- */

int store_policy_set(struct store *s, int64_t group_id, const char *body,
                     const char *actor, int64_t *ret_version)
{
    sqlite3_stmt *st;
    int rc, r;
    struct store_group g;

    if ((r = store_group_get(s, group_id, &g)) < 0)
        return r;
    int64_t version = g.policy_version + 1;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO policies (tenant_id, group_id, version, body,"
                           " created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, g.tenant_id);
    sqlite3_bind_int64(st, 2, group_id);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_s());
    sqlite3_bind_text(st, 6, actor, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(s, rc);
    int64_t pid = sqlite3_last_insert_rowid(s->db);
    int64_t rev = store_rev_next(s);
    if (rev < 0)
        return (int)rev;
    if (sqlite3_prepare_v2(s->db, "UPDATE groups SET policy_id = ?2, rev = ?3 WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_int64(st, 2, pid);
    sqlite3_bind_int64(st, 3, rev);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(s, rc);
    if (ret_version)
        *ret_version = version;
    return 0;
}

int store_policy_get(struct store *s, int64_t group_id, char **ret_body, int64_t *ret_version)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT p.body, p.version FROM groups g JOIN policies p"
                           " ON p.id = g.policy_id WHERE g.id = ?1", -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, group_id);
    int rc = sqlite3_step(st);
    int r = -ENOENT;
    if (rc == SQLITE_ROW) {
        *ret_body = strdup((const char *)sqlite3_column_text(st, 0));
        if (ret_version)
            *ret_version = sqlite3_column_int64(st, 1);
        r = *ret_body ? 0 : -ENOMEM;
    } else if (rc != SQLITE_DONE) {
        r = fail(s, rc);
    }
    sqlite3_finalize(st);
    return r;
}

/* ---- SIMs ---- */

int store_sim_insert(struct store *s, const struct store_sim *sim, int64_t rev)
{
    /* The next id is read once per write transaction (an import inserts
     * millions in one; nobody else can insert meanwhile), each time
     * outside one. */
    if (!s->sim_next_id || !store_in_transaction(s)) {
        sqlite3_stmt *q = stmt(s, ST_SIM_NEXT_ID);
        if (!q)
            return -EIO;
        int rc = sqlite3_step(q);
        int64_t next = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_reset(q);
        if (rc != SQLITE_ROW)
            return fail(s, rc);
        s->sim_next_id = next;
    }
    sqlite3_stmt *st = stmt(s, ST_SIM_INSERT);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 12, s->sim_next_id++);
    sqlite3_bind_int64(st, 1, sim->tenant_id);
    sqlite3_bind_int64(st, 2, sim->group_id);
    sqlite3_bind_text(st, 3, sim->iccid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, sim->imsi, -1, SQLITE_STATIC);
    if (sim->msisdn[0])
        sqlite3_bind_text(st, 5, sim->msisdn, -1, SQLITE_STATIC);
    if (sim->ip)
        sqlite3_bind_int64(st, 6, sim->ip);
    if (sim->imei[0]) {
        sqlite3_bind_text(st, 7, sim->imei, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, sim->imei_source[0] ? sim->imei_source : "import", -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 9, sim->state);
    sqlite3_bind_int64(st, 10, rev);
    sqlite3_bind_int64(st, 11, now_s());
    return step_done(s, st);
}

#define SIM_COLS "s.id, s.tenant_id, s.group_id, t.name, g.name, s.iccid, s.imsi," \
    " coalesce(s.msisdn, ''), coalesce(s.imei, ''), coalesce(s.imei_source, ''), coalesce(s.ip, 0)," \
    " s.state, coalesce(s.last_sv, -1), s.rev, s.updated_at" \
    " FROM sims s JOIN tenants t ON t.id = s.tenant_id JOIN groups g ON g.id = s.group_id"

static void sim_row(sqlite3_stmt *st, struct store_sim *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->tenant_id = sqlite3_column_int64(st, 1);
    r->group_id = sqlite3_column_int64(st, 2);
    snprintf(r->tenant, sizeof r->tenant, "%s", (const char *)sqlite3_column_text(st, 3));
    snprintf(r->group, sizeof r->group, "%s", (const char *)sqlite3_column_text(st, 4));
    snprintf(r->iccid, sizeof r->iccid, "%s", (const char *)sqlite3_column_text(st, 5));
    snprintf(r->imsi, sizeof r->imsi, "%s", (const char *)sqlite3_column_text(st, 6));
    snprintf(r->msisdn, sizeof r->msisdn, "%s", (const char *)sqlite3_column_text(st, 7));
    snprintf(r->imei, sizeof r->imei, "%s", (const char *)sqlite3_column_text(st, 8));
    snprintf(r->imei_source, sizeof r->imei_source, "%s", (const char *)sqlite3_column_text(st, 9));
    r->ip = (uint32_t)sqlite3_column_int64(st, 10);
    r->state = sqlite3_column_int(st, 11);
    r->last_sv = sqlite3_column_int(st, 12);
    r->rev = sqlite3_column_int64(st, 13);
    r->updated_at = sqlite3_column_int64(st, 14);
}

static int sim_walk(struct store *s, sqlite3_stmt *st, store_sim_cb cb, void *ctx)
{
    int rc, r = 0;
    struct store_sim sim;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sim_row(st, &sim);
        if ((r = cb(ctx, &sim)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_sim_find(struct store *s, const char *key, struct store_sim *ret)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT " SIM_COLS " WHERE s.iccid = ?1 OR s.imsi = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        sim_row(st, ret);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
}

int store_sim_list(struct store *s, const struct store_sim_filter *f, store_sim_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT " SIM_COLS
                           " WHERE (?1 = 0 OR s.tenant_id = ?1) AND (?2 = 0 OR s.group_id = ?2)"
                           " AND (?3 < 0 OR s.state = ?3) AND s.id > ?4"
                           " AND (?5 IS NULL OR instr(s.iccid, ?5) OR instr(s.imsi, ?5)"
                           "      OR instr(coalesce(s.msisdn, ''), ?5) OR instr(coalesce(s.imei, ''), ?5))"
                           " ORDER BY s.id LIMIT ?6", -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, f->tenant_id);
    sqlite3_bind_int64(st, 2, f->group_id);
    sqlite3_bind_int(st, 3, f->state);
    sqlite3_bind_int64(st, 4, f->after_id);
    if (f->text)
        sqlite3_bind_text(st, 5, f->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, f->limit > 0 ? f->limit : -1);
    return sim_walk(s, st, cb, ctx);
}

int store_sims_changed(struct store *s, int64_t since_rev, store_sim_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT " SIM_COLS " WHERE s.rev > ?1 ORDER BY s.rev",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, since_rev);
    return sim_walk(s, st, cb, ctx);
}

int store_sim_count(struct store *s, int64_t tenant_id, int64_t *ret)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sims WHERE ?1 = 0 OR tenant_id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, tenant_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(s, rc);
}

int store_sim_set_state(struct store *s, int64_t sim_id, int state)
{
    int64_t rev = store_rev_next(s);
    if (rev < 0)
        return (int)rev;
    sqlite3_stmt *st = stmt(s, ST_SIM_STATE);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, sim_id);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_int64(st, 3, rev);
    sqlite3_bind_int64(st, 4, now_s());
    int r = step_done(s, st);
    if (r == 0 && sqlite3_changes(s->db) == 0)
        return -ENOENT;
    return r;
}

int store_sim_update(struct store *s, int64_t sim_id, int64_t group_id, const char *msisdn,
                     uint32_t ip, const char *imei)
{
    int64_t rev = store_rev_next(s);
    if (rev < 0)
        return (int)rev;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "UPDATE sims SET group_id = ?2, msisdn = ?3, ip = ?4,"
                           " imei = ?5, imei_source = CASE WHEN ?5 IS NULL THEN NULL"
                           " WHEN ?5 = coalesce(imei, '') THEN imei_source ELSE 'admin' END,"
                           " rev = ?6, updated_at = ?7 WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, sim_id);
    sqlite3_bind_int64(st, 2, group_id);
    if (msisdn && msisdn[0])
        sqlite3_bind_text(st, 3, msisdn, -1, SQLITE_STATIC);
    if (ip)
        sqlite3_bind_int64(st, 4, ip);
    if (imei && imei[0])
        sqlite3_bind_text(st, 5, imei, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, rev);
    sqlite3_bind_int64(st, 7, now_s());
    int r = step_done(s, st);
    sqlite3_finalize(st);
    return r;
}

/* One statement of store_sim_delete() with the SIM's id as ?1. */
static int sim_delete_step(struct store *s, const char *sql, int64_t sim_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, sim_id);
    int r = step_done(s, st);
    sqlite3_finalize(st);
    return r;
}

int store_sim_delete(struct store *s, int64_t sim_id)
{
    /* A new revision, so that a daemon's next sync looks (sync.c reads
     * the deletion itself from the admin_log record beside it). */
    int64_t rev = store_rev_next(s);
    if (rev < 0)
        return (int)rev;
    int r = sim_delete_step(s, "DELETE FROM sims WHERE id = ?1", sim_id);
    if (r < 0)
        return r;
    if (sqlite3_changes(s->db) == 0)
        return -ENOENT;
    if ((r = sim_delete_step(s, "INSERT INTO meta (key, value) VALUES ('sims_deleted_max', ?1)"
                             " ON CONFLICT (key) DO UPDATE SET value = max(value, ?1)",
                             sim_id)) < 0 ||
        (r = sim_delete_step(s, "DELETE FROM usage_daily WHERE sim_id = ?1", sim_id)) < 0)
        return r;
    return sim_delete_step(s, "DELETE FROM usage_burst WHERE sim_id = ?1", sim_id);
}

int store_sims_deleted(struct store *s, int64_t after_log_id, store_sim_deleted_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT id, target, coalesce(CASE WHEN json_valid(detail)"
                           " THEN json_extract(detail, '$.before.imsi') END, '')"
                           " FROM admin_log WHERE id > ?1 AND action = 'sim.delete' ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, after_log_id);
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char iccid[23], imsi[16];
        copy_col(iccid, sizeof iccid, st, 1);
        copy_col(imsi, sizeof imsi, st, 2);
        if ((r = cb(ctx, sqlite3_column_int64(st, 0), iccid, imsi)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_admin_log_last(struct store *s, int64_t *ret_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(id), 0) FROM admin_log", -1, &st,
                           NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(s, rc);
}

int store_sim_bind_imei(struct store *s, int64_t sim_id, const char *imei,
                        const char *source, int bump)
{
    int64_t rev = 0;
    if (bump && (rev = store_rev_next(s)) < 0)
        return (int)rev;
    sqlite3_stmt *st = stmt(s, bump ? ST_SIM_BIND : ST_SIM_BIND_NOREV);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, sim_id);
    if (imei && imei[0]) {
        sqlite3_bind_text(st, 2, imei, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 4, rev);
    sqlite3_bind_int64(st, 5, now_s());
    return step_done(s, st);
}

int store_sim_set_sv(struct store *s, int64_t sim_id, int sv)
{
    sqlite3_stmt *st = stmt(s, ST_SIM_SV);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, sim_id);
    sqlite3_bind_int(st, 2, sv);
    return step_done(s, st);
}

int store_device_seen(struct store *s, int64_t tenant_id, const char *imei,
                      const char *sv, int64_t ts_ms)
{
    sqlite3_stmt *st = stmt(s, ST_DEVICE_SEEN);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_text(st, 2, imei, -1, SQLITE_STATIC);
    if (sv && sv[0])
        sqlite3_bind_text(st, 3, sv, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ts_ms / 1000);
    return step_done(s, st);
}

/* ---- findings, actions, alerts ---- */

int store_finding_insert(struct store *s, const struct store_finding *f, int64_t *ret_id)
{
    sqlite3_stmt *st = stmt(s, ST_FINDING_INSERT);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, f->tenant_id);
    sqlite3_bind_int64(st, 2, f->ts_ms);
    sqlite3_bind_text(st, 3, finding_kind_name(f->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, severity_name(f->severity), -1, SQLITE_STATIC);
    if (f->sim_id)
        sqlite3_bind_int64(st, 5, f->sim_id);
    sqlite3_bind_text(st, 6, f->subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, f->evidence, -1, SQLITE_STATIC);
    int r = step_done(s, st);
    if (r == 0 && ret_id)
        *ret_id = sqlite3_last_insert_rowid(s->db);
    return r;
}

int store_action_insert(struct store *s, int64_t tenant_id, int64_t ts_ms,
                        int64_t finding_id, const char *kind, const char *target,
                        const char *outcome, const char *detail)
{
    sqlite3_stmt *st = stmt(s, ST_ACTION_INSERT);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, ts_ms);
    if (finding_id)
        sqlite3_bind_int64(st, 3, finding_id);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, outcome, -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(st, 7, detail, -1, SQLITE_STATIC);
    int r = step_done(s, st);
    if (r < 0)
        return r;
    struct audit_action a = { .tenant_id = tenant_id, .finding_id = finding_id, .action = kind,
                              .target = target, .outcome = outcome, .detail = detail };
    return audit_append_action(s, ts_ms, &a);
}

int store_alert_raise(struct store *s, const struct store_finding *f, int64_t finding_id,
                      int64_t *ret_alert_id)
{
    sqlite3_stmt *st = stmt(s, ST_ALERT_UPDATE);
    if (!st)
        return -EIO;
    const char *kind = finding_kind_name(f->kind);
    sqlite3_bind_int64(st, 1, f->tenant_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, f->ts_ms);
    sqlite3_bind_int64(st, 5, finding_id);
    sqlite3_bind_int(st, 6, f->severity);
    sqlite3_bind_text(st, 7, severity_name(f->severity), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (ret_alert_id)
            *ret_alert_id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail(s, rc);
    st = stmt(s, ST_ALERT_INSERT);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, f->tenant_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->subject, -1, SQLITE_STATIC);
    if (f->sim_id)
        sqlite3_bind_int64(st, 4, f->sim_id);
    sqlite3_bind_text(st, 5, severity_name(f->severity), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, f->ts_ms);
    sqlite3_bind_int64(st, 7, finding_id);
    int r = step_done(s, st);
    if (r == 0 && ret_alert_id)
        *ret_alert_id = sqlite3_last_insert_rowid(s->db);
    return r;
}

/* before_id > 0: the API's pages, newest alert (by id) first; else the
 * CLI's order, the most recently seen first. */
static int alert_query(struct store *s, int64_t tenant_id, const char *state, int64_t before_id,
                       int limit, store_alert_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int rc, r = 0;
    char sql[1024];
    snprintf(sql, sizeof sql,
            "SELECT a.id, a.tenant_id, t.name, a.kind, a.subject, a.severity, a.state, a.count,"
            " a.first_seen, a.last_seen, coalesce(a.acked_by, ''), coalesce(f.evidence, '{}')"
            " FROM alerts a JOIN tenants t ON t.id = a.tenant_id"
            " LEFT JOIN findings f ON f.id = a.last_finding_id"
            " WHERE (?1 = 0 OR a.tenant_id = ?1)"
            " AND (CASE WHEN ?2 IS NULL THEN a.state != 'resolved' WHEN ?2 = 'all' THEN 1"
            "      ELSE a.state = ?2 END) AND (?4 <= 0 OR a.id < ?4)"
            " ORDER BY %s LIMIT ?3", before_id >= 0 ? "a.id DESC" : "a.last_seen DESC, a.id DESC");
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, tenant_id);
    if (state)
        sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
    sqlite3_bind_int64(st, 4, before_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_alert a;
        memset(&a, 0, sizeof a);
        a.id = sqlite3_column_int64(st, 0);
        a.tenant_id = sqlite3_column_int64(st, 1);
        snprintf(a.tenant, sizeof a.tenant, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(a.kind, sizeof a.kind, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(a.subject, sizeof a.subject, "%s", (const char *)sqlite3_column_text(st, 4));
        snprintf(a.severity, sizeof a.severity, "%s", (const char *)sqlite3_column_text(st, 5));
        snprintf(a.state, sizeof a.state, "%s", (const char *)sqlite3_column_text(st, 6));
        a.count = sqlite3_column_int64(st, 7);
        a.first_ms = sqlite3_column_int64(st, 8);
        a.last_ms = sqlite3_column_int64(st, 9);
        snprintf(a.acked_by, sizeof a.acked_by, "%s", (const char *)sqlite3_column_text(st, 10));
        snprintf(a.evidence, sizeof a.evidence, "%s", (const char *)sqlite3_column_text(st, 11));
        if ((r = cb(ctx, &a)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_alert_list(struct store *s, int64_t tenant_id, const char *state, int limit,
                     store_alert_cb cb, void *ctx)
{
    return alert_query(s, tenant_id, state, -1, limit, cb, ctx);
}

int store_alert_page(struct store *s, int64_t tenant_id, const char *state, int64_t before_id,
                     int limit, store_alert_cb cb, void *ctx)
{
    return alert_query(s, tenant_id, state, before_id, limit, cb, ctx);
}

int store_alert_set_state(struct store *s, int64_t id, const char *state, const char *actor,
                          int64_t *ret_tenant_id)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(s->db, "SELECT state, tenant_id FROM alerts WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    int resolved = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "resolved") == 0;
    if (rc == SQLITE_ROW && ret_tenant_id)
        *ret_tenant_id = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    if (rc != SQLITE_ROW)
        return fail(s, rc);
    if (resolved)
        return -EALREADY;
    const char *sql = strcmp(state, "resolved") == 0
        ? "UPDATE alerts SET state = 'resolved', resolved_by = ?2, resolved_at = ?3 WHERE id = ?1"
        : "UPDATE alerts SET state = 'acknowledged', acked_by = ?2, acked_at = ?3 WHERE id = ?1";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms());
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

int store_action_list(struct store *s, int64_t tenant_id, int64_t after_id, const char *kind,
                      const char *target, int limit, store_action_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int rc, r = 0;
    if (sqlite3_prepare_v2(s->db,
            "SELECT a.id, a.ts, coalesce(a.finding_id, 0), t.name, a.kind, a.target, a.outcome,"
            " coalesce(a.detail, '{}') FROM actions a JOIN tenants t ON t.id = a.tenant_id"
            " WHERE (?1 = 0 OR a.tenant_id = ?1) AND a.id > ?2 AND (?3 IS NULL OR a.kind = ?3)"
            " AND (?4 IS NULL OR a.target = ?4) ORDER BY a.id LIMIT ?5", -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, after_id);
    if (kind)
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    if (target)
        sqlite3_bind_text(st, 4, target, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, limit > 0 ? limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_action_row a;
        memset(&a, 0, sizeof a);
        a.id = sqlite3_column_int64(st, 0);
        a.ts_ms = sqlite3_column_int64(st, 1);
        a.finding_id = sqlite3_column_int64(st, 2);
        copy_col(a.tenant, sizeof a.tenant, st, 3);
        copy_col(a.kind, sizeof a.kind, st, 4);
        copy_col(a.target, sizeof a.target, st, 5);
        copy_col(a.outcome, sizeof a.outcome, st, 6);
        copy_col(a.detail, sizeof a.detail, st, 7);
        if ((r = cb(ctx, &a)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_finding_list(struct store *s, int64_t tenant_id, int64_t after_id, int limit,
                       store_finding_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int rc, r = 0;
    if (sqlite3_prepare_v2(s->db,
            "SELECT f.id, f.ts, t.name, f.kind, f.severity, f.subject, f.evidence"
            " FROM findings f JOIN tenants t ON t.id = f.tenant_id"
            " WHERE (?1 = 0 OR f.tenant_id = ?1) AND f.id > ?2 ORDER BY f.id LIMIT ?3",
            -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_finding_row f;
        memset(&f, 0, sizeof f);
        f.id = sqlite3_column_int64(st, 0);
        f.ts_ms = sqlite3_column_int64(st, 1);
        snprintf(f.tenant, sizeof f.tenant, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(f.kind, sizeof f.kind, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(f.severity, sizeof f.severity, "%s", (const char *)sqlite3_column_text(st, 4));
        snprintf(f.subject, sizeof f.subject, "%s", (const char *)sqlite3_column_text(st, 5));
        snprintf(f.evidence, sizeof f.evidence, "%s", (const char *)sqlite3_column_text(st, 6));
        if ((r = cb(ctx, &f)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

/*
 * Findings and actions as one list in time order, (ts, type, id) being
 * the key a page continues after.  Neither table has an index on ts, so a
 * page reads every row of the tenant that passes the filters and sorts
 * them: fine for the API's occasional queries; an index on (tenant_id, ts)
 * per table would make it a range scan.
 */
int store_event_page(struct store *s, const struct store_event_filter *f, store_event_cb cb,
                     void *ctx)
{
    static const char sql[] =
        "SELECT 0 AS type, x.id, x.ts, t.name, x.kind, x.severity, NULL, x.subject, 0,"
        "  x.evidence FROM findings x JOIN tenants t ON t.id = x.tenant_id"
        " WHERE (?1 & 1) AND (?2 = 0 OR x.tenant_id = ?2) AND x.ts >= ?3"
        "  AND x.ts < ?4 AND (?5 IS NULL OR x.subject = ?5)"
        "  AND (?6 IS NULL OR x.kind = ?6) AND (x.ts, 0, x.id) > (?7, ?8, ?9)"
        " UNION ALL "
        "SELECT 1, x.id, x.ts, t.name, x.kind, NULL, x.outcome, x.target,"
        "  coalesce(x.finding_id, 0), x.detail FROM actions x JOIN tenants t ON t.id = x.tenant_id"
        " WHERE (?1 & 2) AND (?2 = 0 OR x.tenant_id = ?2) AND x.ts >= ?3"
        "  AND x.ts < ?4 AND (?5 IS NULL OR x.target = ?5)"
        "  AND (?6 IS NULL OR x.kind = ?6) AND (x.ts, 1, x.id) > (?7, ?8, ?9)"
        " ORDER BY 3, 1, 2 LIMIT ?10";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int(st, 1, f->types);
    sqlite3_bind_int64(st, 2, f->tenant_id);
    sqlite3_bind_int64(st, 3, f->since_ms);
    sqlite3_bind_int64(st, 4, f->until_ms);
    if (f->subject)
        sqlite3_bind_text(st, 5, f->subject, -1, SQLITE_STATIC);
    if (f->kind)
        sqlite3_bind_text(st, 6, f->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, f->after_ts);
    sqlite3_bind_int(st, 8, f->after_type);
    sqlite3_bind_int64(st, 9, f->after_id);
    sqlite3_bind_int(st, 10, f->limit > 0 ? f->limit : -1);
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_event_row e;
        memset(&e, 0, sizeof e);
        e.type = sqlite3_column_int(st, 0);
        e.id = sqlite3_column_int64(st, 1);
        e.ts_ms = sqlite3_column_int64(st, 2);
        copy_col(e.tenant, sizeof e.tenant, st, 3);
        copy_col(e.kind, sizeof e.kind, st, 4);
        copy_col(e.severity, sizeof e.severity, st, 5);
        copy_col(e.outcome, sizeof e.outcome, st, 6);
        copy_col(e.subject, sizeof e.subject, st, 7);
        e.finding_id = sqlite3_column_int64(st, 8);
        const unsigned char *body = sqlite3_column_text(st, 9);
        e.body = body ? (const char *)body : "";
        if ((r = cb(ctx, &e)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

void store_durable(struct store *s)
{
    (void)exec(s, "PRAGMA synchronous = FULL");
    /* The accounting thread touches sessions and usage rows all over the
     * file: keep them in memory rather than re-reading pages (the default
     * cache is 2 MiB). */
    (void)exec(s, "PRAGMA cache_size = -131072");     /* 128 MiB */
}

static int on_wal_commit(void *ctx, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    struct store *s = ctx;
    if (s->wal_cb)
        s->wal_cb(s->wal_ctx, pages);
    return SQLITE_OK;
}

void store_manual_checkpoints(struct store *s, void (*cb)(void *ctx, int wal_pages), void *ctx)
{
    /* A WAL hook replaces SQLite's automatic checkpoints. */
    s->wal_cb = cb;
    s->wal_ctx = ctx;
    sqlite3_wal_hook(s->db, on_wal_commit, s);
}

int store_checkpoint(struct store *s, enum store_ckpt mode, int *wal_pages, int *copied)
{
    static const int sqlite_mode[] = {
        [STORE_CKPT_PASSIVE] = SQLITE_CHECKPOINT_PASSIVE,
        [STORE_CKPT_RESTART] = SQLITE_CHECKPOINT_RESTART,
        [STORE_CKPT_TRUNCATE] = SQLITE_CHECKPOINT_TRUNCATE,
    };
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, sqlite_mode[mode], wal_pages, copied);
    if (rc != SQLITE_OK) {
        snprintf(s->err, sizeof s->err, "%s", sqlite3_errmsg(s->db));
        return -EIO;
    }
    return 0;
}

int store_session_save(struct store *s, struct store_session *ss)
{
    sqlite3_stmt *st = stmt(s, !ss->stored ? ST_SESSION_INSERT
                                         : ss->open ? ST_SESSION_TOUCH : ST_SESSION_UPDATE);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, ss->tenant_id);
    if (ss->sim_id)
        sqlite3_bind_int64(st, 2, ss->sim_id);
    sqlite3_bind_text(st, 3, ss->nas, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ss->acct_session_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ss->imsi, -1, SQLITE_STATIC);
    if (ss->imei[0])
        sqlite3_bind_text(st, 6, ss->imei, -1, SQLITE_STATIC);
    if (ss->framed_ip)
        sqlite3_bind_int64(st, 7, ss->framed_ip);
    if (ss->plmn[0])
        sqlite3_bind_text(st, 8, ss->plmn, -1, SQLITE_STATIC);
    if (ss->rat)
        sqlite3_bind_int(st, 9, ss->rat);
    sqlite3_bind_int64(st, 10, ss->area);
    sqlite3_bind_int64(st, 11, ss->cell);
    sqlite3_bind_int64(st, 12, ss->interim);
    sqlite3_bind_int64(st, 13, ss->started_ms);
    sqlite3_bind_int64(st, 14, ss->updated_ms);
    if (!ss->open)
        sqlite3_bind_int64(st, 15, ss->stopped_ms);
    sqlite3_bind_int64(st, 16, (int64_t)ss->in_octets);
    sqlite3_bind_int64(st, 17, (int64_t)ss->out_octets);
    sqlite3_bind_int64(st, 18, (int64_t)ss->last_in);
    sqlite3_bind_int64(st, 19, (int64_t)ss->last_out);
    sqlite3_bind_int64(st, 20, ss->last_time);
    sqlite3_bind_text(st, 21, ss->open ? "open" : "closed", -1, SQLITE_STATIC);
    if (ss->close_reason[0])
        sqlite3_bind_text(st, 22, ss->close_reason, -1, SQLITE_STATIC);
    if (ss->id)
        sqlite3_bind_int64(st, 23, ss->id);
    sqlite3_bind_int64(st, 24, ss->nas_ip);
    int r = step_done(s, st);
    if (r == 0 && !ss->id)
        ss->id = sqlite3_last_insert_rowid(s->db);
    return r;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

int store_usage_add(struct store *s, int64_t tenant_id, int64_t sim_id, const char *day,
                    uint64_t in, uint64_t out)
{
    sqlite3_stmt *st = stmt(s, ST_USAGE_ADD);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, sim_id);
    sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, tenant_id);
    sqlite3_bind_int64(st, 4, (int64_t)in);
    sqlite3_bind_int64(st, 5, (int64_t)out);
    return step_done(s, st);
}

int store_usage_days(struct store *s, int64_t sim_id, const char *from_day,
                     store_usage_day_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int rc, r = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT day, in_octets, out_octets FROM usage_daily"
                           " WHERE sim_id = ?1 AND day >= ?2 ORDER BY day", -1, &st, NULL) !=
        SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, sim_id);
    sqlite3_bind_text(st, 2, from_day, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((r = cb(ctx, (const char *)sqlite3_column_text(st, 0),
                    (uint64_t)sqlite3_column_int64(st, 1), (uint64_t)sqlite3_column_int64(st, 2))) != 0)
            break;
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_usage_get(struct store *s, int64_t sim_id, const char *day, const char *month,
                    uint64_t ret[4])
{
    sqlite3_stmt *st = stmt(s, ST_USAGE_GET);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, sim_id);
    sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, month, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        for (int i = 0; i < 4; i++)
            ret[i] = (uint64_t)sqlite3_column_int64(st, i);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fail(s, rc);
}

int store_acct_log(struct store *s, const struct store_acct_log *l, int64_t *id)
{
    sqlite3_stmt *st = stmt(s, ST_ACCT_RECORD);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, l->ts_ms);
    sqlite3_bind_text(st, 2, l->nas, -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, l->sid);
    sqlite3_bind_int(st, 4, l->status);
    bind_text_or_null(st, 5, l->imsi);
    sqlite3_bind_int64(st, 6, (int64_t)l->in);
    sqlite3_bind_int64(st, 7, (int64_t)l->out);
    sqlite3_bind_int64(st, 8, l->session_time);
    sqlite3_bind_int64(st, 10, (int64_t)l->d_in);
    sqlite3_bind_int64(st, 11, (int64_t)l->d_out);
    const struct store_session *ss = l->s;
    if (ss) {
        sqlite3_bind_int64(st, 9, ss->id);
        sqlite3_bind_int64(st, 12, ss->tenant_id);
        if (ss->sim_id)
            sqlite3_bind_int64(st, 13, ss->sim_id);
        bind_text_or_null(st, 14, ss->imsi);
        bind_text_or_null(st, 15, ss->imei);
        if (ss->framed_ip)
            sqlite3_bind_int64(st, 16, ss->framed_ip);
        bind_text_or_null(st, 17, ss->plmn);
        if (ss->rat)
            sqlite3_bind_int(st, 18, ss->rat);
        sqlite3_bind_int64(st, 19, ss->area);
        sqlite3_bind_int64(st, 20, ss->cell);
        sqlite3_bind_int64(st, 21, ss->interim);
        sqlite3_bind_int64(st, 22, ss->started_ms);
        sqlite3_bind_int64(st, 23, (int64_t)ss->in_octets);
        sqlite3_bind_int64(st, 24, (int64_t)ss->out_octets);
        sqlite3_bind_int64(st, 25, (int64_t)ss->last_in);
        sqlite3_bind_int64(st, 26, (int64_t)ss->last_out);
        sqlite3_bind_int64(st, 27, ss->last_time);
        sqlite3_bind_int64(st, 28, ss->nas_ip);
        sqlite3_bind_int(st, 29, ss->open);
    }
    int r = step_done(s, st);
    if (r == 0 && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return r;
}


int store_acct_redo(struct store *s, int64_t after_id, store_acct_redo_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int rc, r = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT r.id, r.ts, r.nas, coalesce(r.acct_session_id, ''),"
                           " coalesce(r.session_id, 0), r.d_in, r.d_out, coalesce(r.s_tenant_id, 0),"
                           " coalesce(r.s_sim_id, 0), r.s_imsi, r.s_imei, coalesce(r.s_framed_ip, 0),"
                           " r.s_plmn, coalesce(r.s_rat, 0), coalesce(r.s_area, 0),"
                           " coalesce(r.s_cell, 0), coalesce(r.s_interim, 0),"
                           " coalesce(r.s_started_ms, 0), coalesce(r.s_in, 0), coalesce(r.s_out, 0),"
                           " coalesce(r.s_last_in, 0), coalesce(r.s_last_out, 0),"
                           " coalesce(r.s_last_time, 0), coalesce(r.s_nas_ip, 0),"
                           " coalesce(r.s_open, 0), t.id IS NOT NULL, coalesce(t.state = 'closed', 0)"
                           " FROM acct_records r LEFT JOIN sessions t ON t.id = r.session_id"
                           " WHERE r.id > ?1 ORDER BY r.id", -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, after_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_acct_redo d;
        memset(&d, 0, sizeof d);
        d.log_id = sqlite3_column_int64(st, 0);
        d.ts_ms = sqlite3_column_int64(st, 1);
        copy_col(d.s.nas, sizeof d.s.nas, st, 2);
        copy_col(d.s.acct_session_id, sizeof d.s.acct_session_id, st, 3);
        d.s.id = sqlite3_column_int64(st, 4);
        d.d_in = (uint64_t)sqlite3_column_int64(st, 5);
        d.d_out = (uint64_t)sqlite3_column_int64(st, 6);
        d.s.tenant_id = sqlite3_column_int64(st, 7);
        d.s.sim_id = sqlite3_column_int64(st, 8);
        copy_col(d.s.imsi, sizeof d.s.imsi, st, 9);
        copy_col(d.s.imei, sizeof d.s.imei, st, 10);
        d.s.framed_ip = (uint32_t)sqlite3_column_int64(st, 11);
        copy_col(d.s.plmn, sizeof d.s.plmn, st, 12);
        d.s.rat = sqlite3_column_int(st, 13);
        d.s.area = sqlite3_column_int64(st, 14);
        d.s.cell = sqlite3_column_int64(st, 15);
        d.s.interim = (uint32_t)sqlite3_column_int64(st, 16);
        d.s.started_ms = sqlite3_column_int64(st, 17);
        d.s.updated_ms = d.ts_ms;
        d.s.in_octets = (uint64_t)sqlite3_column_int64(st, 18);
        d.s.out_octets = (uint64_t)sqlite3_column_int64(st, 19);
        d.s.last_in = (uint64_t)sqlite3_column_int64(st, 20);
        d.s.last_out = (uint64_t)sqlite3_column_int64(st, 21);
        d.s.last_time = (uint32_t)sqlite3_column_int64(st, 22);
        d.s.nas_ip = (uint32_t)sqlite3_column_int64(st, 23);
        d.s.open = sqlite3_column_int(st, 24);
        d.row_exists = sqlite3_column_int(st, 25);
        d.row_closed = sqlite3_column_int(st, 26);
        if ((r = cb(ctx, &d)) < 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_burst_get(struct store *s, int64_t sim_id, struct store_burst *b)
{
    sqlite3_stmt *st = stmt(s, ST_BURST_GET);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, sim_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        b->hour = sqlite3_column_int64(st, 0);
        b->hour_bytes = (uint64_t)sqlite3_column_int64(st, 1);
        b->baseline = sqlite3_column_double(st, 2);
        b->hours = (uint32_t)sqlite3_column_int64(st, 3);
        b->fired = sqlite3_column_int(st, 4);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
}

int store_burst_put(struct store *s, int64_t sim_id, const struct store_burst *b)
{
    sqlite3_stmt *st = stmt(s, ST_BURST_PUT);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, sim_id);
    sqlite3_bind_int64(st, 2, b->hour);
    sqlite3_bind_int64(st, 3, (int64_t)b->hour_bytes);
    sqlite3_bind_double(st, 4, b->baseline);
    sqlite3_bind_int64(st, 5, b->hours);
    sqlite3_bind_int(st, 6, b->fired);
    return step_done(s, st);
}

int store_acct_first(struct store *s, int64_t *id, int64_t *ts_ms)
{
    return store_acct_ts_at(s, 0, id, ts_ms);
}

int store_acct_ts_at(struct store *s, int64_t id, int64_t *found_id, int64_t *ts_ms)
{
    sqlite3_stmt *st = stmt(s, ST_ACCT_TS_AT);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found_id = sqlite3_column_int64(st, 0);
        *ts_ms = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
}

int store_acct_delete(struct store *s, int64_t lo, int64_t hi)
{
    sqlite3_stmt *st = stmt(s, ST_ACCT_DELETE);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    int r = step_done(s, st);
    return r < 0 ? r : sqlite3_changes(s->db);
}

int store_acct_mark_get(struct store *s, int64_t *log_id)
{
    sqlite3_stmt *st = stmt(s, ST_META_GET);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, "acct_flushed", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *log_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(s, rc);
}

int store_acct_mark_set(struct store *s, int64_t log_id)
{
    sqlite3_stmt *st = stmt(s, ST_META_SET);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, "acct_flushed", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, log_id);
    return step_done(s, st);
}

int store_acct_max_ids(struct store *s, int64_t *session_id, int64_t *log_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT coalesce((SELECT max(id) FROM sessions), 0),"
                           " coalesce((SELECT max(id) FROM acct_records), 0)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *session_id = sqlite3_column_int64(st, 0);
        *log_id = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(s, rc);
}

static int sessions_query(struct store *s, const char *where, int64_t arg, int limit,
                          store_session_cb cb, void *ctx);

int store_sessions_load(struct store *s, int64_t since_ms, store_session_cb cb, void *ctx)
{
    return sessions_query(s, "state = 'open' OR stopped_ms > ?1 ORDER BY id", since_ms, -1,
                          cb, ctx);
}

int store_sessions_of_sim(struct store *s, int64_t sim_id, int limit, store_session_cb cb,
                          void *ctx)
{
    return sessions_query(s, "sim_id = ?1 ORDER BY id DESC", sim_id, limit, cb, ctx);
}

static int sessions_query(struct store *s, const char *where, int64_t arg, int limit,
                          store_session_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    char sql[1024];
    int rc, r = 0;
    snprintf(sql, sizeof sql,
             "SELECT id, tenant_id, coalesce(sim_id, 0), nas, acct_session_id, imsi,"
             " coalesce(imei, ''), coalesce(framed_ip, 0), coalesce(plmn, ''), coalesce(rat, 0),"
             " area, cell, interim, started_ms, updated_ms, in_octets, out_octets, last_in,"
             " last_out, last_time, nas_ip, state = 'open', coalesce(stopped_ms, 0),"
             " coalesce(close_reason, '') FROM sessions WHERE %s LIMIT ?2", where);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 1, arg);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_session ss;
        memset(&ss, 0, sizeof ss);
        ss.stored = 1;
        ss.id = sqlite3_column_int64(st, 0);
        ss.tenant_id = sqlite3_column_int64(st, 1);
        ss.sim_id = sqlite3_column_int64(st, 2);
        snprintf(ss.nas, sizeof ss.nas, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(ss.acct_session_id, sizeof ss.acct_session_id, "%s",
                 (const char *)sqlite3_column_text(st, 4));
        snprintf(ss.imsi, sizeof ss.imsi, "%s", (const char *)sqlite3_column_text(st, 5));
        snprintf(ss.imei, sizeof ss.imei, "%s", (const char *)sqlite3_column_text(st, 6));
        ss.framed_ip = (uint32_t)sqlite3_column_int64(st, 7);
        snprintf(ss.plmn, sizeof ss.plmn, "%s", (const char *)sqlite3_column_text(st, 8));
        ss.rat = sqlite3_column_int(st, 9);
        ss.area = sqlite3_column_int64(st, 10);
        ss.cell = sqlite3_column_int64(st, 11);
        ss.interim = (uint32_t)sqlite3_column_int64(st, 12);
        ss.started_ms = sqlite3_column_int64(st, 13);
        ss.updated_ms = sqlite3_column_int64(st, 14);
        ss.in_octets = (uint64_t)sqlite3_column_int64(st, 15);
        ss.out_octets = (uint64_t)sqlite3_column_int64(st, 16);
        ss.last_in = (uint64_t)sqlite3_column_int64(st, 17);
        ss.last_out = (uint64_t)sqlite3_column_int64(st, 18);
        ss.last_time = (uint32_t)sqlite3_column_int64(st, 19);
        ss.nas_ip = (uint32_t)sqlite3_column_int64(st, 20);
        ss.open = sqlite3_column_int(st, 21);
        ss.stopped_ms = sqlite3_column_int64(st, 22);
        snprintf(ss.close_reason, sizeof ss.close_reason, "%s", (const char *)sqlite3_column_text(st, 23));
        if ((r = cb(ctx, &ss)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

#define TOKEN_COLS "k.id, coalesce(k.tenant_id, 0), coalesce(t.name, ''), k.name, k.role," \
    " k.secret_sha256, k.created_at, coalesce(k.expires_at, 0), coalesce(k.revoked_at, 0)," \
    " coalesce(k.last_used_at, 0), k.created_by FROM api_tokens k" \
    " LEFT JOIN tenants t ON t.id = k.tenant_id"

static void token_row(sqlite3_stmt *st, struct store_token *t)
{
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(st, 0);
    t->tenant_id = sqlite3_column_int64(st, 1);
    copy_col(t->tenant, sizeof t->tenant, st, 2);
    copy_col(t->name, sizeof t->name, st, 3);
    copy_col(t->role, sizeof t->role, st, 4);
    if (sqlite3_column_bytes(st, 5) == 32)
        memcpy(t->secret_sha256, sqlite3_column_blob(st, 5), 32);
    t->created_at = sqlite3_column_int64(st, 6);
    t->expires_at = sqlite3_column_int64(st, 7);
    t->revoked_at = sqlite3_column_int64(st, 8);
    t->last_used_at = sqlite3_column_int64(st, 9);
    copy_col(t->created_by, sizeof t->created_by, st, 10);
}

int store_token_insert(struct store *s, const struct store_token *t, int64_t *ret_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO api_tokens (tenant_id, name, role, secret_sha256,"
                           " created_at, created_by, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    if (t->tenant_id)
        sqlite3_bind_int64(st, 1, t->tenant_id);
    sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->role, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, t->secret_sha256, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, t->created_at);
    sqlite3_bind_text(st, 6, t->created_by, -1, SQLITE_STATIC);
    if (t->expires_at)
        sqlite3_bind_int64(st, 7, t->expires_at);
    int r = step_done(s, st);
    sqlite3_finalize(st);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(s->db);
    return r;
}

int store_token_get(struct store *s, int64_t id, struct store_token *ret)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT " TOKEN_COLS " WHERE k.id = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        token_row(st, ret);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
}

int store_token_list(struct store *s, int64_t tenant_id, store_token_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT " TOKEN_COLS
                           " WHERE ?1 < 0 OR coalesce(k.tenant_id, 0) = ?1 ORDER BY k.id",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, tenant_id);
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_token t;
        token_row(st, &t);
        if ((r = cb(ctx, &t)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

static int token_set_time(struct store *s, const char *sql, int64_t id, int64_t now_s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now_s);
    int r = step_done(s, st);
    sqlite3_finalize(st);
    return r < 0 ? r : sqlite3_changes(s->db) ? 0 : -ENOENT;
}

int store_token_revoke(struct store *s, int64_t id, int64_t now_s)
{
    return token_set_time(s, "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1"
                          " AND revoked_at IS NULL", id, now_s);
}

int store_token_used(struct store *s, int64_t id, int64_t now_s)
{
    return token_set_time(s, "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", id, now_s);
}

int store_admin_log(struct store *s, int64_t tenant_id, const char *actor,
                    const char *action, const char *target, const char *detail)
{
    return store_admin_log_role(s, tenant_id, actor, NULL, action, target, detail);
}

int store_admin_log_role(struct store *s, int64_t tenant_id, const char *actor,
                         const char *role, const char *action, const char *target,
                         const char *detail)
{
    sqlite3_stmt *st = stmt(s, ST_ADMIN_LOG);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, now_ms());
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(st, 6, detail, -1, SQLITE_STATIC);
    int r = step_done(s, st);
    if (r < 0)
        return r;
    /* The same change into the audit chain, in the same transaction. */
    struct audit_admin a = { .tenant_id = tenant_id, .actor = actor, .role = role,
                             .action = action, .target = target, .detail = detail };
    return audit_append_admin(s, &a);
}

/* ---- the audit chain's rows ----
 * Prepared per call rather than in the shared statement table: records are
 * appended on administrative changes and enforcement actions, not per
 * packet, and a prepare costs microseconds beside the commit. */

static int audit_prepare(struct store *s, const char *sql, sqlite3_stmt **ret)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, ret, NULL) != SQLITE_OK) {
        snprintf(s->err, sizeof s->err, "%s", sqlite3_errmsg(s->db));
        return -EIO;
    }
    return 0;
}

static void audit_copy_hex(char out[65], sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, 65, "%s", t ? (const char *)t : "");
}

int store_audit_last(struct store *s, int64_t *ret_seq, char ret_hash[65])
{
    sqlite3_stmt *st;
    int r = audit_prepare(s, "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1", &st);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_seq = sqlite3_column_int64(st, 0);
        audit_copy_hex(ret_hash, st, 1);
        r = 0;
    } else
        r = rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_audit_insert(struct store *s, const struct store_audit_row *row)
{
    sqlite3_stmt *st;
    int r = audit_prepare(s, "INSERT INTO audit_chain (seq, ts, tenant_id, kind, body,"
                          " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &st);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, row->seq);
    sqlite3_bind_int64(st, 2, row->ts_ms);
    sqlite3_bind_int64(st, 3, row->tenant_id);
    sqlite3_bind_text(st, 4, row->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, row->body, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, row->prev_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, row->hash, -1, SQLITE_STATIC);
    r = step_done(s, st);
    sqlite3_finalize(st);
    if (r < 0)
        return r;
    if ((r = audit_prepare(s, "INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_seq', ?1)",
                           &st)) < 0)
        return r;
    sqlite3_bind_int64(st, 1, row->seq);
    r = step_done(s, st);
    sqlite3_finalize(st);
    return r;
}

int store_audit_walk(struct store *s, int64_t tenant_id, int limit, store_audit_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    /* The whole chain streams in seq order; the last `limit` need the
     * newest first, then turned around (at most `limit` rows sorted). */
    int r = audit_prepare(s, limit > 0
        ? "SELECT * FROM (SELECT seq, ts, tenant_id, kind, body, prev_hash, hash"
          " FROM audit_chain WHERE ?1 = 0 OR tenant_id = ?1"
          " ORDER BY seq DESC LIMIT ?2) ORDER BY seq"
        : "SELECT seq, ts, tenant_id, kind, body, prev_hash, hash FROM audit_chain"
          " WHERE ?1 = 0 OR tenant_id = ?1 ORDER BY seq", &st);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, tenant_id);
    if (limit > 0)
        sqlite3_bind_int64(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_audit_row row = {
            .seq = sqlite3_column_int64(st, 0), .ts_ms = sqlite3_column_int64(st, 1),
            .tenant_id = sqlite3_column_int64(st, 2),
        };
        const unsigned char *kind = sqlite3_column_text(st, 3);
        const unsigned char *body = sqlite3_column_text(st, 4);
        snprintf(row.kind, sizeof row.kind, "%s", kind ? (const char *)kind : "");
        row.body = body ? (const char *)body : "";
        audit_copy_hex(row.prev_hash, st, 5);
        audit_copy_hex(row.hash, st, 6);
        if ((r = cb(ctx, &row)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_audit_page(struct store *s, const struct store_audit_filter *f, store_audit_cb cb,
                     void *ctx)
{
    sqlite3_stmt *st;
    /* The target is a member of the hashed body (chain.c), not a column. */
    int r = audit_prepare(s,
        "SELECT a.seq, a.ts, a.tenant_id, a.kind, a.body, a.prev_hash, a.hash, t.name"
        " FROM audit_chain a LEFT JOIN tenants t ON t.id = a.tenant_id"
        " WHERE (?1 = 0 OR a.tenant_id = ?1) AND a.seq > ?2 AND (?3 IS NULL OR a.kind = ?3)"
        " AND (?4 IS NULL OR CASE WHEN json_valid(a.body)"
        "      THEN json_extract(a.body, '$.target') END = ?4)"
        " AND a.ts >= ?5 AND a.ts < ?6 ORDER BY a.seq LIMIT ?7", &st);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, f->tenant_id);
    sqlite3_bind_int64(st, 2, f->after_seq);
    if (f->kind)
        sqlite3_bind_text(st, 3, f->kind, -1, SQLITE_STATIC);
    if (f->target)
        sqlite3_bind_text(st, 4, f->target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, f->since_ms);
    sqlite3_bind_int64(st, 6, f->until_ms);
    sqlite3_bind_int(st, 7, f->limit > 0 ? f->limit : -1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_audit_row row = {
            .seq = sqlite3_column_int64(st, 0), .ts_ms = sqlite3_column_int64(st, 1),
            .tenant_id = sqlite3_column_int64(st, 2),
        };
        const unsigned char *kind = sqlite3_column_text(st, 3);
        const unsigned char *body = sqlite3_column_text(st, 4);
        const unsigned char *tenant = sqlite3_column_text(st, 7);
        snprintf(row.kind, sizeof row.kind, "%s", kind ? (const char *)kind : "");
        row.body = body ? (const char *)body : "";
        row.tenant = tenant ? (const char *)tenant : NULL;
        audit_copy_hex(row.prev_hash, st, 5);
        audit_copy_hex(row.hash, st, 6);
        if ((r = cb(ctx, &row)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_audit_find_hash(struct store *s, const char *hash, int64_t exclude_seq,
                          int64_t *ret_seq)
{
    sqlite3_stmt *st;
    int r = audit_prepare(s, "SELECT seq FROM audit_chain WHERE hash = ?1 AND seq != ?2"
                          " ORDER BY seq LIMIT 1", &st);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, exclude_seq);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_seq = sqlite3_column_int64(st, 0);
        r = 0;
    } else
        r = rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
    sqlite3_finalize(st);
    return r;
}

int store_audit_expected(struct store *s, int64_t *ret_seq)
{
    sqlite3_stmt *st;
    int r = audit_prepare(s, "SELECT value FROM meta WHERE key = 'audit_seq'", &st);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_seq = sqlite3_column_int64(st, 0);
        r = 0;
    } else
        r = rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
    sqlite3_finalize(st);
    return r;
}
