/*
 * journal.h — the path from the workers to the store and the event log.
 *
 * Workers never touch SQLite: they push a fixed-size message into a bounded
 * queue and go on.  One writer thread drains the queue in batches, writes
 * each batch in one transaction (findings, actions, alerts, IMEI bindings),
 * then appends the JSON lines to the event log.  When the queue is full the
 * message is dropped and counted (journal_dropped), never blocking a
 * worker and never growing memory: the decision was already made and
 * answered, only its record is lost, and the counter says so.
 */
#ifndef M2MG_ENGINE_JOURNAL_H
#define M2MG_ENGINE_JOURNAL_H

#include <stdint.h>

#include "engine/model.h"

#define JOURNAL_EVIDENCE_MAX 480
#define JOURNAL_BATCH 1024

enum journal_type {
    JM_FINDING,         /* a finding with its actions */
    JM_BIND_IMEI,       /* IMEI learned for a SIM */
    JM_SV,              /* software version seen for a SIM / device */
    JM_ACTION,          /* an action's later outcome (Disconnect ACK/NAK/timeout) */
    JM_SUSPEND,         /* a response rule suspended a SIM: store the state */
};

struct journal_msg {
    uint8_t type;
    uint8_t kind;               /* enum finding_kind */
    uint8_t severity;
    uint8_t actions;            /* ACT_* taken */
    uint8_t alert;              /* raise / count an alert */
    uint8_t sv;                 /* JM_SV: software version */
    uint32_t sim_id;            /* 0 when none */
    int64_t tenant_id;
    int64_t ts_ms;
    char subject[24];           /* ICCID, IMSI or client name */
    char imei[15];              /* JM_BIND_IMEI / JM_SV */
    char outcome[16];           /* JM_ACTION: ACK, NAK, TIMEOUT, failed …; JM_SUSPEND: kind */
    char action[16];            /* JM_ACTION: disconnect, restrict */
    char evidence[JOURNAL_EVIDENCE_MAX];
};

struct journal_stats {
    uint64_t queued;
    uint64_t written;
    uint64_t dropped;           /* queue full */
    uint64_t store_errors;      /* batches the store refused */
    uint64_t depth;
    uint64_t webhook_queued;    /* outbox rows written */
    uint64_t webhook_dropped;   /* not written: that webhook's outbox was full */
};

/* A finding or action the journal has committed, as the events file has it. */
struct journal_event {
    int64_t tenant_id;
    int64_t ts_ms;
    const char *type;           /* "finding", "action" */
    const char *kind;           /* finding kind or action */
    int severity;               /* enum severity */
    const char *json;           /* one JSON object, len bytes */
    size_t len;
};
typedef void (*journal_listener_fn)(void *ctx, const struct journal_event *e);

struct store;
struct journal;

/* The journal owns `st` (closes it in journal_free). */
int journal_new(struct store *st, uint32_t capacity, struct journal **ret)
    __attribute__((warn_unused_result));
/* Send committed findings and actions to a syslog collector too (before
 * journal_start; the caller keeps and frees it after journal_free). */
struct syslog_out;
void journal_set_syslog(struct journal *j, struct syslog_out *s);
/* Write an outbox row for each webhook that wants a committed finding or
 * action, in its transaction, and kick the sender after the commit
 * (before journal_start; the caller frees ws after journal_free). */
struct webhook_sender;
void journal_set_webhooks(struct journal *j, struct webhook_sender *ws, uint32_t outbox_max);
/* Call fn on the journal's thread for every event after its commit (the
 * API's live stream).  At any time; NULL stops it. */
void journal_set_listener(struct journal *j, journal_listener_fn fn, void *ctx);
int journal_start(struct journal *j);
/* Drain what is queued, stop the writer, free. */
void journal_free(struct journal *j);

/* From any thread; 0 or -ENOBUFS when full (counted). */
int journal_push(struct journal *j, const struct journal_msg *m);
void journal_get_stats(struct journal *j, struct journal_stats *ret);
/* Block until everything queued before the call is committed (tests, CLI sync). */
void journal_flush(struct journal *j);

#endif
