/*
 * api_stream.c — GET /v1/stream: findings and actions as they are
 * committed, as Server-Sent Events (text/event-stream).
 *
 * The journal hands every committed event to stream_publish() (its
 * listener), which keeps the last STREAM_RING of them in a ring and
 * resumes the suspended stream connections.  A stream's content reader
 * (libmicrohttpd's thread) sends what is new and in its caller's tenant,
 * or suspends the connection when there is nothing: no thread per client,
 * no polling.  A ticker thread resumes idle streams every
 * STREAM_KEEPALIVE_MS for a comment line, which also ends streams whose
 * client went away or whose token was revoked meanwhile.
 *
 * Event ids are "<boot>-<seq>": a client that reconnects with
 * Last-Event-ID carries on where it was, if the ring still has it;
 * otherwise (too far behind, or the daemon restarted) it gets an event
 * "gap" first and can fill the hole from GET /v1/findings and /v1/actions.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "engine/engine.h"
#include "engine/journal.h"
#include "engine/model.h"

#define STREAM_RING 1024
#define STREAM_MAX 64                   /* streams open at once */
#define STREAM_KEEPALIVE_MS 5000
#define STREAM_BLOCK 16384              /* bytes a read may return */

struct ring_event {
    int64_t tenant_id;
    char type[8];
    char kind[32];
    char *json;
    size_t len;
};

struct stream {
    struct stream_bus *bus;
    struct MHD_Connection *conn;
    int64_t scope;                      /* 0: every tenant */
    int64_t token_id;
    unsigned types;                     /* 1 findings, 2 actions */
    char kind[32];                      /* "" = any */
    uint64_t next;                      /* the next seq to consider */
    int gap;                            /* owes an event "gap" */
    int hello;                          /* sent the preamble */
    int suspended;
    int64_t last_write_ms;
};

