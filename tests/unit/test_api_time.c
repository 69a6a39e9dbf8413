/*
 * test_api_time.c — the API's query-string times (api_parse_time(),
 * src/api/api.c): milliseconds since the epoch and RFC 3339 §5.6 with its
 * offset, against values computed independently (python3 datetime), and
 * the inputs it must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/internal.h"

static int64_t parsed(const char *s)
{
    int64_t ms = -42;
    assert_int_equal(api_parse_time(s, &ms), 0);
    return ms;
}

static void test_accepted(void **state)
{
    (void)state;
    assert_int_equal(parsed("0"), 0);
    assert_int_equal(parsed("1717243200000"), 1717243200000LL);
    assert_int_equal(parsed("1970-01-01T00:00:00Z"), 0);
    /* datetime(2024,6,1,12,tzinfo=timezone.utc).timestamp() */
    assert_int_equal(parsed("2024-06-01T12:00:00Z"), 1717243200000LL);
    assert_int_equal(parsed("2024-06-01t12:00:00z"), 1717243200000LL);
    assert_int_equal(parsed("2024-06-01 12:00:00Z"), 1717243200000LL);
    assert_int_equal(parsed("2024-06-01T14:00:00+02:00"), 1717243200000LL);
    assert_int_equal(parsed("2024-06-01T14:00:00 02:00"), 1717243200000LL);   /* '+' as sent */
    assert_int_equal(parsed("2024-06-01T06:30:00-05:30"), 1717243200000LL);
    assert_int_equal(parsed("2024-06-01T12:00:00.5Z"), 1717243200500LL);
    assert_int_equal(parsed("2024-06-01T12:00:00.25Z"), 1717243200250LL);
    assert_int_equal(parsed("2024-06-01T12:00:00.123999Z"), 1717243200123LL);
    /* Leap days: 2000 is one, 2024 too; 2016-12-31's leap second rolls over. */
    assert_int_equal(parsed("2000-02-29T00:00:00Z"), 951782400000LL);
    assert_int_equal(parsed("2024-02-29T23:59:59.999Z"), 1709251199999LL);
    assert_int_equal(parsed("2016-12-31T23:59:60Z"), 1483228800000LL);
    assert_int_equal(parsed("9999-12-31T23:59:59.999Z"), API_TIME_MAX_MS);
    assert_int_equal(parsed("253402300799999"), API_TIME_MAX_MS);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "-1", "+5", "1e3", "253402300800000", "1234567890123456",
        "2024-06-01", "2024-06-01T12:00:00", "2024-06-01T12:00Z", "2024-6-01T12:00:00Z",
        "2024-06-01X12:00:00Z", "2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z",
        "2024-06-31T00:00:00Z", "2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
        "2024-06-01T24:00:00Z", "2024-06-01T12:60:00Z", "2024-06-01T12:00:61Z",
        "2024-06-01T12:00:00.Z", "2024-06-01T12:00:00.5", "2024-06-01T12:00:00+2:00",
        "2024-06-01T12:00:00+02:0", "2024-06-01T12:00:00+0200", "2024-06-01T12:00:00+24:00",
        "2024-06-01T12:00:00+02:60", "2024-06-01T12:00:00Zjunk", "1969-12-31T23:59:59Z",
        "1970-01-01T00:00:00+00:01", "10000-01-01T00:00:00Z", "9999-12-31T23:59:59-00:01",
        "２024-06-01T12:00:00Z", "2024-06-01T12:00:00z ",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        int64_t ms = 7;
        if (api_parse_time(bad[i], &ms) != -1 || ms != 7)
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
