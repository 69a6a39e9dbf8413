/*
 * test_ident.c — unit tests of the identifier checks (src/core/ident.c):
 * Luhn over ICCIDs and IMEIs, ICCID / IMSI / IMEI / MSISDN lengths and
 * alphabets, and the strict dotted-quad IPv4 parser.
 *
 * Every Luhn-valid number below was checked with an independent Python
 * implementation (ISO/IEC 7812-1 Annex B):
 *   python3 -c 'import sys;ok=lambda s:sum((lambda d:(d*2-9 if d*2>9 else d*2)
 *     if i%2 else d)(int(c)) for i,c in enumerate(reversed(s)))%10==0;
 *     print([ (s,ok(s)) for s in sys.argv[1:]])' 8944110068256270054 ...
 * 79927398713 is the classic worked example of the algorithm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/ident.h"

#define S(lit) lit, (sizeof(lit) - 1)

static const char ICCID19[] = "8944110068256270054";       /* Luhn-valid */
static const char ICCID18[] = "894411006825627009";        /* Luhn-valid */
static const char ICCID20[] = "89441100682562700546";      /* Luhn-valid */
static const char ICCID22[] = "8944110068256270054121";    /* Luhn-valid */
static const char ICCID17[] = "89441100682562705";         /* Luhn-valid, too short */
static const char ICCID23[] = "89441100682562700541230";   /* Luhn-valid, too long */
static const char IMEI15[] = "490154203237518";            /* Luhn-valid */

static void test_all_digits(void **state)
{
    (void)state;
    assert_int_equal(ident_all_digits(S("0123456789")), 1);
    assert_int_equal(ident_all_digits(S("")), 0);
    assert_int_equal(ident_all_digits(S("12a")), 0);
    assert_int_equal(ident_all_digits(S("12 3")), 0);
    assert_int_equal(ident_all_digits(S("/")), 0);   /* '0' - 1 */
    assert_int_equal(ident_all_digits(S(":")), 0);   /* '9' + 1 */
    assert_int_equal(ident_all_digits("12a", 2), 1); /* only len bytes */
    assert_int_equal(ident_all_digits("1\0003", 3), 0);
}

static void test_luhn_valid(void **state)
{
    (void)state;
    assert_int_equal(ident_luhn_valid(S("79927398713")), 1);
    assert_int_equal(ident_luhn_valid(S(ICCID19)), 1);
    assert_int_equal(ident_luhn_valid(S(ICCID18)), 1);
    assert_int_equal(ident_luhn_valid(S(ICCID20)), 1);
    assert_int_equal(ident_luhn_valid(S(ICCID22)), 1);
    assert_int_equal(ident_luhn_valid(S(IMEI15)), 1);

    /* Every other check digit is wrong. */
    char s[sizeof ICCID19];
    memcpy(s, ICCID19, sizeof s);
    for (char d = '0'; d <= '9'; d++) {
        s[18] = d;
        assert_int_equal(ident_luhn_valid(s, 19), d == '4');
    }
    /* Every single-digit error and every adjacent transposition is caught. */
    for (size_t i = 0; i < 19; i++) {
        memcpy(s, ICCID19, sizeof s);
        s[i] = (char)('0' + (s[i] - '0' + 1) % 10);
        assert_int_equal(ident_luhn_valid(s, 19), 0);
    }
    for (size_t i = 0; i + 1 < 19; i++) {
        memcpy(s, ICCID19, sizeof s);
        if (s[i] == s[i + 1])
            continue;
        char t = s[i];
        s[i] = s[i + 1];
        s[i + 1] = t;
        assert_int_equal(ident_luhn_valid(s, 19), 0);
    }
    assert_int_equal(ident_luhn_valid(S("0")), 0);    /* no payload */
    assert_int_equal(ident_luhn_valid(S("")), 0);
    assert_int_equal(ident_luhn_valid(S("00")), 1);
    assert_int_equal(ident_luhn_valid(S("7992739871x")), 0);
}

