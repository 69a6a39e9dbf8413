/*
 * fuzz_radius_packet.c — libFuzzer harness for the RADIUS packet decoder
 * and everything that reads a decoded packet: attribute and VSA lookup,
 * gpp_info_decode(), the authenticator and Message-Authenticator checks,
 * signing, PAP and CHAP.
 *
 * Beyond "does not crash", it checks properties that would catch a decoder
 * that quietly misreads a packet:
 *   - the outcome of the header checks matches the RFC 2865 §3 rules;
 *   - the attribute index tiles the packet exactly, and the VSA index is
 *     what an independent re-parse of each Vendor-Specific finds;
 *   - re-encoding the indexed attributes with the builder reproduces the
 *     packet octet for octet;
 *   - signing a copy (as request and as response) makes it verify, and a
 *     PAP value that reveals cleanly hides back to the same octets.
 * Seeds: tests/fuzz/corpus/fuzz_radius_packet/ (tests/fuzz/make_corpus.py).
 */
#include <string.h>

#include "fuzz.h"
#include "radius/crypto.h"
#include "radius/gpp.h"
#include "radius/radius.h"

static struct radius_secret secret;
static int secret_ready;
static struct radius_packet pkt, pkt2;
static uint8_t copy[RADIUS_MAX_LEN];
static uint8_t rebuilt[RADIUS_MAX_LEN];

/* A fixed "request authenticator" for the response checks. */
static const uint8_t req_auth[RADIUS_AUTH_LEN] = { 0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57,
                                                   0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22, 0x7a };

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The header verdicts are fully determined by RFC 2865 §3's rules. */
static void check_header_verdict(const uint8_t *data, size_t size, int r)
{
    FUZZ_CHECK(r <= 0 && r > -RADIUS_E__COUNT);
    FUZZ_CHECK(strcmp(radius_error_name(r), "unknown_error") != 0);
    if (size < RADIUS_MIN_LEN) {
        FUZZ_CHECK(r == RADIUS_E_SHORT);
        return;
    }
    size_t plen = (size_t)data[2] << 8 | data[3];
    if (plen > RADIUS_MAX_LEN)
        FUZZ_CHECK(r == RADIUS_E_TOO_LONG);
    else if (plen < RADIUS_MIN_LEN || plen > size)
        FUZZ_CHECK(r == RADIUS_E_BAD_LENGTH);
    else
        FUZZ_CHECK(r != RADIUS_E_SHORT && r != RADIUS_E_TOO_LONG && r != RADIUS_E_BAD_LENGTH);
}

/* The attribute index must tile [20, Length) exactly. */
static void check_attr_index(const uint8_t *data, size_t size)
{
    FUZZ_CHECK(pkt.data == data);
    FUZZ_CHECK(pkt.len >= RADIUS_MIN_LEN && pkt.len <= RADIUS_MAX_LEN && pkt.len <= size);
    FUZZ_CHECK(pkt.code == data[0] && pkt.id == data[1]);
    FUZZ_CHECK(pkt.nattrs <= RADIUS_MAX_ATTRS && pkt.nvsas <= RADIUS_MAX_VSAS);

    size_t pos = RADIUS_HDR_LEN;
    unsigned nma = 0;
    volatile unsigned sink = 0;
    for (unsigned i = 0; i < pkt.nattrs; i++) {
        const struct radius_attr_ref *a = &pkt.attrs[i];
        FUZZ_CHECK(a->off == pos + 2);
        FUZZ_CHECK(a->type == data[pos] && a->len + 2u == data[pos + 1]);
        FUZZ_CHECK((size_t)a->off + a->len <= pkt.len);
        for (unsigned j = 0; j < a->len; j++)
            sink += radius_attr_value(&pkt, a->off)[j];
        if (a->type == RADIUS_ATTR_MESSAGE_AUTHENTICATOR) {
            nma++;
            FUZZ_CHECK(a->len == 16 && pkt.ma_off == a->off);
        }
        /* radius_packet_find() returns the first of its type. */
        const struct radius_attr_ref *f = radius_packet_find(&pkt, a->type);
        FUZZ_CHECK(f != NULL && f <= a && f->type == a->type);
        pos += a->len + 2u;
    }
    FUZZ_CHECK(pos == pkt.len);
    FUZZ_CHECK(nma <= 1 && (nma == 1) == (pkt.ma_off >= 0));
    (void)sink;
}

