/*
 * accounting.c — the accounting thread (see accounting.h for the rules).
 *
 * Sessions live in an array of struct store_session (grown by doubling, so
 * there is no allocation per record) indexed by a linear-probing hash of
 * (NAS name, Acct-Session-Id).  Only this thread touches them, so no lock.
 * A batch is applied with an undo log: if the commit fails, every session
 * the batch touched is put back as it was and no response is sent, so the
 * NAS's retransmission is counted exactly once when the store recovers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/qsbr.h"
#include "engine/accounting.h"
#include "core/ident.h"
#include "core/jsonw.h"
#include "engine/engine.h"
#include "radius/dynauth.h"
#include "radius/server.h"

struct undo {
    uint32_t idx;
    int created;                /* the batch created it: remove on failure */
    struct store_session before;
};

/* Detector state of one SIM: today's and this month's usage, what was
 * already reported, and the slots of its (possibly) open sessions. */
#define SIM_SESS_TRACK 4
struct sim_usage {
    uint32_t sim_id;
    int32_t day, month;                 /* days since the epoch; year*12+month */
    uint64_t day_in, day_out, month_in, month_out;
    uint32_t fired_day, fired_month;    /* bit (level * 3 + dir) */
    uint32_t sess[SIM_SESS_TRACK];      /* slots of its open sessions... */
    int untracked;                      /* ...unless it had more than that */
    struct store_burst burst;           /* usage_burst (when the policy has it) */
    uint8_t burst_loaded;
    uint8_t burst_dirty;                /* 1: changed; 2: being flushed */
};

/* Usage of one SIM on one day counted since the last flush. */
struct usage_acc {
    int64_t sim_id, tenant_id;
    int32_t day;                        /* days since the epoch (UTC) */
    uint64_t in, out;
};

/* One session's change in the batch, for the detectors after the commit. */
struct batch_event {
    uint32_t v;                         /* session slot */
    int64_t session_row;                /* its store id when the event happened */
    int64_t sim_id, tenant_id;          /* its SIM then, for usage_daily */
    uint64_t seq;                       /* the record's place in the queue */
    uint64_t d_in, d_out;
    int64_t recv_ms;
    int64_t t0_ns;
    int created;
    uint8_t changed;                    /* CHG_*: what moved mid-session */
    uint8_t has_uli;
};

#define CHG_LOCATION 1u
#define CHG_RAT 2u
#define CHG_IMEI 4u

struct accounting {
    struct engine *eng;
    struct store *st;
    int qslot;
    int online;                         /* inside acct_online() */
    int in_thread;                      /* accounting_main has started */
    pthread_t thread;
    int running;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct acct_record *ring;
    uint32_t cap, head, count;
    int stop;
    uint64_t seq_in;                    /* records queued so far */
    /* Disconnect / restrict commands overtake the records: they are run
     * before the next batch and between the rows of a flush, so that the
     * time to cut a session does not depend on the accounting backlog.  A
     * command is still owed to the records queued before it (a Start of
     * that SIM): those stay in `owed` until applied (see detect()). */
    struct acct_record *cmds;
    uint32_t cmd_head, ncmd;
    _Atomic uint32_t cmds_waiting;
    _Atomic uint64_t cmds_refused;      /* the queue of ACCT_CMD_QUEUE was full */
    _Atomic uint64_t cmds_lost;         /* `owed` (ACCT_CMD_CATCHUP) was full */
    struct acct_record *owed;
    uint32_t nowed;
    uint64_t seq_applied;               /* records applied and committed */
    uint64_t owed_lost;                 /* commands `owed` could not keep */

    struct acct_record *batch;
    struct undo *undo;
    uint32_t nundo, undo_cap;
    /* What the current batch did, added to the counters only once it is
     * committed (and forgotten if it is not). */
    struct {
        int64_t open_delta;
        uint64_t started, stopped, stale, nas_reset, reordered, resets;
        uint64_t octets_in, octets_out;
    } bc;

    /* Sessions: slot 0 unused so that 0 means "empty" in the index. */
    struct store_session *s;
    uint32_t ns, scap;
    uint32_t *free_list;
    uint32_t nfree;
    uint32_t *idx;              /* session slot, 0 = empty */
    uint32_t icap, iused;

    int64_t last_stale_check;
    uint64_t batch_seq;

    struct batch_event *ev;
    uint32_t nev;
    /* Written to the store at the next flush: sessions (dirty == 1; the
     * list may hold a slot twice or a slot since reused: the flag decides)
     * and usage per SIM and day. */
    uint32_t *dirty;
    uint32_t ndirty, dirty_cap;
    int dirty_lost;                     /* the list could not grow: scan all */
    struct usage_acc *ua;               /* slot 0 unused */
    uint32_t nua, uacap;
    uint32_t *uaidx, uaicap;
    int64_t next_session_id;
    int64_t log_id;                     /* last committed log row */
    int64_t batch_log_id;               /* last log row of the current batch */
    int64_t flushed_log_id;             /* the mark in the store */
    int64_t last_flush;
    uint32_t flush_ms;
    uint32_t retention_days;
    int64_t next_retention;             /* when to look for old log rows again */
    uint64_t flush_req, flush_done;     /* accounting_flush() handshake */
    int flush_result;
    int flush_failed;
    pthread_cond_t flushed;
    struct mmsghdr *mm;                 /* the batch's replies, for sendmmsg */
    struct iovec *iov;
    struct deleted_name {               /* SIMs deleted (accounting_forget_sim), */
        uint32_t sim_id;                /* a ring: sim_id 0 = empty */
        char iccid[23];
    } deleted[ACCT_DELETED_NAMES];
    uint32_t deleted_next;
    struct sim_usage *su;               /* slot 0 unused */
    uint32_t nsu, sucap;
    uint32_t *suidx;                    /* sim_id hash → su slot, 0 = empty */
    uint32_t suicap;
    _Atomic uint64_t records, batches, overload, store_errors, sessions_open;
    _Atomic uint64_t started, stopped, stale_closed, nas_reset_closed, reordered, resets;
    _Atomic uint64_t octets_in, octets_out;
    _Atomic uint64_t dm_sent, dm_ack, dm_nak, dm_timeout, dm_error;
    _Atomic uint64_t dm_lat[ACCT_LAT_BUCKETS];
    _Atomic uint64_t flushes, flushed_rows, flush_errors, ndirty_now;
    _Atomic int64_t last_flush_ms, redone;
    _Atomic uint64_t retention_deleted;
    /* Consecutive failed batches and flushes: a full or read-only disk
     * fails every one of them, so only the first failure and the recovery
     * are logged (the counters say how many). */
    uint64_t batches_failing, flushes_failing;
};

static struct sim_usage *sim_usage_of(struct accounting *a, uint32_t sim_id);
static uint32_t su_hash(uint32_t sim_id, uint32_t cap);
static void check_burst(struct accounting *a, struct sim_usage *u, const struct sim_view *sim,
                        const struct policy *p, const struct store_session *s,
                        const struct batch_event *be);
static void sim_usage_load(struct accounting *a, struct sim_usage *u, int64_t ms,
                           const struct policy *p);
static uint32_t passed_bits(const struct policy *p, int period, uint64_t in, uint64_t out);
static void track_session(struct sim_usage *u, const struct accounting *a, uint32_t v);

/* QSBR online sections of the accounting thread (simtab reads); `online`
 * tells the busy handler whether it may start one of its own. */
static void acct_online(struct accounting *a)
{
    qsbr_online(a->eng->qsbr, a->qslot);
    a->online = 1;
}

static void acct_offline(struct accounting *a)
{
    a->online = 0;
    qsbr_offline(a->eng->qsbr, a->qslot);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a over "nas\0session-id". */
static uint64_t key_hash(const char *nas, const char *sid)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = nas; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = sid; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int idx_grow(struct accounting *a)
{
    uint32_t ncap = a->icap ? a->icap * 2 : 1024;
    uint32_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return -ENOMEM;
    for (uint32_t i = 0; i < a->icap; i++) {
        uint32_t v = a->idx[i];
        if (!v)
            continue;
        uint32_t j = (uint32_t)key_hash(a->s[v].nas, a->s[v].acct_session_id) & (ncap - 1);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = v;
    }
    free(a->idx);
    a->idx = n;
    a->icap = ncap;
    return 0;
}

static uint32_t find(struct accounting *a, const char *nas, const char *sid)
{
    if (!a->icap)
        return 0;
    uint32_t j = (uint32_t)key_hash(nas, sid) & (a->icap - 1);
    while (a->idx[j]) {
        struct store_session *s = &a->s[a->idx[j]];
        if (strcmp(s->acct_session_id, sid) == 0 && strcmp(s->nas, nas) == 0)
            return a->idx[j];
        j = (j + 1) & (a->icap - 1);
    }
    return 0;
}

static int idx_put(struct accounting *a, uint32_t v)
{
    if ((a->iused + 1) * 2 > a->icap && idx_grow(a) < 0)
        return -ENOMEM;
    uint32_t j = (uint32_t)key_hash(a->s[v].nas, a->s[v].acct_session_id) & (a->icap - 1);
    while (a->idx[j])
        j = (j + 1) & (a->icap - 1);
    a->idx[j] = v;
    a->iused++;
    return 0;
}

static void idx_del(struct accounting *a, uint32_t v)
{
    uint32_t mask = a->icap - 1;
    uint32_t j = (uint32_t)key_hash(a->s[v].nas, a->s[v].acct_session_id) & mask;
    while (a->idx[j] && a->idx[j] != v)
        j = (j + 1) & mask;
    if (!a->idx[j])
        return;
    /* Backward-shift deletion keeps probe chains whole. */
    uint32_t hole = j;
    for (uint32_t i = (j + 1) & mask; a->idx[i]; i = (i + 1) & mask) {
        uint32_t w = a->idx[i];
        uint32_t home = (uint32_t)key_hash(a->s[w].nas, a->s[w].acct_session_id) & mask;
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            a->idx[hole] = w;
            hole = i;
        }
    }
    a->idx[hole] = 0;
    a->iused--;
}

