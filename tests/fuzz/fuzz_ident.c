/*
 * fuzz_ident.c — libFuzzer harness for the identifier checks (core/ident.c)
 * and the two text parsers of gpp.c (MCC-MNC, RAT names), which read
 * operator input from CSV files, the CLI and the API.
 *
 * Each check is compared with what its definition implies, and the IPv4
 * parser with glibc's inet_pton(), which also refuses leading zeros (both
 * reject "01.2.3.4", which inet_aton would read as octal), and the integer
 * parser with strtoull().
 * Seeds: tests/fuzz/corpus/fuzz_ident/ (tests/fuzz/make_corpus.py).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/ident.h"
#include "fuzz.h"
#include "radius/gpp.h"

static int digits_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

static void check_error(int r)
{
    FUZZ_CHECK(r == 0 || (r <= IDENT_E_EMPTY && r >= IDENT_E_IP));
    FUZZ_CHECK(r == 0 || strcmp(ident_error_str(r), "invalid") != 0);
}

static void check_digit_rules(const char *s, size_t n, int r, size_t min, size_t max)
{
    check_error(r);
    if (n == 0)
        FUZZ_CHECK(r == IDENT_E_EMPTY);
    else if (!digits_only(s, n))
        FUZZ_CHECK(r == IDENT_E_NOT_DIGITS);
    else if (n < min || n > max)
        FUZZ_CHECK(r == IDENT_E_LENGTH);
    else
        FUZZ_CHECK(r == 0 || r == IDENT_E_LUHN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64)
        return 0; /* identifiers are short; longer inputs only slow the search */
    /* A NUL-terminated copy, exactly sized, for the C-string APIs. */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t n = size;
    int has_nul = memchr(s, '\0', n) != NULL;

    FUZZ_CHECK(ident_all_digits(s, n) == digits_only(s, n));

    int luhn = ident_luhn_valid(s, n);
    if (luhn)
        FUZZ_CHECK(n > 1 && digits_only(s, n) && ident_luhn_digit(s, n - 1) == s[n - 1] - '0');
    else if (n > 1 && digits_only(s, n))
        FUZZ_CHECK(ident_luhn_digit(s, n - 1) != s[n - 1] - '0');

    int r = ident_check_iccid(s, n);
    check_digit_rules(s, n, r, ICCID_MIN, ICCID_MAX);
    if (r == 0 || r == IDENT_E_LUHN)
        FUZZ_CHECK((r == 0) == luhn);

    check_digit_rules(s, n, ident_check_imsi(s, n), IMSI_MIN, IMSI_MAX);

    char core[IMEI_CORE_LEN + 1] = "untouched";
    r = ident_imei_core(s, n, core);
    check_digit_rules(s, n, r, 14, 16);
    if (r == IDENT_E_LUHN)
        FUZZ_CHECK(n == 15 && !luhn);
    if (r == 0) {
        FUZZ_CHECK(n != 15 || luhn);
        FUZZ_CHECK(strlen(core) == IMEI_CORE_LEN && memcmp(core, s, IMEI_CORE_LEN) == 0);
    } else {
        FUZZ_CHECK(strcmp(core, "untouched") == 0);
    }

    r = ident_check_msisdn(s, n);
    if (n > 0 && s[0] == '+')
        check_digit_rules(s + 1, n - 1, r, 5, MSISDN_MAX);
    else
        check_digit_rules(s, n, r, 5, MSISDN_MAX);
    FUZZ_CHECK(r != IDENT_E_LUHN);

    uint32_t ip = 0xdeadbeef;
    r = ident_parse_ipv4(s, n, &ip);
    FUZZ_CHECK(r == 0 || r == IDENT_E_IP);
    if (!has_nul) {
        struct in_addr a;
        int ok = inet_pton(AF_INET, s, &a) == 1;
        FUZZ_CHECK(ok == (r == 0));
        if (ok)
            FUZZ_CHECK(ip == ntohl(a.s_addr));
    }
    if (r != 0)
        FUZZ_CHECK(ip == 0xdeadbeef);

    uint64_t u = 7;
    r = ident_digits_u64(s, n, &u);
    if (n >= 1 && n <= 19 && digits_only(s, n)) {
        errno = 0;
        unsigned long long want = strtoull(s, NULL, 10);
        FUZZ_CHECK(r == 0 && errno == 0 && u == want);
    } else {
        FUZZ_CHECK(r == -1 && u == 7);
    }

    struct gpp_plmn p = { .mcc = 1000 };
    r = gpp_plmn_parse(s, n, &p);
    if ((n == 5 || n == 6) && digits_only(s, n)) {
        char text[8];
        FUZZ_CHECK(r == 0);
        gpp_plmn_format(&p, text);
        FUZZ_CHECK(strlen(text) == n && memcmp(text, s, n) == 0);
    } else {
        FUZZ_CHECK(r == -1 && p.mcc == 1000);
    }

    if (!has_nul) {
        int rat = gpp_rat_from_name(s);
        FUZZ_CHECK(rat >= -1 && rat <= 255);
        if (rat > 0 && !digits_only(s, n))
            FUZZ_CHECK(strcasecmp(gpp_rat_name(rat), s) == 0);
    }
    free(s);
    return 0;
}
