/*
 * test_oscore.c — unit tests of the OSCORE core (src/coap/oscore.c,
 * RFC 8613).
 *
 * The RFC's Appendix C test vectors, every value each one lists: the HKDF
 * info, keys, Common IV and nonces of C.1-C.3 (client and server); for the
 * requests C.4-C.6 and the responses C.7-C.8 the plaintext (built here from
 * the unprotected CoAP message), aad_array, AAD, nonce, OSCORE option,
 * ciphertext and the whole protected CoAP message, protected by one side
 * and verified by the other.  Then what the vectors do not cover: the
 * option examples of §6.3 and every malformed option of §6.1, tampering
 * with each octet, replays inside and outside the window, one response per
 * request, sequence number exhaustion, checkpoints across a restart
 * (Appendix B.1.1) and the Echo re-synchronisation (Appendix B.1.2).
 *
 * The hex below is pasted from RFC 8613 Appendix C as printed.  The CoAP
 * messages are split into Class E and Class U options by the small codec
 * in this file, written from RFC 7252 §3.1 independently of the module,
 * and a few ciphertexts the module refuses to produce are made with
 * OpenSSL's AES-CCM directly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "coap/oscore.h"
#include "test_util.h"

static struct oscore_aead *aead;

/* ------------------------------------------------------------------ */
/* Appendix C.1-C.3: the contexts                                      */
/* ------------------------------------------------------------------ */

static const uint8_t MASTER_SECRET[16] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                           0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10 };
static const uint8_t MASTER_SALT[8] = { 0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40 };
static const uint8_t ID_CONTEXT[8] = { 0x37, 0xcb, 0xf3, 0x21, 0x00, 0x17, 0xa2, 0xd3 };
static const uint8_t ID_00[1] = { 0x00 };
static const uint8_t ID_01[1] = { 0x01 };

struct kdf_vector {
    bool salt, id_context;
    const uint8_t *sid;
    size_t sid_len;
    const uint8_t *rid;
    size_t rid_len;
    const char *info_sender, *info_recipient, *info_iv;
    const char *sender_key, *recipient_key, *common_iv;
    const char *sender_nonce, *recipient_nonce;     /* Partial IV 0 */
};

/* C.1.1 and C.1.2: Master Salt, client Sender ID empty. */
static const struct kdf_vector C1_CLIENT = {
    true, false, NULL, 0, ID_01, 1,
    "8540f60a634b657910", "854101f60a634b657910", "8540f60a6249560d",
    "f0910ed7295e6ad4b54fc793154302ff", "ffb14e093c94c9cac9471648b4f98710",
    "4622d4dd6d944168eefb54987c",
    "4622d4dd6d944168eefb54987c", "4722d4dd6d944169eefb54987c",
};
static const struct kdf_vector C1_SERVER = {
    true, false, ID_01, 1, NULL, 0,
    "854101f60a634b657910", "8540f60a634b657910", "8540f60a6249560d",
    "ffb14e093c94c9cac9471648b4f98710", "f0910ed7295e6ad4b54fc793154302ff",
    "4622d4dd6d944168eefb54987c",
    "4722d4dd6d944169eefb54987c", "4622d4dd6d944168eefb54987c",
};
/* C.2.1 and C.2.2: no Master Salt. */
static const struct kdf_vector C2_CLIENT = {
    false, false, ID_00, 1, ID_01, 1,
    "854100f60a634b657910", "854101f60a634b657910", "8540f60a6249560d",
    "321b26943253c7ffb6003b0b64d74041", "e57b5635815177cd679ab4bcec9d7dda",
    "be35ae297d2dace910c52e99f9",
    "bf35ae297d2dace910c52e99f9", "bf35ae297d2dace810c52e99f9",
};
static const struct kdf_vector C2_SERVER = {
    false, false, ID_01, 1, ID_00, 1,
    "854101f60a634b657910", "854100f60a634b657910", "8540f60a6249560d",
    "e57b5635815177cd679ab4bcec9d7dda", "321b26943253c7ffb6003b0b64d74041",
    "be35ae297d2dace910c52e99f9",
    "bf35ae297d2dace810c52e99f9", "bf35ae297d2dace910c52e99f9",
};
/* C.3.1 and C.3.2: Master Salt and ID Context. */
static const struct kdf_vector C3_CLIENT = {
    true, true, NULL, 0, ID_01, 1,
    "85404837cbf3210017a2d30a634b657910", "8541014837cbf3210017a2d30a634b657910",
    "85404837cbf3210017a2d30a6249560d",
    "af2a1300a5e95788b356336eeecd2b92", "e39a0c7c77b43f03b4b39ab9a268699f",
    "2ca58fb85ff1b81c0b7181b85e",
    "2ca58fb85ff1b81c0b7181b85e", "2da58fb85ff1b81d0b7181b85e",
};
static const struct kdf_vector C3_SERVER = {
    true, true, ID_01, 1, NULL, 0,
    "8541014837cbf3210017a2d30a634b657910", "85404837cbf3210017a2d30a634b657910",
    "85404837cbf3210017a2d30a6249560d",
    "e39a0c7c77b43f03b4b39ab9a268699f", "af2a1300a5e95788b356336eeecd2b92",
    "2ca58fb85ff1b81c0b7181b85e",
    "2da58fb85ff1b81d0b7181b85e", "2ca58fb85ff1b81c0b7181b85e",
};

static struct oscore_params params_of(const struct kdf_vector *v)
{
    struct oscore_params p;
    memset(&p, 0, sizeof p);
    p.master_secret = MASTER_SECRET;
    p.master_secret_len = sizeof MASTER_SECRET;
    if (v->salt) {
        p.master_salt = MASTER_SALT;
        p.master_salt_len = sizeof MASTER_SALT;
    }
    if (v->id_context) {
        p.has_id_context = true;
        p.id_context = ID_CONTEXT;
        p.id_context_len = sizeof ID_CONTEXT;
        p.send_kid_context = true;  /* C.6: "requires it to be sent" */
    }
    p.sender_id = v->sid;
    p.sender_id_len = v->sid_len;
    p.recipient_id = v->rid;
    p.recipient_id_len = v->rid_len;
    return p;
}

static struct oscore_ctx *ctx_of(const struct kdf_vector *v)
{
    struct oscore_params p = params_of(v);
    struct oscore_ctx *c = NULL;
    assert_int_equal(oscore_ctx_new(&p, &c), 0);
    return c;
}

/* A context whose next Sender Sequence Number is ssn. */
static struct oscore_ctx *ctx_at(const struct kdf_vector *v, uint64_t ssn)
{
    struct oscore_ctx *c = ctx_of(v);
    struct oscore_checkpoint ck = { ssn, 0 };
    assert_int_equal(oscore_ctx_restore(c, &ck), 0);
    return c;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
    uint8_t want[512];
    size_t n = unhex(want_hex, want, sizeof want);
    assert_int_equal(len, n);
    if (n)
        assert_memory_equal(got, want, n);
}

/* Every value of one side of C.1, C.2 or C.3. */
static void check_kdf_vector(const struct kdf_vector *v)
{
    uint8_t info[64], nonce[OSCORE_NONCE_LEN];
    static const uint8_t piv0[1] = { 0x00 };
    const uint8_t *idc = v->id_context ? ID_CONTEXT : NULL;
    size_t idc_len = v->id_context ? sizeof ID_CONTEXT : 0;
    int n;

    n = oscore_kdf_info(v->sid, v->sid_len, idc, idc_len, v->id_context, false, info, sizeof info);
    assert_true(n > 0);
    assert_hex(info, (size_t)n, v->info_sender);
    n = oscore_kdf_info(v->rid, v->rid_len, idc, idc_len, v->id_context, false, info,
                        sizeof info);
    assert_true(n > 0);
    assert_hex(info, (size_t)n, v->info_recipient);
    n = oscore_kdf_info(NULL, 0, idc, idc_len, v->id_context, true, info, sizeof info);
    assert_true(n > 0);
    assert_hex(info, (size_t)n, v->info_iv);

    struct oscore_params p = params_of(v);
    struct oscore_keys k;
    assert_int_equal(oscore_derive(&p, &k), 0);
    assert_hex(k.sender_key, OSCORE_KEY_LEN, v->sender_key);
    assert_hex(k.recipient_key, OSCORE_KEY_LEN, v->recipient_key);
    assert_hex(k.common_iv, OSCORE_NONCE_LEN, v->common_iv);

    oscore_nonce(k.common_iv, v->sid, v->sid_len, piv0, 1, nonce);
    assert_hex(nonce, OSCORE_NONCE_LEN, v->sender_nonce);
    oscore_nonce(k.common_iv, v->rid, v->rid_len, piv0, 1, nonce);
    assert_hex(nonce, OSCORE_NONCE_LEN, v->recipient_nonce);

    oscore_keys_wipe(&k);
    static const struct oscore_keys zero;
    assert_memory_equal(&k, &zero, sizeof k);
}

