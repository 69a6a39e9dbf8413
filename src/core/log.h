/*
 * log.h — the program's diagnostics and its JSON event stream.
 *
 * Two outputs: the diagnostic log (stderr, syslog or a file, chosen by the
 * config's `log`), and the event log, one JSON object per line for a SIEM
 * (the config's `events`).  Library-like code (codecs, store) never calls
 * these; the program does.  Never pass a secret to either.
 */
#ifndef M2MG_CORE_LOG_H
#define M2MG_CORE_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* dest: "stderr", "syslog" or a file path.  Returns 0 or -errno. */
int log_open(const char *dest, int verbose);
/* dest: a file path, "stderr" or "none".  Returns 0 or -errno. */
int log_events_open(const char *dest);
void log_close(void);
/*
 * The file descriptor of the diagnostic log when it is a file, else -1:
 * for a last line written with write(2) from a signal handler, where stdio
 * and syslog() cannot be used (the seccomp filter's SIGSYS handler).
 */
int log_file_fd(void);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Append one line (a JSON object, no newline) to the event log. */
void log_event_line(const char *json, size_t len);
/* Flush the event log (the writer calls it once per batch). */
void log_events_flush(void);

#endif
