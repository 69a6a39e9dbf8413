/*
 * daemon.c — `m2mguard serve`.
 *
 * Start-up (fatal on any error, with a message that says what to fix), in
 * two halves.  As started (root, normally): read the config, refuse it if
 * it holds secrets and every user can read it, bind the RADIUS sockets,
 * the control socket and the HTTP API's socket.  Then become the
 * unprivileged user (privdrop.h) and, as that user, open everything else:
 * the logs, the lock, the store (migrating its schema), resolve each NAS
 * client's tenant, load every SIM and group into memory, start the journal
 * writer, the accounting, the workers and the API — and last, install the
 * seccomp filter on every thread (sandbox.h).  Then the main thread runs a
 * poll loop over signals (signalfd) and the control socket, with a 500 ms
 * tick that applies store changes and frees retired objects.
 *
 * The main thread never handles packets; the workers never touch the
 * store.  SIGHUP re-reads the config (as the unprivileged user: the file
 * must stay readable by it, which start-up checks) and swaps clients and
 * secrets in without dropping a request; listener, workers, database,
 * user and seccomp changes need a restart and are reported as such.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "config/config.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/qsbr.h"
#include "ctl/ctl.h"
#include "daemon/daemon.h"
#include "daemon/privdrop.h"
#include "daemon/sandbox.h"
#include "daemon/sync.h"
#include "engine/engine.h"
#include "radius/dynauth.h"
#include "radius/server.h"
#include "api/api.h"
#include "audit/audit.h"
#include "out/syslog.h"
#include "out/webhook.h"
#include "store/checkpointer.h"
#include "store/store.h"

#define TICK_MS 500
#define CHECKPOINT_INTERVAL_MS 10000
#define LISTEN_RETRIES 30               /* × 100 ms for busy ports at start */
#define AUDIT_HEAD_EVERY_MS 60000
#define CHECKPOINT_PAGES 16384          /* 64 MiB of 4 KiB pages */

struct daemon {
    const char *config_path;
    struct config *cfg;             /* owned by the server once started */
    struct store *st;               /* main thread's connection */
    struct engine eng;
    struct radius_server *srv;
    struct sync_pos sync;
    int ctl_fd;
    int sig_fd;
    int64_t started_ms;
    int verbose;
    uint64_t sync_errors;
    struct checkpointer *ckpt;      /* copies the WAL back into the database */
    struct api *api;                /* HTTP API, when `listen api` is set */
    struct syslog_out *syslog;      /* findings and actions to a collector */
    struct webhook_sender *webhooks; /* findings and actions to tenants' webhooks */
    int64_t audit_seq, audit_logged_ms;     /* the audit head last logged */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Tenants named by clients; created when missing so a config can name them first. */
static int resolve_tenants(struct daemon *d, struct config *cfg)
{
    for (uint32_t i = 0; i < cfg->nclients; i++) {
        struct config_client *cl = &cfg->clients[i];
        int64_t id;
        int r = store_tenant_find(d->st, cl->tenant, &id);
        if (r == -ENOENT) {
            r = store_tenant_create(d->st, cl->tenant, &id);
            if (r == 0)
                log_info("created tenant \"%s\" named by client \"%s\"", cl->tenant, cl->name);
        }
        if (r < 0) {
            log_err("client %s: tenant %s: %s", cl->name, cl->tenant, store_errmsg(d->st));
            return r;
        }
        cl->tenant_id = id;
    }
    return 0;
}

static void do_sync(struct daemon *d, int verbose)
{
    struct sync_result res;
    int r = sync_apply(d->st, &d->eng, &d->sync, &res);
    if (r < 0) {
        if (d->sync_errors++ % 20 == 0)
            log_err("store sync failed: %s (%s); retrying", store_errmsg(d->st), strerror(-r));
        return;
    }
    if (verbose || res.sims || res.groups || res.deleted)
        log_info("applied store changes up to revision %lld: %llu SIMs, %llu groups, "
                 "%llu SIMs deleted", (long long)d->sync.rev, (unsigned long long)res.sims,
                 (unsigned long long)res.groups, (unsigned long long)res.deleted);
}

static int do_reload(struct daemon *d, char *msg, size_t msglen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&buf, &len);
    struct config *cfg = NULL;
    int r = config_load(d->config_path, errs, &cfg);
    /* Closing publishes buf; if that fails the message is just shorter. */
    if (errs)
        (void)fclose(errs);
    if (r < 0) {
        log_err("reload: %s has errors; keeping the running configuration:\n%s",
                d->config_path, buf ? buf : "");
        snprintf(msg, msglen, "error: configuration has errors; not reloaded\n%s", buf ? buf : "");
        free(buf);
        return r;
    }
    free(buf);
    buf = NULL;
    len = 0;
    errs = open_memstream(&buf, &len);
    r = config_check_secret_files(cfg, errs);
    if (errs)
        (void)fclose(errs);
    if (r < 0) {
        if (buf)
            buf[strcspn(buf, "\n")] = '\0';   /* one line: the file and the fix */
        log_err("reload: keeping the running configuration: %s", buf ? buf : "");
        snprintf(msg, msglen, "error: not reloaded: %s", buf ? buf : "");
        free(buf);
        config_free(cfg);
        return r;
    }
    free(buf);
    if (memcmp(&cfg->auth_addr, &d->cfg->auth_addr, sizeof cfg->auth_addr) != 0 ||
        memcmp(&cfg->acct_addr, &d->cfg->acct_addr, sizeof cfg->acct_addr) != 0 ||
        memcmp(&cfg->api_addr, &d->cfg->api_addr, sizeof cfg->api_addr) != 0 ||
        strcmp(cfg->api_tls_cert, d->cfg->api_tls_cert) != 0 ||
        strcmp(cfg->api_tls_key, d->cfg->api_tls_key) != 0 ||
        memcmp(&cfg->syslog, &d->cfg->syslog, sizeof cfg->syslog) != 0 ||
        cfg->workers != d->cfg->workers || strcmp(cfg->database, d->cfg->database) != 0 ||
        cfg->dup_cache_size != d->cfg->dup_cache_size || cfg->acct_queue != d->cfg->acct_queue ||
        cfg->acct_flush_ms != d->cfg->acct_flush_ms ||
        cfg->acct_retention_days != d->cfg->acct_retention_days ||
        strcmp(cfg->user, d->cfg->user) != 0 || strcmp(cfg->group, d->cfg->group) != 0 ||
        cfg->seccomp != d->cfg->seccomp ||
        memcmp(&cfg->webhook, &d->cfg->webhook, sizeof cfg->webhook) != 0)
        log_warn("reload: listen, workers, database, dup-cache-size, acct-queue, acct-flush, "
                 "acct-retention, syslog, webhook-*, user, group and seccomp changes take "
                 "effect only after a restart");
    if ((r = resolve_tenants(d, cfg)) < 0) {
        config_free(cfg);
        snprintf(msg, msglen, "error: cannot resolve tenants");
        return r;
    }
    /* Reopened as the user the daemon runs as, like at start. */
    if ((r = log_open(cfg->log, d->verbose)) < 0)
        log_err("reload: log %s: %s", cfg->log, strerror(-r));
    if ((r = log_events_open(cfg->events)) < 0)
        log_err("reload: events %s: %s", cfg->events, strerror(-r));
    if ((r = radius_server_reconfigure(d->srv, cfg)) < 0) {     /* frees cfg on failure */
        log_err("reload: %s", strerror(-r));
        snprintf(msg, msglen, "error: not reloaded: %s", strerror(-r));
        return r;
    }
    d->cfg = cfg;
    log_info("configuration reloaded: %u clients", cfg->nclients);
    snprintf(msg, msglen, "ok clients=%u", cfg->nclients);
    return 0;
}

