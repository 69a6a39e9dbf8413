/*
 * journal.c — bounded queue + writer thread (see journal.h).
 *
 * The queue is a ring of fixed-size messages under one mutex.  Pushes are
 * rare relative to packets (a finding, a learned IMEI), so a mutex is the
 * simple, correct choice; the ring is allocated once at start.  The writer
 * swaps out up to JOURNAL_BATCH messages at a time, so the lock is never
 * held across disk I/O.  Group commit: one transaction, one WAL sync
 * point, per batch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jsonw.h"
#include "core/log.h"
#include "engine/journal.h"
#include "out/syslog.h"
#include "out/webhook.h"
#include "store/store.h"

struct journal {
    struct store *st;
    pthread_t thread;
    int running;
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* work available / stop */
    pthread_cond_t done;        /* a batch was committed */
    struct journal_msg *ring;
    uint32_t cap, head, count;
    uint64_t pushed, committed; /* sequence numbers for journal_flush */
    int stop;
    _Atomic uint64_t queued, written, dropped, store_errors;
    uint64_t failing;           /* consecutive failed batches: only the first is logged */
    struct journal_msg *batch;
    struct syslog_out *syslog;  /* NULL: no collector */
    struct webhook_sender *webhooks;    /* NULL: none */
    uint32_t outbox_max;
    int batch_hooked;           /* outbox rows in the open batch */
    _Atomic uint64_t webhook_queued, webhook_dropped;
    /* The listener, and the open batch's events for it. */
    journal_listener_fn listener;       /* under lock */
    void *listener_ctx;
    journal_listener_fn batch_listener; /* taken at the batch's start */
    void *batch_listener_ctx;
    struct pending_event *pend;
    size_t npend, pend_cap;
    char *arena;
    size_t arena_len, arena_cap;
};

/* An event of the open batch, kept for the listener until the commit. */
struct pending_event {
    int64_t tenant_id, ts_ms;
    const char *type;           /* static strings */
    const char *kind;
    int severity;
    size_t off, len;            /* its JSON in the arena */
};

int journal_new(struct store *st, uint32_t capacity, struct journal **ret)
{
    struct journal *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->ring = calloc(capacity, sizeof *j->ring);
    j->batch = calloc(JOURNAL_BATCH, sizeof *j->batch);
    if (!j->ring || !j->batch) {
        free(j->ring);
        free(j->batch);
        free(j);
        return -ENOMEM;
    }
    j->cap = capacity;
    j->st = st;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    pthread_cond_init(&j->done, NULL);
    *ret = j;
    return 0;
}

int journal_push(struct journal *j, const struct journal_msg *m)
{
    pthread_mutex_lock(&j->lock);
    if (j->count == j->cap) {
        pthread_mutex_unlock(&j->lock);
        atomic_fetch_add(&j->dropped, 1);
        return -ENOBUFS;
    }
    j->ring[(j->head + j->count) % j->cap] = *m;
    j->count++;
    j->pushed++;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    atomic_fetch_add(&j->queued, 1);
    return 0;
}

