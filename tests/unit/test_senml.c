/*
 * test_senml.c — unit tests of the SenML decoder (src/coap/senml.c,
 * RFC 8428) and of device profiles (src/coap/profile.c).
 *
 * The RFC's examples first: every JSON pack of §5.1 decoded and its
 * resolved records checked value by value, §5.1.4's resolved form
 * compared with §5.1.3 record by record, and §6's CBOR dump (pasted as
 * printed) compared with the JSON of §5.1.2.  Then every refusal with its
 * code (and, for CBOR, its byte offset), the limits, the resolution of
 * base values, sums and relative times, the evidence renderer, and each
 * kind of profile violation and profile syntax error.
 *
 * The other CBOR vectors are hand-assembled from RFC 8949 (the bytes are
 * annotated) or were produced by python3-cbor2 from the diagnostic
 * notation shown next to them.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "coap/profile.h"
#include "coap/senml.h"
#include "test_util.h"

#define NOW 1700000000.0

static struct senml_pack *pack, *pack2;
static const struct senml_limits LIM = { 4096, 64 };
static struct senml_error err;

static int setup(void **state)
{
    (void)state;
    struct senml_limits cap = { SENML_MAX_BYTES, SENML_MAX_RECORDS };
    if (senml_pack_new(&cap, &pack) != 0 || senml_pack_new(&cap, &pack2) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    senml_pack_free(pack);
    senml_pack_free(pack2);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int json_lim(const char *s, const struct senml_limits *lim)
{
    return senml_decode(pack, SENML_JSON, (const uint8_t *)s, strlen(s), lim, NOW, &err);
}

static int json(const char *s)
{
    return json_lim(s, &LIM);
}

static uint8_t cbuf[SENML_MAX_BYTES];
static size_t clen;

static int cbor(const char *hex)
{
    clen = unhex(hex, cbuf, sizeof cbuf);
    return senml_decode(pack, SENML_CBOR, cbuf, clen, &LIM, NOW, &err);
}

/* A refusal: its code, the error filled in, nothing left in the pack. */
static void refused(int rc, int code)
{
    if (rc != code)
        print_error("got %d (%s), expected %d (%s): %s\n", rc, senml_error_name(rc), code,
                    senml_error_name(code), err.reason);
    assert_int_equal(rc, code);
    assert_int_equal(err.code, code);
    assert_true(strlen(err.reason) > 0);
    assert_int_equal(pack->count, 0);
}

static void json_refused(const char *s, int code)
{
    refused(json(s), code);
}

/* A CBOR refusal with the offending item's byte offset. */
static void cbor_refused(const char *hex, int code, size_t offset)
{
    refused(cbor(hex), code);
    assert_int_equal(err.offset, offset);
}

static void accepted(int rc, size_t count)
{
    if (rc != 0)
        print_error("refused: %s (%s)\n", err.reason, senml_error_name(rc));
    assert_int_equal(rc, 0);
    assert_int_equal(pack->count, count);
}

static const struct senml_record *rec(size_t i)
{
    assert_true(i < pack->count);
    return &pack->records[i];
}

static void check_number(size_t i, const char *name, const char *unit, double v, double t)
{
    const struct senml_record *r = rec(i);
    assert_string_equal(r->name, name);
    assert_int_equal(r->name_len, strlen(name));
    assert_string_equal(r->unit, unit);
    assert_int_equal(r->unit_len, strlen(unit));
    assert_int_equal(r->kind, SENML_KIND_NUMBER);
    if (r->number != v || r->time != t)
        print_error("record %zu: %.17g at %.17g, expected %.17g at %.17g\n", i, r->number,
                    r->time, v, t);
    assert_true(r->number == v);
    assert_true(r->time == t);
}

/* The resolved records of two decodes are the same measurements. */
static void same_records(const struct senml_pack *a, const struct senml_pack *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const struct senml_record *x = &a->records[i], *y = &b->records[i];
        assert_string_equal(x->name, y->name);
        assert_string_equal(x->unit, y->unit);
        assert_int_equal(x->kind, y->kind);
        assert_true(x->number == y->number);
        assert_int_equal(x->boolean, y->boolean);
        assert_int_equal(x->str_len, y->str_len);
        if (x->str_len)
            assert_memory_equal(x->str, y->str, x->str_len);
        assert_int_equal(x->has_sum, y->has_sum);
        assert_true(x->sum == y->sum);
        assert_true(x->time == y->time);
        assert_int_equal(x->relative_time, y->relative_time);
    }
}

/* Keep the current decode in pack2, to compare with the next one. */
static void keep(void)
{
    struct senml_pack *t = pack;
    pack = pack2;
    pack2 = t;
}

/* ------------------------------------------------------------------ */
/* RFC 8428 §5.1 and §6: the examples                                  */
/* ------------------------------------------------------------------ */

/* §5.1.1 Single Data Point: no time, so "now". */
static void test_rfc_single_datapoint(void **state)
{
    (void)state;
    accepted(json("[\n  {\"n\":\"urn:dev:ow:10e2073a01080063\",\"u\":\"Cel\",\"v\":23.1}\n]"), 1);
    check_number(0, "urn:dev:ow:10e2073a01080063", "Cel", 23.1, NOW);
    assert_true(rec(0)->relative_time);
    assert_int_equal(rec(0)->base_len, 0);
    assert_int_equal(rec(0)->index, 0);
}

/* §5.1.2 Multiple Data Points, first example: the base name applies to both. */
static void test_rfc_multiple_datapoints(void **state)
{
    (void)state;
    accepted(json("[\n"
                  "  {\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"voltage\",\"u\":\"V\","
                  "\"v\":120.1},\n"
                  "  {\"n\":\"current\",\"u\":\"A\",\"v\":1.2}\n"
                  "]"), 2);
    check_number(0, "urn:dev:ow:10e2073a01080063:voltage", "V", 120.1, NOW);
    check_number(1, "urn:dev:ow:10e2073a01080063:current", "A", 1.2, NOW);
    assert_int_equal(rec(1)->base_len, strlen("urn:dev:ow:10e2073a01080063:"));
}

static const char RFC_5_1_2_TIMES[] =
    "[\n"
    "  {\"bn\":\"urn:dev:ow:10e2073a0108006:\",\"bt\":1.276020076001e+09,\n"
    "   \"bu\":\"A\",\"bver\":5,\n"
    "   \"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},\n"
    "  {\"n\":\"current\",\"t\":-5,\"v\":1.2},\n"
    "  {\"n\":\"current\",\"t\":-4,\"v\":1.3},\n"
    "  {\"n\":\"current\",\"t\":-3,\"v\":1.4},\n"
    "  {\"n\":\"current\",\"t\":-2,\"v\":1.5},\n"
    "  {\"n\":\"current\",\"t\":-1,\"v\":1.6},\n"
    "  {\"n\":\"current\",\"v\":1.7}\n"
    "]";

static void check_rfc_5_1_2_times(void)
{
    const double bt = 1.276020076001e+09;
    const char *cur = "urn:dev:ow:10e2073a0108006:current";
    check_number(0, "urn:dev:ow:10e2073a0108006:voltage", "V", 120.1, bt);
    check_number(1, cur, "A", 1.2, bt + -5.0);
    check_number(2, cur, "A", 1.3, bt + -4.0);
    check_number(3, cur, "A", 1.4, bt + -3.0);
    check_number(4, cur, "A", 1.5, bt + -2.0);
    check_number(5, cur, "A", 1.6, bt + -1.0);
    check_number(6, cur, "A", 1.7, bt);
    for (size_t i = 0; i < 7; i++)
        assert_false(rec(i)->relative_time);
}

/* §5.1.2, second example: base time, base unit, version 5, relative t. */
static void test_rfc_multiple_datapoints_times(void **state)
{
    (void)state;
    accepted(json(RFC_5_1_2_TIMES), 7);
    check_rfc_5_1_2_times();
}

/* §6: the CBOR dump of the same pack, as printed (a half float for 1.5). */
static const char RFC_6_CBOR[] =
    "87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a"
    "31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a"
    "22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00"
    "67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06"
    "66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06"
    "24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75"
    "72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc"
    "cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f"
    "f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e"
    "74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e"
    "74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67"
    "63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33"
    "33 33 33";

static void test_rfc_cbor_example(void **state)
{
    (void)state;
    accepted(cbor(RFC_6_CBOR), 7);
    assert_int_equal(clen, 0xc3);
    check_rfc_5_1_2_times();
    keep();
    accepted(json(RFC_5_1_2_TIMES), 7);
    same_records(pack, pack2);
}

