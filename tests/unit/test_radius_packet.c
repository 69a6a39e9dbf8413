/*
 * test_radius_packet.c — unit tests of the RADIUS packet codec
 * (src/radius/packet.c): decoding the RFC 2865 §7 examples byte for byte,
 * every decode error path with the reason it must report, Vendor-Specific
 * indexing, and the builder (round trip, sticky errors, size limits).
 *
 * The RFC 2865 §7.1 and §7.2 packets are the RFC's own hex dumps; their
 * authenticators and hidden password were re-derived with Python's hashlib
 * (see test_radius_crypto.c), so they are known to be self-consistent.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "radius/radius.h"
#include "test_util.h"

/* RFC 2865 §7.1: Access-Request from NAS 192.168.1.16 port 3, user "nemo". */
static const char RFC2865_7_1_REQUEST[] =
    "01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb"
    "98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d"
    "93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8"
    "01 10 05 06 00 00 00 03";
/* RFC 2865 §7.1: the Access-Accept answering it. */
static const char RFC2865_7_1_ACCEPT[] =
    "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf"
    "9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00"
    "0e 06 c0 a8 01 03";
/* RFC 2865 §7.2: CHAP Access-Request, user "flopsy", CHAP ID 22. */
static const char RFC2865_7_2_CHAP_REQUEST[] =
    "01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e"
    "0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9"
    "75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75 04"
    "06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00"
    "02 07 06 00 00 00 01";

/* The decoded packet is large (an index of 128 attributes); keep it static. */
static struct radius_packet pkt;
static uint8_t buf[RADIUS_MAX_LEN + 64];

/* A header with Length = 20 + alen followed by the given attribute bytes. */
static size_t mkpkt(uint8_t *out, uint8_t code, const uint8_t *attrs, size_t alen)
{
    size_t len = RADIUS_HDR_LEN + alen;
    out[0] = code;
    out[1] = 0x42;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    for (int i = 0; i < RADIUS_AUTH_LEN; i++)
        out[4 + i] = (uint8_t)(0xa0 + i);
    if (alen)
        memcpy(out + RADIUS_HDR_LEN, attrs, alen);
    return len;
}

static void set_length_field(uint8_t *out, size_t len)
{
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}

static void test_rfc2865_7_1_request(void **state)
{
    (void)state;
    size_t n = unhex(RFC2865_7_1_REQUEST, buf, sizeof buf);
    assert_int_equal(n, 56);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    assert_ptr_equal(pkt.data, buf);
    assert_int_equal(pkt.code, RADIUS_ACCESS_REQUEST);
    assert_int_equal(pkt.id, 0);
    assert_int_equal(pkt.len, 56);
    assert_int_equal(pkt.ma_off, -1);
    assert_int_equal(pkt.nvsas, 0);
    assert_int_equal(pkt.nattrs, 4);

    assert_int_equal(pkt.attrs[0].type, RADIUS_ATTR_USER_NAME);
    assert_int_equal(pkt.attrs[0].len, 4);
    assert_int_equal(pkt.attrs[0].off, 22);
    assert_memory_equal(radius_attr_value(&pkt, pkt.attrs[0].off), "nemo", 4);

    static const uint8_t hidden[16] = { 0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce,
                                        0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a, 0x0a, 0xee };
    assert_int_equal(pkt.attrs[1].type, RADIUS_ATTR_USER_PASSWORD);
    assert_int_equal(pkt.attrs[1].len, 16);
    assert_int_equal(pkt.attrs[1].off, 28);
    assert_memory_equal(radius_attr_value(&pkt, pkt.attrs[1].off), hidden, 16);

    static const uint8_t nas_ip[4] = { 192, 168, 1, 16 };
    assert_int_equal(pkt.attrs[2].type, RADIUS_ATTR_NAS_IP_ADDRESS);
    assert_int_equal(pkt.attrs[2].len, 4);
    assert_memory_equal(radius_attr_value(&pkt, pkt.attrs[2].off), nas_ip, 4);

    uint32_t port = 0;
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_NAS_PORT, &port), RADIUS_OK);
    assert_int_equal(port, 3);

    assert_ptr_equal(radius_packet_find(&pkt, RADIUS_ATTR_USER_PASSWORD), &pkt.attrs[1]);
    assert_null(radius_packet_find(&pkt, RADIUS_ATTR_MESSAGE_AUTHENTICATOR));
    assert_null(radius_packet_find_vsa(&pkt, 10415, 1));
}

