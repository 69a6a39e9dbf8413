/*
 * radload.c — a RADIUS Access-Request load generator for m2mguard's
 * benchmarks.
 *
 * It plays a PGW/GGSN of a cellular M2M fleet: each request is an
 * Access-Request for one SIM of a numbered population (SIM i has IMSI
 * imsi_base + i, IMEI core imei_base + i, MSISDN 4479 + i) carrying the
 * 3GPP attributes a real gateway sends, signed with a Message-Authenticator
 * placed first (RFC 3579 §3.2, the BlastRADIUS advice).  bench/gen-fleet.py
 * writes the matching SIM inventory.
 *
 * The generator must cost less than the servers it measures, so it runs on
 * one thread and one core, never allocates after start-up and moves packets
 * in batches with sendmmsg / recvmmsg.  A RADIUS Identifier is one octet,
 * so up to 256 requests can be outstanding per source port; radload opens
 * ceil(window / 256) + 1 connected sockets and a (socket, id) pair names an
 * outstanding request.  The spare socket's worth of ids lets each socket's
 * FIFO free list leave an id unused for a while after its request ended, so
 * a late reply to a lost request is unlikely to meet the id's next request
 * (if it does, the Response Authenticator does not verify: it is counted as
 * "bad" and ignored, as RFC 2865 §3 tells a NAS to do).
 *
 * Nothing is resent.  A request without a reply after RADLOAD_LOST_NS is
 * counted lost and its slot freed.  Latency (send to receive, taken once per
 * sendmmsg / recvmmsg batch) goes into a log-linear histogram with ~0.8 %
 * resolution.  Accounting of the measured interval (after --warmup):
 *   sent     requests sent in the interval;
 *   replies  replies that verified, to those requests (late ones included,
 *            up to RADLOAD_LOST_NS after the end), split into accepts,
 *            rejects and other codes; their latencies make the percentiles;
 *   lost     those requests that got no verified reply in time;
 *   bad      replies in the interval that failed decoding or verification;
 *   rps      verified replies received during the interval / its length.
 * The last line on stdout is machine-readable: `result key=value ...`.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "radius/crypto.h"
#include "radius/gpp.h"
#include "radius/radius.h"

#define RADLOAD_IDS_PER_SOCKET  256             /* the Identifier is one octet */
#define RADLOAD_WINDOW_MAX      16384
#define RADLOAD_SOCKETS_MAX     (RADLOAD_WINDOW_MAX / RADLOAD_IDS_PER_SOCKET + 1)
#define RADLOAD_BATCH           64              /* packets per sendmmsg / recvmmsg */
#define RADLOAD_REQ_MAX         512             /* our requests are ~180 bytes */
#define RADLOAD_LOST_NS         2000000000ull   /* no reply after 2 s: lost */
#define RADLOAD_SCAN_NS         50000000ull     /* timeout scan period */
#define RADLOAD_SLIP_NS         100000000ull    /* paced: forget a backlog older than this */
#define RADLOAD_SOCKBUF         (4 << 20)
#define RADLOAD_SIMS_MAX        100000000ull    /* MSISDN is 4479 + 8 digits */
#define RADLOAD_IMSI_DIGITS     15
#define RADLOAD_IMEI_DIGITS     14
#define NS_PER_S                1000000000ull

/*
 * Log-linear histogram of nanoseconds: values below 2 * HIST_SUB are exact,
 * above that each power of two is split into HIST_SUB buckets, so a bucket
 * is at most 1/128 of its value wide.  Values up to 2^40 ns (18 min).
 */
#define HIST_SUB_BITS   7
#define HIST_SUB        (1u << HIST_SUB_BITS)
#define HIST_MAX_BITS   40
#define HIST_BUCKETS    ((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
    uint64_t count[HIST_BUCKETS];
    uint64_t total;
};

static unsigned hist_index(uint64_t v)
{
    if (v >= (1ull << HIST_MAX_BITS))
        v = (1ull << HIST_MAX_BITS) - 1;
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);      /* >= HIST_SUB_BITS + 1 */
    unsigned shift = e - HIST_SUB_BITS;
    return (shift + 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
}