static const char RFC_5_1_3[] =
    "[\n"
    "  {\"bn\":\"urn:dev:ow:10e2073a01080063\",\"bt\":1.320067464e+09,\n"
    "   \"bu\":\"%RH\",\"v\":20},\n"
    "  {\"u\":\"lon\",\"v\":24.30621},\n"
    "  {\"u\":\"lat\",\"v\":60.07965},\n"
    "  {\"t\":60,\"v\":20.3},\n"
    "  {\"u\":\"lon\",\"t\":60,\"v\":24.30622},\n"
    "  {\"u\":\"lat\",\"t\":60,\"v\":60.07965},\n"
    "  {\"t\":120,\"v\":20.7},\n"
    "  {\"u\":\"lon\",\"t\":120,\"v\":24.30623},\n"
    "  {\"u\":\"lat\",\"t\":120,\"v\":60.07966},\n"
    "  {\"u\":\"%EL\",\"t\":150,\"v\":98},\n"
    "  {\"t\":180,\"v\":21.2},\n"
    "  {\"u\":\"lon\",\"t\":180,\"v\":24.30628},\n"
    "  {\"u\":\"lat\",\"t\":180,\"v\":60.07967}\n"
    "]";

/* §5.1.3 Multiple Measurements: no Name at all, the base name is the name. */
static void test_rfc_multiple_measurements(void **state)
{
    (void)state;
    const char *n = "urn:dev:ow:10e2073a01080063";
    const double bt = 1.320067464e+09;
    accepted(json(RFC_5_1_3), 13);
    check_number(0, n, "%RH", 20, bt);
    check_number(1, n, "lon", 24.30621, bt);
    check_number(2, n, "lat", 60.07965, bt);
    check_number(3, n, "%RH", 20.3, bt + 60);
    check_number(8, n, "lat", 60.07966, bt + 120);
    check_number(9, n, "%EL", 98, bt + 150);
    check_number(12, n, "lat", 60.07967, bt + 180);
    assert_int_equal(rec(12)->base_len, strlen(n));
}

/* §5.1.4 Resolved Data: the same measurements as §5.1.3. */
static void test_rfc_resolved_data(void **state)
{
    (void)state;
    static const char *const rows[13][3] = {
        { "%RH", "1.320067464e+09", "20" },       { "lon", "1.320067464e+09", "24.30621" },
        { "lat", "1.320067464e+09", "60.07965" }, { "%RH", "1.320067524e+09", "20.3" },
        { "lon", "1.320067524e+09", "24.30622" }, { "lat", "1.320067524e+09", "60.07965" },
        { "%RH", "1.320067584e+09", "20.7" },     { "lon", "1.320067584e+09", "24.30623" },
        { "lat", "1.320067584e+09", "60.07966" }, { "%EL", "1.320067614e+09", "98" },
        { "%RH", "1.320067644e+09", "21.2" },     { "lon", "1.320067644e+09", "24.30628" },
        { "lat", "1.320067644e+09", "60.07967" },
    };
    char text[2048];
    size_t o = 0;
    o += (size_t)snprintf(text + o, sizeof text - o, "[");
    for (size_t i = 0; i < 13; i++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "%s\n  {\"n\":\"urn:dev:ow:10e2073a01080063\",\"u\":\"%s\","
                              "\"t\":%s,\n   \"v\":%s}",
                              i ? "," : "", rows[i][0], rows[i][1], rows[i][2]);
    snprintf(text + o, sizeof text - o, "\n]");
    accepted(json(text), 13);
    keep();
    accepted(json(RFC_5_1_3), 13);
    same_records(pack, pack2);
}

static const char RFC_5_1_5[] =
    "[\n"
    "  {\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"temp\",\"u\":\"Cel\",\"v\":23.1},\n"
    "  {\"n\":\"label\",\"vs\":\"Machine Room\"},\n"
    "  {\"n\":\"open\",\"vb\":false},\n"
    "  {\"n\":\"nfv-reader\",\"vd\":\"aGkgCg\"}\n"
    "]";

static void check_rfc_5_1_5(void)
{
    check_number(0, "urn:dev:ow:10e2073a01080063:temp", "Cel", 23.1, NOW);
    assert_string_equal(rec(1)->name, "urn:dev:ow:10e2073a01080063:label");
    assert_int_equal(rec(1)->kind, SENML_KIND_STRING);
    assert_int_equal(rec(1)->str_len, 12);
    assert_string_equal((const char *)rec(1)->str, "Machine Room");
    assert_string_equal(rec(1)->unit, "");
    assert_int_equal(rec(2)->kind, SENML_KIND_BOOLEAN);
    assert_false(rec(2)->boolean);
    assert_int_equal(rec(3)->kind, SENML_KIND_DATA);
    assert_int_equal(rec(3)->str_len, 4);
    assert_memory_equal(rec(3)->str, "hi \n", 4);
}

/* §5.1.5 Multiple Data Types: number, string, boolean, data. */
static void test_rfc_multiple_data_types(void **state)
{
    (void)state;
    accepted(json(RFC_5_1_5), 4);
    check_rfc_5_1_5();
}

/*
 * The same in CBOR (python3-cbor2 from
 * [{-2: "urn:dev:ow:10e2073a01080063:", 0: "temp", 1: "Cel", 2: 23.1},
 *  {0: "label", 3: "Machine Room"}, {0: "open", 4: false},
 *  {0: "nfv-reader", 8: h'6869200a'}]): vd is a byte string there.
 */
static void test_cbor_multiple_data_types(void **state)
{
    (void)state;
    accepted(cbor("84a421781c75726e3a6465763a6f773a313065323037336130313038303036333a0064"
                  "74656d70016343656c02fb403719999999999aa200656c6162656c036c4d616368696e"
                  "6520526f6f6da200646f70656e04f4a2006a6e66762d72656164657208446869200a"), 4);
    check_rfc_5_1_5();
    keep();
    accepted(json(RFC_5_1_5), 4);
    same_records(pack, pack2);
}

/* §5.1.6 Collection of Resources: the last record has bn of the 3rd, bt of the 1st. */
static void test_rfc_collection_of_resources(void **state)
{
    (void)state;
    const double bt = 1.320078429e+09;
    accepted(json("[\n"
                  "  {\"bn\":\"2001:db8::2/\",\"bt\":1.320078429e+09,\n"
                  "   \"n\":\"temperature\",\"u\":\"Cel\",\"v\":25.2},\n"
                  "  {\"n\":\"humidity\",\"u\":\"%RH\",\"v\":30},\n"
                  "  {\"bn\":\"2001:db8::1/\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":12.3},\n"
                  "  {\"n\":\"humidity\",\"u\":\"%RH\",\"v\":67}\n"
                  "]"), 4);
    check_number(0, "2001:db8::2/temperature", "Cel", 25.2, bt);
    check_number(1, "2001:db8::2/humidity", "%RH", 30, bt);
    check_number(2, "2001:db8::1/temperature", "Cel", 12.3, bt);
    check_number(3, "2001:db8::1/humidity", "%RH", 67, bt);
}

/*
 * §5.1.7 Setting an Actuator.  The thermostat's first record holds only
 * a base name: it resolves to no record, and the others keep their
 * positions in the pack.
 */
static void test_rfc_actuator(void **state)
{
    (void)state;
    const double bt = 1.320078429e+09;
    accepted(json("[\n"
                  "  {\"bn\":\"urn:dev:ow:10e2073a01080063:\"},\n"
                  "  {\"n\":\"temp\",\"u\":\"Cel\",\"v\":23.1},\n"
                  "  {\"n\":\"heat\",\"u\":\"/\",\"v\":1},\n"
                  "  {\"n\":\"fan\",\"u\":\"/\",\"v\":0}\n"
                  "]"), 3);
    check_number(0, "urn:dev:ow:10e2073a01080063:temp", "Cel", 23.1, NOW);
    check_number(1, "urn:dev:ow:10e2073a01080063:heat", "/", 1, NOW);
    check_number(2, "urn:dev:ow:10e2073a01080063:fan", "/", 0, NOW);
    assert_int_equal(rec(0)->index, 1);
    assert_int_equal(rec(2)->index, 3);

    accepted(json("[\n"
                  "  {\"bt\":1.320078429e+09,\"bu\":\"/\",\"n\":\"2001:db8::3\",\"v\":1},\n"
                  "  {\"n\":\"2001:db8::4\",\"v\":1}\n"
                  "]"), 2);
    check_number(0, "2001:db8::3", "/", 1, bt);
    check_number(1, "2001:db8::4", "/", 1, bt);

    accepted(json("[\n"
                  "  {\"bt\":1.320078429e+09,\"bu\":\"/\",\"n\":\"2001:db8::3\",\"v\":0.5},\n"
                  "  {\"n\":\"2001:db8::4\",\"v\":0.5},\n"
                  "  {\"n\":\"2001:db8::3\",\"t\":0.1,\"v\":0},\n"
                  "  {\"n\":\"2001:db8::4\",\"t\":0.1,\"v\":0}\n"
                  "]"), 4);
    check_number(1, "2001:db8::4", "/", 0.5, bt);
    check_number(2, "2001:db8::3", "/", 0, bt + 0.1);
    check_number(3, "2001:db8::4", "/", 0, bt + 0.1);
}

