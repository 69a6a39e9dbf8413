/*
 * syslog.c — see syslog.h.
 *
 * RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG, with
 * PRI = facility * 8 + severity (critical → 2 crit, warning → 4, notice →
 * 5, info → 6) and MSGID the event's type.  CEF (ArcSight Common Event
 * Format rev. 25): CEF:0|m2mguard|m2mguard|1|KIND|SUMMARY|SEVERITY|EXT,
 * header fields escaping | and \, extension values = and \ and newlines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "engine/model.h"
#include "out/syslog.h"

#define SYSLOG_MSG_MAX 2048
#define SYSLOG_BATCH_MAX 4096       /* events kept for one journal batch */
#define SYSLOG_RECONNECT_MS 1000

struct syslog_out {
    struct syslog_conf conf;
    char host[64];
    int pid;
    int fd;                         /* -1: not connected (TCP) */
    int64_t last_connect_ms;
    char *buf;                      /* the batch's framed messages */
    size_t len, cap;
    uint32_t nbatch;
    _Atomic uint64_t sent, dropped, connects, errors;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int syslog_severity(int sev)
{
    switch (sev) {
    case SEV_CRITICAL: return 2;
    case SEV_WARNING: return 4;
    case SEV_NOTICE: return 5;
    default: return 6;
    }
}

/* CEF header (| and \ escaped) or extension (= and \ escaped, newlines as \n). */
static size_t cef_escape(char *out, size_t cap, const char *v, int header)
{
    size_t o = 0;
    for (const char *p = v ? v : ""; *p && o + 3 < cap; p++) {
        if (*p == '\\' || (header && *p == '|') || (!header && *p == '=')) {
            out[o++] = '\\';
            out[o++] = *p;
        } else if (*p == '\n' || *p == '\r') {
            out[o++] = '\\';
            out[o++] = *p == '\n' ? 'n' : 'r';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return o;
}

size_t syslog_format_message(const struct syslog_conf *c, const char *host, int pid,
                             const struct syslog_event *e, char *out, size_t cap)
{
    char ts[40];
    time_t s = (time_t)(e->ts_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&s, &tm) || strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(ts, sizeof ts, "-");
    else
        snprintf(ts + 19, sizeof ts - 19, ".%03dZ", (int)(e->ts_ms % 1000));
    int pri = c->facility * 8 + syslog_severity(e->severity);
    int n = snprintf(out, cap, "<%d>1 %s %s m2mguard %d %s - ", pri, ts, host[0] ? host : "-",
                     pid, e->type);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    size_t o = (size_t)n;
    if (c->format == SYSLOG_JSON) {
        n = snprintf(out + o, cap - o, "%s", e->json);
    } else {
        char kind[64], summary[160], tenant[128], subject[128], ev[1200];
        cef_escape(kind, sizeof kind, e->kind, 1);
        cef_escape(summary, sizeof summary, e->summary ? e->summary : e->kind, 1);
        cef_escape(tenant, sizeof tenant, e->tenant, 0);
        cef_escape(subject, sizeof subject, e->subject, 0);
        cef_escape(ev, sizeof ev, e->json, 0);
        static const int cef_sev[] = { 3, 5, 7, 10 };
        int sev = e->severity >= 0 && e->severity < 4 ? cef_sev[e->severity] : 5;
        n = snprintf(out + o, cap - o,
                     "CEF:0|m2mguard|m2mguard|1|%s|%s|%d|rt=%lld cs1Label=tenant cs1=%s "
                     "duser=%s cat=%s cs2Label=event cs2=%s",
                     kind, summary, sev, (long long)e->ts_ms, tenant, subject, e->type, ev);
    }
    if (n < 0)
        return 0;
    o += (size_t)n;
    if (o >= cap)
        o = cap - 1;    /* truncated (the collector still gets the head) */
    return o;
}

int syslog_out_new(const struct syslog_conf *c, struct syslog_out **ret)
{
    struct syslog_out *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->conf = *c;
    s->fd = -1;
    s->pid = (int)getpid();
    if (gethostname(s->host, sizeof s->host) < 0)
        s->host[0] = '\0';
    s->host[sizeof s->host - 1] = '\0';
    for (char *p = s->host; *p; p++)
        if (*p <= ' ' || *p > '~')
            *p = '_';
    if (c->proto == SYSLOG_UDP) {
        s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s->fd < 0 || connect(s->fd, (const struct sockaddr *)&c->addr, sizeof c->addr) < 0) {
            int e = errno;
            if (s->fd >= 0)
                close(s->fd);
            free(s);
            return -e;
        }
    }
    *ret = s;
    return 0;
}

/* TCP: connected (or connecting) socket, or -1; at most one try a second. */
static int tcp_ready(struct syslog_out *s)
{
    if (s->fd >= 0)
        return s->fd;
    int64_t now = mono_ms();
    if (s->last_connect_ms && now - s->last_connect_ms < SYSLOG_RECONNECT_MS)
        return -1;
    s->last_connect_ms = now;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* A short blocking connect on loopback / LAN; then non-blocking. */
    struct timeval tv = { 0, 200000 };
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)&s->conf.addr, sizeof s->conf.addr) < 0) {
        close(fd);
        atomic_fetch_add(&s->errors, 1);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        close(fd);
        return -1;
    }
    atomic_fetch_add(&s->connects, 1);
    s->fd = fd;
    return fd;
}