static void test_c1_client(void **state) { (void)state; check_kdf_vector(&C1_CLIENT); }
static void test_c1_server(void **state) { (void)state; check_kdf_vector(&C1_SERVER); }
static void test_c2_client(void **state) { (void)state; check_kdf_vector(&C2_CLIENT); }
static void test_c2_server(void **state) { (void)state; check_kdf_vector(&C2_SERVER); }
static void test_c3_client(void **state) { (void)state; check_kdf_vector(&C3_CLIENT); }
static void test_c3_server(void **state) { (void)state; check_kdf_vector(&C3_SERVER); }

/* ------------------------------------------------------------------ */
/* A CoAP message codec for the tests (RFC 7252 §3), Figure 5's classes */
/* ------------------------------------------------------------------ */

struct coap_opt {
    unsigned number;
    const uint8_t *value;
    size_t len;
};

struct coap_msg {
    uint8_t hdr[4];
    const uint8_t *token;
    size_t token_len;
    struct coap_opt opts[16];
    size_t nopts;
    const uint8_t *payload;
    size_t payload_len;
};

static size_t nibble_ext(const uint8_t *m, size_t *pos, unsigned nibble)
{
    if (nibble == 13)
        return 13u + m[(*pos)++];
    if (nibble == 14) {
        size_t v = 269u + ((size_t)m[*pos] << 8 | m[*pos + 1]);
        *pos += 2;
        return v;
    }
    assert_true(nibble < 13);
    return nibble;
}

static void coap_parse(const uint8_t *m, size_t len, struct coap_msg *ret)
{
    memset(ret, 0, sizeof *ret);
    assert_true(len >= 4);
    memcpy(ret->hdr, m, 4);
    ret->token_len = m[0] & 0x0f;
    ret->token = m + 4;
    size_t pos = 4 + ret->token_len;
    unsigned number = 0;
    while (pos < len) {
        if (m[pos] == 0xff) {
            ret->payload = m + pos + 1;
            ret->payload_len = len - pos - 1;
            break;
        }
        unsigned head = m[pos++];
        size_t delta = nibble_ext(m, &pos, head >> 4);
        size_t olen = nibble_ext(m, &pos, head & 0x0f);
        number += (unsigned)delta;
        assert_true(ret->nopts < 16 && pos + olen <= len);
        ret->opts[ret->nopts++] = (struct coap_opt){ number, m + pos, olen };
        pos += olen;
    }
}

static size_t nibble_of(size_t v, uint8_t *ext, size_t *ext_len)
{
    if (v < 13)
        return v;
    if (v < 269) {
        ext[(*ext_len)++] = (uint8_t)(v - 13);
        return 13;
    }
    ext[(*ext_len)++] = (uint8_t)((v - 269) >> 8);
    ext[(*ext_len)++] = (uint8_t)(v - 269);
    return 14;
}

static size_t coap_opt_put(uint8_t *out, unsigned prev, unsigned number, const uint8_t *v,
                           size_t len)
{
    uint8_t ext[4];
    size_t ext_len = 0;
    size_t d = nibble_of(number - prev, ext, &ext_len);
    size_t l = nibble_of(len, ext, &ext_len);
    out[0] = (uint8_t)(d << 4 | l);
    memcpy(out + 1, ext, ext_len);
    if (len)
        memcpy(out + 1 + ext_len, v, len);
    return 1 + ext_len + len;
}

/* Figure 5: the options that stay outside (Class U only). */
static bool class_u(unsigned number)
{
    return number == 3 || number == 7 || number == 35 || number == 39;
}

/* §5.3: code, the Class E options, payload marker and payload. */
static size_t make_plaintext(const struct coap_msg *m, uint8_t *out)
{
    size_t n = 0;
    unsigned prev = 0;
    out[n++] = m->hdr[1];
    for (size_t i = 0; i < m->nopts; i++) {
        if (class_u(m->opts[i].number))
            continue;
        n += coap_opt_put(out + n, prev, m->opts[i].number, m->opts[i].value, m->opts[i].len);
        prev = m->opts[i].number;
    }
    if (m->payload_len) {
        out[n++] = 0xff;
        memcpy(out + n, m->payload, m->payload_len);
        n += m->payload_len;
    }
    return n;
}

/* §4: the OSCORE message: outer code, Class U options with OSCORE, ciphertext. */
static size_t make_protected(const struct coap_msg *m, uint8_t outer_code, const uint8_t *opt,
                             size_t opt_len, const uint8_t *ct, size_t ct_len, uint8_t *out)
{
    size_t n = 0;
    unsigned prev = 0;
    bool oscore_done = false;
    memcpy(out, m->hdr, 4);
    out[1] = outer_code;
    n = 4;
    memcpy(out + n, m->token, m->token_len);
    n += m->token_len;
    for (size_t i = 0; i <= m->nopts; i++) {
        unsigned next = i < m->nopts ? m->opts[i].number : 0xffff;
        if (!oscore_done && next > OSCORE_COAP_OPTION) {
            n += coap_opt_put(out + n, prev, OSCORE_COAP_OPTION, opt, opt_len);
            prev = OSCORE_COAP_OPTION;
            oscore_done = true;
        }
        if (i < m->nopts && class_u(next)) {
            n += coap_opt_put(out + n, prev, next, m->opts[i].value, m->opts[i].len);
            prev = next;
        }
    }
    out[n++] = 0xff;
    memcpy(out + n, ct, ct_len);
    return n + ct_len;
}

/* ------------------------------------------------------------------ */
/* Appendix C.4-C.6: requests                                          */
/* ------------------------------------------------------------------ */

struct request_vector {
    const struct kdf_vector *client, *server;
    const char *unprotected;
    uint64_t ssn;
    const char *piv, *kid, *aad_array, *aad, *plaintext, *nonce, *option, *ciphertext;
    const char *protected_msg;
};

static const struct request_vector C4 = {
    &C1_CLIENT, &C1_SERVER, "44015d1f00003974396c6f63616c686f737483747631", 20,
    "14", "", "8501810a40411440", "8368456e63727970743040488501810a40411440",
    "01b3747631", "4622d4dd6d944168eefb549868", "0914", "612f1092f1776f1c1668b3825e",
    "44025d1f00003974396c6f6 3616c686f7374620914ff612f1092f1776f1c1668b3825e",
};
static const struct request_vector C5 = {
    &C2_CLIENT, &C2_SERVER, "440171c30000b932396c6f63616c686f737483747631", 20,
    "14", "00", "8501810a4100411440", "8368456e63727970743040498501810a4100411440",
    "01b3747631", "bf35ae297d2dace910c52e99ed", "091400", "4ed339a5a379b0b8bc731fffb0",
    "440271c30000b932396c6f6 3616c686f737463091400ff4ed339a5a379b0b8bc731fffb0",
};
static const struct request_vector C6 = {
    &C3_CLIENT, &C3_SERVER, "44012f8eef9bbf7a396c6f63616c686f737483747631", 20,
    "14", "", "8501810a40411440", "8368456e63727970743040488501810a40411440",
    "01b3747631", "2ca58fb85ff1b81c0b7181b84a", "19140837cbf3210017a2d3",
    "72cd7273fd331ac45cffbe55c3",
    "44022f8eef9bbf7a396c6f63616c686f73746b19140837cbf3210017a2d3ff"
    "72cd7273fd331ac45cffbe55c3",
};