static void client_json(void *arg, const struct client_stats *c)
{
    struct jsonw *w = arg;
    jsonw_open_member(w, c->name);
    jsonw_int(w, "requests", (int64_t)atomic_load(&c->requests));
    jsonw_int(w, "bad_authenticator", (int64_t)atomic_load(&c->bad_authenticator));
    jsonw_int(w, "ma_missing", (int64_t)atomic_load(&c->ma_missing));
    jsonw_close(w);
}

static size_t stats_json(struct daemon *d, char *buf, size_t cap)
{
    struct server_stats ss;
    struct journal_stats js;
    struct jsonw w;
    radius_server_get_stats(d->srv, &ss);
    journal_get_stats(d->eng.journal, &js);

    jsonw_init(&w, buf, cap);
    jsonw_open(&w);
    jsonw_int(&w, "uptime_ms", now_ms() - d->started_ms);
    jsonw_int(&w, "revision", d->sync.rev);
    jsonw_int(&w, "sims", (int64_t)simtab_count(d->eng.sims));
    jsonw_int(&w, "sim_table_bytes", (int64_t)simtab_memory(d->eng.sims));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    jsonw_int(&w, "max_rss_kb", ru.ru_maxrss);

    jsonw_open_member(&w, "radius");
    jsonw_int(&w, "received", (int64_t)ss.received);
    jsonw_int(&w, "answered", (int64_t)ss.answered);
    jsonw_int(&w, "accepts", (int64_t)ss.accepts);
    jsonw_int(&w, "rejects", (int64_t)ss.rejects);
    jsonw_int(&w, "duplicates", (int64_t)ss.duplicates);
    jsonw_int(&w, "dup_uncached", (int64_t)ss.dup_uncached);
    jsonw_int(&w, "dup_evicted", (int64_t)ss.dup_evicted);
    jsonw_int(&w, "send_errors", (int64_t)ss.send_errors);
    jsonw_int(&w, "socket_drops", (int64_t)ss.socket_drops);
    jsonw_open_member(&w, "dropped");
    for (int k = 1; k < RADIUS_E__COUNT; k++)
        jsonw_int(&w, radius_error_name(-k), (int64_t)ss.dropped[k]);
    jsonw_close(&w);
    jsonw_open_member(&w, "gpp_errors");
    for (int k = 1; k < GPP_E__COUNT; k++)
        jsonw_int(&w, gpp_error_name(-k), (int64_t)ss.gpp_errors[k]);
    jsonw_close(&w);
    jsonw_open_member(&w, "clients");
    radius_server_foreach_client(d->srv, client_json, &w);
    jsonw_close(&w);
    jsonw_close(&w);

    jsonw_open_member(&w, "findings");
    for (int k = 0; k < FK__COUNT; k++)
        jsonw_int(&w, finding_kind_name(k), (int64_t)atomic_load(&d->eng.findings[k]));
    jsonw_close(&w);

    if (d->eng.acct) {
        struct accounting_stats as;
        accounting_get_stats(d->eng.acct, &as);
        jsonw_open_member(&w, "accounting");
        jsonw_int(&w, "records", (int64_t)as.records);
        jsonw_int(&w, "batches", (int64_t)as.batches);
        jsonw_int(&w, "overload", (int64_t)as.overload);
        jsonw_int(&w, "store_errors", (int64_t)as.store_errors);
        jsonw_int(&w, "sessions_open", (int64_t)as.sessions_open);
        jsonw_int(&w, "sessions_started", (int64_t)as.started);
        jsonw_int(&w, "sessions_stopped", (int64_t)as.stopped);
        jsonw_int(&w, "sessions_stale", (int64_t)as.stale_closed);
        jsonw_int(&w, "sessions_nas_reset", (int64_t)as.nas_reset_closed);
        jsonw_int(&w, "reordered", (int64_t)as.reordered);
        jsonw_int(&w, "counter_resets", (int64_t)as.counter_resets);
        jsonw_int(&w, "octets_in", (int64_t)as.octets_in);
        jsonw_int(&w, "octets_out", (int64_t)as.octets_out);
        jsonw_int(&w, "flushes", (int64_t)as.flushes);
        jsonw_int(&w, "flushed_rows", (int64_t)as.flushed_rows);
        jsonw_int(&w, "flush_errors", (int64_t)as.flush_errors);
        jsonw_int(&w, "dirty_sessions", (int64_t)as.dirty);
        jsonw_int(&w, "last_flush_ms", as.last_flush_ms);
        jsonw_int(&w, "redone_at_start", as.redone);
        jsonw_int(&w, "retention_deleted", (int64_t)as.retention_deleted);
        jsonw_int(&w, "commands_refused", (int64_t)as.commands_refused);
        jsonw_int(&w, "commands_lost", (int64_t)as.commands_lost);
        jsonw_open_member(&w, "disconnect");
        jsonw_int(&w, "sent", (int64_t)as.dm_sent);
        jsonw_int(&w, "ack", (int64_t)as.dm_ack);
        jsonw_int(&w, "nak", (int64_t)as.dm_nak);
        jsonw_int(&w, "timeout", (int64_t)as.dm_timeout);
        jsonw_int(&w, "failed", (int64_t)as.dm_error);
        /* Histogram of trigger → Disconnect-Request on the wire: bucket b
         * counts latencies in [2^b, 2^(b+1)) µs. */
        jsonw_open_member(&w, "trigger_to_wire_us_log2");
        for (int b = 0; b < ACCT_LAT_BUCKETS; b++)
            if (as.dm_latency_us[b]) {
                char k[16];
                snprintf(k, sizeof k, "%lld", 1LL << b);
                jsonw_int(&w, k, (int64_t)as.dm_latency_us[b]);
            }
        jsonw_close(&w);
        jsonw_close(&w);
        jsonw_close(&w);
    }
    if (d->eng.dynauth) {
        /* The RFC 5176 client's own view: its pool of pending requests
         * (queued + in flight, DYNAUTH_MAX_PENDING) is bounded, and a NAS
         * that never answers keeps requests pending until they time out. */
        struct dynauth_stats ds;
        dynauth_get_stats(d->eng.dynauth, &ds);
        jsonw_open_member(&w, "dynauth");
        jsonw_int(&w, "submitted", (int64_t)ds.submitted);
        jsonw_int(&w, "sent", (int64_t)ds.sent);
        jsonw_int(&w, "retransmitted", (int64_t)ds.retransmitted);
        jsonw_int(&w, "acks", (int64_t)ds.acks);
        jsonw_int(&w, "naks", (int64_t)ds.naks);
        jsonw_int(&w, "timeouts", (int64_t)ds.timeouts);
        jsonw_int(&w, "send_errors", (int64_t)ds.send_errors);
        jsonw_int(&w, "cancelled", (int64_t)ds.cancelled);
        jsonw_int(&w, "bad_replies", (int64_t)ds.bad_replies);
        jsonw_int(&w, "unmatched", (int64_t)ds.unmatched);
        jsonw_int(&w, "queue_full", (int64_t)ds.queue_full);
        jsonw_int(&w, "pending", (int64_t)ds.pending);
        jsonw_close(&w);
    }
    if (d->ckpt) {
        struct checkpointer_stats cs;
        checkpointer_get_stats(d->ckpt, &cs);
        jsonw_open_member(&w, "store");
        jsonw_int(&w, "checkpoints", (int64_t)cs.runs);
        jsonw_int(&w, "checkpoint_pages", (int64_t)cs.pages_copied);
        jsonw_int(&w, "checkpoint_errors", (int64_t)cs.errors);
        jsonw_int(&w, "wal_pages", cs.last_wal_pages);
        jsonw_int(&w, "last_checkpoint_ms", cs.last_ms);
        jsonw_close(&w);
    }
    if (d->syslog) {
        struct syslog_stats ys;
        syslog_out_get_stats(d->syslog, &ys);
        jsonw_open_member(&w, "syslog");
        jsonw_int(&w, "sent", (int64_t)ys.sent);
        jsonw_int(&w, "dropped", (int64_t)ys.dropped);
        jsonw_int(&w, "connects", (int64_t)ys.connects);
        jsonw_int(&w, "errors", (int64_t)ys.errors);
        jsonw_close(&w);
    }
    if (d->api) {
        struct api_stats ps;
        api_get_stats(d->api, &ps);
        jsonw_open_member(&w, "api");
        jsonw_int(&w, "requests", (int64_t)ps.requests);
        jsonw_int(&w, "auth_failures", (int64_t)ps.auth_failures);
        jsonw_int(&w, "throttled", (int64_t)ps.throttled);
        jsonw_int(&w, "connections", (int64_t)ps.connections);
        jsonw_int(&w, "connections_open", ps.connections_open);
        jsonw_int(&w, "connections_refused", (int64_t)ps.connections_refused);
        jsonw_int(&w, "http_errors", (int64_t)ps.http_errors);
        jsonw_open_member(&w, "errors");     /* problem responses by status */
        for (int i = 0; i < API_ERR__COUNT; i++) {
            char k[8];
            snprintf(k, sizeof k, "%u", api_err_status[i]);
            jsonw_int(&w, k, (int64_t)ps.errors[i]);
        }
        jsonw_close(&w);
        jsonw_int(&w, "streams_open", (int64_t)ps.streams_open);
        jsonw_int(&w, "stream_events", (int64_t)ps.stream_events);
        jsonw_int(&w, "stream_sent", (int64_t)ps.stream_sent);
        jsonw_int(&w, "stream_gaps", (int64_t)ps.stream_gaps);
        jsonw_close(&w);
    }
    if (d->webhooks) {
        struct webhook_stats hs;
        webhook_sender_get_stats(d->webhooks, &hs);
        jsonw_open_member(&w, "webhooks");
        jsonw_int(&w, "queued", (int64_t)js.webhook_queued);
        jsonw_int(&w, "dropped", (int64_t)js.webhook_dropped);
        jsonw_int(&w, "attempts", (int64_t)hs.attempts);
        jsonw_int(&w, "delivered", (int64_t)hs.delivered);
        jsonw_int(&w, "retried", (int64_t)hs.retried);
        jsonw_int(&w, "failed", (int64_t)hs.failed);
        jsonw_int(&w, "in_flight", (int64_t)hs.in_flight);
        jsonw_int(&w, "store_errors", (int64_t)hs.store_errors);
        jsonw_close(&w);
    }
    jsonw_open_member(&w, "journal");
    jsonw_int(&w, "queued", (int64_t)js.queued);
    jsonw_int(&w, "written", (int64_t)js.written);
    jsonw_int(&w, "dropped", (int64_t)js.dropped);
    jsonw_int(&w, "store_errors", (int64_t)js.store_errors);
    jsonw_int(&w, "depth", (int64_t)js.depth);
    jsonw_close(&w);
    jsonw_close(&w);
    return jsonw_finish(&w);
}

