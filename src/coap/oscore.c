/*
 * oscore.c — OSCORE (RFC 8613): security contexts, the OSCORE option,
 * protecting and verifying messages, replay protection.
 *
 * Where it sits: the device plane's CoAP listener (libcoap) finds option 9
 * on an incoming request, looks the device's context up by the option's
 * kid (and kid context), and calls oscore_unprotect_request(); the inner
 * request goes to the engine as a device message, and the answer comes
 * back through oscore_protect_response().  A refusal is a named reason the
 * listener counts per device (the context keeps the counts too).
 *
 * Built on OpenSSL libcrypto only: HKDF-SHA-256 through EVP_KDF at context
 * set-up, AES-CCM through EVP per message.  The few CBOR structures OSCORE
 * needs (the HKDF info, the external AAD and the Enc_structure) are fixed
 * arrays of byte strings and small integers, at most a few dozen octets:
 * they are written here by hand with bounds checks, which is shorter and
 * easier to audit than driving libcbor's item tree for them, and keeps the
 * per-message path free of allocation.  Nothing is ever parsed as CBOR.
 *
 * Must never: log anything (library code), allocate per message, keep a
 * secret in memory it does not wipe, or use an AEAD nonce twice with one
 * key — the last is why a response that reuses the request's nonce may be
 * protected only once per exchange, and why sequence numbers are
 * checkpointed before they are used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "coap/oscore.h"

static const char *const error_names[OSCORE_E__COUNT] = {
    [0] = "ok",
    [-OSCORE_E_OPT_TOO_LONG] = "oscore_option_too_long",
    [-OSCORE_E_OPT_RESERVED] = "oscore_option_reserved_bits",
    [-OSCORE_E_OPT_PIV_LEN] = "oscore_option_reserved_piv_length",
    [-OSCORE_E_OPT_FLAGS_ZERO] = "oscore_option_zero_flags_not_empty",
    [-OSCORE_E_OPT_TRUNCATED] = "oscore_option_truncated",
    [-OSCORE_E_OPT_TRAILING] = "oscore_option_trailing_octets",
    [-OSCORE_E_OPT_PIV] = "oscore_option_piv_leading_zero",
    [-OSCORE_E_NO_PIV] = "oscore_request_without_piv",
    [-OSCORE_E_NO_KID] = "oscore_request_without_kid",
    [-OSCORE_E_UNKNOWN_KID] = "oscore_unknown_kid",
    [-OSCORE_E_KID_CONTEXT] = "oscore_kid_context_mismatch",
    [-OSCORE_E_NO_PAYLOAD] = "oscore_no_payload",
    [-OSCORE_E_REPLAY] = "oscore_replay",
    [-OSCORE_E_TOO_OLD] = "oscore_too_old",
    [-OSCORE_E_DECRYPT] = "oscore_decrypt_failed",
    [-OSCORE_E_PLAINTEXT] = "oscore_bad_inner_message",
    [-OSCORE_E_ECHO_REQUIRED] = "oscore_echo_required",
    [-OSCORE_E_SEQ_EXHAUSTED] = "oscore_sequence_exhausted",
    [-OSCORE_E_PERSIST] = "oscore_checkpoint_failed",
    [-OSCORE_E_ANSWERED] = "oscore_already_answered",
    [-OSCORE_E_NO_SPACE] = "oscore_no_space",
    [-OSCORE_E_INVALID] = "oscore_invalid_argument",
    [-OSCORE_E_CRYPTO] = "oscore_crypto_error",
};

const char *oscore_error_name(int err)
{
    if (err > 0 || err <= -OSCORE_E__COUNT)   /* not -err: INT_MIN has no negation */
        return "unknown_error";
    return error_names[-err];
}

/* ------------------------------------------------------------------ */
/* CBOR, the little of it OSCORE needs (RFC 8949 §3)                   */
/* ------------------------------------------------------------------ */

enum { CBOR_UINT = 0, CBOR_BSTR = 2, CBOR_TSTR = 3, CBOR_ARRAY = 4 };
#define CBOR_NIL 0xf6

/* A bounded output buffer: writes past cap set `full` instead. */
struct cbuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    bool full;
};