/* Middle of a bucket's range, the value reported for it. */
static double hist_value(unsigned idx)
{
    if (idx < 2 * HIST_SUB)
        return idx;
    unsigned shift = idx / HIST_SUB - 1;
    uint64_t lo = (uint64_t)(idx % HIST_SUB + HIST_SUB) << shift;
    return (double)lo + (double)(1ull << shift) / 2.0;
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->count[hist_index(v)]++;
    h->total++;
}

/* The q-quantile (0 < q <= 1) in nanoseconds; 0 when empty. */
static double hist_quantile(const struct hist *h, double q)
{
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->total + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= rank)
            return hist_value(i);
    }
    return hist_value(HIST_BUCKETS - 1);
}

/*
 * xoshiro256** for Request Authenticators and SIM choice.  RFC 2865 §3 asks
 * for unpredictable authenticators; a load generator only needs them unique
 * and cheap, so a fast PRNG seeded from getrandom() is enough here.
 */
struct rng {
    uint64_t s[4];
};

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static int rng_seed(struct rng *r)
{
    if (getrandom(r->s, sizeof r->s, 0) != (ssize_t)sizeof r->s)
        return -errno;
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
    return 0;
}

struct slot {
    uint64_t sent_ns;           /* 0 when free */
    uint8_t auth[RADIUS_AUTH_LEN];
    uint8_t measured;           /* sent after the warm-up */
};

/* One source port: its 256 ids, a FIFO of the free ones. */
struct lsock {
    int fd;
    uint16_t head;              /* next free id to take */
    uint16_t nfree;
    uint8_t ring[RADLOAD_IDS_PER_SOCKET];
    struct slot slot[RADLOAD_IDS_PER_SOCKET];
};

struct stats {
    uint64_t sent, replies, accepts, rejects, other, lost, bad, stray;
    uint64_t replies_in_window;
    uint64_t send_errors, recv_errors, slips;
    struct hist lat;
};

struct gen {
    /* options */
    struct sockaddr_storage server;
    socklen_t server_len;
    char server_name[300];
    struct radius_secret secret;
    uint64_t sims;
    uint64_t imsi_base;
    uint64_t imei_base;
    double duration, warmup;
    unsigned window;
    uint64_t rate;
    int sequential;
    int acct;                   /* Accounting-Request Interim-Updates instead */
    uint64_t acct_seq;
    uint64_t count;             /* stop sending after this many (0: no limit) */
    uint64_t sent_all;          /* sent, warm-up included */