static void check_request_vector(const struct request_vector *v)
{
    uint8_t unprot[64], plain[64], kid[8], piv[8], aad[OSCORE_AAD_MAX], nonce[OSCORE_NONCE_LEN];
    uint8_t ct[64], msg[128], got[64];
    struct coap_msg m;
    struct oscore_protected p;
    struct oscore_exchange x, sx;
    struct oscore_keys k;
    size_t got_len = 0;

    size_t ulen = unhex(v->unprotected, unprot, sizeof unprot);
    coap_parse(unprot, ulen, &m);
    size_t plen = make_plaintext(&m, plain);
    assert_hex(plain, plen, v->plaintext);

    /* The derived parameters, one by one. */
    size_t kid_len = unhex(v->kid, kid, sizeof kid);
    size_t piv_len = unhex(v->piv, piv, sizeof piv);
    int aad_len = oscore_aad(kid, kid_len, piv, piv_len, aad);
    assert_true(aad_len > 0);
    assert_hex(aad, (size_t)aad_len, v->aad);
    uint8_t arr[32];
    size_t arr_len = unhex(v->aad_array, arr, sizeof arr);
    /* external_aad is the last item: a bstr head (one octet here), then aad_array. */
    assert_int_equal(aad[(size_t)aad_len - arr_len - 1], 0x40 | arr_len);
    assert_memory_equal(aad + (size_t)aad_len - arr_len, arr, arr_len);
    struct oscore_params cp = params_of(v->client);
    assert_int_equal(oscore_derive(&cp, &k), 0);
    oscore_nonce(k.common_iv, kid, kid_len, piv, piv_len, nonce);
    assert_hex(nonce, OSCORE_NONCE_LEN, v->nonce);
    oscore_keys_wipe(&k);

    /* The client protects. */
    struct oscore_ctx *client = ctx_at(v->client, v->ssn);
    assert_int_equal(oscore_protect_request(aead, client, plain, plen, ct, sizeof ct, &p, &x), 0);
    assert_hex(p.option, p.option_len, v->option);
    assert_hex(ct, p.payload_len, v->ciphertext);
    size_t mlen = make_protected(&m, OSCORE_OUTER_REQUEST_CODE, p.option, p.option_len, ct,
                                 p.payload_len, msg);
    assert_hex(msg, mlen, v->protected_msg);
    assert_int_equal(x.kid_len, kid_len);
    assert_memory_equal(x.kid, kid, kid_len);
    assert_int_equal(x.piv_len, piv_len);
    assert_memory_equal(x.piv, piv, piv_len);

    /* The server verifies the protected message as the RFC prints it. */
    struct coap_msg pm;
    coap_parse(msg, mlen, &pm);
    const struct coap_opt *o = NULL;
    for (size_t i = 0; i < pm.nopts; i++)
        if (pm.opts[i].number == OSCORE_COAP_OPTION)
            o = &pm.opts[i];
    assert_non_null(o);
    struct oscore_ctx *server = ctx_of(v->server);
    assert_int_equal(oscore_unprotect_request(aead, server, o->value, o->len, pm.payload,
                                              pm.payload_len, got, sizeof got, &got_len, &sx),
                     0);
    assert_hex(got, got_len, v->plaintext);
    assert_memory_equal(&sx, &x, sizeof x);
    struct oscore_stats st;
    oscore_ctx_stats(server, &st);
    assert_int_equal(st.verified, 1);

    /* The inner message carries Uri-Path "tv1" and nothing outer. */
    const uint8_t *val;
    size_t vlen;
    assert_int_equal(oscore_plaintext_find(got, got_len, 11, &val, &vlen), 1);
    assert_int_equal(vlen, 3);
    assert_memory_equal(val, "tv1", 3);
    assert_int_equal(oscore_plaintext_find(got, got_len, 3, &val, &vlen), 0);

    oscore_ctx_free(client);
    oscore_ctx_free(server);
}

static void test_c4_request(void **state) { (void)state; check_request_vector(&C4); }
static void test_c5_request(void **state) { (void)state; check_request_vector(&C5); }
static void test_c6_request(void **state) { (void)state; check_request_vector(&C6); }

/* ------------------------------------------------------------------ */
/* Appendix C.7-C.8: responses to the request of C.4                   */
/* ------------------------------------------------------------------ */

static const char C7_UNPROTECTED[] = "64455d1f00003974ff48656c6c6f20576f726c6421";
static const char RESP_PLAINTEXT[] = "45ff48656c6c6f20576f726c6421";

/* The C.4 exchange on both sides: the client's and the server's. */
static void c4_exchange(struct oscore_ctx **ret_client, struct oscore_ctx **ret_server,
                        struct oscore_exchange *cx, struct oscore_exchange *sx)
{
    uint8_t plain[16], ct[64], got[64];
    struct oscore_protected p;
    size_t plen = unhex(C4.plaintext, plain, sizeof plain), got_len;

    *ret_client = ctx_at(&C1_CLIENT, 20);
    *ret_server = ctx_of(&C1_SERVER);
    assert_int_equal(oscore_protect_request(aead, *ret_client, plain, plen, ct, sizeof ct, &p, cx),
                     0);
    assert_int_equal(oscore_unprotect_request(aead, *ret_server, p.option, p.option_len, ct,
                                              p.payload_len, got, sizeof got, &got_len, sx),
                     0);
}

static void check_response_vector(bool own_piv, const char *nonce_hex, const char *option_hex,
                                  const char *ct_hex, const char *msg_hex)
{
    uint8_t unprot[64], plain[64], aad[OSCORE_AAD_MAX], nonce[OSCORE_NONCE_LEN], ct[64],
        msg[128], got[64];
    struct oscore_ctx *client, *server;
    struct oscore_exchange cx, sx;
    struct oscore_protected p;
    struct coap_msg m;
    size_t got_len = 0;

    size_t ulen = unhex(C7_UNPROTECTED, unprot, sizeof unprot);
    coap_parse(unprot, ulen, &m);
    size_t plen = make_plaintext(&m, plain);
    assert_hex(plain, plen, RESP_PLAINTEXT);
    c4_exchange(&client, &server, &cx, &sx);

    /* aad_array and AAD: those of the request (§5.4). */
    int aad_len = oscore_aad(sx.kid, sx.kid_len, sx.piv, sx.piv_len, aad);
    assert_hex(aad, (size_t)aad_len, "8368456e63727970743040488501810a40411440");
    struct oscore_params sp = params_of(&C1_SERVER);
    struct oscore_keys k;
    assert_int_equal(oscore_derive(&sp, &k), 0);
    assert_hex(k.sender_key, OSCORE_KEY_LEN, "ffb14e093c94c9cac9471648b4f98710");
    static const uint8_t piv0[1] = { 0 };
    if (own_piv)   /* the server's Sender ID and its Sender Sequence Number 0 */
        oscore_nonce(k.common_iv, ID_01, 1, piv0, 1, nonce);
    else           /* the request's nonce */
        oscore_nonce(k.common_iv, sx.kid, sx.kid_len, sx.piv, sx.piv_len, nonce);
    assert_hex(nonce, OSCORE_NONCE_LEN, nonce_hex);
    oscore_keys_wipe(&k);

    assert_int_equal(oscore_protect_response(aead, server, &sx, own_piv, plain, plen, ct,
                                             sizeof ct, &p),
                     0);
    assert_hex(p.option, p.option_len, option_hex);
    assert_hex(ct, p.payload_len, ct_hex);
    size_t mlen = make_protected(&m, OSCORE_OUTER_RESPONSE_CODE, p.option, p.option_len, ct,
                                 p.payload_len, msg);
    assert_hex(msg, mlen, msg_hex);

    /* The client verifies the response as printed. */
    assert_int_equal(oscore_unprotect_response(aead, client, &cx, p.option, p.option_len, ct,
                                               p.payload_len, got, sizeof got, &got_len),
                     0);
    assert_hex(got, got_len, RESP_PLAINTEXT);
    /* One response per request (§7.4): the same one again is refused. */
    assert_int_equal(oscore_unprotect_response(aead, client, &cx, p.option, p.option_len, ct,
                                               p.payload_len, got, sizeof got, &got_len),
                     OSCORE_E_ANSWERED);
    oscore_ctx_free(client);
    oscore_ctx_free(server);
}

static void test_c7_response(void **state)
{
    (void)state;
    check_response_vector(false, "4622d4dd6d944168eefb549868", "",
                          "dbaad1e9a7e7b2a813d3c31524378303cdafae119106",
                          "64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106");
}

static void test_c8_response_piv(void **state)
{
    (void)state;
    check_response_vector(true, "4722d4dd6d944169eefb54987c", "0100",
                          "4d4c13669384b67354b2b6175ff4b8658c666a6cf88e",
                          "64445d1f00003974920100ff4d4c13669384b67354b2b6175ff4b8658c666a6cf88e");
}

/* ------------------------------------------------------------------ */
/* The option value (§6.1, §6.3)                                       */
/* ------------------------------------------------------------------ */

/* §6.3's compressed examples: parse, check each field, re-encode. */
static void test_option_examples(void **state)
{
    (void)state;
    static const struct {
        const char *value, *piv, *kid_context, *kid;  /* NULL: absent */
    } ex[] = {
        { "090525", "05", NULL, "25" },
        { "0900", "00", NULL, "" },
        { "19050544616c656b", "05", "44616c656b", "" },
        { "", "", NULL, NULL },
        { "0107", "07", NULL, NULL },
        { "0914", "14", NULL, "" },                               /* C.4 */
        { "19140837cbf3210017a2d3", "14", "37cbf3210017a2d3", "" }, /* C.6 */
        { "0d0102030405", "0102030405", NULL, "" },              /* 5-octet PIV */
        { "1000", "", "", NULL },                                /* empty kid context */
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        uint8_t v[32], want[32], out[OSCORE_OPTION_MAX];
        size_t n = unhex(ex[i].value, v, sizeof v);
        struct oscore_option o;
        assert_int_equal(oscore_option_parse(v, n, &o), 0);
        assert_hex(o.piv, o.piv_len, ex[i].piv);
        assert_int_equal(o.has_kid_context, ex[i].kid_context != NULL);
        if (ex[i].kid_context)
            assert_int_equal(o.kid_context_len, unhex(ex[i].kid_context, want, sizeof want));
        if (o.kid_context_len)
            assert_memory_equal(o.kid_context, want, o.kid_context_len);
        assert_int_equal(o.has_kid, ex[i].kid != NULL);
        if (ex[i].kid)
            assert_hex(o.kid, o.kid_len, ex[i].kid);
        int len = oscore_option_encode(&o, out, sizeof out);
        assert_int_equal(len, (int)n);
        assert_memory_equal(out, v, n);
    }
}