static void test_luhn_digit(void **state)
{
    (void)state;
    assert_int_equal(ident_luhn_digit(ICCID19, 18), 4);
    assert_int_equal(ident_luhn_digit(IMEI15, 14), 8);
    assert_int_equal(ident_luhn_digit(S("7992739871")), 3);
    assert_int_equal(ident_luhn_digit(S("35345601234567")), 1);
    /* The check digit it computes always makes a valid number. */
    char s[32] = "";
    for (size_t n = 1; n < 24; n++) {
        s[n - 1] = (char)('0' + (n * 7) % 10);
        s[n] = (char)('0' + ident_luhn_digit(s, n));
        assert_int_equal(ident_luhn_valid(s, n + 1), 1);
    }
}

static void test_iccid(void **state)
{
    (void)state;
    assert_int_equal(ident_check_iccid(S(ICCID19)), 0);
    assert_int_equal(ident_check_iccid(S(ICCID18)), 0);
    assert_int_equal(ident_check_iccid(S(ICCID20)), 0);
    assert_int_equal(ident_check_iccid(S(ICCID22)), 0);
    assert_int_equal(ident_check_iccid(S("8944110068256270055")), IDENT_E_LUHN);
    assert_int_equal(ident_check_iccid(S(ICCID17)), IDENT_E_LENGTH);
    assert_int_equal(ident_check_iccid(S(ICCID23)), IDENT_E_LENGTH);
    assert_int_equal(ident_check_iccid(S("")), IDENT_E_EMPTY);
    /* Carrier exports often pad ICCIDs with a hex 'F': not digits. */
    assert_int_equal(ident_check_iccid(S("8944110068256270054F")), IDENT_E_NOT_DIGITS);
    assert_int_equal(ident_check_iccid(S(" 8944110068256270054")), IDENT_E_NOT_DIGITS);
}

static void test_imsi(void **state)
{
    (void)state;
    assert_int_equal(ident_check_imsi(S("234150123456789")), 0);
    assert_int_equal(ident_check_imsi(S("234150")), 0);
    assert_int_equal(ident_check_imsi(S("23415")), IDENT_E_LENGTH);
    assert_int_equal(ident_check_imsi(S("2341501234567890")), IDENT_E_LENGTH);
    assert_int_equal(ident_check_imsi(S("")), IDENT_E_EMPTY);
    assert_int_equal(ident_check_imsi(S("23415012345678x")), IDENT_E_NOT_DIGITS);
    assert_int_equal(ident_check_imsi(S("+234150123456789")), IDENT_E_NOT_DIGITS);
}

static void test_imei_core(void **state)
{
    (void)state;
    char core[IMEI_CORE_LEN + 1];

    memset(core, 'x', sizeof core);
    assert_int_equal(ident_imei_core(S(IMEI15), core), 0);
    assert_string_equal(core, "49015420323751");

    memset(core, 'x', sizeof core);
    assert_int_equal(ident_imei_core(S("49015420323751"), core), 0);   /* no check digit */
    assert_string_equal(core, "49015420323751");

    memset(core, 'x', sizeof core);
    assert_int_equal(ident_imei_core(S("4901542032375107"), core), 0); /* IMEISV, SVN 07 */
    assert_string_equal(core, "49015420323751");

    /* Failures leave ret_core untouched. */
    static const char untouched[IMEI_CORE_LEN + 1] = "untouchedxxxxx";
    memcpy(core, untouched, sizeof core);
    assert_int_equal(ident_imei_core(S("490154203237519"), core), IDENT_E_LUHN);
    assert_int_equal(ident_imei_core(S("4901542032375"), core), IDENT_E_LENGTH);
    assert_int_equal(ident_imei_core(S("49015420323751800"), core), IDENT_E_LENGTH);
    assert_int_equal(ident_imei_core(S("49015420323751A"), core), IDENT_E_NOT_DIGITS);
    assert_int_equal(ident_imei_core(S("49-015420-323751-8"), core), IDENT_E_NOT_DIGITS);
    assert_int_equal(ident_imei_core(S(""), core), IDENT_E_EMPTY);
    assert_memory_equal(core, untouched, sizeof core);
}

