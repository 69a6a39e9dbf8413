/*
 * oscore.h — Object Security for Constrained RESTful Environments
 * (OSCORE, RFC 8613): the protocol core of the device plane.
 *
 * What is here, all without libcoap (the CoAP transport hands this module
 * the OSCORE option value and the payload of a message, and takes back
 * the decrypted inner message):
 *   - security context derivation (§3.2) with HKDF-SHA-256 for
 *     AES-CCM-16-64-128 (COSE algorithm 10, key 16, nonce 13, tag 8);
 *   - the AEAD nonce (§5.2), the external AAD and the COSE Enc_structure
 *     (§5.4), the OSCORE option value (§6.1);
 *   - protecting and verifying requests and responses (§8);
 *   - a replay window per recipient context (§7.4) whose state survives a
 *     restart through checkpoints the caller persists (Appendix B.1.1
 *     applied to both the Sender Sequence Number and the replay window),
 *     or is re-synchronised with the Echo option (Appendix B.1.2);
 *   - a named, counted reason for every refusal, per context (= per
 *     sender ID of the device).
 *
 * The inner message ("plaintext", §5.3) is the caller's: one octet of CoAP
 * Code, then the Class E options encoded as in RFC 7252 §3.1 (deltas from
 * the previous Class E option), then, when there is a payload, 0xFF and
 * the payload.  This module checks that it is well formed and looks inside
 * only for the Echo option (Appendix B.1.2) and for a nested OSCORE option
 * (§4.1.3.7); the transport builds and consumes it.  There are no Class I
 * options (§4.1.2), so the AAD's 'options' is always empty.
 *
 * Ownership and threads: a struct oscore_ctx is one device's security
 * context, created at provisioning or start-up (it allocates) and used by
 * one thread at a time (the caller serialises; §7.4 requires checking and
 * updating the replay window atomically).  A struct oscore_aead is an
 * AES-CCM engine, one per worker thread, reused for every message so that
 * the per-message path allocates nothing.  All buffers are the caller's.
 * Secrets (master secret, keys, common IV) never leave this module except
 * through oscore_derive(), are never logged, and are wiped on free.
 */
#ifndef M2MG_COAP_OSCORE_H
#define M2MG_COAP_OSCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* AES-CCM-16-64-128 (RFC 8152 §10.2), the only AEAD algorithm here. */
#define OSCORE_ALG_AES_CCM_16_64_128 10
#define OSCORE_KEY_LEN 16
#define OSCORE_NONCE_LEN 13
#define OSCORE_TAG_LEN 8

#define OSCORE_COAP_OPTION 9           /* the OSCORE option number (§2) */
#define OSCORE_COAP_ECHO 252           /* the Echo option (RFC 9175 §2.2.1) */
#define OSCORE_OUTER_REQUEST_CODE 0x02 /* 0.02 POST (§4.2) */
#define OSCORE_OUTER_RESPONSE_CODE 0x44 /* 2.04 Changed (§4.2) */
#define OSCORE_UNAUTHORIZED_CODE 0x81  /* 4.01, the Echo challenge (B.1.2) */

/* §3.3: a Sender / Recipient ID is at most nonce length - 6 octets. */
#define OSCORE_ID_MAX (OSCORE_NONCE_LEN - 6)
/*
 * The ID Context may be "arbitrarily long" (§3.3); a deployment uses a
 * device serial, a tenant or a random value of a few octets, so 32 is
 * generous and keeps the context small.
 */
#define OSCORE_ID_CONTEXT_MAX 32
/* Master Secret and Salt: 16 to 32 octets in practice; 64 is the limit. */
#define OSCORE_MASTER_SECRET_MAX 64
#define OSCORE_MASTER_SALT_MAX 64
/* §6.1: the Partial IV is at most 5 octets; §7.2.1: sequence numbers < 2^40. */
#define OSCORE_PIV_MAX 5
#define OSCORE_SEQ_MAX ((UINT64_C(1) << 40) - 1)
/* §2: the option value is 0..255 octets. */
#define OSCORE_OPTION_MAX 255
/* What this module ever writes: flags, PIV, s, ID context, kid. */
#define OSCORE_OPTION_OUT_MAX (1 + OSCORE_PIV_MAX + 1 + OSCORE_ID_CONTEXT_MAX + OSCORE_ID_MAX)
/*
 * Replay window width.  §3.2.2's default is 32 (the DTLS window); the
 * window is a local choice (§3.2 "may be different in the two endpoints")
 * and 64 costs nothing more in a uint64_t while tolerating twice the
 * reordering that cellular links with retransmissions produce.
 */