/* Every way §6.1 and §2 make a value malformed, each with its reason. */
static void test_option_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int err;
    } bad[] = {
        { "2914", OSCORE_E_OPT_RESERVED },      /* bit 5 (0x20) */
        { "4914", OSCORE_E_OPT_RESERVED },      /* bit 6 */
        { "8914", OSCORE_E_OPT_RESERVED },      /* bit 7 */
        { "e0", OSCORE_E_OPT_RESERVED },
        { "0e010203040506", OSCORE_E_OPT_PIV_LEN },   /* n = 6 */
        { "0f01020304050607", OSCORE_E_OPT_PIV_LEN }, /* n = 7 */
        { "07", OSCORE_E_OPT_PIV_LEN },
        { "00", OSCORE_E_OPT_FLAGS_ZERO },      /* §2: flags 0 means empty */
        { "0001", OSCORE_E_OPT_FLAGS_ZERO },
        { "03", OSCORE_E_OPT_TRUNCATED },       /* n = 3, nothing follows */
        { "030102", OSCORE_E_OPT_TRUNCATED },
        { "10", OSCORE_E_OPT_TRUNCATED },       /* h without s */
        { "1103", OSCORE_E_OPT_TRUNCATED },     /* PIV then no s */
        { "1005aabbcc", OSCORE_E_OPT_TRUNCATED }, /* s = 5, three follow */
        { "011400", OSCORE_E_OPT_TRAILING },    /* a kid without the k flag */
        { "1001aabb", OSCORE_E_OPT_TRAILING },
        { "020014", OSCORE_E_OPT_PIV },         /* §5: leading zero octet */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t v[16];
        size_t n = unhex(bad[i].value, v, sizeof v);
        struct oscore_option o;
        memset(&o, 0xa5, sizeof o);
        struct oscore_option before = o;
        assert_int_equal(oscore_option_parse(v, n, &o), bad[i].err);
        assert_memory_equal(&o, &before, sizeof o);   /* untouched on failure */
    }
    /* Zero octets after a one-octet PIV 00 belong to the kid: well formed. */
    uint8_t v[5] = { 0x09, 0x00, 0x00, 0x00, 0x01 };
    struct oscore_option o;
    assert_int_equal(oscore_option_parse(v, sizeof v, &o), 0);
    assert_int_equal(o.kid_len, 3);

    uint8_t big[OSCORE_OPTION_MAX + 1];
    memset(big, 0, sizeof big);
    big[0] = 0x08;   /* k: the rest is a kid */
    assert_int_equal(oscore_option_parse(big, OSCORE_OPTION_MAX, &o), 0);
    assert_int_equal(o.kid_len, OSCORE_OPTION_MAX - 1);
    assert_int_equal(oscore_option_parse(big, sizeof big, &o), OSCORE_E_OPT_TOO_LONG);

    /* The encoder refuses what the parser would. */
    uint8_t out[OSCORE_OPTION_MAX], piv[2] = { 0x00, 0x14 };
    struct oscore_option e;
    memset(&e, 0, sizeof e);
    e.piv = piv;
    e.piv_len = 2;
    assert_int_equal(oscore_option_encode(&e, out, sizeof out), OSCORE_E_INVALID);
    e.piv_len = 6;
    assert_int_equal(oscore_option_encode(&e, out, sizeof out), OSCORE_E_INVALID);
    e.piv = piv + 1;
    e.piv_len = 1;
    assert_int_equal(oscore_option_encode(&e, out, 1), OSCORE_E_NO_SPACE);
    assert_int_equal(oscore_option_encode(&e, out, 2), 2);
}

static void test_piv_encoding(void **state)
{
    (void)state;
    static const struct {
        uint64_t seq;
        const char *piv;
    } cases[] = {
        { 0, "00" }, { 20, "14" }, { 255, "ff" }, { 256, "0100" },
        { 65535, "ffff" }, { 0x1000000, "01000000" }, { OSCORE_SEQ_MAX, "ffffffffff" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t piv[OSCORE_PIV_MAX];
        size_t n = oscore_piv_encode(cases[i].seq, piv);
        assert_hex(piv, n, cases[i].piv);
        assert_true(oscore_piv_value(piv, n) == cases[i].seq);
    }
}

/* ------------------------------------------------------------------ */
/* Verifying requests: refusals and tampering                           */
/* ------------------------------------------------------------------ */

/* A request of the C.2 client (Sender ID 00) with sequence number seq. */
struct wire {
    uint8_t option[OSCORE_OPTION_OUT_MAX];
    size_t option_len;
    uint8_t payload[128];
    size_t payload_len;
};

static const uint8_t GET_TV1[] = { 0x01, 0xb3, 't', 'v', '1' };

static void request_at(uint64_t seq, const uint8_t *plain, size_t plen, struct wire *w)
{
    struct oscore_ctx *c = ctx_at(&C2_CLIENT, seq);
    struct oscore_protected p;
    struct oscore_exchange x;
    assert_int_equal(oscore_protect_request(aead, c, plain, plen, w->payload, sizeof w->payload,
                                            &p, &x),
                     0);
    memcpy(w->option, p.option, p.option_len);
    w->option_len = p.option_len;
    w->payload_len = p.payload_len;
    oscore_ctx_free(c);
}

static int verify(struct oscore_ctx *server, const struct wire *w)
{
    uint8_t got[128];
    size_t got_len = 0xdead;
    struct oscore_exchange x;
    int rc = oscore_unprotect_request(aead, server, w->option, w->option_len, w->payload,
                                      w->payload_len, got, sizeof got, &got_len, &x);
    if (rc == 0) {
        assert_int_equal(got_len, w->payload_len - OSCORE_TAG_LEN);
    } else {
        assert_int_equal(got_len, 0xdead);    /* untouched on failure */
    }
    return rc;
}

static uint64_t refused(const struct oscore_ctx *c, int err)
{
    struct oscore_stats st;
    oscore_ctx_stats(c, &st);
    return st.refused[-err];
}

/* Each malformed option reaches unprotect as its own, counted reason. */
static void test_request_bad_options(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int err;
    } bad[] = {
        { "2914", OSCORE_E_OPT_RESERVED }, { "0e010203040506", OSCORE_E_OPT_PIV_LEN },
        { "00", OSCORE_E_OPT_FLAGS_ZERO }, { "03", OSCORE_E_OPT_TRUNCATED },
        { "011400", OSCORE_E_OPT_TRAILING }, { "020014", OSCORE_E_OPT_PIV },
        { "", OSCORE_E_NO_PIV },             /* §5: a request carries a PIV */
        { "0800", OSCORE_E_NO_PIV },         /* kid 00, no PIV */
        { "0114", OSCORE_E_NO_KID },         /* PIV, no kid */
        { "091401", OSCORE_E_UNKNOWN_KID },  /* kid 01 is not this RID (00) */
        { "0914", OSCORE_E_UNKNOWN_KID },    /* empty kid */
        { "09140000", OSCORE_E_UNKNOWN_KID },
        { "19140101" "00", OSCORE_E_KID_CONTEXT }, /* kid context, none here */
    };
    struct wire w;
    request_at(20, GET_TV1, sizeof GET_TV1, &w);
    struct oscore_ctx *server = ctx_of(&C2_SERVER);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct wire t = w;
        t.option_len = unhex(bad[i].value, t.option, sizeof t.option);
        uint64_t before = refused(server, bad[i].err);
        assert_int_equal(verify(server, &t), bad[i].err);
        assert_true(refused(server, bad[i].err) == before + 1);
    }
    /* §2: no payload; less than a code octet and the tag. */
    struct wire t = w;
    t.payload_len = 0;
    assert_int_equal(verify(server, &t), OSCORE_E_NO_PAYLOAD);
    t.payload_len = OSCORE_TAG_LEN;
    assert_int_equal(verify(server, &t), OSCORE_E_NO_PAYLOAD);
    /* None of it touched the window: the real request still verifies. */
    assert_int_equal(verify(server, &w), 0);
    oscore_ctx_free(server);

    /* A kid context that differs from the ID Context (C.3 server). */
    struct oscore_ctx *c3 = ctx_at(&C3_CLIENT, 20);
    struct oscore_ctx *s3 = ctx_of(&C3_SERVER);
    struct oscore_protected p;
    struct oscore_exchange x;
    assert_int_equal(oscore_protect_request(aead, c3, GET_TV1, sizeof GET_TV1, t.payload,
                                            sizeof t.payload, &p, &x),
                     0);
    memcpy(t.option, p.option, p.option_len);
    t.option_len = p.option_len;
    t.payload_len = p.payload_len;
    t.option[10] ^= 1;                   /* last octet of the kid context */
    assert_int_equal(verify(s3, &t), OSCORE_E_KID_CONTEXT);
    t.option[10] ^= 1;
    t.option_len = 2;                    /* the same without kid context: known ID Context */
    t.option[0] = 0x09;
    assert_int_equal(verify(s3, &t), 0);
    oscore_ctx_free(c3);
    oscore_ctx_free(s3);
}