static void test_rfc2865_7_1_accept(void **state)
{
    (void)state;
    size_t n = unhex(RFC2865_7_1_ACCEPT, buf, sizeof buf);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    assert_int_equal(pkt.code, RADIUS_ACCESS_ACCEPT);
    assert_int_equal(pkt.len, 38);
    assert_int_equal(pkt.nattrs, 3);
    uint32_t v = 99;
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_SERVICE_TYPE, &v), RADIUS_OK);
    assert_int_equal(v, 1); /* Login */
    assert_int_equal(radius_packet_get_u32(&pkt, 15 /* Login-Service */, &v), RADIUS_OK);
    assert_int_equal(v, 0); /* Telnet */
    assert_int_equal(radius_packet_get_u32(&pkt, 14 /* Login-IP-Host */, &v), RADIUS_OK);
    assert_int_equal(v, 0xc0a80103); /* 192.168.1.3 */
}

static void test_rfc2865_7_2_chap_request(void **state)
{
    (void)state;
    size_t n = unhex(RFC2865_7_2_CHAP_REQUEST, buf, sizeof buf);
    assert_int_equal(n, 71);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    assert_int_equal(pkt.id, 1);
    assert_int_equal(pkt.nattrs, 6);
    const struct radius_attr_ref *a = radius_packet_find(&pkt, RADIUS_ATTR_USER_NAME);
    assert_non_null(a);
    assert_int_equal(a->len, 6);
    assert_memory_equal(radius_attr_value(&pkt, a->off), "flopsy", 6);
    a = radius_packet_find(&pkt, RADIUS_ATTR_CHAP_PASSWORD);
    assert_non_null(a);
    assert_int_equal(a->len, 17);
    assert_int_equal(radius_attr_value(&pkt, a->off)[0], 22); /* CHAP ID */
    uint32_t v;
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_NAS_PORT, &v), RADIUS_OK);
    assert_int_equal(v, 20);
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_SERVICE_TYPE, &v), RADIUS_OK);
    assert_int_equal(v, 2); /* Framed */
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_FRAMED_PROTOCOL, &v), RADIUS_OK);
    assert_int_equal(v, 1); /* PPP */
}

/* Fewer than 20 octets received: RFC 2865 §3 minimum. */
static void test_decode_short(void **state)
{
    (void)state;
    size_t n = unhex(RFC2865_7_1_REQUEST, buf, sizeof buf);
    assert_int_equal(n, 56);
    for (size_t i = 0; i < RADIUS_MIN_LEN; i++)
        assert_int_equal(radius_packet_decode(buf, i, &pkt), RADIUS_E_SHORT);
}

static void test_decode_length_field_too_small(void **state)
{
    (void)state;
    size_t n = unhex(RFC2865_7_1_REQUEST, buf, sizeof buf);
    for (size_t l = 0; l < RADIUS_MIN_LEN; l++) {
        set_length_field(buf, l);
        assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_BAD_LENGTH);
    }
}

/* Length field larger than what arrived: every truncation of the RFC packet. */
static void test_decode_length_field_exceeds_received(void **state)
{
    (void)state;
    size_t n = unhex(RFC2865_7_1_REQUEST, buf, sizeof buf);
    for (size_t got = RADIUS_MIN_LEN; got < n; got++)
        assert_int_equal(radius_packet_decode(buf, got, &pkt), RADIUS_E_BAD_LENGTH);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
}

static void test_decode_too_long(void **state)
{
    (void)state;
    memset(buf, 0, sizeof buf);
    size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, NULL, 0);
    set_length_field(buf, RADIUS_MAX_LEN + 1);
    /* The Length field is checked against 4096 even when that much arrived. */
    assert_int_equal(radius_packet_decode(buf, RADIUS_MAX_LEN + 1, &pkt), RADIUS_E_TOO_LONG);
    set_length_field(buf, 0xffff);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_TOO_LONG);
}