#define OSCORE_REPLAY_WINDOW 64
/* Echo challenge size (RFC 9175 allows 1..40): 8 random octets. */
#define OSCORE_ECHO_LEN 8
/* Largest inner message: the CoAP UDP payload over IPv6 minimum MTU. */
#define OSCORE_PLAINTEXT_MAX 1152

/*
 * Why a message was refused.  Negative like errno; oscore_error_name()
 * gives the counter's name.  Keep OSCORE_E__COUNT last: counter arrays are
 * sized with it.
 */
enum oscore_error {
    OSCORE_OK = 0,
    OSCORE_E_OPT_TOO_LONG = -1,     /* option value over 255 octets (§2) */
    OSCORE_E_OPT_RESERVED = -2,     /* a reserved flag bit set (§6.1) */
    OSCORE_E_OPT_PIV_LEN = -3,      /* n = 6 or 7, reserved (§6.1) */
    OSCORE_E_OPT_FLAGS_ZERO = -4,   /* flags 0x00 but value not empty (§2) */
    OSCORE_E_OPT_TRUNCATED = -5,    /* PIV or kid context runs past the end */
    OSCORE_E_OPT_TRAILING = -6,     /* octets left over without a kid (§6.1) */
    OSCORE_E_OPT_PIV = -7,          /* PIV with a leading zero octet (§5) */
    OSCORE_E_NO_PIV = -8,           /* request without Partial IV (§5) */
    OSCORE_E_NO_KID = -9,           /* request without kid (§5) */
    OSCORE_E_UNKNOWN_KID = -10,     /* kid is not this context's Recipient ID */
    OSCORE_E_KID_CONTEXT = -11,     /* kid context is not the ID Context */
    OSCORE_E_NO_PAYLOAD = -12,      /* payload shorter than code + tag (§2) */
    OSCORE_E_REPLAY = -13,          /* Partial IV already received (§7.4) */
    OSCORE_E_TOO_OLD = -14,         /* below the window or the restart limit */
    OSCORE_E_DECRYPT = -15,         /* AEAD verification failed (§8.2 step 6) */
    OSCORE_E_PLAINTEXT = -16,       /* decrypted inner message malformed */
    OSCORE_E_ECHO_REQUIRED = -17,   /* first request after restart (B.1.2) */
    OSCORE_E_SEQ_EXHAUSTED = -18,   /* Sender Sequence Number past 2^40-1 */
    OSCORE_E_PERSIST = -19,         /* the checkpoint could not be stored */
    OSCORE_E_ANSWERED = -20,        /* exchange already answered / verified */
    OSCORE_E_NO_SPACE = -21,        /* output buffer too small */
    OSCORE_E_INVALID = -22,         /* bad argument from the caller */
    OSCORE_E_CRYPTO = -23,          /* OpenSSL failed (not the peer's doing) */
    OSCORE_E__COUNT = 24,
};

const char *oscore_error_name(int err);

/* ---- the OSCORE option value (§6.1) ---- */

/*
 * A parsed option value.  The pointers point into the parsed buffer (no
 * copy); a field is present when its has_ flag is set, the Partial IV when
 * piv_len > 0.
 */
struct oscore_option {
    const uint8_t *piv;
    size_t piv_len;
    bool has_kid_context;
    const uint8_t *kid_context;
    size_t kid_context_len;
    bool has_kid;
    const uint8_t *kid;
    size_t kid_len;
};

/*
 * Parse an option value exactly as §6.1 and §2 define it: reserved bits
 * and n = 6, 7 refused; flags 0x00 only as the empty value; every field
 * inside the value; the kid is everything after the kid context, so
 * without k nothing may remain.  A Partial IV with a leading zero octet is
 * refused too: §5 says senders SHALL strip them, and two encodings of one
 * sequence number would give two AADs for one nonce.
 * Returns 0 and fills *ret, or an OSCORE_E_OPT_* code (*ret untouched).
 */