/* Flip each octet of the ciphertext and tag, and the PIV: all refused. */
static void test_request_tampering(void **state)
{
    (void)state;
    struct wire w;
    static const uint8_t post[] = { 0x02, 0xb5, 'm', 'e', 't', 'e', 'r', 0xff, '4', '2' };
    request_at(7, post, sizeof post, &w);
    struct oscore_ctx *server = ctx_of(&C2_SERVER);
    for (size_t i = 0; i < w.payload_len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            struct wire t = w;
            t.payload[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(verify(server, &t), OSCORE_E_DECRYPT);
        }
    }
    assert_true(refused(server, OSCORE_E_DECRYPT) == 8 * w.payload_len);
    /* Another sequence number: another nonce and AAD. */
    struct wire t = w;
    t.option[1] = 8;
    assert_int_equal(verify(server, &t), OSCORE_E_DECRYPT);
    /* Truncated by one octet. */
    t = w;
    t.payload_len--;
    assert_int_equal(verify(server, &t), OSCORE_E_DECRYPT);
    assert_int_equal(verify(server, &w), 0);
    oscore_ctx_free(server);
}

/* A response is bound to its request; each flipped octet is refused. */
static void test_response_tampering(void **state)
{
    (void)state;
    struct oscore_ctx *client, *server;
    struct oscore_exchange cx, sx;
    struct oscore_protected p;
    uint8_t plain[32], ct[64], got[64];
    size_t plen = unhex(RESP_PLAINTEXT, plain, sizeof plain), got_len;

    c4_exchange(&client, &server, &cx, &sx);
    assert_int_equal(
        oscore_protect_response(aead, server, &sx, false, plain, plen, ct, sizeof ct, &p), 0);
    for (size_t i = 0; i < p.payload_len; i++) {
        struct oscore_exchange x = cx;
        ct[i] ^= 0x01;
        assert_int_equal(oscore_unprotect_response(aead, client, &x, p.option, p.option_len, ct,
                                                   p.payload_len, got, sizeof got, &got_len),
                         OSCORE_E_DECRYPT);
        ct[i] ^= 0x01;
    }
    /* The same response for another request of the client does not verify. */
    struct oscore_exchange other;
    uint8_t req_ct[32];
    struct oscore_protected rp;
    assert_int_equal(oscore_protect_request(aead, client, GET_TV1, sizeof GET_TV1, req_ct,
                                            sizeof req_ct, &rp, &other),
                     0);
    assert_int_equal(oscore_unprotect_response(aead, client, &other, p.option, p.option_len, ct,
                                               p.payload_len, got, sizeof got, &got_len),
                     OSCORE_E_DECRYPT);
    /* A response with a Partial IV the server never used does not either. */
    uint8_t fake_opt[2] = { 0x01, 0x05 };
    struct oscore_exchange x = cx;
    assert_int_equal(oscore_unprotect_response(aead, client, &x, fake_opt, 2, ct, p.payload_len,
                                               got, sizeof got, &got_len),
                     OSCORE_E_DECRYPT);
    x = cx;
    assert_int_equal(oscore_unprotect_response(aead, client, &x, p.option, p.option_len, ct,
                                               p.payload_len, got, sizeof got, &got_len),
                     0);
    oscore_ctx_free(client);
    oscore_ctx_free(server);
}

/* The request's nonce serves one response only; own PIVs as many as wanted. */
static void test_response_nonce_once(void **state)
{
    (void)state;
    struct oscore_ctx *client, *server;
    struct oscore_exchange cx, sx;
    struct oscore_protected p1, p2, p3;
    uint8_t plain[32], ct[64], ct2[64];
    size_t plen = unhex(RESP_PLAINTEXT, plain, sizeof plain);

    c4_exchange(&client, &server, &cx, &sx);
    assert_int_equal(
        oscore_protect_response(aead, server, &sx, false, plain, plen, ct, sizeof ct, &p1), 0);
    assert_true(sx.flags & OSCORE_EXCHANGE_ANSWERED);
    assert_int_equal(
        oscore_protect_response(aead, server, &sx, false, plain, plen, ct2, sizeof ct2, &p2),
        OSCORE_E_ANSWERED);
    assert_int_equal(
        oscore_protect_response(aead, server, &sx, true, plain, plen, ct2, sizeof ct2, &p2), 0);
    assert_hex(p2.option, p2.option_len, "0100");
    assert_int_equal(
        oscore_protect_response(aead, server, &sx, true, plain, plen, ct2, sizeof ct2, &p3), 0);
    assert_hex(p3.option, p3.option_len, "0101");
    /* An exchange that is not this context's, and a request code in a response. */
    struct oscore_exchange bad = sx;
    bad.kid_len = 1;
    assert_int_equal(
        oscore_protect_response(aead, server, &bad, true, plain, plen, ct2, sizeof ct2, &p3),
        OSCORE_E_INVALID);
    assert_int_equal(oscore_protect_response(aead, server, &sx, true, GET_TV1, sizeof GET_TV1,
                                             ct2, sizeof ct2, &p3),
                     OSCORE_E_INVALID);
    assert_int_equal(oscore_protect_response(aead, server, &sx, true, plain, plen, ct2,
                                             plen + OSCORE_TAG_LEN - 1, &p3),
                     OSCORE_E_NO_SPACE);
    oscore_ctx_free(client);
    oscore_ctx_free(server);
}

/* ------------------------------------------------------------------ */
/* Replay protection (§7.4)                                             */
/* ------------------------------------------------------------------ */

static void test_replay_same_piv(void **state)
{
    (void)state;
    struct wire w;
    request_at(42, GET_TV1, sizeof GET_TV1, &w);
    struct oscore_ctx *server = ctx_of(&C2_SERVER);
    assert_int_equal(verify(server, &w), 0);
    assert_int_equal(verify(server, &w), OSCORE_E_REPLAY);
    assert_int_equal(verify(server, &w), OSCORE_E_REPLAY);
    assert_true(refused(server, OSCORE_E_REPLAY) == 2);
    oscore_ctx_free(server);
}

static void test_replay_window(void **state)
{
    (void)state;
    struct oscore_ctx *server = ctx_of(&C2_SERVER);
    static const struct {
        uint64_t seq;
        int want;
    } steps[] = {
        { 10, 0 },
        { 5, 0 },                        /* older, inside the window: once */
        { 7, 0 },
        { 5, OSCORE_E_REPLAY },
        { 11, 0 },
        { 100, 0 },                      /* a jump forward */
        { 100 - 63, 0 },                 /* the window's oldest slot */
        { 100 - 64, OSCORE_E_TOO_OLD },  /* just outside */
        { 11, OSCORE_E_TOO_OLD },
        { 99, 0 },
        { 99, OSCORE_E_REPLAY },
        { 1000, 0 },                     /* the window slides past everything */
        { 999, 0 },
        { 100, OSCORE_E_TOO_OLD },
        { 1000, OSCORE_E_REPLAY },
        { OSCORE_SEQ_MAX, 0 },           /* 2^40 - 1: a five-octet PIV */
        { OSCORE_SEQ_MAX, OSCORE_E_REPLAY },
        { OSCORE_SEQ_MAX - 1, 0 },
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct wire w;
        request_at(steps[i].seq, GET_TV1, sizeof GET_TV1, &w);
        assert_int_equal(verify(server, &w), steps[i].want);
    }
    struct oscore_stats st;
    oscore_ctx_stats(server, &st);
    assert_int_equal(st.verified, 11);
    assert_int_equal(st.refused[-OSCORE_E_REPLAY], 4);
    assert_int_equal(st.refused[-OSCORE_E_TOO_OLD], 3);
    oscore_ctx_free(server);
}

/* §7.2.1: nothing is sent past 2^40 - 1. */
static void test_sequence_exhausted(void **state)
{
    (void)state;
    struct oscore_ctx *c = ctx_at(&C2_CLIENT, OSCORE_SEQ_MAX);
    uint8_t ct[32];
    struct oscore_protected p;
    struct oscore_exchange x;
    assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct, &p,
                                            &x),
                     0);
    assert_hex(p.option, p.option_len, "0dffffffffff00");
    assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct, &p,
                                            &x),
                     OSCORE_E_SEQ_EXHAUSTED);
    oscore_ctx_free(c);

    c = ctx_of(&C2_CLIENT);
    struct oscore_checkpoint ck = { OSCORE_SEQ_MAX + 1, 0 };
    assert_int_equal(oscore_ctx_restore(c, &ck), 0);
    assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct, &p,
                                            &x),
                     OSCORE_E_SEQ_EXHAUSTED);
    /* Restoring a used context, or past the limit, is refused. */
    assert_int_equal(oscore_ctx_restore(c, &ck), OSCORE_E_INVALID);
    oscore_ctx_free(c);
    c = ctx_of(&C2_CLIENT);
    ck.sender_limit = OSCORE_SEQ_MAX + 2;
    assert_int_equal(oscore_ctx_restore(c, &ck), OSCORE_E_INVALID);
    ck.sender_limit = 0;
    ck.replay_limit = OSCORE_SEQ_MAX + 2;   /* neither a limit nor "unknown" */
    assert_int_equal(oscore_ctx_restore(c, &ck), OSCORE_E_INVALID);
    ck.replay_limit = OSCORE_SEQ_MAX + 1;
    assert_int_equal(oscore_ctx_restore(c, &ck), 0);
    oscore_ctx_free(c);
}