/* A free session slot (not yet indexed), or 0 when out of memory. */
static uint32_t slot_alloc(struct accounting *a)
{
    if (a->nfree)
        return a->free_list[--a->nfree];
    if (a->ns == a->scap) {
        uint32_t ncap = a->scap ? a->scap * 2 : 1024;
        struct store_session *n = realloc(a->s, (size_t)ncap * sizeof *n);
        uint32_t *f = realloc(a->free_list, (size_t)ncap * sizeof *f);
        if (!n || !f) {
            if (n)
                a->s = n;
            if (f)
                a->free_list = f;
            return 0;
        }
        a->s = n;
        a->free_list = f;
        a->scap = ncap;
        if (a->ns == 0)
            a->ns = 1;      /* slot 0 is "none" */
    }
    return a->ns++;
}

static void slot_release(struct accounting *a, uint32_t v)
{
    idx_del(a, v);
    a->s[v].open = 0;
    a->s[v].acct_session_id[0] = '\0';
    a->free_list[a->nfree++] = v;
}

static int on_loaded(void *ctx, const struct store_session *ss)
{
    struct accounting *a = ctx;
    uint32_t v = slot_alloc(a);
    if (!v)
        return -ENOMEM;
    a->s[v] = *ss;
    if (idx_put(a, v) < 0)
        return -ENOMEM;
    if (ss->open)
        atomic_fetch_add(&a->sessions_open, 1);
    return 0;
}

static void mark_dirty(struct accounting *a, uint32_t v)
{
    if (a->s[v].dirty == 1)
        return;
    a->s[v].dirty = 1;
    if (a->ndirty == a->dirty_cap) {
        uint32_t ncap = a->dirty_cap ? a->dirty_cap * 2 : 4096;
        uint32_t *n = realloc(a->dirty, (size_t)ncap * sizeof *n);
        if (!n) {
            a->dirty_lost = 1;      /* the flush scans every slot instead */
            return;
        }
        a->dirty = n;
        a->dirty_cap = ncap;
    }
    a->dirty[a->ndirty++] = v;
}

static uint32_t ua_hash(int64_t sim_id, int32_t day, uint32_t cap)
{
    uint64_t k = (uint64_t)sim_id * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uint32_t)day * 0xc2b2ae3d27d4eb4fULL;
    return (uint32_t)(k >> 32) & (cap - 1);
}

/* Rebuild the usage map's index (its entries were moved). */
static void ua_reindex(struct accounting *a)
{
    memset(a->uaidx, 0, (size_t)a->uaicap * sizeof *a->uaidx);
    for (uint32_t i = 1; i < a->nua; i++) {
        uint32_t j = ua_hash(a->ua[i].sim_id, a->ua[i].day, a->uaicap);
        while (a->uaidx[j])
            j = (j + 1) & (a->uaicap - 1);
        a->uaidx[j] = i;
    }
}

/* Add usage to the SIM's day, to be written at the next flush. */
static int usage_acc_add(struct accounting *a, int64_t sim_id, int64_t tenant_id, int64_t ms,
                         uint64_t in, uint64_t out)
{
    int32_t day = (int32_t)(ms / 86400000);
    if (a->uaicap) {
        for (uint32_t j = ua_hash(sim_id, day, a->uaicap); a->uaidx[j];
             j = (j + 1) & (a->uaicap - 1)) {
            struct usage_acc *u = &a->ua[a->uaidx[j]];
            if (u->sim_id == sim_id && u->day == day) {
                u->in += in;
                u->out += out;
                return 0;
            }
        }
    }
    if (a->nua == 0)
        a->nua = 1;
    if ((a->nua + 1) * 2 > a->uaicap) {
        uint32_t ncap = a->uaicap ? a->uaicap * 2 : 1024;
        uint32_t *n = calloc(ncap, sizeof *n);
        if (!n)
            return -ENOMEM;
        for (uint32_t i = 1; i < a->nua; i++) {
            uint32_t j = ua_hash(a->ua[i].sim_id, a->ua[i].day, ncap);
            while (n[j])
                j = (j + 1) & (ncap - 1);
            n[j] = i;
        }
        free(a->uaidx);
        a->uaidx = n;
        a->uaicap = ncap;
    }
    if (a->nua >= a->uacap) {
        uint32_t ncap = a->uacap ? a->uacap * 2 : 1024;
        struct usage_acc *n = realloc(a->ua, (size_t)ncap * sizeof *n);
        if (!n)
            return -ENOMEM;
        a->ua = n;
        a->uacap = ncap;
    }
    a->ua[a->nua] = (struct usage_acc){ .sim_id = sim_id, .tenant_id = tenant_id, .day = day,
                                        .in = in, .out = out };
    uint32_t j = ua_hash(sim_id, day, a->uaicap);
    while (a->uaidx[j])
        j = (j + 1) & (a->uaicap - 1);
    a->uaidx[j] = a->nua++;
    return 0;
}

/*
 * Redo one log row past the mark (start-up after a crash): its usage, and
 * its session's state when the sessions table does not have it yet.  A row
 * whose session has a closed row in the table is history (its end was
 * written at once); an open session in memory takes the snapshot; one the
 * table never saw is created from it.
 */
static int on_redo(void *ctx, const struct store_acct_redo *d)
{
    struct accounting *a = ctx;
    atomic_fetch_add(&a->redone, 1);
    if (d->log_id > a->log_id)
        a->log_id = d->log_id;
    if (!d->s.id)
        return 0;           /* Accounting-On / -Off, or a pre-log record */
    if (d->s.id >= a->next_session_id)
        a->next_session_id = d->s.id + 1;
    if (d->s.sim_id && (d->d_in || d->d_out) &&
        usage_acc_add(a, d->s.sim_id, d->s.tenant_id, d->ts_ms, d->d_in, d->d_out) < 0)
        return -ENOMEM;
    uint32_t v = find(a, d->s.nas, d->s.acct_session_id);
    if (v && a->s[v].id == d->s.id) {
        struct store_session *s = &a->s[v];
        if (!s->open || !d->s.open)
            return 0;
        snprintf(s->imei, sizeof s->imei, "%s", d->s.imei);
        snprintf(s->plmn, sizeof s->plmn, "%s", d->s.plmn);
        s->framed_ip = d->s.framed_ip;
        s->rat = d->s.rat;
        s->area = d->s.area;
        s->cell = d->s.cell;
        s->updated_ms = d->s.updated_ms;
        s->in_octets = d->s.in_octets;
        s->out_octets = d->s.out_octets;
        s->last_in = d->s.last_in;
        s->last_out = d->s.last_out;
        s->last_time = d->s.last_time;
        s->nas_ip = d->s.nas_ip;
        mark_dirty(a, v);
        return 0;
    }
    if (d->row_exists || !d->s.open)
        return 0;
    if (v) {
        /* The key's earlier session (closed) gives way to this one. */
        if (a->s[v].open || a->s[v].id > d->s.id)
            return 0;
    } else {
        if (!(v = slot_alloc(a)))
            return -ENOMEM;
        a->s[v] = d->s;
        if (idx_put(a, v) < 0)
            return -ENOMEM;
        atomic_fetch_add(&a->sessions_open, 1);
        mark_dirty(a, v);
        return 0;
    }
    a->s[v] = d->s;
    atomic_fetch_add(&a->sessions_open, 1);
    mark_dirty(a, v);
    return 0;
}

/* Detector state after a restart: each SIM's live sessions (for
 * concurrent_sessions) and the session thresholds already passed (reported
 * before the restart, not again). */
static void restore_detectors(struct accounting *a)
{
    for (uint32_t v = 1; v < a->ns; v++) {
        struct store_session *ss = &a->s[v];
        struct sim_view sim;
        if (!ss->open || !ss->sim_id || !ss->imsi[0] ||
            simtab_get(a->eng->sims, ss->imsi, strlen(ss->imsi), &sim) < 0)
            continue;
        struct sim_usage *u = sim_usage_of(a, sim.id);
        if (u)
            track_session(u, a, v);
        ss->usage_fired = passed_bits(engine_policy_of(a->eng, sim.group_id), USAGE_SESSION,
                                      ss->in_octets, ss->out_octets);
    }
}

static int flush(struct accounting *a, int64_t now, int force);
static void run_commands(struct accounting *a);

/* The store is locked by another connection (the checkpointer's RESTART,
 * a CLI import): run the queued commands, wait 250 µs, try again — for at
 * most about 10 s, then the batch fails (and is retried, unacknowledged). */
static int on_busy(void *ctx, int n)
{
    struct accounting *a = ctx;
    if (n >= 40000)
        return 0;
    if (a->in_thread)
        run_commands(a);
    struct timespec ts = { 0, 250000 };
    nanosleep(&ts, NULL);
    return 1;
}

int accounting_new(struct engine *e, struct store *st, const struct accounting_options *o,
                   struct accounting **ret)
{
    uint32_t queue = o->queue ? o->queue : 65536;
    struct accounting *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->eng = e;
    a->st = st;
    a->cap = queue;
    a->flush_ms = o->flush_ms ? o->flush_ms : ACCT_FLUSH_MS;
    a->retention_days = o->retention_days;
    a->batch_seq = 1;
    a->ring = calloc(queue, sizeof *a->ring);
    a->batch = calloc(ACCT_BATCH, sizeof *a->batch);
    a->ev = calloc(ACCT_BATCH, sizeof *a->ev);
    a->mm = calloc(ACCT_BATCH, sizeof *a->mm);
    a->iov = calloc(ACCT_BATCH, sizeof *a->iov);
    a->cmds = calloc(ACCT_CMD_QUEUE, sizeof *a->cmds);
    a->owed = calloc(ACCT_CMD_CATCHUP, sizeof *a->owed);
    a->undo_cap = ACCT_BATCH * 2;
    a->undo = calloc(a->undo_cap, sizeof *a->undo);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    pthread_cond_init(&a->flushed, NULL);
    int r = -ENOMEM;
    if (!a->ring || !a->batch || !a->undo || !a->ev || !a->mm || !a->iov || !a->cmds ||
        !a->owed || (a->qslot = qsbr_register(e->qsbr)) < 0)
        goto fail;
    store_durable(st);
    /* While the store is busy (a checkpoint finishing), the commands still
     * go out. */
    store_busy_handler(st, on_busy, a);
    /* Open sessions, and those closed recently enough to still answer a
     * retransmitted Stop without counting it again. */
    int64_t since = now_ms() - ACCT_CLOSED_LINGER_MS;
    if ((r = store_sessions_load(st, since, on_loaded, a)) < 0)
        goto fail;
    /* Then what the log holds beyond the tables (a crash before a flush). */
    int64_t max_session;
    if ((r = store_acct_mark_get(st, &a->flushed_log_id)) < 0 ||
        (r = store_acct_max_ids(st, &max_session, &a->log_id)) < 0)
        goto fail;
    a->next_session_id = max_session + 1;
    acct_online(a);
    r = store_acct_redo(st, a->flushed_log_id, on_redo, a);
    if (r == 0) {
        restore_detectors(a);
        r = flush(a, now_ms(), 1);
    }
    acct_offline(a);
    if (r < 0)
        goto fail;
    if (atomic_load(&a->redone))
        log_info("accounting: %lld log records redone after an unclean stop",
                 (long long)atomic_load(&a->redone));
    *ret = a;
    return 0;
fail:
    a->st = NULL;       /* the caller still owns it on failure */
    accounting_free(a);
    return r;
}