int oscore_option_parse(const uint8_t *value, size_t len, struct oscore_option *ret)
    __attribute__((warn_unused_result));

/*
 * Encode *opt into out (cap octets).  Returns the length (0 for the empty
 * value), OSCORE_E_NO_SPACE, or OSCORE_E_INVALID for what the parser would
 * refuse.  oscore_option_parse() then oscore_option_encode() reproduces the
 * value octet for octet.
 */
int oscore_option_encode(const struct oscore_option *opt, uint8_t *out, size_t cap)
    __attribute__((warn_unused_result));

/* The sequence number a Partial IV encodes (big-endian, 0..5 octets). */
uint64_t oscore_piv_value(const uint8_t *piv, size_t len);
/* Encode seq as a Partial IV (shortest form, 0 → 0x00); returns its length. */
size_t oscore_piv_encode(uint64_t seq, uint8_t out[OSCORE_PIV_MAX]);

/* ---- the building blocks, exported for the test vectors ---- */

/*
 * The HKDF info of §3.2.1: [id, id_context / nil, 10, "Key" / "IV", L].
 * Returns its length or OSCORE_E_NO_SPACE / OSCORE_E_INVALID.
 */
int oscore_kdf_info(const uint8_t *id, size_t id_len, const uint8_t *id_context,
                    size_t id_context_len, bool has_id_context, bool iv,
                    uint8_t *out, size_t cap) __attribute__((warn_unused_result));

/* §5.2: the AEAD nonce from the Common IV, ID_PIV and the Partial IV. */
void oscore_nonce(const uint8_t common_iv[OSCORE_NONCE_LEN], const uint8_t *id_piv,
                  size_t id_len, const uint8_t *piv, size_t piv_len,
                  uint8_t out[OSCORE_NONCE_LEN]);

/* The largest AAD: 11 fixed octets, a bstr header and the aad_array. */
#define OSCORE_AAD_MAX 40
/*
 * §5.4: AAD = ["Encrypt0", h'', bstr .cbor [1, [10], request_kid,
 * request_piv, h'']].  Returns its length or OSCORE_E_INVALID.
 */
int oscore_aad(const uint8_t *request_kid, size_t kid_len, const uint8_t *request_piv,
               size_t piv_len, uint8_t out[OSCORE_AAD_MAX]) __attribute__((warn_unused_result));

/* ---- security contexts ---- */

/*
 * A checkpoint of the mutable state, for the caller to store durably
 * (Appendix B.1.1).  Both are limits, not current values: no Sender
 * Sequence Number at or above sender_limit has been used, no Partial IV at
 * or above replay_limit has been accepted.  They move in steps of K
 * (checkpoint_interval), so the store is written once per K messages.
 * replay_limit is OSCORE_REPLAY_UNKNOWN while the window is unknown (an
 * Echo re-synchronisation is pending, Appendix B.1.2): a checkpoint
 * written then makes the next start re-synchronise too.
 */
#define OSCORE_REPLAY_UNKNOWN UINT64_MAX
struct oscore_checkpoint {
    uint64_t sender_limit;
    uint64_t replay_limit;
};

/*
 * Store a checkpoint durably, then return 0.  Called synchronously from
 * protect / unprotect, before the sequence number it covers is used or the
 * Partial IV is accepted; a non-zero return refuses that message
 * (OSCORE_E_PERSIST) and leaves the context as it was.
 */
typedef int (*oscore_persist_fn)(void *arg, const struct oscore_checkpoint *ck);

/* The input parameters of §3.2. */
struct oscore_params {
    const uint8_t *master_secret;       /* required, 1..64 octets */
    size_t master_secret_len;
    const uint8_t *master_salt;         /* optional: NULL / 0 = empty (§3.2) */
    size_t master_salt_len;
    bool has_id_context;                /* false: nil in the HKDF info */
    const uint8_t *id_context;
    size_t id_context_len;
    const uint8_t *sender_id;           /* 0..7 octets; may be empty */
    size_t sender_id_len;
    const uint8_t *recipient_id;
    size_t recipient_id_len;
    /* Client: put the ID Context in requests as 'kid context' (§5.1). */
    bool send_kid_context;
    /*
     * K of Appendix B.1.1 and the callback that stores checkpoints.  With
     * persist NULL nothing survives a restart: only for tests and for
     * contexts that are re-derived with a fresh ID Context every start.
     */
    uint32_t checkpoint_interval;
    oscore_persist_fn persist;
    void *persist_arg;
};