/* ------------------------------------------------------------------ */
/* Resolution: base values, sums, times                                */
/* ------------------------------------------------------------------ */

/* §4.5.3: below 2**28 is relative to now, from 2**28 on absolute. */
static void test_relative_time(void **state)
{
    (void)state;
    accepted(json("[{\"n\":\"a\",\"v\":1},"
                  "{\"n\":\"a\",\"t\":-5,\"v\":1},"
                  "{\"n\":\"a\",\"t\":30,\"v\":1},"
                  "{\"n\":\"a\",\"t\":268435455,\"v\":1},"
                  "{\"bt\":100,\"n\":\"a\",\"t\":5,\"v\":1},"
                  "{\"bt\":0,\"n\":\"a\",\"t\":268435456,\"v\":1},"
                  "{\"bt\":268435000,\"n\":\"a\",\"t\":456,\"v\":1},"
                  "{\"n\":\"a\",\"t\":455,\"v\":1}]"), 8);
    check_number(0, "a", "", 1, NOW);
    check_number(1, "a", "", 1, NOW - 5);
    check_number(2, "a", "", 1, NOW + 30);
    check_number(3, "a", "", 1, NOW + 268435455.0);
    check_number(4, "a", "", 1, NOW + 105);           /* base time relative too */
    check_number(5, "a", "", 1, 268435456.0);         /* exactly 2**28: absolute */
    check_number(6, "a", "", 1, 268435456.0);         /* the sum reaches 2**28 */
    check_number(7, "a", "", 1, NOW + 268435455.0);   /* one below stays relative */
    assert_true(rec(3)->relative_time);
    assert_false(rec(5)->relative_time);
    assert_false(rec(6)->relative_time);
    assert_true(rec(7)->relative_time);
}

/* §4.5.4: base value added to v only; base sum with or without s; units. */
static void test_base_values(void **state)
{
    (void)state;
    accepted(json("[{\"bn\":\"m:\",\"bv\":100,\"bu\":\"W\",\"bs\":1000,\"n\":\"p\",\"v\":5},"
                  "{\"n\":\"p\",\"v\":-1.5,\"s\":20},"
                  "{\"n\":\"e\",\"s\":7,\"u\":\"J\"},"
                  "{\"n\":\"label\",\"vs\":\"x\"},"
                  "{\"bu\":\"\",\"n\":\"q\",\"v\":1},"
                  "{\"bu\":\"A\",\"n\":\"r\",\"u\":\"\",\"v\":1}]"), 6);
    check_number(0, "m:p", "W", 105, NOW);
    assert_true(rec(0)->has_sum && rec(0)->sum == 1000);
    assert_true(rec(1)->number == 98.5);
    assert_true(rec(1)->has_sum && rec(1)->sum == 1020);
    assert_int_equal(rec(2)->kind, SENML_KIND_NONE);
    assert_true(rec(2)->has_sum && rec(2)->sum == 1007);
    assert_string_equal(rec(2)->unit, "J");
    assert_int_equal(rec(3)->kind, SENML_KIND_STRING);
    assert_true(rec(3)->has_sum && rec(3)->sum == 1000);   /* the base sum alone */
    assert_string_equal(rec(4)->unit, "");                 /* bu "" clears it */
    assert_string_equal(rec(5)->unit, "");                 /* u "" overrides bu */

    /* Without any sum, none; a value with only a sum is still a record. */
    accepted(json("[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"s\":2,\"ut\":60}]"), 2);
    assert_false(rec(0)->has_sum);
    assert_false(rec(0)->has_update_time);
    assert_true(rec(1)->has_update_time && rec(1)->update_time == 60);
}

/* A record of base fields only resolves to nothing; the pack may be all of them. */
static void test_base_only_records(void **state)
{
    (void)state;
    accepted(json("[{\"bn\":\"x:\",\"bt\":1.5e9,\"bver\":10}]"), 0);
    accepted(json("[{\"bn\":\"x:\"},{\"bu\":\"V\"},{\"n\":\"v\",\"v\":3}]"), 1);
    check_number(0, "x:v", "V", 3, NOW);
    assert_int_equal(rec(0)->index, 2);
    /* An empty record is not a base-only one: it has no name and no value. */
    json_refused("[{}]", SENML_E_NAME_EMPTY);
    json_refused("[{\"bn\":\"x\"},{}]", SENML_E_NO_VALUE);
    assert_int_equal(err.record, 1);
}

/* §4.4: unknown fields are ignored, in JSON and CBOR. */
static void test_unknown_fields_ignored(void **state)
{
    (void)state;
    accepted(json("[{\"n\":\"a\",\"ct\":\"60\",\"x-note\":true,\"v\":1,\"b2\":2,"
                  "\"data\":\"zz\"}]"), 1);
    check_number(0, "a", "", 1, NOW);
    /* {0: "a", 2: 1, 24: 1, "ct": 60, -7: "x", 9: h'00'} */
    accepted(cbor("81 a6 00 61 61 02 01 18 18 01 62 63 74 18 3c 26 61 78 09 41 00"), 1);
    check_number(0, "a", "", 1, NOW);
    /* A text label that spells a Table 1 label is that field in CBOR too. */
    accepted(cbor("81 a2 61 6e 61 61 61 76 02"), 1);   /* {"n": "a", "v": 2} */
    check_number(0, "a", "", 2, NOW);
}

/* §6: indefinite-length maps are records; tag 4 decimal fractions are numbers. */
static void test_cbor_forms(void **state)
{
    (void)state;
    /* [{_ 0: "a", 2: 4([-2, 256])}] = 2.56 */
    accepted(cbor("81 bf 00 61 61 02 c4 82 21 19 01 00 ff"), 1);
    check_number(0, "a", "", 2.56, NOW);
    /* [{0: "a", 2: 4([3, -12])}, {0: "b", 2: -1, 6: 1.5e9 as a float32}] */
    accepted(cbor("82 a2 00 61 61 02 c4 82 03 2b a3 00 61 62 02 20 06 fa 4e b2 d0 5e"), 2);
    check_number(0, "a", "", -12000, NOW);
    check_number(1, "b", "", -1, 1.5e9);
    /* A non-minimal head is well-formed: 0 as 0x18 0x00, "a" with a 1-byte length. */
    accepted(cbor("81 a2 18 00 78 01 61 02 01"), 1);
    check_number(0, "a", "", 1, NOW);
    /* UTF-8 in a string value. */
    accepted(cbor("81 a2 00 61 61 03 62 c3 a9"), 1);
    assert_int_equal(rec(0)->str_len, 2);
}

/* ------------------------------------------------------------------ */
/* Refusals                                                            */
/* ------------------------------------------------------------------ */

static void test_not_an_array(void **state)
{
    (void)state;
    json_refused("{\"n\":\"a\",\"v\":1}", SENML_E_NOT_ARRAY);
    json_refused("42", SENML_E_NOT_ARRAY);
    json_refused("\"[]\"", SENML_E_NOT_ARRAY);
    cbor_refused("a2 00 61 61 02 01", SENML_E_NOT_ARRAY, 0);
    /* A SensML stream (indefinite array) is not a pack (§6). */
    cbor_refused("9f a2 00 61 61 02 01 ff", SENML_E_NOT_ARRAY, 0);
    json_refused("[]", SENML_E_EMPTY);
    cbor_refused("80", SENML_E_EMPTY, 0);
}

static void test_record_not_an_object(void **state)
{
    (void)state;
    json_refused("[{\"n\":\"a\",\"v\":1},[{\"n\":\"a\",\"v\":1}]]", SENML_E_NOT_RECORD);
    assert_int_equal(err.record, 1);
    json_refused("[\"n\"]", SENML_E_NOT_RECORD);
    json_refused("[null]", SENML_E_NOT_RECORD);
    cbor_refused("81 80", SENML_E_NOT_RECORD, 1);
    cbor_refused("82 a2 00 61 61 02 01 01", SENML_E_NOT_RECORD, 7);
    assert_int_equal(err.record, 1);
}