/* Exactly 4096 octets: 15 attributes of 255 octets and one of 251. */
static void test_decode_max_length_packet(void **state)
{
    (void)state;
    uint8_t *p = buf + RADIUS_HDR_LEN;
    memset(buf, 0x5a, sizeof buf);
    for (int i = 0; i < 15; i++) {
        p[0] = RADIUS_ATTR_CLASS;
        p[1] = 255;
        p += 255;
    }
    p[0] = RADIUS_ATTR_STATE;
    p[1] = 251;
    p += 251;
    size_t n = (size_t)(p - buf);
    assert_int_equal(n, RADIUS_MAX_LEN);
    mkpkt(buf, RADIUS_ACCESS_REQUEST, NULL, 0);
    set_length_field(buf, n);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    assert_int_equal(pkt.len, RADIUS_MAX_LEN);
    assert_int_equal(pkt.nattrs, 16);
    assert_int_equal(pkt.attrs[14].len, 253);
    assert_int_equal(pkt.attrs[15].type, RADIUS_ATTR_STATE);
    assert_int_equal(pkt.attrs[15].len, 249);
    assert_int_equal(pkt.attrs[15].off + pkt.attrs[15].len, RADIUS_MAX_LEN);
}

static void test_decode_attr_length_0_and_1(void **state)
{
    (void)state;
    for (uint8_t alen = 0; alen < 2; alen++) {
        const uint8_t attrs[] = { RADIUS_ATTR_USER_NAME, 3, 'x', RADIUS_ATTR_CLASS, alen, 0, 0, 0 };
        size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
        assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_ATTR_LENGTH);
    }
    /* Length 1 followed by octets that would parse if it were stepped over. */
    const uint8_t one[] = { RADIUS_ATTR_USER_NAME, 1, 2 };
    size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, one, sizeof one);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_ATTR_LENGTH);
}

static void test_decode_attr_past_end(void **state)
{
    (void)state;
    /* Class claims 7 octets, 6 remain before the Length field's end. */
    uint8_t attrs[] = { RADIUS_ATTR_CLASS, 7, 1, 2, 3, 4 };
    size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
    /* Octets received past the Length field must not rescue it. */
    buf[n] = 5;
    buf[n + 1] = 6;
    assert_int_equal(radius_packet_decode(buf, n + 2, &pkt), RADIUS_E_ATTR_LENGTH);
    /* And the exact fit decodes. */
    attrs[1] = 6;
    n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    assert_int_equal(pkt.nattrs, 1);
    assert_int_equal(pkt.attrs[0].len, 4);
}

/* One octet left after the last attribute: no room for type and length. */
static void test_decode_attr_header_truncated(void **state)
{
    (void)state;
    const uint8_t attrs[] = { RADIUS_ATTR_USER_NAME, 3, 'x', RADIUS_ATTR_CLASS };
    size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
    buf[n] = 2; /* a length octet received, but past the Length field */
    assert_int_equal(radius_packet_decode(buf, n + 1, &pkt), RADIUS_E_ATTR_TRUNCATED);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_ATTR_TRUNCATED);
}

static void test_decode_too_many_attrs(void **state)
{
    (void)state;
    uint8_t attrs[2 * (RADIUS_MAX_ATTRS + 1)];
    for (size_t i = 0; i < sizeof attrs; i += 2) {
        attrs[i] = RADIUS_ATTR_CLASS;
        attrs[i + 1] = 2;
    }
    size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, 2 * RADIUS_MAX_ATTRS);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    assert_int_equal(pkt.nattrs, RADIUS_MAX_ATTRS);
    n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_TOO_MANY_ATTRS);
}

/* Octets after the Length field are padding (RFC 2865 §3) and ignored. */
static void test_decode_padding_ignored(void **state)
{
    (void)state;
    size_t n = unhex(RFC2865_7_1_REQUEST, buf, sizeof buf);
    /* Padding that would be a broken attribute if it were read. */
    static const uint8_t junk[] = { RADIUS_ATTR_CLASS, 0, 0xff, 0x50, 0x03, 0x01, 0x02 };
    memcpy(buf + n, junk, sizeof junk);
    assert_int_equal(radius_packet_decode(buf, n + sizeof junk, &pkt), RADIUS_OK);
    assert_int_equal(pkt.len, 56);
    assert_int_equal(pkt.nattrs, 4);
    assert_int_equal(pkt.ma_off, -1);
}

