/*
 * dynauth.h — the RFC 5176 Dynamic Authorization client: the actuator that
 * cuts (Disconnect-Request) or restricts (CoA-Request) a live data session
 * at the GGSN / PGW that carries it.
 *
 * Where it sits: the engine decides that a session must go, fills a
 * struct dynauth_request (NAS address and port, a copy of the client's
 * secret, the session's identification values) and calls dynauth_submit()
 * from whatever thread it runs on; the outcome (ACK, NAK with its
 * Error-Cause, TIMEOUT, SEND_ERROR) comes back through one callback, from
 * the dynauth thread, carrying the caller's cookie.
 *
 * How it is built: one UDP socket (IPv4, ephemeral port) and one thread
 * that builds, signs and sends the packets, reads the replies and runs the
 * retransmission timers — so the caller never waits on the network and
 * the Identifier space of the socket has a single owner, without locks.
 * Requests live in a pool of `max_pending` slots allocated once by
 * dynauth_new(): submitting never allocates and never blocks (a short
 * mutex hand-off, never held across I/O); when the pool is exhausted the
 * request is refused with -ENOBUFS and counted (queue_full).  The socket
 * has 256 Identifiers; when all are in flight, further requests wait in
 * FIFO order for one to free up.
 *
 * On the wire (RFC 5176 §3, §3.5): Message-Authenticator first (the
 * Blast-RADIUS rule, CVE-2024-3596), Event-Timestamp (replay protection),
 * the identification attributes the NAS asks for (its `da_attrs`) among
 * those the caller has, and Filter-Id on a CoA-Request.  Retransmissions
 * (RFC 5080 §2.2.1) resend the same bytes with the same Identifier after a
 * doubling timeout.  A reply must come from the NAS's address and port,
 * carry the right Identifier and code, and verify with the secret;
 * anything else is counted and ignored, and the request keeps waiting.
 *
 * Nothing here logs (the caller logs outcomes) and secrets never leave
 * the slot they were copied into; a slot's secret is wiped when it is
 * released.
 */
#ifndef M2MG_RADIUS_DYNAUTH_H
#define M2MG_RADIUS_DYNAUTH_H

#include <netinet/in.h>
#include <stdint.h>

#include "config/config.h"      /* DA_ATTR_* */
#include "radius/crypto.h"

#define DYNAUTH_MAX_PENDING         4096    /* default pool size (queued + in flight) */
#define DYNAUTH_PENDING_LIMIT       (1u << 20)  /* largest max_pending accepted */
#define DYNAUTH_DEFAULT_TIMEOUT_MS  1000
#define DYNAUTH_MAX_TIMEOUT_MS      60000
#define DYNAUTH_DEFAULT_RETRIES     3
#define DYNAUTH_MAX_RETRIES         10
#define DYNAUTH_NO_RETRIES          (-1)    /* options.retries: send once */
/* RFC 5080 §2.2.1 MRT: the doubled timeout stops growing here (unless the
 * initial timeout is already longer). */
#define DYNAUTH_BACKOFF_CAP_MS      16000
#define DYNAUTH_STR_MAX             64      /* longest string value, octets */
#define DYNAUTH_IMSI_MAX            15      /* TS 23.003 §2.2 */

/* The identification attributes this module can send (DA_ATTR_* bits). */
#define DYNAUTH_ATTRS_ALL (DA_ATTR_USER_NAME | DA_ATTR_ACCT_SESSION_ID | \
                           DA_ATTR_FRAMED_IP_ADDRESS | DA_ATTR_CALLING_STATION_ID | \
                           DA_ATTR_3GPP_IMSI)

enum dynauth_kind {
    DYNAUTH_DISCONNECT = 1,     /* Disconnect-Request, code 40 */
    DYNAUTH_COA = 2,            /* CoA-Request, code 43 */
};

enum dynauth_result {
    DYNAUTH_ACK = 1,            /* Disconnect-ACK (41) / CoA-ACK (44) */
    DYNAUTH_NAK,                /* Disconnect-NAK (42) / CoA-NAK (45) */
    DYNAUTH_TIMEOUT,            /* no valid reply after every retransmission */
    DYNAUTH_SEND_ERROR,         /* the socket refused the packet (outcome.err) */
    DYNAUTH_CANCELLED,          /* dynauth_free() ran before a reply came */
};

/*
 * One request.  The caller fills it and dynauth_submit() copies it into a
 * slot, so it may live on the caller's stack.  Strings are NUL-terminated
 * text of at most DYNAUTH_STR_MAX octets.
 */
