/*
 * fuzz_policy.c — libFuzzer harness for the group policy compiler
 * (engine/policy.c): policy_compile() on the input as a JSON document.
 *
 * The RADIUS workers trust a compiled policy completely (bsearch on its
 * lists, shifts by its RAT numbers, its action bits), so a policy that
 * compiles must be one they can use:
 *   - every list holds at most POLICY_MAX_LIST valid entries, sorted
 *     non-decreasing where it is searched (TACs, MCCs, areas, cells), and
 *     every entry is found by the membership functions;
 *   - modes, severity, RAT bits (1..31), storm window (>= 1), session
 *     values and credential strings are within their documented ranges;
 *   - response overrides hold only known action bits, "none" alone, and
 *     policy_actions() never hands ACT_NONE to the engine;
 *   - a rule switched on has something to check.
 * A refusal leaves *ret untouched and prints at least one line.
 * Dictionary: tests/fuzz/policy.dict.  Seeds: tests/fuzz/corpus/fuzz_policy/
 * (tests/fuzz/make_corpus.py).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ident.h"
#include "engine/model.h"
#include "engine/policy.h"
#include "fuzz.h"

static char errbuf[1 << 16];
static FILE *errf;

static void check_u32_list(const uint32_t *v, uint32_t n, uint32_t max)
{
    FUZZ_CHECK(n <= POLICY_MAX_LIST);
    FUZZ_CHECK(n == 0 || v != NULL);
    for (uint32_t i = 0; i < n; i++) {
        FUZZ_CHECK(v[i] <= max);
        if (i)
            FUZZ_CHECK(v[i - 1] <= v[i]);
        FUZZ_CHECK(policy_has_u32(v, n, v[i]));
    }
}

static void check_plmns(const struct gpp_plmn *v, uint32_t n)
{
    FUZZ_CHECK(n <= POLICY_MAX_LIST);
    FUZZ_CHECK(n == 0 || v != NULL);
    for (uint32_t i = 0; i < n; i++) {
        FUZZ_CHECK(v[i].mcc <= 999 && v[i].mnc <= 999);
        FUZZ_CHECK(v[i].mnc_digits == 2 || v[i].mnc_digits == 3);
        FUZZ_CHECK(v[i].mnc_digits == 3 || v[i].mnc <= 99);
        FUZZ_CHECK(policy_has_plmn(v, n, &v[i]));
    }
}

static void check_cred(const char *s)
{
    if (s)
        FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= POLICY_CRED_MAX);
}

static void check_policy(const struct policy *p)
{
    FUZZ_CHECK(p->imei_mode <= MODE_LEARN);
    FUZZ_CHECK(p->location_mode <= MODE_ENFORCE);
    FUZZ_CHECK(p->rat_mode <= MODE_ENFORCE);
    FUZZ_CHECK(p->roaming_mode == MODE_OFF || p->roaming_mode == MODE_ALERT);
    FUZZ_CHECK(p->min_severity < SEV__COUNT);

    check_u32_list(p->tacs, p->ntacs, 99999999);
    check_u32_list(p->areas, p->nareas, 65535);
    check_u32_list(p->cells, p->ncells, 268435455);
    FUZZ_CHECK(p->nmccs <= POLICY_MAX_LIST && (p->nmccs == 0 || p->mccs != NULL));
    for (uint32_t i = 0; i < p->nmccs; i++) {
        FUZZ_CHECK(p->mccs[i] <= 999);
        if (i)
            FUZZ_CHECK(p->mccs[i - 1] <= p->mccs[i]);
        FUZZ_CHECK(policy_has_mcc(p, p->mccs[i]));
    }
    check_plmns(p->plmns, p->nplmns);
    check_plmns(p->home, p->nhome);
    if (p->location_mode != MODE_OFF)
        FUZZ_CHECK(p->nmccs || p->nplmns || p->nareas || p->ncells);

    FUZZ_CHECK((p->rat_allowed & 1u) == 0);     /* bits 1..31 only */
    if (p->rat_mode != MODE_OFF)
        FUZZ_CHECK(p->rat_allowed != 0);

    FUZZ_CHECK(p->storm_window >= 1 && p->storm_window <= 86400);
    FUZZ_CHECK(p->storm_max <= 1000000);
    FUZZ_CHECK(p->interim_interval == 0 ||
               (p->interim_interval >= 60 && p->interim_interval <= 86400));
    FUZZ_CHECK(p->session_timeout <= 0x7fffffff);
    FUZZ_CHECK(memchr(p->class_, '\0', sizeof p->class_) != NULL);

    check_cred(p->cred_user);
    check_cred(p->cred_password);
    if (p->cred_user)
        FUZZ_CHECK(p->cred_password != NULL);

    /* The actions a response rule can name (model.h). */
    const unsigned acts = ACT_REJECT | ACT_ALERT | ACT_SUSPEND | ACT_DISCONNECT | ACT_RESTRICT;
    for (int k = 0; k < FK__COUNT; k++) {
        unsigned o = p->response[k];
        FUZZ_CHECK((o & ~(acts | ACT_NONE)) == 0);
        FUZZ_CHECK(!(o & ACT_NONE) || o == ACT_NONE);
        unsigned a = policy_actions(p, k);
        FUZZ_CHECK((a & ACT_NONE) == 0);
        FUZZ_CHECK((a & ~acts) == 0);
        if (o & ACT_NONE)
            FUZZ_CHECK(a == 0);
        else if (o)
            FUZZ_CHECK(a == o);
    }
    FUZZ_CHECK(policy_actions(p, -1) == 0 && policy_actions(p, FK__COUNT) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!errf && !(errf = fmemopen(errbuf, sizeof errbuf, "w")))
        abort();

    static struct policy untouched;     /* what *ret must still be on failure */
    struct policy *sentinel = &untouched, *p = sentinel;
    rewind(errf);
    int r = policy_compile((const char *)data, size, "fuzz", errf, &p);
    fflush(errf);
    if (r == 0) {
        FUZZ_CHECK(p != NULL && p != sentinel);
        check_policy(p);
        policy_free(p);
    } else {
        FUZZ_CHECK(r == -EINVAL && p == sentinel);
        FUZZ_CHECK(ftell(errf) > 0 && strncmp(errbuf, "fuzz", 4) == 0);
    }
    return 0;
}