/* §4.4: a label ending in '_' must be understood, and none is. */
static void test_must_understand(void **state)
{
    (void)state;
    json_refused("[{\"n\":\"a\",\"v\":1,\"foo_\":1}]", SENML_E_MUST_UNDERSTAND);
    assert_string_equal(err.field, "foo_");
    json_refused("[{\"bn\":\"a\",\"b_\":1,\"v\":1}]", SENML_E_MUST_UNDERSTAND);
    json_refused("[{\"_\":1,\"n\":\"a\",\"v\":1}]", SENML_E_MUST_UNDERSTAND);
    cbor_refused("81 a3 00 61 61 02 01 64 66 6f 6f 5f 01", SENML_E_MUST_UNDERSTAND, 7);
    assert_string_equal(err.field, "foo_");
}

/* Each field with a value of the wrong type: its label is in the error. */
static void test_wrong_types(void **state)
{
    (void)state;
    static const struct {
        const char *pack, *field;
    } cases[] = {
        { "[{\"n\":\"a\",\"v\":\"23.1\"}]", "v" },
        { "[{\"n\":\"a\",\"v\":true}]", "v" },
        { "[{\"n\":1,\"v\":1}]", "n" },
        { "[{\"bn\":[],\"v\":1}]", NULL },
        { "[{\"bn\":false,\"n\":\"a\",\"v\":1}]", "bn" },
        { "[{\"n\":\"a\",\"u\":2,\"v\":1}]", "u" },
        { "[{\"bu\":2,\"n\":\"a\",\"v\":1}]", "bu" },
        { "[{\"n\":\"a\",\"vs\":5}]", "vs" },
        { "[{\"n\":\"a\",\"vb\":\"true\"}]", "vb" },
        { "[{\"n\":\"a\",\"vb\":1}]", "vb" },
        { "[{\"n\":\"a\",\"vd\":12}]", "vd" },
        { "[{\"n\":\"a\",\"v\":1,\"t\":\"now\"}]", "t" },
        { "[{\"bt\":\"1.5e9\",\"n\":\"a\",\"v\":1}]", "bt" },
        { "[{\"bv\":\"1\",\"n\":\"a\",\"v\":1}]", "bv" },
        { "[{\"bs\":\"1\",\"n\":\"a\",\"v\":1}]", "bs" },
        { "[{\"n\":\"a\",\"s\":\"1\"}]", "s" },
        { "[{\"n\":\"a\",\"v\":1,\"ut\":\"60\"}]", "ut" },
        { "[{\"bver\":\"10\",\"n\":\"a\",\"v\":1}]", "bver" },
        { "[{\"n\":\"a\",\"v\":null}]", "v" },
        { "[{\"n\":\"a\",\"v\":1,\"x\":null}]", "x" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = json(cases[i].pack);
        if (cases[i].field == NULL) {
            refused(rc, SENML_E_NESTING);
            continue;
        }
        refused(rc, SENML_E_TYPE);
        assert_string_equal(err.field, cases[i].field);
        assert_int_equal(err.record, 0);
    }
    /* The reason says what was found and what belongs there. */
    json_refused("[{\"n\":\"a\",\"v\":\"23.1\"}]", SENML_E_TYPE);
    assert_string_equal(err.reason, "record 0, \"v\": a string where a number belongs");
    /* CBOR: the offset is the value's; vd is a byte string, not base64 text. */
    cbor_refused("81 a2 00 61 61 02 61 31", SENML_E_TYPE, 6);
    cbor_refused("81 a2 00 61 61 08 63 61 47 6b", SENML_E_TYPE, 6);
    cbor_refused("81 a2 00 61 61 03 41 00", SENML_E_TYPE, 6);
    cbor_refused("81 a2 00 61 61 02 f6", SENML_E_TYPE, 6);          /* null */
    cbor_refused("81 a2 00 61 61 02 f7", SENML_E_TYPE, 6);          /* undefined */
    cbor_refused("81 a2 00 61 61 02 c1 1a 5f 00 00 00", SENML_E_TYPE, 6);   /* tag 1 */
    cbor_refused("81 a2 00 61 61 02 c4 81 01", SENML_E_TYPE, 7);    /* tag 4, one item */
    cbor_refused("81 a2 00 61 61 02 c4 82 21 c2 41 01", SENML_E_TYPE, 9);   /* bignum */
    cbor_refused("81 a2 00 01 02 01", SENML_E_TYPE, 3);             /* n: 1 */
}

/* §4.2: exactly one of v, vs, vb, vd; none only with a sum. */
static void test_value_count(void **state)
{
    (void)state;
    json_refused("[{\"n\":\"a\",\"v\":1,\"vs\":\"x\"}]", SENML_E_MULTIPLE_VALUES);
    assert_string_equal(err.field, "vs");
    json_refused("[{\"n\":\"a\",\"vb\":true,\"vd\":\"AA\"}]", SENML_E_MULTIPLE_VALUES);
    cbor_refused("81 a3 00 61 61 02 01 04 f5", SENML_E_MULTIPLE_VALUES, 8);
    json_refused("[{\"n\":\"a\"}]", SENML_E_NO_VALUE);
    json_refused("[{\"n\":\"a\",\"t\":5,\"u\":\"V\"}]", SENML_E_NO_VALUE);
    cbor_refused("81 a1 00 61 61", SENML_E_NO_VALUE, 1);
}

/* NaN and infinity in CBOR; sums that overflow; JSON numbers past a double. */
static void test_not_finite(void **state)
{
    (void)state;
    cbor_refused("81 a2 00 61 61 02 f9 7e 00", SENML_E_NOT_FINITE, 6);   /* half NaN */
    cbor_refused("81 a2 00 61 61 02 f9 7c 00", SENML_E_NOT_FINITE, 6);   /* half +inf */
    cbor_refused("81 a2 00 61 61 02 fa ff 80 00 00", SENML_E_NOT_FINITE, 6);   /* -inf */
    cbor_refused("81 a2 00 61 61 02 fb 7f f0 00 00 00 00 00 00", SENML_E_NOT_FINITE, 6);
    cbor_refused("81 a3 22 fb 7f f8 00 00 00 00 00 00 00 61 61 02 01", SENML_E_NOT_FINITE, 3);
    /* 4([9223372036854775807, 1]): 1e9223372036854775807 */
    cbor_refused("81 a2 00 61 61 02 c4 82 1b 7f ff ff ff ff ff ff ff 01",
                 SENML_E_NOT_FINITE, 6);
    json_refused("[{\"bv\":1e308,\"n\":\"a\",\"v\":1e308}]", SENML_E_NOT_FINITE);
    assert_string_equal(err.field, "v");
    json_refused("[{\"bs\":-1e308,\"n\":\"a\",\"s\":-1e308}]", SENML_E_NOT_FINITE);
    json_refused("[{\"bt\":1e308,\"n\":\"a\",\"t\":1e308,\"v\":1}]", SENML_E_NOT_FINITE);
    json_refused("[{\"n\":\"a\",\"v\":1e999}]", SENML_E_RANGE);
    json_refused("[{\"n\":\"a\",\"v\":-1e400}]", SENML_E_RANGE);
    /* A long integer is a double like any other number. */
    accepted(json("[{\"n\":\"a\",\"v\":123456789012345678901234567890}]"), 1);
    assert_true(rec(0)->number == 123456789012345678901234567890.0);
}

/* §4.5.1: the resolved name's characters, first character, length. */
static void test_names(void **state)
{
    (void)state;
    static const char *const bad_chars[] = {
        "[{\"n\":\"a b\",\"v\":1}]",
        "[{\"n\":\"temp\\u00e9\",\"v\":1}]",
        "[{\"n\":\"a#1\",\"v\":1}]",
        "[{\"n\":\"a%20b\",\"v\":1}]",
        "[{\"n\":\"-a\",\"v\":1}]",              /* must start with a letter or digit */
        "[{\"n\":\"_a\",\"v\":1}]",
        "[{\"n\":\":a\",\"v\":1}]",
        "[{\"bn\":\"/dev/\",\"n\":\"a\",\"v\":1}]",
        "[{\"bn\":\"dev 1:\",\"n\":\"a\",\"v\":1}]",
        "[{\"bn\":\"ok:\",\"n\":\"a\\n\",\"v\":1}]",
    };
    for (size_t i = 0; i < sizeof bad_chars / sizeof bad_chars[0]; i++)
        json_refused(bad_chars[i], SENML_E_NAME_CHARS);
    json_refused("[{\"n\":\"a b\",\"v\":1}]", SENML_E_NAME_CHARS);
    assert_string_equal(err.reason, "record 0, \"n\": name \"a\\x20b\": a character outside "
                                    "A-Z a-z 0-9 - : . / _");
    /* After a base name, the name may start with any allowed character. */
    accepted(json("[{\"bn\":\"dev1\",\"n\":\"_a\",\"v\":1},{\"n\":\"-b\",\"v\":2},"
                  "{\"n\":\"\",\"v\":3}]"), 3);
    assert_string_equal(rec(0)->name, "dev1_a");
    assert_string_equal(rec(1)->name, "dev1-b");
    assert_string_equal(rec(2)->name, "dev1");
    json_refused("[{\"v\":1}]", SENML_E_NAME_EMPTY);
    json_refused("[{\"n\":\"\",\"v\":1}]", SENML_E_NAME_EMPTY);
    json_refused("[{\"bn\":\"\",\"n\":\"\",\"v\":1}]", SENML_E_NAME_EMPTY);
    /* Exactly 64 bytes, then 65: as one name, as base + name, as a base name alone. */
    char text[256];
    char n64[65];
    memset(n64, 'x', 64);
    n64[64] = '\0';
    snprintf(text, sizeof text, "[{\"n\":\"%s\",\"v\":1}]", n64);
    accepted(json(text), 1);
    assert_int_equal(rec(0)->name_len, 64);
    snprintf(text, sizeof text, "[{\"n\":\"%s1\",\"v\":1}]", n64);
    json_refused(text, SENML_E_NAME_TOO_LONG);
    snprintf(text, sizeof text, "[{\"bn\":\"%.32s\",\"n\":\"%.33s\",\"v\":1}]", n64, n64);
    json_refused(text, SENML_E_NAME_TOO_LONG);
    snprintf(text, sizeof text, "[{\"bn\":\"%s:\"},{\"n\":\"a\",\"v\":1}]", n64);
    json_refused(text, SENML_E_NAME_TOO_LONG);
    assert_int_equal(err.record, 0);
    /* CBOR: a NUL in a name is outside the set (and refused as a string first). */
    cbor_refused("81 a2 00 62 61 20 02 01", SENML_E_NAME_CHARS, 3);
    cbor_refused("81 a2 00 62 61 00 02 01", SENML_E_STRING, 3);

    assert_true(senml_name_valid("urn:dev:ow:10e2073a01080063", 27));
    assert_false(senml_name_valid("", 0));
    assert_false(senml_name_valid(".a", 2));
    assert_false(senml_name_valid(n64, 65));
}

static void test_duplicates(void **state)
{
    (void)state;
    json_refused("[{\"n\":\"a\",\"n\":\"b\",\"v\":1}]", SENML_E_DUPLICATE);
    json_refused("[{\"n\":\"a\",\"v\":1,\"x\":1,\"x\":2}]", SENML_E_DUPLICATE);
    assert_true(err.offset != SENML_NO_OFFSET);
    cbor_refused("81 a3 00 61 61 00 61 62 02 01", SENML_E_DUPLICATE, 5);
    assert_string_equal(err.field, "n");
    cbor_refused("81 a3 00 61 61 61 6e 61 62 02 01", SENML_E_DUPLICATE, 5);   /* 0 and "n" */
    cbor_refused("81 a3 00 61 61 18 02 01 02 01", SENML_E_DUPLICATE, 8);      /* 2, twice */
    cbor_refused("81 a4 00 61 61 02 01 18 18 01 18 18 02", SENML_E_DUPLICATE, 10);
    assert_string_equal(err.field, "24");
    cbor_refused("81 a4 00 61 61 02 01 61 78 01 61 78 02", SENML_E_DUPLICATE, 10);
    cbor_refused("81 a4 00 61 61 02 01 26 01 26 02", SENML_E_DUPLICATE, 9);
    assert_string_equal(err.field, "-7");
    /* The same key in two records is no duplicate. */
    accepted(json("[{\"n\":\"a\",\"v\":1},{\"n\":\"a\",\"v\":2}]"), 2);
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    json_refused("[{\"n\":\"a\",\"v\":1}] x", SENML_E_TRAILING);
    json_refused("[{\"n\":\"a\",\"v\":1}][]", SENML_E_TRAILING);
    accepted(json(" [{\"n\":\"a\",\"v\":1}]\r\n\t "), 1);       /* whitespace is fine */
    cbor_refused("81 a2 00 61 61 02 01 00", SENML_E_TRAILING, 7);
    cbor_refused("81 a2 00 61 61 02 01 81 a2 00 61 61 02 01", SENML_E_TRAILING, 7);
}

static void test_nesting(void **state)
{
    (void)state;
    json_refused("[{\"n\":\"a\",\"v\":[1]}]", SENML_E_NESTING);
    json_refused("[{\"n\":\"a\",\"v\":1,\"meta\":{\"k\":1}}]", SENML_E_NESTING);
    assert_string_equal(err.field, "meta");
    cbor_refused("81 a2 00 61 61 02 81 01", SENML_E_NESTING, 6);
    cbor_refused("81 a3 00 61 61 02 01 18 63 a0", SENML_E_NESTING, 9);
    cbor_refused("81 a3 00 61 61 02 01 18 63 9f ff", SENML_E_NESTING, 9);
    /* Deeper than jansson's parser goes (2048): refused, not a stack overflow. */
    static char deep[8192];
    struct senml_limits big = { sizeof deep, 64 };
    memset(deep, '[', 3000);
    memset(deep + 3000, ']', 3000);
    deep[6000] = '\0';
    refused(json_lim(deep, &big), SENML_E_NESTING);
    /* Records nested in the pack are not records. */
    json_refused("[[[[{\"n\":\"a\",\"v\":1}]]]]", SENML_E_NOT_RECORD);
}

static void test_cbor_syntax(void **state)
{
    (void)state;
    cbor_refused("", SENML_E_SYNTAX, 0);
    cbor_refused("81 a2 00 61 61 02", SENML_E_SYNTAX, 6);          /* ends before a value */
    cbor_refused("81 a2 00 63 61", SENML_E_SYNTAX, 3);             /* text past the end */
    cbor_refused("81 a2 00 61 61 02 19 01", SENML_E_SYNTAX, 6);    /* uint16 cut short */
    cbor_refused("81 a2 00 61 61 02 1c", SENML_E_SYNTAX, 6);       /* reserved 28 */
    cbor_refused("81 a2 00 61 61 02 ff", SENML_E_SYNTAX, 6);       /* break outside */
    cbor_refused("81 a2 00 7f 61 61 ff 02 01", SENML_E_SYNTAX, 3); /* indefinite text */
    cbor_refused("81 a2 00 61 61 08 5f 41 00 ff", SENML_E_SYNTAX, 6);
    cbor_refused("81 a2 00 61 61 02 f8 20", SENML_E_SYNTAX, 6);    /* simple(32) */
    cbor_refused("81 bf 00 61 61 02 01", SENML_E_SYNTAX, 7);       /* no break */
    json_refused("", SENML_E_SYNTAX);
    json_refused("[{\"n\":\"a\",\"v\":1}", SENML_E_SYNTAX);
    json_refused("[{\"n\":\"a\",\"v\":01}]", SENML_E_SYNTAX);
    json_refused("[{'n':'a','v':1}]", SENML_E_SYNTAX);
    json_refused("[{\"n\":\"a\",\"vs\":\"\\u0000\"}]", SENML_E_SYNTAX);
    /* Invalid UTF-8 in JSON (a lone continuation byte). */
    json_refused("[{\"n\":\"a\",\"vs\":\"\x80\"}]", SENML_E_SYNTAX);
    assert_true(err.offset != SENML_NO_OFFSET);
}

static void test_cbor_bad_label(void **state)
{
    (void)state;
    cbor_refused("81 a2 00 61 61 41 00 01", SENML_E_BAD_LABEL, 5);     /* h'00' */
    cbor_refused("81 a2 00 61 61 f9 3c 00 01", SENML_E_BAD_LABEL, 5);  /* 1.0 */
    cbor_refused("81 a2 00 61 61 f5 01", SENML_E_BAD_LABEL, 5);        /* true */
    cbor_refused("81 a2 00 61 61 80 01", SENML_E_BAD_LABEL, 5);        /* [] */
}

static void test_too_many_fields(void **state)
{
    (void)state;
    char text[1024];
    size_t o = (size_t)snprintf(text, sizeof text, "[{\"n\":\"a\",\"v\":1");
    for (int i = 0; i < SENML_FIELDS_MAX - 2; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, ",\"x%d\":1", i);
    snprintf(text + o, sizeof text - o, "}]");
    accepted(json(text), 1);
    snprintf(text + o, sizeof text - o, ",\"last\":1}]");
    json_refused(text, SENML_E_TOO_MANY_FIELDS);

    /* CBOR: a definite map over the limit is refused from its head ... */
    char hex[512];
    o = (size_t)snprintf(hex, sizeof hex, "81 b8 21 00 61 61 02 01");
    for (int i = 0; i < SENML_FIELDS_MAX - 1; i++)
        o += (size_t)snprintf(hex + o, sizeof hex - o, " 18 %02x 00", 0x40 + i);
    cbor_refused(hex, SENML_E_TOO_MANY_FIELDS, 1);
    /* ... an indefinite one at the field past it. */
    o = (size_t)snprintf(hex, sizeof hex, "81 bf 00 61 61 02 01");
    for (int i = 0; i < SENML_FIELDS_MAX - 1; i++)
        o += (size_t)snprintf(hex + o, sizeof hex - o, " 18 %02x 00", 0x40 + i);
    snprintf(hex + o, sizeof hex - o, " ff");
    cbor_refused(hex, SENML_E_TOO_MANY_FIELDS, 7 + 3 * (SENML_FIELDS_MAX - 2));
}

/* §4.4: versions 1..10, one per pack; §6: an unsigned integer in CBOR. */
static void test_versions(void **state)
{
    (void)state;
    accepted(json("[{\"bver\":10,\"n\":\"a\",\"v\":1},{\"bver\":10,\"n\":\"a\",\"v\":2}]"), 2);
    accepted(json("[{\"bver\":5,\"n\":\"a\",\"v\":1},{\"n\":\"a\",\"v\":2}]"), 2);
    accepted(json("[{\"n\":\"a\",\"v\":1},{\"bver\":10,\"n\":\"a\",\"v\":2}]"), 2);
    json_refused("[{\"bver\":11,\"n\":\"a\",\"v\":1}]", SENML_E_VERSION);
    json_refused("[{\"bver\":0,\"n\":\"a\",\"v\":1}]", SENML_E_VERSION);
    json_refused("[{\"bver\":5.5,\"n\":\"a\",\"v\":1}]", SENML_E_VERSION);
    json_refused("[{\"bver\":-1,\"n\":\"a\",\"v\":1}]", SENML_E_VERSION);
    json_refused("[{\"n\":\"a\",\"v\":1},{\"bver\":5,\"n\":\"a\",\"v\":2}]", SENML_E_VERSION);
    assert_int_equal(err.record, 1);
    json_refused("[{\"bver\":5,\"n\":\"a\",\"v\":1},{\"bver\":6,\"n\":\"a\",\"v\":2}]",
                 SENML_E_VERSION);
    cbor_refused("81 a3 20 f9 45 00 00 61 61 02 01", SENML_E_VERSION, 3);   /* 5.0 */
    accepted(cbor("81 a3 20 05 00 61 61 02 01"), 1);
}

static void test_units(void **state)
{
    (void)state;
    json_refused("[{\"n\":\"a\",\"u\":\"degrees C\",\"v\":1}]", SENML_E_UNIT);
    json_refused("[{\"bu\":\"\\u00b0C\",\"n\":\"a\",\"v\":1}]", SENML_E_UNIT);
    json_refused("[{\"n\":\"a\",\"u\":\"123456789012345678901234567890123\",\"v\":1}]",
                 SENML_E_UNIT);
    accepted(json("[{\"n\":\"a\",\"u\":\"12345678901234567890123456789012\",\"v\":1}]"), 1);
    assert_int_equal(rec(0)->unit_len, 32);
}

static void test_bad_strings(void **state)
{
    (void)state;
    cbor_refused("81 a2 00 61 61 03 61 ff", SENML_E_STRING, 6);
    cbor_refused("81 a2 00 61 61 03 61 00", SENML_E_STRING, 6);
    cbor_refused("81 a2 00 61 61 03 62 c0 80", SENML_E_STRING, 6);     /* overlong NUL */
    cbor_refused("81 a2 00 61 61 03 63 ed a0 80", SENML_E_STRING, 6);  /* a surrogate */
    cbor_refused("81 a2 00 61 61 03 64 f4 90 80 80", SENML_E_STRING, 6);   /* > U+10FFFF */
    cbor_refused("81 a2 00 61 61 03 62 e2 82", SENML_E_STRING, 6);     /* cut short */
    cbor_refused("81 a2 00 61 61 61 ff 01", SENML_E_STRING, 5);        /* a label */
    accepted(cbor("81 a2 00 61 61 03 64 f0 9f 98 80"), 1);              /* U+1F600 */
}

/* §5: vd is base64url without padding; one encoding per value. */
static void test_data_values(void **state)
{
    (void)state;
    static const char *const bad[] = { "aGkgCg==", "aGk+Cg", "aGk/Cg", "aGkgC", "aGkgCh",
                                       "a b", "A" };
    char text[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "[{\"n\":\"a\",\"vd\":\"%s\"}]", bad[i]);
        json_refused(text, SENML_E_DATA);
        assert_string_equal(err.field, "vd");
    }
    accepted(json("[{\"n\":\"a\",\"vd\":\"\"},{\"n\":\"b\",\"vd\":\"-_8\"},"
                  "{\"n\":\"c\",\"vd\":\"AAE\"}]"), 3);
    assert_int_equal(rec(0)->str_len, 0);
    assert_int_equal(rec(1)->str_len, 2);
    assert_memory_equal(rec(1)->str, "\xfb\xff", 2);
    assert_memory_equal(rec(2)->str, "\x00\x01", 2);
}