    /* state */
    struct rng rng;
    uint64_t next_sim;
    unsigned nsock;
    unsigned outstanding;
    unsigned rr;                /* round-robin socket cursor */
    struct lsock *sock;
    struct stats st;
    uint64_t verified_total;    /* verified replies, warm-up included */
    uint8_t (*txbuf)[RADLOAD_REQ_MAX];
    uint8_t (*rxbuf)[RADIUS_MAX_LEN];
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted++;              /* a second signal skips the drain */
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Fixed-width decimal, zero-padded; no NUL. */
static void digits_put(char *out, size_t width, uint64_t v)
{
    for (size_t i = width; i-- > 0;) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/*
 * Build and sign the Access-Request of one SIM into buf.  Returns its
 * length or a radius_error.  The attributes are those of a PGW on an
 * LTE attach (TS 29.061 §16.4.7); the PLMN is the test network 001-01.
 */
static int request_build(const struct gen *g, uint8_t *buf, uint8_t id,
                         uint64_t sim, const uint8_t auth[RADIUS_AUTH_LEN])
{
    static const struct gpp_plmn plmn = { .mcc = 1, .mnc = 1, .mnc_digits = 2 };
    char imsi[RADLOAD_IMSI_DIGITS];
    char imeisv[RADLOAD_IMEI_DIGITS + 2];
    char msisdn[12];
    uint8_t uli[13];
    uint8_t rat = GPP_RAT_EUTRAN;
    struct radius_builder b;
    int len;

    digits_put(imsi, sizeof imsi, g->imsi_base + sim);
    digits_put(imeisv, RADLOAD_IMEI_DIGITS, g->imei_base + sim);
    imeisv[14] = '0';           /* software version 01 */
    imeisv[15] = '1';
    memcpy(msisdn, "4479", 4);
    digits_put(msisdn + 4, 8, sim);

    /* TS 29.274 §8.21: TAI (PLMN, TAC) then ECGI (PLMN, 4 spare bits, ECI). */
    uli[0] = GPP_ULI_TAI_ECGI;
    gpp_plmn_encode_bcd(&plmn, uli + 1);
    uli[4] = 0x00;
    uli[5] = 0x01;              /* TAC 1 */
    gpp_plmn_encode_bcd(&plmn, uli + 6);
    uli[9] = 0x00;
    uli[10] = 0x00;
    uli[11] = 0x01;
    uli[12] = 0x01;             /* ECI 0x101 */

    if (g->acct) {
        /* An Interim-Update of SIM i's session "b<i>": cumulative counters
         * and session time from one increasing sequence, so that they only
         * grow per session, as a NAS's do. */
        char sid[24];
        uint64_t seq = ((struct gen *)g)->acct_seq++;
        int sl = snprintf(sid, sizeof sid, "b%llu", (unsigned long long)sim);
        radius_builder_init(&b, buf, RADLOAD_REQ_MAX, RADIUS_ACCOUNTING_REQUEST, id, NULL);
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_STATUS_TYPE, 3);
        radius_builder_add(&b, RADIUS_ATTR_ACCT_SESSION_ID, sid, (size_t)sl);
        radius_builder_add(&b, RADIUS_ATTR_USER_NAME, imsi, sizeof imsi);
        radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMSI, imsi, sizeof imsi);
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_INPUT_OCTETS, (uint32_t)(seq * 1000));
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_INPUT_GIGAWORDS, (uint32_t)((seq * 1000) >> 32));
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_OUTPUT_OCTETS, (uint32_t)(seq * 3000));
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_OUTPUT_GIGAWORDS, (uint32_t)((seq * 3000) >> 32));
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_SESSION_TIME, (uint32_t)(seq / 1000));
        radius_builder_add_u32(&b, RADIUS_ATTR_NAS_IP_ADDRESS, 0x7f000001u);
        len = radius_builder_finish(&b);
        if (len < 0)
            return len;
        radius_sign_request(buf, (size_t)len, -1, &g->secret);
        return len;
    }
    radius_builder_init(&b, buf, RADLOAD_REQ_MAX, RADIUS_ACCESS_REQUEST, id, auth);
    radius_builder_add_ma(&b);
    radius_builder_add(&b, RADIUS_ATTR_USER_NAME, imsi, sizeof imsi);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMSI, imsi, sizeof imsi);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMEISV, imeisv, sizeof imeisv);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_RAT_TYPE, &rat, 1);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_USER_LOCATION_INFO, uli, sizeof uli);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_SGSN_MCC_MNC, "00101", 5);
    radius_builder_add_u32(&b, RADIUS_ATTR_NAS_IP_ADDRESS, 0x7f000001u);
    radius_builder_add(&b, RADIUS_ATTR_CALLING_STATION_ID, msisdn, sizeof msisdn);
    len = radius_builder_finish(&b);
    if (len < 0)
        return len;
    radius_sign_request(buf, (size_t)len, b.ma_off, &g->secret);
    return len;
}

static uint64_t sim_pick(struct gen *g)
{
    if (g->sequential) {
        uint64_t s = g->next_sim++;
        if (g->next_sim == g->sims)
            g->next_sim = 0;
        return s;
    }
    /* Lemire's multiply-shift: uniform enough for sims <= 2^32. */
    return ((rng_next(&g->rng) >> 32) * g->sims) >> 32;
}

