/*
 * engine.c — engine state: groups and their policies.
 *
 * Group slots are written only by the main thread (revision sync) and read
 * by the workers with one atomic load; a replaced group is freed only when
 * QSBR says no worker can still be reading it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/qsbr.h"
#include "engine/accounting.h"
#include "engine/engine.h"

int engine_init(struct engine *e)
{
    memset(e, 0, sizeof *e);
    e->default_policy = policy_default();
    return e->default_policy ? 0 : -ENOMEM;
}

static void group_free(void *p)
{
    struct group_rt *g = p;
    if (!g)
        return;
    policy_free(g->policy);
    free(g);
}

void engine_fini(struct engine *e)
{
    for (int i = 0; i < ENGINE_MAX_GROUPS; i++)
        group_free(atomic_load(&e->groups[i]));
    policy_free(e->default_policy);
}

int engine_group_set(struct engine *e, int64_t id, int64_t tenant_id, const char *name,
                     struct policy *policy)
{
    if (id <= 0 || id >= ENGINE_MAX_GROUPS) {
        policy_free(policy);
        return -ERANGE;
    }
    struct group_rt *g = calloc(1, sizeof *g);
    if (!g) {
        policy_free(policy);
        return -ENOMEM;
    }
    g->id = id;
    g->tenant_id = tenant_id;
    snprintf(g->name, sizeof g->name, "%s", name);
    g->policy = policy;
    struct group_rt *old = atomic_exchange(&e->groups[id], g);
    if (old)
        qsbr_retire(e->qsbr, old, group_free);
    return 0;
}

const struct policy *engine_policy_of(struct engine *e, uint32_t group_id)
{
    struct group_rt *g = group_id < ENGINE_MAX_GROUPS ? atomic_load(&e->groups[group_id]) : NULL;
    return g && g->policy ? g->policy : e->default_policy;
}

unsigned engine_raise(struct engine *e, const struct engine_finding *f)
{
    struct journal_msg m;
    const struct policy *pol = f->pol ? f->pol : e->default_policy;
    /* No group (an unknown SIM): the defaults, which refuse it. */
    unsigned acts = policy_actions(pol, f->kind);

    memset(&m, 0, offsetof(struct journal_msg, evidence));
    m.type = JM_FINDING;
    m.kind = (uint8_t)f->kind;
    m.severity = (uint8_t)f->severity;
    m.actions = (uint8_t)acts;
    m.ts_ms = f->now_ms;
    m.sim_id = f->sim ? f->sim->id : 0;
    m.tenant_id = f->tenant_id;
    snprintf(m.subject, sizeof m.subject, "%s", f->subject);
    /* "none" in the response rules means: record only, no alert either. */
    int silenced = f->pol && (f->pol->response[f->kind] & ACT_NONE);
    m.alert = (uint8_t)(!silenced && (f->severity >= pol->min_severity || (acts & ACT_ALERT)));
    snprintf(m.evidence, sizeof m.evidence, "%s", f->evidence ? f->evidence : "{}");
    atomic_fetch_add(&e->findings[f->kind], 1);
    (void)journal_push(e->journal, &m);     /* full queue: counted there */

    if (f->sim && (acts & ACT_SUSPEND)) {
        struct journal_msg sm;
        memset(&sm, 0, offsetof(struct journal_msg, evidence));
        sm.evidence[0] = '\0';
        sm.type = JM_SUSPEND;
        sm.sim_id = f->sim->id;
        sm.tenant_id = f->sim->tenant_id;
        sm.ts_ms = f->now_ms;
        snprintf(sm.subject, sizeof sm.subject, "%s", f->sim->iccid);
        snprintf(sm.outcome, sizeof sm.outcome, "%s", finding_kind_name(f->kind));
        (void)simtab_set_state(e->sims, f->sim->imsi, strlen(f->sim->imsi), SIM_SUSPENDED);
        (void)journal_push(e->journal, &sm);
    }
    if (f->sim && (acts & (ACT_SUSPEND | ACT_DISCONNECT)) && e->acct)
        (void)accounting_disconnect_sim(e->acct, f->sim->id, finding_kind_name(f->kind), f->t0_ns);
    else if (f->sim && (acts & ACT_RESTRICT) && e->acct && pol->restrict_filter[0])
        (void)accounting_restrict_sim(e->acct, f->sim->id, finding_kind_name(f->kind),
                                      pol->restrict_filter, f->t0_ns);
    return acts;
}
