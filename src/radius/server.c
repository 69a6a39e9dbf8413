/*
 * server.c — RADIUS authentication workers (see server.h).
 *
 * Per packet: find the client by source address, decode, answer a
 * retransmission from the duplicate cache, verify the Message-Authenticator
 * (required on Access-Request by default: Blast-RADIUS, CVE-2024-3596),
 * decode the 3GPP attributes, reveal PAP, ask the engine, and build a reply
 * whose first attribute is the Message-Authenticator.  Every drop has a
 * named counter.  Nothing here allocates after start-up, logs per packet,
 * or touches the store.
 *
 * Configuration and per-client state are swapped atomically on SIGHUP; a
 * worker loads the pointer once per batch, inside a QSBR online section,
 * so a reload never drops or stalls a request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <stddef.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/ident.h"
#include "core/log.h"
#include "core/qsbr.h"
#include "engine/engine.h"
#include "radius/crypto.h"
#include "radius/dupcache.h"
#include "radius/server.h"

#define BATCH 64
#define REPLY_MAX 1024
#define REPORT_INTERVAL_MS 10000    /* at most one NAS finding per client per 10 s */
#define UNKNOWN_SRC_SLOTS 256

/* A configuration together with what the daemon resolved for it. */
struct server_conf {
    struct config *cfg;
    struct client_stats **stats;    /* per client, parallel to cfg->clients */
    int64_t *tenant_ids;            /* per client */
};

struct unknown_src {
    uint32_t ip;
    int64_t last_ms;
    uint64_t unreported;
};

struct worker {
    struct radius_server *srv;
    pthread_t thread;
    int acct;               /* 0: authentication worker, 1: accounting worker */
    int64_t batch_t0_ns;    /* when the current batch arrived (CLOCK_MONOTONIC) */
    int fd;
    int qslot;
    struct dupcache *dup;
    struct unknown_src unknown[UNKNOWN_SRC_SLOTS];
    /* Counters written by this worker only; read by the main thread. */
    _Atomic uint64_t received, answered, accepts, rejects, duplicates, dup_uncached, dup_evicted;
    _Atomic uint64_t send_errors;
    _Atomic uint64_t dropped[RADIUS_E__COUNT];
    _Atomic uint64_t gpp_errors[GPP_E__COUNT];
    uint8_t in[BATCH][RADIUS_MAX_LEN];
    uint8_t out[BATCH][REPLY_MAX];
    struct radius_packet pkt;
};

struct radius_server {
    struct engine *eng;
    int port_lock[2];               /* see claim_port() */
    _Atomic(struct server_conf *) conf;
    int nworkers;
    struct worker **w;
    _Atomic int stop;
    pthread_mutex_t stats_lock;     /* guards the client stats table growth */
    struct client_stats *cstats[CONFIG_MAX_CLIENTS];
    int ncstats;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conf_free(void *p)
{
    struct server_conf *sc = p;
    if (!sc)
        return;
    config_free(sc->cfg);
    free(sc->stats);
    free(sc->tenant_ids);
    free(sc);
}

static struct client_stats *stats_for(struct radius_server *s, const char *name)
{
    for (int i = 0; i < s->ncstats; i++)
        if (strcmp(s->cstats[i]->name, name) == 0)
            return s->cstats[i];
    if (s->ncstats == CONFIG_MAX_CLIENTS)
        return NULL;
    struct client_stats *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->name, sizeof c->name, "%s", name);
    s->cstats[s->ncstats++] = c;
    return c;
}

/* Build the runtime view of a config: stats slots and tenant ids. */
static struct server_conf *conf_build(struct radius_server *s, struct config *cfg)
{
    struct server_conf *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    sc->cfg = cfg;
    /* An array of pointers: sizeof *sc->stats is meant to be a pointer's size. */
    // NOLINTNEXTLINE(bugprone-sizeof-expression)
    sc->stats = calloc(cfg->nclients ? cfg->nclients : 1, sizeof *sc->stats);
    sc->tenant_ids = calloc(cfg->nclients ? cfg->nclients : 1, sizeof *sc->tenant_ids);
    if (!sc->stats || !sc->tenant_ids) {
        free(sc->stats);
        free(sc->tenant_ids);
        free(sc);
        return NULL;
    }
    pthread_mutex_lock(&s->stats_lock);
    for (uint32_t i = 0; i < cfg->nclients; i++) {
        sc->stats[i] = stats_for(s, cfg->clients[i].name);
        sc->tenant_ids[i] = cfg->clients[i].tenant_id > 0 ? cfg->clients[i].tenant_id
                                                         : s->eng->platform_tenant_id;
    }
    pthread_mutex_unlock(&s->stats_lock);
    return sc;
}