static void test_decode_vsa_indexing(void **state)
{
    (void)state;
    const uint8_t attrs[] = {
        RADIUS_ATTR_USER_NAME, 3, 'u',
        /* 3GPP VSA with two sub-attributes: IMSI "23415" and RAT 6. */
        RADIUS_ATTR_VENDOR_SPECIFIC, 6 + 7 + 3, 0x00, 0x00, 0x28, 0xaf,
        1, 7, '2', '3', '4', '1', '5',
        21, 3, 6,
        /* Vendor 9 (Cisco), one sub-attribute. */
        RADIUS_ATTR_VENDOR_SPECIFIC, 6 + 4, 0x00, 0x00, 0x00, 0x09, 1, 4, 'a', 'b',
        /* 3GPP VSA with no sub-attribute at all: valid, nothing indexed. */
        RADIUS_ATTR_VENDOR_SPECIFIC, 6, 0x00, 0x00, 0x28, 0xaf,
        /* An empty sub-attribute (length 2). */
        RADIUS_ATTR_VENDOR_SPECIFIC, 8, 0x00, 0x00, 0x28, 0xaf, 23, 2,
    };
    size_t n = mkpkt(buf, RADIUS_ACCOUNTING_REQUEST, attrs, sizeof attrs);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    assert_int_equal(pkt.nattrs, 5);
    assert_int_equal(pkt.nvsas, 4);

    assert_int_equal(pkt.vsas[0].vendor, 10415);
    assert_int_equal(pkt.vsas[0].type, 1);
    assert_int_equal(pkt.vsas[0].len, 5);
    assert_int_equal(pkt.vsas[0].off, 20 + 3 + 8);
    assert_memory_equal(radius_attr_value(&pkt, pkt.vsas[0].off), "23415", 5);

    assert_int_equal(pkt.vsas[1].vendor, 10415);
    assert_int_equal(pkt.vsas[1].type, 21);
    assert_int_equal(pkt.vsas[1].len, 1);
    assert_int_equal(radius_attr_value(&pkt, pkt.vsas[1].off)[0], 6);

    assert_int_equal(pkt.vsas[2].vendor, 9);
    assert_memory_equal(radius_attr_value(&pkt, pkt.vsas[2].off), "ab", 2);

    assert_int_equal(pkt.vsas[3].vendor, 10415);
    assert_int_equal(pkt.vsas[3].type, 23);
    assert_int_equal(pkt.vsas[3].len, 0);

    assert_ptr_equal(radius_packet_find_vsa(&pkt, 10415, 21), &pkt.vsas[1]);
    assert_ptr_equal(radius_packet_find_vsa(&pkt, 9, 1), &pkt.vsas[2]);
    assert_null(radius_packet_find_vsa(&pkt, 9, 21));
    assert_null(radius_packet_find_vsa(&pkt, 10415, 22));
    /* The VSA is still an ordinary attribute too. */
    assert_int_equal(pkt.attrs[1].type, RADIUS_ATTR_VENDOR_SPECIFIC);
    assert_int_equal(pkt.attrs[1].len, 14);
}

static void test_decode_vsa_too_short(void **state)
{
    (void)state;
    /* A Vendor-Specific too short for its Vendor-Id, whatever the vendor. */
    for (uint8_t vlen = 0; vlen < 4; vlen++) {
        uint8_t attrs[6] = { RADIUS_ATTR_VENDOR_SPECIFIC, (uint8_t)(2 + vlen), 0, 0, 0, 9 };
        size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, 2u + vlen);
        assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_VSA_MALFORMED);
    }
}

/* Mis-framed 3GPP contents are refused; another vendor's are kept opaque. */
static void test_decode_vsa_malformed_3gpp(void **state)
{
    (void)state;
    static const uint8_t bad_subs[][4] = {
        { 1, 0, 'x', 'y' },  /* sub-attribute length 0 */
        { 1, 1, 'x', 'y' },  /* length 1 */
        { 1, 5, 'x', 'y' },  /* runs past the VSA */
        { 21, 3, 6, 9 },     /* a lone trailing octet: no room for a header */
        { 1, 1, 1, 2 },      /* length 1, then octets that would frame if skipped */
    };
    for (size_t i = 0; i < sizeof bad_subs / sizeof bad_subs[0]; i++) {
        uint8_t attrs[10] = { RADIUS_ATTR_VENDOR_SPECIFIC, 10, 0x00, 0x00, 0x28, 0xaf };
        memcpy(attrs + 6, bad_subs[i], 4);
        size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
        assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_VSA_MALFORMED);

        attrs[5] = 9; /* vendor 10415 → 10249: an unknown vendor */
        n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
        assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
        assert_int_equal(pkt.nattrs, 1);
        assert_int_equal(pkt.nvsas, 0); /* never half-indexed */
    }
}

