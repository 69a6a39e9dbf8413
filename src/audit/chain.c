/*
 * chain.c — the audit trail's hash chain: canonical encoding of a record,
 * appending it in the transaction of the change, and verification.
 *
 * The canonical encoding is JSON (readable by people and SIEMs) made
 * deterministic: jansson dumps it with sorted keys, no white space and
 * ASCII-only escapes, and every record of a kind has the same key set
 * (null for what is absent).  A change's detail is parsed so that its
 * "before" / "after" become members of the record, not an opaque string;
 * detail that is not a JSON object is kept as a string.
 *
 * Verification hashes each stored body again; it never re-encodes, so a
 * record stays verifiable whatever later versions of the encoder do.
 * Appending costs one indexed read of the head, one SHA-256 and one insert
 * per record: small beside the change it records, and the chain is only
 * written on administrative changes and enforcement actions, never per
 * RADIUS packet.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "audit/audit.h"
#include "store/store.h"

static const char genesis[AUDIT_HEX_LEN] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *audit_fault_name(enum audit_fault f)
{
    switch (f) {
    case AUDIT_INTACT: return "intact";
    case AUDIT_CHANGED: return "changed";
    case AUDIT_DELETED: return "deleted";
    case AUDIT_INSERTED: return "inserted";
    case AUDIT_REORDERED: return "reordered";
    }
    return "unknown";
}

/* ---- encoding ---- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* json_string() refuses invalid UTF-8; such a string is kept with its
 * bytes escaped one by one so that nothing is silently dropped. */
static json_t *str_value(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (v)
        return v;
    size_t n = strlen(s);
    char *esc = malloc(n * 4 + 1);
    if (!esc)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            esc[o++] = (char)ch;
        } else {
            snprintf(esc + o, 5, "\\x%02x", ch);
            o += 4;
        }
    }
    esc[o] = '\0';
    v = json_string(esc);
    free(esc);
    return v;
}

static int set(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static int dump(json_t *o, char **ret)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!s)
        return -ENOMEM;
    if (strlen(s) > AUDIT_BODY_MAX) {
        free(s);
        return -EMSGSIZE;
    }
    *ret = s;
    return 0;
}

static json_t *header(int64_t seq, int64_t ts_ms, int64_t tenant_id, const char *kind)
{
    json_t *o = json_object();
    if (o && set(o, "seq", json_integer(seq)) == 0 && set(o, "ts", json_integer(ts_ms)) == 0 &&
        set(o, "tenant_id", json_integer(tenant_id)) == 0 && set(o, "kind", json_string(kind)) == 0)
        return o;
    json_decref(o);
    return NULL;
}

/* detail → before, after and the rest (null when nothing is left). */
static int split_detail(json_t *o, const char *detail)
{
    if (!detail)
        return set(o, "before", json_null()) || set(o, "after", json_null()) ||
               set(o, "detail", json_null()) ? -ENOMEM : 0;
    json_t *d = json_loads(detail, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(d)) {
        json_decref(d);
        return set(o, "before", json_null()) || set(o, "after", json_null()) ||
               set(o, "detail", str_value(detail)) ? -ENOMEM : 0;
    }
    json_t *before = json_object_get(d, "before"), *after = json_object_get(d, "after");
    int r = set(o, "before", before ? json_incref(before) : json_null());
    if (r == 0)
        r = set(o, "after", after ? json_incref(after) : json_null());
    json_object_del(d, "before");
    json_object_del(d, "after");
    if (r == 0)
        r = set(o, "detail", json_object_size(d) ? json_incref(d) : json_null());
    json_decref(d);
    return r;
}

int audit_encode_admin(const struct audit_admin *a, int64_t seq, int64_t ts_ms, char **ret)
{
    if (!a->actor || !a->action || !a->target || seq <= 0)
        return -EINVAL;
    json_t *o = header(seq, ts_ms, a->tenant_id, "admin");
    if (!o)
        return -ENOMEM;
    /* The source is what the actor's prefix names: cli, api, rule. */
    const char *colon = strchr(a->actor, ':');
    char source[32] = "";
    if (colon && (size_t)(colon - a->actor) < sizeof source)
        snprintf(source, sizeof source, "%.*s", (int)(colon - a->actor), a->actor);
    int r = set(o, "actor", str_value(a->actor));
    if (r == 0)
        r = set(o, "role", str_or_null(a->role));
    if (r == 0)
        r = set(o, "source", source[0] ? json_string(source) : json_null());
    if (r == 0)
        r = set(o, "action", str_value(a->action));
    if (r == 0)
        r = set(o, "target", str_value(a->target));
    if (r == 0)
        r = split_detail(o, a->detail);
    if (r < 0) {
        json_decref(o);
        return r;
    }
    return dump(o, ret);
}

