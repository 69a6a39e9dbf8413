/*
 * test_gpp.c — unit tests of the 3GPP vendor-attribute decoder
 * (src/radius/gpp.c, TS 29.061 §16.4.7): the BCD PLMN of TS 24.008
 * §10.5.1.3 with 2- and 3-digit MNCs, every User-Location-Info type
 * (CGI 0, SAI 1, RAI 2, TAI 128, ECGI 129, TAI+ECGI 130) and its size and
 * digit checks, MCC-MNC strings, RAT names, and gpp_info_decode() over a
 * packet carrying every attribute, with the reason each bad one reports.
 *
 * The BCD octets are worked out by hand from TS 24.008 Figure 10.5.13:
 * octet 1 = MCC digit 2 | MCC digit 1, octet 2 = MNC digit 3 | MCC digit 3,
 * octet 3 = MNC digit 2 | MNC digit 1 (high nibble | low nibble), with
 * MNC digit 3 = 0xF for a two-digit MNC.  So MCC 234 MNC 15 is 32 f4 51 and
 * MCC 310 MNC 410 is 13 00 14.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "radius/gpp.h"
#include "radius/radius.h"
#include "test_util.h"

static struct radius_packet pkt;

struct plmn_case {
    uint8_t bcd[3];
    uint16_t mcc, mnc;
    uint8_t mnc_digits;
    const char *text;
};

static const struct plmn_case plmns[] = {
    { { 0x32, 0xf4, 0x51 }, 234, 15, 2, "23415" },
    { { 0x13, 0x00, 0x14 }, 310, 410, 3, "310410" },
    { { 0x00, 0xf1, 0x10 }, 1, 1, 2, "00101" },
    { { 0x13, 0x00, 0x10 }, 310, 10, 3, "310010" },   /* MNC 010 ≠ MNC 10 */
    { { 0x13, 0xf0, 0x01 }, 310, 10, 2, "31010" },
    { { 0x99, 0x99, 0x99 }, 999, 999, 3, "999999" },
};
#define NPLMNS (sizeof plmns / sizeof plmns[0])

static void test_plmn_bcd(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPLMNS; i++) {
        struct gpp_plmn p = { 0 };
        assert_int_equal(gpp_plmn_decode_bcd(plmns[i].bcd, &p), GPP_OK);
        assert_int_equal(p.mcc, plmns[i].mcc);
        assert_int_equal(p.mnc, plmns[i].mnc);
        assert_int_equal(p.mnc_digits, plmns[i].mnc_digits);
        uint8_t back[3];
        gpp_plmn_encode_bcd(&p, back);
        assert_memory_equal(back, plmns[i].bcd, 3);
    }
    /* MNC 010 and MNC 10 of the same MCC are different networks. */
    struct gpp_plmn a, b;
    assert_int_equal(gpp_plmn_decode_bcd(plmns[3].bcd, &a), GPP_OK);
    assert_int_equal(gpp_plmn_decode_bcd(plmns[4].bcd, &b), GPP_OK);
    assert_false(gpp_plmn_equal(&a, &b));
    assert_true(gpp_plmn_equal(&a, &a));
}

/* Any nibble above 9 is refused, except MNC digit 3 = 0xF. */
static void test_plmn_bcd_not_decimal(void **state)
{
    (void)state;
    for (int octet = 0; octet < 3; octet++) {
        for (int shift = 0; shift <= 4; shift += 4) {
            for (uint8_t nib = 0xa; nib <= 0xf; nib++) {
                uint8_t v[3] = { 0x32, 0x04, 0x51 }; /* 234 / 150 */
                v[octet] = (uint8_t)((v[octet] & ~(0x0f << shift)) | nib << shift);
                struct gpp_plmn p = { .mcc = 7, .mnc = 7, .mnc_digits = 7 };
                int r = gpp_plmn_decode_bcd(v, &p);
                if (octet == 1 && shift == 4 && nib == 0xf) {
                    assert_int_equal(r, GPP_OK);
                    assert_int_equal(p.mnc_digits, 2);
                } else {
                    assert_int_equal(r, GPP_E_ULI_PLMN);
                    assert_int_equal(p.mcc, 7); /* untouched */
                }
            }
        }
    }
}

