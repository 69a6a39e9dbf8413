/*
 * test_jsonw.c — the fixed-buffer JSON writer (core/jsonw.c): escaping of
 * hostile wire bytes and a valid result even when the buffer is too small.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "core/jsonw.h"

static void test_escaping(void **state)
{
    (void)state;
    char buf[256];
    struct jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_open(&w);
    jsonw_strn(&w, "user", "a\"b\\c\n\x01\xff", 8);
    jsonw_int(&w, "n", -42);
    jsonw_bool(&w, "ok", 1);
    jsonw_str(&w, "none", NULL);
    jsonw_open_member(&w, "inner");
    jsonw_int(&w, "x", 1);
    jsonw_close(&w);
    jsonw_close(&w);
    size_t n = jsonw_finish(&w);
    assert_string_equal(buf, "{\"user\":\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\",\"n\":-42,"
                             "\"ok\":true,\"none\":null,\"inner\":{\"x\":1}}");
    assert_int_equal(n, strlen(buf));
}

static void test_truncation_stays_valid(void **state)
{
    (void)state;
    char buf[24];
    struct jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_open(&w);
    jsonw_str(&w, "key", "a value that does not fit in the buffer");
    jsonw_close(&w);
    jsonw_finish(&w);
    assert_true(w.truncated);
    assert_string_equal(buf, "{\"truncated\":true}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_truncation_stays_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