static void test_update_time(void **state)
{
    (void)state;
    json_refused("[{\"n\":\"a\",\"v\":1,\"ut\":-1}]", SENML_E_RANGE);
    assert_string_equal(err.field, "ut");
    accepted(json("[{\"n\":\"a\",\"v\":1,\"ut\":0}]"), 1);
}

/* ------------------------------------------------------------------ */
/* Limits                                                              */
/* ------------------------------------------------------------------ */

/* The size is checked before parsing: garbage over the limit is "too large". */
static void test_max_bytes(void **state)
{
    (void)state;
    const struct senml_limits lim = { 20, 8 };
    const char *fits = "[{\"n\":\"a\",\"v\":12.5}]";   /* 20 bytes */
    assert_int_equal(strlen(fits), 20);
    accepted(json_lim(fits, &lim), 1);
    refused(json_lim("[{\"n\":\"a\",\"v\":123.5}]", &lim), SENML_E_TOO_LARGE);
    refused(json_lim("not json at all, and long", &lim), SENML_E_TOO_LARGE);
    assert_int_equal(senml_coap_code(SENML_E_TOO_LARGE), 0x8d);   /* 4.13 */
    uint8_t junk[21];
    memset(junk, 0xff, sizeof junk);
    refused(senml_decode(pack, SENML_CBOR, junk, sizeof junk, &lim, NOW, &err),
            SENML_E_TOO_LARGE);
    refused(senml_decode(pack, SENML_CBOR, junk, sizeof junk - 1, &lim, NOW, &err),
            SENML_E_NOT_ARRAY);
}

