/*
 * test_syslog.c — RFC 5424 / CEF formatting (out/syslog.c): the header
 * fields, the severity map, CEF escaping of hostile text (a subject or an
 * evidence string comes from a packet), and truncation at the buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine/model.h"
#include "out/syslog.h"

static const struct syslog_event ev = {
    .type = "finding", .kind = "imei_mismatch", .severity = SEV_CRITICAL, .tenant = "acme",
    .subject = "8944|1=2\\3\n", .summary = "SIM|in another device",
    .json = "{\"a\":\"x=y\"}", .ts_ms = 1795327836123LL,
};

static void test_json(void **state)
{
    (void)state;
    struct syslog_conf c = { .proto = SYSLOG_TCP, .format = SYSLOG_JSON, .facility = 16 };
    char out[512];
    size_t n = syslog_format_message(&c, "gw1", 42, &ev, out, sizeof out);
    assert_int_equal(n, strlen(out));
    assert_string_equal(out, "<130>1 2026-11-22T06:10:36.123Z gw1 m2mguard 42 finding - "
                             "{\"a\":\"x=y\"}");
}

static void test_cef_escaping(void **state)
{
    (void)state;
    struct syslog_conf c = { .proto = SYSLOG_UDP, .format = SYSLOG_CEF, .facility = 16 };
    char out[512];
    syslog_format_message(&c, "", 7, &ev, out, sizeof out);
    const char *cef = strstr(out, "CEF:0|");
    assert_non_null(cef);
    /* Header: | escaped in the summary; extension: = and \ escaped, the
     * newline as \n, nothing unescaped that would end a field. */
    assert_non_null(strstr(cef, "|imei_mismatch|SIM\\|in another device|10|"));
    assert_non_null(strstr(cef, "duser=8944|1\\=2\\\\3\\n cat=finding"));
    assert_non_null(strstr(cef, "cs2={\"a\":\"x\\=y\"}"));
    assert_non_null(strstr(out, " - m2mguard 7 finding - CEF:0"));      /* no hostname: "-" */
}

static void test_severity_and_truncation(void **state)
{
    (void)state;
    struct syslog_conf c = { .proto = SYSLOG_UDP, .format = SYSLOG_JSON, .facility = 16 };
    struct syslog_event e = ev;
    char out[64];
    e.severity = SEV_INFO;
    syslog_format_message(&c, "h", 1, &e, out, sizeof out);
    assert_memory_equal(out, "<134>1 ", 7);
    e.severity = SEV_WARNING;
    syslog_format_message(&c, "h", 1, &e, out, sizeof out);
    assert_memory_equal(out, "<132>1 ", 7);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    e.json = big;
    size_t n = syslog_format_message(&c, "h", 1, &e, out, sizeof out);
    assert_int_equal(n, sizeof out - 1);
    assert_int_equal(strlen(out), sizeof out - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_cef_escaping),
        cmocka_unit_test(test_severity_and_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