/* What §3.2.1 derives from the parameters. */
struct oscore_keys {
    uint8_t sender_key[OSCORE_KEY_LEN];
    uint8_t recipient_key[OSCORE_KEY_LEN];
    uint8_t common_iv[OSCORE_NONCE_LEN];
};

/* Derive the keys and Common IV; 0, OSCORE_E_INVALID or OSCORE_E_CRYPTO. */
int oscore_derive(const struct oscore_params *p, struct oscore_keys *ret)
    __attribute__((warn_unused_result));
void oscore_keys_wipe(struct oscore_keys *k);

struct oscore_ctx;

/*
 * Derive a context.  The new context is fresh: Sender Sequence Number 0,
 * empty replay window — right only for a context never used before; any
 * other must be given its stored checkpoint with oscore_ctx_restore()
 * before its first message.  Returns 0, OSCORE_E_INVALID, OSCORE_E_CRYPTO
 * or -ENOMEM.
 */
int oscore_ctx_new(const struct oscore_params *p, struct oscore_ctx **ret)
    __attribute__((warn_unused_result));
/* Wipe and free; accepts NULL. */
void oscore_ctx_free(struct oscore_ctx *ctx);

/*
 * After a restart: continue from a stored checkpoint.  The Sender Sequence
 * Number resumes at ck->sender_limit (Appendix B.1.1's SSN1 + K; F = 0
 * because the persist callback stores synchronously before the number is
 * used).  The replay window then refuses every Partial IV below
 * ck->replay_limit — up to K sequence numbers a device never sent are
 * sacrificed for never accepting one twice.
 *
 * With ck->replay_limit = OSCORE_REPLAY_UNKNOWN (the window was never
 * stored, or the store may have been rolled back) Appendix B.1.2 applies:
 * the first request that verifies is refused with OSCORE_E_ECHO_REQUIRED
 * and answered with an OSCORE-protected 4.01 carrying an Echo option
 * (oscore_echo_plaintext()); a later request that verifies and echoes the
 * value is fresh, and its Partial IV becomes the window's lower limit.
 * Returns 0 or OSCORE_E_INVALID (a context already used, a limit past
 * 2^40).
 */
int oscore_ctx_restore(struct oscore_ctx *ctx, const struct oscore_checkpoint *ck)
    __attribute__((warn_unused_result));

/*
 * The checkpoint of the current state, tight rather than K ahead: for a
 * clean shutdown, after which a restore loses no sequence number.
 */
void oscore_ctx_checkpoint(const struct oscore_ctx *ctx, struct oscore_checkpoint *ret);

/* The context's Recipient ID (the kid devices send) and ID Context. */
const uint8_t *oscore_ctx_recipient_id(const struct oscore_ctx *ctx, size_t *ret_len);
const uint8_t *oscore_ctx_id_context(const struct oscore_ctx *ctx, size_t *ret_len);

/* Per-context counters: verified requests / responses, and each refusal. */
struct oscore_stats {
    uint64_t verified;
    uint64_t refused[OSCORE_E__COUNT];  /* indexed by -error */
};
void oscore_ctx_stats(const struct oscore_ctx *ctx, struct oscore_stats *ret);

/* ---- messages ---- */

/* An AES-CCM engine: one per thread, shared by every context it serves. */
struct oscore_aead;
int oscore_aead_new(struct oscore_aead **ret) __attribute__((warn_unused_result));
void oscore_aead_free(struct oscore_aead *aead);

/*
 * What binds a response to its request (§7.1): the request's kid and
 * Partial IV.  Filled by oscore_protect_request() (client) and
 * oscore_unprotect_request() (server); kept by the caller with the Token
 * until the response is protected or verified.
 */
