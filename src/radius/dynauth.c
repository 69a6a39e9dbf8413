/*
 * dynauth.c — RFC 5176 Disconnect / CoA client (see dynauth.h).
 *
 * A request moves through three places: the free list (a slot of the pool
 * allocated by dynauth_new), the incoming list (submitted, not yet seen by
 * the thread; both under one mutex, held only to link or unlink a slot),
 * and then the thread's own structures, which need no lock because only
 * the thread touches them: a FIFO of requests waiting for an Identifier
 * and the table by_id[256] of requests in flight.
 *
 * The timers are the in-flight table itself: each loop scans its 256
 * entries for expired deadlines and for the earliest one, which becomes
 * the ppoll() timeout.  At most 256 requests are ever in flight on the
 * socket, so a linear scan is cheaper and simpler than keeping a heap in
 * order on every send and reply.
 *
 * The trade-off of one Identifier space per socket: a NAS that never
 * answers holds its Identifiers for the whole backoff (1+2+4+8 s with the
 * defaults), so a burst to dead NASes delays requests to live ones.  RFC
 * 2865 §3 would allow one space per destination; that is a later change
 * that stays inside this file.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "radius/dynauth.h"
#include "radius/gpp.h"
#include "radius/radius.h"

#define NIDS 256
#define RX_BATCH 64         /* replies read per wake-up before timers run again */

/* The largest packet we build: header, MA, Event-Timestamp, three string
 * attributes, Framed-IP-Address, 3GPP-IMSI as a VSA, Filter-Id. */
#define PKT_MAX (RADIUS_HDR_LEN + RADIUS_MA_LEN + 6 + 3 * (2 + DYNAUTH_STR_MAX) + 6 + \
                 (2 + 6 + DYNAUTH_IMSI_MAX) + (2 + DYNAUTH_STR_MAX))

struct slot {
    struct slot *next;
    struct dynauth_request rq;
    int64_t sent_ns;            /* first successful transmission, 0 before */
    int64_t deadline_ns;
    uint32_t rto_ms;            /* the timeout now running */
    unsigned attempts;
    uint16_t len;
    uint8_t id;
    uint8_t pkt[PKT_MAX];
};

struct dynauth {
    int fd;
    int evfd;                   /* wakes the thread: submitted / stop */
    pthread_t thread;
    uint32_t timeout_ms;
    uint32_t backoff_cap_ms;
    unsigned retries;
    uint32_t max_pending;
    dynauth_outcome_fn on_outcome;
    void *ctx;
    struct slot *pool;

    pthread_mutex_t lock;       /* guards the three fields below */
    struct slot *free_list;
    struct slot *in_head, *in_tail;
    int stop;

    /* The thread's own. */
    struct slot *wait_head, *wait_tail;
    struct slot *by_id[NIDS];
    unsigned inflight;
    uint8_t next_id;
    uint8_t rx[RADIUS_MAX_LEN];
    struct radius_packet pkt;

