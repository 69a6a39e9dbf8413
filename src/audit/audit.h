/*
 * audit.h — the tamper-evident audit trail (DESIGN.md §1, §4): one
 * hash-chained log of every administrative change and every enforcement
 * action, whatever made it (CLI, API, a response rule, the journal).
 *
 * A record is (seq, ts, tenant_id, kind, body, prev_hash, hash) where body
 * is the canonical encoding of all its fields (seq, ts, tenant_id and kind
 * included) and hash = SHA-256(prev_hash || body), prev_hash being the 32
 * bytes of the previous record's hash (32 zero bytes before record 1).
 * Changing, deleting, inserting or reordering a record breaks the chain
 * from that record on; rewriting the whole chain from a point on is only
 * detected against a head published elsewhere (audit_head() to syslog).
 *
 * Records are appended by the store itself (store_admin_log(),
 * store_action_insert()) inside the transaction of the change, so a
 * committed change always has its record.  Functions return 0 or a
 * negative errno-style code; nothing here logs.
 */
#ifndef M2MG_AUDIT_H
#define M2MG_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define AUDIT_HASH_LEN 32
#define AUDIT_HEX_LEN 65            /* 64 hex digits + NUL */
#define AUDIT_BODY_MAX 65536        /* a canonical record longer than this is refused */

/* An administrative change: who (actor "cli:root", "api:name", "rule:…";
 * its source is the part before ':'), role when known (NULL otherwise),
 * what (action, target) and detail: a JSON object whose "before" and
 * "after" members become the record's before / after, or NULL. */
struct audit_admin {
    int64_t tenant_id;
    const char *actor;
    const char *role;
    const char *action;
    const char *target;
    const char *detail;
};

/* An enforcement action as the journal stores it in `actions`. */
struct audit_action {
    int64_t tenant_id;
    int64_t finding_id;             /* 0: none */
    const char *action;             /* reject, disconnect, suspend, ... */
    const char *target;
    const char *outcome;
    const char *detail;             /* JSON object or NULL */
};

/*
 * The canonical encodings: one JSON object, keys sorted, no white space,
 * every non-ASCII character escaped, absent values as null, so that the
 * same fields always give the same bytes.  *ret is malloc'd (caller frees).
 * -EINVAL for a missing required field, -EMSGSIZE beyond AUDIT_BODY_MAX.
 */
int audit_encode_admin(const struct audit_admin *a, int64_t seq, int64_t ts_ms, char **ret)
    __attribute__((warn_unused_result));
int audit_encode_action(const struct audit_action *a, int64_t seq, int64_t ts_ms, char **ret)
    __attribute__((warn_unused_result));

/* out = hex(SHA-256(prev || body)); prev_hex is 64 hex digits.  -EINVAL
 * when prev_hex is not. */
int audit_hash(const char *prev_hex, const char *body, size_t len, char out[AUDIT_HEX_LEN])
    __attribute__((warn_unused_result));

/* Append inside the caller's write transaction (or in one of its own when
 * there is none): reads the chain head, encodes, hashes, inserts. */
int audit_append_admin(struct store *s, const struct audit_admin *a);
int audit_append_action(struct store *s, int64_t ts_ms, const struct audit_action *a);

/* The chain head: the last record's seq and hash (0 and 64 zeros when the
 * chain is empty).  For the daemon to publish periodically. */
int audit_head(struct store *s, int64_t *seq, char hex[AUDIT_HEX_LEN]);

enum audit_fault {
    AUDIT_INTACT = 0,
    AUDIT_CHANGED,              /* a record's contents or columns differ from its hash */
    AUDIT_DELETED,              /* a gap in seq, or records missing at the end */
    AUDIT_INSERTED,             /* a record that was not appended by m2mguard */
    AUDIT_REORDERED,            /* a record out of its place in the chain */
};
const char *audit_fault_name(enum audit_fault f);

struct audit_verdict {
    enum audit_fault fault;
    int64_t seq;                /* the record named (first that does not verify) */
    int64_t records;            /* records that verified before it */
    int64_t head_seq;           /* when intact: the head */
    char head_hash[AUDIT_HEX_LEN];
    char why[256];              /* one sentence */
    int64_t fault_tenant_id;    /* the tenant of the record named, when it is a
                                   stored row (changed, reordered, ...); else -1 */
    int64_t tenant_records;     /* of `records`, those of the tenant counted
                                   (audit_verify_opts.tenant_id) */
};

/* The state of a walk, fed one row at a time in seq order (exposed for
 * the unit tests; audit_verify() drives it over the store). */
struct audit_walk {
    struct store *st;           /* for looking up the hash a broken link names; may be NULL */
    int64_t anchor_seq;         /* a head published earlier (0: none) ... */
    char anchor_hash[AUDIT_HEX_LEN];    /* ... that must still be in the chain */
    int64_t prev_seq;
    char prev_hash[AUDIT_HEX_LEN];
    int64_t count_tenant;       /* > 0: count its records in v.tenant_records */
    struct audit_verdict v;
};
struct store_audit_row;
void audit_walk_init(struct audit_walk *w, struct store *st);
/* 0: verified, go on; 1: the verdict is set. */
int audit_walk_row(struct audit_walk *w, const struct store_audit_row *r);
/* After the last row: expected_seq is the head the store says it wrote. */
void audit_walk_end(struct audit_walk *w, int64_t expected_seq);

/* Walk the whole chain in one read snapshot.  0 with ret filled (intact
 * or not), or a store error. */
int audit_verify(struct store *s, struct audit_verdict *ret)
    __attribute__((warn_unused_result));
/* The same, and the head published earlier (seq, 64 hex digits; from the
 * daemon's log) must still be in the chain, with that hash: this is what
 * catches a chain rewritten and re-hashed from some record on.  -EINVAL
 * for a malformed anchor. */
int audit_verify_anchor(struct store *s, int64_t anchor_seq, const char *anchor_hex,
                        struct audit_verdict *ret) __attribute__((warn_unused_result));
/* Both, and what the HTTP API needs: one tenant's records counted, and a
 * flag that stops a long walk (-ECANCELED) when another thread sets it. */
struct audit_verify_opts {
    int64_t anchor_seq;         /* 0: no anchor */
    const char *anchor_hex;
    int64_t tenant_id;          /* > 0: count its records (v.tenant_records) */
    const _Atomic int *cancel;  /* NULL, or non-zero to stop */
};
int audit_verify_ex(struct store *s, const struct audit_verify_opts *o,
                    struct audit_verdict *ret) __attribute__((warn_unused_result));
/* "SEQ:HASH" as the daemon logs a head: a record number (no leading zero,
 * at most 18 digits) and 64 lowercase hex digits.  0, or -EINVAL. */
int audit_parse_head(const char *arg, int64_t *ret_seq, char ret_hex[AUDIT_HEX_LEN]);

#endif