static void test_plmn_parse_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPLMNS; i++) {
        struct gpp_plmn p;
        const char *t = plmns[i].text;
        assert_int_equal(gpp_plmn_parse(t, strlen(t), &p), 0);
        assert_int_equal(p.mcc, plmns[i].mcc);
        assert_int_equal(p.mnc, plmns[i].mnc);
        assert_int_equal(p.mnc_digits, plmns[i].mnc_digits);
        char out[7];
        memset(out, 'x', sizeof out);
        gpp_plmn_format(&p, out);
        assert_string_equal(out, t);
    }
    static const char *const bad[] = { "", "2341", "2341567", "2341a", "23 15", "-2341", "23415\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct gpp_plmn p = { .mcc = 7 };
        assert_int_equal(gpp_plmn_parse(bad[i], strlen(bad[i]), &p), -1);
        assert_int_equal(p.mcc, 7);
    }
    /* Only len characters are read. */
    struct gpp_plmn p;
    assert_int_equal(gpp_plmn_parse("234150", 5, &p), 0);
    assert_int_equal(p.mnc, 15);
    assert_int_equal(p.mnc_digits, 2);
}

/* A ULI value: type, PLMN, then the type's fields, as a GGSN sends it. */
static size_t mkuli(uint8_t *out, uint8_t type, const uint8_t bcd[3])
{
    size_t n = 0;
    out[n++] = type;
    memcpy(out + n, bcd, 3);
    n += 3;
    switch (type) {
    case GPP_ULI_CGI:   /* LAC 0x1234, CI 0xabcd */
        memcpy(out + n, "\x12\x34\xab\xcd", 4);
        n += 4;
        break;
    case GPP_ULI_SAI:   /* LAC 0x0fa0, SAC 0x0007 */
        memcpy(out + n, "\x0f\xa0\x00\x07", 4);
        n += 4;
        break;
    case GPP_ULI_RAI:   /* LAC 0x0001, RAC 0x5a, spare 0xff */
        memcpy(out + n, "\x00\x01\x5a\xff", 4);
        n += 4;
        break;
    case GPP_ULI_TAI:   /* TAC 0x0102 */
        memcpy(out + n, "\x01\x02", 2);
        n += 2;
        break;
    case GPP_ULI_ECGI:  /* spare bits set, ECI 0x1234567 */
        memcpy(out + n, "\xf1\x23\x45\x67", 4);
        n += 4;
        break;
    case GPP_ULI_TAI_ECGI: /* TAC 0x2b67, ECGI PLMN, ECI 0x0abcdef */
        memcpy(out + n, "\x2b\x67", 2);
        n += 2;
        memcpy(out + n, bcd, 3);
        n += 3;
        memcpy(out + n, "\x00\xab\xcd\xef", 4);
        n += 4;
        break;
    }
    return n;
}

static const uint8_t uli_types[] = { GPP_ULI_CGI, GPP_ULI_SAI, GPP_ULI_RAI,
                                     GPP_ULI_TAI, GPP_ULI_ECGI, GPP_ULI_TAI_ECGI };
static const size_t uli_sizes[] = { 8, 8, 8, 6, 8, 13 };