/* ------------------------------------------------------------------ */
/* Restarts: checkpoints (B.1.1) and Echo (B.1.2)                      */
/* ------------------------------------------------------------------ */

/* A durable store, as the daemon's would be: one row per context. */
struct store {
    struct oscore_checkpoint ck;
    unsigned writes;
    bool fail;
};

static int store_put(void *arg, const struct oscore_checkpoint *ck)
{
    struct store *s = arg;
    if (s->fail)
        return -EIO;
    /* Limits only ever grow (an unknown window becomes known once). */
    assert_true(ck->sender_limit >= s->ck.sender_limit);
    assert_true(ck->replay_limit >= s->ck.replay_limit ||
                s->ck.replay_limit == OSCORE_REPLAY_UNKNOWN);
    s->ck = *ck;
    s->writes++;
    return 0;
}

static struct oscore_ctx *ctx_stored(const struct kdf_vector *v, struct store *s, uint32_t k)
{
    struct oscore_params p = params_of(v);
    struct oscore_ctx *c = NULL;
    p.checkpoint_interval = k;
    p.persist = store_put;
    p.persist_arg = s;
    assert_int_equal(oscore_ctx_new(&p, &c), 0);
    return c;
}

static uint64_t sent_seq(const struct oscore_protected *p)
{
    struct oscore_option o;
    assert_int_equal(oscore_option_parse(p->option, p->option_len, &o), 0);
    return oscore_piv_value(o.piv, o.piv_len);
}

/* The client side: a restart never reuses a sequence number (B.1.1). */
static void test_restart_sender(void **state)
{
    (void)state;
    struct store s = { { 0, 0 }, 0, false };
    struct oscore_ctx *c = ctx_stored(&C2_CLIENT, &s, 4);
    uint8_t ct[32];
    struct oscore_protected p;
    struct oscore_exchange x;
    for (uint64_t i = 0; i < 10; i++) {
        assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct,
                                                &p, &x),
                         0);
        assert_true(sent_seq(&p) == i);
    }
    /* Stored before 0, 4 and 8 were used: the limit is 12. */
    assert_int_equal(s.writes, 3);
    assert_true(s.ck.sender_limit == 12);

    /* A failing store refuses the message and spends no number. */
    s.fail = true;
    assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct, &p,
                                            &x),
                     0);                  /* 10: still under the limit */
    assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct, &p,
                                            &x),
                     0);                  /* 11 */
    assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct, &p,
                                            &x),
                     OSCORE_E_PERSIST);   /* 12 needs a checkpoint */
    s.fail = false;
    assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct, &p,
                                            &x),
                     0);
    assert_true(sent_seq(&p) == 12);
    assert_true(s.ck.sender_limit == 16);
    oscore_ctx_free(c);                   /* the crash */

    c = ctx_stored(&C2_CLIENT, &s, 4);
    assert_int_equal(oscore_ctx_restore(c, &s.ck), 0);
    assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct, &p,
                                            &x),
                     0);
    assert_true(sent_seq(&p) == 16);      /* past everything used before */
    oscore_ctx_free(c);
}

/* The server side: a restart never accepts a request twice. */
static void test_restart_replay_window(void **state)
{
    (void)state;
    struct store s = { { 0, 0 }, 0, false };
    struct oscore_ctx *server = ctx_stored(&C2_SERVER, &s, 4);
    struct wire w[12];
    for (uint64_t i = 0; i < 12; i++)
        request_at(i, GET_TV1, sizeof GET_TV1, &w[i]);
    for (uint64_t i = 0; i < 6; i++)
        assert_int_equal(verify(server, &w[i]), 0);
    /* Stored before accepting 0 and 4. */
    assert_int_equal(s.writes, 2);
    assert_true(s.ck.replay_limit == 8);

    /* A failing store refuses the request and does not mark it seen. */
    s.fail = true;
    assert_int_equal(verify(server, &w[6]), 0);          /* 6 < 8: no write */
    assert_int_equal(verify(server, &w[9]), OSCORE_E_PERSIST);
    assert_true(refused(server, OSCORE_E_PERSIST) == 1);
    s.fail = false;
    oscore_ctx_free(server);                             /* the crash */

    server = ctx_stored(&C2_SERVER, &s, 4);
    assert_int_equal(oscore_ctx_restore(server, &s.ck), 0);
    /*
     * A checkpoint for the server's own sequence number (a response with
     * its own Partial IV) carries the restored replay limit along.
     */
    struct oscore_exchange x = { { 0x00 }, 1, { 0x05 }, 1, 0 };
    struct oscore_protected p;
    uint8_t resp[] = { 0x44 }, ct[16];
    assert_int_equal(oscore_protect_response(aead, server, &x, true, resp, 1, ct, sizeof ct, &p),
                     0);
    assert_true(s.ck.sender_limit == 4 && s.ck.replay_limit == 8);
    assert_int_equal(s.writes, 3);
    assert_int_equal(verify(server, &w[5]), OSCORE_E_TOO_OLD);   /* a replay */
    assert_int_equal(verify(server, &w[0]), OSCORE_E_TOO_OLD);
    assert_int_equal(verify(server, &w[7]), OSCORE_E_TOO_OLD);   /* sacrificed */
    assert_int_equal(verify(server, &w[9]), 0);
    assert_true(s.ck.replay_limit == 13);
    assert_int_equal(verify(server, &w[9]), OSCORE_E_REPLAY);
    assert_int_equal(verify(server, &w[8]), 0);     /* at the limit: never accepted */
    assert_int_equal(verify(server, &w[10]), 0);

    /* A clean shutdown: the tight checkpoint loses nothing. */
    struct oscore_checkpoint ck;
    oscore_ctx_checkpoint(server, &ck);
    assert_true(ck.sender_limit == 1 && ck.replay_limit == 11);
    s.ck = ck;                            /* what the daemon stores at exit */
    oscore_ctx_free(server);
    server = ctx_stored(&C2_SERVER, &s, 4);
    assert_int_equal(oscore_ctx_restore(server, &ck), 0);
    assert_int_equal(verify(server, &w[10]), OSCORE_E_TOO_OLD);
    assert_int_equal(verify(server, &w[11]), 0);
    oscore_ctx_free(server);
}

/* A request of the C.2 client carrying an inner Echo option. */
static size_t get_with_echo(const uint8_t *echo, size_t echo_len, uint8_t *out)
{
    size_t n = 0;
    out[n++] = 0x01;                                 /* GET */
    n += coap_opt_put(out + n, 0, 11, (const uint8_t *)"tv1", 3);
    n += coap_opt_put(out + n, 11, OSCORE_COAP_ECHO, echo, echo_len);
    return n;
}

/* Verify as the server; on the Echo challenge, protect the 4.01 with it. */
static int verify_or_challenge(struct oscore_ctx *server, const struct wire *w,
                               struct oscore_protected *ret_401, uint8_t *ct401)
{
    uint8_t got[128], echo_plain[32];
    size_t got_len = 0xdead;
    struct oscore_exchange sx;
    int rc = oscore_unprotect_request(aead, server, w->option, w->option_len, w->payload,
                                      w->payload_len, got, sizeof got, &got_len, &sx);
    if (rc != OSCORE_E_ECHO_REQUIRED)
        return rc;
    assert_int_equal(got_len, 0xdead);     /* nothing for the application */
    assert_true(sx.flags & OSCORE_EXCHANGE_OWN_PIV);
    int elen = oscore_echo_plaintext(server, echo_plain, sizeof echo_plain);
    assert_int_equal(elen, 3 + OSCORE_ECHO_LEN);
    assert_int_equal(echo_plain[0], OSCORE_UNAUTHORIZED_CODE);
    /* own_piv false, but B.1.2 makes it the server's own Partial IV. */
    assert_int_equal(oscore_protect_response(aead, server, &sx, false, echo_plain, (size_t)elen,
                                             ct401, 64, ret_401),
                     0);
    return rc;
}