int audit_encode_action(const struct audit_action *a, int64_t seq, int64_t ts_ms, char **ret)
{
    if (!a->action || !a->target || !a->outcome || seq <= 0)
        return -EINVAL;
    json_t *o = header(seq, ts_ms, a->tenant_id, "action");
    if (!o)
        return -ENOMEM;
    int r = set(o, "action", str_value(a->action));
    if (r == 0)
        r = set(o, "target", str_value(a->target));
    if (r == 0)
        r = set(o, "outcome", str_value(a->outcome));
    if (r == 0)
        r = set(o, "finding_id", a->finding_id ? json_integer(a->finding_id) : json_null());
    if (r == 0) {
        json_t *d = a->detail ? json_loads(a->detail, JSON_REJECT_DUPLICATES, NULL) : NULL;
        if (a->detail && !json_is_object(d)) {
            json_decref(d);
            d = str_value(a->detail);
        }
        r = set(o, "detail", d ? d : json_null());
    }
    if (r < 0) {
        json_decref(o);
        return r;
    }
    return dump(o, ret);
}

/* ---- hashing ---- */

static int unhex(const char *hex, unsigned char out[AUDIT_HASH_LEN])
{
    for (size_t i = 0; i < AUDIT_HASH_LEN; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= c - '0';
            else if (c >= 'a' && c <= 'f')
                v |= c - 'a' + 10;
            else
                return -EINVAL;     /* also the NUL of a short string */
        }
        out[i] = (unsigned char)v;
    }
    return hex[(size_t)2 * AUDIT_HASH_LEN] == '\0' ? 0 : -EINVAL;
}