static void test_max_records(void **state)
{
    (void)state;
    const struct senml_limits lim = { 4096, 3 };
    accepted(json_lim("[{\"n\":\"a\",\"v\":1},{\"n\":\"a\",\"v\":1},{\"n\":\"a\",\"v\":1}]",
                      &lim), 3);
    refused(json_lim("[{\"n\":\"a\",\"v\":1},{\"n\":\"a\",\"v\":1},{\"n\":\"a\",\"v\":1},"
                     "{\"n\":\"a\",\"v\":1}]", &lim), SENML_E_TOO_MANY_RECORDS);
    /* Base-only records count: the limit is on what is sent. */
    refused(json_lim("[{\"bn\":\"a\"},{\"v\":1},{\"v\":1},{\"v\":1}]", &lim),
            SENML_E_TOO_MANY_RECORDS);
    /* CBOR: refused from the array's head, before any record is read. */
    uint8_t c[] = { 0x84, 0xff };
    refused(senml_decode(pack, SENML_CBOR, c, sizeof c, &lim, NOW, &err),
            SENML_E_TOO_MANY_RECORDS);
    cbor_refused("9b ff ff ff ff ff ff ff ff", SENML_E_TOO_MANY_RECORDS, 0);
    cbor_refused("9a 00 01 00 00", SENML_E_TOO_MANY_RECORDS, 0);
}