/* The client side of a challenge: verify the 4.01 and read the Echo value. */
static void read_challenge(struct oscore_ctx *client, struct oscore_exchange *cx,
                           const struct oscore_protected *r, const uint8_t *ct,
                           uint8_t echo_out[OSCORE_ECHO_LEN])
{
    uint8_t got[64];
    size_t got_len;
    const uint8_t *echo;
    size_t echo_len;
    assert_int_equal(oscore_unprotect_response(aead, client, cx, r->option, r->option_len, ct,
                                               r->payload_len, got, sizeof got, &got_len),
                     0);
    assert_int_equal(got[0], OSCORE_UNAUTHORIZED_CODE);
    assert_int_equal(oscore_plaintext_find(got, got_len, OSCORE_COAP_ECHO, &echo, &echo_len), 1);
    assert_int_equal(echo_len, OSCORE_ECHO_LEN);
    memcpy(echo_out, echo, OSCORE_ECHO_LEN);
}

/* Appendix B.1.2: after a restart without a window, Echo proves freshness. */
static void test_restart_echo(void **state)
{
    (void)state;
    /* The store has the server's sequence number limit, but no window. */
    struct store s = { { 40, OSCORE_REPLAY_UNKNOWN }, 0, false };
    struct oscore_ctx *server = ctx_stored(&C2_SERVER, &s, 4);
    assert_int_equal(oscore_ctx_restore(server, &s.ck), 0);
    struct oscore_ctx *client = ctx_at(&C2_CLIENT, 20);
    uint8_t ct401[64], echo1[OSCORE_ECHO_LEN], echo2[OSCORE_ECHO_LEN];
    struct oscore_protected p, r;
    struct oscore_exchange cx;
    struct wire w, old;
    struct oscore_checkpoint ck;

    /* The first request verifies but is not processed: a challenge. */
    assert_int_equal(oscore_protect_request(aead, client, GET_TV1, sizeof GET_TV1, w.payload,
                                            sizeof w.payload, &p, &cx),
                     0);
    memcpy(w.option, p.option, p.option_len);
    w.option_len = p.option_len;
    w.payload_len = p.payload_len;
    assert_int_equal(verify_or_challenge(server, &w, &r, ct401), OSCORE_E_ECHO_REQUIRED);
    assert_hex(r.option, r.option_len, "0128");     /* the server's PIV 40 */
    /* B.1.1 for the server's own number; the window is still unknown. */
    assert_true(s.ck.sender_limit == 44 && s.ck.replay_limit == OSCORE_REPLAY_UNKNOWN);
    oscore_ctx_checkpoint(server, &ck);
    assert_true(ck.sender_limit == 41 && ck.replay_limit == OSCORE_REPLAY_UNKNOWN);
    read_challenge(client, &cx, &r, ct401, echo1);

    /* A restart before anyone answered: the next start challenges again. */
    oscore_ctx_free(server);
    server = ctx_stored(&C2_SERVER, &s, 4);
    assert_int_equal(oscore_ctx_restore(server, &s.ck), 0);
    size_t plen;
    uint8_t plain[32];
    plen = get_with_echo(echo1, sizeof echo1, plain);
    assert_int_equal(oscore_protect_request(aead, client, plain, plen, w.payload,
                                            sizeof w.payload, &p, &cx),
                     0);
    memcpy(w.option, p.option, p.option_len);
    w.option_len = p.option_len;
    w.payload_len = p.payload_len;
    /* The old challenge proves nothing about this start. */
    assert_int_equal(verify_or_challenge(server, &w, &r, ct401), OSCORE_E_ECHO_REQUIRED);
    assert_hex(r.option, r.option_len, "012c");     /* PIV 44: never reused */
    read_challenge(client, &cx, &r, ct401, echo2);
    assert_memory_not_equal(echo1, echo2, OSCORE_ECHO_LEN);

    /* Replays of old requests keep getting the same challenge. */
    request_at(15, GET_TV1, sizeof GET_TV1, &old);
    assert_int_equal(verify_or_challenge(server, &old, &r, ct401), OSCORE_E_ECHO_REQUIRED);
    uint8_t again[32];
    assert_int_equal(oscore_echo_plaintext(server, again, sizeof again), 3 + OSCORE_ECHO_LEN);
    assert_memory_equal(again + 3, echo2, OSCORE_ECHO_LEN);
    /* A wrong Echo value is no proof. */
    uint8_t wrong[OSCORE_ECHO_LEN];
    memcpy(wrong, echo2, sizeof wrong);
    wrong[0] ^= 0xff;
    request_at(22, plain, get_with_echo(wrong, sizeof wrong, plain), &w);
    assert_int_equal(verify_or_challenge(server, &w, &r, ct401), OSCORE_E_ECHO_REQUIRED);
    /* A failing store refuses even the fresh request, and nothing moves. */
    request_at(23, plain, get_with_echo(echo2, sizeof echo2, plain), &w);
    s.fail = true;
    assert_int_equal(verify(server, &w), OSCORE_E_PERSIST);
    s.fail = false;
    oscore_ctx_checkpoint(server, &ck);
    assert_true(ck.replay_limit == OSCORE_REPLAY_UNKNOWN);

    /* The request that echoes it is fresh; its PIV is the lower limit. */
    assert_int_equal(verify(server, &w), 0);
    assert_true(s.ck.replay_limit == 27);
    assert_int_equal(verify(server, &w), OSCORE_E_REPLAY);
    request_at(22, GET_TV1, sizeof GET_TV1, &old);
    assert_int_equal(verify(server, &old), OSCORE_E_TOO_OLD);
    request_at(24, GET_TV1, sizeof GET_TV1, &w);
    assert_int_equal(verify(server, &w), 0);
    oscore_ctx_checkpoint(server, &ck);
    assert_true(ck.replay_limit == 25);
    assert_int_equal(oscore_echo_plaintext(server, again, sizeof again), OSCORE_E_INVALID);
    assert_true(refused(server, OSCORE_E_ECHO_REQUIRED) == 3);
    oscore_ctx_free(client);
    oscore_ctx_free(server);
}

/* ------------------------------------------------------------------ */
/* Inner messages, parameters, names                                   */
/* ------------------------------------------------------------------ */

/* AES-CCM-16-64-128 by OpenSSL directly, to forge what protect refuses. */
static size_t seal_raw(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n;
    assert_non_null(c);
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_ccm(), NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_CCM_SET_IVLEN, 13, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_CCM_SET_TAG, 8, NULL), 1);
    assert_int_equal(EVP_EncryptInit_ex(c, NULL, NULL, key, nonce), 1);
    assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, NULL, (int)len), 1);
    assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len), 1);
    assert_int_equal(EVP_EncryptUpdate(c, out, &n, in, (int)len), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, out + n, &n), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_CCM_GET_TAG, 8, out + len), 1);
    EVP_CIPHER_CTX_free(c);
    return len + 8;
}

