/*
 * test_policy.c — policy compilation (engine/policy.c): every section
 * parsed into the flat struct, every mistake reported with its JSON path,
 * and the response rules' defaults per mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/policy.h"

/* Compile; returns the policy or NULL, errors captured in errbuf. */
static struct policy *compile(const char *json, char *errbuf, size_t errlen)
{
    struct policy *p = NULL;
    FILE *f = fmemopen(errbuf, errlen, "w");
    assert_non_null(f);
    int r = policy_compile(json, strlen(json), "t.json", f, &p);
    fclose(f);
    if (r < 0) {
        assert_null(p);
        return NULL;
    }
    return p;
}

static void test_full_document(void **state)
{
    (void)state;
    char err[2048] = "";
    struct policy *p = compile(
        "{\"imei_lock\":{\"mode\":\"enforce\",\"allowed_tacs\":[\"35332811\",\"01234567\"]},"
        "\"location\":{\"mode\":\"alert\",\"allowed_mcc\":[\"235\",\"234\"],\"allowed_plmns\":[\"310410\"],"
        "\"allowed_areas\":[4660,17],\"allowed_cells\":[27440068]},"
        "\"roaming\":{\"mode\":\"alert\",\"home_plmns\":[\"23415\"]},"
        "\"rat\":{\"mode\":\"enforce\",\"allowed\":[\"EUTRAN\",\"nb-iot\",\"9\"]},"
        "\"attach_storm\":{\"max_requests\":5,\"window_seconds\":10},"
        "\"credential\":{\"username\":\"u\",\"password\":\"pw\"},"
        "\"session\":{\"acct_interim_interval\":900,\"session_timeout\":3600,\"class\":\"c1\"},"
        "\"alerts\":{\"min_severity\":\"critical\"},"
        "\"response\":{\"roaming\":[\"reject\",\"alert\"],\"imei_mismatch\":[\"none\"]}}",
        err, sizeof err);
    assert_non_null(p);
    assert_int_equal(p->imei_mode, MODE_ENFORCE);
    assert_int_equal(p->ntacs, 2);
    assert_int_equal(p->tacs[0], 1234567);     /* sorted; leading zero kept as number */
    assert_true(policy_has_u32(p->tacs, p->ntacs, 35332811));
    assert_int_equal(p->location_mode, MODE_ALERT);
    assert_true(policy_has_mcc(p, 234));
    assert_true(policy_has_mcc(p, 235));
    assert_false(policy_has_mcc(p, 250));
    struct gpp_plmn x = { 310, 410, 3 }, y = { 310, 410, 2 };
    assert_true(policy_has_plmn(p->plmns, p->nplmns, &x));
    assert_false(policy_has_plmn(p->plmns, p->nplmns, &y));
    assert_true(policy_has_u32(p->areas, p->nareas, 17));
    assert_true(policy_has_u32(p->cells, p->ncells, 27440068));
    assert_int_equal(p->rat_allowed, (1u << 6) | (1u << 8) | (1u << 9));
    assert_int_equal(p->storm_max, 5);
    assert_int_equal(p->storm_window, 10);
    assert_string_equal(p->cred_user, "u");
    assert_string_equal(p->cred_password, "pw");
    assert_int_equal(p->interim_interval, 900);
    assert_int_equal(p->session_timeout, 3600);
    assert_string_equal(p->class_, "c1");
    assert_int_equal(p->min_severity, SEV_CRITICAL);
    /* Overrides, and "none" cancelling the enforce-mode default. */
    assert_int_equal(policy_actions(p, FK_ROAMING), ACT_REJECT | ACT_ALERT);
    assert_int_equal(policy_actions(p, FK_IMEI_MISMATCH), 0);
    assert_int_equal(policy_actions(p, FK_TAC_NOT_ALLOWED), ACT_REJECT);
    /* location is alert-only: no reject by default. */
    assert_int_equal(policy_actions(p, FK_LOCATION_NOT_ALLOWED), 0);
    assert_int_equal(policy_actions(p, FK_RAT_NOT_ALLOWED), ACT_REJECT);
    policy_free(p);
}

static void test_defaults(void **state)
{
    (void)state;
    char err[256] = "";
    struct policy *p = compile("{}", err, sizeof err);
    assert_non_null(p);
    struct policy *d = policy_default();
    assert_int_equal(p->imei_mode, MODE_LEARN);
    assert_int_equal(p->imei_mode, d->imei_mode);
    assert_int_equal(p->location_mode, MODE_OFF);
    assert_int_equal(p->rat_mode, MODE_OFF);
    assert_int_equal(p->storm_max, 30);
    assert_int_equal(p->interim_interval, 600);
    assert_int_equal(policy_actions(p, FK_SIM_UNKNOWN), ACT_REJECT);
    assert_int_equal(policy_actions(p, FK_IMEI_MISMATCH), ACT_REJECT);
    assert_int_equal(policy_actions(p, FK_ROAMING), 0);
    assert_int_equal(policy_actions(p, FK_ATTACH_STORM), 0);
    policy_free(p);
    policy_free(d);
}