static void test_msisdn(void **state)
{
    (void)state;
    assert_int_equal(ident_check_msisdn(S("+447700900123")), 0);
    assert_int_equal(ident_check_msisdn(S("447700900123")), 0);
    assert_int_equal(ident_check_msisdn(S("12345")), 0);
    assert_int_equal(ident_check_msisdn(S("+123456789012345")), 0);
    assert_int_equal(ident_check_msisdn(S("1234")), IDENT_E_LENGTH);
    assert_int_equal(ident_check_msisdn(S("+1234")), IDENT_E_LENGTH);
    assert_int_equal(ident_check_msisdn(S("1234567890123456")), IDENT_E_LENGTH);
    assert_int_equal(ident_check_msisdn(S("")), IDENT_E_EMPTY);
    assert_int_equal(ident_check_msisdn(S("+")), IDENT_E_EMPTY);
    assert_int_equal(ident_check_msisdn(S("++447700900123")), IDENT_E_NOT_DIGITS);
    assert_int_equal(ident_check_msisdn(S("+44 7700 900123")), IDENT_E_NOT_DIGITS);
    assert_int_equal(ident_check_msisdn(S("447700900123+")), IDENT_E_NOT_DIGITS);
}

static void test_ipv4_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint32_t v;
    } ok[] = {
        { "192.168.1.16", 0xc0a80110 },
        { "0.0.0.0", 0 },
        { "255.255.255.255", 0xffffffff },
        { "10.0.0.1", 0x0a000001 },
        { "1.2.3.4", 0x01020304 },
        { "100.64.0.0", 0x64400000 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint32_t v = 0x12345678;
        assert_int_equal(ident_parse_ipv4(ok[i].s, strlen(ok[i].s), &v), 0);
        assert_int_equal(v, ok[i].v);
    }
    /* Only len characters are read. */
    uint32_t v = 0;
    assert_int_equal(ident_parse_ipv4("1.2.3.45", 7, &v), 0);
    assert_int_equal(v, 0x01020304);
}

static void test_ipv4_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", ".", "1", "1.2.3", "1.2.3.", "1.2.3.4.", ".1.2.3.4", "1..2.3",
        "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1.2.3.999", "1.2.3.1000",
        "01.2.3.4", "1.2.3.04", "1.2.00.4", "000.0.0.0", "1.2.3.4 ", " 1.2.3.4",
        "1.2.3.-4", "1.2.3.+4", "a.b.c.d", "0x1.2.3.4", "1,2,3,4", "1.2.3.4/24",
        "4294967295", "1.2.3.4\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t v = 0x12345678;
        int r = ident_parse_ipv4(bad[i], strlen(bad[i]), &v);
        if (r != IDENT_E_IP)
            print_error("\"%s\" was accepted\n", bad[i]);
        assert_int_equal(r, IDENT_E_IP);
        assert_int_equal(v, 0x12345678); /* untouched */
    }
    /* A NUL inside the given length is not a terminator. */
    uint32_t v;
    assert_int_equal(ident_parse_ipv4("1.2.3.4\0", 8, &v), IDENT_E_IP);
}

static void test_digits_u64(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(ident_digits_u64(S("0"), &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ident_digits_u64(S("234150123456789"), &v), 0);
    assert_int_equal(v, 234150123456789ull);
    assert_int_equal(ident_digits_u64(S("9999999999999999999"), &v), 0);
    assert_int_equal(v, 9999999999999999999ull);
    v = 7;
    assert_int_equal(ident_digits_u64(S("18446744073709551615"), &v), -1); /* 20 digits */
    assert_int_equal(ident_digits_u64(S(""), &v), -1);
    assert_int_equal(ident_digits_u64(S("12a"), &v), -1);
    assert_int_equal(ident_digits_u64(S("-1"), &v), -1);
    assert_int_equal(v, 7);
}

static void test_error_str(void **state)
{
    (void)state;
    static const int errs[] = { IDENT_E_EMPTY, IDENT_E_NOT_DIGITS, IDENT_E_LENGTH,
                                IDENT_E_LUHN, IDENT_E_IP };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        assert_string_not_equal(ident_error_str(errs[i]), "invalid");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(ident_error_str(errs[i]), ident_error_str(errs[j]));
    }
    assert_string_equal(ident_error_str(0), "invalid");
    assert_string_equal(ident_error_str(-99), "invalid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_digits),
        cmocka_unit_test(test_luhn_valid),
        cmocka_unit_test(test_luhn_digit),
        cmocka_unit_test(test_iccid),
        cmocka_unit_test(test_imsi),
        cmocka_unit_test(test_imei_core),
        cmocka_unit_test(test_msisdn),
        cmocka_unit_test(test_ipv4_valid),
        cmocka_unit_test(test_ipv4_invalid),
        cmocka_unit_test(test_digits_u64),
        cmocka_unit_test(test_error_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