static void slot_free(struct gen *g, struct lsock *ls, uint8_t id)
{
    ls->slot[id].sent_ns = 0;
    ls->ring[(ls->head + ls->nfree) % RADLOAD_IDS_PER_SOCKET] = id;
    ls->nfree++;
    g->outstanding--;
}

/*
 * Send up to `budget` requests, in batches, round-robin over the sockets.
 * Returns the number sent; *ret_blocked is set when the kernel refused
 * (full buffer), so the caller waits a little instead of spinning.
 */
static unsigned send_some(struct gen *g, unsigned budget, int measured,
                          int *ret_blocked)
{
    struct mmsghdr msgs[RADLOAD_BATCH];
    struct iovec iov[RADLOAD_BATCH];
    uint8_t ids[RADLOAD_BATCH];
    unsigned total = 0;

    *ret_blocked = 0;
    while (budget > 0) {
        struct lsock *ls = NULL;
        for (unsigned k = 0; k < g->nsock; k++) {
            struct lsock *c = &g->sock[(g->rr + k) % g->nsock];
            if (c->nfree > 0) {
                ls = c;
                g->rr = (g->rr + k + 1) % g->nsock;
                break;
            }
        }
        if (!ls)
            break;

        unsigned n = budget < RADLOAD_BATCH ? budget : RADLOAD_BATCH;
        if (g->count && n > g->count - g->sent_all)
            n = (unsigned)(g->count - g->sent_all);
        if (n == 0)
            break;
        if (n > ls->nfree)
            n = ls->nfree;
        unsigned built = 0;
        for (unsigned i = 0; i < n; i++) {
            uint8_t id = ls->ring[ls->head];
            struct slot *sl = &ls->slot[id];
            uint64_t r0 = rng_next(&g->rng), r1 = rng_next(&g->rng);
            memcpy(sl->auth, &r0, 8);
            memcpy(sl->auth + 8, &r1, 8);
            int len = request_build(g, g->txbuf[built], id, sim_pick(g), sl->auth);
            /* Accounting: the Request Authenticator is a hash of the packet. */
            if (len > 0 && g->acct)
                memcpy(sl->auth, g->txbuf[built] + 4, RADIUS_AUTH_LEN);
            if (len < 0) {
                fprintf(stderr, "radload: cannot build a request: %s\n",
                        radius_error_name(len));
                exit(1);
            }
            ls->head = (uint16_t)((ls->head + 1) % RADLOAD_IDS_PER_SOCKET);
            ls->nfree--;
            g->outstanding++;
            ids[built] = id;
            iov[built].iov_base = g->txbuf[built];
            iov[built].iov_len = (size_t)len;
            memset(&msgs[built], 0, sizeof msgs[built]);
            msgs[built].msg_hdr.msg_iov = &iov[built];
            msgs[built].msg_hdr.msg_iovlen = 1;
            built++;
        }

        uint64_t t = now_ns();
        for (unsigned i = 0; i < built; i++) {
            ls->slot[ids[i]].sent_ns = t;
            ls->slot[ids[i]].measured = (uint8_t)measured;
        }
        int r = sendmmsg(ls->fd, msgs, built, 0);
        unsigned ok = r > 0 ? (unsigned)r : 0;
        if (ok < built) {
            /* Give the unsent ids back; they were never on the wire. */
            for (unsigned i = ok; i < built; i++)
                slot_free(g, ls, ids[i]);
            g->st.send_errors++;
            *ret_blocked = 1;
        }
        if (measured)
            g->st.sent += ok;
        g->sent_all += ok;
        total += ok;
        budget -= ok;
        if (*ret_blocked)
            break;
    }
    return total;
}