static void check_uli_fields(const struct gpp_uli *u, uint8_t type)
{
    assert_int_equal(u->type, type);
    switch (type) {
    case GPP_ULI_CGI:
        assert_int_equal(u->lac, 0x1234);
        assert_int_equal(u->ci, 0xabcd);
        assert_int_equal(gpp_uli_area(u), 0x1234);
        assert_int_equal(gpp_uli_cell(u), 0xabcd);
        break;
    case GPP_ULI_SAI:
        assert_int_equal(u->lac, 0x0fa0);
        assert_int_equal(u->ci, 7);
        assert_int_equal(gpp_uli_area(u), 0x0fa0);
        assert_int_equal(gpp_uli_cell(u), 7);
        break;
    case GPP_ULI_RAI:
        assert_int_equal(u->lac, 1);
        assert_int_equal(u->ci, 0x5a); /* the RAC; the spare octet is not part of it */
        assert_int_equal(gpp_uli_area(u), 1);
        assert_int_equal(gpp_uli_cell(u), 0x5a);
        break;
    case GPP_ULI_TAI:
        assert_int_equal(u->tac, 0x0102);
        assert_int_equal(u->eci, 0);
        assert_int_equal(gpp_uli_area(u), 0x0102);
        break;
    case GPP_ULI_ECGI:
        assert_int_equal(u->eci, 0x1234567); /* the 4 spare bits dropped */
        assert_int_equal(gpp_uli_cell(u), 0x1234567);
        break;
    case GPP_ULI_TAI_ECGI:
        assert_int_equal(u->tac, 0x2b67);
        assert_int_equal(u->eci, 0x0abcdef);
        assert_int_equal(gpp_uli_area(u), 0x2b67);
        assert_int_equal(gpp_uli_cell(u), 0x0abcdef);
        break;
    default:
        fail();
    }
}

/* Every location type, with a 2-digit and a 3-digit MNC. */
static void test_uli_every_type(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof uli_types; t++) {
        for (size_t p = 0; p < 2; p++) {
            uint8_t v[32];
            size_t n = mkuli(v, uli_types[t], plmns[p].bcd);
            assert_int_equal(n, uli_sizes[t]);
            struct gpp_uli u;
            memset(&u, 0xee, sizeof u);
            assert_int_equal(gpp_uli_decode(v, n, &u), GPP_OK);
            check_uli_fields(&u, uli_types[t]);
            assert_int_equal(u.plmn.mcc, plmns[p].mcc);
            assert_int_equal(u.plmn.mnc, plmns[p].mnc);
            assert_int_equal(u.plmn.mnc_digits, plmns[p].mnc_digits);
        }
    }
}

static void test_uli_wrong_length(void **state)
{
    (void)state;
    struct gpp_uli u, untouched;
    memset(&untouched, 0xee, sizeof untouched);
    assert_int_equal(gpp_uli_decode((const uint8_t *)"", 0, &u), GPP_E_ULI_LENGTH);
    for (size_t t = 0; t < sizeof uli_types; t++) {
        uint8_t v[32];
        size_t n = mkuli(v, uli_types[t], plmns[0].bcd);
        v[n] = 0; /* one octet too many */
        for (size_t len = 1; len <= n + 1; len++) {
            if (len == n)
                continue;
            memcpy(&u, &untouched, sizeof u);
            assert_int_equal(gpp_uli_decode(v, len, &u), GPP_E_ULI_LENGTH);
            assert_memory_equal(&u, &untouched, sizeof u);
        }
    }
}

static void test_uli_unknown_type(void **state)
{
    (void)state;
    static const uint8_t types[] = { 3, 4, 127, 131, 135, 255 };
    for (size_t i = 0; i < sizeof types; i++) {
        uint8_t v[16] = { types[i], 0x32, 0xf4, 0x51, 1, 2, 3, 4 };
        struct gpp_uli u;
        assert_int_equal(gpp_uli_decode(v, 8, &u), GPP_E_ULI_TYPE);
        assert_int_equal(gpp_uli_decode(v, 6, &u), GPP_E_ULI_TYPE);
    }
}