    _Atomic uint64_t submitted, sent, retransmitted, acks, naks, timeouts, send_errors,
        cancelled, bad_replies, unmatched, queue_full, pending;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *dynauth_error_cause_name(uint32_t cause)
{
    /* RFC 5176 §3.6. */
    switch (cause) {
    case 201: return "Residual Session Context Removed";
    case 202: return "Invalid EAP Packet (Ignored)";
    case 401: return "Unsupported Attribute";
    case 402: return "Missing Attribute";
    case 403: return "NAS Identification Mismatch";
    case 404: return "Invalid Request";
    case 405: return "Unsupported Service";
    case 406: return "Unsupported Extension";
    case 407: return "Invalid Attribute Value";
    case 501: return "Administratively Prohibited";
    case 502: return "Request Not Routable (Proxy)";
    case 503: return "Session Context Not Found";
    case 504: return "Session Context Not Removable";
    case 505: return "Other Proxy Processing Error";
    case 506: return "Resources Unavailable";
    case 507: return "Request Initiated";
    case 508: return "Multiple Session Selection Unsupported";
    default: return "Unknown";
    }
}

const char *dynauth_result_name(enum dynauth_result r)
{
    switch (r) {
    case DYNAUTH_ACK: return "ack";
    case DYNAUTH_NAK: return "nak";
    case DYNAUTH_TIMEOUT: return "timeout";
    case DYNAUTH_SEND_ERROR: return "send-error";
    case DYNAUTH_CANCELLED: return "cancelled";
    }
    return "unknown";
}

/* ---- submission (any thread) ---------------------------------------- */

/* A string field that will be sent: terminated inside its array, not empty. */
static int str_ok(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    return n > 0 && n < size;
}

static int imsi_ok(const char *s)
{
    size_t n = strnlen(s, DYNAUTH_IMSI_MAX + 1);
    if (n < 6 || n > DYNAUTH_IMSI_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int request_valid(const struct dynauth_request *rq)
{
    if (rq->kind != DYNAUTH_DISCONNECT && rq->kind != DYNAUTH_COA)
        return 0;
    if (rq->nas.sin_family != AF_INET || rq->nas.sin_port == 0 ||
        rq->nas.sin_addr.s_addr == htonl(INADDR_ANY))
        return 0;
    if (rq->secret.len == 0 || rq->secret.len > RADIUS_SECRET_MAX)
        return 0;

    uint32_t want = rq->nas_attrs & rq->have & DYNAUTH_ATTRS_ALL;
    if (want == 0)
        return 0;   /* RFC 5176 §3: a request must identify the session */
    if ((want & DA_ATTR_USER_NAME) && !str_ok(rq->user_name, sizeof rq->user_name))
        return 0;
    if ((want & DA_ATTR_ACCT_SESSION_ID) &&
        !str_ok(rq->acct_session_id, sizeof rq->acct_session_id))
        return 0;
    if ((want & DA_ATTR_CALLING_STATION_ID) &&
        !str_ok(rq->calling_station_id, sizeof rq->calling_station_id))
        return 0;
    if ((want & DA_ATTR_3GPP_IMSI) && !imsi_ok(rq->imsi))
        return 0;
    if (strnlen(rq->filter_id, sizeof rq->filter_id) == sizeof rq->filter_id)
        return 0;
    /* RFC 5176 §3.5 table: Filter-Id is 0 in a Disconnect-Request. */
    if (rq->kind == DYNAUTH_DISCONNECT && rq->filter_id[0])
        return 0;
    return 1;
}

static void wake(struct dynauth *d)
{
    uint64_t one = 1;
    /* Non-blocking; EAGAIN means the counter is already non-zero. */
    ssize_t n = write(d->evfd, &one, sizeof one);
    (void)n;
}

int dynauth_submit(struct dynauth *d, const struct dynauth_request *rq)
{
    if (!rq || !request_valid(rq))
        return -EINVAL;

    pthread_mutex_lock(&d->lock);
    if (d->stop) {
        pthread_mutex_unlock(&d->lock);
        return -ESHUTDOWN;
    }
    struct slot *s = d->free_list;
    if (!s) {
        pthread_mutex_unlock(&d->lock);
        atomic_fetch_add(&d->queue_full, 1);
        return -ENOBUFS;
    }
    d->free_list = s->next;
    pthread_mutex_unlock(&d->lock);

    /* The slot is ours until it is linked below: copy without the lock. */
    s->rq = *rq;
    s->next = NULL;
    s->sent_ns = 0;
    s->attempts = 0;
    s->len = 0;
    atomic_fetch_add(&d->submitted, 1);
    atomic_fetch_add(&d->pending, 1);

    pthread_mutex_lock(&d->lock);
    int was_empty = d->in_head == NULL;
    if (d->in_tail)
        d->in_tail->next = s;
    else
        d->in_head = s;
    d->in_tail = s;
    pthread_mutex_unlock(&d->lock);
    /* Only the submitter that made the list non-empty needs to wake the
     * thread: it drains the whole list at once. */
    if (was_empty)
        wake(d);
    return 0;
}

/* ---- the dynauth thread ---------------------------------------------- */

static void slot_release(struct dynauth *d, struct slot *s)
{
    radius_secret_wipe(&s->rq.secret);
    pthread_mutex_lock(&d->lock);
    s->next = d->free_list;
    d->free_list = s;
    pthread_mutex_unlock(&d->lock);
    atomic_fetch_sub(&d->pending, 1);
}

/*
 * Decide a request: free its Identifier and its slot first, so that the
 * callback may submit again at once (even with a pool of one), then count
 * and report.
 */
static void complete(struct dynauth *d, struct slot *s, enum dynauth_result result,
                     uint32_t error_cause, int err)
{
    struct dynauth_outcome out = {
        .cookie = s->rq.cookie, .kind = s->rq.kind, .result = result,
        .error_cause = error_cause, .err = err, .attempts = s->attempts,
        .identifier = s->attempts ? s->id : 0, .nas = s->rq.nas, .t0_ns = s->rq.t0_ns,
        .sent_ns = s->sent_ns, .done_ns = mono_ns(),
    };
    if (s->attempts > 0 && d->by_id[s->id] == s) {
        d->by_id[s->id] = NULL;
        d->inflight--;
    }
    slot_release(d, s);

    switch (result) {
    case DYNAUTH_ACK: atomic_fetch_add(&d->acks, 1); break;
    case DYNAUTH_NAK: atomic_fetch_add(&d->naks, 1); break;
    case DYNAUTH_TIMEOUT: atomic_fetch_add(&d->timeouts, 1); break;
    case DYNAUTH_SEND_ERROR: atomic_fetch_add(&d->send_errors, 1); break;
    case DYNAUTH_CANCELLED: atomic_fetch_add(&d->cancelled, 1); break;
    }
    if (d->on_outcome)
        d->on_outcome(d->ctx, &out);
}

/*
 * Build and sign the packet once; every retransmission sends these same
 * bytes (RFC 5080 §2.2.1), Event-Timestamp included.  Returns 0 or
 * -EMSGSIZE (cannot happen with the limits request_valid() enforces).
 */
static int slot_build(struct slot *s)
{
    const struct dynauth_request *rq = &s->rq;
    struct radius_builder b;
    uint8_t code = rq->kind == DYNAUTH_COA ? RADIUS_COA_REQUEST : RADIUS_DISCONNECT_REQUEST;
    uint32_t want = rq->nas_attrs & rq->have & DYNAUTH_ATTRS_ALL;

    radius_builder_init(&b, s->pkt, sizeof s->pkt, code, s->id, NULL);
    /* Blast-RADIUS: the Message-Authenticator goes first. */
    radius_builder_add_ma(&b);
    /* RFC 5176 §3: Event-Timestamp lets the NAS refuse a replayed request. */
    radius_builder_add_u32(&b, RADIUS_ATTR_EVENT_TIMESTAMP, (uint32_t)time(NULL));
    if (want & DA_ATTR_USER_NAME)
        radius_builder_add_str(&b, RADIUS_ATTR_USER_NAME, rq->user_name);
    if (want & DA_ATTR_ACCT_SESSION_ID)
        radius_builder_add_str(&b, RADIUS_ATTR_ACCT_SESSION_ID, rq->acct_session_id);
    if (want & DA_ATTR_FRAMED_IP_ADDRESS)
        radius_builder_add_u32(&b, RADIUS_ATTR_FRAMED_IP_ADDRESS, rq->framed_ip);
    if (want & DA_ATTR_CALLING_STATION_ID)
        radius_builder_add_str(&b, RADIUS_ATTR_CALLING_STATION_ID, rq->calling_station_id);
    if (want & DA_ATTR_3GPP_IMSI)
        radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMSI, rq->imsi, strlen(rq->imsi));
    if (rq->kind == DYNAUTH_COA && rq->filter_id[0])
        radius_builder_add_str(&b, RADIUS_ATTR_FILTER_ID, rq->filter_id);
    int len = radius_builder_finish(&b);
    if (len < 0)
        return -EMSGSIZE;
    /* RFC 5176 §3.5: MA over a zero authenticator, then the Request
     * Authenticator as for Accounting-Request (RFC 2866 §3). */
    radius_sign_request(s->pkt, (size_t)len, b.ma_off, &rq->secret);
    s->len = (uint16_t)len;
    return 0;
}

/*
 * One transmission.  A full socket buffer is treated like a datagram lost
 * on the way: the attempt counts and the timer will send again.  Any other
 * error will not go away by retrying, so it is returned and ends the
 * request with SEND_ERROR.
 */
static int transmit(struct dynauth *d, struct slot *s)
{
    s->attempts++;
    ssize_t n = sendto(d->fd, s->pkt, s->len, 0, (const struct sockaddr *)&s->rq.nas,
                       sizeof s->rq.nas);
    if (n == (ssize_t)s->len) {
        if (s->sent_ns == 0) {
            s->sent_ns = mono_ns();
            atomic_fetch_add(&d->sent, 1);
        } else {
            atomic_fetch_add(&d->retransmitted, 1);
        }
        return 0;
    }
    if (n >= 0)
        return -EMSGSIZE;
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR)
        return 0;
    return -err;
}

/* Give waiting requests an Identifier and send them, oldest first. */
static void start_waiting(struct dynauth *d)
{
    while (d->wait_head && d->inflight < NIDS) {
        struct slot *s = d->wait_head;
        d->wait_head = s->next;
        if (!d->wait_head)
            d->wait_tail = NULL;
        s->next = NULL;

        /* Round-robin from next_id, so a freed Identifier is not reused at
         * once while a late reply to it may still be on the way. */
        unsigned id = d->next_id;
        while (d->by_id[id])
            id = (id + 1) % NIDS;
        d->next_id = (uint8_t)(id + 1);
        s->id = (uint8_t)id;

        int r = slot_build(s);
        if (r < 0) {
            complete(d, s, DYNAUTH_SEND_ERROR, 0, r);
            continue;
        }
        d->by_id[id] = s;
        d->inflight++;
        r = transmit(d, s);
        if (r < 0) {
            complete(d, s, DYNAUTH_SEND_ERROR, 0, r);
            continue;
        }
        s->rto_ms = d->timeout_ms;
        s->deadline_ns = mono_ns() + (int64_t)s->rto_ms * 1000000;
    }
}

/* Retransmit or time out what is due; returns the earliest deadline left. */
static int64_t run_timers(struct dynauth *d)
{
    int64_t now = mono_ns(), next = INT64_MAX;
    for (unsigned id = 0; id < NIDS; id++) {
        struct slot *s = d->by_id[id];
        if (!s)
            continue;
        if (s->deadline_ns > now) {
            if (s->deadline_ns < next)
                next = s->deadline_ns;
            continue;
        }
        if (s->attempts > d->retries) {
            complete(d, s, DYNAUTH_TIMEOUT, 0, 0);
            continue;
        }
        int r = transmit(d, s);
        if (r < 0) {
            complete(d, s, DYNAUTH_SEND_ERROR, 0, r);
            continue;
        }
        /* RFC 5080 §2.2.1: double the timeout, up to MRT. */
        s->rto_ms = s->rto_ms * 2 > d->backoff_cap_ms ? d->backoff_cap_ms : s->rto_ms * 2;
        s->deadline_ns = mono_ns() + (int64_t)s->rto_ms * 1000000;
        if (s->deadline_ns < next)
            next = s->deadline_ns;
    }
    return next;
}

/* One reply: match, check the code, verify, decide. */
static void handle_reply(struct dynauth *d, size_t len, const struct sockaddr_in *from)
{
    struct radius_packet *pkt = &d->pkt;
    if (radius_packet_decode(d->rx, len, pkt) != RADIUS_OK) {
        atomic_fetch_add(&d->bad_replies, 1);
        return;
    }
    struct slot *s = d->by_id[pkt->id];
    if (!s || from->sin_addr.s_addr != s->rq.nas.sin_addr.s_addr ||
        from->sin_port != s->rq.nas.sin_port) {
        atomic_fetch_add(&d->unmatched, 1);
        return;
    }
    uint8_t ack = s->rq.kind == DYNAUTH_COA ? RADIUS_COA_ACK : RADIUS_DISCONNECT_ACK;
    uint8_t nak = s->rq.kind == DYNAUTH_COA ? RADIUS_COA_NAK : RADIUS_DISCONNECT_NAK;
    if (pkt->code != ack && pkt->code != nak) {
        atomic_fetch_add(&d->bad_replies, 1);
        return;
    }
    /* Response Authenticator over our Request Authenticator, and the MA
     * when the NAS sent one.  A forgery must not end the request: a
     * genuine reply may still come. */
    if (radius_verify_response(pkt, s->pkt + 4, &s->rq.secret) != 0) {
        atomic_fetch_add(&d->bad_replies, 1);
        return;
    }
    /* RFC 5176 §3.6: Error-Cause is on NAKs, and 201/202 may ride on an ACK. */
    uint32_t cause = 0;
    if (radius_packet_get_u32(pkt, RADIUS_ATTR_ERROR_CAUSE, &cause) != RADIUS_OK)
        cause = 0;
    complete(d, s, pkt->code == ack ? DYNAUTH_ACK : DYNAUTH_NAK, cause, 0);
}

static void receive(struct dynauth *d)
{
    for (int i = 0; i < RX_BATCH; i++) {
        /* Zeroed so that nothing reads what recvfrom() did not write
         * (clang-analyzer cannot tell it always fills an AF_INET source). */
        struct sockaddr_in from = { 0 };
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(d->fd, d->rx, sizeof d->rx, 0, (struct sockaddr *)&from, &flen);
        if (n < 0)
            return;     /* EAGAIN: drained; anything else: next wake-up */
        if (flen != sizeof from || from.sin_family != AF_INET) {
            atomic_fetch_add(&d->unmatched, 1);
            continue;
        }
        handle_reply(d, (size_t)n, &from);
    }
}

/* Move what was submitted to the waiting FIFO; returns the stop flag. */
static int take_incoming(struct dynauth *d)
{
    pthread_mutex_lock(&d->lock);
    struct slot *head = d->in_head, *tail = d->in_tail;
    d->in_head = d->in_tail = NULL;
    int stop = d->stop;
    pthread_mutex_unlock(&d->lock);
    if (head) {
        if (d->wait_tail)
            d->wait_tail->next = head;
        else
            d->wait_head = head;
        d->wait_tail = tail;
    }
    return stop;
}

static void cancel_all(struct dynauth *d)
{
    for (unsigned id = 0; id < NIDS; id++)
        if (d->by_id[id])
            complete(d, d->by_id[id], DYNAUTH_CANCELLED, 0, 0);
    (void)take_incoming(d);
    while (d->wait_head) {
        struct slot *s = d->wait_head;
        d->wait_head = s->next;
        s->next = NULL;
        complete(d, s, DYNAUTH_CANCELLED, 0, 0);
    }
    d->wait_tail = NULL;
}

static void *dynauth_thread(void *arg)
{
    struct dynauth *d = arg;

    while (!take_incoming(d)) {
        start_waiting(d);
        int64_t next = run_timers(d);
        /* Timers may have freed Identifiers for requests still waiting. */
        if (d->wait_head && d->inflight < NIDS)
            continue;

        struct pollfd p[2] = { { .fd = d->fd, .events = POLLIN },
                               { .fd = d->evfd, .events = POLLIN } };
        struct timespec ts, *tsp = NULL;
        if (next != INT64_MAX) {
            int64_t wait = next - mono_ns();
            if (wait < 0)
                wait = 0;
            ts.tv_sec = (time_t)(wait / 1000000000);
            ts.tv_nsec = (long)(wait % 1000000000);
            tsp = &ts;
        }
        if (ppoll(p, 2, tsp, NULL) < 0)
            continue;   /* EINTR; nothing else is expected of two valid fds */
        if (p[1].revents & POLLIN) {
            uint64_t v;
            ssize_t n = read(d->evfd, &v, sizeof v);
            (void)n;
        }
        if (p[0].revents & POLLIN)
            receive(d);
    }
    cancel_all(d);
    return NULL;
}

/* ---- life cycle -------------------------------------------------------- */

struct dynauth *dynauth_new(const struct dynauth_options *o)
{
    static const struct dynauth_options defaults;
    struct dynauth *d = NULL;
    int err = EINVAL;

