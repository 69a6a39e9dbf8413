/*
 * fuzz_oscore.c — libFuzzer harness for the OSCORE core (src/coap/oscore.c):
 * the option value parser and encoder, verifying a request as the server
 * does, the response and request round trips, and the inner-message
 * walker.
 *
 * Input: one selector octet (low two bits: the RFC 8613 Appendix C context
 * pair C.1, C.2 or C.3 (3 is C.1 again); 0x04: answer with the server's own
 * Partial IV), one octet L, L octets of OSCORE option value, then the
 * payload.  The whole input is also parsed as an option
 * value, and the payload doubles as an inner message for the client.
 *
 * Properties, beyond "does not crash":
 *   - the parser's verdict is the one §6.1 and §2 give (an independent
 *     reading here), a parsed value re-encodes to the same octets, and its
 *     fields tile the value;
 *   - verifying a request fails with exactly the parser's verdict when the
 *     option is malformed, counts exactly one refusal, leaves the output
 *     untouched; a failed verification changes nothing (the same input
 *     fails the same way again); a request that verifies is a well-formed
 *     request, verifies only once (then: replay), and the server's
 *     response to it verifies at the client;
 *   - the client protects exactly the inner messages that are well formed
 *     by RFC 7252 §3.1 (an independent walker here); what it protects
 *     verifies at the server to the same octets, and not with one octet
 *     flipped.
 * Seeds: tests/fuzz/corpus/fuzz_oscore/ (tests/fuzz/make_corpus.py): the
 * protected requests of Appendix C.4-C.6 and malformed variants.
 */
#include <string.h>

#include "coap/oscore.h"
#include "fuzz.h"

static struct oscore_aead *aead;

