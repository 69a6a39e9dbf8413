/*
 * test_access.c — the access decision (engine/access.c) without sockets:
 * each rule's verdict and the findings it records, through the real
 * journal into a real SQLite store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/qsbr.h"
#include "engine/engine.h"
#include "store/store.h"

struct fx {
    char dir[64];
    struct store *st;           /* for reading findings */
    struct engine e;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char db[96];
    struct store *jst;
    snprintf(f->dir, sizeof f->dir, "/tmp/m2mg-access-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(db, sizeof db, "%s/t.db", f->dir);
    assert_int_equal(store_open(db, &f->st), 0);
    assert_int_equal(store_open(db, &jst), 0);
    assert_int_equal(engine_init(&f->e), 0);
    f->e.sims = simtab_new();
    f->e.qsbr = qsbr_new();
    f->e.platform_tenant_id = 1;
    assert_int_equal(journal_new(jst, 1024, &f->e.journal), 0);
    assert_int_equal(journal_start(f->e.journal), 0);

    static const char meters[] =
        "{\"imei_lock\":{\"mode\":\"enforce\",\"allowed_tacs\":[\"35332811\"]},"
        "\"location\":{\"mode\":\"enforce\",\"allowed_mcc\":[\"234\"],\"allowed_areas\":[4660]},"
        "\"roaming\":{\"home_plmns\":[\"23415\"]},"
        "\"rat\":{\"mode\":\"enforce\",\"allowed\":[\"EUTRAN\",\"LTE-M\"]},"
        "\"attach_storm\":{\"max_requests\":3,\"window_seconds\":60},"
        "\"credential\":{\"password\":\"apnpw\"},"
        "\"session\":{\"acct_interim_interval\":900,\"class\":\"m\"},"
        "\"response\":{\"attach_storm\":[\"reject\"]}}";
    struct policy *p;
    assert_int_equal(policy_compile(meters, strlen(meters), "meters", stderr, &p), 0);
    assert_int_equal(engine_group_set(&f->e, 1, 1, "meters", p), 0);
    assert_int_equal(engine_group_set(&f->e, 2, 1, "learners", NULL), 0);  /* default: learn */

    struct sim_record r = { .id = 1, .tenant_id = 1, .group_id = 1, .ip = 0x0a000001,
                            .iccid = "8944110000000000016", .imsi = "234150000000001",
                            .imei = "35332811000001", .state = 0, .last_sv = -1 };
    assert_int_equal(simtab_upsert(f->e.sims, &r), 0);
    r.id = 2, r.iccid = "8944110000000000024", r.imsi = "234150000000002";
    r.imei = "35332811000002", r.state = 1, r.ip = 0;
    assert_int_equal(simtab_upsert(f->e.sims, &r), 0);
    r.id = 3, r.iccid = "8944110000000000032", r.imsi = "234150000000003";
    r.imei = "", r.state = 0, r.group_id = 2;
    assert_int_equal(simtab_upsert(f->e.sims, &r), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    journal_free(f->e.journal);
    qsbr_free(f->e.qsbr);
    simtab_free(f->e.sims);
    engine_fini(&f->e);
    store_close(f->st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* A request from a meter at home, in its device, on LTE-M, with the APN password. */
static int64_t clock_ms = 1700000000000;

/* Each new request is a minute after the last, so storm windows do not
 * interfere with the rule under test (the storm tests reuse one request). */
static void good_request(struct access_request *rq, const char *imsi)
{
    memset(rq, 0, sizeof *rq);
    clock_ms += 61000;
    rq->now_ms = clock_ms;
    rq->gpp.has = GPP_HAS_IMSI | GPP_HAS_IMEISV | GPP_HAS_RAT | GPP_HAS_ULI;
    snprintf(rq->gpp.imsi, sizeof rq->gpp.imsi, "%s", imsi);
    rq->gpp.imsi_len = (uint8_t)strlen(imsi);
    snprintf(rq->gpp.imeisv, sizeof rq->gpp.imeisv, "35332811%06d01", atoi(imsi + 12));
    rq->gpp.imeisv_len = 16;
    rq->gpp.rat = GPP_RAT_LTE_M;
    rq->gpp.uli.type = GPP_ULI_TAI;
    rq->gpp.uli.plmn = (struct gpp_plmn){ 234, 15, 2 };
    rq->gpp.uli.tac = 4660;
    rq->has_pap = 1;
    snprintf(rq->password, sizeof rq->password, "apnpw");
}

static const struct access_nas nas = { .name = "ggsn", .tenant_id = 1, .src_ip = 0x7f000001 };

static void decide(struct fx *f, const struct access_request *rq, struct access_decision *d)
{
    access_evaluate(&f->e, &nas, rq, d);
}

static int has(const struct access_decision *d, int kind)
{
    for (int i = 0; i < d->nfindings; i++)
        if (d->findings[i] == kind)
            return 1;
    return 0;
}

static void test_accept_carries_session_attributes(void **state)
{
    struct fx *f = *state;
    struct access_request rq;
    struct access_decision d;
    good_request(&rq, "234150000000001");
    decide(f, &rq, &d);
    assert_true(d.accept);
    assert_int_equal(d.nfindings, 0);
    assert_int_equal(d.framed_ip, 0x0a000001);
    assert_int_equal(d.interim_interval, 900);
    assert_string_equal(d.class_, "m");
}

static void test_each_rule(void **state)
{
    struct fx *f = *state;
    struct access_request rq;
    struct access_decision d;

    good_request(&rq, "234150000000009");               /* not provisioned */
    decide(f, &rq, &d);
    assert_false(d.accept);
    assert_int_equal(d.reason, FK_SIM_UNKNOWN);

    good_request(&rq, "234150000000002");               /* suspended */
    decide(f, &rq, &d);
    assert_int_equal(d.reason, FK_SIM_INACTIVE);

    good_request(&rq, "234150000000001");
    snprintf(rq.password, sizeof rq.password, "wrong");
    decide(f, &rq, &d);
    assert_int_equal(d.reason, FK_CREDENTIAL_FAILURE);

    good_request(&rq, "234150000000001");
    memcpy(rq.gpp.imeisv, "35332811000099", 14);          /* same model, other device */
    decide(f, &rq, &d);
    assert_int_equal(d.reason, FK_IMEI_MISMATCH);
    assert_false(has(&d, FK_TAC_NOT_ALLOWED));

    good_request(&rq, "234150000000001");
    memcpy(rq.gpp.imeisv, "86120304000001", 14);          /* a phone */
    decide(f, &rq, &d);
    assert_int_equal(d.reason, FK_IMEI_MISMATCH);
    assert_true(has(&d, FK_TAC_NOT_ALLOWED));

    good_request(&rq, "234150000000001");
    rq.gpp.has &= ~GPP_HAS_IMEISV;
    decide(f, &rq, &d);
    assert_int_equal(d.reason, FK_IMEI_MISSING);

    good_request(&rq, "234150000000001");
    rq.gpp.uli.plmn = (struct gpp_plmn){ 250, 1, 2 };
    decide(f, &rq, &d);
    assert_int_equal(d.reason, FK_LOCATION_NOT_ALLOWED);
    assert_true(has(&d, FK_ROAMING));

    good_request(&rq, "234150000000001");
    rq.gpp.uli.tac = 1;                                   /* right country, wrong area */
    decide(f, &rq, &d);
    assert_int_equal(d.reason, FK_LOCATION_NOT_ALLOWED);

    good_request(&rq, "234150000000001");
    rq.gpp.rat = GPP_RAT_GERAN;
    decide(f, &rq, &d);
    assert_int_equal(d.reason, FK_RAT_NOT_ALLOWED);
}

static void test_software_version_is_not_a_swap(void **state)
{
    struct fx *f = *state;
    struct access_request rq;
    struct access_decision d;
    good_request(&rq, "234150000000001");
    decide(f, &rq, &d);
    assert_true(d.accept);
    rq.gpp.imeisv[15] = '7';                              /* SV 01 → 07 */
    decide(f, &rq, &d);
    assert_true(d.accept);
    assert_true(has(&d, FK_SOFTWARE_VERSION_CHANGED));
    assert_false(has(&d, FK_IMEI_MISMATCH));
}

static void test_learn_then_enforce(void **state)
{
    struct fx *f = *state;
    struct access_request rq;
    struct access_decision d;
    good_request(&rq, "234150000000003");
    rq.has_pap = 0;
    decide(f, &rq, &d);                                   /* learns 35332811000003 */
    assert_true(d.accept);
    memcpy(rq.gpp.imeisv, "35332811000004", 14);
    decide(f, &rq, &d);
    assert_false(d.accept);
    assert_int_equal(d.reason, FK_IMEI_MISMATCH);
}

static void test_storm_and_findings_reach_the_store(void **state)
{
    struct fx *f = *state;
    struct access_request rq;
    struct access_decision d;
    good_request(&rq, "234150000000001");
    for (int i = 0; i < 3; i++) {
        decide(f, &rq, &d);
        assert_true(d.accept);
    }
    decide(f, &rq, &d);                                   /* 4th in the window */
    assert_int_equal(d.reason, FK_ATTACH_STORM);
    assert_true(has(&d, FK_ATTACH_STORM));
    decide(f, &rq, &d);                                   /* still rejected, no new finding */
    assert_int_equal(d.reason, FK_ATTACH_STORM);
    assert_int_equal(d.nfindings, 0);

    journal_flush(f->e.journal);
    struct journal_stats js;
    journal_get_stats(f->e.journal, &js);
    assert_int_equal(js.dropped, 0);
    assert_int_equal(js.written, js.queued);
}

static int count_kind(void *arg, const struct store_finding_row *r)
{
    int *c = arg;
    if (strcmp(r->kind, "attach_storm") == 0 && strstr(r->evidence, "\"max_requests\":3"))
        c[0]++;
    c[1]++;
    return 0;
}

static void test_storm_finding_stored_once(void **state)
{
    struct fx *f = *state;
    struct access_request rq;
    struct access_decision d;
    good_request(&rq, "234150000000001");
    for (int i = 0; i < 10; i++)
        decide(f, &rq, &d);
    journal_flush(f->e.journal);
    int c[2] = { 0, 0 };
    assert_int_equal(store_finding_list(f->st, 0, 0, 0, count_kind, c), 0);
    assert_int_equal(c[0], 1);
    assert_int_equal(c[1], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accept_carries_session_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_software_version_is_not_a_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_learn_then_enforce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storm_and_findings_reach_the_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storm_finding_stored_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
