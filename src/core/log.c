/*
 * log.c — diagnostic log and JSON event log.
 *
 * Diagnostics are rare (start-up, reloads, errors) and go through stdio
 * with a lock, which is fine.  Event lines are written only by the
 * journal thread, in batches, through one buffered FILE flushed once per
 * batch, so a flood of findings costs one write(2) per batch, not per line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "core/log.h"

static FILE *log_fp;
static int log_syslog;
static int log_verbose;
static FILE *events_fp;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int log_open(const char *dest, int verbose)
{
    /* Reopening (SIGHUP, log rotation): close what the last call opened. */
    if (log_fp && log_fp != stderr)
        fclose(log_fp);
    log_fp = NULL;
    if (log_syslog)
        closelog();
    log_syslog = 0;
    log_verbose = verbose;
    if (!dest || strcmp(dest, "stderr") == 0) {
        log_fp = stderr;
        return 0;
    }
    if (strcmp(dest, "syslog") == 0) {
        openlog("m2mguard", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        log_syslog = 1;
        return 0;
    }
    FILE *f = fopen(dest, "a");
    if (!f)
        return -errno;
    setvbuf(f, NULL, _IOLBF, 0);
    log_fp = f;
    return 0;
}

int log_events_open(const char *dest)
{
    if (events_fp && events_fp != stderr && events_fp != stdout)
        fclose(events_fp);
    events_fp = NULL;
    if (!dest || strcmp(dest, "none") == 0)
        return 0;
    if (strcmp(dest, "stderr") == 0) {
        events_fp = stderr;
        return 0;
    }
    FILE *f = fopen(dest, "a");
    if (!f)
        return -errno;
    events_fp = f;
    return 0;
}

void log_close(void)
{
    if (log_fp && log_fp != stderr)
        fclose(log_fp);
    log_fp = NULL;
    if (log_syslog)
        closelog();
    log_syslog = 0;
    log_events_open("none");
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
    va_list ap;

    if (lvl == LOG_LVL_DEBUG && !log_verbose)
        return;
    va_start(ap, fmt);
    if (log_syslog) {
        vsyslog(prio[lvl], fmt, ap);
    } else {
        FILE *f = log_fp ? log_fp : stderr;
        char ts[32];
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        pthread_mutex_lock(&log_lock);
        fprintf(f, "%s.%03ldZ m2mguard %s: ", ts, now.tv_nsec / 1000000, names[lvl]);
        vfprintf(f, fmt, ap);
        fputc('\n', f);
        pthread_mutex_unlock(&log_lock);
    }
    va_end(ap);
}

void log_event_line(const char *json, size_t len)
{
    if (!events_fp)
        return;
    fwrite(json, 1, len, events_fp);
    fputc('\n', events_fp);
}

void log_events_flush(void)
{
    if (events_fp)
        fflush(events_fp);
}