static void test_decode_too_many_vsas(void **state)
{
    (void)state;
    /* 3 VSAs of 20 empty sub-attributes each: 60 > RADIUS_MAX_VSAS. */
    uint8_t attrs[3 * 46];
    for (int v = 0; v < 3; v++) {
        uint8_t *a = attrs + v * 46;
        a[0] = RADIUS_ATTR_VENDOR_SPECIFIC;
        a[1] = 46;
        a[2] = 0;
        a[3] = 0;
        a[4] = 0x28;
        a[5] = 0xaf;
        for (int s = 0; s < 20; s++) {
            a[6 + 2 * s] = 99;
            a[7 + 2 * s] = 2;
        }
    }
    size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_TOO_MANY_ATTRS);
    /* Two of them (40 sub-attributes) fit. */
    n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, 2 * 46);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    assert_int_equal(pkt.nvsas, 40);
}

static void test_decode_message_authenticator(void **state)
{
    (void)state;
    uint8_t attrs[3 + RADIUS_MA_LEN] = { RADIUS_ATTR_USER_NAME, 3, 'u',
                                         RADIUS_ATTR_MESSAGE_AUTHENTICATOR, RADIUS_MA_LEN };
    memset(attrs + 5, 0x77, 16);
    size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    assert_int_equal(pkt.ma_off, 20 + 3 + 2);
    assert_int_equal(radius_attr_value(&pkt, (uint16_t)pkt.ma_off)[0], 0x77);
}

/* RFC 3579 §3.2: the Message-Authenticator is exactly 16 octets. */
static void test_decode_ma_wrong_size(void **state)
{
    (void)state;
    static const uint8_t sizes[] = { 2, 3, 17, 19, 34 };
    for (size_t i = 0; i < sizeof sizes; i++) {
        uint8_t attrs[34] = { RADIUS_ATTR_MESSAGE_AUTHENTICATOR, sizes[i] };
        size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizes[i]);
        assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_MA_LENGTH);
    }
}

static void test_decode_two_message_authenticators(void **state)
{
    (void)state;
    uint8_t attrs[2 * RADIUS_MA_LEN] = { 0 };
    attrs[0] = attrs[RADIUS_MA_LEN] = RADIUS_ATTR_MESSAGE_AUTHENTICATOR;
    attrs[1] = attrs[RADIUS_MA_LEN + 1] = RADIUS_MA_LEN;
    size_t n = mkpkt(buf, RADIUS_ACCESS_REQUEST, attrs, sizeof attrs);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_E_MA_DUPLICATE);
}

static void test_get_u32(void **state)
{
    (void)state;
    const uint8_t attrs[] = { RADIUS_ATTR_SESSION_TIMEOUT, 6, 0x00, 0x01, 0x51, 0x80,
                              RADIUS_ATTR_NAS_PORT, 5, 1, 2, 3,
                              RADIUS_ATTR_ACCT_STATUS_TYPE, 7, 0, 0, 0, 1, 0 };
    size_t n = mkpkt(buf, RADIUS_ACCOUNTING_REQUEST, attrs, sizeof attrs);
    assert_int_equal(radius_packet_decode(buf, n, &pkt), RADIUS_OK);
    uint32_t v = 0xdeadbeef;
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_SESSION_TIMEOUT, &v), RADIUS_OK);
    assert_int_equal(v, 86400);
    v = 0xdeadbeef;
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_NAS_PORT, &v), RADIUS_E_ATTR_VALUE);
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_ACCT_STATUS_TYPE, &v),
                     RADIUS_E_ATTR_VALUE);
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_FRAMED_IP_ADDRESS, &v),
                     RADIUS_E_ATTR_VALUE);
    assert_int_equal(v, 0xdeadbeef); /* untouched on failure */
}