static int submit_command(struct accounting *a, const struct acct_record *r)
{
    pthread_mutex_lock(&a->lock);
    if (a->ncmd == ACCT_CMD_QUEUE) {
        pthread_mutex_unlock(&a->lock);
        atomic_fetch_add(&a->cmds_refused, 1);
        log_err("accounting: %u disconnect / restrict commands waiting: one refused",
                ACCT_CMD_QUEUE);
        return -ENOBUFS;
    }
    struct acct_record *c = &a->cmds[(a->cmd_head + a->ncmd) % ACCT_CMD_QUEUE];
    *c = *r;
    c->seq = a->seq_in;
    if (a->ncmd++ == 0 && a->count == 0)
        pthread_cond_signal(&a->cond);
    atomic_store(&a->cmds_waiting, a->ncmd);
    pthread_mutex_unlock(&a->lock);
    return 0;
}

int accounting_submit(struct accounting *a, const struct acct_record *r)
{
    pthread_mutex_lock(&a->lock);
    if (a->count == a->cap) {
        pthread_mutex_unlock(&a->lock);
        atomic_fetch_add(&a->overload, 1);
        return -ENOBUFS;
    }
    a->ring[(a->head + a->count) % a->cap] = *r;
    a->ring[(a->head + a->count) % a->cap].seq = ++a->seq_in;
    /* The thread only sleeps on an empty ring: wake it once per batch,
     * not once per record. */
    if (a->count++ == 0 && a->ncmd == 0)
        pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return 0;
}

/*
 * Remember a session's state before the batch changes it (once per batch).
 * A batch of records touches at most one session each, but an
 * Accounting-On or the stale sweep may close many: the log then grows
 * (amortized, never per packet).  Returns -ENOMEM if it cannot.
 */
static int save_undo(struct accounting *a, uint32_t v, int created)
{
    /* Logged once per batch: the session remembers the batch that did. */
    if (a->s[v].undo_batch == a->batch_seq)
        return 0;
    if (a->nundo == a->undo_cap) {
        /* Doubling a zero (never: accounting_new() starts at 2 batches) or
         * wrapping uint32_t would realloc() to 0 bytes, which frees the log. */
        if (a->undo_cap == 0 || a->undo_cap > UINT32_MAX / 2)
            return -ENOMEM;
        struct undo *n = realloc(a->undo, (size_t)a->undo_cap * 2 * sizeof *n);
        if (!n)
            return -ENOMEM;
        a->undo = n;
        a->undo_cap *= 2;
    }
    a->undo[a->nundo].idx = v;
    a->undo[a->nundo].created = created;
    a->undo[a->nundo].before = a->s[v];
    a->nundo++;
    a->s[v].undo_batch = a->batch_seq;
    return 0;
}

static void day_of(int64_t ms, char out[11])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    /* Past year 9999 the date does not fit and strftime() leaves out[]
     * without a NUL; out is a store key. */
    if (!gmtime_r(&t, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 11, "0000-00-00");
}

/*
 * Fold a record's cumulative counters into a session; returns the deltas.
 * See accounting.h for the rules.
 */
static void fold_counters(struct accounting *a, struct store_session *s,
                          const struct acct_record *r, uint64_t *d_in, uint64_t *d_out)
{
    *d_in = *d_out = 0;
    if (r->has_time && r->session_time < s->last_time) {
        a->bc.reordered++;
        return;
    }
    int reset = r->in_octets < s->last_in || r->out_octets < s->last_out;
    if (reset)
        a->bc.resets++;
    *d_in = r->in_octets >= s->last_in ? r->in_octets - s->last_in : r->in_octets;
    *d_out = r->out_octets >= s->last_out ? r->out_octets - s->last_out : r->out_octets;
    s->last_in = r->in_octets;
    s->last_out = r->out_octets;
    if (r->has_time)
        s->last_time = r->session_time;
    s->in_octets += *d_in;
    s->out_octets += *d_out;
    a->bc.octets_in += *d_in;
    a->bc.octets_out += *d_out;
}

/* Count a session closing, by its reason. */
static void count_close(struct accounting *a, const char *why)
{
    a->bc.open_delta--;
    if (strcmp(why, "stop") == 0)
        a->bc.stopped++;
    else if (strcmp(why, "stale") == 0)
        a->bc.stale++;
    else if (strcmp(why, "accounting-on") == 0 || strcmp(why, "accounting-off") == 0)
        a->bc.nas_reset++;
    /* "disconnect" is counted by the Disconnect outcome (dm_ack). */
}

/* Write a session's row in this batch (its start or end: the CLI and a
 * restart must see it at once).  The undo log puts `stored` back if the
 * batch fails. */
static int save_now(struct accounting *a, struct store_session *s)
{
    int e = store_session_save(a->st, s);
    if (e == 0)
        s->stored = 1;
    return e;
}

/* Append a record to the accounting log, with its session after it. */
static int log_record(struct accounting *a, const struct acct_record *r,
                      const struct store_session *s, uint64_t d_in, uint64_t d_out)
{
    struct store_acct_log l = {
        .ts_ms = r->recv_ms, .nas = r->nas, .sid = r->session_id, .imsi = r->imsi,
        .status = (int)r->status, .in = r->in_octets, .out = r->out_octets,
        .session_time = r->session_time, .s = s, .d_in = d_in, .d_out = d_out,
    };
    return store_acct_log(a->st, &l, &a->batch_log_id);
}

static int close_session(struct accounting *a, uint32_t v, int64_t when, const char *why)
{
    struct store_session *s = &a->s[v];
    if (save_undo(a, v, 0) < 0)
        return -ENOMEM;
    s->open = 0;
    s->stopped_ms = when;
    s->updated_ms = when;
    snprintf(s->close_reason, sizeof s->close_reason, "%s", why);
    count_close(a, why);
    return save_now(a, s);
}