struct dynauth_request {
    enum dynauth_kind kind;
    struct sockaddr_in nas;             /* address and port (the client's da_port) */
    struct radius_secret secret;        /* a copy; wiped when the request completes */
    uint32_t nas_attrs;                 /* the client's da_attrs: what the NAS wants */
    uint32_t have;                      /* DA_ATTR_* whose value below is filled */
    char user_name[DYNAUTH_STR_MAX + 1];
    char acct_session_id[DYNAUTH_STR_MAX + 1];
    uint32_t framed_ip;                 /* host order */
    char calling_station_id[DYNAUTH_STR_MAX + 1];
    char imsi[DYNAUTH_IMSI_MAX + 1];    /* sent as 3GPP-IMSI (vendor 10415, type 1) */
    char filter_id[DYNAUTH_STR_MAX + 1];  /* CoA only; empty = none */
    uint64_t cookie;                    /* opaque, returned in the outcome */
    int64_t t0_ns;                      /* trigger time, CLOCK_MONOTONIC */
};

struct dynauth_outcome {
    uint64_t cookie;
    enum dynauth_kind kind;
    enum dynauth_result result;
    uint32_t error_cause;               /* NAK: Error-Cause (RFC 5176 §3.6), 0 if absent */
    int err;                            /* SEND_ERROR: negative errno */
    unsigned attempts;                  /* transmissions made, first one included */
    uint8_t identifier;                 /* the RADIUS Identifier; 0 when never sent */
    struct sockaddr_in nas;
    int64_t t0_ns;                      /* as submitted */
    int64_t sent_ns;                    /* first transmission (CLOCK_MONOTONIC), 0 if none */
    int64_t done_ns;                    /* when the outcome was decided */
};

/*
 * Called from the dynauth thread, once per accepted request.  It must not
 * block for long (it delays every other request's timers) and must not
 * call dynauth_free(); it may call dynauth_submit().  `out` is valid only
 * during the call.
 */
typedef void (*dynauth_outcome_fn)(void *ctx, const struct dynauth_outcome *out);

/* Zero in a field means its default. */
struct dynauth_options {
    uint32_t timeout_ms;        /* first retransmission timeout; default 1000 */
    int retries;                /* retransmissions; 0 → 3, DYNAUTH_NO_RETRIES → none */
    uint32_t max_pending;       /* pool size; default DYNAUTH_MAX_PENDING */
    struct sockaddr_in local;   /* source address; sin_family 0 → INADDR_ANY:0 */
    dynauth_outcome_fn on_outcome;  /* may be NULL (counters only) */
    void *ctx;
};

struct dynauth_stats {
    uint64_t submitted;         /* accepted by dynauth_submit() */
    uint64_t sent;              /* first transmissions */
    uint64_t retransmitted;     /* further transmissions */
    uint64_t acks;
    uint64_t naks;
    uint64_t timeouts;
    uint64_t send_errors;
    uint64_t cancelled;
    uint64_t bad_replies;       /* undecodable, wrong code, or failed verification */
    uint64_t unmatched;         /* no request in flight with that Identifier from that source */
    uint64_t queue_full;        /* dynauth_submit() refused with -ENOBUFS */
    uint64_t pending;           /* gauge: queued + in flight now */
};

struct dynauth;

/*
 * Open the socket, allocate the pool and start the thread.  Returns NULL
 * with errno set: EINVAL (an option out of range), ENOMEM, or the socket's
 * error.  The caller frees with dynauth_free().
 */
struct dynauth *dynauth_new(const struct dynauth_options *o)
    __attribute__((warn_unused_result));

/*
 * Stop the thread and free everything.  Requests still queued or in flight
 * are reported with DYNAUTH_CANCELLED before it returns, so every accepted
 * request gets exactly one outcome.  Accepts NULL.  Not from the callback.
 */
void dynauth_free(struct dynauth *d);

/*
 * Queue a request; from any thread.  Returns 0, -ENOBUFS when the pool is
 * full (counted), -ESHUTDOWN once dynauth_free() has begun (a callback
 * reporting CANCELLED cannot resubmit), or -EINVAL for a malformed
 * request: unknown kind, no NAS
 * address or port, empty secret, an over-long or non-terminated string, an
 * IMSI that is not 6–15 digits, a Filter-Id on a Disconnect-Request
 * (RFC 5176 §3.5 table), or no identification attribute both wanted by
 * the NAS and available.  Never blocks on I/O, never allocates.
 */
int dynauth_submit(struct dynauth *d, const struct dynauth_request *rq)
    __attribute__((warn_unused_result));

void dynauth_get_stats(struct dynauth *d, struct dynauth_stats *ret);

/* The local address the socket is bound to (its ephemeral port). */
int dynauth_local_addr(struct dynauth *d, struct sockaddr_in *ret);

/* "Session Context Not Found" for 503, …; "Unknown" for values not in RFC 5176 §3.6. */
const char *dynauth_error_cause_name(uint32_t cause);
/* "ack", "nak", "timeout", "send-error", "cancelled". */
const char *dynauth_result_name(enum dynauth_result r);

#endif