void syslog_out_add(struct syslog_out *s, const struct syslog_event *e)
{
    if (!s)
        return;
    if (s->nbatch >= SYSLOG_BATCH_MAX) {
        atomic_fetch_add(&s->dropped, 1);
        return;
    }
    char msg[SYSLOG_MSG_MAX];
    size_t n = syslog_format_message(&s->conf, s->host, s->pid, e, msg, sizeof msg);
    if (!n)
        return;
    size_t need = s->len + n + 16;
    if (need > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 65536;
        while (ncap < need)
            ncap *= 2;
        char *b = realloc(s->buf, ncap);
        if (!b) {
            atomic_fetch_add(&s->dropped, 1);
            return;
        }
        s->buf = b;
        s->cap = ncap;
    }
    /* Each message framed as it will be sent: "LEN SP MSG" (both ways;
     * UDP sends MSG alone). */
    s->len += (size_t)snprintf(s->buf + s->len, s->cap - s->len, "%zu ", n);
    memcpy(s->buf + s->len, msg, n);
    s->len += n;
    s->nbatch++;
}

void syslog_out_commit(struct syslog_out *s)
{
    if (!s || !s->len)
        return;
    size_t off = 0;
    int tcp_down = 0;
    while (off < s->len) {
        char *end;
        unsigned long n = strtoul(s->buf + off, &end, 10);
        size_t head = (size_t)(end - (s->buf + off)) + 1;
        const char *msg = end + 1;
        if (s->conf.proto == SYSLOG_UDP) {
            if (send(s->fd, msg, n, MSG_DONTWAIT) == (ssize_t)n)
                atomic_fetch_add(&s->sent, 1);
            else
                atomic_fetch_add(&s->dropped, 1);
        } else {
            int fd = tcp_down ? -1 : tcp_ready(s);
            ssize_t w = fd < 0 ? -1 : send(fd, s->buf + off, head + n, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w == (ssize_t)(head + n)) {
                atomic_fetch_add(&s->sent, 1);
            } else {
                /* Nothing, or part of a frame: the stream is out of step,
                 * start over with a new connection later. */
                atomic_fetch_add(&s->dropped, 1);
                if (fd >= 0) {
                    atomic_fetch_add(&s->errors, 1);
                    close(fd);
                    s->fd = -1;
                }
                tcp_down = 1;
            }
        }
        off += head + n;
    }
    s->len = 0;
    s->nbatch = 0;
}

void syslog_out_discard(struct syslog_out *s)
{
    if (s) {
        s->len = 0;
        s->nbatch = 0;
    }
}

void syslog_out_get_stats(struct syslog_out *s, struct syslog_stats *r)
{
    r->sent = atomic_load(&s->sent);
    r->dropped = atomic_load(&s->dropped);
    r->connects = atomic_load(&s->connects);
    r->errors = atomic_load(&s->errors);
}

void syslog_out_free(struct syslog_out *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->buf);
    free(s);
}