/* Drain one socket's replies. */
static void recv_some(struct gen *g, struct lsock *ls, uint64_t t_measure,
                      uint64_t t_end)
{
    struct mmsghdr msgs[RADLOAD_BATCH];
    struct iovec iov[RADLOAD_BATCH];

    for (;;) {
        for (unsigned i = 0; i < RADLOAD_BATCH; i++) {
            iov[i].iov_base = g->rxbuf[i];
            iov[i].iov_len = RADIUS_MAX_LEN;
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(ls->fd, msgs, RADLOAD_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            /* ECONNREFUSED: an ICMP port-unreachable from a server not up. */
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                g->st.recv_errors++;
            return;
        }
        uint64_t t = now_ns();
        int in_window = t >= t_measure;
        int before_end = t <= t_end;
        for (int i = 0; i < n; i++) {
            struct radius_packet pkt;
            const uint8_t *buf = g->rxbuf[i];
            size_t len = msgs[i].msg_len;

            if (radius_packet_decode(buf, len, &pkt) != RADIUS_OK) {
                if (in_window)
                    g->st.bad++;
                continue;
            }
            struct slot *sl = &ls->slot[pkt.id];
            if (!sl->sent_ns) {
                g->st.stray++;
                continue;
            }
            if (radius_verify_response(&pkt, sl->auth, &g->secret) != 0) {
                /* Not the answer to this request: ignore it, keep waiting. */
                if (in_window)
                    g->st.bad++;
                continue;
            }
            g->verified_total++;
            if (in_window && before_end)
                g->st.replies_in_window++;
            if (sl->measured) {
                g->st.replies++;
                if (pkt.code == RADIUS_ACCESS_ACCEPT || pkt.code == RADIUS_ACCOUNTING_RESPONSE)
                    g->st.accepts++;
                else if (pkt.code == RADIUS_ACCESS_REJECT)
                    g->st.rejects++;
                else
                    g->st.other++;
                hist_add(&g->st.lat, t - sl->sent_ns);
            }
            slot_free(g, ls, pkt.id);
        }
        if (n < RADLOAD_BATCH)
            return;
    }
}

/* Free the slots of requests older than the loss timeout (all when force). */
static void expire(struct gen *g, uint64_t now, int force)
{
    for (unsigned s = 0; s < g->nsock; s++) {
        struct lsock *ls = &g->sock[s];
        for (unsigned id = 0; id < RADLOAD_IDS_PER_SOCKET; id++) {
            struct slot *sl = &ls->slot[id];
            if (sl->sent_ns && (force || now > sl->sent_ns + RADLOAD_LOST_NS)) {
                if (sl->measured)
                    g->st.lost++;
                slot_free(g, ls, (uint8_t)id);
            }
        }
    }
}

static int sockets_open(struct gen *g)
{
    g->nsock = (g->window + RADLOAD_IDS_PER_SOCKET - 1) / RADLOAD_IDS_PER_SOCKET + 1;
    g->sock = calloc(g->nsock, sizeof *g->sock);
    if (!g->sock)
        return -ENOMEM;
    for (unsigned s = 0; s < g->nsock; s++) {
        struct lsock *ls = &g->sock[s];
        int sz = RADLOAD_SOCKBUF;

        ls->fd = socket(g->server.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (ls->fd < 0)
            return -errno;
        /* A window of replies must fit in the receive buffer. */
        (void)setsockopt(ls->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
        (void)setsockopt(ls->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        /* Connected: the kernel filters other sources and we skip addresses. */
        if (connect(ls->fd, (struct sockaddr *)&g->server, g->server_len) < 0)
            return -errno;
        for (unsigned id = 0; id < RADLOAD_IDS_PER_SOCKET; id++)
            ls->ring[id] = (uint8_t)id;
        ls->nfree = RADLOAD_IDS_PER_SOCKET;
    }
    return 0;
}

/* The run: warm-up, measured interval, then up to RADLOAD_LOST_NS of drain. */
static void run(struct gen *g)
{
    struct pollfd pfd[RADLOAD_SOCKETS_MAX];
    uint64_t t_start = now_ns();
    uint64_t t_measure = t_start + (uint64_t)(g->warmup * (double)NS_PER_S);
    uint64_t t_end = t_measure + (uint64_t)(g->duration * (double)NS_PER_S);
    uint64_t t_last_scan = t_start;
    uint64_t interval = g->rate ? NS_PER_S / g->rate : 0;
    uint64_t sched_next = t_start;      /* paced: when the next request is due */
    int measuring = t_measure == t_start;

    for (unsigned s = 0; s < g->nsock; s++) {
        pfd[s].fd = g->sock[s].fd;
        pfd[s].events = POLLIN;
    }

    for (;;) {
        uint64_t now = now_ns();
        int blocked = 0;

        if (!measuring && now >= t_measure) {
            measuring = 1;
            memset(&g->st, 0, sizeof g->st);
        }
        int sending = now < t_end && !interrupted && (!g->count || g->sent_all < g->count);
        if (g->count && g->sent_all >= g->count && now < t_end)
            t_end = now;        /* --count reached: the run ends here */
        if (!sending && (g->outstanding == 0 || now >= t_end + RADLOAD_LOST_NS ||
                         interrupted > 1))
            break;

        if (sending) {
            unsigned budget = g->window - g->outstanding;
            if (interval) {
                if (now > sched_next + RADLOAD_SLIP_NS) {
                    /* Too far behind (the window was full): drop the backlog. */
                    g->st.slips++;
                    sched_next = now;
                }
                uint64_t due = now >= sched_next ? (now - sched_next) / interval + 1 : 0;
                if (due < budget)
                    budget = (unsigned)due;
            }
            if (budget > 0) {
                unsigned n = send_some(g, budget, measuring, &blocked);
                sched_next += (uint64_t)n * interval;
            }
        }

        if (now - t_last_scan >= RADLOAD_SCAN_NS) {
            expire(g, now, 0);
            t_last_scan = now;
        }

        /* Sleep until a reply, the next paced send, a scan or a phase change. */
        uint64_t wake = t_last_scan + RADLOAD_SCAN_NS;
        if (sending) {
            /* With the window full only a reply can let us send: no spinning. */
            if (interval && sched_next < wake && g->outstanding < g->window)
                wake = sched_next;
            if (!measuring && t_measure < wake)
                wake = t_measure;
            if (t_end < wake)
                wake = t_end;
            if (blocked && now + 20000 < wake)
                wake = now + 20000;
        }
        now = now_ns();
        uint64_t dt = wake > now ? wake - now : 0;
        struct timespec ts = { (time_t)(dt / NS_PER_S), (long)(dt % NS_PER_S) };
        int r = ppoll(pfd, g->nsock, &ts, NULL);
        if (r > 0) {
            for (unsigned s = 0; s < g->nsock; s++)
                if (pfd[s].revents & (POLLIN | POLLERR))
                    recv_some(g, &g->sock[s], t_measure, t_end);
        }
    }
    uint64_t t_stop = now_ns();
    expire(g, t_stop, 1);
    if (t_stop > t_end)
        t_stop = t_end;         /* earlier only when interrupted */
    g->duration = t_stop > t_measure ? (double)(t_stop - t_measure) / (double)NS_PER_S : 0;
}

static int parse_hostport(const char *arg, struct gen *g)
{
    char host[256];
    const char *colon = strrchr(arg, ':');
    const char *h = arg;
    size_t hlen;
    struct addrinfo hints, *res = NULL;

    if (!colon || colon == arg || colon[1] == '\0')
        return -EINVAL;
    hlen = (size_t)(colon - arg);
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= sizeof host)
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
        return -EINVAL;
    memcpy(&g->server, res->ai_addr, res->ai_addrlen);
    g->server_len = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(g->server_name, sizeof g->server_name, "%s", arg);
    return 0;
}

/* Exactly `digits` decimal digits → value. */
static int parse_digits(const char *s, size_t digits, uint64_t *ret)
{
    uint64_t v = 0;
    if (strlen(s) != digits)
        return -EINVAL;
    for (size_t i = 0; i < digits; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *ret = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

static int parse_seconds(const char *s, double *ret)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0) || v > 86400)
        return -EINVAL;
    *ret = v;
    return 0;
}

static const char *option_name(const struct option *opts, int val)
{
    for (; opts->name; opts++)
        if (opts->val == val)
            return opts->name;
    return "?";
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: radload [options]\n"
"  --server HOST:PORT   RADIUS server (default 127.0.0.1:1812)\n"
"  --secret S           shared secret (default benchsecret)\n"
"  --sims N             SIM population (default 1000, at most 100000000)\n"
"  --imsi-base DIGITS   IMSI of SIM 0, 15 digits (default 001010000000000)\n"
"  --imei-base DIGITS   IMEI core (TAC+serial) of SIM 0, 14 digits\n"
"                       (default 35000000000000); sent as IMEISV core+\"01\"\n"
"  --duration SECONDS   measured interval (default 10)\n"
"  --warmup SECONDS     unmeasured lead-in (default 1)\n"
"  --window W           max outstanding requests (default 256, max %d)\n"
"  --rate R             paced requests/s; 0 = as fast as the window allows\n"
"  --sequential         SIMs in order instead of uniformly at random\n"
"  --acct               Accounting-Request Interim-Updates (session \"b<i>\" of SIM i,\n"
"                       growing counters) to an accounting port instead\n"
"  --count N            stop after N requests (and their replies), before the\n"
"                       duration if need be (e.g. one pass with --sequential)\n"
"The last line on stdout is: result sent= replies= accepts= rejects= lost= bad=\n"
"rps= p50_us= p99_us= p999_us=\n"
"Exit status: 0; 1 on a usage or set-up error; 3 when no reply verified at all.\n",
            RADLOAD_WINDOW_MAX);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "server", required_argument, NULL, 's' },
        { "secret", required_argument, NULL, 'k' },
        { "sims", required_argument, NULL, 'n' },
        { "imsi-base", required_argument, NULL, 'i' },
        { "imei-base", required_argument, NULL, 'e' },
        { "duration", required_argument, NULL, 'd' },
        { "warmup", required_argument, NULL, 'w' },
        { "window", required_argument, NULL, 'W' },
        { "rate", required_argument, NULL, 'r' },
        { "sequential", no_argument, NULL, 'S' },
        { "acct", no_argument, NULL, 'A' },
        { "count", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static struct gen g;        /* large (sockets aside): keep it off the stack */
    const char *secret = "benchsecret";
    const char *server = "127.0.0.1:1812";
    uint64_t v;
    int c, r;

    g.sims = 1000;
    g.imsi_base = 1010000000000ull;
    g.imei_base = 35000000000000ull;
    g.duration = 10;
    g.warmup = 1;
    g.window = 256;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': server = optarg; break;
        case 'k': secret = optarg; break;
        case 'n':
            if (parse_u64(optarg, RADLOAD_SIMS_MAX, &g.sims) < 0 || g.sims == 0)
                goto bad_arg;
            break;
        case 'i':
            if (parse_digits(optarg, RADLOAD_IMSI_DIGITS, &g.imsi_base) < 0)
                goto bad_arg;
            break;
        case 'e':
            if (parse_digits(optarg, RADLOAD_IMEI_DIGITS, &g.imei_base) < 0)
                goto bad_arg;
            break;
        case 'd':
            if (parse_seconds(optarg, &g.duration) < 0 || g.duration <= 0)
                goto bad_arg;
            break;
        case 'w':
            if (parse_seconds(optarg, &g.warmup) < 0)
                goto bad_arg;
            break;
        case 'W':
            if (parse_u64(optarg, RADLOAD_WINDOW_MAX, &v) < 0 || v == 0)
                goto bad_arg;
            g.window = (unsigned)v;
            break;
        case 'r':
            if (parse_u64(optarg, NS_PER_S, &g.rate) < 0)
                goto bad_arg;
            break;
        case 'S': g.sequential = 1; break;
        case 'A': g.acct = 1; break;
        case 'C':
            if (parse_u64(optarg, UINT64_MAX, &g.count) < 0 || g.count == 0)
                goto bad_arg;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
        continue;
bad_arg:
        fprintf(stderr, "radload: bad value for %s: %s\n", option_name(opts, c), optarg);
        return 1;
    }
    if (optind != argc) {
        usage(stderr);
        return 1;
    }
    if (g.imsi_base + g.sims - 1 > 999999999999999ull ||
        g.imei_base + g.sims - 1 > 99999999999999ull) {
        fprintf(stderr, "radload: base + sims overflows the IMSI (15) or IMEI (14) digits\n");
        return 1;
    }
    if (parse_hostport(server, &g) < 0) {
        fprintf(stderr, "radload: cannot resolve --server %s (want HOST:PORT)\n", server);
        return 1;
    }
    if (radius_secret_init(&g.secret, secret, strlen(secret)) < 0) {
        fprintf(stderr, "radload: the secret must be 1..%d bytes\n", RADIUS_SECRET_MAX);
        return 1;
    }
    if ((r = rng_seed(&g.rng)) < 0) {
        fprintf(stderr, "radload: getrandom: %s\n", strerror(-r));
        return 1;
    }
    g.txbuf = calloc(RADLOAD_BATCH, sizeof *g.txbuf);
    g.rxbuf = calloc(RADLOAD_BATCH, sizeof *g.rxbuf);
    if (!g.txbuf || !g.rxbuf) {
        fprintf(stderr, "radload: out of memory\n");
        return 1;
    }
    if ((r = sockets_open(&g)) < 0) {
        fprintf(stderr, "radload: socket to %s: %s\n", g.server_name, strerror(-r));
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Paced runs sleep for ~100 µs at a time: ask for tight wake-ups. */
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    fprintf(stderr, "radload: %s, %" PRIu64 " SIMs, window %u, %s, %u sockets, "
            "%.1f s warm-up + %.1f s\n", g.server_name, g.sims, g.window,
            g.rate ? "paced" : "unpaced", g.nsock, g.warmup, g.duration);
    if (g.rate)
        fprintf(stderr, "radload: rate %" PRIu64 " requests/s\n", g.rate);

    run(&g);

    const struct stats *st = &g.st;
    double rps = g.duration > 0 ? (double)st->replies_in_window / g.duration : 0;
    double p50 = hist_quantile(&st->lat, 0.50) / 1000.0;
    double p99 = hist_quantile(&st->lat, 0.99) / 1000.0;
    double p999 = hist_quantile(&st->lat, 0.999) / 1000.0;

    printf("radload: %.1f s: %.0f replies/s, latency p50 %.1f us, p99 %.1f us, "
           "p99.9 %.1f us; %" PRIu64 " sent, %" PRIu64 " accepted, %" PRIu64
           " rejected, %" PRIu64 " other, %" PRIu64 " lost, %" PRIu64 " bad, %"
           PRIu64 " stray, %" PRIu64 " send stalls, %" PRIu64 " receive errors, %"
           PRIu64 " pacing slips\n",
           g.duration, rps, p50, p99, p999, st->sent, st->accepts, st->rejects,
           st->other, st->lost, st->bad, st->stray, st->send_errors,
           st->recv_errors, st->slips);
    printf("result sent=%" PRIu64 " replies=%" PRIu64 " accepts=%" PRIu64
           " rejects=%" PRIu64 " lost=%" PRIu64 " bad=%" PRIu64 " rps=%.0f"
           " p50_us=%.1f p99_us=%.1f p999_us=%.1f\n",
           st->sent, st->replies, st->accepts, st->rejects, st->lost, st->bad,
           rps, p50, p99, p999);
    fflush(stdout);

    for (unsigned s = 0; s < g.nsock; s++)
        close(g.sock[s].fd);
    free(g.sock);
    free(g.txbuf);
    free(g.rxbuf);
    radius_secret_wipe(&g.secret);
    /* Nothing answered at all (wrong port or secret, server not there). */
    if (g.verified_total == 0) {
        fprintf(stderr, "radload: no verified reply at all from %s\n", g.server_name);
        return 3;
    }
    return 0;
}