static void iso_time(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static const char *tenant_name(struct store *st, int64_t id, char *buf, size_t len)
{
    if (store_tenant_name(st, id, buf, len) < 0)
        snprintf(buf, len, "%lld", (long long)id);
    return buf;
}

/* Keep an event for the listener until the batch commits (best effort:
 * without memory the stream misses it, the store does not). */
static void pend_event(struct journal *j, const struct journal_event *e)
{
    if (j->npend == j->pend_cap) {
        size_t cap = j->pend_cap ? j->pend_cap * 2 : 64;
        struct pending_event *n = realloc(j->pend, cap * sizeof *n);
        if (!n)
            return;
        j->pend = n;
        j->pend_cap = cap;
    }
    if (j->arena_len + e->len > j->arena_cap) {
        size_t cap = j->arena_cap ? j->arena_cap : 16384;
        while (cap < j->arena_len + e->len)
            cap *= 2;
        char *n = realloc(j->arena, cap);
        if (!n)
            return;
        j->arena = n;
        j->arena_cap = cap;
    }
    memcpy(j->arena + j->arena_len, e->json, e->len);
    j->pend[j->npend++] = (struct pending_event){
        .tenant_id = e->tenant_id, .ts_ms = e->ts_ms, .type = e->type, .kind = e->kind,
        .severity = e->severity, .off = j->arena_len, .len = e->len,
    };
    j->arena_len += e->len;
}

/* One committed-to-be event: the events file, syslog, webhooks' outbox
 * (in the transaction: an error fails the batch) and the listener. */
static int emit(struct journal *j, struct store *st, const struct journal_event *e,
                struct syslog_event *se)
{
    log_event_line(e->json, e->len);
    syslog_out_add(j->syslog, se);
    if (j->webhooks) {
        struct store_webhook_event we = {
            .tenant_id = e->tenant_id, .ts_ms = e->ts_ms, .type = e->type, .kind = e->kind,
            .severity = e->severity, .body = e->json,
        };
        int queued, dropped;
        int r = store_webhook_enqueue(st, &we, j->outbox_max, &queued, &dropped);
        if (r < 0)
            return r;
        j->batch_hooked += queued;
        if (queued)
            atomic_fetch_add(&j->webhook_queued, (uint64_t)queued);
        if (dropped)
            atomic_fetch_add(&j->webhook_dropped, (uint64_t)dropped);
    }
    if (j->batch_listener)
        pend_event(j, e);
    return 0;
}

static int event_finding(struct journal *j, struct store *st, const struct journal_msg *m,
                         int64_t fid, int64_t alert_id)
{
    char line[1024], ts[32], tenant[64];
    struct jsonw w;
    jsonw_init(&w, line, sizeof line);
    jsonw_open(&w);
    iso_time(m->ts_ms, ts);
    jsonw_str(&w, "ts", ts);
    jsonw_str(&w, "type", "finding");
    jsonw_int(&w, "id", fid);
    jsonw_str(&w, "tenant", tenant_name(st, m->tenant_id, tenant, sizeof tenant));
    jsonw_str(&w, "kind", finding_kind_name(m->kind));
    jsonw_str(&w, "severity", severity_name(m->severity));
    jsonw_str(&w, "subject", m->subject);
    jsonw_str(&w, "summary", finding_kind_summary(m->kind));
    if (alert_id)
        jsonw_int(&w, "alert_id", alert_id);
    jsonw_raw(&w, "evidence", m->evidence[0] ? m->evidence : "{}");
    jsonw_close(&w);
    size_t n = jsonw_finish(&w);
    struct syslog_event se = {
        .type = "finding", .kind = finding_kind_name(m->kind), .severity = m->severity,
        .tenant = tenant, .subject = m->subject, .summary = finding_kind_summary(m->kind),
        .json = line, .ts_ms = m->ts_ms,
    };
    struct journal_event ev = {
        .tenant_id = m->tenant_id, .ts_ms = m->ts_ms, .type = "finding",
        .kind = finding_kind_name(m->kind), .severity = m->severity, .json = line, .len = n,
    };
    int r = emit(j, st, &ev, &se);
    if (r < 0)
        return r;

    for (unsigned bit = 1; bit < 0x80; bit <<= 1) {
        if (!(m->actions & bit))
            continue;
        jsonw_init(&w, line, sizeof line);
        jsonw_open(&w);
        jsonw_str(&w, "ts", ts);
        jsonw_str(&w, "type", "action");
        jsonw_str(&w, "tenant", tenant);
        jsonw_str(&w, "kind", action_name(bit));
        jsonw_str(&w, "target", m->subject);
        jsonw_str(&w, "outcome", "done");
        jsonw_int(&w, "finding_id", fid);
        jsonw_str(&w, "finding", finding_kind_name(m->kind));
        jsonw_close(&w);
        n = jsonw_finish(&w);
        se.type = "action";
        se.kind = action_name(bit);
        se.summary = action_name(bit);
        ev.type = "action";
        ev.kind = action_name(bit);
        ev.len = n;
        if ((r = emit(j, st, &ev, &se)) < 0)
            return r;
    }
    return 0;
}

/* Apply one message inside the open transaction. */
static int apply(struct journal *j, struct store *st, const struct journal_msg *m)
{
    int r = 0;
    switch (m->type) {
    case JM_FINDING: {
        struct store_finding f = {
            .tenant_id = m->tenant_id, .ts_ms = m->ts_ms, .kind = m->kind,
            .severity = m->severity, .sim_id = m->sim_id, .subject = m->subject,
            .evidence = m->evidence[0] ? m->evidence : "{}",
        };
        int64_t fid = 0, aid = 0;
        if ((r = store_finding_insert(st, &f, &fid)) < 0)
            return r;
        for (unsigned bit = 1; bit < 0x80; bit <<= 1)
            if ((m->actions & bit) &&
                (r = store_action_insert(st, m->tenant_id, m->ts_ms, fid, action_name(bit),
                                         m->subject, "done", NULL)) < 0)
                return r;
        if (m->alert && (r = store_alert_raise(st, &f, fid, &aid)) < 0)
            return r;
        r = event_finding(j, st, m, fid, aid);
        break;
    }
    case JM_BIND_IMEI:
        r = store_sim_bind_imei(st, m->sim_id, m->imei, "learn", 0);
        if (r == 0)
            r = store_device_seen(st, m->tenant_id, m->imei, NULL, m->ts_ms);
        break;
    case JM_ACTION: {
        const char *act = m->action[0] ? m->action : "disconnect";
        r = store_action_insert(st, m->tenant_id, m->ts_ms, 0, act, m->subject,
                                m->outcome, m->evidence);
        char line[1024], ts[32], tenant[64];
        struct jsonw w;
        iso_time(m->ts_ms, ts);
        jsonw_init(&w, line, sizeof line);
        jsonw_open(&w);
        jsonw_str(&w, "ts", ts);
        jsonw_str(&w, "type", "action");
        jsonw_str(&w, "tenant", tenant_name(st, m->tenant_id, tenant, sizeof tenant));
        jsonw_str(&w, "kind", act);
        jsonw_str(&w, "target", m->subject);
        jsonw_str(&w, "outcome", m->outcome);
        jsonw_raw(&w, "detail", m->evidence[0] ? m->evidence : "{}");
        jsonw_close(&w);
        size_t n = jsonw_finish(&w);
        struct syslog_event se = {
            .type = "action", .kind = act, .severity = SEV_NOTICE, .tenant = tenant,
            .subject = m->subject, .summary = m->outcome, .json = line, .ts_ms = m->ts_ms,
        };
        struct journal_event ev = {
            .tenant_id = m->tenant_id, .ts_ms = m->ts_ms, .type = "action", .kind = act,
            .severity = SEV_NOTICE, .json = line, .len = n,
        };
        if (r == 0)
            r = emit(j, st, &ev, &se);
        break;
    }
    case JM_SUSPEND: {
        char actor[48], detail[96];
        snprintf(actor, sizeof actor, "rule:%s", m->outcome);
        snprintf(detail, sizeof detail, "{\"after\":\"suspended\",\"finding\":\"%s\"}", m->outcome);
        r = store_sim_set_state(st, m->sim_id, SIM_SUSPENDED);
        if (r == 0)
            r = store_admin_log(st, m->tenant_id, actor, "sim.suspend", m->subject, detail);
        break;
    }
    case JM_SV: {
        char sv[4];
        snprintf(sv, sizeof sv, "%02u", m->sv);
        r = store_sim_set_sv(st, m->sim_id, m->sv);
        if (r == 0 && m->imei[0])
            r = store_device_seen(st, m->tenant_id, m->imei, sv, m->ts_ms);
        break;
    }
    }
    return r;
}

static void write_batch(struct journal *j, uint32_t n)
{
    pthread_mutex_lock(&j->lock);
    j->batch_listener = j->listener;
    j->batch_listener_ctx = j->listener_ctx;
    pthread_mutex_unlock(&j->lock);
    j->batch_hooked = 0;
    j->npend = j->arena_len = 0;
    int r = store_begin(j->st);
    if (r == 0) {
        for (uint32_t i = 0; i < n; i++)
            if ((r = apply(j, j->st, &j->batch[i])) < 0)
                break;
        if (r == 0)
            r = store_commit(j->st);
    }
    if (r < 0) {
        store_rollback(j->st);
        syslog_out_discard(j->syslog);
        atomic_fetch_add(&j->store_errors, 1);
        if (j->failing++ == 0)
            log_err("journal: could not store %u records: %s (%s); logged once, later"
                    " failures only counted in store_errors until storing works again", n,
                    store_errmsg(j->st), strerror(-r));
        return;
    }
    if (j->failing) {
        log_info("journal: records stored again after %llu failed batches",
                 (unsigned long long)j->failing);
        j->failing = 0;
    }
    log_events_flush();
    syslog_out_commit(j->syslog);
    if (j->batch_hooked)
        webhook_sender_kick(j->webhooks);
    for (size_t i = 0; i < j->npend; i++) {
        const struct pending_event *p = &j->pend[i];
        struct journal_event e = {
            .tenant_id = p->tenant_id, .ts_ms = p->ts_ms, .type = p->type, .kind = p->kind,
            .severity = p->severity, .json = j->arena + p->off, .len = p->len,
        };
        j->batch_listener(j->batch_listener_ctx, &e);
    }
    atomic_fetch_add(&j->written, n);
}

static void *writer(void *arg)
{
    struct journal *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        while (j->count == 0 && !j->stop)
            pthread_cond_wait(&j->cond, &j->lock);
        if (j->count == 0 && j->stop) {
            pthread_mutex_unlock(&j->lock);
            break;
        }
        uint32_t n = j->count < JOURNAL_BATCH ? j->count : JOURNAL_BATCH;
        /* cppcheck takes j->count for 0 here, as if pthread_cond_wait()
         * could not change it; it is at least 1 (see the loop above). */
        // cppcheck-suppress knownConditionTrueFalse
        for (uint32_t i = 0; i < n; i++)
            j->batch[i] = j->ring[(j->head + i) % j->cap];
        j->head = (j->head + n) % j->cap;
        j->count -= n;
        pthread_mutex_unlock(&j->lock);

        write_batch(j, n);

        pthread_mutex_lock(&j->lock);
        j->committed += n;
        pthread_cond_broadcast(&j->done);
        pthread_mutex_unlock(&j->lock);
    }
    return NULL;
}

