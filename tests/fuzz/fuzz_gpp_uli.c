/*
 * fuzz_gpp_uli.c — libFuzzer harness for the 3GPP-User-Location-Info
 * decoder (gpp_uli_decode) and the BCD PLMN codec under it.
 *
 * Properties checked on every input that decodes:
 *   - the size is the one TS 29.061 gives the location type;
 *   - the PLMN re-encodes to the very octets it came from (the BCD codec
 *     is a bijection on decimal digits with the 0xF filler), and its
 *     MCC-MNC text parses back to the same PLMN;
 *   - the fields are the big-endian octets at their TS 29.274 / 29.060
 *     offsets (an independent reading, not the decoder's);
 *   - on failure the output is untouched.
 * Seeds: tests/fuzz/corpus/fuzz_gpp_uli/ (tests/fuzz/make_corpus.py).
 */
#include <string.h>

#include "fuzz.h"
#include "radius/gpp.h"

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static void check_plmn_round_trip(const struct gpp_plmn *p, const uint8_t bcd[3])
{
    uint8_t again[3];
    FUZZ_CHECK(p->mnc_digits == 2 || p->mnc_digits == 3);
    FUZZ_CHECK(p->mcc <= 999 && p->mnc <= (p->mnc_digits == 2 ? 99 : 999));
    gpp_plmn_encode_bcd(p, again);
    FUZZ_CHECK(memcmp(again, bcd, 3) == 0);

    char text[8];
    struct gpp_plmn back;
    gpp_plmn_format(p, text);
    FUZZ_CHECK(strlen(text) == 3u + p->mnc_digits);
    FUZZ_CHECK(gpp_plmn_parse(text, strlen(text), &back) == 0);
    FUZZ_CHECK(gpp_plmn_equal(p, &back));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gpp_plmn plmn;
    if (size >= 3 && gpp_plmn_decode_bcd(data, &plmn) == GPP_OK)
        check_plmn_round_trip(&plmn, data);

    struct gpp_uli u, before;
    memset(&u, 0xa5, sizeof u);
    memcpy(&before, &u, sizeof u);
    int r = gpp_uli_decode(data, size, &u);
    FUZZ_CHECK(strcmp(gpp_error_name(r), "unknown_error") != 0);
    if (r != GPP_OK) {
        FUZZ_CHECK(r == GPP_E_ULI_LENGTH || r == GPP_E_ULI_TYPE || r == GPP_E_ULI_PLMN);
        FUZZ_CHECK(memcmp(&u, &before, sizeof u) == 0);
        return 0;
    }

    FUZZ_CHECK(size >= 1 && u.type == data[0]);
    const uint8_t *v = data + 1;
    size_t len = size - 1;
    check_plmn_round_trip(&u.plmn, v);
    switch (u.type) {
    case GPP_ULI_CGI:
    case GPP_ULI_SAI:
        FUZZ_CHECK(len == 7 && u.lac == be16(v + 3) && u.ci == be16(v + 5));
        FUZZ_CHECK(gpp_uli_area(&u) == u.lac && gpp_uli_cell(&u) == u.ci);
        break;
    case GPP_ULI_RAI:
        FUZZ_CHECK(len == 7 && u.lac == be16(v + 3) && u.ci == v[5]);
        break;
    case GPP_ULI_TAI:
        FUZZ_CHECK(len == 5 && u.tac == be16(v + 3) && u.eci == 0);
        FUZZ_CHECK(gpp_uli_area(&u) == u.tac);
        break;
    case GPP_ULI_ECGI:
        FUZZ_CHECK(len == 7 && u.eci == ((v[3] & 0x0fu) << 24 | (unsigned)v[4] << 16 |
                                         (unsigned)v[5] << 8 | v[6]));
        FUZZ_CHECK(gpp_uli_cell(&u) == u.eci);
        break;
    case GPP_ULI_TAI_ECGI: {
        FUZZ_CHECK(len == 12 && u.tac == be16(v + 3));
        FUZZ_CHECK(u.eci == ((v[8] & 0x0fu) << 24 | (unsigned)v[9] << 16 |
                             (unsigned)v[10] << 8 | v[11]));
        struct gpp_plmn ecgi;
        FUZZ_CHECK(gpp_plmn_decode_bcd(v + 5, &ecgi) == GPP_OK);
        check_plmn_round_trip(&ecgi, v + 5);
        FUZZ_CHECK(gpp_uli_area(&u) == u.tac && gpp_uli_cell(&u) == u.eci);
        break;
    }
    default:
        FUZZ_CHECK(!"gpp_uli_decode accepted an unknown type");
    }
    FUZZ_CHECK(u.eci < (1u << 28));
    return 0;
}