static void cb_bytes(struct cbuf *b, const void *data, size_t n)
{
    if (b->full || b->cap - b->len < n) {
        b->full = true;
        return;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void cb_byte(struct cbuf *b, uint8_t v)
{
    cb_bytes(b, &v, 1);
}

/* A data item head; arguments here never exceed 16 bits. */
static void cb_head(struct cbuf *b, unsigned major, size_t arg)
{
    uint8_t h[3];
    size_t n;
    if (arg < 24) {
        h[0] = (uint8_t)(major << 5 | arg);
        n = 1;
    } else if (arg <= 0xff) {
        h[0] = (uint8_t)(major << 5 | 24);
        h[1] = (uint8_t)arg;
        n = 2;
    } else if (arg <= 0xffff) {
        h[0] = (uint8_t)(major << 5 | 25);
        h[1] = (uint8_t)(arg >> 8);
        h[2] = (uint8_t)arg;
        n = 3;
    } else {
        b->full = true;
        return;
    }
    cb_bytes(b, h, n);
}

static void cb_bstr(struct cbuf *b, const uint8_t *data, size_t n)
{
    cb_head(b, CBOR_BSTR, n);
    cb_bytes(b, data, n);
}

/* ------------------------------------------------------------------ */
/* The OSCORE option value (§6.1) and the Partial IV (§5)              */
/* ------------------------------------------------------------------ */

#define FLAG_RESERVED 0xe0
#define FLAG_KID_CONTEXT 0x10      /* h */
#define FLAG_KID 0x08              /* k */
#define FLAG_PIV_LEN 0x07          /* n */

int oscore_option_parse(const uint8_t *v, size_t len, struct oscore_option *ret)
{
    struct oscore_option o;
    size_t pos = 1;

    memset(&o, 0, sizeof o);
    if (len > OSCORE_OPTION_MAX)
        return OSCORE_E_OPT_TOO_LONG;
    if (len == 0) {
        /* §6.1: all flags zero, nothing present (a response without PIV). */
        *ret = o;
        return OSCORE_OK;
    }
    uint8_t flags = v[0];
    if (flags & FLAG_RESERVED)
        return OSCORE_E_OPT_RESERVED;      /* §6.1: "considered malformed" */
    size_t n = flags & FLAG_PIV_LEN;
    if (n > OSCORE_PIV_MAX)
        return OSCORE_E_OPT_PIV_LEN;       /* n = 6 and 7 are reserved */
    if (flags == 0)
        return OSCORE_E_OPT_FLAGS_ZERO;    /* §2: then the value SHALL be empty */
    if (n) {
        if (len - pos < n)
            return OSCORE_E_OPT_TRUNCATED;
        if (n > 1 && v[pos] == 0)
            return OSCORE_E_OPT_PIV;
        o.piv = v + pos;
        o.piv_len = n;
        pos += n;
    }
    if (flags & FLAG_KID_CONTEXT) {
        if (pos >= len)
            return OSCORE_E_OPT_TRUNCATED;
        size_t s = v[pos++];
        if (len - pos < s)
            return OSCORE_E_OPT_TRUNCATED;
        o.has_kid_context = true;
        o.kid_context = v + pos;
        o.kid_context_len = s;
        pos += s;
    }
    if (flags & FLAG_KID) {
        /* The kid is the last field and takes everything that is left. */
        o.has_kid = true;
        o.kid = v + pos;
        o.kid_len = len - pos;
    } else if (pos != len) {
        return OSCORE_E_OPT_TRAILING;
    }
    *ret = o;
    return OSCORE_OK;
}

int oscore_option_encode(const struct oscore_option *o, uint8_t *out, size_t cap)
{
    if (o->piv_len > OSCORE_PIV_MAX || (o->piv_len > 1 && o->piv[0] == 0))
        return OSCORE_E_INVALID;
    if (o->has_kid_context && o->kid_context_len > 0xff)
        return OSCORE_E_INVALID;
    uint8_t flags = (uint8_t)o->piv_len;
    if (o->has_kid)
        flags |= FLAG_KID;
    if (o->has_kid_context)
        flags |= FLAG_KID_CONTEXT;
    if (flags == 0)
        return 0;
    size_t total = 1 + o->piv_len + (o->has_kid_context ? 1 + o->kid_context_len : 0) +
                   (o->has_kid ? o->kid_len : 0);
    if (total > OSCORE_OPTION_MAX)
        return OSCORE_E_INVALID;
    struct cbuf b = { out, 0, cap, false };
    cb_byte(&b, flags);
    cb_bytes(&b, o->piv, o->piv_len);
    if (o->has_kid_context) {
        cb_byte(&b, (uint8_t)o->kid_context_len);
        cb_bytes(&b, o->kid_context, o->kid_context_len);
    }
    if (o->has_kid)
        cb_bytes(&b, o->kid, o->kid_len);
    return b.full ? OSCORE_E_NO_SPACE : (int)b.len;
}

uint64_t oscore_piv_value(const uint8_t *piv, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < OSCORE_PIV_MAX; i++)
        v = v << 8 | piv[i];
    return v;
}

size_t oscore_piv_encode(uint64_t seq, uint8_t out[OSCORE_PIV_MAX])
{
    /* §5: leading zero octets removed, but 0 is the one octet 0x00. */
    size_t n = 1;
    while (n < OSCORE_PIV_MAX && (seq >> (8 * n)) != 0)
        n++;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(seq >> (8 * (n - 1 - i)));
    return n;
}

/* ------------------------------------------------------------------ */
/* Key derivation (§3.2.1)                                              */
/* ------------------------------------------------------------------ */

int oscore_kdf_info(const uint8_t *id, size_t id_len, const uint8_t *id_context,
                    size_t id_context_len, bool has_id_context, bool iv, uint8_t *out,
                    size_t cap)
{
    struct cbuf b = { out, 0, cap, false };

    if (id_len > OSCORE_ID_MAX || (has_id_context && id_context_len > OSCORE_ID_CONTEXT_MAX))
        return OSCORE_E_INVALID;
    cb_head(&b, CBOR_ARRAY, 5);
    cb_bstr(&b, id, id_len);
    if (has_id_context)
        cb_bstr(&b, id_context, id_context_len);
    else
        cb_byte(&b, CBOR_NIL);
    cb_head(&b, CBOR_UINT, OSCORE_ALG_AES_CCM_16_64_128);
    if (iv) {
        cb_head(&b, CBOR_TSTR, 2);
        cb_bytes(&b, "IV", 2);
        cb_head(&b, CBOR_UINT, OSCORE_NONCE_LEN);
    } else {
        cb_head(&b, CBOR_TSTR, 3);
        cb_bytes(&b, "Key", 3);
        cb_head(&b, CBOR_UINT, OSCORE_KEY_LEN);
    }
    return b.full ? OSCORE_E_NO_SPACE : (int)b.len;
}

/* The info array of a derivation: 1 + (1+7) + (1+32) + 1 + 4 + 1 octets. */
#define KDF_INFO_MAX 64

/*
 * HKDF-SHA-256 (RFC 5869) with OpenSSL's EVP_KDF.  An empty salt is left
 * out: RFC 5869 then uses HashLen zero octets, which is what HMAC makes of
 * an empty key anyway (§3.2.1's last paragraph).
 */
static int hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                       size_t ikm_len, const uint8_t *info, size_t info_len, uint8_t *out,
                       size_t out_len)
{
    int rc = OSCORE_E_CRYPTO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[5];
    OSSL_PARAM *p = params;
    char digest[] = "SHA256";

    if (!kctx)
        goto out;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    /* OSSL_PARAM holds non-const pointers; HKDF only reads these. */
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    if (salt_len)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, out, out_len, params) == 1)
        rc = OSCORE_OK;
out:
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return rc;
}