/* Limits beyond the pack's capacity, and other caller errors. */
static void test_invalid_arguments(void **state)
{
    (void)state;
    struct senml_limits small = { 100, 2 }, lim;
    struct senml_pack *p = NULL;
    uint8_t b[] = "[]";
    assert_int_equal(senml_pack_new(&small, &p), 0);
    lim = (struct senml_limits){ 101, 2 };
    assert_int_equal(senml_decode(p, SENML_JSON, b, 2, &lim, NOW, &err), SENML_E_INVALID);
    lim = (struct senml_limits){ 100, 3 };
    assert_int_equal(senml_decode(p, SENML_JSON, b, 2, &lim, NOW, &err), SENML_E_INVALID);
    lim = (struct senml_limits){ 0, 2 };
    assert_int_equal(senml_decode(p, SENML_JSON, b, 2, &lim, NOW, &err), SENML_E_INVALID);
    assert_int_equal(senml_decode(p, SENML_JSON, NULL, 2, &small, NOW, &err), SENML_E_INVALID);
    assert_int_equal(senml_decode(p, (enum senml_format)7, b, 2, &small, NOW, &err),
                     SENML_E_INVALID);
    assert_int_equal(senml_decode(p, SENML_JSON, b, 2, &small, NAN, &err), SENML_E_INVALID);
    assert_int_equal(senml_decode(NULL, SENML_JSON, b, 2, &small, NOW, &err), SENML_E_INVALID);
    assert_int_equal(senml_decode(p, SENML_JSON, b, 2, &small, NOW, NULL), SENML_E_EMPTY);
    senml_pack_free(p);
    lim = (struct senml_limits){ SENML_MAX_BYTES + 1, 1 };
    assert_int_equal(senml_pack_new(&lim, &p), SENML_E_INVALID);
    lim = (struct senml_limits){ 1, SENML_MAX_RECORDS + 1 };
    assert_int_equal(senml_pack_new(&lim, &p), SENML_E_INVALID);
    senml_pack_free(NULL);
}

/* A refusal after a success leaves nothing of either. */
static void test_failure_clears_pack(void **state)
{
    (void)state;
    accepted(json("[{\"n\":\"a\",\"vs\":\"x\"},{\"n\":\"b\",\"v\":1}]"), 2);
    refused(json("[{\"n\":\"a\",\"vs\":\"x\"},{\"n\":\"b\",\"v\":\"1\"}]"), SENML_E_TYPE);
    assert_int_equal(pack->arena_len, 0);
    assert_int_equal(err.record, 1);
}

/* ------------------------------------------------------------------ */
/* Names of codes, CoAP codes, evidence                                */
/* ------------------------------------------------------------------ */

static void test_error_names(void **state)
{
    (void)state;
    for (int i = 0; i < SENML_E__COUNT; i++) {
        const char *n = senml_error_name(-i);
        assert_string_not_equal(n, "unknown_error");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(n, senml_error_name(-j));
    }
    assert_string_equal(senml_error_name(-SENML_E__COUNT), "unknown_error");
    assert_string_equal(senml_error_name(1), "unknown_error");
    assert_string_equal(senml_error_name(SENML_E_TYPE), "senml_wrong_type");
    assert_int_equal(senml_coap_code(SENML_E_TYPE), 0x80);        /* 4.00 */
    assert_int_equal(senml_coap_code(SENML_E_NO_MEMORY), 0xa0);   /* 5.00 */
    for (int i = 0; i < PROFILE_E__COUNT; i++)
        assert_string_not_equal(profile_error_name(-i), "unknown_error");
}

static void test_evidence(void **state)
{
    (void)state;
    char out[SENML_EVIDENCE_MAX];
    const char *p = "[{\"n\":\"a\\b\",\"v\":\x01}]";
    senml_evidence((const uint8_t *)p, strlen(p), SENML_NO_OFFSET, out, sizeof out);
    assert_string_equal(out, "[{\\\"n\\\":\\\"a\\\\b\\\",\\\"v\\\":\\x01}] (19 bytes)");

    /* Long: a window from 16 before the offset, marked on both sides. */
    char big[300];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    size_t n = senml_evidence((const uint8_t *)big, sizeof big, 100, out, sizeof out);
    assert_int_equal(n, strlen(out));
    char want[128];
    snprintf(want, sizeof want, "...%.64s... (300 bytes, from 84)", big + 84);
    assert_string_equal(out, want);
    /* Near the end: the last 64 bytes. */
    senml_evidence((const uint8_t *)big, sizeof big, 290, out, sizeof out);
    snprintf(want, sizeof want, "...%.64s (300 bytes, from 236)", big + 236);
    assert_string_equal(out, want);
    /* No offset: the first 64. */
    senml_evidence((const uint8_t *)big, sizeof big, SENML_NO_OFFSET, out, sizeof out);
    snprintf(want, sizeof want, "%.64s... (300 bytes)", big);
    assert_string_equal(out, want);
    /* Binary: every byte escaped; the worst case fits SENML_EVIDENCE_MAX. */
    uint8_t bin[200];
    memset(bin, 0xff, sizeof bin);
    n = senml_evidence(bin, sizeof bin, 100, out, sizeof out);
    assert_true(n < sizeof out);
    assert_int_equal(strncmp(out, "...\\xff\\xff", 11), 0);
    for (size_t i = 0; i < n; i++)
        assert_true(out[i] >= 0x20 && out[i] < 0x7f);
    /* A small buffer truncates and stays terminated. */
    n = senml_evidence((const uint8_t *)big, sizeof big, 0, out, 10);
    assert_true(n < 10);
    assert_int_equal(out[n], '\0');
    senml_evidence(NULL, 0, 0, out, sizeof out);
    assert_string_equal(out, " (0 bytes)");
    /* From a refusal: the offending bytes are in the window. */
    refused(cbor("81 a2 00 61 61 02 c1 1a 5f 00 00 00"), SENML_E_TYPE);
    senml_evidence(cbuf, clen, err.offset, out, sizeof out);
    assert_string_equal(out, "\\x81\\xa2\\x00aa\\x02\\xc1\\x1a_\\x00\\x00\\x00 (12 bytes)");
}

/* ------------------------------------------------------------------ */
/* Device profiles                                                     */
/* ------------------------------------------------------------------ */

static const char PROFILE[] =
    "{\"schema\": {"
    "  \"temp\": {\"type\": \"number\", \"unit\": \"Cel\", \"min\": -40, \"max\": 85,"
    "            \"required\": true},"
    "  \"label\": {\"type\": \"string\"},"
    "  \"open\": {\"type\": \"boolean\", \"required\": false},"
    "  \"fw\": {\"type\": \"data\"},"
    "  \"energy\": {\"type\": \"number\", \"unit\": \"J\", \"min\": 0}"
    " },"
    " \"max_bytes\": 512, \"max_records\": 32}";

static struct profile *profile_of(const char *text)
{
    struct profile *p = NULL;
    char e[256];
    int rc = profile_parse(text, strlen(text), &p, e, sizeof e);
    if (rc != 0)
        print_error("%s\n", e);
    assert_int_equal(rc, 0);
    return p;
}

static void test_profile_parse(void **state)
{
    (void)state;
    struct profile *p = profile_of(PROFILE);
    assert_int_equal(p->limits.max_bytes, 512);
    assert_int_equal(p->limits.max_records, 32);
    assert_true(p->has_schema);
    assert_int_equal(p->nfields, 5);
    /* Sorted by name, for the lookup. */
    assert_string_equal(p->fields[0].name, "energy");
    assert_string_equal(p->fields[4].name, "temp");
    const struct profile_field *t = &p->fields[4];
    assert_int_equal(t->type, PROFILE_NUMBER);
    assert_string_equal(t->unit, "Cel");
    assert_true(t->has_min && t->min == -40 && t->has_max && t->max == 85 && t->required);
    assert_false(p->fields[0].has_max);
    profile_free(p);

    p = profile_of("{}");
    assert_false(p->has_schema);
    assert_int_equal(p->limits.max_bytes, SENML_DEFAULT_MAX_BYTES);
    assert_int_equal(p->limits.max_records, SENML_DEFAULT_MAX_RECORDS);
    profile_free(p);
    profile_free(NULL);
}