/*
 * The audit chain's head (audit/audit.h) into the log — and so to syslog —
 * when it moved, at most once a minute, and at start and stop: a head
 * published outside the database is what `m2mguard audit verify --head`
 * checks a later chain against, so a rewritten or truncated tail shows.
 */
static void log_audit_head(struct daemon *d, int always)
{
    int64_t now = now_ms();
    if (!always && now - d->audit_logged_ms < AUDIT_HEAD_EVERY_MS)
        return;
    int64_t seq;
    char hex[AUDIT_HEX_LEN];
    if (audit_head(d->st, &seq, hex) < 0)
        return;
    if (!always && seq == d->audit_seq)
        return;
    d->audit_seq = seq;
    d->audit_logged_ms = now;
    log_info("audit head %lld:%s", (long long)seq, hex);
}

static void handle_ctl(struct daemon *d)
{
    int fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct timeval tv = { .tv_sec = 1 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char line[CTL_LINE_MAX];
    size_t got = 0;
    while (got < sizeof line - 1) {
        ssize_t k = read(fd, line + got, sizeof line - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
        if (memchr(line, '\n', got))
            break;
    }
    line[got] = '\0';
    line[strcspn(line, "\r\n")] = '\0';

    /* Room for every client's counters (CONFIG_MAX_CLIENTS × ~90 bytes). */
    static char out[CTL_REPLY_MAX];
    size_t n;
    if (strcmp(line, "sync") == 0) {
        do_sync(d, 0);
        n = (size_t)snprintf(out, sizeof out, "ok rev=%lld\n", (long long)d->sync.rev);
    } else if (strcmp(line, "flush") == 0) {
        /* Sessions and usage to the store (their findings go to the
         * journal), then the journal. */
        int fr = d->eng.acct ? accounting_flush(d->eng.acct, 10000) : 0;
        journal_flush(d->eng.journal);
        if (fr < 0)
            n = (size_t)snprintf(out, sizeof out, "error: accounting flush: %s\n", strerror(-fr));
        else
            n = (size_t)snprintf(out, sizeof out, "ok\n");
    } else if (strcmp(line, "stats") == 0) {
        n = stats_json(d, out, sizeof out - 1);
        out[n++] = '\n';
    } else if (strcmp(line, "reload") == 0) {
        do_reload(d, out, sizeof out - 1);
        n = strlen(out);
        out[n++] = '\n';
    } else {
        n = (size_t)snprintf(out, sizeof out, "error: unknown command (sync, flush, stats, reload)\n");
    }
    ssize_t w = write(fd, out, n);
    (void)w;
    close(fd);
}

static int setup_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Block in every thread (the workers inherit the mask). */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A control client that hangs up must not kill the daemon. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/*
 * The HTTP API's listening socket, bound here while the daemon may still
 * be root (a port below 1024) and handed to libmicrohttpd.  fd or -errno.
 */
static int api_listen(const struct sockaddr_in *addr)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (const struct sockaddr *)addr, sizeof *addr) < 0 || listen(fd, SOMAXCONN) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* "ADDR:PORT" of a listener, for messages. */
static const char *addr_str(const struct sockaddr_in *a, char *out, size_t outlen)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(out, outlen, "%s:%u", ip, ntohs(a->sin_port));
    return out;
}