static bool params_valid(const struct oscore_params *p)
{
    if (!p->master_secret || p->master_secret_len == 0 ||
        p->master_secret_len > OSCORE_MASTER_SECRET_MAX)
        return false;
    if (p->master_salt_len > OSCORE_MASTER_SALT_MAX || (p->master_salt_len && !p->master_salt))
        return false;
    if (p->sender_id_len > OSCORE_ID_MAX || (p->sender_id_len && !p->sender_id))
        return false;
    if (p->recipient_id_len > OSCORE_ID_MAX || (p->recipient_id_len && !p->recipient_id))
        return false;
    if (p->has_id_context &&
        (p->id_context_len > OSCORE_ID_CONTEXT_MAX || (p->id_context_len && !p->id_context)))
        return false;
    /*
     * §3.3: Sender Key and Recipient Key must differ, so must the IDs.  A
     * context with equal IDs would decrypt its own messages as the peer's.
     */
    if (p->sender_id_len == p->recipient_id_len &&
        (p->sender_id_len == 0 || memcmp(p->sender_id, p->recipient_id, p->sender_id_len) == 0))
        return false;
    if (p->checkpoint_interval > 0 && !p->persist)
        return false;
    return true;
}

/* One output parameter of §3.2.1: HKDF(salt, secret, info(id, type), L). */
static int derive_one(const struct oscore_params *p, const uint8_t *id, size_t id_len, bool iv,
                      uint8_t *out, size_t out_len)
{
    uint8_t info[KDF_INFO_MAX];
    int n = oscore_kdf_info(id, id_len, p->id_context, p->id_context_len, p->has_id_context, iv,
                            info, sizeof info);
    if (n < 0)
        return n;
    return hkdf_sha256(p->master_salt, p->master_salt_len, p->master_secret,
                       p->master_secret_len, info, (size_t)n, out, out_len);
}

int oscore_derive(const struct oscore_params *p, struct oscore_keys *ret)
{
    struct oscore_keys k;
    int rc;

    if (!params_valid(p))
        return OSCORE_E_INVALID;
    if ((rc = derive_one(p, p->sender_id, p->sender_id_len, false, k.sender_key,
                         OSCORE_KEY_LEN)) < 0 ||
        (rc = derive_one(p, p->recipient_id, p->recipient_id_len, false, k.recipient_key,
                         OSCORE_KEY_LEN)) < 0 ||
        (rc = derive_one(p, NULL, 0, true, k.common_iv, OSCORE_NONCE_LEN)) < 0) {
        oscore_keys_wipe(&k);
        return rc;
    }
    *ret = k;
    oscore_keys_wipe(&k);
    return OSCORE_OK;
}

void oscore_keys_wipe(struct oscore_keys *k)
{
    if (k)
        OPENSSL_cleanse(k, sizeof *k);
}

/* ------------------------------------------------------------------ */
/* Nonce (§5.2) and AAD (§5.4)                                         */
/* ------------------------------------------------------------------ */

void oscore_nonce(const uint8_t common_iv[OSCORE_NONCE_LEN], const uint8_t *id_piv,
                  size_t id_len, const uint8_t *piv, size_t piv_len,
                  uint8_t out[OSCORE_NONCE_LEN])
{
    /*
     * S (the ID's length), the ID left-padded to nonce length - 6 = 7
     * octets, the Partial IV left-padded to 5, all XORed with the Common
     * IV.  Lengths are checked by every caller; clamp anyway so a bad one
     * cannot write outside the nonce.
     */
    if (id_len > OSCORE_ID_MAX)
        id_len = OSCORE_ID_MAX;
    if (piv_len > OSCORE_PIV_MAX)
        piv_len = OSCORE_PIV_MAX;
    memset(out, 0, OSCORE_NONCE_LEN);
    out[0] = (uint8_t)id_len;
    if (id_len)
        memcpy(out + 1 + OSCORE_ID_MAX - id_len, id_piv, id_len);
    if (piv_len)
        memcpy(out + OSCORE_NONCE_LEN - piv_len, piv, piv_len);
    for (size_t i = 0; i < OSCORE_NONCE_LEN; i++)
        out[i] ^= common_iv[i];
}

int oscore_aad(const uint8_t *request_kid, size_t kid_len, const uint8_t *request_piv,
               size_t piv_len, uint8_t out[OSCORE_AAD_MAX])
{
    uint8_t arr[OSCORE_AAD_MAX];
    struct cbuf a = { arr, 0, sizeof arr, false };
    struct cbuf b = { out, 0, OSCORE_AAD_MAX, false };

    if (kid_len > OSCORE_ID_MAX || piv_len > OSCORE_PIV_MAX)
        return OSCORE_E_INVALID;
    /* aad_array = [oscore_version 1, [alg_aead], request_kid, request_piv, options] */
    cb_head(&a, CBOR_ARRAY, 5);
    cb_head(&a, CBOR_UINT, 1);
    cb_head(&a, CBOR_ARRAY, 1);
    cb_head(&a, CBOR_UINT, OSCORE_ALG_AES_CCM_16_64_128);
    cb_bstr(&a, request_kid, kid_len);
    cb_bstr(&a, request_piv, piv_len);
    cb_bstr(&a, NULL, 0);              /* no Class I options are defined (§4.1.2) */
    /* Enc_structure = ["Encrypt0", h'' (empty protected), external_aad] */
    cb_head(&b, CBOR_ARRAY, 3);
    cb_head(&b, CBOR_TSTR, 8);
    cb_bytes(&b, "Encrypt0", 8);
    cb_bstr(&b, NULL, 0);
    cb_bstr(&b, arr, a.len);
    if (a.full || b.full)
        return OSCORE_E_INVALID;
    return (int)b.len;
}

/* ------------------------------------------------------------------ */
/* Contexts                                                             */
/* ------------------------------------------------------------------ */

enum echo_state {
    ECHO_NONE,          /* the replay window is trustworthy */
    ECHO_NEEDED,        /* restored without it; no challenge sent yet */
    ECHO_PENDING,       /* a challenge is out; the next request must echo it */
};

