/*
 * test_simtab.c — the in-memory SIM index (engine/simtab.c): lookups with
 * leading-zero IMSIs, upserts that move an IMEI binding, learning, the
 * attach-storm window, growth to many SIMs across shards, and removal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine/model.h"
#include "engine/simtab.h"

static int put(struct simtab *t, uint32_t id, const char *imsi, const char *imei, int state)
{
    char iccid[23];
    snprintf(iccid, sizeof iccid, "89000000000000%05u", id);
    struct sim_record r = { .id = id, .tenant_id = 1, .group_id = 7, .ip = 0x0a000001,
                            .iccid = iccid, .imsi = imsi, .imei = imei, .state = state,
                            .last_sv = -1 };
    return simtab_upsert(t, &r);
}

static uint32_t window10(void *ctx, uint32_t group)
{
    (void)ctx;
    return group == 7 ? 10 : 0;
}

static void test_lookup_and_leading_zeros(void **state)
{
    (void)state;
    struct simtab *t = simtab_new();
    struct sim_view v;
    assert_int_equal(put(t, 1, "001010000000001", "35000000000001", SIM_ACTIVE), 0);
    assert_int_equal(put(t, 2, "01010000000001", "", SIM_SUSPENDED), 0);
    assert_int_equal(simtab_get(t, "001010000000001", 15, &v), 0);
    assert_string_equal(v.imsi, "001010000000001");
    assert_int_equal(v.id, 1);
    assert_true(v.bound);
    assert_int_equal(v.imei, 35000000000001ULL);
    /* Same digits without the leading zero: a different IMSI. */
    assert_int_equal(simtab_get(t, "01010000000001", 14, &v), 0);
    assert_int_equal(v.id, 2);
    assert_false(v.bound);
    assert_int_equal(v.state, SIM_SUSPENDED);
    assert_int_equal(simtab_get(t, "1010000000001", 13, &v), -ENOENT);
    assert_int_equal(simtab_get(t, "12345", 5, &v), -ENOENT);     /* too short */
    assert_int_equal(put(t, 3, "12a456789", "", 0), -EINVAL);
    assert_int_equal(simtab_count(t), 2);
    simtab_free(t);
}

static void test_rebinding_moves_imei_index(void **state)
{
    (void)state;
    struct simtab *t = simtab_new();
    char owner[16];
    assert_int_equal(put(t, 1, "234150000000001", "35000000000001", 0), 0);
    assert_int_equal(simtab_imei_owner(t, 35000000000001ULL, owner), 0);
    assert_string_equal(owner, "234150000000001");
    /* Re-provisioned with another IMEI: the old one no longer points here. */
    assert_int_equal(put(t, 1, "234150000000001", "35000000000002", 0), 0);
    assert_int_equal(simtab_imei_owner(t, 35000000000001ULL, owner), -ENOENT);
    assert_int_equal(simtab_imei_owner(t, 35000000000002ULL, owner), 0);
    /* Unbound: gone from the index. */
    assert_int_equal(put(t, 1, "234150000000001", "", 0), 0);
    assert_int_equal(simtab_imei_owner(t, 35000000000002ULL, owner), -ENOENT);
    simtab_free(t);
}

static void test_learn_binds_once(void **state)
{
    (void)state;
    struct simtab *t = simtab_new();
    uint64_t cur;
    char owner[16];
    assert_int_equal(put(t, 1, "234150000000009", "", 0), 0);
    assert_int_equal(simtab_learn_imei(t, "234150000000009", 15, 86000000000001ULL, &cur), 1);
    assert_int_equal(simtab_learn_imei(t, "234150000000009", 15, 86000000000001ULL, &cur), 0);
    assert_int_equal(simtab_learn_imei(t, "234150000000009", 15, 86000000000002ULL, &cur), -EEXIST);
    assert_int_equal(cur, 86000000000001ULL);
    assert_int_equal(simtab_imei_owner(t, 86000000000001ULL, owner), 0);
    assert_int_equal(simtab_learn_imei(t, "999990000000009", 15, 1, &cur), -ENOENT);
    simtab_free(t);
}

