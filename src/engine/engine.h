/*
 * engine.h — the engine's shared runtime state and the access decision.
 *
 * The engine holds what every worker reads: the SIM index, the groups with
 * their compiled policies (swapped atomically, retired through QSBR), the
 * journal to the store, and counters.  A listener (radius/server.c) only
 * decodes and authenticates a packet, turns it into a struct access_request
 * and asks access_evaluate() for a decision; detectors and response rules
 * live here, not in the listener (DESIGN.md §4).
 */
#ifndef M2MG_ENGINE_H
#define M2MG_ENGINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/accounting.h"
#include "engine/journal.h"
#include "engine/model.h"
#include "engine/policy.h"
#include "engine/simtab.h"
#include "radius/gpp.h"
#include "radius/radius.h"

struct dynauth;
struct radius_server;

#define ENGINE_MAX_GROUPS 65536     /* group ids are store row ids below this */
#define ACCESS_MAX_FINDINGS 8

struct group_rt {
    int64_t id;
    int64_t tenant_id;
    char name[64];
    struct policy *policy;      /* owned; never the engine's default */
};

struct engine {
    struct simtab *sims;
    _Atomic(struct group_rt *) groups[ENGINE_MAX_GROUPS];
    struct policy *default_policy;
    struct journal *journal;
    struct accounting *acct;            /* NULL: accounting not running */
    struct dynauth *dynauth;            /* RFC 5176 client; NULL: none */
    struct radius_server *srv;          /* NAS clients (secrets, DA ports) */
    struct qsbr *qsbr;
    int64_t platform_tenant_id;
    _Atomic uint64_t findings[FK__COUNT];
    _Atomic uint64_t accepts, rejects;
};

/* Takes ownership of nothing; the daemon wires sims/journal/qsbr in. */
int engine_init(struct engine *e);
void engine_fini(struct engine *e);
/* Install a group (main thread); the previous one is retired through QSBR. */
int engine_group_set(struct engine *e, int64_t id, int64_t tenant_id, const char *name,
                     struct policy *policy);

/* The policy of a group (the default one when the group has none).  Call
 * only inside a QSBR online section: the result may be retired after it. */
const struct policy *engine_policy_of(struct engine *e, uint32_t group_id);

/* The NAS client a request came through, as the engine needs it. */
struct access_nas {
    const char *name;
    int64_t tenant_id;
    uint32_t src_ip;            /* host order */
};

/* An Access-Request reduced to what decisions need (no pointers into sockets). */
struct access_request {
    const char *user_name;      /* may be NULL; not NUL-terminated */
    size_t user_name_len;
    struct gpp_info gpp;
    int gpp_error;              /* a 3GPP attribute was malformed: counted, not fatal */
    int has_pap;
    char password[RADIUS_PASSWORD_MAX + 1];
    int has_chap;
    uint8_t chap[17];
    const uint8_t *chap_challenge;
    size_t chap_challenge_len;
    int64_t now_ms;
    int64_t t0_ns;              /* arrival (CLOCK_MONOTONIC): trigger-to-action latency */
};

struct access_decision {
    int accept;
    int reason;                 /* finding kind that caused the reject, or -1 */
    uint32_t framed_ip;         /* host order, 0 = none */
    uint32_t interim_interval;
    uint32_t session_timeout;
    char class_[POLICY_CLASS_MAX];
    int nfindings;
    uint8_t findings[ACCESS_MAX_FINDINGS];
};

/* Decide; records findings through the journal.  Never blocks on I/O. */
void access_evaluate(struct engine *e, const struct access_nas *nas,
                     const struct access_request *rq, struct access_decision *ret);

/* A finding as detectors report it, to engine_raise(). */
struct engine_finding {
    int kind;                   /* enum finding_kind */
    int severity;               /* usually finding_kind_severity(kind) */
    const struct policy *pol;   /* the SIM's group policy; NULL: no group */
    const struct sim_view *sim; /* NULL: no SIM (unknown IMSI) */
    int64_t tenant_id;
    const char *subject;        /* ICCID, IMSI or client name */
    const char *evidence;       /* a JSON object */
    int64_t now_ms;
    int64_t t0_ns;              /* trigger arrival (CLOCK_MONOTONIC), 0 = now */
};
/*
 * Record a finding (store, event log, alert by the policy's threshold) and
 * carry out its response rules beyond the current request: suspend (SIM
 * state, stored) and disconnect (every live session).  Returns the actions
 * the policy maps the kind to, so a caller can also reject.  Any thread;
 * never blocks.
 */
unsigned engine_raise(struct engine *e, const struct engine_finding *f);

/* A finding without a SIM (NAS problems), rate-limited by the caller. */
void engine_nas_finding(struct engine *e, int kind, const struct access_nas *nas,
                        const char *reason, uint64_t count, int64_t now_ms);

#endif