static void test_error_and_code_names(void **state)
{
    (void)state;
    /* Every reason has its own counter name. */
    for (int e = 0; e > -RADIUS_E__COUNT; e--) {
        const char *name = radius_error_name(e);
        assert_non_null(name);
        assert_string_not_equal(name, "unknown_error");
        for (int f = 0; f > e; f--)
            assert_string_not_equal(name, radius_error_name(f));
    }
    assert_string_equal(radius_error_name(RADIUS_E_MA_BAD), "ma_bad");
    assert_string_equal(radius_error_name(1), "unknown_error");
    assert_string_equal(radius_error_name(-RADIUS_E__COUNT), "unknown_error");
    assert_string_equal(radius_error_name(INT_MIN), "unknown_error");
    assert_string_equal(radius_code_name(RADIUS_ACCESS_REQUEST), "Access-Request");
    assert_string_equal(radius_code_name(RADIUS_COA_NAK), "CoA-NAK");
    assert_string_equal(radius_code_name(0), "unknown");
    assert_string_equal(radius_code_name(255), "unknown");
}

/* The builder reproduces the RFC 2865 §7.1 request octet for octet. */
static void test_builder_rfc2865_7_1(void **state)
{
    (void)state;
    uint8_t want[64], out[64];
    size_t n = unhex(RFC2865_7_1_REQUEST, want, sizeof want);
    struct radius_builder b;
    radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_REQUEST, 0, want + 4);
    radius_builder_add_str(&b, RADIUS_ATTR_USER_NAME, "nemo");
    radius_builder_add(&b, RADIUS_ATTR_USER_PASSWORD, want + 28, 16);
    static const uint8_t nas_ip[4] = { 192, 168, 1, 16 };
    radius_builder_add(&b, RADIUS_ATTR_NAS_IP_ADDRESS, nas_ip, 4);
    radius_builder_add_u32(&b, RADIUS_ATTR_NAS_PORT, 3);
    assert_int_equal(radius_builder_finish(&b), (int)n);
    assert_memory_equal(out, want, n);
    assert_int_equal(b.ma_off, -1);
}

static void test_builder_round_trip(void **state)
{
    (void)state;
    uint8_t out[512];
    uint8_t auth[RADIUS_AUTH_LEN];
    for (int i = 0; i < RADIUS_AUTH_LEN; i++)
        auth[i] = (uint8_t)(i * 7 + 1);
    struct radius_builder b;
    radius_builder_init(&b, out, sizeof out, RADIUS_ACCOUNTING_REQUEST, 0x99, auth);
    radius_builder_add_str(&b, RADIUS_ATTR_USER_NAME, "234150123456789");
    radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_STATUS_TYPE, 3);
    radius_builder_add_vsa(&b, 10415, 21, "\x06", 1);
    radius_builder_add(&b, RADIUS_ATTR_CLASS, NULL, 0);
    radius_builder_add_ma(&b);
    radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_INPUT_OCTETS, 0xfedcba98);
    int len = radius_builder_finish(&b);
    /* 20 + (2+15) + 6 + (6+2+1) + 2 + 18 + 6 */
    assert_int_equal(len, 20 + 17 + 6 + 9 + 2 + 18 + 6);
    assert_int_equal(out[2] << 8 | out[3], len);

    assert_int_equal(radius_packet_decode(out, (size_t)len, &pkt), RADIUS_OK);
    assert_int_equal(pkt.code, RADIUS_ACCOUNTING_REQUEST);
    assert_int_equal(pkt.id, 0x99);
    assert_memory_equal(out + 4, auth, RADIUS_AUTH_LEN);
    assert_int_equal(pkt.nattrs, 6);
    assert_int_equal(pkt.nvsas, 1);
    assert_int_equal(pkt.ma_off, b.ma_off);
    static const uint8_t zero[16];
    assert_memory_equal(out + pkt.ma_off, zero, 16);
    const struct radius_attr_ref *a = radius_packet_find(&pkt, RADIUS_ATTR_USER_NAME);
    assert_non_null(a);
    assert_int_equal(a->len, 15);
    assert_memory_equal(radius_attr_value(&pkt, a->off), "234150123456789", 15);
    uint32_t v;
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_ACCT_STATUS_TYPE, &v), RADIUS_OK);
    assert_int_equal(v, 3);
    assert_int_equal(radius_packet_get_u32(&pkt, RADIUS_ATTR_ACCT_INPUT_OCTETS, &v), RADIUS_OK);
    assert_int_equal(v, 0xfedcba98);
    const struct radius_vsa_ref *s = radius_packet_find_vsa(&pkt, 10415, 21);
    assert_non_null(s);
    assert_int_equal(s->len, 1);
    assert_int_equal(radius_attr_value(&pkt, s->off)[0], 6);
    a = radius_packet_find(&pkt, RADIUS_ATTR_CLASS);
    assert_non_null(a);
    assert_int_equal(a->len, 0);
}