/* `log` now, unless it is a file: that is opened as the unprivileged user. */
static int log_is_file(const char *dest)
{
    return strcmp(dest, "stderr") != 0 && strcmp(dest, "syslog") != 0;
}

/*
 * Everything that needs root: the sockets.  Nothing is opened for writing
 * here; the control socket is the only file made, and it is given to the
 * user the daemon will run as.
 */
static int bind_sockets(struct daemon *d, const struct privdrop_id *id, int *ret_api_fd)
{
    char a[64];
    int r;
    /* A previous instance (a restart) may still be letting go of the
     * ports: wait for them a little before giving up. */
    for (int tries = 0; (r = radius_server_new(&d->eng, d->cfg, &d->srv)) == -EADDRINUSE &&
                        tries < LISTEN_RETRIES; tries++) {
        if (tries == 0)
            log_warn("RADIUS ports busy; waiting up to %d s for them", LISTEN_RETRIES / 10);
        struct timespec ts = { 0, 100000000 };
        nanosleep(&ts, NULL);
    }
    if (r < 0) {
        log_err("cannot listen on %s (auth) / %u (acct): %s%s", addr_str(&d->cfg->auth_addr, a, sizeof a),
                ntohs(d->cfg->acct_addr.sin_port), strerror(-r),
                r == -EADDRINUSE ? " (another m2mguard listens there)" : "");
        return r;
    }
    d->eng.srv = d->srv;
    if ((d->ctl_fd = ctl_listen(d->cfg->control)) < 0) {
        log_err("control socket %s: %s%s", d->cfg->control, strerror(-d->ctl_fd),
                d->ctl_fd == -EADDRINUSE ? " (is another m2mguard running?)" : "");
        return d->ctl_fd;
    }
    /* Mode 0660: the daemon's user and group use it, and so does root.
     * lchown: never through a link someone put there since the bind. */
    if (id->change && lchown(d->cfg->control, id->uid, id->gid) < 0) {
        log_err("control socket %s: chown to %s: %s", d->cfg->control, id->user, strerror(errno));
        return -errno;
    }
    if (d->cfg->api_addr.sin_port && (*ret_api_fd = api_listen(&d->cfg->api_addr)) < 0) {
        log_err("cannot listen on %s (api): %s", addr_str(&d->cfg->api_addr, a, sizeof a),
                strerror(-*ret_api_fd));
        return *ret_api_fd;
    }
    return 0;
}