struct oscore_ctx {
    struct oscore_keys keys;
    uint8_t sender_id[OSCORE_ID_MAX];
    uint8_t recipient_id[OSCORE_ID_MAX];
    uint8_t id_context[OSCORE_ID_CONTEXT_MAX];
    uint8_t sender_id_len;
    uint8_t recipient_id_len;
    uint8_t id_context_len;
    bool has_id_context;
    bool send_kid_context;
    bool used;                  /* a message went through: no more restore */

    uint64_t ssn;               /* the next Sender Sequence Number */
    uint64_t sender_limit;      /* stored: no SSN at or above was used */

    /* The replay window (§7.4, RFC 6347 §4.1.2.6 style). */
    uint64_t replay_hw;         /* highest Partial IV accepted, when replay_any */
    uint64_t replay_bits;       /* bit i set: replay_hw - i accepted */
    uint64_t replay_floor;      /* Partial IVs below are refused (restart, Echo) */
    uint64_t replay_limit;      /* stored: no Partial IV at or above was accepted,
                                   or OSCORE_REPLAY_UNKNOWN until Echo is answered */
    bool replay_any;

    uint8_t echo_state;         /* enum echo_state */
    uint8_t echo[OSCORE_ECHO_LEN];

    uint32_t interval;          /* K; 0 = nothing is stored */
    oscore_persist_fn persist;
    void *persist_arg;

    struct oscore_stats stats;
};

int oscore_ctx_new(const struct oscore_params *p, struct oscore_ctx **ret)
{
    struct oscore_ctx *c;
    int rc;

    if (!params_valid(p))
        return OSCORE_E_INVALID;
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    if ((rc = oscore_derive(p, &c->keys)) < 0) {
        oscore_ctx_free(c);
        return rc;
    }
    if (p->sender_id_len)
        memcpy(c->sender_id, p->sender_id, p->sender_id_len);
    c->sender_id_len = (uint8_t)p->sender_id_len;
    if (p->recipient_id_len)
        memcpy(c->recipient_id, p->recipient_id, p->recipient_id_len);
    c->recipient_id_len = (uint8_t)p->recipient_id_len;
    c->has_id_context = p->has_id_context;
    if (p->has_id_context && p->id_context_len)
        memcpy(c->id_context, p->id_context, p->id_context_len);
    c->id_context_len = (uint8_t)(p->has_id_context ? p->id_context_len : 0);
    c->send_kid_context = p->send_kid_context && p->has_id_context;
    c->interval = p->persist ? p->checkpoint_interval : 0;
    c->persist = p->persist;
    c->persist_arg = p->persist_arg;
    *ret = c;
    return OSCORE_OK;
}