/* Accounting-On / -Off: the NAS restarted; every session it had is gone. */
static int close_nas(struct accounting *a, const struct acct_record *r)
{
    int n = 0;
    for (uint32_t v = 1; v < a->ns; v++) {
        struct store_session *s = &a->s[v];
        if (!s->open || strcmp(s->nas, r->nas) != 0)
            continue;
        int e = close_session(a, v, r->recv_ms, r->status == ACCT_ON ? "accounting-on"
                                                                     : "accounting-off");
        if (e < 0)
            return e;
        n++;
    }
    return n;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int accounting_restrict_sim(struct accounting *a, uint32_t sim_id, const char *why,
                            const char *filter_id, int64_t t0_ns)
{
    struct acct_record r;
    memset(&r, 0, sizeof r);
    r.status = ACCT_CMD_RESTRICT;
    r.sim_id = sim_id;
    r.t0_ns = t0_ns ? t0_ns : mono_ns();
    r.recv_ms = now_ms();
    snprintf(r.why, sizeof r.why, "%s", why);
    snprintf(r.filter_id, sizeof r.filter_id, "%s", filter_id);
    return submit_command(a, &r);
}

int accounting_disconnect_sim(struct accounting *a, uint32_t sim_id, const char *why,
                              int64_t t0_ns)
{
    struct acct_record r;
    memset(&r, 0, sizeof r);
    r.status = ACCT_CMD_DISCONNECT;
    r.sim_id = sim_id;
    r.t0_ns = t0_ns ? t0_ns : mono_ns();
    r.recv_ms = now_ms();
    snprintf(r.why, sizeof r.why, "%s", why);
    return submit_command(a, &r);
}

int accounting_forget_sim(struct accounting *a, uint32_t sim_id, const char *iccid)
{
    struct acct_record r;
    memset(&r, 0, sizeof r);
    r.status = ACCT_CMD_DISCONNECT;
    r.sim_id = sim_id;
    r.t0_ns = mono_ns();
    r.recv_ms = now_ms();
    snprintf(r.why, sizeof r.why, "deleted");
    snprintf(r.iccid, sizeof r.iccid, "%s", iccid);
    return submit_command(a, &r);
}

/* Start the evidence of an action or finding about session s: which SIM
 * (imsi may be NULL), which NAS, which session.  The caller adds and closes. */
static void session_evidence(struct jsonw *w, char *buf, size_t cap,
                             const struct store_session *s, const char *imsi)
{
    jsonw_init(w, buf, cap);
    jsonw_open(w);
    if (imsi)
        jsonw_str(w, "imsi", imsi);
    jsonw_str(w, "nas", s->nas);
    jsonw_str(w, "acct_session_id", s->acct_session_id);
}

/* The ICCID of a SIM deleted recently (accounting_forget_sim), or NULL. */
static const char *deleted_iccid(const struct accounting *a, int64_t sim_id)
{
    if (!sim_id)
        return NULL;
    for (uint32_t i = 0; i < ACCT_DELETED_NAMES; i++)
        if (a->deleted[i].sim_id == (uint32_t)sim_id)
            return a->deleted[i].iccid;
    return NULL;
}

/* Queue an action record (outcome of a disconnect) for the store and the SIEM. */
static void record_action(struct accounting *a, const struct store_session *s,
                          const char *action, const char *outcome, const char *detail)
{
    struct journal_msg m;
    struct sim_view sim;
    const char *gone;
    memset(&m, 0, sizeof m);
    m.type = JM_ACTION;
    m.sim_id = (uint32_t)s->sim_id;
    m.tenant_id = s->tenant_id;
    m.ts_ms = now_ms();
    /* The same target as the finding's action rows: the ICCID — of a
     * deleted SIM too, while it is remembered (a scan of the ring, only
     * for sessions whose SIM is no longer in the index). */
    if (s->imsi[0] && simtab_get(a->eng->sims, s->imsi, strlen(s->imsi), &sim) == 0)
        snprintf(m.subject, sizeof m.subject, "%s", sim.iccid);
    else if ((gone = deleted_iccid(a, s->sim_id)))
        snprintf(m.subject, sizeof m.subject, "%s", gone);
    else
        snprintf(m.subject, sizeof m.subject, "%s", s->imsi);
    snprintf(m.outcome, sizeof m.outcome, "%s", outcome);
    snprintf(m.action, sizeof m.action, "%s", action);
    snprintf(m.evidence, sizeof m.evidence, "%s", detail);
    (void)journal_push(a->eng->journal, &m);
}

/* Send a Disconnect-Request — or, for ACCT_CMD_RESTRICT, a CoA-Request with
 * the Filter-Id — for session v (inside a QSBR online section). */
static void disconnect_session(struct accounting *a, uint32_t v, const struct acct_record *cmd)
{
    int coa = cmd->status == ACCT_CMD_RESTRICT;
    const char *kind_name = coa ? "restrict" : "disconnect";
    struct store_session *s = &a->s[v];
    struct nas_target t;
    char detail[JOURNAL_EVIDENCE_MAX];
    struct jsonw w;

    session_evidence(&w, detail, sizeof detail, s, NULL);
    jsonw_str(&w, "cause", cmd->why);
    if (!a->eng->dynauth || !a->eng->srv ||
        radius_server_nas(a->eng->srv, s->nas, s->nas_ip, &t) < 0) {
        jsonw_str(&w, "error", "NAS no longer configured");
        jsonw_close(&w);
        jsonw_finish(&w);
        record_action(a, s, kind_name, "failed", detail);
        atomic_fetch_add(&a->dm_error, 1);
        return;
    }
    struct dynauth_request rq;
    memset(&rq, 0, sizeof rq);
    rq.kind = coa ? DYNAUTH_COA : DYNAUTH_DISCONNECT;
    if (coa)
        snprintf(rq.filter_id, sizeof rq.filter_id, "%s", cmd->filter_id);
    rq.nas = t.addr;
    rq.secret = t.secret;
    rq.nas_attrs = t.da_attrs;
    rq.cookie = (uint64_t)s->id;
    rq.t0_ns = cmd->t0_ns;
    if (s->imsi[0]) {
        snprintf(rq.user_name, sizeof rq.user_name, "%s", s->imsi);
        snprintf(rq.imsi, sizeof rq.imsi, "%s", s->imsi);
        rq.have |= DA_ATTR_USER_NAME | DA_ATTR_3GPP_IMSI;
    }
    if (strlen(s->acct_session_id) <= DYNAUTH_STR_MAX) {
        snprintf(rq.acct_session_id, sizeof rq.acct_session_id, "%s", s->acct_session_id);
        rq.have |= DA_ATTR_ACCT_SESSION_ID;
    }
    if (s->framed_ip) {
        rq.framed_ip = s->framed_ip;
        rq.have |= DA_ATTR_FRAMED_IP_ADDRESS;
    }
    snprintf(s->dm_cause, sizeof s->dm_cause, "%s", cmd->why);
    int e = dynauth_submit(a->eng->dynauth, &rq);
    radius_secret_wipe(&rq.secret);
    radius_secret_wipe(&t.secret);
    if (e < 0) {
        jsonw_str(&w, "error", e == -ENOBUFS ? "too many Disconnect-Requests pending"
                                             : "no identification attribute the NAS accepts");
        jsonw_close(&w);
        jsonw_finish(&w);
        record_action(a, s, kind_name, "failed", detail);
        atomic_fetch_add(&a->dm_error, 1);
        return;
    }
    atomic_fetch_add(&a->dm_sent, 1);
}

void accounting_dm_outcome(void *ctx, const struct dynauth_outcome *o)
{
    struct accounting *a = ctx;
    struct acct_record r;
    memset(&r, 0, sizeof r);
    r.status = ACCT_CMD_DM_OUTCOME;
    r.session_row = (int64_t)o->cookie;
    r.dm_result = (int)o->result;
    r.dm_kind = (int)o->kind;
    r.error_cause = o->error_cause;
    r.recv_ms = now_ms();
    if (o->sent_ns && o->t0_ns) {
        int64_t us = (o->sent_ns - o->t0_ns) / 1000;
        unsigned b = 0;
        while (b + 1 < ACCT_LAT_BUCKETS && (1LL << (b + 1)) <= us)
            b++;
        atomic_fetch_add(&a->dm_lat[b], 1);
    }
    switch (o->result) {
    case DYNAUTH_ACK: atomic_fetch_add(&a->dm_ack, 1); break;
    case DYNAUTH_NAK: atomic_fetch_add(&a->dm_nak, 1); break;
    case DYNAUTH_TIMEOUT: atomic_fetch_add(&a->dm_timeout, 1); break;
    default: atomic_fetch_add(&a->dm_error, 1); break;
    }
    r.t0_ns = o->sent_ns ? (o->sent_ns - o->t0_ns) / 1000 : -1;    /* latency µs */
    r.in_octets = o->attempts;
    (void)accounting_submit(a, &r);     /* full: the outcome is still counted */
}

static struct sim_usage *sim_usage_find(struct accounting *a, uint32_t sim_id)
{
    if (!a->suicap)
        return NULL;
    for (uint32_t j = su_hash(sim_id, a->suicap); a->suidx[j]; j = (j + 1) & (a->suicap - 1))
        if (a->su[a->suidx[j]].sim_id == sim_id)
            return &a->su[a->suidx[j]];
    return NULL;
}

/* Commands: disconnect a SIM's sessions; record a Disconnect outcome. */
static int apply_command(struct accounting *a, const struct acct_record *r)
{
    if (r->status == ACCT_CMD_DISCONNECT && r->iccid[0]) {
        /* A deleted SIM: remember its name for the actions to come. */
        struct deleted_name *d = &a->deleted[a->deleted_next++ % ACCT_DELETED_NAMES];
        d->sim_id = r->sim_id;
        snprintf(d->iccid, sizeof d->iccid, "%s", r->iccid);
    }
    if (r->status == ACCT_CMD_DISCONNECT || r->status == ACCT_CMD_RESTRICT) {
        /* The SIM's open sessions as the detectors track them; all of
         * them searched when it had more than they track, or none yet. */
        const struct sim_usage *u = sim_usage_find(a, r->sim_id);
        if (u && !u->untracked) {
            uint32_t slots[SIM_SESS_TRACK];
            memcpy(slots, u->sess, sizeof slots);
            for (int i = 0; i < SIM_SESS_TRACK; i++) {
                uint32_t v = slots[i];
                if (v && a->s[v].open && a->s[v].acct_session_id[0] &&
                    a->s[v].sim_id == (int64_t)r->sim_id)
                    disconnect_session(a, v, r);
            }
            return 0;
        }
        for (uint32_t v = 1; v < a->ns; v++)
            if (a->s[v].open && a->s[v].acct_session_id[0] &&
                a->s[v].sim_id == (int64_t)r->sim_id)
                disconnect_session(a, v, r);
        return 0;
    }
    /* ACCT_CMD_DM_OUTCOME: find the session by its store id. */
    for (uint32_t v = 1; v < a->ns; v++) {
        struct store_session *s = &a->s[v];
        if (s->id != r->session_row || !s->acct_session_id[0])
            continue;
        char detail[JOURNAL_EVIDENCE_MAX];
        struct jsonw w;
        session_evidence(&w, detail, sizeof detail, s, NULL);
        jsonw_str(&w, "result", dynauth_result_name(r->dm_result));
        if (s->dm_cause[0])
            jsonw_str(&w, "cause", s->dm_cause);
        if (r->error_cause) {
            jsonw_int(&w, "error_cause", r->error_cause);
            jsonw_str(&w, "error_cause_name", dynauth_error_cause_name(r->error_cause));
        }
        jsonw_int(&w, "attempts", (int64_t)r->in_octets);
        jsonw_int(&w, "trigger_to_wire_us", r->t0_ns);
        jsonw_close(&w);
        jsonw_finish(&w);
        int coa = r->dm_kind == DYNAUTH_COA;
        record_action(a, s, coa ? "restrict" : "disconnect", dynauth_result_name(r->dm_result),
                      detail);
        /* RFC 5176 §3.1: a Disconnect-ACK means the session is gone (a
         * CoA-ACK only that it is now restricted). */
        if (!coa && r->dm_result == DYNAUTH_ACK && s->open)
            return close_session(a, v, r->recv_ms, "disconnect");
        return 0;
    }
    return 0;
}

/* Run the queued disconnect / restrict commands now (accounting thread). */
static void run_commands(struct accounting *a)
{
    struct acct_record c[16];
    for (;;) {
        pthread_mutex_lock(&a->lock);
        uint32_t n = a->ncmd < 16 ? a->ncmd : 16;
        /* cppcheck does not see other threads queue commands under the lock. */
        // cppcheck-suppress knownConditionTrueFalse
        for (uint32_t i = 0; i < n; i++)
            c[i] = a->cmds[(a->cmd_head + i) % ACCT_CMD_QUEUE];
        a->cmd_head = (a->cmd_head + n) % ACCT_CMD_QUEUE;
        a->ncmd -= n;
        atomic_store(&a->cmds_waiting, a->ncmd);
        pthread_mutex_unlock(&a->lock);
        // cppcheck-suppress knownConditionTrueFalse
        if (!n)
            return;
        int was_online = a->online;
        if (!was_online)
            acct_online(a);
        // cppcheck-suppress knownConditionTrueFalse
        for (uint32_t i = 0; i < n; i++) {
            (void)apply_command(a, &c[i]);
            if (c[i].seq > a->seq_applied) {
                if (a->nowed < ACCT_CMD_CATCHUP) {
                    a->owed[a->nowed++] = c[i];
                } else {
                    atomic_fetch_add(&a->cmds_lost, 1);
                    if (a->owed_lost++ % 1000 == 0)
                        log_warn("accounting: %llu commands more than %u ahead of the records: "
                                 "a session starting just before one of them may not be cut",
                                 (unsigned long long)a->owed_lost, ACCT_CMD_CATCHUP);
                }
            }
        }
        if (!was_online)
            acct_offline(a);
    }
}

/* In every loop over many sessions or records: a queued Disconnect goes
 * out within a few hundred rows, not after the loop. */
static void poll_commands(struct accounting *a, uint32_t *tick)
{
    if ((++*tick & 255) == 0 && atomic_load_explicit(&a->cmds_waiting, memory_order_relaxed))
        run_commands(a);
}

/* A session created by a record queued before a command the thread already
 * ran: run it for this session too (the order the events happened in). */
static void pay_owed(struct accounting *a, uint32_t v, uint64_t rec_seq)
{
    for (uint32_t i = 0; i < a->nowed; i++)
        if (a->owed[i].sim_id == (uint32_t)a->s[v].sim_id && rec_seq <= a->owed[i].seq &&
            a->s[v].open)
            disconnect_session(a, v, &a->owed[i]);
}

static int apply(struct accounting *a, const struct acct_record *r)
{
    int e;
    if (r->status >= ACCT_CMD_DISCONNECT)
        return apply_command(a, r);
    if (r->status == ACCT_ON || r->status == ACCT_OFF) {
        if ((e = log_record(a, r, NULL, 0, 0)) < 0)
            return e;
        return close_nas(a, r) < 0 ? -EIO : 0;
    }

    uint32_t v = find(a, r->nas, r->session_id);
    int created = 0;
    int reborn = 0;
    if (v && !a->s[v].open) {
        /* A closed session still lingering (see ACCT_CLOSED_LINGER_MS).  A
         * retransmitted Stop or a late Interim only needs its answer; a new
         * Start reuses the Acct-Session-Id for a new session, in the same
         * slot (same key), as a new row. */
        if (r->status != ACCT_START)
            return log_record(a, r, &a->s[v], 0, 0);
        if (save_undo(a, v, 0) < 0)
            return -ENOMEM;
        reborn = 1;
    }
    if (!v || reborn) {
        /* Start, or an Interim / Stop whose Start we never saw. */
        if (!reborn && !(v = slot_alloc(a)))
            return -ENOMEM;
        struct store_session *s = &a->s[v];
        memset(s, 0, sizeof *s);
        s->id = a->next_session_id++;
        snprintf(s->nas, sizeof s->nas, "%s", r->nas);
        snprintf(s->acct_session_id, sizeof s->acct_session_id, "%s", r->session_id);
        snprintf(s->imsi, sizeof s->imsi, "%s", r->imsi);
        s->tenant_id = r->nas_tenant_id;
        s->started_ms = r->recv_ms - (r->has_time ? (int64_t)r->session_time * 1000 : 0);
        s->open = 1;
        struct sim_view sim;
        const struct policy *p = a->eng->default_policy;
        if (r->imsi[0] && simtab_get(a->eng->sims, r->imsi, strlen(r->imsi), &sim) == 0) {
            s->sim_id = sim.id;
            s->tenant_id = sim.tenant_id;
            p = engine_policy_of(a->eng, sim.group_id);
        }
        s->interim = p->interim_interval;
        if (!reborn) {
            if (idx_put(a, v) < 0) {
                a->free_list[a->nfree++] = v;
                return -ENOMEM;
            }
            created = 1;
        }
        a->bc.started++;
        a->bc.open_delta++;
    }
    if (save_undo(a, v, created) < 0)
        return -ENOMEM;
    struct store_session *s = &a->s[v];
    uint64_t d_in, d_out;
    fold_counters(a, s, r, &d_in, &d_out);
    if (s->sim_id && a->nev < ACCT_BATCH) {
        struct batch_event *be = &a->ev[a->nev++];
        be->v = v;
        be->sim_id = s->sim_id;
        be->tenant_id = s->tenant_id;
        be->d_in = d_in;
        be->d_out = d_out;
        be->recv_ms = r->recv_ms;
        be->t0_ns = r->t0_ns;
        be->seq = r->seq;
        be->created = created || reborn;
        be->changed = 0;
        be->has_uli = r->area || r->cell;
        /* Mid-session moves (the Start was judged at attach). */
        if (!be->created) {
            char pl[8] = "";
            if (r->plmn.mnc_digits)
                gpp_plmn_format(&r->plmn, pl);
            if (pl[0] && (strcmp(pl, s->plmn) != 0 || r->area != s->area || r->cell != s->cell))
                be->changed |= CHG_LOCATION;
            if (r->rat && r->rat != s->rat)
                be->changed |= CHG_RAT;
            if (r->imeisv[0] && strncmp(r->imeisv, s->imei, 14) != 0)
                be->changed |= CHG_IMEI;
        }
    }
    s->updated_ms = r->recv_ms;
    s->nas_ip = ntohl(r->from.sin_addr.s_addr);
    if (r->imeisv[0])
        snprintf(s->imei, sizeof s->imei, "%s", r->imeisv);
    if (r->framed_ip)
        s->framed_ip = r->framed_ip;
    if (r->rat)
        s->rat = r->rat;
    if (r->plmn.mnc_digits) {
        gpp_plmn_format(&r->plmn, s->plmn);
        s->area = r->area;
        s->cell = r->cell;
    }
    if (r->status == ACCT_STOP) {
        s->open = 0;
        s->stopped_ms = r->recv_ms;
        snprintf(s->close_reason, sizeof s->close_reason, "stop");
        count_close(a, "stop");
        if ((e = save_now(a, s)) < 0)
            return e;
    }
    if (s->sim_id && a->nev && a->ev[a->nev - 1].v == v)
        a->ev[a->nev - 1].session_row = s->id;
    if (s->sim_id) {
        /* First sight of this SIM since start: its usage so far today and
         * this month, read before this record adds to it, with the
         * thresholds it had already passed (reported before, not again). */
        struct sim_usage *u = sim_usage_of(a, (uint32_t)s->sim_id);
        struct sim_view sim;
        if (u && u->day == -1 && simtab_get(a->eng->sims, s->imsi, strlen(s->imsi), &sim) == 0)
            sim_usage_load(a, u, r->recv_ms, engine_policy_of(a->eng, sim.group_id));
    }
    return log_record(a, r, s, d_in, d_out);
}

/* After a commit: the batch's counts become the counters.  Closed sessions
 * linger in memory for ACCT_CLOSED_LINGER_MS so that a retransmitted Stop
 * is not a new session. */
static void settle(struct accounting *a, uint32_t n)
{
    uint32_t wire = 0;
    for (uint32_t i = 0; i < n; i++)
        wire += a->batch[i].reply_len != 0;
    if (a->bc.open_delta >= 0)
        atomic_fetch_add(&a->sessions_open, (uint64_t)a->bc.open_delta);
    else
        atomic_fetch_sub(&a->sessions_open, (uint64_t)-a->bc.open_delta);
    atomic_fetch_add(&a->started, a->bc.started);
    atomic_fetch_add(&a->stopped, a->bc.stopped);
    atomic_fetch_add(&a->stale_closed, a->bc.stale);
    atomic_fetch_add(&a->nas_reset_closed, a->bc.nas_reset);
    atomic_fetch_add(&a->reordered, a->bc.reordered);
    atomic_fetch_add(&a->resets, a->bc.resets);
    atomic_fetch_add(&a->octets_in, a->bc.octets_in);
    atomic_fetch_add(&a->octets_out, a->bc.octets_out);
    atomic_fetch_add(&a->records, wire);
    atomic_fetch_add(&a->batches, 1);
    for (uint32_t i = 0; i < n; i++)
        if (a->batch[i].seq > a->seq_applied)
            a->seq_applied = a->batch[i].seq;
    /* What the next flush writes: the sessions the batch changed (an end
     * is already written) and the usage it counted. */
    for (uint32_t i = 0; i < a->nundo; i++) {
        uint32_t v = a->undo[i].idx;
        if (a->s[v].open && a->s[v].acct_session_id[0])
            mark_dirty(a, v);
    }
    for (uint32_t i = 0; i < a->nev; i++) {
        const struct batch_event *be = &a->ev[i];
        if ((be->d_in || be->d_out) &&
            usage_acc_add(a, be->sim_id, be->tenant_id, be->recv_ms, be->d_in, be->d_out) < 0) {
            /* Not lost: the log holds it, and the mark stays behind it
             * until a flush succeeds (see flush()). */
            a->flush_failed = 1;
            log_err("accounting: out of memory for usage; redone from the log at restart");
        }
    }
    a->log_id = a->batch_log_id;
    atomic_store(&a->ndirty_now, a->ndirty);
}

/*
 * Write the sessions and the usage changed since the last flush, and move
 * the mark to the last log row they include — in one transaction, so that
 * after a crash the log rows past the mark are exactly what to redo.  Every
 * flush_ms, when ACCT_FLUSH_DIRTY sessions changed, or when forced.
 * On failure nothing is forgotten: the sessions stay dirty, the usage
 * stays counted in memory, and the next flush tries again.
 */
static int by_session_id(const void *x, const void *y, void *base)
{
    const struct store_session *s = base;
    int64_t a = s[*(const uint32_t *)x].id, b = s[*(const uint32_t *)y].id;
    return (a > b) - (a < b);
}

static int by_sim_day(const void *x, const void *y)
{
    const struct usage_acc *a = x, *b = y;
    if (a->sim_id != b->sim_id)
        return (a->sim_id > b->sim_id) - (a->sim_id < b->sim_id);
    return (a->day > b->day) - (a->day < b->day);
}

/* A flush that failed: counted; logged only when the previous one worked. */
static void flush_failed(struct accounting *a, const char *what)
{
    atomic_fetch_add(&a->flush_errors, 1);
    if (a->flushes_failing++ == 0)
        log_err("accounting: writing %s failed (kept, retried every flush; logged once,"
                " counted in flush_errors): %s", what, store_errmsg(a->st));
}

static int flush(struct accounting *a, int64_t now, int force)
{
    if (!force && now - a->last_flush < a->flush_ms && a->ndirty < ACCT_FLUSH_DIRTY)
        return 0;
    a->last_flush = now;
    if (!a->ndirty && !a->dirty_lost && a->nua <= 1 && a->log_id == a->flushed_log_id)
        return 0;
    if (a->flush_failed) {
        /* Usage was not kept in memory: move no mark (the log redoes it). */
        log_warn("accounting: flush skipped until restart (usage kept only in the log)");
        return -ENOMEM;
    }
    int64_t t0 = now_ms();
    uint64_t rows = 0;
    uint32_t tick = 0;
    int e = 0;
    /* 1. The sessions, in transactions of ACCT_FLUSH_CHUNK rows with the
     * queued commands run in between.  A row is a snapshot: written twice,
     * or redone from the log over a newer one, it ends the same.  In the
     * order of their ids, so that the B-tree is walked, not jumped about. */
    uint32_t n = a->dirty_lost ? a->ns : a->ndirty;
    if (!a->dirty_lost && n > 0) {
        qsort_r(a->dirty, n, sizeof *a->dirty, by_session_id, a->s);
    }
    for (uint32_t from = 0; e == 0 && from < n;) {
        uint32_t i = from, chunk = 0;
        if ((e = store_begin(a->st)) < 0)
            break;
        for (; e == 0 && i < n && chunk < ACCT_FLUSH_CHUNK; i++) {
            uint32_t v = a->dirty_lost ? i : a->dirty[i];
            struct store_session *s = &a->s[v];
            if (v == 0 || s->dirty != 1)
                continue;
            s->dirty = 2;       /* in this chunk */
            if (!s->open || !s->acct_session_id[0])
                continue;       /* ended (written then) or gone */
            e = store_session_save(a->st, s);
            chunk++;
            poll_commands(a, &tick);
        }
        if (e == 0)
            e = store_commit(a->st);
        else
            store_rollback(a->st);
        for (uint32_t j = from; j < i; j++) {
            uint32_t v = a->dirty_lost ? j : a->dirty[j];
            struct store_session *s = &a->s[v];
            if (v == 0 || s->dirty != 2)
                continue;
            s->dirty = e < 0 ? 1 : 0;
            if (e == 0 && s->open && s->acct_session_id[0])
                s->stored = 1;
        }
        rows += e == 0 ? chunk : 0;
        from = i;
        run_commands(a);    /* a Disconnect does not wait for the flush */
    }
    if (e < 0) {
        flush_failed(a, "sessions");
        return -EIO;    /* the sessions not written are still dirty */
    }
    a->ndirty = 0;
    a->dirty_lost = 0;
    /* 2. The usage (added, not a snapshot) and the mark, in one
     * transaction: after a crash the log past the mark is exactly what
     * usage_daily lacks. */
    if ((e = store_begin(a->st)) < 0)
        goto usage_failed;
    /* In key order too. */
    if (a->nua > 2) {
        qsort(a->ua + 1, a->nua - 1, sizeof *a->ua, by_sim_day);
        ua_reindex(a);
    }
    for (uint32_t i = 1; e == 0 && i < a->nua; i++) {
        const struct usage_acc *u = &a->ua[i];
        char day[11];
        day_of((int64_t)u->day * 86400000, day);
        e = store_usage_add(a->st, u->tenant_id, u->sim_id, day, u->in, u->out);
        rows++;
        poll_commands(a, &tick);
        /* Burst state changes only with usage: its SIM is in this map. */
        struct sim_usage *su = sim_usage_find(a, (uint32_t)u->sim_id);
        if (e == 0 && su && su->burst_dirty == 1) {
            e = store_burst_put(a->st, u->sim_id, &su->burst);
            su->burst_dirty = 2;
            rows++;
        }
    }
    if (e == 0)
        e = store_acct_mark_set(a->st, a->log_id);
    if (e == 0)
        e = store_commit(a->st);
    for (uint32_t i = 1; i < a->nua; i++) {
        struct sim_usage *su = sim_usage_find(a, (uint32_t)a->ua[i].sim_id);
        if (su && su->burst_dirty == 2)
            su->burst_dirty = e < 0 ? 1 : 0;
    }
    if (e < 0) {
        store_rollback(a->st);
usage_failed:
        flush_failed(a, "usage");
        return -EIO;
    }
    if (a->flushes_failing) {
        log_info("accounting: sessions and usage written again after %llu failed flushes",
                 (unsigned long long)a->flushes_failing);
        a->flushes_failing = 0;
    }
    a->nua = 1;
    if (a->uaicap)
        memset(a->uaidx, 0, (size_t)a->uaicap * sizeof *a->uaidx);
    a->flushed_log_id = a->log_id;
    atomic_store(&a->ndirty_now, 0);
    atomic_fetch_add(&a->flushes, 1);
    atomic_fetch_add(&a->flushed_rows, rows);
    atomic_store(&a->last_flush_ms, now_ms() - t0);
    return 0;
}

/*
 * Retention: delete the log rows older than retention_days (only those
 * below the mark, which a redo never needs), oldest first.  Log ids grow
 * with time, so the boundary is found by bisection on id; the rows go in
 * ranges of ACCT_RETENTION_CHUNK, each its own transaction, for at most
 * ~200 ms a round (the next round comes a second later while rows are
 * left, else a minute later).
 */
static void retention(struct accounting *a, int64_t now)
{
    if (!a->retention_days || now < a->next_retention)
        return;
    a->next_retention = now + 60000;
    int64_t cutoff = now - (int64_t)a->retention_days * 86400000;
    int64_t lo, ts, id;
    if (store_acct_first(a->st, &lo, &ts) < 0 || ts >= cutoff || lo > a->flushed_log_id)
        return;
    /* The first row at or after the cutoff (or past the mark): [lo, hi). */
    int64_t l = lo, h = a->flushed_log_id + 1;
    while (h - l > 1) {
        int64_t m = l + (h - l) / 2;
        if (store_acct_ts_at(a->st, m, &id, &ts) < 0 || id >= h || ts >= cutoff)
            h = m;
        else
            l = m;
    }
    int64_t t0 = now_ms();
    uint32_t tick = 0;
    while (lo < h && now_ms() - t0 < 200) {
        int64_t to = lo + ACCT_RETENTION_CHUNK < h ? lo + ACCT_RETENTION_CHUNK : h;
        int e = store_begin(a->st), n = 0;
        if (e == 0 && (n = store_acct_delete(a->st, lo, to)) < 0)
            e = n;
        if (e == 0)
            e = store_commit(a->st);
        if (e < 0) {
            store_rollback(a->st);
            log_warn("accounting: deleting log rows older than %u days: %s", a->retention_days,
                     store_errmsg(a->st));
            return;
        }
        atomic_fetch_add(&a->retention_deleted, (uint64_t)n);
        lo = to;
        poll_commands(a, &tick);
        run_commands(a);
    }
    if (lo < h)
        a->next_retention = now + 1000;
}

static uint32_t su_hash(uint32_t sim_id, uint32_t cap)
{
    return (uint32_t)(((uint64_t)sim_id * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

/* The detector state of a SIM, loaded from the store on first use; NULL
 * when out of memory (detection for it is skipped and logged). */
static struct sim_usage *sim_usage_of(struct accounting *a, uint32_t sim_id)
{
    struct sim_usage *found = sim_usage_find(a, sim_id);
    if (found)
        return found;
    if ((a->nsu + 1) * 2 > a->suicap) {
        uint32_t ncap = a->suicap ? a->suicap * 2 : 1024;
        uint32_t *n = calloc(ncap, sizeof *n);
        if (!n)
            return NULL;
        for (uint32_t i = 1; i < a->nsu; i++) {
            uint32_t j = su_hash(a->su[i].sim_id, ncap);
            while (n[j])
                j = (j + 1) & (ncap - 1);
            n[j] = i;
        }
        free(a->suidx);
        a->suidx = n;
        a->suicap = ncap;
    }
    if (a->nsu == 0)
        a->nsu = 1;
    if (a->nsu >= a->sucap) {
        uint32_t ncap = a->sucap ? a->sucap * 2 : 1024;
        struct sim_usage *n = realloc(a->su, (size_t)ncap * sizeof *n);
        if (!n)
            return NULL;
        a->su = n;
        a->sucap = ncap;
    }
    struct sim_usage *u = &a->su[a->nsu];
    memset(u, 0, sizeof *u);
    u->sim_id = sim_id;
    u->day = -1;
    uint32_t j = su_hash(sim_id, a->suicap);
    while (a->suidx[j])
        j = (j + 1) & (a->suicap - 1);
    a->suidx[j] = a->nsu++;
    return u;
}

static uint32_t passed_bits(const struct policy *p, int period, uint64_t in, uint64_t out)
{
    const uint64_t val[USAGE__DIRS] = { in + out, in, out };
    uint32_t bits = 0;
    for (int level = 0; level < USAGE__LEVELS; level++)
        for (int d = 0; d < USAGE__DIRS; d++)
            if (p->usage[period][level][d] && val[d] >= p->usage[period][level][d])
                bits |= 1u << (level * 3 + d);
    return bits;
}

static void day_month(int64_t ms, int32_t *day, int32_t *month, struct tm *tm)
{
    time_t t = (time_t)(ms / 1000);
    gmtime_r(&t, tm);
    *day = (int32_t)(t / 86400);
    *month = (tm->tm_year + 1900) * 12 + tm->tm_mon;
}

static void sim_usage_load(struct accounting *a, struct sim_usage *u, int64_t ms,
                           const struct policy *p)
{
    struct tm tm;
    char d[11], m[8];
    uint64_t v[4] = { 0, 0, 0, 0 };
    day_month(ms, &u->day, &u->month, &tm);
    /* As in day_of(): a date that does not fit finds no usage. */
    if (strftime(d, sizeof d, "%Y-%m-%d", &tm) == 0 || strftime(m, sizeof m, "%Y-%m", &tm) == 0)
        d[0] = m[0] = '\0';
    (void)store_usage_get(a->st, u->sim_id, d, m, v);
    u->day_in = v[0];
    u->day_out = v[1];
    u->month_in = v[2];
    u->month_out = v[3];
    u->fired_day = passed_bits(p, USAGE_DAY, u->day_in, u->day_out);
    u->fired_month = passed_bits(p, USAGE_MONTH, u->month_in, u->month_out);
}

/* Roll the SIM's day and month forward to `ms` (UTC). */
static void sim_usage_at(struct sim_usage *u, int64_t ms)
{
    struct tm tm;
    int32_t day, month;
    day_month(ms, &day, &month, &tm);
    if (day != u->day) {
        u->day = day;
        u->day_in = u->day_out = 0;
        u->fired_day = 0;
    }
    if (month != u->month) {
        u->month = month;
        u->month_in = u->month_out = 0;
        u->fired_month = 0;
    }
}

static void raise_usage(struct accounting *a, const struct sim_view *sim, const struct policy *p,
                        const struct store_session *s, int period, uint64_t in, uint64_t out,
                        uint32_t *fired, const struct batch_event *be)
{
    static const char *const pname[] = { "daily", "monthly", "session" };
    static const char *const dname[] = { "total", "up", "down" };
    uint64_t val[USAGE__DIRS] = { in + out, in, out };
    for (int level = USAGE__LEVELS - 1; level >= 0; level--) {
        for (int d = 0; d < USAGE__DIRS; d++) {
            uint64_t th = p->usage[period][level][d];
            uint32_t bit = 1u << (level * 3 + d);
            if (!th || val[d] < th || (*fired & bit))
                continue;
            *fired |= bit;
            if (level == USAGE_LIMIT)
                *fired |= 1u << (USAGE_WARN * 3 + d);  /* no warning after the limit */
            char ev[JOURNAL_EVIDENCE_MAX];
            struct jsonw w;
            session_evidence(&w, ev, sizeof ev, s, sim->imsi);
            jsonw_str(&w, "period", pname[period]);
            jsonw_str(&w, "direction", dname[d]);
            jsonw_int(&w, "bytes", (int64_t)val[d]);
            jsonw_int(&w, "threshold", (int64_t)th);
            jsonw_close(&w);
            jsonw_finish(&w);
            int kind = level == USAGE_LIMIT ? FK_USAGE_LIMIT : FK_USAGE_WARNING;
            struct engine_finding f = {
                .kind = kind, .severity = (int)finding_kind_severity(kind), .pol = p,
                .sim = sim, .tenant_id = sim->tenant_id, .subject = sim->iccid,
                .evidence = ev, .now_ms = be->recv_ms, .t0_ns = be->t0_ns,
            };
            engine_raise(a->eng, &f);
        }
    }
}

/* A SIM in two live sessions: a cloned SIM, worse with two devices. */
static void check_concurrent(struct accounting *a, struct sim_usage *u, uint32_t v,
                             const struct sim_view *sim, const struct policy *p,
                             const struct batch_event *be)
{
    const struct store_session *s = &a->s[v];
    int free_i = -1, tracked = 0, reported = 0;
    for (int i = 0; i < SIM_SESS_TRACK; i++) {
        uint32_t o = u->sess[i];
        const struct store_session *os = &a->s[o];
        if (o == v) {
            tracked = 1;
            continue;
        }
        if (!o || !os->open || os->sim_id != s->sim_id || !os->acct_session_id[0]) {
            if (free_i < 0)
                free_i = i;     /* empty, or a session that ended */
            continue;
        }
        if (reported++)
            continue;
        char ev[JOURNAL_EVIDENCE_MAX];
        struct jsonw w;
        int other_device = s->imei[0] && os->imei[0] && strncmp(s->imei, os->imei, 14) != 0;
        session_evidence(&w, ev, sizeof ev, s, sim->imsi);
        jsonw_str(&w, "imeisv", s->imei);
        jsonw_str(&w, "other_nas", os->nas);
        jsonw_str(&w, "other_acct_session_id", os->acct_session_id);
        jsonw_str(&w, "other_imeisv", os->imei);
        jsonw_bool(&w, "different_devices", other_device);
        jsonw_close(&w);
        jsonw_finish(&w);
        struct engine_finding f = {
            .kind = FK_CONCURRENT_SESSIONS,
            .severity = other_device ? SEV_CRITICAL : (int)finding_kind_severity(FK_CONCURRENT_SESSIONS),
            .pol = p, .sim = sim, .tenant_id = sim->tenant_id, .subject = sim->iccid,
            .evidence = ev, .now_ms = be->recv_ms, .t0_ns = be->t0_ns,
        };
        engine_raise(a->eng, &f);
    }
    if (!tracked && free_i >= 0)
        u->sess[free_i] = v;
    else if (!tracked)
        u->untracked = 1;
}

/* Remember an open session of the SIM (at start, from the store). */
static void track_session(struct sim_usage *u, const struct accounting *a, uint32_t v)
{
    for (int i = 0; i < SIM_SESS_TRACK; i++) {
        uint32_t o = u->sess[i];
        if (!o || !a->s[o].open || a->s[o].sim_id != a->s[v].sim_id) {
            u->sess[i] = v;
            return;
        }
    }
    u->untracked = 1;
}

/*
 * The attach rules again when a session moves mid-session (RFC 2866
 * Interim-Updates carry the current location, RAT and IMEISV).  A rule that
 * would have refused the attach (its response includes `reject`) cuts the
 * session instead: the same policy, applied to a session already open.
 */
static void check_mid_session(struct accounting *a, const struct batch_event *be,
                              const struct sim_view *sim, const struct policy *p)
{
    const struct store_session *s = &a->s[be->v];
    struct violation { int kind; const char *why; } v[3];
    int n = 0;

    if (be->changed & CHG_IMEI && p->imei_mode != MODE_OFF && sim->bound) {
        uint64_t seen;
        if (ident_digits_u64(s->imei, 14, &seen) == 0 && seen != sim->imei)
            v[n++] = (struct violation){ FK_IMEI_MISMATCH, "device changed mid-session" };
    }
    if (be->changed & CHG_LOCATION) {
        struct gpp_plmn pl;
        const char *why = policy_location_violation(
            p, gpp_plmn_parse(s->plmn, strlen(s->plmn), &pl) == 0 ? &pl : NULL, be->has_uli,
            (uint32_t)s->area, (uint32_t)s->cell);
        if (why)
            v[n++] = (struct violation){ FK_LOCATION_NOT_ALLOWED, why };
    }
    if (be->changed & CHG_RAT) {
        const char *why = policy_rat_violation(p, s->rat);
        if (why)
            v[n++] = (struct violation){ FK_RAT_NOT_ALLOWED, why };
    }
    for (int i = 0; i < n; i++) {
        char ev[JOURNAL_EVIDENCE_MAX];
        struct jsonw w;
        session_evidence(&w, ev, sizeof ev, s, sim->imsi);
        jsonw_bool(&w, "mid_session", 1);
        if (s->imei[0])
            jsonw_str(&w, "imeisv", s->imei);
        if (s->rat)
            jsonw_str(&w, "rat", gpp_rat_name(s->rat));
        if (s->plmn[0]) {
            jsonw_str(&w, "plmn", s->plmn);
            jsonw_int(&w, "area", s->area);
            jsonw_int(&w, "cell", s->cell);
        }
        jsonw_str(&w, "reason", v[i].why);
        jsonw_close(&w);
        jsonw_finish(&w);
        struct engine_finding f = {
            .kind = v[i].kind, .severity = (int)finding_kind_severity(v[i].kind), .pol = p,
            .sim = sim, .tenant_id = sim->tenant_id, .subject = sim->iccid, .evidence = ev,
            .now_ms = be->recv_ms, .t0_ns = be->t0_ns,
        };
        unsigned acts = engine_raise(a->eng, &f);
        if ((acts & ACT_REJECT) && !(acts & (ACT_DISCONNECT | ACT_SUSPEND)))
            (void)accounting_disconnect_sim(a, sim->id, finding_kind_name(v[i].kind), be->t0_ns);
    }
}

/*
 * The accounting detectors, after the batch is committed and answered:
 * usage thresholds per day, month and session (warn and limit, total / up /
 * down) and concurrent sessions.  Their response rules (disconnect,
 * suspend) come back to this thread as commands.
 */
static void detect(struct accounting *a)
{
    acct_online(a);
    for (uint32_t i = 0; i < a->nev; i++) {
        const struct batch_event *be = &a->ev[i];
        const struct store_session *s = &a->s[be->v];
        struct sim_view sim;
        /* The slot may have been reused for another session in this batch. */
        if (s->id != be->session_row || !s->sim_id ||
            simtab_get(a->eng->sims, s->imsi, strlen(s->imsi), &sim) < 0 ||
            sim.id != (uint32_t)s->sim_id)
            continue;
        const struct policy *p = engine_policy_of(a->eng, sim.group_id);
        struct sim_usage *u = sim_usage_of(a, sim.id);
        if (!u)
            continue;
        if (u->day == -1)
            continue;   /* not loaded (the SIM was unknown when recorded) */
        sim_usage_at(u, be->recv_ms);
        u->day_in += be->d_in;
        u->day_out += be->d_out;
        u->month_in += be->d_in;
        u->month_out += be->d_out;
        if (be->created && s->open)
            check_concurrent(a, u, be->v, &sim, p, be);
        if (be->created && a->nowed)
            pay_owed(a, be->v, be->seq);
        if (be->changed && s->open)
            check_mid_session(a, be, &sim, p);
        if (p->burst_factor > 0 && (be->d_in || be->d_out))
            check_burst(a, u, &sim, p, s, be);
        if (!p->has_usage)
            continue;
        raise_usage(a, &sim, p, s, USAGE_DAY, u->day_in, u->day_out, &u->fired_day, be);
        raise_usage(a, &sim, p, s, USAGE_MONTH, u->month_in, u->month_out, &u->fired_month, be);
        raise_usage(a, &sim, p, s, USAGE_SESSION, s->in_octets, s->out_octets,
                    &a->s[be->v].usage_fired, be);
    }
    acct_offline(a);
}

/*
 * usage_burst: the SIM's bytes this hour (UTC clock hour) against the
 * moving mean of its hourly bytes, a mean over the policy's baseline_hours
 * in which hours without traffic count as zero.  Judged once the mean has
 * min_history_hours behind it; raised at most once per hour.
 */
static void burst_roll(struct store_burst *b, int64_t hour, uint32_t window)
{
    if (b->hour == hour || (b->hour && hour < b->hour))
        return;     /* the same hour, or a late record of an earlier one */
    if (b->hour) {
        /* The hour that ended, then the empty ones up to this one (beyond
         * four windows the mean has forgotten everything anyway). */
        int64_t gap = hour - b->hour;
        if (gap > 4 * (int64_t)window)
            gap = 4 * (int64_t)window;
        for (int64_t i = 0; i < gap; i++) {
            double x = i == 0 ? (double)b->hour_bytes : 0.0;
            uint32_t n = b->hours < window ? b->hours + 1 : window;
            b->baseline += (x - b->baseline) / n;
            if (b->hours < UINT32_MAX)
                b->hours++;
        }
    }
    b->hour = hour;
    b->hour_bytes = 0;
    b->fired = 0;
}

static void check_burst(struct accounting *a, struct sim_usage *u, const struct sim_view *sim,
                        const struct policy *p, const struct store_session *s,
                        const struct batch_event *be)
{
    struct store_burst *b = &u->burst;
    if (!u->burst_loaded) {
        if (store_burst_get(a->st, sim->id, b) < 0)
            memset(b, 0, sizeof *b);
        u->burst_loaded = 1;
    }
    burst_roll(b, be->recv_ms / 3600000, p->burst_baseline_hours);
    b->hour_bytes += be->d_in + be->d_out;
    u->burst_dirty = 1;
    if (b->fired || b->hours < p->burst_min_history || b->hour_bytes < p->burst_min_bytes ||
        (double)b->hour_bytes <= p->burst_factor * b->baseline)
        return;
    b->fired = 1;
    char ev[JOURNAL_EVIDENCE_MAX], hour[24];
    time_t t = (time_t)(b->hour * 3600);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(hour, sizeof hour, "%Y-%m-%dT%H:00Z", &tm) == 0)
        snprintf(hour, sizeof hour, "-");
    struct jsonw w;
    session_evidence(&w, ev, sizeof ev, s, sim->imsi);
    jsonw_str(&w, "hour", hour);
    jsonw_int(&w, "bytes_this_hour", (int64_t)b->hour_bytes);
    jsonw_int(&w, "baseline_bytes_per_hour", (int64_t)(b->baseline + 0.5));
    jsonw_int(&w, "factor_x100", (int64_t)(p->burst_factor * 100 + 0.5));
    jsonw_int(&w, "history_hours", b->hours);
    jsonw_close(&w);
    jsonw_finish(&w);
    struct engine_finding f = {
        .kind = FK_USAGE_BURST, .severity = (int)finding_kind_severity(FK_USAGE_BURST), .pol = p,
        .sim = sim, .tenant_id = sim->tenant_id, .subject = sim->iccid, .evidence = ev,
        .now_ms = be->recv_ms, .t0_ns = be->t0_ns,
    };
    engine_raise(a->eng, &f);
}

/* The commit failed: put every touched session back as it was. */
static void roll_back(struct accounting *a)
{
    for (uint32_t i = a->nundo; i-- > 0;) {
        struct undo *u = &a->undo[i];
        if (u->created) {
            slot_release(a, u->idx);
        } else {
            a->s[u->idx] = u->before;
        }
    }
}

/* The batch's Accounting-Responses, with one sendmmsg per run of records
 * from the same socket.  A reply the socket cannot take now is dropped: the
 * NAS retransmits and the duplicate is answered from the session. */
static void send_replies(struct accounting *a, uint32_t n)
{
    struct mmsghdr *mm = a->mm;
    struct iovec *iov = a->iov;
    uint32_t k = 0;
    int fd = -1;
    for (uint32_t i = 0; i <= n; i++) {
        struct acct_record *r = i < n ? &a->batch[i] : NULL;
        if (r && !r->reply_len)
            continue;       /* a command: nobody to answer */
        if (k && (!r || r->fd != fd)) {
            for (uint32_t off = 0; off < k;) {
                int sent = sendmmsg(fd, mm + off, k - off, MSG_DONTWAIT);
                if (sent <= 0)
                    break;
                off += (uint32_t)sent;
            }
            k = 0;
        }
        if (!r)
            break;
        fd = r->fd;
        iov[k] = (struct iovec){ .iov_base = r->reply, .iov_len = r->reply_len };
        mm[k].msg_hdr = (struct msghdr){
            .msg_name = &r->from, .msg_namelen = sizeof r->from,
            .msg_iov = &iov[k], .msg_iovlen = 1,
        };
        k++;
    }
}

static int in_undo(const struct accounting *a, uint32_t v)
{
    return a->s[v].undo_batch == a->batch_seq;
}

static int stale_sweep(struct accounting *a, int64_t now)
{
    int n = 0;
    uint32_t tick = 0;
    for (uint32_t v = 1; v < a->ns; v++) {
        struct store_session *s = &a->s[v];
        poll_commands(a, &tick);
        if (s->acct_session_id[0] == '\0')
            continue;       /* a free slot */
        if (!s->open) {
            if (now - s->stopped_ms > ACCT_CLOSED_LINGER_MS && !in_undo(a, v))
                slot_release(a, v);
            continue;
        }
        uint32_t interim = s->interim ? s->interim : 600;
        if (now - s->updated_ms <= ((int64_t)interim * 2 + ACCT_STALE_MARGIN_S) * 1000)
            continue;
        if (close_session(a, v, now, "stale") < 0)
            return -EIO;
        n++;
    }
    return n;
}

static void process(struct accounting *a, uint32_t n, int64_t now)
{
    int e = store_begin(a->st);
    a->nundo = 0;
    memset(&a->bc, 0, sizeof a->bc);
    a->nev = 0;
    a->batch_seq++;
    a->batch_log_id = a->log_id;
    acct_online(a);
    uint32_t tick = 0;
    for (uint32_t i = 0; e == 0 && i < n; i++) {
        e = apply(a, &a->batch[i]);
        poll_commands(a, &tick);
    }
    acct_offline(a);
    if (e == 0 && now - a->last_stale_check >= ACCT_STALE_CHECK_MS) {
        e = stale_sweep(a, now) < 0 ? -EIO : 0;
        a->last_stale_check = now;
    }
    if (e == 0)
        e = store_commit(a->st);
    if (e < 0) {
        store_rollback(a->st);
        roll_back(a);
        atomic_fetch_add(&a->store_errors, 1);
        if (a->batches_failing++ == 0)
            log_err("accounting: %u records not stored, not acknowledged: %s (logged once;"
                    " later failures only counted in store_errors until storing works again)",
                    n, store_errmsg(a->st));
        return;
    }
    if (a->batches_failing) {
        log_info("accounting: records stored again after %llu failed batches",
                 (unsigned long long)a->batches_failing);
        a->batches_failing = 0;
    }
    settle(a, n);
    send_replies(a, n);
    detect(a);
    /* Commands no record queued before them is still waiting for. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < a->nowed; i++)
        if (a->owed[i].seq > a->seq_applied)
            a->owed[k++] = a->owed[i];
    a->nowed = k;
}

static void *accounting_main(void *arg)
{
    struct accounting *a = arg;
    a->in_thread = 1;
    for (;;) {
        run_commands(a);
        pthread_mutex_lock(&a->lock);
        if (a->count == 0 && a->ncmd == 0 && !a->stop && a->flush_req == a->flush_done) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += 1;
            pthread_cond_timedwait(&a->cond, &a->lock, &dl);
        }
        int stopping = a->count == 0 && a->ncmd == 0 && a->stop;
        uint64_t want = a->flush_req;
        uint32_t n = a->count < ACCT_BATCH ? a->count : ACCT_BATCH;
        /* cppcheck takes a->count for unchanged by pthread_cond_timedwait(). */
        // cppcheck-suppress knownConditionTrueFalse
        for (uint32_t i = 0; i < n; i++)
            a->batch[i] = a->ring[(a->head + i) % a->cap];
        a->head = (a->head + n) % a->cap;
        a->count -= n;
        pthread_mutex_unlock(&a->lock);
        int64_t now = now_ms();
        // cppcheck-suppress knownConditionTrueFalse
        if (n || now - a->last_stale_check >= ACCT_STALE_CHECK_MS)
            process(a, n, now);
        int fr = flush(a, now, stopping || want != a->flush_done);
        if (!stopping)
            retention(a, now);
        if (want != a->flush_done) {
            pthread_mutex_lock(&a->lock);
            a->flush_done = want;
            a->flush_result = fr;
            pthread_cond_broadcast(&a->flushed);
            pthread_mutex_unlock(&a->lock);
        }
        if (stopping)
            break;
    }
    return NULL;
}

int accounting_flush(struct accounting *a, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&a->lock);
    uint64_t target = ++a->flush_req;
    pthread_cond_signal(&a->cond);
    int r = 0;
    while (a->flush_done < target && r == 0)
        r = pthread_cond_timedwait(&a->flushed, &a->lock, &dl);
    int result = a->flush_done >= target ? a->flush_result : -ETIMEDOUT;
    pthread_mutex_unlock(&a->lock);
    return result;
}

int accounting_start(struct accounting *a)
{
    int r = pthread_create(&a->thread, NULL, accounting_main, a);
    if (r)
        return -r;
    a->running = 1;
    return 0;
}

void accounting_get_stats(struct accounting *a, struct accounting_stats *r)
{
    r->records = atomic_load(&a->records);
    r->batches = atomic_load(&a->batches);
    r->overload = atomic_load(&a->overload);
    r->commands_refused = atomic_load(&a->cmds_refused);
    r->commands_lost = atomic_load(&a->cmds_lost);
    r->store_errors = atomic_load(&a->store_errors);
    r->sessions_open = atomic_load(&a->sessions_open);
    r->started = atomic_load(&a->started);
    r->stopped = atomic_load(&a->stopped);
    r->stale_closed = atomic_load(&a->stale_closed);
    r->nas_reset_closed = atomic_load(&a->nas_reset_closed);
    r->reordered = atomic_load(&a->reordered);
    r->counter_resets = atomic_load(&a->resets);
    r->octets_in = atomic_load(&a->octets_in);
    r->octets_out = atomic_load(&a->octets_out);
    r->dm_sent = atomic_load(&a->dm_sent);
    r->dm_ack = atomic_load(&a->dm_ack);
    r->dm_nak = atomic_load(&a->dm_nak);
    r->dm_timeout = atomic_load(&a->dm_timeout);
    r->dm_error = atomic_load(&a->dm_error);
    for (int i = 0; i < ACCT_LAT_BUCKETS; i++)
        r->dm_latency_us[i] = atomic_load(&a->dm_lat[i]);
    r->flushes = atomic_load(&a->flushes);
    r->flushed_rows = atomic_load(&a->flushed_rows);
    r->flush_errors = atomic_load(&a->flush_errors);
    r->dirty = atomic_load(&a->ndirty_now);
    r->last_flush_ms = atomic_load(&a->last_flush_ms);
    r->redone = atomic_load(&a->redone);
    r->retention_deleted = atomic_load(&a->retention_deleted);
}

void accounting_free(struct accounting *a)
{
    if (!a)
        return;
    if (a->running) {
        pthread_mutex_lock(&a->lock);
        a->stop = 1;
        pthread_cond_signal(&a->cond);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->thread, NULL);
    }
    store_close(a->st);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    pthread_cond_destroy(&a->flushed);
    free(a->cmds);
    free(a->owed);
    free(a->dirty);
    free(a->ua);
    free(a->uaidx);
    free(a->ring);
    free(a->batch);
    free(a->undo);
    free(a->s);
    free(a->free_list);
    free(a->idx);
    free(a->ev);
    free(a->mm);
    free(a->iov);
    free(a->su);
    free(a->suidx);
    free(a);
}