static const uint8_t SECRET[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t SALT[8] = { 0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40 };
static const uint8_t IDCTX[8] = { 0x37, 0xcb, 0xf3, 0x21, 0x00, 0x17, 0xa2, 0xd3 };
static const uint8_t ID00[1] = { 0x00 };
static const uint8_t ID01[1] = { 0x01 };

/* Appendix C.1, C.2, C.3: the client's side (the server's swaps the IDs). */
static const struct pair {
    bool salt, idctx;
    const uint8_t *client_id;
    size_t client_id_len;
} pairs[3] = {
    { true, false, NULL, 0 },
    { false, false, ID00, 1 },
    { true, true, NULL, 0 },
};

static struct oscore_ctx *ctx_new(const struct pair *p, bool server)
{
    struct oscore_params pr;
    struct oscore_ctx *c = NULL;
    memset(&pr, 0, sizeof pr);
    pr.master_secret = SECRET;
    pr.master_secret_len = sizeof SECRET;
    if (p->salt) {
        pr.master_salt = SALT;
        pr.master_salt_len = sizeof SALT;
    }
    if (p->idctx) {
        pr.has_id_context = true;
        pr.id_context = IDCTX;
        pr.id_context_len = sizeof IDCTX;
        pr.send_kid_context = true;
    }
    pr.sender_id = server ? ID01 : p->client_id;
    pr.sender_id_len = server ? 1 : p->client_id_len;
    pr.recipient_id = server ? p->client_id : ID01;
    pr.recipient_id_len = server ? p->client_id_len : 1;
    if (oscore_ctx_new(&pr, &c) != 0)
        abort();
    return c;
}

/* §6.1 and §2, read again: the verdict on an option value. */
static int option_verdict(const uint8_t *v, size_t len)
{
    if (len > 255)
        return OSCORE_E_OPT_TOO_LONG;
    if (len == 0)
        return OSCORE_OK;
    if (v[0] & 0xe0)
        return OSCORE_E_OPT_RESERVED;
    size_t n = v[0] & 7;
    if (n == 6 || n == 7)
        return OSCORE_E_OPT_PIV_LEN;
    if (v[0] == 0)
        return OSCORE_E_OPT_FLAGS_ZERO;
    size_t used = 1 + n;
    if (used > len)
        return OSCORE_E_OPT_TRUNCATED;
    if (n > 1 && v[1] == 0)
        return OSCORE_E_OPT_PIV;
    if (v[0] & 0x10) {
        if (used + 1 > len || used + 1 + v[used] > len)
            return OSCORE_E_OPT_TRUNCATED;
        used += 1 + v[used];
    }
    if (!(v[0] & 0x08) && used != len)
        return OSCORE_E_OPT_TRAILING;
    return OSCORE_OK;
}

static int check_option(const uint8_t *v, size_t len, struct oscore_option *ret)
{
    uint8_t out[OSCORE_OPTION_MAX];
    struct oscore_option o;
    int r = oscore_option_parse(v, len, &o);
    FUZZ_CHECK(r == option_verdict(v, len));
    FUZZ_CHECK(strcmp(oscore_error_name(r), "unknown_error") != 0);
    if (r != 0)
        return r;
    /* The fields tile the value: flags, PIV, s, kid context, kid. */
    size_t pos = len ? 1 : 0;
    FUZZ_CHECK(o.piv_len <= OSCORE_PIV_MAX && (o.piv_len == 0 || o.piv == v + pos));
    pos += o.piv_len;
    if (o.has_kid_context) {
        FUZZ_CHECK(o.kid_context == v + pos + 1 && v[pos] == o.kid_context_len);
        pos += 1 + o.kid_context_len;
    }
    if (o.has_kid) {
        FUZZ_CHECK(o.kid == v + pos);
        pos += o.kid_len;
    }
    FUZZ_CHECK(pos == len);
    int n = oscore_option_encode(&o, out, sizeof out);
    FUZZ_CHECK(n == (int)len);
    FUZZ_CHECK(len == 0 || memcmp(out, v, len) == 0);
    if (ret)
        *ret = o;
    return 0;
}

/*
 * RFC 7252 §3.1, read again: is this a well-formed inner request (code
 * 0.01-0.31, options with valid nibbles inside the buffer and numbers
 * below 65536, no OSCORE option, no empty payload after the marker)?
 */
static bool inner_request_ok(const uint8_t *p, size_t len)
{
    if (len < 1 || len > OSCORE_PLAINTEXT_MAX || p[0] == 0 || p[0] > 31)
        return false;
    size_t i = 1;
    unsigned long number = 0;
    while (i < len) {
        if (p[i] == 0xff)
            return i + 1 < len;
        unsigned long field[2] = { p[i] >> 4, p[i] & 15u };
        i++;
        for (int f = 0; f < 2; f++) {
            if (field[f] == 15)
                return false;
            if (field[f] == 13) {
                if (i + 1 > len)
                    return false;
                field[f] = 13ul + p[i];
                i += 1;
            } else if (field[f] == 14) {
                if (i + 2 > len)
                    return false;
                field[f] = 269ul + ((unsigned long)p[i] << 8 | p[i + 1]);
                i += 2;
            }
        }
        number += field[0];
        if (number > 0xffff || number == OSCORE_COAP_OPTION || field[1] > len - i)
            return false;
        i += field[1];
    }
    return true;
}

static uint64_t refused_total(const struct oscore_ctx *c, uint64_t *ret_verified)
{
    struct oscore_stats st;
    uint64_t n = 0;
    oscore_ctx_stats(c, &st);
    for (int e = 1; e < OSCORE_E__COUNT; e++)
        n += st.refused[e];
    *ret_verified = st.verified;
    return n;
}

/* The server's answer to a verified request must verify at the client. */
static void check_response(const struct pair *p, struct oscore_ctx *server,
                           struct oscore_exchange *sx, bool own_piv)
{
    static const uint8_t resp[] = { 0x45, 0xff, 'o', 'k' };   /* 2.05 "ok" */
    uint8_t ct[sizeof resp + OSCORE_TAG_LEN], got[sizeof resp];
    struct oscore_protected pr;
    size_t got_len = 0;

    int r = oscore_protect_response(aead, server, sx, own_piv, resp, sizeof resp, ct, sizeof ct,
                                    &pr);
    FUZZ_CHECK(r == 0);
    struct oscore_ctx *client = ctx_new(p, false);
    struct oscore_exchange cx = *sx;       /* the client's record of its request */
    cx.flags = 0;
    r = oscore_unprotect_response(aead, client, &cx, pr.option, pr.option_len, ct,
                                  pr.payload_len, got, sizeof got, &got_len);
    FUZZ_CHECK(r == 0 && got_len == sizeof resp && memcmp(got, resp, sizeof resp) == 0);
    oscore_ctx_free(client);
}

/* Verify (option, payload) as a request at the server of pair p. */
static void check_unprotect(const struct pair *p, bool own_piv, const uint8_t *opt, size_t olen,
                            const uint8_t *payload, size_t plen)
{
    static uint8_t plain[OSCORE_PLAINTEXT_MAX];
    struct oscore_exchange x;
    struct oscore_option o;
    size_t plain_len = (size_t)-1;
    uint64_t verified;

    struct oscore_ctx *server = ctx_new(p, true);
    int verdict = option_verdict(opt, olen);
    int r = oscore_unprotect_request(aead, server, opt, olen, payload, plen, plain, sizeof plain,
                                     &plain_len, &x);
    FUZZ_CHECK(r <= 0 && r > -OSCORE_E__COUNT);
    if (verdict != 0)
        FUZZ_CHECK(r == verdict);
    uint64_t refusals = refused_total(server, &verified);
    if (r != 0) {
        FUZZ_CHECK(plain_len == (size_t)-1);
        FUZZ_CHECK(refusals == 1 && verified == 0);
        /* Nothing changed: the same input is refused the same way. */
        int again = oscore_unprotect_request(aead, server, opt, olen, payload, plen, plain,
                                             sizeof plain, &plain_len, &x);
        FUZZ_CHECK(again == r);
        oscore_ctx_free(server);
        return;
    }
    /* Verified: a well-formed request for this context, once. */
    FUZZ_CHECK(refusals == 0 && verified == 1);
    FUZZ_CHECK(plen >= 1 + OSCORE_TAG_LEN && plain_len == plen - OSCORE_TAG_LEN);
    FUZZ_CHECK(inner_request_ok(plain, plain_len));
    FUZZ_CHECK(check_option(opt, olen, &o) == 0 && o.piv_len > 0 && o.has_kid);
    size_t rid_len;
    const uint8_t *rid = oscore_ctx_recipient_id(server, &rid_len);
    FUZZ_CHECK(o.kid_len == rid_len && (rid_len == 0 || memcmp(o.kid, rid, rid_len) == 0));
    FUZZ_CHECK(x.piv_len == o.piv_len && memcmp(x.piv, o.piv, o.piv_len) == 0);
    struct oscore_exchange x2;
    size_t len2 = (size_t)-1;
    uint8_t plain2[OSCORE_PLAINTEXT_MAX];
    FUZZ_CHECK(oscore_unprotect_request(aead, server, opt, olen, payload, plen, plain2,
                                        sizeof plain2, &len2, &x2) == OSCORE_E_REPLAY);
    check_response(p, server, &x, own_piv);
    oscore_ctx_free(server);
}

/* Protect the payload as an inner request; it must verify, and only intact. */
static void check_roundtrip(const struct pair *p, uint64_t seq, size_t flip,
                            const uint8_t *plain, size_t plen)
{
    static uint8_t ct[OSCORE_PLAINTEXT_MAX + OSCORE_TAG_LEN], got[OSCORE_PLAINTEXT_MAX];
    struct oscore_protected pr;
    struct oscore_exchange cx, sx;
    struct oscore_checkpoint ck = { seq, 0 };
    size_t got_len = 0;

    struct oscore_ctx *client = ctx_new(p, false);
    FUZZ_CHECK(oscore_ctx_restore(client, &ck) == 0);
    int r = oscore_protect_request(aead, client, plain, plen, ct, sizeof ct, &pr, &cx);
    oscore_ctx_free(client);
    FUZZ_CHECK(r == (inner_request_ok(plain, plen) ? 0 : OSCORE_E_INVALID));
    if (r != 0)
        return;
    FUZZ_CHECK(pr.payload_len == plen + OSCORE_TAG_LEN);
    struct oscore_ctx *server = ctx_new(p, true);
    ct[flip % pr.payload_len] ^= 0x80;
    FUZZ_CHECK(oscore_unprotect_request(aead, server, pr.option, pr.option_len, ct,
                                        pr.payload_len, got, sizeof got, &got_len,
                                        &sx) == OSCORE_E_DECRYPT);
    ct[flip % pr.payload_len] ^= 0x80;
    FUZZ_CHECK(oscore_unprotect_request(aead, server, pr.option, pr.option_len, ct,
                                        pr.payload_len, got, sizeof got, &got_len, &sx) == 0);
    FUZZ_CHECK(got_len == plen && memcmp(got, plain, plen) == 0);
    FUZZ_CHECK(memcmp(&sx, &cx, sizeof sx) == 0);
    oscore_ctx_free(server);
}

/* The walker on arbitrary octets: a verdict, and values inside the buffer. */
static void check_find(const uint8_t *plain, size_t len)
{
    static const unsigned numbers[] = { 1, 11, 60, 252, 65535 };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        const uint8_t *v = NULL;
        size_t vlen = 0;
        int r = oscore_plaintext_find(plain, len, numbers[i], &v, &vlen);
        FUZZ_CHECK(r == 1 || r == 0 || r == OSCORE_E_PLAINTEXT);
        if (r == 1)
            FUZZ_CHECK(v > plain && v + vlen <= plain + len);
        if (inner_request_ok(plain, len))
            FUZZ_CHECK(r != OSCORE_E_PLAINTEXT);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!aead && oscore_aead_new(&aead) != 0)
        abort();
    (void)check_option(data, size, NULL);
    if (size < 2)
        return 0;
    const struct pair *p = &pairs[(data[0] & 3) % 3];
    bool own_piv = data[0] & 4;
    size_t olen = data[1] < size - 2 ? data[1] : size - 2;
    const uint8_t *opt = data + 2, *payload = data + 2 + olen;
    size_t plen = size - 2 - olen;

    check_unprotect(p, own_piv, opt, olen, payload, plen);
    check_roundtrip(p, (uint64_t)data[0] << 8 | data[1], data[1], payload, plen);
    check_find(payload, plen);
    return 0;
}