/* Every problem is named by its JSON path. */
static void test_profile_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *err;
    } cases[] = {
        { "[]", "profile: must be an object" },
        { "{\"schema\": {}, \"maxbytes\": 5}", "profile: unknown key \"maxbytes\"" },
        { "{\"max_bytes\": 0}", "max_bytes: must be an integer 1..65536" },
        { "{\"max_bytes\": 65537}", "max_bytes: must be an integer 1..65536" },
        { "{\"max_records\": \"32\"}", "max_records: must be an integer 1..1024" },
        { "{\"schema\": []}", "schema: must be an object of names" },
        { "{\"schema\": {\"temp\": 1}}", "schema.temp: must be an object with a \"type\"" },
        { "{\"schema\": {\"temp\": {}}}",
          "schema.temp.type: must be one of number, string, boolean, data" },
        { "{\"schema\": {\"temp\": {\"type\": \"float\"}}}",
          "schema.temp.type: must be one of number, string, boolean, data" },
        { "{\"schema\": {\"temp\": {\"type\": \"number\", \"mni\": 1}}}",
          "schema.temp: unknown key \"mni\"" },
        { "{\"schema\": {\"temp\": {\"type\": \"number\", \"min\": \"-40\"}}}",
          "schema.temp.min: must be a number" },
        { "{\"schema\": {\"temp\": {\"type\": \"number\", \"min\": 5, \"max\": 4}}}",
          "schema.temp.min: 5 is above max 4" },
        { "{\"schema\": {\"label\": {\"type\": \"string\", \"max\": 4}}}",
          "schema.label.max: only a number has a range" },
        { "{\"schema\": {\"temp\": {\"type\": \"number\", \"unit\": \"\"}}}",
          "schema.temp.unit: must be a SenML unit: 1..32 characters of printable ASCII, "
          "e.g. \"Cel\"" },
        { "{\"schema\": {\"temp\": {\"type\": \"number\", \"unit\": \"deg C\"}}}",
          "schema.temp.unit: must be a SenML unit: 1..32 characters of printable ASCII, "
          "e.g. \"Cel\"" },
        { "{\"schema\": {\"temp\": {\"type\": \"number\", \"required\": 1}}}",
          "schema.temp.required: must be true or false" },
        { "{\"schema\": {\"te mp\": {\"type\": \"number\"}}}",
          "schema: \"te\\x20mp\" is not a SenML name (1..64 of A-Z a-z 0-9 - : . / _, "
          "starting with a letter or a digit)" },
        { "{\"schema\": {\"temp\": {\"type\": \"number\"}}",
          "profile: line 1, column 39: '}' expected near end of file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct profile *p = NULL;
        char e[256];
        int rc = profile_parse(cases[i].text, strlen(cases[i].text), &p, e, sizeof e);
        assert_int_equal(rc, -EINVAL);
        assert_null(p);
        assert_string_equal(e, cases[i].err);
    }
    /* Compiled from a policy's section: paths carry its name. */
    json_t *root = json_loads("{\"schema\": {\"temp\": {\"type\": \"number\", \"min\": null}}}",
                              0, NULL);
    assert_non_null(root);
    struct profile *p = NULL;
    char e[256];
    assert_int_equal(profile_from_json(root, "device", &p, e, sizeof e), -EINVAL);
    assert_string_equal(e, "device.schema.temp.min: must be a number");
    json_decref(root);
    root = json_loads("{\"schemas\": {}}", 0, NULL);
    assert_int_equal(profile_from_json(root, "device", &p, e, sizeof e), -EINVAL);
    assert_string_equal(e, "device: unknown key \"schemas\"");
    json_decref(root);
}

/* Decode under the profile's limits, then check. */
static int check(const struct profile *p, const char *text, struct profile_violation *v)
{
    int rc = senml_decode(pack, SENML_JSON, (const uint8_t *)text, strlen(text), &p->limits, NOW,
                          &err);
    accepted(rc, pack->count);
    return profile_check(p, pack, v);
}

static void violates(const struct profile *p, const char *text, int code, long record,
                     const char *name)
{
    struct profile_violation v;
    int rc = check(p, text, &v);
    if (rc != code)
        print_error("got %d (%s): %s\n", rc, profile_error_name(rc), v.reason);
    assert_int_equal(rc, code);
    assert_int_equal(v.code, code);
    assert_int_equal(v.record, record);
    assert_string_equal(v.name, name);
    assert_true(strlen(v.reason) > 0);
}

static void test_profile_check_ok(void **state)
{
    (void)state;
    struct profile *p = profile_of(PROFILE);
    struct profile_violation v;
    /* Names after the device's base name; a missing unit is the profile's. */
    assert_int_equal(check(p, "[{\"bn\":\"urn:dev:imei:490154203237518:\",\"n\":\"temp\","
                              "\"u\":\"Cel\",\"v\":-40},"
                              "{\"n\":\"temp\",\"v\":85},{\"n\":\"label\",\"vs\":\"Room 1\"},"
                              "{\"n\":\"open\",\"vb\":true},{\"n\":\"fw\",\"vd\":\"AQI\"},"
                              "{\"n\":\"energy\",\"u\":\"J\",\"s\":-5}]", &v), 0);
    assert_int_equal(v.code, 0);
    /* A pack without a schema is only size-limited. */
    struct profile *any = profile_of("{\"max_records\": 2}");
    assert_int_equal(check(any, "[{\"n\":\"whatever\",\"vs\":\"x\"}]", &v), 0);
    profile_free(any);
    /* The lookup: the name after the base name, or the whole one without n. */
    struct profile *full = profile_of("{\"schema\": {\"urn:dev:ow:1\": {\"type\": \"number\"}}}");
    assert_int_equal(check(full, "[{\"bn\":\"urn:dev:ow:1\",\"v\":1}]", &v), 0);
    assert_int_equal(check(full, "[{\"n\":\"urn:dev:ow:1\",\"v\":1}]", &v), 0);
    assert_non_null(profile_lookup(full, rec(0)));
    profile_free(full);
    profile_free(p);
}

static void test_profile_violations(void **state)
{
    (void)state;
    struct profile *p = profile_of(PROFILE);
    violates(p, "[{\"n\":\"temp\",\"v\":20},{\"n\":\"humidity\",\"v\":20}]",
             PROFILE_E_UNKNOWN_NAME, 1, "humidity");
    violates(p, "[{\"bn\":\"dev:\",\"n\":\"temp\",\"vs\":\"20\"}]", PROFILE_E_TYPE, 0,
             "dev:temp");
    violates(p, "[{\"n\":\"temp\",\"v\":20},{\"n\":\"open\",\"v\":1}]", PROFILE_E_TYPE, 1, "open");
    violates(p, "[{\"n\":\"temp\",\"v\":20},{\"n\":\"label\",\"vb\":true}]", PROFILE_E_TYPE, 1,
             "label");
    violates(p, "[{\"n\":\"temp\",\"v\":20},{\"n\":\"fw\",\"vs\":\"AQI\"}]", PROFILE_E_TYPE, 1,
             "fw");
    violates(p, "[{\"n\":\"temp\",\"u\":\"K\",\"v\":293}]", PROFILE_E_UNIT, 0, "temp");
    violates(p, "[{\"bu\":\"K\",\"n\":\"temp\",\"v\":293}]", PROFILE_E_UNIT, 0, "temp");
    violates(p, "[{\"n\":\"temp\",\"v\":85.01}]", PROFILE_E_RANGE, 0, "temp");
    violates(p, "[{\"n\":\"temp\",\"v\":-40.5}]", PROFILE_E_RANGE, 0, "temp");
    violates(p, "[{\"n\":\"temp\",\"v\":1},{\"n\":\"energy\",\"v\":-1}]", PROFILE_E_RANGE, 1,
             "energy");
    violates(p, "[{\"n\":\"label\",\"vs\":\"x\"}]", PROFILE_E_MISSING, -1, "temp");
    /* The first violation in the pack's order, index as sent. */
    violates(p, "[{\"bn\":\"d:\"},{\"n\":\"temp\",\"v\":100},{\"n\":\"x\",\"v\":1}]",
             PROFILE_E_RANGE, 1, "d:temp");
    struct profile_violation v;
    assert_int_equal(check(p, "[{\"n\":\"temp\",\"v\":100}]", &v), PROFILE_E_RANGE);
    assert_string_equal(v.reason, "record 0, \"temp\": 100 outside [-40, 85]");
    assert_int_equal(profile_check(p, pack, NULL), PROFILE_E_RANGE);
    profile_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_single_datapoint),
        cmocka_unit_test(test_rfc_multiple_datapoints),
        cmocka_unit_test(test_rfc_multiple_datapoints_times),
        cmocka_unit_test(test_rfc_cbor_example),
        cmocka_unit_test(test_rfc_multiple_measurements),
        cmocka_unit_test(test_rfc_resolved_data),
        cmocka_unit_test(test_rfc_multiple_data_types),
        cmocka_unit_test(test_cbor_multiple_data_types),
        cmocka_unit_test(test_rfc_collection_of_resources),
        cmocka_unit_test(test_rfc_actuator),
        cmocka_unit_test(test_relative_time),
        cmocka_unit_test(test_base_values),
        cmocka_unit_test(test_base_only_records),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_cbor_forms),
        cmocka_unit_test(test_not_an_array),
        cmocka_unit_test(test_record_not_an_object),
        cmocka_unit_test(test_must_understand),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_value_count),
        cmocka_unit_test(test_not_finite),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_cbor_syntax),
        cmocka_unit_test(test_cbor_bad_label),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_data_values),
        cmocka_unit_test(test_update_time),
        cmocka_unit_test(test_max_bytes),
        cmocka_unit_test(test_max_records),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_failure_clears_pack),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_evidence),
        cmocka_unit_test(test_profile_parse),
        cmocka_unit_test(test_profile_errors),
        cmocka_unit_test(test_profile_check_ok),
        cmocka_unit_test(test_profile_violations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