void oscore_ctx_free(struct oscore_ctx *c)
{
    if (!c)
        return;
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

int oscore_ctx_restore(struct oscore_ctx *c, const struct oscore_checkpoint *ck)
{
    bool unknown = ck->replay_limit == OSCORE_REPLAY_UNKNOWN;
    if (c->used || ck->sender_limit > OSCORE_SEQ_MAX + 1 ||
        (!unknown && ck->replay_limit > OSCORE_SEQ_MAX + 1))
        return OSCORE_E_INVALID;
    /* Appendix B.1.1: SSN2 = SSN1 + K + F, where sender_limit = SSN1 + K. */
    c->ssn = ck->sender_limit;
    c->sender_limit = ck->sender_limit;
    c->replay_any = false;
    c->replay_bits = 0;
    c->replay_hw = 0;
    c->replay_limit = ck->replay_limit;
    /* Appendix B.1.2: nothing is accepted until a request proves fresh. */
    c->echo_state = unknown ? ECHO_NEEDED : ECHO_NONE;
    c->replay_floor = unknown ? 0 : ck->replay_limit;
    return OSCORE_OK;
}

void oscore_ctx_checkpoint(const struct oscore_ctx *c, struct oscore_checkpoint *ret)
{
    ret->sender_limit = c->ssn;
    if (c->echo_state != ECHO_NONE) {
        ret->replay_limit = OSCORE_REPLAY_UNKNOWN;
        return;
    }
    uint64_t r = c->replay_any ? c->replay_hw + 1 : 0;
    ret->replay_limit = r > c->replay_floor ? r : c->replay_floor;
}

const uint8_t *oscore_ctx_recipient_id(const struct oscore_ctx *c, size_t *ret_len)
{
    *ret_len = c->recipient_id_len;
    return c->recipient_id;
}

const uint8_t *oscore_ctx_id_context(const struct oscore_ctx *c, size_t *ret_len)
{
    *ret_len = c->id_context_len;
    return c->has_id_context ? c->id_context : NULL;
}

void oscore_ctx_stats(const struct oscore_ctx *c, struct oscore_stats *ret)
{
    *ret = c->stats;
}

/* Count a refusal of an incoming message and return it. */
static int refuse(struct oscore_ctx *c, int err)
{
    if (err < 0 && err > -OSCORE_E__COUNT)
        c->stats.refused[-err]++;
    return err;
}

/* ---- checkpoints (Appendix B.1.1) ---- */

static uint64_t limit_after(uint64_t seq, uint32_t k)
{
    uint64_t l = seq + k;
    return l > OSCORE_SEQ_MAX + 1 ? OSCORE_SEQ_MAX + 1 : l;
}

/* Store the limits, and adopt them only once they are stored. */
static int checkpoint(struct oscore_ctx *c, uint64_t sender_limit, uint64_t replay_limit)
{
    struct oscore_checkpoint ck = { sender_limit, replay_limit };
    if (c->persist(c->persist_arg, &ck) != 0)
        return OSCORE_E_PERSIST;
    c->sender_limit = sender_limit;
    c->replay_limit = replay_limit;
    return OSCORE_OK;
}

/* Before using c->ssn: a fresh checkpoint when it reaches the stored limit. */
static int sender_reserve(struct oscore_ctx *c)
{
    if (c->ssn > OSCORE_SEQ_MAX)
        return OSCORE_E_SEQ_EXHAUSTED;     /* §7.2.1: no more messages */
    if (c->interval && c->ssn >= c->sender_limit)
        return checkpoint(c, limit_after(c->ssn, c->interval), c->replay_limit);
    return OSCORE_OK;
}

/* ---- the replay window (§7.4) ---- */

static int replay_check(const struct oscore_ctx *c, uint64_t seq)
{
    if (seq < c->replay_floor)
        return OSCORE_E_TOO_OLD;
    if (!c->replay_any || seq > c->replay_hw)
        return OSCORE_OK;
    uint64_t d = c->replay_hw - seq;
    if (d >= OSCORE_REPLAY_WINDOW)
        return OSCORE_E_TOO_OLD;
    return (c->replay_bits >> d) & 1 ? OSCORE_E_REPLAY : OSCORE_OK;
}

static void replay_mark(struct oscore_ctx *c, uint64_t seq)
{
    if (!c->replay_any) {
        c->replay_any = true;
        c->replay_hw = seq;
        c->replay_bits = 1;
    } else if (seq > c->replay_hw) {
        uint64_t shift = seq - c->replay_hw;
        c->replay_bits = shift >= OSCORE_REPLAY_WINDOW ? 1 : c->replay_bits << shift | 1;
        c->replay_hw = seq;
    } else {
        c->replay_bits |= UINT64_C(1) << (c->replay_hw - seq);
    }
}

/*
 * Accept seq: checkpoint first if it reaches the stored limit, then mark.
 * With `fresh` (a request that answered the Echo challenge) the window
 * restarts at seq and the limit is stored whatever it was — it was
 * OSCORE_REPLAY_UNKNOWN — and nothing changes unless that succeeds.
 */
static int replay_accept(struct oscore_ctx *c, uint64_t seq, bool fresh)
{
    if (c->interval && (fresh || seq >= c->replay_limit)) {
        int rc = checkpoint(c, c->sender_limit, limit_after(seq, c->interval));
        if (rc < 0)
            return rc;
    }
    if (fresh) {
        c->replay_floor = seq;
        c->replay_any = false;
        c->replay_bits = 0;
        if (!c->interval)
            c->replay_limit = 0;       /* no longer unknown */
        c->echo_state = ECHO_NONE;
    }
    replay_mark(c, seq);
    return OSCORE_OK;
}

/* ------------------------------------------------------------------ */
/* AES-CCM-16-64-128 (RFC 8152 §10.2) through EVP                      */
/* ------------------------------------------------------------------ */

struct oscore_aead {
    EVP_CIPHER *ccm;
    EVP_CIPHER_CTX *c;
};

int oscore_aead_new(struct oscore_aead **ret)
{
    struct oscore_aead *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->ccm = EVP_CIPHER_fetch(NULL, "AES-128-CCM", NULL);
    a->c = EVP_CIPHER_CTX_new();
    if (!a->ccm || !a->c) {
        oscore_aead_free(a);
        return OSCORE_E_CRYPTO;
    }
    *ret = a;
    return OSCORE_OK;
}

void oscore_aead_free(struct oscore_aead *a)
{
    if (!a)
        return;
    EVP_CIPHER_CTX_free(a->c);      /* wipes the last key schedule */
    EVP_CIPHER_free(a->ccm);
    free(a);
}

/*
 * Set the cipher up for one message: 13-octet nonce (L = 2, so messages up
 * to 64 KiB), 8-octet tag (M = 8).  For decryption the expected tag is
 * given here, and OpenSSL checks it, in constant time, in the update call.
 */
static int ccm_init(struct oscore_aead *a, bool enc, const uint8_t *key, const uint8_t *nonce,
                    uint8_t *tag)
{
    if (EVP_CipherInit_ex(a->c, a->ccm, NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(a->c, EVP_CTRL_CCM_SET_IVLEN, OSCORE_NONCE_LEN, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(a->c, EVP_CTRL_CCM_SET_TAG, OSCORE_TAG_LEN, tag) != 1 ||
        EVP_CipherInit_ex(a->c, NULL, NULL, key, nonce, enc) != 1)
        return OSCORE_E_CRYPTO;
    return OSCORE_OK;
}

/* out gets len + 8 octets: the ciphertext, then the tag. */
static int ccm_seal(struct oscore_aead *a, const uint8_t key[OSCORE_KEY_LEN],
                    const uint8_t nonce[OSCORE_NONCE_LEN], const uint8_t *aad, size_t aad_len,
                    const uint8_t *in, size_t len, uint8_t *out)
{
    int n;

    if (len > OSCORE_PLAINTEXT_MAX || ccm_init(a, true, key, nonce, NULL) < 0)
        return OSCORE_E_CRYPTO;
    /* CCM needs the total length before the AAD. */
    if (EVP_EncryptUpdate(a->c, NULL, &n, NULL, (int)len) != 1 ||
        EVP_EncryptUpdate(a->c, NULL, &n, aad, (int)aad_len) != 1 ||
        EVP_EncryptUpdate(a->c, out, &n, in, (int)len) != 1 || (size_t)n != len ||
        EVP_EncryptFinal_ex(a->c, out + len, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(a->c, EVP_CTRL_CCM_GET_TAG, OSCORE_TAG_LEN, out + len) != 1)
        return OSCORE_E_CRYPTO;
    return OSCORE_OK;
}

/* in is ciphertext ‖ tag (len ≥ 8); out gets len - 8 octets. */
static int ccm_open(struct oscore_aead *a, const uint8_t key[OSCORE_KEY_LEN],
                    const uint8_t nonce[OSCORE_NONCE_LEN], const uint8_t *aad, size_t aad_len,
                    const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t tag[OSCORE_TAG_LEN];
    size_t clen = len - OSCORE_TAG_LEN;
    int n;

    memcpy(tag, in + clen, OSCORE_TAG_LEN);
    if (ccm_init(a, false, key, nonce, tag) < 0 ||
        EVP_DecryptUpdate(a->c, NULL, &n, NULL, (int)clen) != 1 ||
        EVP_DecryptUpdate(a->c, NULL, &n, aad, (int)aad_len) != 1)
        return OSCORE_E_CRYPTO;
    if (EVP_DecryptUpdate(a->c, out, &n, in, (int)clen) != 1) {
        /* Never hand out what an unauthenticated ciphertext decrypts to. */
        OPENSSL_cleanse(out, clen);
        return OSCORE_E_DECRYPT;
    }
    return OSCORE_OK;
}

/* ------------------------------------------------------------------ */
/* The inner message (§5.3): code, Class E options, payload            */
/* ------------------------------------------------------------------ */

/*
 * An option header nibble (RFC 7252 §3.1): 0..12 as is, 13 and 14 take
 * one or two more octets at *i, 15 is reserved (the payload marker is
 * handled before).  Returns the value or -1.
 */
static long option_nibble(const uint8_t *p, size_t len, size_t *i, unsigned nibble)
{
    if (nibble < 13)
        return (long)nibble;
    if (nibble == 13 && len - *i >= 1) {
        long v = 13 + (long)p[*i];
        *i += 1;
        return v;
    }
    if (nibble == 14 && len - *i >= 2) {
        long v = 269 + ((long)p[*i] << 8 | p[*i + 1]);
        *i += 2;
        return v;
    }
    return -1;
}

/*
 * The next option of an inner message from *pos.  Returns 1 with the
 * option, 0 at the end (nothing left, or the payload marker), or
 * OSCORE_E_PLAINTEXT.  *number carries the running option number.
 */
static int inner_next(const uint8_t *p, size_t len, size_t *pos, unsigned *number,
                      const uint8_t **ret_value, size_t *ret_len)
{
    size_t i = *pos;
    if (i >= len)
        return 0;
    if (p[i] == 0xff)
        /* RFC 7252 §3: a marker followed by nothing is a format error. */
        return i + 1 < len ? 0 : OSCORE_E_PLAINTEXT;
    unsigned head = p[i++];
    long delta = option_nibble(p, len, &i, head >> 4);
    long vlen = delta < 0 ? -1 : option_nibble(p, len, &i, head & 0x0f);
    if (vlen < 0 || *number + (unsigned long)delta > 0xffff || len - i < (size_t)vlen)
        return OSCORE_E_PLAINTEXT;
    *number += (unsigned)delta;
    *ret_value = p + i;
    *ret_len = (size_t)vlen;
    *pos = i + (size_t)vlen;
    return 1;
}

/* RFC 7252 §12.1: requests are 0.01..0.31; responses here 2.xx, 4.xx, 5.xx. */
static bool code_ok(uint8_t code, bool request)
{
    unsigned cls = code >> 5;
    if (request)
        return cls == 0 && code != 0;
    return cls == 2 || cls == 4 || cls == 5;
}

/* Well formed, the right kind of code, and no nested OSCORE (§4.1.3.7). */
static bool inner_valid(const uint8_t *p, size_t len, bool request)
{
    size_t pos = 1;
    unsigned number = 0;
    const uint8_t *v;
    size_t vlen;
    int r;

    if (len < 1 || len > OSCORE_PLAINTEXT_MAX || !code_ok(p[0], request))
        return false;
    while ((r = inner_next(p, len, &pos, &number, &v, &vlen)) == 1)
        if (number == OSCORE_COAP_OPTION)
            return false;
    return r == 0;
}

int oscore_plaintext_find(const uint8_t *plain, size_t len, unsigned number,
                          const uint8_t **ret_value, size_t *ret_len)
{
    size_t pos = 1;
    unsigned n = 0;
    const uint8_t *v;
    size_t vlen;
    int r;

    if (len < 1)
        return OSCORE_E_PLAINTEXT;
    while ((r = inner_next(plain, len, &pos, &n, &v, &vlen)) == 1) {
        if (n == number) {
            *ret_value = v;
            *ret_len = vlen;
            return 1;
        }
        if (n > number)
            return 0;                      /* options come in order */
    }
    return r;
}

int oscore_echo_plaintext(const struct oscore_ctx *c, uint8_t *out, size_t cap)
{
    struct cbuf b = { out, 0, cap, false };

    if (c->echo_state != ECHO_PENDING)
        return OSCORE_E_INVALID;
    /* 4.01, then option 252 = 13 + 239 (delta nibble 13, one extra octet). */
    _Static_assert(OSCORE_ECHO_LEN < 13, "the Echo length fits the header nibble");
    cb_byte(&b, OSCORE_UNAUTHORIZED_CODE);
    cb_byte(&b, 13 << 4 | OSCORE_ECHO_LEN);
    cb_byte(&b, OSCORE_COAP_ECHO - 13);
    cb_bytes(&b, c->echo, OSCORE_ECHO_LEN);
    return b.full ? OSCORE_E_NO_SPACE : (int)b.len;
}

/*
 * Appendix B.1.2 on a request that verified while the window is unknown:
 * 1 when it echoes the pending challenge (it is fresh), 0 when a challenge
 * must be sent, or an error.
 */
static int echo_verify(struct oscore_ctx *c, const uint8_t *plain, size_t len)
{
    const uint8_t *v;
    size_t vlen;

    if (c->echo_state == ECHO_PENDING &&
        oscore_plaintext_find(plain, len, OSCORE_COAP_ECHO, &v, &vlen) == 1 &&
        vlen == OSCORE_ECHO_LEN && CRYPTO_memcmp(v, c->echo, OSCORE_ECHO_LEN) == 0)
        return 1;
    if (c->echo_state == ECHO_NEEDED) {
        /*
         * One challenge for every request until one echoes it: any value
         * drawn after the restart proves a request was made after it, and
         * a stable value cannot be outrun by a client's retries.
         */
        if (RAND_bytes(c->echo, OSCORE_ECHO_LEN) != 1)
            return OSCORE_E_CRYPTO;
        c->echo_state = ECHO_PENDING;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Protecting and verifying (§8)                                       */
/* ------------------------------------------------------------------ */

static bool id_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void exchange_set(struct oscore_exchange *x, const uint8_t *kid, size_t kid_len,
                         const uint8_t *piv, size_t piv_len, uint8_t flags)
{
    memset(x, 0, sizeof *x);
    if (kid_len)
        memcpy(x->kid, kid, kid_len);
    x->kid_len = (uint8_t)kid_len;
    memcpy(x->piv, piv, piv_len);
    x->piv_len = (uint8_t)piv_len;
    x->flags = flags;
}

/* The shape every exchange has; the caller may have kept it badly. */
static bool exchange_valid(const struct oscore_exchange *x)
{
    return x->kid_len <= OSCORE_ID_MAX && x->piv_len >= 1 && x->piv_len <= OSCORE_PIV_MAX;
}

int oscore_protect_request(struct oscore_aead *a, struct oscore_ctx *c, const uint8_t *plain,
                           size_t plain_len, uint8_t *out, size_t cap,
                           struct oscore_protected *ret, struct oscore_exchange *ret_exchange)
{
    uint8_t piv[OSCORE_PIV_MAX], nonce[OSCORE_NONCE_LEN], aad[OSCORE_AAD_MAX];
    struct oscore_option o;
    struct oscore_protected p;
    int rc, aad_len;

    if (!inner_valid(plain, plain_len, true))
        return OSCORE_E_INVALID;
    if (cap < plain_len + OSCORE_TAG_LEN)
        return OSCORE_E_NO_SPACE;
    c->used = true;
    if ((rc = sender_reserve(c)) < 0)
        return rc;
    /* §8.1 step 3: the Partial IV is the Sender Sequence Number. */
    size_t piv_len = oscore_piv_encode(c->ssn, piv);
    memset(&o, 0, sizeof o);
    o.piv = piv;
    o.piv_len = piv_len;
    o.has_kid = true;                    /* §5: kid SHALL be in requests */
    o.kid = c->sender_id;
    o.kid_len = c->sender_id_len;
    if (c->send_kid_context) {
        o.has_kid_context = true;
        o.kid_context = c->id_context;
        o.kid_context_len = c->id_context_len;
    }
    if ((rc = oscore_option_encode(&o, p.option, sizeof p.option)) < 0)
        return rc;
    p.option_len = (size_t)rc;
    if ((aad_len = oscore_aad(c->sender_id, c->sender_id_len, piv, piv_len, aad)) < 0)
        return aad_len;
    oscore_nonce(c->keys.common_iv, c->sender_id, c->sender_id_len, piv, piv_len, nonce);
    if ((rc = ccm_seal(a, c->keys.sender_key, nonce, aad, (size_t)aad_len, plain, plain_len,
                       out)) < 0)
        return rc;
    c->ssn++;
    p.payload_len = plain_len + OSCORE_TAG_LEN;
    *ret = p;
    exchange_set(ret_exchange, c->sender_id, c->sender_id_len, piv, piv_len, 0);
    return OSCORE_OK;
}

int oscore_unprotect_request(struct oscore_aead *a, struct oscore_ctx *c,
                             const uint8_t *option, size_t option_len, const uint8_t *payload,
                             size_t payload_len, uint8_t *plain, size_t cap,
                             size_t *ret_plain_len, struct oscore_exchange *ret_exchange)
{
    uint8_t nonce[OSCORE_NONCE_LEN], aad[OSCORE_AAD_MAX];
    struct oscore_option o;
    int rc, aad_len;

    c->used = true;
    /* §8.2 step 2: decompress, and make sure this is the context. */
    if ((rc = oscore_option_parse(option, option_len, &o)) < 0)
        return refuse(c, rc);
    if (o.piv_len == 0)
        return refuse(c, OSCORE_E_NO_PIV);
    if (!o.has_kid)
        return refuse(c, OSCORE_E_NO_KID);
    if (!id_equal(o.kid, o.kid_len, c->recipient_id, c->recipient_id_len))
        return refuse(c, OSCORE_E_UNKNOWN_KID);
    /* §5: a kid context, when sent, names the ID Context to use. */
    if (o.has_kid_context &&
        (!c->has_id_context ||
         !id_equal(o.kid_context, o.kid_context_len, c->id_context, c->id_context_len)))
        return refuse(c, OSCORE_E_KID_CONTEXT);
    /* §2: no payload is malformed; the least is a code octet and the tag. */
    if (payload_len < 1 + OSCORE_TAG_LEN || payload_len - OSCORE_TAG_LEN > OSCORE_PLAINTEXT_MAX)
        return refuse(c, OSCORE_E_NO_PAYLOAD);
    if (cap < payload_len - OSCORE_TAG_LEN)
        return refuse(c, OSCORE_E_NO_SPACE);
    /* Step 3: the replay window, before spending a decryption on it. */
    uint64_t seq = oscore_piv_value(o.piv, o.piv_len);
    if (c->echo_state == ECHO_NONE && (rc = replay_check(c, seq)) < 0)
        return refuse(c, rc);
    /* Steps 4-6. */
    if ((aad_len = oscore_aad(o.kid, o.kid_len, o.piv, o.piv_len, aad)) < 0)
        return refuse(c, aad_len);
    oscore_nonce(c->keys.common_iv, o.kid, o.kid_len, o.piv, o.piv_len, nonce);
    size_t plen = payload_len - OSCORE_TAG_LEN;
    if ((rc = ccm_open(a, c->keys.recipient_key, nonce, aad, (size_t)aad_len, payload,
                       payload_len, plain)) < 0)
        return refuse(c, rc);
    if (!inner_valid(plain, plen, true)) {
        OPENSSL_cleanse(plain, plen);
        return refuse(c, OSCORE_E_PLAINTEXT);
    }
    bool fresh = false;
    if (c->echo_state != ECHO_NONE) {
        if ((rc = echo_verify(c, plain, plen)) <= 0) {
            /*
             * Verified, but maybe a replay from before the restart: not
             * for the application.  The 4.01 that carries the challenge
             * must use the server's own Partial IV (B.1.2).
             */
            OPENSSL_cleanse(plain, plen);
            if (rc == 0)
                exchange_set(ret_exchange, o.kid, o.kid_len, o.piv, o.piv_len,
                             OSCORE_EXCHANGE_OWN_PIV);
            return refuse(c, rc < 0 ? rc : OSCORE_E_ECHO_REQUIRED);
        }
        /* Fresh: its Partial IV becomes the window's new lower limit. */
        fresh = true;
    }
    /* Step 6: update the window — after a checkpoint when one is due. */
    if ((rc = replay_accept(c, seq, fresh)) < 0) {
        OPENSSL_cleanse(plain, plen);
        return refuse(c, rc);
    }
    c->stats.verified++;
    *ret_plain_len = plen;
    exchange_set(ret_exchange, o.kid, o.kid_len, o.piv, o.piv_len, 0);
    return OSCORE_OK;
}

int oscore_protect_response(struct oscore_aead *a, struct oscore_ctx *c,
                            struct oscore_exchange *x, bool own_piv, const uint8_t *plain,
                            size_t plain_len, uint8_t *out, size_t cap,
                            struct oscore_protected *ret)
{
    uint8_t piv[OSCORE_PIV_MAX], nonce[OSCORE_NONCE_LEN], aad[OSCORE_AAD_MAX];
    struct oscore_option o;
    struct oscore_protected p;
    int rc, aad_len;

    /* The exchange must be one this context verified (request kid = RID). */
    if (!exchange_valid(x) || !id_equal(x->kid, x->kid_len, c->recipient_id, c->recipient_id_len))
        return OSCORE_E_INVALID;
    if (!inner_valid(plain, plain_len, false))
        return OSCORE_E_INVALID;
    if (cap < plain_len + OSCORE_TAG_LEN)
        return OSCORE_E_NO_SPACE;
    own_piv = own_piv || (x->flags & OSCORE_EXCHANGE_OWN_PIV);
    if (!own_piv && (x->flags & OSCORE_EXCHANGE_ANSWERED))
        return OSCORE_E_ANSWERED;          /* the request's nonce is spent */
    c->used = true;
    memset(&o, 0, sizeof o);
    if (own_piv) {
        /* §8.3 step 3, second way: a new Partial IV, sent in the option. */
        if ((rc = sender_reserve(c)) < 0)
            return rc;
        size_t piv_len = oscore_piv_encode(c->ssn, piv);
        o.piv = piv;
        o.piv_len = piv_len;
        oscore_nonce(c->keys.common_iv, c->sender_id, c->sender_id_len, piv, piv_len, nonce);
    } else {
        /* First way: the request's nonce, and no Partial IV (§8.3 step 4). */
        oscore_nonce(c->keys.common_iv, x->kid, x->kid_len, x->piv, x->piv_len, nonce);
    }
    if ((rc = oscore_option_encode(&o, p.option, sizeof p.option)) < 0)
        return rc;
    p.option_len = (size_t)rc;
    /* §5.4: request_kid and request_piv, whichever nonce is used. */
    if ((aad_len = oscore_aad(x->kid, x->kid_len, x->piv, x->piv_len, aad)) < 0)
        return aad_len;
    if ((rc = ccm_seal(a, c->keys.sender_key, nonce, aad, (size_t)aad_len, plain, plain_len,
                       out)) < 0)
        return rc;
    if (own_piv)
        c->ssn++;
    else
        x->flags |= OSCORE_EXCHANGE_ANSWERED;
    p.payload_len = plain_len + OSCORE_TAG_LEN;
    *ret = p;
    return OSCORE_OK;
}

int oscore_unprotect_response(struct oscore_aead *a, struct oscore_ctx *c,
                              struct oscore_exchange *x, const uint8_t *option,
                              size_t option_len, const uint8_t *payload, size_t payload_len,
                              uint8_t *plain, size_t cap, size_t *ret_plain_len)
{
    uint8_t nonce[OSCORE_NONCE_LEN], aad[OSCORE_AAD_MAX];
    struct oscore_option o;
    int rc, aad_len;

    /* The exchange must be one this context protected (request kid = SID). */
    if (!exchange_valid(x) || !id_equal(x->kid, x->kid_len, c->sender_id, c->sender_id_len))
        return refuse(c, OSCORE_E_INVALID);
    /* §7.4: a response is protected against replay by being the only one. */
    if (x->flags & OSCORE_EXCHANGE_ANSWERED)
        return refuse(c, OSCORE_E_ANSWERED);
    c->used = true;
    /*
     * §8.4 step 2.  A kid or kid context in a response is not used here
     * (group OSCORE, Appendix B.2); the AAD binds the request's anyway.
     */
    if ((rc = oscore_option_parse(option, option_len, &o)) < 0)
        return refuse(c, rc);
    if (payload_len < 1 + OSCORE_TAG_LEN || payload_len - OSCORE_TAG_LEN > OSCORE_PLAINTEXT_MAX)
        return refuse(c, OSCORE_E_NO_PAYLOAD);
    if (cap < payload_len - OSCORE_TAG_LEN)
        return refuse(c, OSCORE_E_NO_SPACE);
    /* Step 4: the server's Partial IV with its ID, or the request's nonce. */
    if (o.piv_len)
        oscore_nonce(c->keys.common_iv, c->recipient_id, c->recipient_id_len, o.piv, o.piv_len,
                     nonce);
    else
        oscore_nonce(c->keys.common_iv, x->kid, x->kid_len, x->piv, x->piv_len, nonce);
    if ((aad_len = oscore_aad(x->kid, x->kid_len, x->piv, x->piv_len, aad)) < 0)
        return refuse(c, aad_len);
    size_t plen = payload_len - OSCORE_TAG_LEN;
    if ((rc = ccm_open(a, c->keys.recipient_key, nonce, aad, (size_t)aad_len, payload,
                       payload_len, plain)) < 0)
        return refuse(c, rc);
    if (!inner_valid(plain, plen, false)) {
        OPENSSL_cleanse(plain, plen);
        return refuse(c, OSCORE_E_PLAINTEXT);
    }
    x->flags |= OSCORE_EXCHANGE_ANSWERED;
    c->stats.verified++;
    *ret_plain_len = plen;
    return OSCORE_OK;
}