/* Re-parse every Vendor-Specific independently and compare with ->vsas. */
static void check_vsa_index(void)
{
    unsigned k = 0;
    for (unsigned i = 0; i < pkt.nattrs; i++) {
        const struct radius_attr_ref *a = &pkt.attrs[i];
        if (a->type != RADIUS_ATTR_VENDOR_SPECIFIC)
            continue;
        FUZZ_CHECK(a->len >= 4);
        const uint8_t *v = radius_attr_value(&pkt, a->off);
        uint32_t vendor = be32(v);
        /* RFC 2865 §5.26 format: sub-attributes of type, length ≥ 2, value. */
        int framed = 1;
        for (size_t p = 4; p < a->len; p += v[p + 1]) {
            if (a->len - p < 2 || v[p + 1] < 2 || v[p + 1] > a->len - p) {
                framed = 0;
                break;
            }
        }
        if (!framed) {
            FUZZ_CHECK(vendor != GPP_VENDOR); /* mis-framed 3GPP is refused */
            continue;
        }
        for (size_t p = 4; p < a->len; p += v[p + 1]) {
            FUZZ_CHECK(k < pkt.nvsas);
            const struct radius_vsa_ref *s = &pkt.vsas[k++];
            FUZZ_CHECK(s->vendor == vendor && s->type == v[p]);
            FUZZ_CHECK(s->len + 2u == v[p + 1] && s->off == a->off + p + 2);
            const struct radius_vsa_ref *f = radius_packet_find_vsa(&pkt, vendor, v[p]);
            FUZZ_CHECK(f != NULL && f <= s);
        }
    }
    FUZZ_CHECK(k == pkt.nvsas);
}

/* The builder re-encodes the index into the very same octets. */
static void check_reencode(const uint8_t *data)
{
    struct radius_builder b;
    radius_builder_init(&b, rebuilt, sizeof rebuilt, data[0], data[1], data + 4);
    for (unsigned i = 0; i < pkt.nattrs; i++)
        radius_builder_add(&b, pkt.attrs[i].type, radius_attr_value(&pkt, pkt.attrs[i].off),
                           pkt.attrs[i].len);
    int len = radius_builder_finish(&b);
    FUZZ_CHECK(len == pkt.len);
    FUZZ_CHECK(memcmp(rebuilt, data, pkt.len) == 0);
}

static void check_u32_attrs(void)
{
    for (unsigned i = 0; i < pkt.nattrs; i++) {
        uint32_t v = 0x5a5a5a5a;
        int r = radius_packet_get_u32(&pkt, pkt.attrs[i].type, &v);
        const struct radius_attr_ref *f = radius_packet_find(&pkt, pkt.attrs[i].type);
        if (f->len == 4)
            FUZZ_CHECK(r == RADIUS_OK && v == be32(radius_attr_value(&pkt, f->off)));
        else
            FUZZ_CHECK(r == RADIUS_E_ATTR_VALUE && v == 0x5a5a5a5a);
    }
}

static void check_gpp(void)
{
    struct gpp_info g;
    int r = gpp_info_decode(&pkt, &g);
    FUZZ_CHECK(r <= 0 && r > -GPP_E__COUNT);
    FUZZ_CHECK(strcmp(gpp_error_name(r), "unknown_error") != 0);
    if (g.has & GPP_HAS_IMSI)
        FUZZ_CHECK(g.imsi_len >= 6 && g.imsi_len <= 15 && strlen(g.imsi) == g.imsi_len);
    if (g.has & GPP_HAS_IMEISV)
        FUZZ_CHECK(g.imeisv_len >= 14 && g.imeisv_len <= 16 && strlen(g.imeisv) == g.imeisv_len);
    if (g.has & GPP_HAS_IMSI_MCC_MNC)
        FUZZ_CHECK(g.imsi_plmn.mnc_digits == 2 || g.imsi_plmn.mnc_digits == 3);
    if (g.has & GPP_HAS_ULI) {
        FUZZ_CHECK(g.uli.plmn.mcc <= 999 && g.uli.plmn.mnc <= 999);
        FUZZ_CHECK(g.uli.eci < (1u << 28));
        (void)gpp_uli_area(&g.uli);
        (void)gpp_uli_cell(&g.uli);
    }
    if (g.has & GPP_HAS_RAT)
        (void)gpp_rat_name(g.rat);
    if (g.has & GPP_HAS_CHARGING_CHARS)
        FUZZ_CHECK(strlen(g.charging_chars) <= 4);
}

static void check_verifiers(void)
{
    int r = radius_verify_ma(&pkt, &secret, 0);
    int r1 = radius_verify_ma(&pkt, &secret, 1);
    if (pkt.ma_off >= 0)
        FUZZ_CHECK((r == 0 || r == RADIUS_E_MA_BAD) && (r1 == 0 || r1 == RADIUS_E_MA_BAD));
    else
        FUZZ_CHECK(r == RADIUS_E_MA_MISSING && r1 == RADIUS_E_MA_MISSING);
    r = radius_verify_request_auth(&pkt, &secret);
    FUZZ_CHECK(r == 0 || r == RADIUS_E_AUTH_BAD);
    r = radius_verify_response(&pkt, req_auth, &secret);
    FUZZ_CHECK(r == 0 || r == RADIUS_E_AUTH_BAD || r == RADIUS_E_MA_BAD);
}