/* A non-decimal BCD digit in the PLMN of every type (and the ECGI's, in 130). */
static void test_uli_bad_plmn(void **state)
{
    (void)state;
    static const uint8_t bad[3] = { 0x3a, 0xf4, 0x51 };
    for (size_t t = 0; t < sizeof uli_types; t++) {
        uint8_t v[32];
        size_t n = mkuli(v, uli_types[t], bad);
        struct gpp_uli u;
        assert_int_equal(gpp_uli_decode(v, n, &u), GPP_E_ULI_PLMN);
    }
    uint8_t v[32];
    size_t n = mkuli(v, GPP_ULI_TAI_ECGI, plmns[0].bcd);
    struct gpp_uli u;
    v[6 + 1] = 0xc4; /* the ECGI's octet 2: MNC digit 3 = 0xC */
    assert_int_equal(gpp_uli_decode(v, n, &u), GPP_E_ULI_PLMN);
}

static void test_rat_names(void **state)
{
    (void)state;
    assert_int_equal(gpp_rat_from_name("EUTRAN"), GPP_RAT_EUTRAN);
    assert_int_equal(gpp_rat_from_name("eutran"), GPP_RAT_EUTRAN);
    assert_int_equal(gpp_rat_from_name("NB-IoT"), GPP_RAT_EUTRAN_NB_IOT);
    assert_int_equal(gpp_rat_from_name("nb-iot"), GPP_RAT_EUTRAN_NB_IOT);
    assert_int_equal(gpp_rat_from_name("LTE-M"), GPP_RAT_LTE_M);
    assert_int_equal(gpp_rat_from_name("utran"), GPP_RAT_UTRAN);
    assert_int_equal(gpp_rat_from_name("NR"), GPP_RAT_NR);
    assert_int_equal(gpp_rat_from_name("6"), 6);
    assert_int_equal(gpp_rat_from_name("0"), 0);
    assert_int_equal(gpp_rat_from_name("255"), 255);
    assert_int_equal(gpp_rat_from_name("256"), -1);
    assert_int_equal(gpp_rat_from_name("99999999999999999999"), -1);
    assert_int_equal(gpp_rat_from_name(""), -1);
    assert_int_equal(gpp_rat_from_name("6a"), -1);
    assert_int_equal(gpp_rat_from_name("-6"), -1);
    assert_int_equal(gpp_rat_from_name("EUTRAN "), -1);
    assert_int_equal(gpp_rat_from_name("LTE"), -1);
    for (int r = 1; r <= GPP_RAT__MAX; r++) {
        const char *name = gpp_rat_name(r);
        assert_string_not_equal(name, "unknown");
        assert_int_equal(gpp_rat_from_name(name), r);
    }
    assert_string_equal(gpp_rat_name(GPP_RAT_EUTRAN), "EUTRAN");
    assert_string_equal(gpp_rat_name(0), "unknown");
    assert_string_equal(gpp_rat_name(GPP_RAT__MAX + 1), "unknown");
}

static void test_error_names(void **state)
{
    (void)state;
    for (int e = 0; e > -GPP_E__COUNT; e--) {
        const char *name = gpp_error_name(e);
        assert_string_not_equal(name, "unknown_error");
        for (int f = 0; f > e; f--)
            assert_string_not_equal(name, gpp_error_name(f));
    }
    assert_string_equal(gpp_error_name(GPP_E_ULI_TYPE), "gpp_uli_unknown_type");
    assert_string_equal(gpp_error_name(1), "unknown_error");
    assert_string_equal(gpp_error_name(-GPP_E__COUNT), "unknown_error");
    assert_string_equal(gpp_error_name(INT_MIN), "unknown_error");
}

