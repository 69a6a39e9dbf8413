/*
 * test_dynauth.c — the RFC 5176 Dynamic Authorization client
 * (src/radius/dynauth.c) against a test NAS over real UDP on 127.0.0.1.
 *
 * The test NAS is the peer, not the thing under test: a thread with its
 * own socket that decodes every Disconnect / CoA-Request with the real
 * codec and checks it the way a strict GGSN would — code, the
 * Message-Authenticator first and valid, the Request Authenticator of
 * RFC 5176 §3.5, Event-Timestamp present and current, exactly the
 * identification attributes asked for with the right values — then
 * answers as its scenario says (ACK, NAK, silence, a forged reply first,
 * …).  The NAS thread never asserts (cmocka's longjmp must stay on the
 * test's thread); it writes the first failed check into `failure`, which
 * every test asserts empty.  Timeouts are tens of milliseconds, so the
 * whole file runs in well under a second.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "radius/crypto.h"
#include "radius/dynauth.h"
#include "radius/gpp.h"
#include "radius/radius.h"

#define SECRET "dynauth-test-secret"
#define WRONG_SECRET "not-the-secret"
#define NAS_LOG 8                   /* packets kept byte for byte */
#define HOLD_WINDOW_MS 100
#define MAX_OUTCOMES 512

enum nas_mode {
    NAS_ACK,                        /* answer ACK */
    NAS_NAK_503,                    /* answer NAK, Error-Cause 503 */
    NAS_SILENT,                     /* never answer */
    /* In the three below the reply to ignore differs from the real one
     * (NAK 503 or another code), so a client that took it would report
     * the wrong outcome, not merely count the wrong thing. */
    NAS_BAD_SECRET_THEN_ACK,        /* a NAK signed with another secret, then ACK */
    NAS_WRONG_CODE_THEN_ACK,        /* a well-signed reply of the other kind, then ACK */
    NAS_OTHER_PORT_THEN_ACK,        /* a well-signed NAK from another port, then ACK */
    NAS_HOLD,                       /* hold hold_n requests, then answer all */
};

struct held {
    uint8_t id;
    uint8_t auth[16];
    struct sockaddr_in from;
};

struct nas {
    int fd, fd_other;
    struct sockaddr_in addr;
    pthread_t thread;
    atomic_int stop;
    enum nas_mode mode;
    struct radius_secret secret, wrong;

    /* What a request must carry. */
    uint8_t want_code;
    uint32_t want_attrs;            /* DA_ATTR_* */
    struct dynauth_request want;    /* the expected values */

    pthread_mutex_t lock;           /* guards what follows */
    unsigned received;
    char failure[256];
    uint8_t log[NAS_LOG][RADIUS_MAX_LEN];
    size_t log_len[NAS_LOG];
    int64_t log_ns[NAS_LOG];
    /* NAS_HOLD */
    unsigned hold_n;
    struct held held[256];
    unsigned nheld;
    int64_t full_since_ns;
    int released;
    unsigned during_hold;           /* requests that arrived while all were held */
    unsigned distinct_held;

    struct radius_packet pkt;
};

struct collector {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned n;
    struct dynauth_outcome out[MAX_OUTCOMES];
};

