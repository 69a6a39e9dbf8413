/*
 * log.c — diagnostic log and JSON event log.
 *
 * Diagnostics are rare (start-up, reloads, errors) and go through stdio
 * with a lock, which is fine.  Event lines are written only by the
 * journal thread, in batches, through one buffered FILE flushed once per
 * batch, so a flood of findings costs one write(2) per batch, not per line.
 *
 * A reload (SIGHUP) reopens both from the main thread while workers log and
 * the journal thread writes events, so each output has a lock that its
 * open, write and close all take: a FILE is never closed under a writer.
 * An event line that cannot be written (disk full, a gone NFS mount) is
 * lost, but not silently: the first failure is logged as an error, and
 * the recovery as information.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "core/log.h"

/* The diagnostic log: log_fp, log_syslog and log_verbose under log_lock. */
static FILE *log_fp;
static int log_syslog;
static int log_verbose;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* fileno(log_fp) when it is a file: read without the lock by log_file_fd(). */
static _Atomic int log_fd = -1;

/* The event log, under events_lock (taken before log_lock, never after). */
static FILE *events_fp;
static int events_failing;      /* a write failed and none has succeeded since */
static size_t events_unflushed; /* octets written since the last flush */
static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;

int log_open(const char *dest, int verbose)
{
    int r = 0;
    pthread_mutex_lock(&log_lock);
    /* Reopening (SIGHUP, log rotation): close what the last call opened. */
    atomic_store(&log_fd, -1);
    if (log_fp && log_fp != stderr)
        (void)fclose(log_fp);   /* line buffered: nothing is pending */
    log_fp = NULL;
    if (log_syslog)
        closelog();
    log_syslog = 0;
    log_verbose = verbose;
    if (!dest || strcmp(dest, "stderr") == 0) {
        log_fp = stderr;
    } else if (strcmp(dest, "syslog") == 0) {
        openlog("m2mguard", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        log_syslog = 1;
    } else {
        FILE *f = fopen(dest, "a");
        if (!f) {
            r = -errno;
        } else {
            /* Without it the log is fully buffered: still written, later. */
            (void)setvbuf(f, NULL, _IOLBF, 0);
            log_fp = f;
            atomic_store(&log_fd, fileno(f));
        }
    }
    pthread_mutex_unlock(&log_lock);
    return r;
}

static void events_close_locked(void)
{
    if (events_fp && events_fp != stderr && events_fp != stdout && fclose(events_fp) != 0)
        log_err("events log: closing: %s; its last lines may be lost", strerror(errno));
    events_fp = NULL;
    events_failing = 0;
    events_unflushed = 0;
}

int log_events_open(const char *dest)
{
    int r = 0;
    pthread_mutex_lock(&events_lock);
    events_close_locked();
    if (!dest || strcmp(dest, "none") == 0) {
        /* no event log */
    } else if (strcmp(dest, "stderr") == 0) {
        events_fp = stderr;
    } else {
        FILE *f = fopen(dest, "a");
        if (!f)
            r = -errno;
        else
            events_fp = f;
    }
    pthread_mutex_unlock(&events_lock);
    return r;
}

void log_close(void)
{
    log_events_open("none");
    pthread_mutex_lock(&log_lock);
    atomic_store(&log_fd, -1);
    if (log_fp && log_fp != stderr)
        (void)fclose(log_fp);
    log_fp = NULL;
    if (log_syslog)
        closelog();
    log_syslog = 0;
    pthread_mutex_unlock(&log_lock);
}

int log_file_fd(void)
{
    return atomic_load(&log_fd);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
    va_list ap;

    pthread_mutex_lock(&log_lock);
    if (lvl == LOG_LVL_DEBUG && !log_verbose) {
        pthread_mutex_unlock(&log_lock);
        return;
    }
    va_start(ap, fmt);
    if (log_syslog) {
        vsyslog(prio[lvl], fmt, ap);
    } else {
        FILE *f = log_fp ? log_fp : stderr;
        char ts[32] = "";
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        if (!gmtime_r(&now.tv_sec, &tm) ||
            strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
            ts[0] = '\0';
        fprintf(f, "%s.%03ldZ m2mguard %s: ", ts, now.tv_nsec / 1000000, names[lvl]);
        vfprintf(f, fmt, ap);
        fputc('\n', f);
    }
    va_end(ap);
    pthread_mutex_unlock(&log_lock);
}

/* Called with events_lock held after a failed write or flush. */
static void events_failed_locked(int err)
{
    if (!events_failing)
        log_err("events log: write failed: %s; event lines are lost until it recovers "
                "(the store still has every finding)", strerror(err));
    events_failing = 1;
    clearerr(events_fp);
}

void log_event_line(const char *json, size_t len)
{
    pthread_mutex_lock(&events_lock);
    if (events_fp) {
        if (fwrite(json, 1, len, events_fp) != len || fputc('\n', events_fp) == EOF)
            events_failed_locked(errno);
        else
            events_unflushed += len + 1;
    }
    pthread_mutex_unlock(&events_lock);
}

void log_events_flush(void)
{
    pthread_mutex_lock(&events_lock);
    if (events_fp) {
        if (fflush(events_fp) != 0) {
            events_failed_locked(errno);
        } else if (events_failing && events_unflushed > 0) {
            /* Lines reached the file again (an empty flush proves nothing). */
            events_failing = 0;
            log_info("events log: writing again");
        }
        events_unflushed = 0;
    }
    pthread_mutex_unlock(&events_lock);
}
