/*
 * webhook.h — findings and actions to each tenant's webhooks, signed,
 * durable, retried (libcurl).
 *
 * The journal stores an event and its outbox rows in one transaction
 * (store_webhook_enqueue), then kicks the sender.  The sender thread
 * claims due rows with a lease, POSTs each body to its webhook's URL —
 * up to WEBHOOK_IN_FLIGHT at once, so one slow receiver does not hold up
 * the others — and records the outcome: a 2xx delivers it; anything else
 * (an error status, a refused connection, a timeout) is tried again after
 * an exponential backoff, until `attempts` tries have failed and the row
 * is given up ('failed').  Delivery is at least once: a crash after the
 * POST and before its outcome is stored repeats it when the lease ends,
 * with the same Idempotency-Key.
 *
 * Every request carries
 *   M2MG-Timestamp: <unix seconds of this attempt>
 *   M2MG-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 *   Idempotency-Key / M2MG-Delivery, M2MG-Event, M2MG-Webhook, M2MG-Attempt
 * so the receiver can check who sent it and refuse stale or repeated ones
 * (docs/operator-guide.md shows the check).
 */
#ifndef M2MG_OUT_WEBHOOK_H
#define M2MG_OUT_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_IN_FLIGHT 32            /* requests at once */
#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_SIGNATURE_MAX 72        /* "v1=" + 64 hex + NUL */

struct webhook_conf {
    uint32_t timeout_ms;        /* one attempt, connection included */
    uint32_t attempts;          /* tries before a delivery is given up */
    uint32_t backoff_min_ms;    /* wait after the first failure, doubling… */
    uint32_t backoff_max_ms;    /* …up to this */
    uint32_t outbox_max;        /* undelivered rows per webhook; more are dropped, counted */
    uint32_t keep_days;         /* delivered and failed rows kept this long */
};

struct webhook_stats {
    uint64_t attempts;          /* requests made */
    uint64_t delivered;
    uint64_t retried;           /* failed attempts that will be tried again */
    uint64_t failed;            /* deliveries given up */
    uint64_t in_flight;
    uint64_t store_errors;
};

struct store;
struct webhook_sender;

/* The sender owns `st` (its own connection). */
int webhook_sender_new(struct store *st, const struct webhook_conf *c,
                       struct webhook_sender **ret) __attribute__((warn_unused_result));
int webhook_sender_start(struct webhook_sender *ws);
/* New rows were committed: look now (any thread). */
void webhook_sender_kick(struct webhook_sender *ws);
void webhook_sender_get_stats(struct webhook_sender *ws, struct webhook_stats *ret);
/* Stops; requests in flight are abandoned and repeated after a restart. */
void webhook_sender_free(struct webhook_sender *ws);

/* "v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>" into out; 0 or -1. */
int webhook_sign(const char *secret, int64_t ts, const char *body, size_t len,
                 char out[WEBHOOK_SIGNATURE_MAX]);

#endif