/* A packet carrying every 3GPP attribute gpp_info_decode() knows. */
static void test_info_every_attribute(void **state)
{
    (void)state;
    static uint8_t out[1024];
    uint8_t uli[16];
    size_t ulen = mkuli(uli, GPP_ULI_TAI_ECGI, plmns[1].bcd);
    struct radius_builder b;
    radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_REQUEST, 1, NULL);
    radius_builder_add_str(&b, RADIUS_ATTR_USER_NAME, "device-1");
    /* Another vendor's type 1 must not be read as an IMSI. */
    radius_builder_add_vsa(&b, 9, GPP_IMSI, "not-an-imsi", 11);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMSI, "310410123456789", 15);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_CHARGING_ID, "\x01\x02\x03\x04", 4);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_PDP_TYPE, "\x00\x00\x00\x02", 4);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_GGSN_ADDRESS, "\x0a\x01\x02\x03", 4);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMSI_MCC_MNC, "310410", 6);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_GGSN_MCC_MNC, "23415", 5);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_NSAPI, "5", 1);
    /* An attribute the decoder does not know (3GPP-GPRS-QoS-Profile): skipped. */
    radius_builder_add_vsa(&b, GPP_VENDOR, 5, "08-4A020000", 11);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_SELECTION_MODE, "0", 1);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_CHARGING_CHARACTERISTICS, "0800", 4);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_SGSN_MCC_MNC, "310010", 6);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMEISV, "3534560123456701", 16);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_RAT_TYPE, "\x06", 1);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_USER_LOCATION_INFO, uli, ulen);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_MS_TIMEZONE, "\x80\x01", 2);
    int len = radius_builder_finish(&b);
    assert_true(len > 0);
    assert_int_equal(radius_packet_decode(out, (size_t)len, &pkt), RADIUS_OK);

    struct gpp_info g;
    memset(&g, 0xee, sizeof g);
    assert_int_equal(gpp_info_decode(&pkt, &g), GPP_OK);
    assert_int_equal(g.has, (1u << 14) - 1);
    assert_string_equal(g.imsi, "310410123456789");
    assert_int_equal(g.imsi_len, 15);
    assert_int_equal(g.charging_id, 0x01020304);
    assert_int_equal(g.pdp_type, 2);
    assert_memory_equal(&g.ggsn_address, "\x0a\x01\x02\x03", 4);
    assert_int_equal(g.imsi_plmn.mcc, 310);
    assert_int_equal(g.imsi_plmn.mnc, 410);
    assert_int_equal(g.imsi_plmn.mnc_digits, 3);
    assert_int_equal(g.ggsn_plmn.mcc, 234);
    assert_int_equal(g.ggsn_plmn.mnc, 15);
    assert_int_equal(g.ggsn_plmn.mnc_digits, 2);
    assert_int_equal(g.sgsn_plmn.mcc, 310);
    assert_int_equal(g.sgsn_plmn.mnc, 10);
    assert_int_equal(g.sgsn_plmn.mnc_digits, 3);
    assert_int_equal(g.nsapi, '5');
    assert_int_equal(g.selection_mode, '0');
    assert_string_equal(g.charging_chars, "0800");
    assert_string_equal(g.imeisv, "3534560123456701");
    assert_int_equal(g.imeisv_len, 16);
    assert_int_equal(g.rat, GPP_RAT_EUTRAN);
    check_uli_fields(&g.uli, GPP_ULI_TAI_ECGI);
    assert_int_equal(g.uli.plmn.mcc, 310);
    assert_int_equal(g.uli.plmn.mnc, 410);
    assert_int_equal(g.tz_offset, 0x80);
    assert_int_equal(g.tz_dst, 1);
}

/* A packet with one 3GPP VSA; returns gpp_info_decode()'s verdict. */
static int decode_one_vsa(uint8_t type, const void *value, size_t len, struct gpp_info *g)
{
    static uint8_t out[512];
    struct radius_builder b;
    radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_REQUEST, 1, NULL);
    radius_builder_add_vsa(&b, GPP_VENDOR, type, value, len);
    int plen = radius_builder_finish(&b);
    assert_true(plen > 0);
    assert_int_equal(radius_packet_decode(out, (size_t)plen, &pkt), RADIUS_OK);
    assert_int_equal(pkt.nvsas, 1);
    return gpp_info_decode(&pkt, g);
}