void journal_set_syslog(struct journal *j, struct syslog_out *s)
{
    j->syslog = s;
}

void journal_set_webhooks(struct journal *j, struct webhook_sender *ws, uint32_t outbox_max)
{
    j->webhooks = ws;
    j->outbox_max = outbox_max;
}

void journal_set_listener(struct journal *j, journal_listener_fn fn, void *ctx)
{
    pthread_mutex_lock(&j->lock);
    j->listener = fn;
    j->listener_ctx = ctx;
    pthread_mutex_unlock(&j->lock);
}

int journal_start(struct journal *j)
{
    int r = pthread_create(&j->thread, NULL, writer, j);
    if (r)
        return -r;
    j->running = 1;
    return 0;
}

void journal_flush(struct journal *j)
{
    pthread_mutex_lock(&j->lock);
    uint64_t target = j->pushed;
    while (j->running && j->committed < target)
        pthread_cond_wait(&j->done, &j->lock);
    pthread_mutex_unlock(&j->lock);
}

void journal_get_stats(struct journal *j, struct journal_stats *ret)
{
    ret->queued = atomic_load(&j->queued);
    ret->written = atomic_load(&j->written);
    ret->dropped = atomic_load(&j->dropped);
    ret->store_errors = atomic_load(&j->store_errors);
    ret->webhook_queued = atomic_load(&j->webhook_queued);
    ret->webhook_dropped = atomic_load(&j->webhook_dropped);
    pthread_mutex_lock(&j->lock);
    ret->depth = j->count;
    pthread_mutex_unlock(&j->lock);
}

void journal_free(struct journal *j)
{
    if (!j)
        return;
    if (j->running) {
        pthread_mutex_lock(&j->lock);
        j->stop = 1;
        pthread_cond_signal(&j->cond);
        pthread_mutex_unlock(&j->lock);
        pthread_join(j->thread, NULL);
    }
    store_close(j->st);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    pthread_cond_destroy(&j->done);
    free(j->ring);
    free(j->batch);
    free(j->pend);
    free(j->arena);
    free(j);
}
