/*
 * accounting.h — sessions and usage from RADIUS accounting (RFC 2866),
 * durable before acknowledged.
 *
 * The accounting listener (radius/server.c) authenticates and decodes an
 * Accounting-Request, signs its Accounting-Response up front and hands both
 * over as one struct acct_record.  One accounting thread owns every session:
 * it applies a batch of records (session state, usage deltas), appends each
 * to the accounting log (acct_records: the record as received, the usage it
 * counted and its session's state afterwards) in one transaction with
 * synchronous=FULL — one fsync per batch, the group commit — and only then
 * sends the batch's responses.  A kill -9 at any moment therefore loses
 * nothing that was acknowledged; a record whose response was not sent is
 * retransmitted by the NAS.
 *
 * The sessions and usage_daily tables are written from memory every
 * ACCT_FLUSH_MS (config `acct-flush`; a session's start and end at once), with the log row up to
 * which they are complete (the mark).  So an Interim-Update costs one
 * appended row, not a rewrite of its session's and its SIM's pages; and at
 * start the log rows after the mark are redone, so a crash loses none of it.
 * Readers of those tables (the CLI) see them at most that late, or
 * current after accounting_flush (the control socket's `flush`).
 *
 * Usage is computed from cumulative counters (64-bit with the Gigawords) as
 * deltas that stay right under retransmissions (same counters: delta 0),
 * reordering (an older Acct-Session-Time: ignored), a missing Start (the
 * first counters seen are the delta), and counters that go backwards while
 * time goes forward (a reset: the new value is the delta).  Never negative.
 *
 * When the store cannot keep up the bounded queue fills and the listener
 * drops new requests (counted as `overload`): the NAS retransmits; memory
 * does not grow.
 */
#ifndef M2MG_ENGINE_ACCOUNTING_H
#define M2MG_ENGINE_ACCOUNTING_H

#include <netinet/in.h>
#include <stdint.h>

#include "radius/gpp.h"
#include "store/store.h"

#define ACCT_BATCH 1024
#define ACCT_REPLY_MAX 256     /* Message-Authenticator + Proxy-State copies */
#define ACCT_STALE_MARGIN_S 60      /* added to 2 × the interim interval */
#define ACCT_STALE_CHECK_MS 5000
#define ACCT_CLOSED_LINGER_MS 300000    /* a closed session answers retransmissions */
#define ACCT_FLUSH_MS 1000          /* sessions / usage_daily written from memory */
#define ACCT_FLUSH_DIRTY 65536      /* ...or as soon as this many sessions changed */
#define ACCT_FLUSH_CHUNK 2048       /* session rows per transaction of a flush */
#define ACCT_RETENTION_CHUNK 20000  /* old log rows deleted per transaction */
#define ACCT_CMD_QUEUE 1024         /* disconnect / restrict commands waiting */
#define ACCT_CMD_CATCHUP 2048       /* commands still owed to records queued before them */

enum acct_status {
    ACCT_START = 1,
    ACCT_STOP = 2,
    ACCT_INTERIM = 3,
    ACCT_ON = 7,
    ACCT_OFF = 8,
    /* Commands to the accounting thread, not on the wire. */
    ACCT_CMD_DISCONNECT = 1001,     /* cut every live session of sim_id */
    ACCT_CMD_DM_OUTCOME = 1002,     /* a Disconnect- or CoA-Request's outcome */
    ACCT_CMD_RESTRICT = 1003,       /* CoA-Request with a Filter-Id to every live session */
};

#define ACCT_LAT_BUCKETS 32         /* log2 µs buckets of trigger-to-wire latency */

/* One Accounting-Request, validated, with its signed response. */
struct acct_record {
    int fd;                             /* socket to answer from */
    struct sockaddr_in from;
    uint16_t reply_len;
    uint8_t reply[ACCT_REPLY_MAX];
    int64_t recv_ms;
    int64_t nas_tenant_id;
    char nas[64];
    uint32_t status;
    char session_id[STORE_SESSION_ID_MAX + 1];
    char imsi[16];
    char imeisv[17];
    uint32_t framed_ip;
    uint64_t in_octets, out_octets;     /* with Gigawords */
    uint32_t session_time;
    uint8_t has_time;
    uint8_t rat;
    struct gpp_plmn plmn;               /* mnc_digits 0 = unknown */
    int64_t area, cell;
    /* Commands only. */
    uint32_t sim_id;                    /* ACCT_CMD_DISCONNECT */
    int64_t session_row;                /* ACCT_CMD_DM_OUTCOME: the session's store id */
    int dm_result;                      /* enum dynauth_result */
    uint32_t error_cause;
    int64_t t0_ns;                      /* the trigger's arrival (CLOCK_MONOTONIC) */
    char why[32];                       /* finding kind or "admin" */
    union {
        char filter_id[64];             /* ACCT_CMD_RESTRICT */
        char iccid[23];                 /* ACCT_CMD_DISCONNECT of a deleted SIM, else "" */
    };
    int dm_kind;                        /* ACCT_CMD_DM_OUTCOME: enum dynauth_kind */
    uint64_t seq;                       /* set by the queue: records before it */
};

