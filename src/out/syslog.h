/*
 * syslog.h — findings and actions to a SIEM's syslog collector (RFC 5424),
 * over UDP (RFC 5426: one message a datagram) or TCP (RFC 6587 octet
 * counting), as JSON or ArcSight CEF.
 *
 * The journal thread adds a batch's events, then commits them to the store
 * and only then sends them (syslog_out_commit), so the SIEM never hears of
 * something the store does not have; a batch the store refused is
 * discarded.  Sending never blocks the journal: a TCP connection is
 * (re)opened non-blocking at most once a second, and what cannot be sent
 * now is dropped and counted (`stats` → syslog) — syslog is best effort;
 * the store and the events file are the record.
 */
#ifndef M2MG_OUT_SYSLOG_H
#define M2MG_OUT_SYSLOG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

enum syslog_proto { SYSLOG_OFF, SYSLOG_UDP, SYSLOG_TCP };
enum syslog_format { SYSLOG_JSON, SYSLOG_CEF };

struct syslog_conf {
    enum syslog_proto proto;
    enum syslog_format format;
    struct sockaddr_in addr;
    int facility;               /* 16 = local0 */
};

/* One event: what the events file gets as `json`, and its parts for CEF. */
struct syslog_event {
    const char *type;           /* "finding", "action" */
    const char *kind;           /* finding kind or action */
    int severity;               /* enum severity (model.h) */
    const char *tenant;
    const char *subject;
    const char *summary;        /* one line for people */
    const char *json;           /* the whole event as one JSON object */
    int64_t ts_ms;
};

struct syslog_stats {
    uint64_t sent, dropped, connects, errors;
};

struct syslog_out;

int syslog_out_new(const struct syslog_conf *c, struct syslog_out **ret);
/* Format and keep an event until the batch is committed. */
void syslog_out_add(struct syslog_out *s, const struct syslog_event *e);
void syslog_out_commit(struct syslog_out *s);
void syslog_out_discard(struct syslog_out *s);
void syslog_out_get_stats(struct syslog_out *s, struct syslog_stats *ret);
void syslog_out_free(struct syslog_out *s);

/* The message without transport framing (tests, fuzzing). */
size_t syslog_format_message(const struct syslog_conf *c, const char *host, int pid,
                             const struct syslog_event *e, char *out, size_t cap);

#endif