struct stream_bus {
    struct api *a;
    pthread_mutex_t lock;
    pthread_cond_t tick;
    pthread_t ticker;
    int ticker_running;
    int closing;
    int64_t boot;                       /* the API's start, ms */
    uint64_t next_seq;                  /* seq of the next event */
    struct ring_event ring[STREAM_RING];
    struct stream *streams[STREAM_MAX];
    int nstreams;
    uint64_t published, sent, gaps;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void resume(struct stream *s)
{
    if (s->suspended) {
        s->suspended = 0;
        MHD_resume_connection(s->conn);
    }
}

/* The journal's listener: on its thread, after each commit. */
static void stream_publish(void *ctx, const struct journal_event *e)
{
    struct stream_bus *b = ctx;
    char *copy = malloc(e->len);
    if (!copy)
        return;
    memcpy(copy, e->json, e->len);
    pthread_mutex_lock(&b->lock);
    struct ring_event *r = &b->ring[b->next_seq % STREAM_RING];
    free(r->json);
    r->tenant_id = e->tenant_id;
    snprintf(r->type, sizeof r->type, "%s", e->type);
    snprintf(r->kind, sizeof r->kind, "%s", e->kind);
    r->json = copy;
    r->len = e->len;
    b->next_seq++;
    b->published++;
    for (int i = 0; i < b->nstreams; i++)
        resume(b->streams[i]);
    pthread_mutex_unlock(&b->lock);
}

static void *ticker(void *arg)
{
    struct stream_bus *b = arg;
    pthread_mutex_lock(&b->lock);
    while (!b->closing) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&b->tick, &b->lock, &until);
        int64_t now = mono_ms();
        for (int i = 0; i < b->nstreams; i++)
            if (now - b->streams[i]->last_write_ms >= STREAM_KEEPALIVE_MS)
                resume(b->streams[i]);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static int matches(const struct stream *s, const struct ring_event *r)
{
    if (s->scope && r->tenant_id != s->scope)
        return 0;
    if (!(s->types & (strcmp(r->type, "finding") == 0 ? 1u : 2u)))
        return 0;
    return !s->kind[0] || strcmp(s->kind, r->kind) == 0;
}

/* Still allowed to listen?  (Outside the bus lock: it reads the store.) */
static int token_still_valid(struct stream *s)
{
    struct store_token t;
    if (store_token_get(s->bus->a->st, s->token_id, &t) < 0)
        return 0;
    int64_t now = (int64_t)time(NULL);
    return !t.revoked_at && (!t.expires_at || t.expires_at > now);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    struct stream_bus *b = s->bus;
    int64_t now = mono_ms();
    if (now - s->last_write_ms >= STREAM_KEEPALIVE_MS && !token_still_valid(s))
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = 0;
    pthread_mutex_lock(&b->lock);
    if (b->closing) {
        pthread_mutex_unlock(&b->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (!s->hello) {
        n += (size_t)snprintf(buf, max, ": m2mguard event stream\nretry: 3000\n\n");
        s->hello = 1;
    }
    uint64_t oldest = b->next_seq > STREAM_RING ? b->next_seq - STREAM_RING : 0;
    if (s->next < oldest || s->gap) {
        uint64_t missed = s->next < oldest ? oldest - s->next : 0;
        int w = snprintf(buf + n, max - n, "event: gap\ndata: {\"missed\":%" PRIu64 "%s}\n\n",
                         missed, s->gap && !missed ? ",\"reason\":\"unknown Last-Event-ID\"" : "");
        if (w > 0 && (size_t)w < max - n) {
            n += (size_t)w;
            if (s->next < oldest)
                s->next = oldest;
            s->gap = 0;
            b->gaps++;
        }
    }
    while (s->next < b->next_seq) {
        const struct ring_event *r = &b->ring[s->next % STREAM_RING];
        if (!matches(s, r)) {
            s->next++;
            continue;
        }
        if (n + r->len + 96 > max)
            break;
        n += (size_t)snprintf(buf + n, max - n, "id: %" PRId64 "-%" PRIu64 "\nevent: %s\ndata: ",
                              b->boot, s->next, r->type);
        memcpy(buf + n, r->json, r->len);
        n += r->len;
        buf[n++] = '\n';
        buf[n++] = '\n';
        s->next++;
        b->sent++;
    }
    if (n == 0) {
        if (now - s->last_write_ms < STREAM_KEEPALIVE_MS) {
            /* Nothing to say: park the connection until stream_publish()
             * or the ticker resumes it. */
            s->suspended = 1;
            MHD_suspend_connection(s->conn);
            pthread_mutex_unlock(&b->lock);
            return 0;
        }
        n = (size_t)snprintf(buf, max, ": keepalive\n\n");
    }
    s->last_write_ms = now;
    pthread_mutex_unlock(&b->lock);
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    struct stream_bus *b = s->bus;
    pthread_mutex_lock(&b->lock);
    for (int i = 0; i < b->nstreams; i++)
        if (b->streams[i] == s) {
            b->streams[i] = b->streams[--b->nstreams];
            break;
        }
    pthread_cond_broadcast(&b->tick);
    pthread_mutex_unlock(&b->lock);
    free(s);
}

/* Last-Event-ID "<boot>-<seq>": where to carry on, or a gap. */
static void resume_point(struct stream *s, const char *last)
{
    struct stream_bus *b = s->bus;
    s->next = b->next_seq;
    if (!last)
        return;
    char *dash, *end;
    errno = 0;
    long long boot = strtoll(last, &dash, 10);
    unsigned long long seq = *dash == '-' ? strtoull(dash + 1, &end, 10) : 0;
    if (errno || *dash != '-' || dash[1] < '0' || dash[1] > '9' || *end || boot != b->boot ||
        seq >= b->next_seq) {
        s->gap = 1;
        return;
    }
    s->next = (uint64_t)seq + 1;    /* behind the ring: the reader reports the gap */
}

int h_stream(struct call *c)
{
    struct stream_bus *b = c->a->bus;
    unsigned types = 3;
    const char *v = arg(c, "types");
    if (v) {
        types = 0;
        for (const char *p = v;; p++) {
            size_t n = strcspn(p, ",");
            if (n == 7 && strncmp(p, "finding", 7) == 0)
                types |= 1;
            else if (n == 6 && strncmp(p, "action", 6) == 0)
                types |= 2;
            else
                return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                               "types is a comma list of finding and action");
            p += n;
            if (!*p)
                break;
        }
    }
    const char *kind = arg(c, "kind");
    if (kind && finding_kind_from_name(kind) < 0 && action_from_name(kind) < 0)
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "kind \"%.40s\" is not a finding kind or an action", kind);
    struct stream *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    s->bus = b;
    s->conn = c->conn;
    s->scope = c->scope;
    s->token_id = c->tok.id;
    s->types = types;
    snprintf(s->kind, sizeof s->kind, "%s", kind ? kind : "");
    s->last_write_ms = mono_ms();
    pthread_mutex_lock(&b->lock);
    if (b->nstreams == STREAM_MAX || b->closing) {
        pthread_mutex_unlock(&b->lock);
        free(s);
        return problem(c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many streams",
                       "%d event streams are open; close one or try later", STREAM_MAX);
    }
    resume_point(s, MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Last-Event-ID"));
    b->streams[b->nstreams++] = s;
    pthread_mutex_unlock(&b->lock);

    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                               stream_read, s, stream_free);
    if (!r) {
        stream_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    int ret = MHD_queue_response(c->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int stream_bus_new(struct api *a, struct stream_bus **ret)
{
    struct stream_bus *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->a = a;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    b->boot = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->tick, NULL);
    int r = pthread_create(&b->ticker, NULL, ticker, b);
    if (r) {
        pthread_mutex_destroy(&b->lock);
        pthread_cond_destroy(&b->tick);
        free(b);
        return -r;
    }
    b->ticker_running = 1;
    if (a->eng && a->eng->journal)
        journal_set_listener(a->eng->journal, stream_publish, b);
    *ret = b;
    return 0;
}

void stream_bus_close(struct stream_bus *b)
{
    if (!b)
        return;
    if (b->a->eng && b->a->eng->journal)
        journal_set_listener(b->a->eng->journal, NULL, NULL);
    pthread_mutex_lock(&b->lock);
    b->closing = 1;
    for (int i = 0; i < b->nstreams; i++)
        resume(b->streams[i]);
    pthread_cond_broadcast(&b->tick);
    pthread_mutex_unlock(&b->lock);
    if (b->ticker_running)
        pthread_join(b->ticker, NULL);
    b->ticker_running = 0;
}

void stream_bus_get_stats(struct stream_bus *b, uint64_t *open, uint64_t *published,
                          uint64_t *sent, uint64_t *gaps)
{
    pthread_mutex_lock(&b->lock);
    *open = (uint64_t)b->nstreams;
    *published = b->published;
    *sent = b->sent;
    *gaps = b->gaps;
    pthread_mutex_unlock(&b->lock);
}

void stream_bus_free(struct stream_bus *b)
{
    if (!b)
        return;
    stream_bus_close(b);
    for (int i = 0; i < STREAM_RING; i++)
        free(b->ring[i].json);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->tick);
    free(b);
}