static void test_storm_window(void **state)
{
    (void)state;
    struct simtab *t = simtab_new();
    struct sim_view v;
    assert_int_equal(put(t, 1, "234150000000001", "", 0), 0);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(simtab_attach(t, "234150000000001", 15, 1000, window10, NULL, &v), i);
    /* Same window (1000..1009), then a new one. */
    assert_int_equal(simtab_attach(t, "234150000000001", 15, 1009, window10, NULL, &v), 6);
    assert_int_equal(simtab_attach(t, "234150000000001", 15, 1010, window10, NULL, &v), 1);
    /* No window for the group: not counted. */
    assert_int_equal(simtab_attach(t, "234150000000001", 15, 1011, NULL, NULL, &v), 0);
    assert_int_equal(simtab_attach(t, "234150000000002", 15, 1011, window10, NULL, &v), -ENOENT);
    simtab_free(t);
}

static void test_software_version(void **state)
{
    (void)state;
    struct simtab *t = simtab_new();
    assert_int_equal(put(t, 1, "234150000000001", "", 0), 0);
    assert_int_equal(simtab_set_sv(t, "234150000000001", 15, 1), SIM_SV_UNKNOWN);
    assert_int_equal(simtab_set_sv(t, "234150000000001", 15, 2), 1);
    simtab_free(t);
}

static void test_many_sims(void **state)
{
    (void)state;
    struct simtab *t = simtab_new();
    char imsi[16], imei[15];
    struct sim_view v;
    for (uint32_t i = 0; i < 200000; i++) {
        snprintf(imsi, sizeof imsi, "00101%010u", i);
        snprintf(imei, sizeof imei, "350000%08u", i);
        assert_int_equal(put(t, i + 1, imsi, imei, 0), 0);
    }
    assert_int_equal(simtab_count(t), 200000);
    for (uint32_t i = 0; i < 200000; i += 997) {
        snprintf(imsi, sizeof imsi, "00101%010u", i);
        assert_int_equal(simtab_get(t, imsi, 15, &v), 0);
        assert_int_equal(v.id, i + 1);
        char owner[16];
        assert_int_equal(simtab_imei_owner(t, 35000000000000ULL + i, owner), 0);
        assert_string_equal(owner, imsi);
    }
    /* Memory stays bounded: well under 512 bytes per SIM. */
    assert_true(simtab_memory(t) / 200000 < 256);
    simtab_free(t);
}

/* Removal: gone by IMSI and from the device index, every other SIM still
 * found (the moved last entry of a shard included), and a re-import of the
 * same IMSI is a fresh entry. */
static void test_remove(void **state)
{
    (void)state;
    struct simtab *t = simtab_new();
    char imsi[16], imei[15], owner[16];
    struct sim_view v;
    enum { N = 5000 };
    for (uint32_t i = 0; i < N; i++) {
        snprintf(imsi, sizeof imsi, "23415%010u", i);
        snprintf(imei, sizeof imei, "351000%08u", i);
        assert_int_equal(put(t, i + 1, imsi, imei, SIM_ACTIVE), 0);
    }
    /* Every third SIM goes. */
    for (uint32_t i = 0; i < N; i += 3) {
        snprintf(imsi, sizeof imsi, "23415%010u", i);
        assert_int_equal(simtab_remove(t, imsi, 15, &v), 0);
        assert_int_equal(v.id, i + 1);
        assert_string_equal(v.imsi, imsi);
        assert_int_equal(simtab_remove(t, imsi, 15, &v), -ENOENT);
    }
    assert_int_equal(simtab_count(t), N - (N + 2) / 3);
    for (uint32_t i = 0; i < N; i++) {
        snprintf(imsi, sizeof imsi, "23415%010u", i);
        int gone = i % 3 == 0;
        assert_int_equal(simtab_get(t, imsi, 15, &v), gone ? -ENOENT : 0);
        assert_int_equal(simtab_imei_owner(t, 35100000000000ULL + i, owner),
                         gone ? -ENOENT : 0);
        if (!gone) {
            assert_int_equal(v.id, i + 1);
            assert_string_equal(owner, imsi);
            assert_true(v.bound);
        }
    }
    /* The same IMSI provisioned again (a new row): a new SIM, unbound. */
    assert_int_equal(put(t, 9999, "234150000000000", "", SIM_ACTIVE), 0);
    assert_int_equal(simtab_get(t, "234150000000000", 15, &v), 0);
    assert_int_equal(v.id, 9999);
    assert_false(v.bound);
    assert_int_equal(simtab_remove(t, "2341x", 5, NULL), -EINVAL);
    simtab_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_and_leading_zeros),
        cmocka_unit_test(test_rebinding_moves_imei_index),
        cmocka_unit_test(test_learn_binds_once),
        cmocka_unit_test(test_storm_window),
        cmocka_unit_test(test_software_version),
        cmocka_unit_test(test_many_sims),
        cmocka_unit_test(test_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
