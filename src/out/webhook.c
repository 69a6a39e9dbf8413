/*
 * webhook.c — the webhook sender thread (see webhook.h).
 *
 * One thread, one libcurl multi handle.  The loop: claim due deliveries
 * while there is room in flight, let libcurl move the transfers on, store
 * the outcome of those that ended, and sleep in curl_multi_poll() until a
 * transfer needs attention, the next delivery is due, or the journal kicks
 * (curl_multi_wakeup).  Nothing here blocks on a receiver: a slow one holds
 * one of WEBHOOK_IN_FLIGHT slots until its timeout.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/log.h"
#include "out/webhook.h"
#include "store/store.h"

#define LEASE_SLACK_MS 5000             /* beyond the timeout, before a claim lapses */
#define IDLE_RECHECK_MS 1000            /* nothing due: look again (rows the CLI wrote) */
#define PRUNE_EVERY_MS 3600000
#define PRUNE_BATCH 5000

/* One request in flight. */
struct flight {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    struct store_delivery d;            /* d.body unused (see body) */
    char error[CURL_ERROR_SIZE];
};

struct webhook_sender {
    struct store *st;
    struct webhook_conf conf;
    CURLM *multi;
    pthread_t thread;
    int running;
    _Atomic int stop, kicked;
    struct flight *flights[WEBHOOK_IN_FLIGHT];
    int n_flights;
    _Atomic uint64_t attempts, delivered, retried, failed, in_flight, store_errors;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int webhook_sign(const char *secret, int64_t ts, const char *body, size_t len,
                 char out[WEBHOOK_SIGNATURE_MAX])
{
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "%" PRId64 ".", ts);
    unsigned char mac[32];
    size_t maclen = 0;
    int ok = 0;
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (c && EVP_MAC_init(c, (const unsigned char *)secret, strlen(secret), params) &&
        EVP_MAC_update(c, (const unsigned char *)prefix, (size_t)pl) &&
        EVP_MAC_update(c, (const unsigned char *)body, len) &&
        EVP_MAC_final(c, mac, &maclen, sizeof mac) && maclen == sizeof mac)
        ok = 1;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(m);
    if (!ok)
        return -1;
    snprintf(out, 4, "v1=");
    for (size_t i = 0; i < sizeof mac; i++)
        snprintf(out + 3 + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

static size_t discard(char *ptr, size_t size, size_t n, void *ctx)
{
    (void)ptr;
    (void)ctx;
    return size * n;
}

static void flight_free(struct flight *f)
{
    if (!f)
        return;
    if (f->easy)
        curl_easy_cleanup(f->easy);
    curl_slist_free_all(f->headers);
    free(f->body);
    free(f);
}

/* Claimed rows, copied out of the store's callback. */
struct claimed {
    struct flight *f[WEBHOOK_IN_FLIGHT];
    int n;
};

static int on_claimed(void *ctx, const struct store_delivery *d)
{
    struct claimed *c = ctx;
    if (c->n == WEBHOOK_IN_FLIGHT)
        return 0;
    struct flight *f = calloc(1, sizeof *f);
    if (!f || !(f->body = strdup(d->body))) {
        free(f);
        return 0;       /* its lease lapses and it is tried again */
    }
    f->d = *d;
    f->d.body = NULL;
    c->f[c->n++] = f;
    return 0;
}

static int add_header(struct flight *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_header(struct flight *f, const char *fmt, ...)
{
    char h[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h, sizeof h, fmt, ap);
    va_end(ap);
    struct curl_slist *n = curl_slist_append(f->headers, h);
    if (!n)
        return -1;
    f->headers = n;
    return 0;
}

/* Record an attempt's outcome (the row stays claimed until then). */
static void finish(struct webhook_sender *ws, struct flight *f, long status, const char *error)
{
    struct store_delivery *d = &f->d;
    int64_t now = now_ms();
    d->attempts++;
    d->last_status = (int)status;
    atomic_fetch_add(&ws->attempts, 1);
    if (!error && status >= 200 && status < 300) {
        snprintf(d->state, sizeof d->state, "delivered");
        d->last_error[0] = '\0';
        d->done_ms = now;
        atomic_fetch_add(&ws->delivered, 1);
    } else {
        if (error)
            snprintf(d->last_error, sizeof d->last_error, "%s", error);
        else
            snprintf(d->last_error, sizeof d->last_error, "HTTP status %ld", status);
        if ((uint32_t)d->attempts >= ws->conf.attempts) {
            snprintf(d->state, sizeof d->state, "failed");
            d->done_ms = now;
            atomic_fetch_add(&ws->failed, 1);
            log_warn("webhook %" PRId64 ": delivery %" PRId64 " given up after %d attempts: %s",
                     d->webhook_id, d->id, d->attempts, d->last_error);
        } else {
            /* min · 2^(attempts-1), at most max, plus up to 1/8 so that
             * many failures at once do not come back at once. */
            uint64_t wait = ws->conf.backoff_min_ms;
            for (int i = 1; i < d->attempts && wait < ws->conf.backoff_max_ms; i++)
                wait *= 2;
            if (wait > ws->conf.backoff_max_ms)
                wait = ws->conf.backoff_max_ms;
            uint64_t spread = (uint64_t)d->id * 2654435761u ^ (uint64_t)now;
            wait += spread % (wait / 8 + 1);
            d->next_ms = now + (int64_t)wait;
            atomic_fetch_add(&ws->retried, 1);
        }
    }
    if (store_delivery_result(ws->st, d) < 0) {
        atomic_fetch_add(&ws->store_errors, 1);
        log_err("webhook: cannot record delivery %" PRId64 ": %s", d->id, store_errmsg(ws->st));
    }
}

/* Start a claimed delivery; on failure its outcome is recorded at once. */
static void launch(struct webhook_sender *ws, struct flight *f)
{
    struct store_webhook w;
    int r = store_webhook_get(ws->st, f->d.webhook_id, &w);
    if (r < 0) {
        if (r != -ENOENT)       /* -ENOENT: deleted meanwhile, its rows with it */
            atomic_fetch_add(&ws->store_errors, 1);
        flight_free(f);
        return;
    }
    int64_t ts = now_ms() / 1000;
    char sig[WEBHOOK_SIGNATURE_MAX];
    size_t len = strlen(f->body);
    if (webhook_sign(w.secret, ts, f->body, len, sig) < 0 || !(f->easy = curl_easy_init()) ||
        add_header(f, "Content-Type: application/json") < 0 ||
        add_header(f, "User-Agent: m2mguard-webhook/1") < 0 ||
        add_header(f, "Idempotency-Key: %" PRId64 "-%" PRId64, f->d.id, f->d.created_ms) < 0 ||
        add_header(f, "M2MG-Delivery: %" PRId64 "-%" PRId64, f->d.id, f->d.created_ms) < 0 ||
        add_header(f, "M2MG-Event: %s", f->d.event) < 0 ||
        add_header(f, "M2MG-Webhook: %" PRId64, w.id) < 0 ||
        add_header(f, "M2MG-Attempt: %d", f->d.attempts + 1) < 0 ||
        add_header(f, "M2MG-Timestamp: %" PRId64, ts) < 0 ||
        add_header(f, "M2MG-Signature: %s", sig) < 0 ||
        add_header(f, "Expect:") < 0) {
        finish(ws, f, 0, "out of memory");
        flight_free(f);
        return;
    }
    CURL *e = f->easy;
    curl_easy_setopt(e, CURLOPT_URL, w.url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, f->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ws->conf.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)ws->conf.timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    if (curl_multi_add_handle(ws->multi, e) != CURLM_OK) {
        finish(ws, f, 0, "cannot start the request");
        flight_free(f);
        return;
    }
    ws->flights[ws->n_flights++] = f;
    atomic_store(&ws->in_flight, (uint64_t)ws->n_flights);
}

static void forget(struct webhook_sender *ws, struct flight *f)
{
    for (int i = 0; i < ws->n_flights; i++)
        if (ws->flights[i] == f) {
            ws->flights[i] = ws->flights[--ws->n_flights];
            break;
        }
    atomic_store(&ws->in_flight, (uint64_t)ws->n_flights);
    curl_multi_remove_handle(ws->multi, f->easy);
    flight_free(f);
}

/* Claim and start what is due; returns when the next claim may find more. */
static int64_t claim_due(struct webhook_sender *ws, int64_t now)
{
    int room = WEBHOOK_IN_FLIGHT - ws->n_flights;
    if (room <= 0)
        return now + IDLE_RECHECK_MS;   /* a transfer's end wakes the loop */
    struct claimed c = { .n = 0 };
    int64_t lease = now + ws->conf.timeout_ms + LEASE_SLACK_MS;
    if (store_delivery_claim(ws->st, now, lease, room, on_claimed, &c) < 0) {
        atomic_fetch_add(&ws->store_errors, 1);
        log_err("webhook: cannot read the outbox: %s", store_errmsg(ws->st));
        return now + 1000;
    }
    for (int i = 0; i < c.n; i++)
        launch(ws, c.f[i]);
    if (c.n == room)
        return now;                     /* maybe more: look again when a slot frees */
    int64_t next;
    int r = store_delivery_next_due(ws->st, &next);
    if (r == -ENOENT)
        return now + IDLE_RECHECK_MS;
    if (r < 0) {
        atomic_fetch_add(&ws->store_errors, 1);
        return now + 1000;
    }
    return next;
}

static void reap(struct webhook_sender *ws)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(ws->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct flight *f = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        if (!f)
            continue;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        CURLcode res = msg->data.result;
        const char *err = NULL;
        if (res != CURLE_OK)
            err = f->error[0] ? f->error : curl_easy_strerror(res);
        finish(ws, f, status, err);
        forget(ws, f);
    }
}

static void *run(void *arg)
{
    struct webhook_sender *ws = arg;
    int64_t next_due = 0, next_prune = now_ms() + 60000;
    while (!atomic_load(&ws->stop)) {
        int64_t now = now_ms();
        if (atomic_exchange(&ws->kicked, 0) || now >= next_due)
            next_due = claim_due(ws, now);
        int running = 0;
        curl_multi_perform(ws->multi, &running);
        reap(ws);
        if (ws->n_flights < WEBHOOK_IN_FLIGHT && next_due <= now)
            continue;                   /* room again: claim more at once */
        if (now >= next_prune) {
            int deleted = 0;
            int64_t before = now - (int64_t)ws->conf.keep_days * 86400000;
            if (store_delivery_prune(ws->st, before, PRUNE_BATCH, &deleted) < 0)
                atomic_fetch_add(&ws->store_errors, 1);
            next_prune = deleted == PRUNE_BATCH ? now + 1000 : now + PRUNE_EVERY_MS;
        }
        long wait = next_due - now;
        long curl_wait = -1;
        curl_multi_timeout(ws->multi, &curl_wait);
        if (curl_wait >= 0 && curl_wait < wait)
            wait = curl_wait;
        if (wait > 1000)
            wait = 1000;
        if (wait < 0)
            wait = 0;
        curl_multi_poll(ws->multi, NULL, 0, (int)wait, NULL);
    }
    while (ws->n_flights)
        forget(ws, ws->flights[0]);     /* their leases lapse: tried after a restart */
    return NULL;
}

int webhook_sender_new(struct store *st, const struct webhook_conf *c,
                       struct webhook_sender **ret)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -ENOMEM;
    struct webhook_sender *ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->multi = curl_multi_init())) {
        free(ws);
        curl_global_cleanup();
        return -ENOMEM;
    }
    ws->st = st;
    ws->conf = *c;
    *ret = ws;
    return 0;
}

int webhook_sender_start(struct webhook_sender *ws)
{
    int r = pthread_create(&ws->thread, NULL, run, ws);
    if (r)
        return -r;
    ws->running = 1;
    return 0;
}

void webhook_sender_kick(struct webhook_sender *ws)
{
    if (!ws)
        return;
    atomic_store(&ws->kicked, 1);
    curl_multi_wakeup(ws->multi);
}

void webhook_sender_get_stats(struct webhook_sender *ws, struct webhook_stats *r)
{
    r->attempts = atomic_load(&ws->attempts);
    r->delivered = atomic_load(&ws->delivered);
    r->retried = atomic_load(&ws->retried);
    r->failed = atomic_load(&ws->failed);
    r->in_flight = atomic_load(&ws->in_flight);
    r->store_errors = atomic_load(&ws->store_errors);
}

void webhook_sender_free(struct webhook_sender *ws)
{
    if (!ws)
        return;
    if (ws->running) {
        atomic_store(&ws->stop, 1);
        curl_multi_wakeup(ws->multi);
        pthread_join(ws->thread, NULL);
    }
    curl_multi_cleanup(ws->multi);
    store_close(ws->st);
    free(ws);
    curl_global_cleanup();
}