/* Every error is reported with its path, all of them, and nothing is returned. */
static void test_errors_reported_with_paths(void **state)
{
    (void)state;
    char err[4096] = "";
    struct policy *p = compile(
        "{\"imei_lock\":{\"mode\":\"sometimes\",\"allowed_tacs\":[\"123\"]},"
        "\"location\":{\"alowed_mcc\":[\"234\"]},"
        "\"rat\":{\"allowed\":[\"5G-ish\"]},"
        "\"response\":{\"no_such_kind\":[\"reject\"],\"roaming\":[\"explode\"]},"
        "\"session\":{\"acct_interim_interval\":5},"
        "\"extra\":1}", err, sizeof err);
    assert_null(p);
    assert_non_null(strstr(err, "t.json: imei_lock.mode: mode must be one of"));
    assert_non_null(strstr(err, "imei_lock.allowed_tacs[0]: \"123\" is not an 8-digit TAC"));
    assert_non_null(strstr(err, "location: unknown key \"alowed_mcc\""));
    assert_non_null(strstr(err, "rat.allowed[0]: unknown radio type"));
    assert_non_null(strstr(err, "response.no_such_kind: unknown finding kind"));
    assert_non_null(strstr(err, "response.roaming: unknown action"));
    assert_non_null(strstr(err, "acct_interim_interval below 60"));
    assert_non_null(strstr(err, "(document): unknown key \"extra\""));
}

static void test_syntax_error_has_line_and_column(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(compile("{\n  \"rat\": {\"mode\": \"enforce\",,}\n}", err, sizeof err));
    assert_non_null(strstr(err, "t.json:2:"));
    memset(err, 0, sizeof err);
    assert_null(compile("[1,2]", err, sizeof err));
    assert_non_null(strstr(err, "must be a JSON object"));
    memset(err, 0, sizeof err);
    /* Duplicate keys would hide one of the two values. */
    assert_null(compile("{\"rat\":{},\"rat\":{}}", err, sizeof err));
}

static void test_inconsistent_rules(void **state)
{
    (void)state;
    char err[1024] = "";
    /* An enforcing rule with nothing allowed would refuse everyone. */
    assert_null(compile("{\"rat\":{\"mode\":\"enforce\"}}", err, sizeof err));
    assert_non_null(strstr(err, "lists no radio type"));
    assert_null(compile("{\"location\":{\"mode\":\"enforce\"}}", err, sizeof err));
    assert_null(compile("{\"roaming\":{\"mode\":\"enforce\"}}", err, sizeof err));
    assert_null(compile("{\"credential\":{\"username\":\"x\"}}", err, sizeof err));
    assert_null(compile("{\"response\":{\"roaming\":[\"none\",\"reject\"]}}", err, sizeof err));
    assert_null(compile("{\"location\":{\"mode\":\"enforce\",\"allowed_plmns\":[\"2341\"]}}", err, sizeof err));
    assert_null(compile("{\"location\":{\"mode\":\"enforce\",\"allowed_cells\":[-1]}}", err, sizeof err));
}

/* usage.burst: defaults, bounds, and a response rule for its finding. */
static void test_usage_burst(void **state)
{
    (void)state;
    char err[1024] = "";
    struct policy *p = compile("{\"usage\":{\"burst\":{\"factor\":7.5}},"
                               "\"response\":{\"usage_burst\":[\"restrict\"]},"
                               "\"restrict\":{\"filter_id\":\"slow\"}}", err, sizeof err);
    assert_non_null(p);
    assert_true(p->burst_factor > 7.49 && p->burst_factor < 7.51);
    assert_int_equal(p->burst_min_bytes, 1000000);
    assert_int_equal(p->burst_baseline_hours, 24);
    assert_int_equal(p->burst_min_history, 24);
    policy_free(p);
    p = compile("{\"usage\":{\"burst\":{\"factor\":3,\"baseline_hours\":6}}}", err, sizeof err);
    assert_non_null(p);
    assert_int_equal(p->burst_min_history, 6);
    policy_free(p);

    memset(err, 0, sizeof err);
    assert_null(compile("{\"usage\":{\"burst\":{\"factor\":1,\"min_bytes\":-5,"
                        "\"baseline_hours\":1,\"colour\":1}}}", err, sizeof err));
    assert_non_null(strstr(err, "usage.burst: factor must be a number from 1.5 to 1000"));
    assert_non_null(strstr(err, "usage.burst: min_bytes must be an integer"));
    assert_non_null(strstr(err, "usage.burst: baseline_hours must be an integer 2..720"));
    assert_non_null(strstr(err, "usage.burst: unknown key \"colour\""));
    memset(err, 0, sizeof err);
    assert_null(compile("{\"usage\":{\"burst\":{}}}", err, sizeof err));
    assert_non_null(strstr(err, "factor must be"));
    assert_null(compile("{\"usage\":{\"burst\":[]}}", err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_document),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors_reported_with_paths),
        cmocka_unit_test(test_syntax_error_has_line_and_column),
        cmocka_unit_test(test_inconsistent_rules),
        cmocka_unit_test(test_usage_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
