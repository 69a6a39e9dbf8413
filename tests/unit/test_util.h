/*
 * test_util.h — small helpers shared by the codec unit tests.
 *
 * Test vectors are pasted from RFCs and from Python one-liners as hex text
 * with spaces and newlines, the way the RFCs print them; unhex() turns that
 * text into bytes so the vectors in the tests read exactly like their
 * source.  cmocka must be included before this header.
 */
#ifndef M2MG_TEST_UTIL_H
#define M2MG_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

static inline int test_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Hex text → bytes; whitespace is skipped.  Returns the number of bytes
 * written.  A malformed vector is a bug in the test itself, so it fails
 * the running test instead of returning an error.
 */
static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t')
            continue;
        int v = test_hexval(*s);
        assert_true(v >= 0);
        if (hi < 0) {
            hi = v;
            continue;
        }
        assert_true(n < cap);
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    assert_true(hi < 0); /* an odd number of hex digits */
    return n;
}

#endif
