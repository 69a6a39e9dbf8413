/*
 * checkpointer.c — see checkpointer.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "store/checkpointer.h"
#include "store/store.h"

#define CHECKPOINT_WAIT_MS 50

struct checkpointer {
    struct store *st;
    uint32_t interval_ms;
    uint32_t threshold;
    _Atomic int wal_pages;      /* after the latest commit of any connection */
    _Atomic int kicked;         /* the thread was woken for the threshold */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
    _Atomic uint64_t runs, pages, errors;
    _Atomic int64_t last_wal, last_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Copy the bulk of the WAL while the writers go on (PASSIVE), then hold them
 * back only for the few frames committed meanwhile (RESTART) so that the
 * next commit starts the WAL over instead of growing it.  At the end,
 * TRUNCATE.
 */
static void run_once(struct checkpointer *c, int last)
{
    int wal = 0, copied = 0, r = 0;
    int64_t t0 = mono_ms();
    /* PASSIVE until little is left (each pass copies what the writers added
     * during the one before, and syncs the database: the slow part), so
     * that the RESTART, which holds the writers back, is short. */
    for (int pass = 0; !last && r == 0 && pass < 4; pass++) {
        r = store_checkpoint(c->st, STORE_CKPT_PASSIVE, &wal, &copied);
        if (wal - copied < 256)
            break;
    }
    if (r == 0)
        r = store_checkpoint(c->st, last ? STORE_CKPT_TRUNCATE : STORE_CKPT_RESTART, &wal,
                             &copied);
    atomic_fetch_add(&c->runs, 1);
    if (r < 0) {
        /* Busy (a reader or writer kept it waiting): copied so far, the
         * WAL starts over at a later round. */
        atomic_fetch_add(&c->errors, 1);
        if (atomic_load(&c->errors) % 100 == 1)
            log_warn("store checkpoint: %s (tried again later)", store_errmsg(c->st));
        return;
    }
    if (copied > 0)
        atomic_fetch_add(&c->pages, (uint64_t)copied);
    /* The next commit starts the WAL over; until then the hook has
     * nothing new to say. */
    atomic_store(&c->wal_pages, 0);
    atomic_store(&c->last_wal, wal);
    atomic_store(&c->last_ms, mono_ms() - t0);
}

static void *checkpointer_main(void *arg)
{
    struct checkpointer *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += c->interval_ms / 1000;
        dl.tv_nsec += (long)(c->interval_ms % 1000) * 1000000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
        while (!c->stop && atomic_load(&c->wal_pages) < (int)c->threshold &&
               pthread_cond_timedwait(&c->cond, &c->lock, &dl) == 0)
            ;
        if (c->stop)
            break;
        if (atomic_load(&c->wal_pages) == 0)
            continue;       /* nothing committed since the last one */
        pthread_mutex_unlock(&c->lock);
        run_once(c, 0);
        /* Commits during the run may have seen the threshold too: they
         * found `kicked` set; the next one past it wakes us again. */
        atomic_store(&c->kicked, 0);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    run_once(c, 1);
    return NULL;
}

void checkpointer_wal_size(void *ctx, int wal_pages)
{
    struct checkpointer *c = ctx;
    atomic_store(&c->wal_pages, wal_pages);
    if (wal_pages >= (int)c->threshold && !atomic_exchange(&c->kicked, 1)) {
        pthread_mutex_lock(&c->lock);
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
}

int checkpointer_start(struct store *st, uint32_t interval_ms, uint32_t threshold_pages,
                       struct checkpointer **ret)
{
    struct checkpointer *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->st = st;
    /* A RESTART holds the writers back while it waits for readers: never
     * long (it is tried again at the next round). */
    store_busy_timeout(st, CHECKPOINT_WAIT_MS);
    c->interval_ms = interval_ms ? interval_ms : 10000;
    c->threshold = threshold_pages ? threshold_pages : 16384;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    int r = pthread_create(&c->thread, NULL, checkpointer_main, c);
    if (r) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->cond);
        free(c);
        return -r;
    }
    *ret = c;
    return 0;
}

void checkpointer_get_stats(struct checkpointer *c, struct checkpointer_stats *r)
{
    r->runs = atomic_load(&c->runs);
    r->pages_copied = atomic_load(&c->pages);
    r->errors = atomic_load(&c->errors);
    r->last_wal_pages = atomic_load(&c->last_wal);
    r->last_ms = atomic_load(&c->last_ms);
}

void checkpointer_stop(struct checkpointer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = 1;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    store_close(c->st);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c);
}