/* The independent AES-CCM reproduces C.4's ciphertext, then forges. */
static void test_inner_message_checks(void **state)
{
    (void)state;
    struct oscore_params cp = params_of(&C1_CLIENT);
    struct oscore_keys k;
    uint8_t nonce[OSCORE_NONCE_LEN], aad[OSCORE_AAD_MAX], ct[64];
    static const uint8_t piv[1] = { 0x14 };
    assert_int_equal(oscore_derive(&cp, &k), 0);
    oscore_nonce(k.common_iv, NULL, 0, piv, 1, nonce);
    int aad_len = oscore_aad(NULL, 0, piv, 1, aad);
    size_t n = seal_raw(k.sender_key, nonce, aad, (size_t)aad_len, GET_TV1, sizeof GET_TV1, ct);
    assert_hex(ct, n, C4.ciphertext);

    static const struct {
        const char *plain;
    } bad[] = {
        { "45" },                 /* a response code in a request */
        { "00" },                 /* 0.00 Empty is no request */
        { "e1" },                 /* 7.01 signalling */
        { "0190" },               /* an inner OSCORE option (§4.1.3.7) */
        { "01ff" },               /* payload marker, no payload */
        { "01f0" },               /* delta nibble 15 */
        { "01bf" },               /* length nibble 15 */
        { "01b374" },             /* option runs past the end */
        { "01d0" },               /* extended delta missing */
        { "01e0ff" },             /* two-octet extended delta, one octet */
        { "01e0ff01e0ff01" },     /* option number past 65535 */
    };
    static const uint8_t opt[2] = { 0x09, 0x14 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t plain[16], got[64], out[64];
        size_t got_len;
        struct oscore_exchange x;
        struct oscore_protected p;
        size_t plen = unhex(bad[i].plain, plain, sizeof plain);
        n = seal_raw(k.sender_key, nonce, aad, (size_t)aad_len, plain, plen, ct);
        struct oscore_ctx *server = ctx_of(&C1_SERVER);
        assert_int_equal(oscore_unprotect_request(aead, server, opt, 2, ct, n, got, sizeof got,
                                                  &got_len, &x),
                         OSCORE_E_PLAINTEXT);
        /* Well-formed and verified: the window did not take the PIV. */
        n = seal_raw(k.sender_key, nonce, aad, (size_t)aad_len, GET_TV1, sizeof GET_TV1, ct);
        assert_int_equal(oscore_unprotect_request(aead, server, opt, 2, ct, n, got, sizeof got,
                                                  &got_len, &x),
                         0);
        oscore_ctx_free(server);
        /* And the client refuses to protect it in the first place. */
        struct oscore_ctx *client = ctx_at(&C1_CLIENT, 20);
        assert_int_equal(
            oscore_protect_request(aead, client, plain, plen, out, sizeof out, &p, &x),
            OSCORE_E_INVALID);
        oscore_ctx_free(client);
    }
    oscore_keys_wipe(&k);

    /* Extended deltas and lengths as RFC 7252 §3.1 encodes them. */
    uint8_t m[400];
    size_t mlen = 0;
    m[mlen++] = 0x02;
    uint8_t big[300];
    memset(big, 'x', sizeof big);
    mlen += coap_opt_put(m + mlen, 0, 11, big, 12);
    mlen += coap_opt_put(m + mlen, 11, 60, big, 13);
    mlen += coap_opt_put(m + mlen, 60, 2000, big, 300);
    m[mlen++] = 0xff;
    m[mlen++] = '!';
    const uint8_t *v;
    size_t vlen;
    assert_int_equal(oscore_plaintext_find(m, mlen, 60, &v, &vlen), 1);
    assert_int_equal(vlen, 13);
    assert_int_equal(oscore_plaintext_find(m, mlen, 2000, &v, &vlen), 1);
    assert_int_equal(vlen, 300);
    assert_ptr_equal(v + 300 + 1, m + mlen - 1);
    assert_int_equal(oscore_plaintext_find(m, mlen, 61, &v, &vlen), 0);
    assert_int_equal(oscore_plaintext_find(m, mlen - 1, 3000, &v, &vlen), OSCORE_E_PLAINTEXT);
    assert_int_equal(oscore_plaintext_find(m, 0, 3000, &v, &vlen), OSCORE_E_PLAINTEXT);
    struct oscore_ctx *client = ctx_at(&C2_CLIENT, 0);
    struct oscore_ctx *server = ctx_of(&C2_SERVER);
    struct oscore_protected p;
    struct oscore_exchange x;
    uint8_t ct2[512], got[512];
    size_t got_len;
    assert_int_equal(oscore_protect_request(aead, client, m, mlen, ct2, sizeof ct2, &p, &x), 0);
    assert_int_equal(oscore_unprotect_request(aead, server, p.option, p.option_len, ct2,
                                              p.payload_len, got, sizeof got, &got_len, &x),
                     0);
    assert_int_equal(got_len, mlen);
    assert_memory_equal(got, m, mlen);
    /* The caller's buffer too small, on either side. */
    assert_int_equal(oscore_protect_request(aead, client, m, mlen, ct2, mlen + 7, &p, &x),
                     OSCORE_E_NO_SPACE);
    assert_int_equal(oscore_protect_request(aead, client, m, mlen, ct2, sizeof ct2, &p, &x), 0);
    assert_int_equal(oscore_unprotect_request(aead, server, p.option, p.option_len, ct2,
                                              p.payload_len, got, mlen - 1, &got_len, &x),
                     OSCORE_E_NO_SPACE);
    oscore_ctx_free(client);
    oscore_ctx_free(server);
}

static void test_params_invalid(void **state)
{
    (void)state;
    static const uint8_t long_id[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    uint8_t long_ctx[OSCORE_ID_CONTEXT_MAX + 1];
    memset(long_ctx, 7, sizeof long_ctx);
    struct oscore_ctx *c = NULL;          /* must stay untouched */
    struct oscore_keys k;

    struct oscore_params p = params_of(&C2_CLIENT);
    p.master_secret_len = 0;
    assert_int_equal(oscore_ctx_new(&p, &c), OSCORE_E_INVALID);
    p = params_of(&C2_CLIENT);
    p.master_secret_len = OSCORE_MASTER_SECRET_MAX + 1;
    assert_int_equal(oscore_derive(&p, &k), OSCORE_E_INVALID);
    p = params_of(&C2_CLIENT);
    p.sender_id = long_id;
    p.sender_id_len = 8;                  /* nonce length - 6 = 7 at most */
    assert_int_equal(oscore_ctx_new(&p, &c), OSCORE_E_INVALID);
    p = params_of(&C2_CLIENT);
    p.recipient_id = ID_00;               /* Sender ID = Recipient ID */
    assert_int_equal(oscore_ctx_new(&p, &c), OSCORE_E_INVALID);
    p = params_of(&C1_CLIENT);
    p.recipient_id_len = 0;               /* both empty */
    assert_int_equal(oscore_ctx_new(&p, &c), OSCORE_E_INVALID);
    p = params_of(&C3_CLIENT);
    p.id_context = long_ctx;
    p.id_context_len = sizeof long_ctx;
    assert_int_equal(oscore_ctx_new(&p, &c), OSCORE_E_INVALID);
    p = params_of(&C2_CLIENT);
    p.checkpoint_interval = 4;            /* K without a store */
    assert_int_equal(oscore_ctx_new(&p, &c), OSCORE_E_INVALID);
    assert_null(c);

    /* A 7-octet ID and a 32-octet ID Context are fine, and round-trip. */
    p = params_of(&C3_CLIENT);
    p.sender_id = long_id;
    p.sender_id_len = OSCORE_ID_MAX;
    p.id_context = long_ctx;
    p.id_context_len = OSCORE_ID_CONTEXT_MAX;
    struct oscore_params sp = p;
    sp.sender_id = p.recipient_id;
    sp.sender_id_len = p.recipient_id_len;
    sp.recipient_id = p.sender_id;
    sp.recipient_id_len = p.sender_id_len;
    struct oscore_ctx *server = NULL;
    assert_int_equal(oscore_ctx_new(&p, &c), 0);
    assert_int_equal(oscore_ctx_new(&sp, &server), 0);
    size_t len;
    assert_ptr_not_equal(oscore_ctx_recipient_id(server, &len), NULL);
    assert_int_equal(len, OSCORE_ID_MAX);
    assert_non_null(oscore_ctx_id_context(server, &len));
    assert_int_equal(len, OSCORE_ID_CONTEXT_MAX);
    uint8_t ct[32], got[32];
    size_t got_len;
    struct oscore_protected pr;
    struct oscore_exchange x;
    assert_int_equal(oscore_protect_request(aead, c, GET_TV1, sizeof GET_TV1, ct, sizeof ct, &pr,
                                            &x),
                     0);
    assert_int_equal(pr.option_len, 1 + 1 + 1 + OSCORE_ID_CONTEXT_MAX + OSCORE_ID_MAX);
    assert_int_equal(oscore_unprotect_request(aead, server, pr.option, pr.option_len, ct,
                                              pr.payload_len, got, sizeof got, &got_len, &x),
                     0);
    oscore_ctx_free(c);
    oscore_ctx_free(server);
    oscore_ctx_free(NULL);
    oscore_aead_free(NULL);
}

static void test_error_names(void **state)
{
    (void)state;
    for (int e = 0; e > -OSCORE_E__COUNT; e--) {
        const char *name = oscore_error_name(e);
        assert_string_not_equal(name, "unknown_error");
        for (int f = 0; f > e; f--)
            assert_string_not_equal(name, oscore_error_name(f));
    }
    assert_string_equal(oscore_error_name(1), "unknown_error");
    assert_string_equal(oscore_error_name(-OSCORE_E__COUNT), "unknown_error");
    assert_string_equal(oscore_error_name(-2147483647 - 1), "unknown_error");
}

static int group_setup(void **state)
{
    (void)state;
    return oscore_aead_new(&aead) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    oscore_aead_free(aead);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c1_client),
        cmocka_unit_test(test_c1_server),
        cmocka_unit_test(test_c2_client),
        cmocka_unit_test(test_c2_server),
        cmocka_unit_test(test_c3_client),
        cmocka_unit_test(test_c3_server),
        cmocka_unit_test(test_c4_request),
        cmocka_unit_test(test_c5_request),
        cmocka_unit_test(test_c6_request),
        cmocka_unit_test(test_c7_response),
        cmocka_unit_test(test_c8_response_piv),
        cmocka_unit_test(test_option_examples),
        cmocka_unit_test(test_option_malformed),
        cmocka_unit_test(test_piv_encoding),
        cmocka_unit_test(test_request_bad_options),
        cmocka_unit_test(test_request_tampering),
        cmocka_unit_test(test_response_tampering),
        cmocka_unit_test(test_response_nonce_once),
        cmocka_unit_test(test_replay_same_piv),
        cmocka_unit_test(test_replay_window),
        cmocka_unit_test(test_sequence_exhausted),
        cmocka_unit_test(test_restart_sender),
        cmocka_unit_test(test_restart_replay_window),
        cmocka_unit_test(test_restart_echo),
        cmocka_unit_test(test_inner_message_checks),
        cmocka_unit_test(test_params_invalid),
        cmocka_unit_test(test_error_names),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