/* Null authenticator: the header gets 16 zero octets. */
static void test_builder_null_auth(void **state)
{
    (void)state;
    uint8_t out[32];
    memset(out, 0xee, sizeof out);
    struct radius_builder b;
    radius_builder_init(&b, out, sizeof out, RADIUS_DISCONNECT_REQUEST, 7, NULL);
    assert_int_equal(radius_builder_finish(&b), 20);
    static const uint8_t want[20] = { RADIUS_DISCONNECT_REQUEST, 7, 0, 20 };
    assert_memory_equal(out, want, 20);
}

/* Sticky errors: after NO_SPACE nothing more is written and finish fails. */
static void test_builder_no_space_sticky(void **state)
{
    (void)state;
    uint8_t out[64];
    memset(out, 0xcc, sizeof out);
    struct radius_builder b;
    radius_builder_init(&b, out, 30, RADIUS_ACCESS_ACCEPT, 1, NULL);
    radius_builder_add(&b, RADIUS_ATTR_CLASS, "0123456789", 9);   /* 11 > 10 left */
    assert_int_equal(b.err, RADIUS_E_NO_SPACE);
    radius_builder_add(&b, RADIUS_ATTR_CLASS, "x", 1);            /* would fit */
    radius_builder_add_u32(&b, RADIUS_ATTR_SESSION_TIMEOUT, 1);
    radius_builder_add_ma(&b);
    assert_int_equal(b.len, 20);
    assert_int_equal(b.ma_off, -1);
    assert_int_equal(radius_builder_finish(&b), RADIUS_E_NO_SPACE);
    /* Nothing past the header was touched, the Length field not written. */
    for (size_t i = 20; i < sizeof out; i++)
        assert_int_equal(out[i], 0xcc);
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 0);
}

static void test_builder_exact_fit(void **state)
{
    (void)state;
    uint8_t out[40];
    memset(out, 0xcc, sizeof out);
    struct radius_builder b;
    radius_builder_init(&b, out, 30, RADIUS_ACCESS_ACCEPT, 1, NULL);
    radius_builder_add(&b, RADIUS_ATTR_CLASS, "01234567", 8);     /* 10 = 10 left */
    assert_int_equal(radius_builder_finish(&b), 30);
    radius_builder_add(&b, RADIUS_ATTR_CLASS, NULL, 0);           /* 2 > 0 left */
    assert_int_equal(radius_builder_finish(&b), RADIUS_E_NO_SPACE);
    for (size_t i = 30; i < sizeof out; i++)
        assert_int_equal(out[i], 0xcc);
}

static void test_builder_buffer_smaller_than_header(void **state)
{
    (void)state;
    uint8_t out[24];
    memset(out, 0xcc, sizeof out);
    struct radius_builder b;
    radius_builder_init(&b, out, 19, RADIUS_ACCESS_ACCEPT, 1, NULL);
    radius_builder_add_u32(&b, RADIUS_ATTR_SESSION_TIMEOUT, 1);
    assert_int_equal(radius_builder_finish(&b), RADIUS_E_NO_SPACE);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0xcc);
}

/* RFC 2865 §5: an attribute value is at most 253 octets. */
static void test_builder_attr_too_long(void **state)
{
    (void)state;
    uint8_t out[600], value[254];
    memset(value, 'v', sizeof value);
    struct radius_builder b;

    radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_ACCEPT, 1, NULL);
    radius_builder_add(&b, RADIUS_ATTR_REPLY_MESSAGE, value, 253);
    int len = radius_builder_finish(&b);
    assert_int_equal(len, 20 + 255);
    assert_int_equal(out[21], 255);
    assert_int_equal(radius_packet_decode(out, (size_t)len, &pkt), RADIUS_OK);
    assert_int_equal(pkt.attrs[0].len, 253);

    radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_ACCEPT, 1, NULL);
    radius_builder_add(&b, RADIUS_ATTR_REPLY_MESSAGE, value, 254);
    radius_builder_add(&b, RADIUS_ATTR_REPLY_MESSAGE, value, 3);
    assert_int_equal(radius_builder_finish(&b), RADIUS_E_ATTR_VALUE);
    assert_int_equal(b.len, 20);
}