static void test_info_bad_sizes(void **state)
{
    (void)state;
    static const struct {
        uint8_t type;
        const char *value;
        size_t len;
        int want;
    } cases[] = {
        { GPP_IMSI, "23415", 5, GPP_E_IMSI },
        { GPP_IMSI, "2341501234567890", 16, GPP_E_IMSI },
        { GPP_IMSI, "23415012345678a", 15, GPP_E_IMSI },
        { GPP_IMSI, "", 0, GPP_E_IMSI },
        { GPP_IMSI, "234150", 6, GPP_OK },
        { GPP_IMEISV, "3534560123456", 13, GPP_E_IMEISV },
        { GPP_IMEISV, "35345601234567012", 17, GPP_E_IMEISV },
        { GPP_IMEISV, "353456012345F7", 14, GPP_E_IMEISV },
        { GPP_IMEISV, "35345601234567", 14, GPP_OK },
        { GPP_IMEISV, "353456012345670", 15, GPP_OK },
        { GPP_RAT_TYPE, "", 0, GPP_E_RAT },
        { GPP_RAT_TYPE, "\x06\x00", 2, GPP_E_RAT },
        { GPP_RAT_TYPE, "\x00\x00\x00\x06", 4, GPP_E_RAT },
        { GPP_MS_TIMEZONE, "\x80", 1, GPP_E_TIMEZONE },
        { GPP_MS_TIMEZONE, "\x80\x00\x00", 3, GPP_E_TIMEZONE },
        { GPP_CHARGING_ID, "\x01\x02\x03", 3, GPP_E_INTEGER },
        { GPP_PDP_TYPE, "\x00\x00\x00\x00\x00", 5, GPP_E_INTEGER },
        { GPP_GGSN_ADDRESS, "\x0a\x01\x02", 3, GPP_E_SHORT_STRING },
        { GPP_NSAPI, "55", 2, GPP_E_SHORT_STRING },
        { GPP_SELECTION_MODE, "", 0, GPP_E_SHORT_STRING },
        { GPP_CHARGING_CHARACTERISTICS, "080", 3, GPP_E_SHORT_STRING },
        { GPP_IMSI_MCC_MNC, "2341", 4, GPP_E_MCC_MNC },
        { GPP_GGSN_MCC_MNC, "2341x", 5, GPP_E_MCC_MNC },
        { GPP_SGSN_MCC_MNC, "2341567", 7, GPP_E_MCC_MNC },
        { GPP_USER_LOCATION_INFO, "\x80\x32\xf4\x51\x01", 5, GPP_E_ULI_LENGTH },
        { GPP_USER_LOCATION_INFO, "\x03\x32\xf4\x51\x01\x02", 6, GPP_E_ULI_TYPE },
        { GPP_USER_LOCATION_INFO, "\x80\x32\xfd\x51\x01\x02", 6, GPP_E_ULI_PLMN },
        { GPP_USER_LOCATION_INFO, "", 0, GPP_E_ULI_LENGTH },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gpp_info g;
        int r = decode_one_vsa(cases[i].type, cases[i].value, cases[i].len, &g);
        if (r != cases[i].want)
            print_error("case %zu (3GPP type %u, %zu octets): got %d (%s), want %d\n", i,
                        cases[i].type, cases[i].len, r, gpp_error_name(r), cases[i].want);
        assert_int_equal(r, cases[i].want);
        if (r < 0)
            assert_int_equal(g.has, 0);
    }
}

/* What decoded before the bad attribute stays in ret. */
static void test_info_partial_on_error(void **state)
{
    (void)state;
    static uint8_t out[256];
    struct radius_builder b;
    radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_REQUEST, 1, NULL);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMSI, "234150123456789", 15);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_RAT_TYPE, "\x06\x06", 2);
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMEISV, "35345601234567", 14);
    int len = radius_builder_finish(&b);
    assert_int_equal(radius_packet_decode(out, (size_t)len, &pkt), RADIUS_OK);
    struct gpp_info g;
    assert_int_equal(gpp_info_decode(&pkt, &g), GPP_E_RAT);
    assert_int_equal(g.has, GPP_HAS_IMSI);
    assert_string_equal(g.imsi, "234150123456789");
}