struct accounting_stats {
    uint64_t records;           /* committed and acknowledged */
    uint64_t batches;
    uint64_t overload;          /* queue full: dropped, NAS retransmits */
    uint64_t store_errors;      /* batches not committed (not acknowledged) */
    uint64_t sessions_open;
    uint64_t started, stopped, stale_closed, nas_reset_closed;
    uint64_t reordered;         /* older records ignored */
    uint64_t counter_resets;
    uint64_t octets_in, octets_out;
    uint64_t dm_sent, dm_ack, dm_nak, dm_timeout, dm_error;
    uint64_t dm_latency_us[ACCT_LAT_BUCKETS];   /* trigger → Disconnect-Request on the wire */
    uint64_t flushes;           /* sessions / usage_daily written from memory */
    uint64_t flushed_rows;      /* session rows and usage rows written by them */
    uint64_t flush_errors;
    uint64_t dirty;             /* sessions changed since the last flush */
    int64_t last_flush_ms;      /* duration of the last flush */
    int64_t redone;             /* log records redone at start (after a crash) */
    uint64_t retention_deleted; /* log rows older than the retention, deleted */
    uint64_t commands_refused;  /* disconnect / restrict commands: ACCT_CMD_QUEUE full */
    uint64_t commands_lost;     /* commands ahead of their records: ACCT_CMD_CATCHUP full */
};

struct engine;
struct accounting;

/* Loads the open sessions from the store (and redoes the log past the last
 * flush); the accounting owns `st`. */
struct accounting_options {
    uint32_t queue;             /* records waiting for their commit */
    uint32_t flush_ms;          /* 0: ACCT_FLUSH_MS */
    uint32_t retention_days;    /* accounting log rows kept; 0: forever */
};
int accounting_new(struct engine *e, struct store *st, const struct accounting_options *o,
                   struct accounting **ret)
    __attribute__((warn_unused_result));
int accounting_start(struct accounting *a);
/* Commit and answer what is queued, stop, free. */
void accounting_free(struct accounting *a);

/* Write every session and usage row changed in memory to the store now and
 * wait (at most timeout_ms) until it is committed: 0, -ETIMEDOUT, -EIO. */
int accounting_flush(struct accounting *a, int timeout_ms);

/* From a listener worker; 0 or -ENOBUFS (counted). Copies the record. */
int accounting_submit(struct accounting *a, const struct acct_record *r);
void accounting_get_stats(struct accounting *a, struct accounting_stats *ret);

/*
 * Cut every live session of a SIM with an RFC 5176 Disconnect-Request to
 * the NAS that carries it (any thread).  `why` names the cause (a finding
 * kind, "suspended").  t0_ns: when the triggering packet or command arrived
 * (CLOCK_MONOTONIC), for the trigger-to-wire latency.
 */
int accounting_disconnect_sim(struct accounting *a, uint32_t sim_id, const char *why,
                              int64_t t0_ns);

/*
 * The SIM was deleted (and has left the index): cut its live sessions as
 * accounting_disconnect_sim() does, with cause "deleted", and keep its
 * ICCID to name it in the actions that report the outcomes (any thread).
 * The last ACCT_DELETED_NAMES deleted SIMs are remembered; the actions on
 * the sessions of one deleted before them name its IMSI.
 */
#define ACCT_DELETED_NAMES 1024
int accounting_forget_sim(struct accounting *a, uint32_t sim_id, const char *iccid);

/* Restrict every live session of a SIM: CoA-Request with Filter-Id (any thread). */
int accounting_restrict_sim(struct accounting *a, uint32_t sim_id, const char *why,
                            const char *filter_id, int64_t t0_ns);

struct dynauth_outcome;
/* dynauth's outcome callback (ctx = the accounting): records the outcome,
 * and a Disconnect-ACK closes the session. */
void accounting_dm_outcome(void *ctx, const struct dynauth_outcome *o);

#endif