/* A VSA carries 6 octets of framing: at most 247 octets of value. */
static void test_builder_vsa_limits(void **state)
{
    (void)state;
    uint8_t out[600], value[248];
    memset(value, 'v', sizeof value);
    struct radius_builder b;

    radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_ACCEPT, 1, NULL);
    radius_builder_add_vsa(&b, 10415, 22, value, 247);
    int len = radius_builder_finish(&b);
    assert_int_equal(len, 20 + 255);
    assert_int_equal(radius_packet_decode(out, (size_t)len, &pkt), RADIUS_OK);
    assert_int_equal(pkt.nvsas, 1);
    assert_int_equal(pkt.vsas[0].vendor, 10415);
    assert_int_equal(pkt.vsas[0].type, 22);
    assert_int_equal(pkt.vsas[0].len, 247);

    radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_ACCEPT, 1, NULL);
    radius_builder_add_vsa(&b, 10415, 22, value, 248);
    assert_int_equal(radius_builder_finish(&b), RADIUS_E_ATTR_VALUE);
}

static void test_builder_two_ma(void **state)
{
    (void)state;
    uint8_t out[128];
    struct radius_builder b;
    radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_ACCEPT, 1, NULL);
    radius_builder_add_ma(&b);
    assert_int_equal(b.ma_off, 22);
    radius_builder_add_ma(&b);
    assert_int_equal(radius_builder_finish(&b), RADIUS_E_MA_DUPLICATE);
}

/* The builder never produces more than 4096 octets, whatever the buffer. */
static void test_builder_capped_at_max_len(void **state)
{
    (void)state;
    static uint8_t big[2 * RADIUS_MAX_LEN];
    uint8_t value[253];
    memset(value, 'c', sizeof value);
    memset(big, 0xcc, sizeof big);
    struct radius_builder b;
    radius_builder_init(&b, big, sizeof big, RADIUS_ACCESS_ACCEPT, 1, NULL);
    /* 16 × 255 = 4080 octets of attributes: 4100 > 4096. */
    for (int i = 0; i < 16; i++)
        radius_builder_add(&b, RADIUS_ATTR_CLASS, value, sizeof value);
    assert_int_equal(radius_builder_finish(&b), RADIUS_E_NO_SPACE);
    assert_int_equal(b.len, 20 + 15 * 255);
    for (size_t i = b.len; i < sizeof big; i++)
        assert_int_equal(big[i], 0xcc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc2865_7_1_request),
        cmocka_unit_test(test_rfc2865_7_1_accept),
        cmocka_unit_test(test_rfc2865_7_2_chap_request),
        cmocka_unit_test(test_decode_short),
        cmocka_unit_test(test_decode_length_field_too_small),
        cmocka_unit_test(test_decode_length_field_exceeds_received),
        cmocka_unit_test(test_decode_too_long),
        cmocka_unit_test(test_decode_max_length_packet),
        cmocka_unit_test(test_decode_attr_length_0_and_1),
        cmocka_unit_test(test_decode_attr_past_end),
        cmocka_unit_test(test_decode_attr_header_truncated),
        cmocka_unit_test(test_decode_too_many_attrs),
        cmocka_unit_test(test_decode_padding_ignored),
        cmocka_unit_test(test_decode_vsa_indexing),
        cmocka_unit_test(test_decode_vsa_too_short),
        cmocka_unit_test(test_decode_vsa_malformed_3gpp),
        cmocka_unit_test(test_decode_too_many_vsas),
        cmocka_unit_test(test_decode_message_authenticator),
        cmocka_unit_test(test_decode_ma_wrong_size),
        cmocka_unit_test(test_decode_two_message_authenticators),
        cmocka_unit_test(test_get_u32),
        cmocka_unit_test(test_error_and_code_names),
        cmocka_unit_test(test_builder_rfc2865_7_1),
        cmocka_unit_test(test_builder_round_trip),
        cmocka_unit_test(test_builder_null_auth),
        cmocka_unit_test(test_builder_no_space_sticky),
        cmocka_unit_test(test_builder_exact_fit),
        cmocka_unit_test(test_builder_buffer_smaller_than_header),
        cmocka_unit_test(test_builder_attr_too_long),
        cmocka_unit_test(test_builder_vsa_limits),
        cmocka_unit_test(test_builder_two_ma),
        cmocka_unit_test(test_builder_capped_at_max_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