static int open_socket(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return -errno;
    struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
    int rcvbuf = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    /* Best effort: a larger buffer absorbs bursts (capped by rmem_max). */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/*
 * SO_REUSEPORT lets every socket of the same user join the group, so a
 * second m2mguard (another config, another database) started on the same
 * address would silently get half of the NAS's traffic.  An abstract Unix
 * socket named after the address is a lock the kernel releases when the
 * process dies: binding it fails with EADDRINUSE while another daemon
 * listens there.  Returns the lock's fd or -errno.
 */
static int claim_port(const char *plane, const struct sockaddr_in *a)
{
    struct sockaddr_un sun;
    char ip[INET_ADDRSTRLEN];
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    int n = snprintf(sun.sun_path + 1, sizeof sun.sun_path - 1, "m2mguard/%s/%s:%u", plane, ip,
                     ntohs(a->sin_port));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sun, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static void drop(struct worker *w, int reason)
{
    atomic_fetch_add_explicit(&w->dropped[-reason], 1, memory_order_relaxed);
}

/* Rate-limited NAS finding: one per client per REPORT_INTERVAL_MS, with a count. */
static void report_client(struct worker *w, struct client_stats *cs, int kind,
                          const char *name, int64_t tenant_id, uint32_t ip,
                          const char *reason, int64_t now)
{
    atomic_fetch_add(&cs->unreported, 1);
    int64_t last = atomic_load(&cs->last_report_ms);
    if (now - last < REPORT_INTERVAL_MS || !atomic_compare_exchange_strong(&cs->last_report_ms, &last, now))
        return;
    uint64_t n = atomic_exchange(&cs->unreported, 0);
    struct access_nas nas = { .name = name, .tenant_id = tenant_id, .src_ip = ip };
    engine_nas_finding(w->srv->eng, kind, &nas, reason, n ? n : 1, now);
}

static void report_unknown(struct worker *w, uint32_t ip, int64_t now)
{
    struct unknown_src *u = &w->unknown[(ip * 2654435761u) >> 24];
    if (u->ip != ip) {
        u->ip = ip;
        u->last_ms = 0;
        u->unreported = 0;
    }
    u->unreported++;
    if (now - u->last_ms < REPORT_INTERVAL_MS)
        return;
    struct access_nas nas = { .name = NULL, .tenant_id = w->srv->eng->platform_tenant_id,
                              .src_ip = ip };
    engine_nas_finding(w->srv->eng, FK_NAS_UNKNOWN, &nas, "source address is not a configured client",
                       u->unreported, now);
    u->last_ms = now;
    u->unreported = 0;
}

/* Copy Proxy-State attributes into the reply, in order (RFC 2865 §5.33). */
static void add_proxy_state(struct radius_builder *b, const struct radius_packet *p)
{
    for (unsigned i = 0; i < p->nattrs; i++)
        if (p->attrs[i].type == RADIUS_ATTR_PROXY_STATE)
            radius_builder_add(b, RADIUS_ATTR_PROXY_STATE, p->data + p->attrs[i].off,
                               p->attrs[i].len);
}

/*
 * What every request goes through first, on both ports: a configured client
 * (by source address), counted, and a packet that decodes into w->pkt.
 * Returns the client, or NULL when the datagram was dropped (counted).
 */
static const struct config_client *admit(struct worker *w, const struct server_conf *sc,
                                         const uint8_t *buf, size_t len, uint32_t ip,
                                         int64_t now, struct client_stats **ret_cs,
                                         int64_t *ret_tenant_id)
{
    const struct config_client *cl = config_client_find(sc->cfg, ip);
    int r;
    if (!cl) {
        drop(w, RADIUS_E_UNKNOWN_CLIENT);
        report_unknown(w, ip, now);
        return NULL;
    }
    size_t ci = (size_t)(cl - sc->cfg->clients);
    *ret_cs = sc->stats[ci];
    *ret_tenant_id = sc->tenant_ids[ci];
    if (*ret_cs)
        atomic_fetch_add_explicit(&(*ret_cs)->requests, 1, memory_order_relaxed);
    if ((r = radius_packet_decode(buf, len, &w->pkt)) < 0) {
        drop(w, r);
        return NULL;
    }
    return cl;
}

/*
 * Handle one datagram; returns the reply length (0 = no reply).
 */
static size_t handle(struct worker *w, const struct server_conf *sc, const uint8_t *buf,
                     size_t len, const struct sockaddr_in *from, uint8_t *out, int64_t now)
{
    struct radius_packet *p = &w->pkt;
    uint32_t ip = ntohl(from->sin_addr.s_addr);
    uint16_t port = ntohs(from->sin_port);
    struct client_stats *cs;
    int64_t tenant_id;

    const struct config_client *cl = admit(w, sc, buf, len, ip, now, &cs, &tenant_id);
    if (!cl)
        return 0;
    if (p->code != RADIUS_ACCESS_REQUEST && p->code != RADIUS_STATUS_SERVER) {
        drop(w, RADIUS_E_BAD_CODE);
        return 0;
    }
    const uint8_t *req_auth = buf + 4;

    size_t cached_len;
    const uint8_t *cached = dupcache_find(w->dup, ip, port, p->id, req_auth, now, &cached_len);
    if (cached) {
        atomic_fetch_add_explicit(&w->duplicates, 1, memory_order_relaxed);
        memcpy(out, cached, cached_len);
        return cached_len;
    }

    /* Blast-RADIUS: verify before trusting anything in the packet. */
    if (p->ma_off >= 0) {
        if (radius_verify_ma(p, &cl->secret, 0) < 0) {
            drop(w, RADIUS_E_MA_BAD);
            if (cs) {
                atomic_fetch_add(&cs->bad_authenticator, 1);
                report_client(w, cs, FK_NAS_BAD_AUTHENTICATOR, cl->name, tenant_id, ip,
                              "Message-Authenticator does not verify (wrong secret or forged)", now);
            }
            return 0;
        }
    } else if (sc->cfg->require_ma || p->code == RADIUS_STATUS_SERVER) {
        /* RFC 5997 §3: Status-Server always carries a Message-Authenticator. */
        drop(w, RADIUS_E_MA_MISSING);
        if (cs) {
            atomic_fetch_add(&cs->ma_missing, 1);
            report_client(w, cs, FK_NAS_BAD_AUTHENTICATOR, cl->name, tenant_id, ip,
                          "Access-Request without Message-Authenticator", now);
        }
        return 0;
    }

    struct radius_builder b;
    if (p->code == RADIUS_STATUS_SERVER) {
        radius_builder_init(&b, out, REPLY_MAX, RADIUS_ACCESS_ACCEPT, p->id, NULL);
        radius_builder_add_ma(&b);
        radius_builder_add_str(&b, RADIUS_ATTR_REPLY_MESSAGE, "m2mguard alive");
        add_proxy_state(&b, p);
        int n = radius_builder_finish(&b);
        if (n < 0) {
            drop(w, n);
            return 0;
        }
        radius_sign_response(out, (size_t)n, b.ma_off, req_auth, &cl->secret);
        return (size_t)n;
    }

    struct access_request rq;
    rq.user_name = NULL;
    rq.user_name_len = 0;
    rq.has_pap = rq.has_chap = 0;
    rq.now_ms = now;
    rq.t0_ns = w->batch_t0_ns;
    rq.gpp_error = 0;
    int g = gpp_info_decode(p, &rq.gpp);
    if (g < 0) {
        atomic_fetch_add_explicit(&w->gpp_errors[-g], 1, memory_order_relaxed);
        drop(w, RADIUS_E_ATTR_VALUE);
        return 0;
    }
    const struct radius_attr_ref *a = radius_packet_find(p, RADIUS_ATTR_USER_NAME);
    if (a) {
        rq.user_name = (const char *)p->data + a->off;
        rq.user_name_len = a->len;
    }
    if ((a = radius_packet_find(p, RADIUS_ATTR_USER_PASSWORD)) != NULL) {
        if (radius_pap_reveal(&cl->secret, req_auth, p->data + a->off, a->len, rq.password) < 0) {
            drop(w, RADIUS_E_ATTR_VALUE);
            return 0;
        }
        rq.has_pap = 1;
    } else if ((a = radius_packet_find(p, RADIUS_ATTR_CHAP_PASSWORD)) != NULL) {
        if (a->len != 17) {
            drop(w, RADIUS_E_ATTR_VALUE);
            return 0;
        }
        memcpy(rq.chap, p->data + a->off, 17);
        const struct radius_attr_ref *ch = radius_packet_find(p, RADIUS_ATTR_CHAP_CHALLENGE);
        rq.chap_challenge = ch ? p->data + ch->off : req_auth;
        rq.chap_challenge_len = ch ? ch->len : 16;
        rq.has_chap = 1;
    }

    struct access_nas nas = { .name = cl->name, .tenant_id = tenant_id, .src_ip = ip };
    struct access_decision d;
    access_evaluate(w->srv->eng, &nas, &rq, &d);
    if (rq.has_pap)
        memset(rq.password, 0, sizeof rq.password);

    radius_builder_init(&b, out, REPLY_MAX, d.accept ? RADIUS_ACCESS_ACCEPT : RADIUS_ACCESS_REJECT,
                        p->id, NULL);
    /* Blast-RADIUS: Message-Authenticator first in every reply. */
    radius_builder_add_ma(&b);
    if (d.accept) {
        if (d.framed_ip)
            radius_builder_add_u32(&b, RADIUS_ATTR_FRAMED_IP_ADDRESS, d.framed_ip);
        if (d.interim_interval)
            radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_INTERIM_INTERVAL, d.interim_interval);
        if (d.session_timeout)
            radius_builder_add_u32(&b, RADIUS_ATTR_SESSION_TIMEOUT, d.session_timeout);
        if (d.class_[0])
            radius_builder_add_str(&b, RADIUS_ATTR_CLASS, d.class_);
        atomic_fetch_add_explicit(&w->accepts, 1, memory_order_relaxed);
    } else {
        char msg[64];
        snprintf(msg, sizeof msg, "m2mguard: %s", finding_kind_name(d.reason));
        radius_builder_add_str(&b, RADIUS_ATTR_REPLY_MESSAGE, msg);
        atomic_fetch_add_explicit(&w->rejects, 1, memory_order_relaxed);
    }
    add_proxy_state(&b, p);
    int n = radius_builder_finish(&b);
    if (n < 0) {
        drop(w, n);
        return 0;
    }
    radius_sign_response(out, (size_t)n, b.ma_off, req_auth, &cl->secret);
    int put = dupcache_put(w->dup, ip, port, p->id, req_auth, out, (size_t)n, now);
    if (put < 0)
        atomic_fetch_add_explicit(&w->dup_uncached, 1, memory_order_relaxed);
    else if (put > 0)
        atomic_fetch_add_explicit(&w->dup_evicted, 1, memory_order_relaxed);
    return (size_t)n;
}

static uint64_t counter64(const struct radius_packet *p, uint8_t low, uint8_t high)
{
    uint32_t lo = 0, hi = 0;
    (void)radius_packet_get_u32(p, low, &lo);
    (void)radius_packet_get_u32(p, high, &hi);
    return (uint64_t)hi << 32 | lo;
}

/*
 * An Accounting-Request (RFC 2866): authenticate, decode, sign the
 * Accounting-Response now, and queue both for the accounting thread, which
 * sends the response only once the record is committed.  Returns 0: this
 * worker never answers accounting itself.
 */
static size_t handle_acct(struct worker *w, const struct server_conf *sc, const uint8_t *buf,
                          size_t len, const struct sockaddr_in *from, int64_t now)
{
    struct radius_packet *p = &w->pkt;
    struct accounting *acct = w->srv->eng->acct;
    uint32_t ip = ntohl(from->sin_addr.s_addr);
    struct client_stats *cs;
    int64_t tenant_id;

    const struct config_client *cl = admit(w, sc, buf, len, ip, now, &cs, &tenant_id);
    if (!cl)
        return 0;
    if (p->code != RADIUS_ACCOUNTING_REQUEST || !acct) {
        drop(w, RADIUS_E_BAD_CODE);
        return 0;
    }
    /* RFC 2866 §3: the Request Authenticator is an MD5 over the packet and
     * the secret; with a Message-Authenticator, that must verify too. */
    if (radius_verify_request_auth(p, &cl->secret) < 0 ||
        (p->ma_off >= 0 && radius_verify_ma(p, &cl->secret, 1) < 0)) {
        drop(w, RADIUS_E_AUTH_BAD);
        if (cs) {
            atomic_fetch_add(&cs->bad_authenticator, 1);
            report_client(w, cs, FK_NAS_BAD_AUTHENTICATOR, cl->name, tenant_id, ip,
                          "Accounting-Request authenticator does not verify (wrong secret or forged)",
                          now);
        }
        return 0;
    }

    struct acct_record rec;
    memset(&rec, 0, sizeof rec);
    rec.fd = w->fd;
    rec.from = *from;
    rec.recv_ms = now;
    rec.nas_tenant_id = tenant_id;
    snprintf(rec.nas, sizeof rec.nas, "%s", cl->name);
    if (radius_packet_get_u32(p, RADIUS_ATTR_ACCT_STATUS_TYPE, &rec.status) < 0 ||
        !(rec.status == ACCT_START || rec.status == ACCT_STOP || rec.status == ACCT_INTERIM ||
          rec.status == ACCT_ON || rec.status == ACCT_OFF)) {
        drop(w, RADIUS_E_ATTR_VALUE);
        return 0;
    }
    const struct radius_attr_ref *a = radius_packet_find(p, RADIUS_ATTR_ACCT_SESSION_ID);
    if (rec.status != ACCT_ON && rec.status != ACCT_OFF) {
        if (!a || a->len == 0 || a->len > STORE_SESSION_ID_MAX ||
            memchr(p->data + a->off, '\0', a->len)) {
            drop(w, RADIUS_E_ATTR_VALUE);
            return 0;
        }
        memcpy(rec.session_id, p->data + a->off, a->len);
        rec.session_id[a->len] = '\0';
    }
    struct gpp_info g;
    int ge = gpp_info_decode(p, &g);
    if (ge < 0) {
        atomic_fetch_add_explicit(&w->gpp_errors[-ge], 1, memory_order_relaxed);
        drop(w, RADIUS_E_ATTR_VALUE);
        return 0;
    }
    if (g.has & GPP_HAS_IMSI) {
        memcpy(rec.imsi, g.imsi, g.imsi_len + 1u);
    } else if ((a = radius_packet_find(p, RADIUS_ATTR_USER_NAME)) != NULL &&
               ident_check_imsi((const char *)p->data + a->off, a->len) == 0) {
        memcpy(rec.imsi, p->data + a->off, a->len);
        rec.imsi[a->len] = '\0';
    }
    if (g.has & GPP_HAS_IMEISV)
        memcpy(rec.imeisv, g.imeisv, g.imeisv_len + 1u);
    if (g.has & GPP_HAS_RAT)
        rec.rat = g.rat;
    if (g.has & GPP_HAS_ULI) {
        rec.plmn = g.uli.plmn;
        rec.area = gpp_uli_area(&g.uli);
        rec.cell = gpp_uli_cell(&g.uli);
    } else if (g.has & GPP_HAS_SGSN_MCC_MNC) {
        rec.plmn = g.sgsn_plmn;
    }
    (void)radius_packet_get_u32(p, RADIUS_ATTR_FRAMED_IP_ADDRESS, &rec.framed_ip);
    rec.in_octets = counter64(p, RADIUS_ATTR_ACCT_INPUT_OCTETS, RADIUS_ATTR_ACCT_INPUT_GIGAWORDS);
    rec.out_octets = counter64(p, RADIUS_ATTR_ACCT_OUTPUT_OCTETS, RADIUS_ATTR_ACCT_OUTPUT_GIGAWORDS);
    rec.has_time = radius_packet_get_u32(p, RADIUS_ATTR_ACCT_SESSION_TIME, &rec.session_time) == 0;

    struct radius_builder b;
    radius_builder_init(&b, rec.reply, sizeof rec.reply, RADIUS_ACCOUNTING_RESPONSE, p->id, NULL);
    radius_builder_add_ma(&b);      /* Blast-RADIUS: first in every reply */
    add_proxy_state(&b, p);
    int n = radius_builder_finish(&b);
    if (n < 0) {
        drop(w, n);
        return 0;
    }
    radius_sign_acct_response(rec.reply, (size_t)n, b.ma_off, buf + 4, &cl->secret);
    rec.reply_len = (uint16_t)n;
    if (accounting_submit(acct, &rec) < 0)
        drop(w, RADIUS_E_OVERLOAD);
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct radius_server *srv = w->srv;
    struct mmsghdr in[BATCH], out[BATCH];
    struct iovec iov_in[BATCH], iov_out[BATCH];
    struct sockaddr_in from[BATCH];

    for (int i = 0; i < BATCH; i++) {
        iov_in[i].iov_base = w->in[i];
        iov_in[i].iov_len = RADIUS_MAX_LEN;
    }
    while (!atomic_load(&srv->stop)) {
        for (int i = 0; i < BATCH; i++) {
            memset(&in[i].msg_hdr, 0, sizeof in[i].msg_hdr);
            in[i].msg_hdr.msg_name = &from[i];
            in[i].msg_hdr.msg_namelen = sizeof from[i];
            in[i].msg_hdr.msg_iov = &iov_in[i];
            in[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(w->fd, in, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue;       /* timeout (to see `stop`) or EINTR */
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        w->batch_t0_ns = (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec;
        qsbr_online(srv->eng->qsbr, w->qslot);
        const struct server_conf *sc = atomic_load(&srv->conf);
        int64_t now = now_ms();
        int nout = 0;
        for (int i = 0; i < n; i++) {
            atomic_fetch_add_explicit(&w->received, 1, memory_order_relaxed);
            if (in[i].msg_hdr.msg_namelen != sizeof(struct sockaddr_in) ||
                (in[i].msg_hdr.msg_flags & MSG_TRUNC)) {
                drop(w, RADIUS_E_TOO_LONG);
                continue;
            }
            size_t len = w->acct ? handle_acct(w, sc, w->in[i], in[i].msg_len, &from[i], now)
                                 : handle(w, sc, w->in[i], in[i].msg_len, &from[i], w->out[nout], now);
            if (!len)
                continue;
            iov_out[nout].iov_base = w->out[nout];
            iov_out[nout].iov_len = len;
            memset(&out[nout].msg_hdr, 0, sizeof out[nout].msg_hdr);
            out[nout].msg_hdr.msg_name = &from[i];
            out[nout].msg_hdr.msg_namelen = sizeof from[i];
            out[nout].msg_hdr.msg_iov = &iov_out[nout];
            out[nout].msg_hdr.msg_iovlen = 1;
            nout++;
        }
        qsbr_offline(srv->eng->qsbr, w->qslot);
        int sent = 0;
        while (sent < nout) {
            int k = sendmmsg(w->fd, out + sent, (unsigned)(nout - sent), 0);
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                /* Skip the datagram that failed (e.g. unreachable) and go on. */
                atomic_fetch_add_explicit(&w->send_errors, 1, memory_order_relaxed);
                sent++;
                continue;
            }
            sent += k;
        }
        atomic_fetch_add_explicit(&w->answered, (uint64_t)nout, memory_order_relaxed);
    }
    return NULL;
}

int radius_server_new(struct engine *e, const struct config *cfg, struct radius_server **ret)
{
    struct radius_server *s = calloc(1, sizeof *s);
    int r;
    if (!s)
        return -ENOMEM;
    s->eng = e;
    s->port_lock[0] = s->port_lock[1] = -1;
    pthread_mutex_init(&s->stats_lock, NULL);
    if ((s->port_lock[0] = claim_port("udp", &cfg->auth_addr)) < 0 ||
        (s->port_lock[1] = claim_port("udp", &cfg->acct_addr)) < 0) {
        r = s->port_lock[0] < 0 ? s->port_lock[0] : s->port_lock[1];
        s->nworkers = 0;
        goto fail;
    }
    /* `workers` authentication workers, then as many accounting workers. */
    s->nworkers = cfg->workers * 2;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, as above
    s->w = calloc((size_t)s->nworkers, sizeof *s->w);
    if (!s->w) {
        /* Not free(s): the port claims and the mutex go with it. */
        s->nworkers = 0;
        r = -ENOMEM;
        goto fail;
    }
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = calloc(1, sizeof *w);
        if (!w) {
            r = -ENOMEM;
            goto fail;
        }
        s->w[i] = w;
        w->srv = s;
        w->fd = -1;
        w->acct = i >= cfg->workers;
        /* Accounting answers only after the commit, from the accounting
         * thread; its retransmissions are idempotent, so no reply cache. */
        if (!w->acct && !(w->dup = dupcache_new(cfg->dup_cache_size, cfg->dup_cache_ttl * 1000))) {
            r = -ENOMEM;
            goto fail;
        }
        if ((w->fd = open_socket(w->acct ? &cfg->acct_addr : &cfg->auth_addr)) < 0) {
            r = w->fd;
            goto fail;
        }
        if ((w->qslot = qsbr_register(e->qsbr)) < 0) {
            r = w->qslot;
            goto fail;
        }
    }
    *ret = s;
    return 0;
fail:
    radius_server_free(s);
    return r;
}

int radius_server_start(struct radius_server *s)
{
    if (!atomic_load(&s->conf))
        return -EINVAL;     /* radius_server_reconfigure() first */
    for (int i = 0; i < s->nworkers; i++) {
        int r = pthread_create(&s->w[i]->thread, NULL, worker_main, s->w[i]);
        if (r) {
            s->nworkers = i;
            return -r;
        }
    }
    return 0;
}

int radius_server_reconfigure(struct radius_server *s, struct config *cfg)
{
    struct server_conf *sc = conf_build(s, cfg);
    if (!sc) {
        config_free(cfg);
        return -ENOMEM;
    }
    struct server_conf *old = atomic_exchange(&s->conf, sc);
    if (old)
        qsbr_retire(s->eng->qsbr, old, conf_free);
    return 0;
}

void radius_server_stop(struct radius_server *s)
{
    atomic_store(&s->stop, 1);
    for (int i = 0; i < s->nworkers; i++)
        if (s->w[i] && s->w[i]->thread)
            pthread_join(s->w[i]->thread, NULL);
}

void radius_server_free(struct radius_server *s)
{
    if (!s)
        return;
    for (int i = 0; s->w && i < s->nworkers; i++) {
        struct worker *w = s->w[i];
        if (!w)
            continue;
        if (w->fd >= 0)
            close(w->fd);
        dupcache_free(w->dup);
        free(w);
    }
    free(s->w);
    for (int i = 0; i < 2; i++)
        if (s->port_lock[i] >= 0)
            close(s->port_lock[i]);
    /* The config installed by radius_server_reconfigure() is the server's. */
    struct server_conf *sc = atomic_load(&s->conf);
    if (sc)
        conf_free(sc);
    for (int i = 0; i < s->ncstats; i++)
        free(s->cstats[i]);
    pthread_mutex_destroy(&s->stats_lock);
    free(s);
}

int radius_server_nas(struct radius_server *s, const char *name, uint32_t ip,
                      struct nas_target *ret)
{
    const struct server_conf *sc = atomic_load(&s->conf);
    for (uint32_t i = 0; i < sc->cfg->nclients; i++) {
        const struct config_client *cl = &sc->cfg->clients[i];
        if (strcmp(cl->name, name) != 0)
            continue;
        memset(&ret->addr, 0, sizeof ret->addr);
        ret->addr.sin_family = AF_INET;
        ret->addr.sin_addr.s_addr = htonl(ip);
        ret->addr.sin_port = htons(cl->da_port);
        ret->secret = cl->secret;
        ret->da_attrs = cl->da_attrs;
        return 0;
    }
    return -ENOENT;
}

/*
 * The kernel's count of datagrams dropped on a socket (sk_drops: its
 * receive buffer was full), read on demand: nothing on the packet path.
 */
static uint64_t socket_drops(int fd)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
        len < (socklen_t)((SK_MEMINFO_DROPS + 1) * sizeof mem[0]))
        return 0;
    return mem[SK_MEMINFO_DROPS];
}

void radius_server_get_stats(struct radius_server *s, struct server_stats *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = s->w[i];
        r->socket_drops += socket_drops(w->fd);
        r->received += atomic_load(&w->received);
        r->answered += atomic_load(&w->answered);
        r->accepts += atomic_load(&w->accepts);
        r->rejects += atomic_load(&w->rejects);
        r->duplicates += atomic_load(&w->duplicates);
        r->dup_uncached += atomic_load(&w->dup_uncached);
        r->dup_evicted += atomic_load(&w->dup_evicted);
        r->send_errors += atomic_load(&w->send_errors);
        for (int k = 0; k < RADIUS_E__COUNT; k++)
            r->dropped[k] += atomic_load(&w->dropped[k]);
        for (int k = 0; k < GPP_E__COUNT; k++)
            r->gpp_errors[k] += atomic_load(&w->gpp_errors[k]);
    }
}

void radius_server_foreach_client(struct radius_server *s,
                                  void (*fn)(void *ctx, const struct client_stats *c),
                                  void *ctx)
{
    pthread_mutex_lock(&s->stats_lock);
    for (int i = 0; i < s->ncstats; i++)
        fn(ctx, s->cstats[i]);
    pthread_mutex_unlock(&s->stats_lock);
}