/*
 * gpp.h: "A 3GPP attribute that appears more than once is taken from its
 * first occurrence" — for every attribute, and a later copy, good or bad,
 * changes nothing.  A NAS that repeats RAT-Type must not be able to have
 * the second value win over the first that policy may already have seen.
 */
static void test_info_first_occurrence_wins(void **state)
{
    (void)state;
    static const struct {
        uint8_t type;
        const char *first, *second, *bad;
        size_t len1, len2, lenbad;
    } cases[] = {
        { GPP_IMSI, "234150123456789", "234159999999999", "x", 15, 15, 1 },
        { GPP_CHARGING_ID, "\x00\x00\x00\x01", "\x00\x00\x00\x02", "\x01", 4, 4, 1 },
        { GPP_PDP_TYPE, "\x00\x00\x00\x00", "\x00\x00\x00\x02", "\x01", 4, 4, 1 },
        { GPP_GGSN_ADDRESS, "\x0a\x00\x00\x01", "\x0a\x00\x00\x02", "\x01", 4, 4, 1 },
        { GPP_IMSI_MCC_MNC, "23415", "310410", "x", 5, 6, 1 },
        { GPP_GGSN_MCC_MNC, "23415", "310410", "x", 5, 6, 1 },
        { GPP_SGSN_MCC_MNC, "23415", "310410", "x", 5, 6, 1 },
        { GPP_NSAPI, "5", "6", "", 1, 1, 0 },
        { GPP_SELECTION_MODE, "0", "1", "", 1, 1, 0 },
        { GPP_CHARGING_CHARACTERISTICS, "0800", "0400", "", 4, 4, 0 },
        { GPP_IMEISV, "35345601234567", "35345609999999", "1", 14, 14, 1 },
        { GPP_RAT_TYPE, "\x06", "\x08", "", 1, 1, 0 },
        { GPP_USER_LOCATION_INFO, "\x80\x32\xf4\x51\x01\x02", "\x80\x13\x00\x14\x03\x04",
          "\x80", 6, 6, 1 },
        { GPP_MS_TIMEZONE, "\x80\x00", "\x40\x01", "\x80", 2, 2, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static uint8_t out[512];
        struct gpp_info once, twice;
        struct radius_builder b;

        assert_int_equal(decode_one_vsa(cases[i].type, cases[i].first, cases[i].len1, &once),
                         GPP_OK);
        radius_builder_init(&b, out, sizeof out, RADIUS_ACCESS_REQUEST, 1, NULL);
        radius_builder_add_vsa(&b, GPP_VENDOR, cases[i].type, cases[i].first, cases[i].len1);
        radius_builder_add_vsa(&b, GPP_VENDOR, cases[i].type, cases[i].second, cases[i].len2);
        radius_builder_add_vsa(&b, GPP_VENDOR, cases[i].type, cases[i].bad, cases[i].lenbad);
        int len = radius_builder_finish(&b);
        assert_true(len > 0);
        assert_int_equal(radius_packet_decode(out, (size_t)len, &pkt), RADIUS_OK);
        memcpy(&twice, &once, sizeof twice);
        int r = gpp_info_decode(&pkt, &twice);
        if (r != GPP_OK || memcmp(&once, &twice, sizeof once) != 0)
            print_error("3GPP attribute %u: a repeated copy changed the result (r=%d)\n",
                        cases[i].type, r);
        assert_int_equal(r, GPP_OK);
        assert_memory_equal(&once, &twice, sizeof once);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plmn_bcd),
        cmocka_unit_test(test_plmn_bcd_not_decimal),
        cmocka_unit_test(test_plmn_parse_format),
        cmocka_unit_test(test_uli_every_type),
        cmocka_unit_test(test_uli_wrong_length),
        cmocka_unit_test(test_uli_unknown_type),
        cmocka_unit_test(test_uli_bad_plmn),
        cmocka_unit_test(test_rat_names),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_info_every_attribute),
        cmocka_unit_test(test_info_bad_sizes),
        cmocka_unit_test(test_info_partial_on_error),
        cmocka_unit_test(test_info_first_occurrence_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