/*
 * Right after the drop: what the daemon will need as this user must work
 * now, not at the first reload — the configuration file readable, the
 * logs writable, the database and its directory writable.
 */
static int check_as_user(struct daemon *d, const struct privdrop_id *id)
{
    char err[1024];
    int r;
    if (access(d->config_path, R_OK) < 0) {
        log_err("%s is not readable by user %s, which the daemon runs as (%s): a reload "
                "would fail; chgrp %s %s && chmod g+r %s", d->config_path, id->user,
                strerror(errno), id->group[0] ? id->group : id->user, d->config_path,
                d->config_path);
        return -EACCES;
    }
    if (log_is_file(d->cfg->log) && (r = log_open(d->cfg->log, d->verbose)) < 0) {
        log_err("log %s: %s (the daemon runs as user %s: the file and its directory must "
                "be writable by it)", d->cfg->log, strerror(-r), id->user);
        return r;
    }
    if ((r = log_events_open(d->cfg->events)) < 0) {
        log_err("events %s: %s (the daemon runs as user %s: the file and its directory must "
                "be writable by it)", d->cfg->events, strerror(-r), id->user);
        return r;
    }
    if ((r = privdrop_check_database(d->cfg->database, id->user, err, sizeof err)) < 0) {
        log_err("%s", err);
        return r;
    }
    return 0;
}