/* Signing a copy must make it verify, as a request and as a response. */
static void check_sign_verify(const uint8_t *data)
{
    size_t len = pkt.len;
    int ma_off = pkt.ma_off;

    memcpy(copy, data, len);
    radius_sign_request(copy, len, ma_off, &secret);
    FUZZ_CHECK(radius_packet_decode(copy, len, &pkt2) == RADIUS_OK);
    FUZZ_CHECK(pkt2.ma_off == ma_off && pkt2.nattrs == pkt.nattrs);
    if (copy[0] == RADIUS_ACCESS_REQUEST || copy[0] == RADIUS_STATUS_SERVER) {
        FUZZ_CHECK(memcmp(copy + 4, data + 4, RADIUS_AUTH_LEN) == 0);
        if (ma_off >= 0)
            FUZZ_CHECK(radius_verify_ma(&pkt2, &secret, 0) == 0);
    } else {
        FUZZ_CHECK(radius_verify_request_auth(&pkt2, &secret) == 0);
        if (ma_off >= 0)
            FUZZ_CHECK(radius_verify_ma(&pkt2, &secret, 1) == 0);
    }

    /* An Accounting-Response's Message-Authenticator is over a zero
     * authenticator (radius_sign_acct_response), every other reply's over
     * the request's; radius_verify_response() checks each its way. */
    memcpy(copy, data, len);
    if (copy[0] == RADIUS_ACCOUNTING_RESPONSE)
        radius_sign_acct_response(copy, len, ma_off, req_auth, &secret);
    else
        radius_sign_response(copy, len, ma_off, req_auth, &secret);
    FUZZ_CHECK(radius_packet_decode(copy, len, &pkt2) == RADIUS_OK);
    FUZZ_CHECK(radius_verify_response(&pkt2, req_auth, &secret) == 0);
}

static void check_pap_chap(const uint8_t *data)
{
    const struct radius_attr_ref *a = radius_packet_find(&pkt, RADIUS_ATTR_USER_PASSWORD);
    if (a) {
        char plain[RADIUS_PASSWORD_MAX + 1];
        const uint8_t *hidden = radius_attr_value(&pkt, a->off);
        int r = radius_pap_reveal(&secret, data + 4, hidden, a->len, plain);
        if (a->len == 0 || a->len % 16 || a->len > RADIUS_PASSWORD_MAX) {
            FUZZ_CHECK(r == RADIUS_E_ATTR_VALUE);
        } else {
            FUZZ_CHECK(r >= 0 && r <= a->len && plain[r] == '\0');
            size_t blocks = r == 0 ? 16 : ((size_t)r + 15) / 16 * 16;
            /* No NUL inside, no all-NUL trailing block: hiding is the inverse. */
            if (strlen(plain) == (size_t)r && blocks == a->len) {
                uint8_t again[RADIUS_PASSWORD_MAX];
                FUZZ_CHECK(radius_pap_hide(&secret, data + 4, plain, again) == a->len);
                FUZZ_CHECK(memcmp(again, hidden, a->len) == 0);
            }
        }
    }
    a = radius_packet_find(&pkt, RADIUS_ATTR_CHAP_PASSWORD);
    if (a && a->len == 17) {
        const struct radius_attr_ref *c = radius_packet_find(&pkt, RADIUS_ATTR_CHAP_CHALLENGE);
        const uint8_t *challenge = c ? radius_attr_value(&pkt, c->off) : data + 4;
        size_t clen = c ? c->len : RADIUS_AUTH_LEN;
        int ok = radius_chap_check(radius_attr_value(&pkt, a->off), challenge, clen, "fuzz", 4);
        FUZZ_CHECK(ok == 0 || ok == 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!secret_ready) {
        if (radius_secret_init(&secret, FUZZ_SECRET, sizeof FUZZ_SECRET - 1) != 0)
            abort();
        secret_ready = 1;
    }
    int r = radius_packet_decode(data, size, &pkt);
    check_header_verdict(data, size, r);
    if (r != RADIUS_OK)
        return 0;
    (void)radius_code_name(pkt.code);
    check_attr_index(data, size);
    check_vsa_index();
    check_reencode(data);
    check_u32_attrs();
    check_gpp();
    check_verifiers();
    check_pap_chap(data);
    check_sign_verify(data);
    return 0;
}