int audit_hash(const char *prev_hex, const char *body, size_t len, char out[AUDIT_HEX_LEN])
{
    unsigned char prev[AUDIT_HASH_LEN], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (unhex(prev_hex, prev) < 0)
        return -EINVAL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    int ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, prev, sizeof prev) == 1 &&
             EVP_DigestUpdate(ctx, body, len) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || mdlen != AUDIT_HASH_LEN)
        return -EIO;
    for (size_t i = 0; i < AUDIT_HASH_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* ---- appending ---- */

int audit_head(struct store *s, int64_t *seq, char hex[AUDIT_HEX_LEN])
{
    int r = store_audit_last(s, seq, hex);
    if (r == -ENOENT) {
        *seq = 0;
        memcpy(hex, genesis, AUDIT_HEX_LEN);
        return 0;
    }
    return r;
}

static int append(struct store *s, int64_t ts_ms, int64_t tenant_id, const char *kind,
                  const struct audit_admin *adm, const struct audit_action *act)
{
    /* Outside a transaction the head read and the insert would race with
     * another writer; take the write lock for the two. */
    int own = !store_in_transaction(s);
    int r;
    if (own && (r = store_begin(s)) < 0)
        return r;
    struct store_audit_row row = { .ts_ms = ts_ms, .tenant_id = tenant_id };
    char *body = NULL;
    snprintf(row.kind, sizeof row.kind, "%s", kind);
    if ((r = audit_head(s, &row.seq, row.prev_hash)) < 0)
        goto done;
    row.seq++;
    r = adm ? audit_encode_admin(adm, row.seq, ts_ms, &body)
            : audit_encode_action(act, row.seq, ts_ms, &body);
    if (r < 0)
        goto done;
    row.body = body;
    if ((r = audit_hash(row.prev_hash, body, strlen(body), row.hash)) < 0)
        goto done;
    r = store_audit_insert(s, &row);
done:
    free(body);
    if (own) {
        if (r == 0)
            r = store_commit(s);
        if (r < 0)
            store_rollback(s);
    }
    return r;
}

int audit_append_admin(struct store *s, const struct audit_admin *a)
{
    return append(s, now_ms(), a->tenant_id, "admin", a, NULL);
}

int audit_append_action(struct store *s, int64_t ts_ms, const struct audit_action *a)
{
    return append(s, ts_ms, a->tenant_id, "action", NULL, a);
}

/* ---- verification ---- */

void audit_walk_init(struct audit_walk *w, struct store *st)
{
    memset(w, 0, sizeof *w);
    w->st = st;
    w->v.fault_tenant_id = -1;
    memcpy(w->prev_hash, genesis, AUDIT_HEX_LEN);
}

__attribute__((format(printf, 4, 5)))
static int verdict(struct audit_walk *w, enum audit_fault f, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    w->v.fault = f;
    w->v.seq = seq;
    va_start(ap, fmt);
    vsnprintf(w->v.why, sizeof w->v.why, fmt, ap);
    va_end(ap);
    return 1;
}

/* The header members of a body, as the hash covers them. */
struct header {
    int64_t seq, ts, tenant_id;
    char kind[16];
};

static int parse_header(const char *body, struct header *h)
{
    json_t *o = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    json_t *seq = json_object_get(o, "seq"), *ts = json_object_get(o, "ts");
    json_t *tid = json_object_get(o, "tenant_id"), *kind = json_object_get(o, "kind");
    int ok = json_is_integer(seq) && json_is_integer(ts) && json_is_integer(tid) &&
             json_is_string(kind);
    if (ok) {
        h->seq = json_integer_value(seq);
        h->ts = json_integer_value(ts);
        h->tenant_id = json_integer_value(tid);
        snprintf(h->kind, sizeof h->kind, "%s", json_string_value(kind));
    }
    json_decref(o);
    return ok ? 0 : -EBADMSG;
}

/* Where a broken link points: the seq of another record with that hash. */
static int64_t seq_of_hash(struct audit_walk *w, const char *hash, int64_t exclude)
{
    int64_t seq = 0;
    if (w->st && store_audit_find_hash(w->st, hash, exclude, &seq) == 0)
        return seq;
    return 0;
}

static int walk_row(struct audit_walk *w, const struct store_audit_row *r);

int audit_walk_row(struct audit_walk *w, const struct store_audit_row *r)
{
    if (walk_row(w, r)) {
        /* Whose record is named, when it is this stored row. */
        w->v.fault_tenant_id = w->v.seq == r->seq ? r->tenant_id : -1;
        return 1;
    }
    if (w->count_tenant && r->tenant_id == w->count_tenant)
        w->v.tenant_records++;
    return 0;
}

static int walk_row(struct audit_walk *w, const struct store_audit_row *r)
{
    int64_t expect = w->prev_seq + 1;
    char h[AUDIT_HEX_LEN];
    struct header hd;

    /* 1. The record itself: its hash over its stored prev_hash and body. */
    if (audit_hash(r->prev_hash, r->body, strlen(r->body), h) < 0 || strcmp(h, r->hash) != 0)
        return verdict(w, AUDIT_CHANGED, r->seq,
                       "record %lld was changed: its hash does not match its contents",
                       (long long)r->seq);
    if (parse_header(r->body, &hd) < 0)
        return verdict(w, AUDIT_CHANGED, r->seq,
                       "record %lld was changed: its contents are not an audit record",
                       (long long)r->seq);
    /* 2. The columns beside the body must say what the hashed body says. */
    if (hd.ts != r->ts_ms || hd.tenant_id != r->tenant_id || strcmp(hd.kind, r->kind) != 0)
        return verdict(w, AUDIT_CHANGED, r->seq,
                       "record %lld was changed: its %s column differs from the hashed record",
                       (long long)r->seq,
                       hd.ts != r->ts_ms ? "ts" : hd.tenant_id != r->tenant_id ? "tenant_id"
                                                                              : "kind");
    /* 3. The link to its predecessor. */
    if (strcmp(r->prev_hash, w->prev_hash) != 0) {
        int64_t to = seq_of_hash(w, r->prev_hash, r->seq);
        if (to > r->seq)
            return verdict(w, AUDIT_REORDERED, r->seq,
                           "record %lld is out of order: it follows record %lld, which is "
                           "stored after it", (long long)r->seq, (long long)to);
        if (to > 0 && to < w->prev_seq) {
            /* It links to an earlier record: what lies between was put
             * there.  A verbatim copy of a record is itself the intruder. */
            int64_t orig = seq_of_hash(w, r->hash, r->seq);
            if (orig > 0)
                return verdict(w, AUDIT_INSERTED, r->seq,
                               "record %lld was inserted: it is a copy of record %lld",
                               (long long)r->seq, (long long)orig);
            return verdict(w, AUDIT_INSERTED, to + 1,
                           "record %lld was inserted: record %lld (originally %lld) follows "
                           "record %lld in the chain", (long long)to + 1, (long long)r->seq,
                           (long long)hd.seq, (long long)to);
        }
        if (r->seq > expect || hd.seq > expect)
            return verdict(w, AUDIT_DELETED, expect,
                           "record %lld was deleted: record %lld does not follow record %lld",
                           (long long)expect, (long long)r->seq, (long long)w->prev_seq);
        return verdict(w, AUDIT_CHANGED, r->seq,
                       "record %lld was changed (or replaced): its prev_hash does not match "
                       "record %lld", (long long)r->seq, (long long)w->prev_seq);
    }
    /* 4. Linked right, so the seq column alone was edited. */
    if (r->seq != expect || hd.seq != r->seq)
        return verdict(w, AUDIT_CHANGED, r->seq,
                       "record %lld was changed: its seq column says %lld, the hashed "
                       "record %lld", (long long)r->seq, (long long)r->seq, (long long)hd.seq);
    /* 5. A head published earlier must be this very record. */
    if (w->anchor_seq == r->seq && strcmp(w->anchor_hash, r->hash) != 0)
        return verdict(w, AUDIT_CHANGED, r->seq,
                       "record %lld is not the one published as head %lld %.16s...: the chain "
                       "was rewritten from record %lld or earlier", (long long)r->seq,
                       (long long)w->anchor_seq, w->anchor_hash, (long long)r->seq);
    w->prev_seq = r->seq;
    memcpy(w->prev_hash, r->hash, AUDIT_HEX_LEN);
    w->v.records++;
    return 0;
}

void audit_walk_end(struct audit_walk *w, int64_t expected_seq)
{
    if (w->v.fault != AUDIT_INTACT)
        return;
    if (w->anchor_seq > w->prev_seq)
        verdict(w, AUDIT_DELETED, w->prev_seq + 1,
                "record %lld was deleted: the chain ends at %lld but head %lld was published",
                (long long)w->prev_seq + 1, (long long)w->prev_seq, (long long)w->anchor_seq);
    else if (expected_seq > w->prev_seq)
        verdict(w, AUDIT_DELETED, w->prev_seq + 1,
                "record %lld was deleted: the chain ends at %lld but %lld records were "
                "appended", (long long)w->prev_seq + 1, (long long)w->prev_seq,
                (long long)expected_seq);
    else if (expected_seq < w->prev_seq)
        verdict(w, AUDIT_INSERTED, expected_seq + 1,
                "record %lld was inserted: m2mguard appended %lld records, the chain "
                "has %lld", (long long)expected_seq + 1, (long long)expected_seq,
                (long long)w->prev_seq);
    else {
        w->v.head_seq = w->prev_seq;
        memcpy(w->v.head_hash, w->prev_hash, AUDIT_HEX_LEN);
        snprintf(w->v.why, sizeof w->v.why, "%lld records, head %lld %s",
                 (long long)w->v.records, (long long)w->prev_seq, w->prev_hash);
    }
}

struct verify_ctx {
    struct audit_walk w;
    const _Atomic int *cancel;
};

static int walk_cb(void *ctx, const struct store_audit_row *r)
{
    struct verify_ctx *vc = ctx;
    /* One atomic load per record: a walk of millions stops at once. */
    if (vc->cancel && atomic_load_explicit(vc->cancel, memory_order_relaxed))
        return -ECANCELED;
    return audit_walk_row(&vc->w, r);
}

int audit_verify(struct store *s, struct audit_verdict *ret)
{
    return audit_verify_anchor(s, 0, NULL, ret);
}

int audit_verify_anchor(struct store *s, int64_t anchor_seq, const char *anchor_hex,
                        struct audit_verdict *ret)
{
    struct audit_verify_opts o = { .anchor_seq = anchor_seq, .anchor_hex = anchor_hex };
    return audit_verify_ex(s, &o, ret);
}

int audit_verify_ex(struct store *s, const struct audit_verify_opts *o, struct audit_verdict *ret)
{
    struct verify_ctx vc = { .cancel = o->cancel };
    struct audit_walk *w = &vc.w;
    unsigned char raw[AUDIT_HASH_LEN];
    int64_t expected = 0;
    int r;
    audit_walk_init(w, s);
    w->count_tenant = o->tenant_id;
    if (o->anchor_seq > 0) {
        if (!o->anchor_hex || unhex(o->anchor_hex, raw) < 0)
            return -EINVAL;
        w->anchor_seq = o->anchor_seq;
        memcpy(w->anchor_hash, o->anchor_hex, AUDIT_HEX_LEN);
    }
    if ((r = store_begin_read(s)) < 0)
        return r;
    r = store_audit_walk(s, 0, 0, walk_cb, &vc);
    if (r >= 0)
        r = store_audit_expected(s, &expected);
    store_rollback(s);
    if (r < 0)
        return r;
    audit_walk_end(w, expected);
    *ret = w->v;
    return 0;
}

int audit_parse_head(const char *arg, int64_t *ret_seq, char ret_hex[AUDIT_HEX_LEN])
{
    const char *colon = strchr(arg, ':');
    long long v = 0;
    if (!colon || colon == arg || colon - arg > 18 || arg[0] == '0')
        return -EINVAL;
    for (const char *p = arg; p < colon; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (*p - '0');    /* at most 18 digits: no overflow */
    }
    if (strlen(colon + 1) != AUDIT_HEX_LEN - 1 ||
        strspn(colon + 1, "0123456789abcdef") != AUDIT_HEX_LEN - 1)
        return -EINVAL;
    *ret_seq = v;
    memcpy(ret_hex, colon + 1, AUDIT_HEX_LEN);
    return 0;
}