int daemon_serve(const char *config_path, int verbose)
{
    struct daemon d;
    struct store *jst = NULL, *ast = NULL, *cst = NULL, *pst = NULL, *wst = NULL;
    struct privdrop_id id;
    char ctl_path[PATH_MAX] = "", err[1024];
    int status = 1, r, lock_fd = -1, api_fd = -1, cfg_installed = 0, https = 0;
    struct api_tls tls = { NULL, NULL };     /* HTTPS: read at start, handed to the API */

    /* What the daemon creates (store, logs, lock) is its user's and its
     * group's: inventory and findings are nobody else's business. */
    umask(027);
    memset(&d, 0, sizeof d);
    d.config_path = config_path;
    d.ctl_fd = d.sig_fd = -1;
    d.started_ms = now_ms();
    d.verbose = verbose;

    if (config_load(config_path, stderr, &d.cfg) < 0)
        return 1;
    if (config_check_secret_files(d.cfg, stderr) < 0) {
        config_free(d.cfg);
        return 1;
    }
    /* A log file is opened once the daemon runs as its user (check_as_user):
     * as root it could be made to append to whatever a link there names. */
    if ((r = log_open(log_is_file(d.cfg->log) ? "stderr" : d.cfg->log, verbose)) < 0) {
        fprintf(stderr, "m2mguard: log %s: %s\n", d.cfg->log, strerror(-r));
        goto out;
    }
    if ((r = privdrop_resolve(d.cfg, &id, err, sizeof err)) < 0) {
        log_err("%s", err);
        goto out;
    }
    if ((d.sig_fd = setup_signals()) < 0) {
        log_err("signalfd: %s", strerror(errno));
        goto out;
    }
    if (engine_init(&d.eng) < 0 || !(d.eng.sims = simtab_new()) || !(d.eng.qsbr = qsbr_new())) {
        log_err("out of memory");
        goto out;
    }
    /* The API's certificate and key, read while still root (the key may be
     * root's alone) and before anything takes long: a key others can read
     * is refused at once. */
    https = d.cfg->api_addr.sin_port && d.cfg->api_tls_cert[0];
    if (https) {
        char why[PATH_MAX + 128];
        if (api_tls_read(d.cfg->api_tls_cert, d.cfg->api_tls_key, &tls, why, sizeof why) < 0) {
            log_err("listen api tls: %s; not starting", why);
            goto out;
        }
    }
    snprintf(ctl_path, sizeof ctl_path, "%s", d.cfg->control);
    if (bind_sockets(&d, &id, &api_fd) < 0)
        goto out;
    if ((r = privdrop_apply(&id, err, sizeof err)) < 0) {
        log_err("cannot drop privileges: %s", err);
        goto out;
    }
    if (id.change)
        log_info("running as user %s (uid %u), group %s (gid %u)", id.user, (unsigned)id.uid,
                 id.group[0] ? id.group : "-", (unsigned)id.gid);
    else if (id.uid == 0)
        log_warn("running as root (`user root` in %s): not recommended", config_path);
    if (check_as_user(&d, &id) < 0)
        goto out;

    /* One daemon per database: a second one would share the RADIUS ports
     * (SO_REUSEPORT) and split the traffic between two memories. */
    {
        char lock_path[PATH_MAX + 8];
        snprintf(lock_path, sizeof lock_path, "%s.lock", d.cfg->database);
        lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
            log_err("%s: %s", lock_path, errno == EWOULDBLOCK
                    ? "another m2mguard is already serving this database" : strerror(errno));
            goto out;
        }
    }
    if ((r = store_open(d.cfg->database, &d.st)) < 0 ||
        (r = store_open(d.cfg->database, &jst)) < 0 ||
        (r = store_open(d.cfg->database, &ast)) < 0 ||
        (r = store_open(d.cfg->database, &cst)) < 0 ||
        (r = store_open(d.cfg->database, &pst)) < 0 ||
        (r = store_open(d.cfg->database, &wst)) < 0) {
        log_err("database %s: %s", d.cfg->database,
                store_errmsg(wst ? wst : pst ? pst : cst ? cst : ast ? ast : jst ? jst : d.st));
        goto out;
    }
    /* Every connection commits to the WAL only; one thread copies it back
     * (store/checkpointer.h). */
    if ((r = checkpointer_start(cst, CHECKPOINT_INTERVAL_MS, CHECKPOINT_PAGES, &d.ckpt)) < 0) {
        log_err("cannot start the checkpointer: %s", strerror(-r));
        goto out;
    }
    cst = NULL;     /* the checkpointer owns it now */
    store_manual_checkpoints(d.st, checkpointer_wal_size, d.ckpt);
    store_manual_checkpoints(jst, checkpointer_wal_size, d.ckpt);
    store_manual_checkpoints(ast, checkpointer_wal_size, d.ckpt);
    store_manual_checkpoints(pst, checkpointer_wal_size, d.ckpt);
    store_manual_checkpoints(wst, checkpointer_wal_size, d.ckpt);
    if ((r = store_tenant_find(d.st, "platform", &d.eng.platform_tenant_id)) < 0) {
        log_err("database %s has no platform tenant: %s", d.cfg->database, store_errmsg(d.st));
        goto out;
    }
    if ((r = resolve_tenants(&d, d.cfg)) < 0)
        goto out;
    if ((r = journal_new(jst, d.cfg->journal_queue, &d.eng.journal)) < 0) {
        log_err("journal: %s", strerror(-r));
        goto out;
    }
    jst = NULL;     /* the journal owns it now */
    if ((r = webhook_sender_new(wst, &d.cfg->webhook, &d.webhooks)) < 0) {
        log_err("webhooks: %s", strerror(-r));
        goto out;
    }
    wst = NULL;     /* the sender owns it now */
    journal_set_webhooks(d.eng.journal, d.webhooks, d.cfg->webhook.outbox_max);
    if (d.cfg->syslog.proto != SYSLOG_OFF) {
        char a[64];
        addr_str(&d.cfg->syslog.addr, a, sizeof a);
        if ((r = syslog_out_new(&d.cfg->syslog, &d.syslog)) < 0) {
            log_err("syslog %s: %s", a, strerror(-r));
            goto out;
        }
        journal_set_syslog(d.eng.journal, d.syslog);
        log_info("findings and actions also to syslog %s %s (%s)",
                 d.cfg->syslog.proto == SYSLOG_UDP ? "udp" : "tcp", a,
                 d.cfg->syslog.format == SYSLOG_CEF ? "CEF" : "JSON");
    }

    int64_t t0 = now_ms();
    struct sync_result res;
    if ((r = sync_apply(d.st, &d.eng, &d.sync, &res)) < 0) {
        log_err("loading the inventory: %s", store_errmsg(d.st));
        goto out;
    }
    log_info("loaded %llu SIMs and %llu groups in %lld ms (revision %lld)",
             (unsigned long long)res.sims, (unsigned long long)res.groups,
             (long long)(now_ms() - t0), (long long)d.sync.rev);

    struct accounting_options ao = {
        .queue = d.cfg->acct_queue, .flush_ms = d.cfg->acct_flush_ms,
        .retention_days = d.cfg->acct_retention_days,
    };
    if ((r = accounting_new(&d.eng, ast, &ao, &d.eng.acct)) < 0) {
        log_err("accounting: loading open sessions: %s", store_errmsg(ast));
        goto out;
    }
    ast = NULL;     /* the accounting owns it now */
    {
        struct accounting_stats as;
        accounting_get_stats(d.eng.acct, &as);
        log_info("accounting: %llu open sessions restored", (unsigned long long)as.sessions_open);
    }

    /* Its socket is a client's (an ephemeral port): nothing to bind as root. */
    struct dynauth_options dao = { .on_outcome = accounting_dm_outcome, .ctx = d.eng.acct };
    if (!(d.eng.dynauth = dynauth_new(&dao))) {
        log_err("dynamic authorization client: %s", strerror(errno));
        goto out;
    }

    /* The clients' tenants are resolved: the workers get their configuration. */
    cfg_installed = 1;
    if ((r = radius_server_reconfigure(d.srv, d.cfg)) < 0) {
        d.cfg = NULL;   /* freed by the server */
        log_err("out of memory");
        goto out;
    }
    if ((r = journal_start(d.eng.journal)) < 0 || (r = accounting_start(d.eng.acct)) < 0 ||
        (r = webhook_sender_start(d.webhooks)) < 0 || (r = radius_server_start(d.srv)) < 0) {
        log_err("cannot start threads: %s", strerror(-r));
        goto out;
    }
    if (api_fd >= 0) {
        struct api_options ao_api = { .addr = d.cfg->api_addr, .listen_fd = api_fd, .st = pst,
                                      .eng = &d.eng, .webhooks = d.webhooks,
                                      .control = d.cfg->control,
                                      .database = d.cfg->database,
                                      .tls = https ? &tls : NULL };
        char a[64];
        addr_str(&d.cfg->api_addr, a, sizeof a);
        api_fd = -1;    /* the API owns it now, failed or not */
        r = api_start(&ao_api, &d.api);
        api_tls_free(&tls);     /* the API has its copy */
        if (r < 0) {
            log_err("cannot start the HTTP API on %s: %s", a,
                    r == -EBADMSG ? "the TLS certificate or key is not usable (GnuTLS refused "
                                    "them: do they match?)" : strerror(-r));
            goto out;
        }
        pst = NULL;     /* the API owns it now */
        log_info("HTTP%s API on %s", https ? "S" : "", a);
    }
    /* Last: every thread runs, nothing is left to open or bind. */
    if (d.cfg->seccomp) {
        if ((r = sandbox_install(err, sizeof err)) < 0) {
            log_err("%s (`seccomp off` in %s runs without the filter)", err, config_path);
            goto out;
        }
    } else {
        log_warn("seccomp off: running without the system call filter");
    }
    {
        char a[64];
        log_info("m2mguard ready: RADIUS auth on %s, accounting on port %u, %d workers each, "
                 "%u clients, control %s, user %s, seccomp %s",
                 addr_str(&d.cfg->auth_addr, a, sizeof a), ntohs(d.cfg->acct_addr.sin_port),
                 d.cfg->workers, d.cfg->nclients, d.cfg->control, id.user,
                 d.cfg->seccomp ? "on" : "off");
    }

    log_audit_head(&d, 1);
    int running = 1;
    while (running) {
        struct pollfd pfd[2] = { { .fd = d.sig_fd, .events = POLLIN },
                                 { .fd = d.ctl_fd, .events = POLLIN } };
        int pr = poll(pfd, 2, TICK_MS);
        if (pr < 0 && errno != EINTR) {
            log_err("poll: %s", strerror(errno));
            break;
        }
        if (pr > 0 && (pfd[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(d.sig_fd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                    char msg[4096];
                    do_reload(&d, msg, sizeof msg);
                } else {
                    log_info("signal %u: shutting down", si.ssi_signo);
                    running = 0;
                }
            }
        }
        if (pr > 0 && (pfd[1].revents & POLLIN))
            handle_ctl(&d);
        do_sync(&d, 0);
        log_audit_head(&d, 0);
        qsbr_poll(d.eng.qsbr);
    }
    status = 0;
out:
    api_tls_free(&tls);
    api_stop(d.api);                    /* no new administrative requests */
    if (d.srv)
        radius_server_stop(d.srv);
    /* Pending Disconnect-Requests end (their outcomes reach the accounting),
     * then the accounting commits and answers what is queued while the
     * sockets are still open. */
    dynauth_free(d.eng.dynauth);
    accounting_free(d.eng.acct);
    if (d.eng.journal)
        journal_free(d.eng.journal);    /* drains what is queued */
    syslog_out_free(d.syslog);
    webhook_sender_free(d.webhooks);    /* after the journal: it kicks the sender */
    if (status == 0 && d.st)
        log_audit_head(&d, 1);          /* the last head, with the journal drained */
    /* The connections still open stop reporting to the checkpointer. */
    struct store *left[] = { d.st, jst, ast, pst, wst };
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
        if (left[i])
            store_manual_checkpoints(left[i], NULL, NULL);
    checkpointer_stop(d.ckpt);          /* a last one, truncating the WAL */
    radius_server_free(d.srv);          /* and the config, once installed */
    if (!cfg_installed)
        config_free(d.cfg);
    if (api_fd >= 0)
        close(api_fd);
    if (d.ctl_fd >= 0) {
        close(d.ctl_fd);
        /* Fails when its directory is not the daemon user's to write; the
         * next start removes the stale socket. */
        (void)unlink(ctl_path);
    }
    if (d.eng.qsbr)
        qsbr_free(d.eng.qsbr);
    if (d.eng.default_policy)
        engine_fini(&d.eng);
    simtab_free(d.eng.sims);
    store_close(jst);
    store_close(ast);
    store_close(cst);
    store_close(pst);
    store_close(wst);
    store_close(d.st);
    if (d.sig_fd >= 0)
        close(d.sig_fd);
    if (lock_fd >= 0)
        close(lock_fd);
    log_info("stopped");
    log_close();
    return status;
}