struct oscore_exchange {
    uint8_t kid[OSCORE_ID_MAX];
    uint8_t kid_len;
    uint8_t piv[OSCORE_PIV_MAX];
    uint8_t piv_len;
    uint8_t flags;                      /* OSCORE_EXCHANGE_* */
};
/* The request's nonce was used for a response, or a response verified. */
#define OSCORE_EXCHANGE_ANSWERED 0x01
/* The response must carry the server's own Partial IV (B.1.2). */
#define OSCORE_EXCHANGE_OWN_PIV 0x02

/* The OSCORE parts of a protected message: option value and payload. */
struct oscore_protected {
    uint8_t option[OSCORE_OPTION_OUT_MAX];
    size_t option_len;
    size_t payload_len;                 /* written to the caller's buffer */
};

/*
 * Client (§8.1): protect a request.  plain is the inner message (code
 * 0.01..0.31 + Class E options + payload); the ciphertext (plain_len + 8
 * octets) goes to out.  The next Sender Sequence Number is the Partial IV;
 * kid is always sent, kid context when send_kid_context was set.
 * Returns 0, OSCORE_E_INVALID, OSCORE_E_NO_SPACE, OSCORE_E_SEQ_EXHAUSTED,
 * OSCORE_E_PERSIST or OSCORE_E_CRYPTO.
 */
int oscore_protect_request(struct oscore_aead *aead, struct oscore_ctx *ctx,
                           const uint8_t *plain, size_t plain_len, uint8_t *out,
                           size_t cap, struct oscore_protected *ret,
                           struct oscore_exchange *ret_exchange)
    __attribute__((warn_unused_result));

/*
 * Server (§8.2): verify a request for this context (the caller found it by
 * the option's kid and kid context).  On success the inner message is in
 * plain (payload_len - 8 octets) and *ret_exchange binds the response.
 * With OSCORE_E_ECHO_REQUIRED the request verified but must not be
 * processed; *ret_exchange is filled so that the 4.01 can be protected.
 * Every refusal is counted in the context's stats.
 */
int oscore_unprotect_request(struct oscore_aead *aead, struct oscore_ctx *ctx,
                             const uint8_t *option, size_t option_len,
                             const uint8_t *payload, size_t payload_len, uint8_t *plain,
                             size_t cap, size_t *ret_plain_len,
                             struct oscore_exchange *ret_exchange)
    __attribute__((warn_unused_result));

/*
 * Server (§8.3): protect a response (inner code 2.xx, 4.xx or 5.xx).
 * Without own_piv the request's nonce is reused and no Partial IV is sent
 * — allowed once per exchange, since a second use would repeat a
 * (key, nonce) pair; with own_piv (or when the exchange demands it) the
 * next Sender Sequence Number is used and sent.
 */
int oscore_protect_response(struct oscore_aead *aead, struct oscore_ctx *ctx,
                            struct oscore_exchange *exchange, bool own_piv,
                            const uint8_t *plain, size_t plain_len, uint8_t *out,
                            size_t cap, struct oscore_protected *ret)
    __attribute__((warn_unused_result));

/*
 * Client (§8.4): verify the response to the request of *exchange.  Only
 * one response is accepted per request (§7.4; no Observe).
 */
int oscore_unprotect_response(struct oscore_aead *aead, struct oscore_ctx *ctx,
                              struct oscore_exchange *exchange, const uint8_t *option,
                              size_t option_len, const uint8_t *payload,
                              size_t payload_len, uint8_t *plain, size_t cap,
                              size_t *ret_plain_len) __attribute__((warn_unused_result));

/* ---- the inner message ---- */

/*
 * Find option `number` in an inner message: 1 with *ret_value / *ret_len
 * set, 0 when absent, OSCORE_E_PLAINTEXT when the message is malformed.
 */
int oscore_plaintext_find(const uint8_t *plain, size_t len, unsigned number,
                          const uint8_t **ret_value, size_t *ret_len)
    __attribute__((warn_unused_result));

/*
 * The inner message of the B.1.2 challenge: 4.01 with one Echo option
 * holding the context's current challenge.  Only after
 * oscore_unprotect_request() returned OSCORE_E_ECHO_REQUIRED; returns its
 * length, OSCORE_E_INVALID (no challenge pending) or OSCORE_E_NO_SPACE.
 */
int oscore_echo_plaintext(const struct oscore_ctx *ctx, uint8_t *out, size_t cap)
    __attribute__((warn_unused_result));

#endif