    if (!o)
        o = &defaults;
    if (o->timeout_ms > DYNAUTH_MAX_TIMEOUT_MS || o->retries < DYNAUTH_NO_RETRIES ||
        o->retries > DYNAUTH_MAX_RETRIES || o->max_pending > DYNAUTH_PENDING_LIMIT ||
        (o->local.sin_family != 0 && o->local.sin_family != AF_INET))
        goto fail;

    err = ENOMEM;
    d = calloc(1, sizeof *d);
    if (!d)
        goto fail;
    d->fd = d->evfd = -1;
    d->timeout_ms = o->timeout_ms ? o->timeout_ms : DYNAUTH_DEFAULT_TIMEOUT_MS;
    d->backoff_cap_ms = d->timeout_ms > DYNAUTH_BACKOFF_CAP_MS ? d->timeout_ms
                                                               : DYNAUTH_BACKOFF_CAP_MS;
    d->retries = o->retries == 0 ? DYNAUTH_DEFAULT_RETRIES
               : o->retries < 0 ? 0u : (unsigned)o->retries;
    d->max_pending = o->max_pending ? o->max_pending : DYNAUTH_MAX_PENDING;
    d->on_outcome = o->on_outcome;
    d->ctx = o->ctx;
    /* calloc: pages of the pool that are never used are never touched. */
    d->pool = calloc(d->max_pending, sizeof *d->pool);
    if (!d->pool)
        goto fail;
    for (uint32_t i = d->max_pending; i-- > 0;) {
        d->pool[i].next = d->free_list;
        d->free_list = &d->pool[i];
    }
    if (getrandom(&d->next_id, sizeof d->next_id, GRND_NONBLOCK) != sizeof d->next_id)
        d->next_id = (uint8_t)mono_ns();