struct fx {
    struct nas nas;
    struct collector col;
    struct dynauth *d;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the test NAS ------------------------------------------------------ */

static void nas_fail(struct nas *n, const char *why)
{
    pthread_mutex_lock(&n->lock);
    if (!n->failure[0])
        snprintf(n->failure, sizeof n->failure, "%s", why);
    pthread_mutex_unlock(&n->lock);
}

static int value_is(const struct radius_packet *p, const struct radius_attr_ref *a,
                    const char *want)
{
    return a->len == strlen(want) && memcmp(radius_attr_value(p, a->off), want, a->len) == 0;
}

/* Every check a strict NAS makes; NULL when the request is good. */
static const char *nas_check(struct nas *n, const uint8_t *buf, size_t len)
{
    struct radius_packet *p = &n->pkt;
    const struct dynauth_request *w = &n->want;

    if (radius_packet_decode(buf, len, p) != RADIUS_OK)
        return "request does not decode";
    if (p->code != n->want_code)
        return "wrong code";
    /* Blast-RADIUS: the Message-Authenticator is the first attribute. */
    if (p->nattrs < 1 || p->attrs[0].type != RADIUS_ATTR_MESSAGE_AUTHENTICATOR ||
        p->ma_off != RADIUS_HDR_LEN + 2)
        return "Message-Authenticator is not first";
    if (radius_verify_ma(p, &n->secret, 1) != 0)
        return "Message-Authenticator does not verify";
    if (radius_verify_request_auth(p, &n->secret) != 0)
        return "Request Authenticator does not verify";
    uint32_t ts;
    if (radius_packet_get_u32(p, RADIUS_ATTR_EVENT_TIMESTAMP, &ts) != RADIUS_OK)
        return "Event-Timestamp missing";
    int64_t skew = (int64_t)ts - (int64_t)time(NULL);
    if (skew < -5 || skew > 5)
        return "Event-Timestamp is not now";

    uint32_t seen = 0;
    int filter = 0, timestamps = 0;
    for (unsigned i = 0; i < p->nattrs; i++) {
        const struct radius_attr_ref *a = &p->attrs[i];
        uint32_t bit = 0;
        switch (a->type) {
        case RADIUS_ATTR_MESSAGE_AUTHENTICATOR:
            continue;   /* the decoder refuses a second one */
        case RADIUS_ATTR_EVENT_TIMESTAMP:
            if (timestamps++)
                return "Event-Timestamp repeated";
            continue;
        case RADIUS_ATTR_USER_NAME:
            bit = DA_ATTR_USER_NAME;
            if (!value_is(p, a, w->user_name))
                return "User-Name value";
            break;
        case RADIUS_ATTR_ACCT_SESSION_ID:
            bit = DA_ATTR_ACCT_SESSION_ID;
            if (!value_is(p, a, w->acct_session_id))
                return "Acct-Session-Id value";
            break;
        case RADIUS_ATTR_FRAMED_IP_ADDRESS: {
            bit = DA_ATTR_FRAMED_IP_ADDRESS;
            uint32_t ip;
            if (radius_packet_get_u32(p, a->type, &ip) != RADIUS_OK || ip != w->framed_ip)
                return "Framed-IP-Address value";
            break;
        }
        case RADIUS_ATTR_CALLING_STATION_ID:
            bit = DA_ATTR_CALLING_STATION_ID;
            if (!value_is(p, a, w->calling_station_id))
                return "Calling-Station-Id value";
            break;
        case RADIUS_ATTR_VENDOR_SPECIFIC: {
            bit = DA_ATTR_3GPP_IMSI;
            const struct radius_vsa_ref *v = radius_packet_find_vsa(p, GPP_VENDOR, GPP_IMSI);
            if (p->nvsas != 1 || !v)
                return "a Vendor-Specific that is not one 3GPP-IMSI";
            if (v->len != strlen(w->imsi) ||
                memcmp(radius_attr_value(p, v->off), w->imsi, v->len) != 0)
                return "3GPP-IMSI value";
            break;
        }
        case RADIUS_ATTR_FILTER_ID:
            if (filter++ || !w->filter_id[0] || !value_is(p, a, w->filter_id))
                return "unexpected Filter-Id";
            continue;
        default:
            return "unexpected attribute";
        }
        if (seen & bit)
            return "identification attribute repeated";
        seen |= bit;
    }
    if (seen != n->want_attrs)
        return "not exactly the requested identification attributes";
    if (w->filter_id[0] && !filter)
        return "Filter-Id missing";
    return NULL;
}

static void nas_reply(struct nas *n, int fd, const struct sockaddr_in *to, uint8_t code,
                      uint8_t id, const uint8_t req_auth[16], const struct radius_secret *s,
                      uint32_t cause)
{
    uint8_t out[128];
    struct radius_builder b;
    radius_builder_init(&b, out, sizeof out, code, id, NULL);
    radius_builder_add_ma(&b);
    if (cause)
        radius_builder_add_u32(&b, RADIUS_ATTR_ERROR_CAUSE, cause);
    int len = radius_builder_finish(&b);
    if (len < 0) {
        nas_fail(n, "cannot build a reply");
        return;
    }
    radius_sign_response(out, (size_t)len, b.ma_off, req_auth, s);
    if (sendto(fd, out, (size_t)len, 0, (const struct sockaddr *)to, sizeof *to) != len)
        nas_fail(n, "cannot send a reply");
}

/* NAS_HOLD: once hold_n requests are held and the window has passed, answer them. */
static void nas_release(struct nas *n)
{
    pthread_mutex_lock(&n->lock);
    int due = !n->released && n->nheld == n->hold_n &&
              mono_ns() - n->full_since_ns >= (int64_t)HOLD_WINDOW_MS * 1000000;
    if (due) {
        uint8_t seen[256] = { 0 };
        for (unsigned i = 0; i < n->nheld; i++)
            if (!seen[n->held[i].id]++)
                n->distinct_held++;
        n->released = 1;
    }
    pthread_mutex_unlock(&n->lock);
    if (!due)
        return;
    for (unsigned i = 0; i < n->nheld; i++)
        nas_reply(n, n->fd, &n->held[i].from, n->want_code + 1, n->held[i].id,
                  n->held[i].auth, &n->secret, 0);
}

static void *nas_main(void *arg)
{
    struct nas *n = arg;
    uint8_t buf[RADIUS_MAX_LEN];

    while (!atomic_load(&n->stop)) {
        if (n->mode == NAS_HOLD)
            nas_release(n);
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        ssize_t len = recvfrom(n->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        if (len < 0)
            continue;   /* the receive timeout: look at stop and the hold window */

        pthread_mutex_lock(&n->lock);
        unsigned k = n->received++;
        if (k < NAS_LOG) {
            memcpy(n->log[k], buf, (size_t)len);
            n->log_len[k] = (size_t)len;
            n->log_ns[k] = mono_ns();
        }
        pthread_mutex_unlock(&n->lock);

        const char *why = nas_check(n, buf, (size_t)len);
        if (why) {
            nas_fail(n, why);
            continue;
        }
        uint8_t id = buf[1], ack = n->want_code + 1, nak = n->want_code + 2;
        const uint8_t *auth = buf + 4;
        switch (n->mode) {
        case NAS_ACK:
            nas_reply(n, n->fd, &from, ack, id, auth, &n->secret, 0);
            break;
        case NAS_NAK_503:
            nas_reply(n, n->fd, &from, nak, id, auth, &n->secret, 503);
            break;
        case NAS_SILENT:
            break;
        case NAS_BAD_SECRET_THEN_ACK:
            nas_reply(n, n->fd, &from, nak, id, auth, &n->wrong, 503);
            nas_reply(n, n->fd, &from, ack, id, auth, &n->secret, 0);
            break;
        case NAS_WRONG_CODE_THEN_ACK:
            /* A CoA-ACK to a Disconnect-Request, correctly signed. */
            nas_reply(n, n->fd, &from, RADIUS_COA_ACK, id, auth, &n->secret, 0);
            nas_reply(n, n->fd, &from, ack, id, auth, &n->secret, 0);
            break;
        case NAS_OTHER_PORT_THEN_ACK:
            nas_reply(n, n->fd_other, &from, nak, id, auth, &n->secret, 503);
            nas_reply(n, n->fd, &from, ack, id, auth, &n->secret, 0);
            break;
        case NAS_HOLD:
            pthread_mutex_lock(&n->lock);
            if (n->released) {
                pthread_mutex_unlock(&n->lock);
                nas_reply(n, n->fd, &from, ack, id, auth, &n->secret, 0);
                break;
            }
            if (n->nheld < n->hold_n) {
                struct held *h = &n->held[n->nheld++];
                h->id = id;
                memcpy(h->auth, auth, 16);
                h->from = from;
                if (n->nheld == n->hold_n)
                    n->full_since_ns = mono_ns();
            } else {
                n->during_hold++;
            }
            pthread_mutex_unlock(&n->lock);
            break;
        }
    }
    return NULL;
}

static int udp_socket(struct sockaddr_in *ret)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    struct timeval tv = { .tv_sec = 0, .tv_usec = 5000 };
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    if (ret)
        *ret = a;
    return fd;
}

/* ---- the caller's side ------------------------------------------------- */

static void on_outcome(void *ctx, const struct dynauth_outcome *out)
{
    struct collector *c = ctx;
    pthread_mutex_lock(&c->lock);
    if (c->n < MAX_OUTCOMES)
        c->out[c->n] = *out;
    c->n++;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static void wait_outcomes(struct collector *c, unsigned n, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&c->lock);
    int r = 0;
    while (c->n < n && r == 0)
        r = pthread_cond_timedwait(&c->cond, &c->lock, &until);
    unsigned got = c->n;
    pthread_mutex_unlock(&c->lock);
    assert_true(got >= n);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    pthread_mutex_init(&f->nas.lock, NULL);
    pthread_mutex_init(&f->col.lock, NULL);
    pthread_cond_init(&f->col.cond, NULL);
    f->nas.fd = f->nas.fd_other = -1;
    assert_int_equal(radius_secret_init(&f->nas.secret, SECRET, strlen(SECRET)), 0);
    assert_int_equal(radius_secret_init(&f->nas.wrong, WRONG_SECRET, strlen(WRONG_SECRET)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    dynauth_free(f->d);
    if (f->nas.fd >= 0) {
        atomic_store(&f->nas.stop, 1);
        pthread_join(f->nas.thread, NULL);
        close(f->nas.fd);
        close(f->nas.fd_other);
    }
    pthread_mutex_destroy(&f->nas.lock);
    pthread_mutex_destroy(&f->col.lock);
    pthread_cond_destroy(&f->col.cond);
    free(f);
    return 0;
}

/*
 * A request as the engine would fill it: the NAS wants User-Name,
 * Acct-Session-Id, Framed-IP-Address and 3GPP-IMSI; the session has no
 * User-Name but has a Calling-Station-Id the NAS did not ask for, so the
 * packet must carry exactly Acct-Session-Id, Framed-IP-Address and IMSI.
 */
static void make_request(struct fx *f, enum dynauth_kind kind, uint64_t cookie,
                         struct dynauth_request *rq)
{
    memset(rq, 0, sizeof *rq);
    rq->kind = kind;
    rq->nas = f->nas.addr;
    assert_int_equal(radius_secret_init(&rq->secret, SECRET, strlen(SECRET)), 0);
    rq->nas_attrs = DA_ATTR_USER_NAME | DA_ATTR_ACCT_SESSION_ID | DA_ATTR_FRAMED_IP_ADDRESS |
                    DA_ATTR_3GPP_IMSI;
    rq->have = DA_ATTR_ACCT_SESSION_ID | DA_ATTR_FRAMED_IP_ADDRESS |
               DA_ATTR_CALLING_STATION_ID | DA_ATTR_3GPP_IMSI;
    snprintf(rq->user_name, sizeof rq->user_name, "not-available");
    snprintf(rq->acct_session_id, sizeof rq->acct_session_id, "5F3A0001C2D4");
    rq->framed_ip = 0x0a000001;
    snprintf(rq->calling_station_id, sizeof rq->calling_station_id, "447700900123");
    snprintf(rq->imsi, sizeof rq->imsi, "234150000000001");
    if (kind == DYNAUTH_COA)
        snprintf(rq->filter_id, sizeof rq->filter_id, "quarantine");
    rq->cookie = cookie;
    rq->t0_ns = mono_ns();
}

/* Start the NAS in `mode`, expecting requests like make_request(kind). */
static void nas_start(struct fx *f, enum nas_mode mode, enum dynauth_kind kind)
{
    struct nas *n = &f->nas;
    n->mode = mode;
    n->want_code = kind == DYNAUTH_COA ? RADIUS_COA_REQUEST : RADIUS_DISCONNECT_REQUEST;
    n->want_attrs = DA_ATTR_ACCT_SESSION_ID | DA_ATTR_FRAMED_IP_ADDRESS | DA_ATTR_3GPP_IMSI;
    n->fd = udp_socket(&n->addr);
    n->fd_other = udp_socket(NULL);
    make_request(f, kind, 0, &n->want);
    assert_int_equal(pthread_create(&n->thread, NULL, nas_main, n), 0);
}

static void start_client(struct fx *f, uint32_t timeout_ms, int retries, uint32_t max_pending)
{
    struct dynauth_options o = {
        .timeout_ms = timeout_ms, .retries = retries, .max_pending = max_pending,
        .on_outcome = on_outcome, .ctx = &f->col,
    };
    f->d = dynauth_new(&o);
    assert_non_null(f->d);
}

static void submit(struct fx *f, enum dynauth_kind kind, uint64_t cookie)
{
    struct dynauth_request rq;
    make_request(f, kind, cookie, &rq);
    assert_int_equal(dynauth_submit(f->d, &rq), 0);
}

static void assert_nas_clean(struct fx *f)
{
    pthread_mutex_lock(&f->nas.lock);
    char failure[sizeof f->nas.failure];
    memcpy(failure, f->nas.failure, sizeof failure);
    pthread_mutex_unlock(&f->nas.lock);
    if (failure[0])
        fail_msg("test NAS: %s", failure);
}

static unsigned nas_received(struct fx *f)
{
    pthread_mutex_lock(&f->nas.lock);
    unsigned n = f->nas.received;
    pthread_mutex_unlock(&f->nas.lock);
    return n;
}

/* ---- scenarios -------------------------------------------------------- */

static void test_disconnect_ack(void **state)
{
    struct fx *f = *state;
    nas_start(f, NAS_ACK, DYNAUTH_DISCONNECT);
    start_client(f, 50, 0, 0);
    submit(f, DYNAUTH_DISCONNECT, 0xc0ffee);
    wait_outcomes(&f->col, 1, 2000);

    const struct dynauth_outcome *o = &f->col.out[0];
    assert_int_equal(o->cookie, 0xc0ffee);
    assert_int_equal(o->kind, DYNAUTH_DISCONNECT);
    assert_int_equal(o->result, DYNAUTH_ACK);
    assert_int_equal(o->error_cause, 0);
    assert_int_equal(o->attempts, 1);
    /* Trigger-to-wire latency is sent_ns - t0_ns: both ends must be set. */
    assert_true(o->t0_ns > 0 && o->sent_ns >= o->t0_ns);
    assert_true(o->done_ns >= o->sent_ns);
    assert_int_equal(nas_received(f), 1);
    assert_int_equal(f->nas.log[0][1], o->identifier);
    assert_nas_clean(f);

    struct dynauth_stats st;
    dynauth_get_stats(f->d, &st);
    assert_int_equal(st.submitted, 1);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.retransmitted, 0);
    assert_int_equal(st.acks, 1);
    assert_int_equal(st.bad_replies, 0);
    assert_int_equal(st.pending, 0);
}

static void test_disconnect_nak_error_cause(void **state)
{
    struct fx *f = *state;
    nas_start(f, NAS_NAK_503, DYNAUTH_DISCONNECT);
    start_client(f, 50, 0, 0);
    submit(f, DYNAUTH_DISCONNECT, 7);
    wait_outcomes(&f->col, 1, 2000);

    const struct dynauth_outcome *o = &f->col.out[0];
    assert_int_equal(o->result, DYNAUTH_NAK);
    assert_int_equal(o->error_cause, 503);
    assert_string_equal(dynauth_error_cause_name(o->error_cause), "Session Context Not Found");
    assert_int_equal(o->attempts, 1);
    assert_nas_clean(f);
    struct dynauth_stats st;
    dynauth_get_stats(f->d, &st);
    assert_int_equal(st.naks, 1);
    assert_int_equal(st.acks, 0);
}

/*
 * Silence: 1 + 3 transmissions with the same Identifier and the same
 * bytes (RFC 5080 §2.2.1), spaced 30, 60, 120 ms, then TIMEOUT 240 ms
 * after the last.
 */
static void test_timeout_retransmits_same_bytes(void **state)
{
    struct fx *f = *state;
    const int timeout_ms = 30, retries = 3;
    nas_start(f, NAS_SILENT, DYNAUTH_DISCONNECT);
    start_client(f, timeout_ms, retries, 0);
    submit(f, DYNAUTH_DISCONNECT, 42);
    wait_outcomes(&f->col, 1, 3000);

    const struct dynauth_outcome *o = &f->col.out[0];
    assert_int_equal(o->result, DYNAUTH_TIMEOUT);
    assert_int_equal(o->attempts, retries + 1);
    /* The last wait is 30 << 3 = 240 ms; the whole span at least 450 ms. */
    assert_true(o->done_ns - o->sent_ns >= (int64_t)(30 + 60 + 120 + 240) * 1000000);

    assert_int_equal(nas_received(f), retries + 1);
    for (int i = 1; i <= retries; i++) {
        assert_int_equal(f->nas.log_len[i], f->nas.log_len[0]);
        assert_memory_equal(f->nas.log[i], f->nas.log[0], f->nas.log_len[0]);
        /* Doubling, measured at the receiver with a generous lower bound. */
        int64_t gap = f->nas.log_ns[i] - f->nas.log_ns[i - 1];
        assert_true(gap >= (int64_t)(timeout_ms << (i - 1)) * 1000000 / 2);
    }
    assert_int_equal(f->nas.log[0][1], o->identifier);
    assert_nas_clean(f);

    struct dynauth_stats st;
    dynauth_get_stats(f->d, &st);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.retransmitted, retries);
    assert_int_equal(st.timeouts, 1);
}

static void test_reply_with_wrong_secret_ignored(void **state)
{
    struct fx *f = *state;
    nas_start(f, NAS_BAD_SECRET_THEN_ACK, DYNAUTH_DISCONNECT);
    start_client(f, 1000, 0, 0);
    submit(f, DYNAUTH_DISCONNECT, 1);
    wait_outcomes(&f->col, 1, 2000);

    assert_int_equal(f->col.out[0].result, DYNAUTH_ACK);
    assert_int_equal(f->col.out[0].attempts, 1);
    assert_nas_clean(f);
    struct dynauth_stats st;
    dynauth_get_stats(f->d, &st);
    assert_int_equal(st.bad_replies, 1);
    assert_int_equal(st.acks, 1);
}

/* One Disconnect-Request to a NAS that first sends something to ignore,
 * then the ACK: the outcome is the ACK, and the client's counters. */
static void ack_after_noise(struct fx *f, enum nas_mode nas_mode, struct dynauth_stats *st)
{
    nas_start(f, nas_mode, DYNAUTH_DISCONNECT);
    start_client(f, 1000, 0, 0);
    submit(f, DYNAUTH_DISCONNECT, 1);
    wait_outcomes(&f->col, 1, 2000);
    assert_int_equal(f->col.out[0].result, DYNAUTH_ACK);
    assert_nas_clean(f);
    dynauth_get_stats(f->d, st);
}

static void test_reply_with_wrong_code_ignored(void **state)
{
    struct dynauth_stats st;
    ack_after_noise(*state, NAS_WRONG_CODE_THEN_ACK, &st);
    assert_int_equal(st.bad_replies, 1);
    assert_int_equal(st.acks, 1);
}

static void test_reply_from_other_port_ignored(void **state)
{
    struct dynauth_stats st;
    ack_after_noise(*state, NAS_OTHER_PORT_THEN_ACK, &st);
    assert_int_equal(st.unmatched, 1);
    assert_int_equal(st.bad_replies, 0);
}

static void test_coa_with_filter_id(void **state)
{
    struct fx *f = *state;
    nas_start(f, NAS_ACK, DYNAUTH_COA);
    start_client(f, 50, 0, 0);
    submit(f, DYNAUTH_COA, 99);
    wait_outcomes(&f->col, 1, 2000);

    const struct dynauth_outcome *o = &f->col.out[0];
    assert_int_equal(o->kind, DYNAUTH_COA);
    assert_int_equal(o->result, DYNAUTH_ACK);
    assert_int_equal(nas_received(f), 1);
    assert_int_equal(f->nas.log[0][0], RADIUS_COA_REQUEST);
    assert_nas_clean(f);
}

/*
 * 300 requests, 256 Identifiers: the NAS holds the first 256 without
 * answering; no 257th may arrive while they are all in flight.  Once it
 * answers, the 44 waiting requests go out and every request is ACKed.
 */
static void test_identifiers_exhausted_requests_wait(void **state)
{
    struct fx *f = *state;
    f->nas.hold_n = 256;
    nas_start(f, NAS_HOLD, DYNAUTH_DISCONNECT);
    start_client(f, 5000, 0, 0);
    for (uint64_t i = 0; i < 300; i++)
        submit(f, DYNAUTH_DISCONNECT, i);
    wait_outcomes(&f->col, 300, 5000);

    uint8_t seen[300] = { 0 };
    for (unsigned i = 0; i < 300; i++) {
        assert_int_equal(f->col.out[i].result, DYNAUTH_ACK);
        assert_true(f->col.out[i].cookie < 300);
        assert_int_equal(seen[f->col.out[i].cookie]++, 0);
    }
    pthread_mutex_lock(&f->nas.lock);
    unsigned distinct = f->nas.distinct_held, during = f->nas.during_hold;
    pthread_mutex_unlock(&f->nas.lock);
    assert_int_equal(distinct, 256);
    assert_int_equal(during, 0);
    assert_int_equal(nas_received(f), 300);
    assert_nas_clean(f);
    struct dynauth_stats st;
    dynauth_get_stats(f->d, &st);
    assert_int_equal(st.retransmitted, 0);
    assert_int_equal(st.acks, 300);
}

/* A pool of 4: the fifth request is refused and counted; free cancels the four. */
static void test_queue_full(void **state)
{
    struct fx *f = *state;
    nas_start(f, NAS_SILENT, DYNAUTH_DISCONNECT);
    start_client(f, 1000, 0, 4);
    for (uint64_t i = 0; i < 4; i++)
        submit(f, DYNAUTH_DISCONNECT, i);
    struct dynauth_request rq;
    make_request(f, DYNAUTH_DISCONNECT, 4, &rq);
    assert_int_equal(dynauth_submit(f->d, &rq), -ENOBUFS);

    struct dynauth_stats st;
    dynauth_get_stats(f->d, &st);
    assert_int_equal(st.queue_full, 1);
    assert_int_equal(st.submitted, 4);
    assert_int_equal(st.pending, 4);

    dynauth_free(f->d);
    f->d = NULL;
    assert_int_equal(f->col.n, 4);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(f->col.out[i].result, DYNAUTH_CANCELLED);
}

static void test_submit_rejects_malformed(void **state)
{
    struct fx *f = *state;
    f->nas.addr.sin_family = AF_INET;
    f->nas.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->nas.addr.sin_port = htons(3799);
    start_client(f, 0, 0, 0);
    struct dynauth_request rq;

    make_request(f, DYNAUTH_DISCONNECT, 0, &rq);
    rq.have = DA_ATTR_CALLING_STATION_ID;  /* nothing the NAS asked for */
    assert_int_equal(dynauth_submit(f->d, &rq), -EINVAL);

    make_request(f, DYNAUTH_DISCONNECT, 0, &rq);
    snprintf(rq.filter_id, sizeof rq.filter_id, "quarantine");
    assert_int_equal(dynauth_submit(f->d, &rq), -EINVAL);

    make_request(f, DYNAUTH_DISCONNECT, 0, &rq);
    snprintf(rq.imsi, sizeof rq.imsi, "23415x");
    assert_int_equal(dynauth_submit(f->d, &rq), -EINVAL);

    make_request(f, DYNAUTH_DISCONNECT, 0, &rq);
    memset(rq.acct_session_id, 'a', sizeof rq.acct_session_id);    /* not terminated */
    assert_int_equal(dynauth_submit(f->d, &rq), -EINVAL);

    make_request(f, DYNAUTH_DISCONNECT, 0, &rq);
    rq.nas.sin_port = 0;
    assert_int_equal(dynauth_submit(f->d, &rq), -EINVAL);

    make_request(f, DYNAUTH_DISCONNECT, 0, &rq);
    rq.kind = (enum dynauth_kind)9;
    assert_int_equal(dynauth_submit(f->d, &rq), -EINVAL);

    struct dynauth_stats st;
    dynauth_get_stats(f->d, &st);
    assert_int_equal(st.submitted, 0);
}

static void test_options_out_of_range(void **state)
{
    (void)state;
    struct dynauth_options o = { .retries = DYNAUTH_MAX_RETRIES + 1 };
    errno = 0;
    assert_null(dynauth_new(&o));
    assert_int_equal(errno, EINVAL);
    o = (struct dynauth_options){ .timeout_ms = DYNAUTH_MAX_TIMEOUT_MS + 1 };
    assert_null(dynauth_new(&o));
    o = (struct dynauth_options){ .max_pending = DYNAUTH_PENDING_LIMIT + 1 };
    assert_null(dynauth_new(&o));
    dynauth_free(NULL);
}

static void test_error_cause_names(void **state)
{
    (void)state;
    assert_string_equal(dynauth_error_cause_name(201), "Residual Session Context Removed");
    assert_string_equal(dynauth_error_cause_name(402), "Missing Attribute");
    assert_string_equal(dynauth_error_cause_name(407), "Invalid Attribute Value");
    assert_string_equal(dynauth_error_cause_name(508), "Multiple Session Selection Unsupported");
    assert_string_equal(dynauth_error_cause_name(0), "Unknown");
    assert_string_equal(dynauth_error_cause_name(509), "Unknown");
    assert_string_equal(dynauth_result_name(DYNAUTH_TIMEOUT), "timeout");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disconnect_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_nak_error_cause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_retransmits_same_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_with_wrong_secret_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_with_wrong_code_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_from_other_port_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coa_with_filter_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identifiers_exhausted_requests_wait, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_rejects_malformed, setup, teardown),
        cmocka_unit_test(test_options_out_of_range),
        cmocka_unit_test(test_error_cause_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
