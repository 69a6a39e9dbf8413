/*
 * test_import.c — the SIM CSV import (cmd/import.c) against a real SQLite
 * store in a temp directory: columns in any order, every bad row reported
 * with its line, and all-or-nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cmd/cmd.h"
#include "store/store.h"

struct fx {
    char dir[64];
    char db[96];
    char csv[96];
    struct store *st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/m2mg-import-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/t.db", f->dir);
    snprintf(f->csv, sizeof f->csv, "%s/in.csv", f->dir);
    assert_int_equal(store_open(f->db, &f->st), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[200];
    store_close(f->st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int run(struct fx *f, const char *csv, int create, char *err, size_t errlen,
               struct import_result *res)
{
    FILE *o = fopen(f->csv, "w");
    fputs(csv, o);
    fclose(o);
    struct cmd_ctx c = { .st = f->st, .control = NULL, .out = fopen("/dev/null", "w"),
                         .err = fmemopen(err, errlen, "w"), .quiet = 1 };
    snprintf(c.actor, sizeof c.actor, "test");
    int r = cmd_sim_import(&c, f->csv, create, res);
    fclose(c.out);
    fclose(c.err);
    return r;
}

static int64_t count(struct fx *f)
{
    int64_t n = -1;
    assert_int_equal(store_sim_count(f->st, 0, &n), 0);
    return n;
}

static void test_any_order_extra_columns(void **state)
{
    struct fx *f = *state;
    char err[2048] = "";
    struct import_result res;
    int r = run(f, "\xef\xbb\xbfTenant, Group ,IMSI,ICCID,carrier_plan,IP,IMEI,msisdn\n"
                   "acme,meters,234150000000001,8944110000000000016,gold,10.0.0.1,353328110000013,+447900000001\n"
                   "\n"
                   "\"acme\",\"meters\",234150000000002,8944110000000000024,\"silver, plus\",,,\n",
                1, err, sizeof err, &res);
    assert_int_equal(r, 0);
    assert_string_equal(err, "");
    assert_int_equal(res.imported, 2);
    assert_int_equal(count(f), 2);
    struct store_sim s;
    assert_int_equal(store_sim_find(f->st, "234150000000001", &s), 0);
    assert_string_equal(s.iccid, "8944110000000000016");
    assert_string_equal(s.imei, "35332811000001");     /* 14-digit core */
    assert_int_equal(s.ip, 0x0a000001);
    assert_string_equal(s.group, "meters");
    assert_int_equal(store_sim_find(f->st, "8944110000000000024", &s), 0);
    assert_int_equal(s.ip, 0);
    assert_string_equal(s.imei, "");
}

static void test_bad_rows_reported_nothing_imported(void **state)
{
    struct fx *f = *state;
    char err[4096] = "";
    struct import_result res;
    /* Line 2 is good; every other row has one problem. */
    int r = run(f, "iccid,imsi,msisdn,imei,ip,group,tenant\n"
                   "8944110000000000016,234150000000001,,,10.0.0.1,meters,acme\n"
                   "8944110000000000017,234150000000002,,,,meters,acme\n"
                   "8944110000000000024,23415,,,,meters,acme\n"
                   "8944110000000000032,234150000000003,,353328110000014,,meters,acme\n"
                   "8944110000000000040,234150000000004,,,10.0.0.256,meters,acme\n"
                   "8944110000000000057,234150000000001,,,,meters,acme\n"
                   "8944110000000000065,234150000000006,,,10.0.0.1,meters,acme\n"
                   "8944110000000000073,234150000000007,12ab,,,meters,acme\n"
                   "8944110000000000081,234150000000008,,,,meters,\"acme\n",
                1, err, sizeof err, &res);
    assert_true(r < 0);
    assert_non_null(strstr(err, ":3: ICCID \"8944110000000000017\": Luhn check digit wrong"));
    assert_non_null(strstr(err, ":4: IMSI \"23415\": wrong number of digits"));
    assert_non_null(strstr(err, ":5: IMEI \"353328110000014\": Luhn check digit wrong"));
    assert_non_null(strstr(err, ":6: IP \"10.0.0.256\""));
    assert_non_null(strstr(err, ":7: duplicate IMSI 234150000000001"));
    assert_non_null(strstr(err, ":8: duplicate IP 10.0.0.1"));
    assert_non_null(strstr(err, ":9: MSISDN \"12ab\""));
    assert_non_null(strstr(err, ":10: unterminated or misplaced quote"));
    assert_non_null(strstr(err, "8 bad rows of 9; nothing was imported"));
    assert_int_equal(res.errors, 8);
    assert_int_equal(count(f), 0);
}

static void test_duplicates_against_database_and_missing_groups(void **state)
{
    struct fx *f = *state;
    char err[2048] = "";
    struct import_result res;
    assert_int_equal(run(f, "iccid,imsi,group,tenant\n8944110000000000016,234150000000001,g,t\n",
                         1, err, sizeof err, &res), 0);
    memset(err, 0, sizeof err);
    assert_true(run(f, "iccid,imsi,group,tenant\n8944110000000000016,234150000000009,g,t\n",
                    1, err, sizeof err, &res) < 0);
    assert_non_null(strstr(err, ":2: duplicate ICCID 8944110000000000016"));
    memset(err, 0, sizeof err);
    /* Without --create-missing an unknown group is a bad row. */
    assert_true(run(f, "iccid,imsi,group,tenant\n8944110000000000024,234150000000002,other,t\n",
                    0, err, sizeof err, &res) < 0);
    assert_non_null(strstr(err, ":2: tenant \"t\" has no group \"other\""));
    memset(err, 0, sizeof err);
    assert_true(run(f, "iccid,group,tenant\n", 1, err, sizeof err, &res) < 0);
    assert_non_null(strstr(err, ":1: required column \"imsi\" is missing"));
    assert_int_equal(count(f), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_any_order_extra_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows_reported_nothing_imported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_against_database_and_missing_groups, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