    d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0) {
        err = errno;
        goto fail;
    }
    struct sockaddr_in local = { .sin_family = AF_INET };
    if (o->local.sin_family == AF_INET)
        local = o->local;
    if (bind(d->fd, (const struct sockaddr *)&local, sizeof local) < 0) {
        err = errno;
        goto fail;
    }
    d->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d->evfd < 0) {
        err = errno;
        goto fail;
    }
    pthread_mutex_init(&d->lock, NULL);
    err = pthread_create(&d->thread, NULL, dynauth_thread, d);
    if (err) {
        pthread_mutex_destroy(&d->lock);
        goto fail;
    }
    return d;

fail:
    if (d) {
        if (d->fd >= 0)
            close(d->fd);
        if (d->evfd >= 0)
            close(d->evfd);
        free(d->pool);
        free(d);
    }
    errno = err;
    return NULL;
}

void dynauth_free(struct dynauth *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stop = 1;
    pthread_mutex_unlock(&d->lock);
    wake(d);
    pthread_join(d->thread, NULL);
    close(d->fd);
    close(d->evfd);
    pthread_mutex_destroy(&d->lock);
    /* Every slot was released (and its secret wiped) by cancel_all(). */
    free(d->pool);
    free(d);
}

void dynauth_get_stats(struct dynauth *d, struct dynauth_stats *ret)
{
    *ret = (struct dynauth_stats){
        .submitted = atomic_load(&d->submitted),
        .sent = atomic_load(&d->sent),
        .retransmitted = atomic_load(&d->retransmitted),
        .acks = atomic_load(&d->acks),
        .naks = atomic_load(&d->naks),
        .timeouts = atomic_load(&d->timeouts),
        .send_errors = atomic_load(&d->send_errors),
        .cancelled = atomic_load(&d->cancelled),
        .bad_replies = atomic_load(&d->bad_replies),
        .unmatched = atomic_load(&d->unmatched),
        .queue_full = atomic_load(&d->queue_full),
        .pending = atomic_load(&d->pending),
    };
}

int dynauth_local_addr(struct dynauth *d, struct sockaddr_in *ret)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(d->fd, (struct sockaddr *)&a, &len) < 0)
        return -errno;
    *ret = a;
    return 0;
}
