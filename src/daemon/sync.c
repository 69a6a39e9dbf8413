/*
 * sync.c — see sync.h.  Runs on the main thread only; the workers see each
 * update at once (simtab shard locks, atomic group pointers).
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "daemon/sync.h"
#include "engine/engine.h"
#include "store/store.h"

struct ctx {
    struct engine *e;
    struct sync_result *res;
    int64_t log_id;             /* the last admin_log record looked at */
};

static int on_group(void *arg, const struct store_group *g, const char *body)
{
    struct ctx *c = arg;
    struct policy *p = NULL;
    if (body && policy_compile(body, strlen(body), g->name, NULL, &p) < 0) {
        /* Policies are validated before they are stored; this means the
         * store was edited by hand.  Keep the group on the default. */
        log_err("group %s/%s: stored policy version %lld does not compile; using the default",
                g->tenant, g->name, (long long)g->policy_version);
        c->res->errors++;
        p = NULL;
    }
    int r = engine_group_set(c->e, g->id, g->tenant_id, g->name, p);
    if (r < 0) {
        log_err("group %s/%s: %s", g->tenant, g->name, strerror(-r));
        c->res->errors++;
        return 0;
    }
    c->res->groups++;
    return 0;
}

static int on_sim(void *arg, const struct store_sim *s)
{
    struct ctx *c = arg;
    /* A SIM leaving the active state (suspend, deactivate) loses its live
     * sessions: Disconnect-Request to each (Access plane II). */
    struct sim_view before;
    int was_active = simtab_get(c->e->sims, s->imsi, strlen(s->imsi), &before) == 0 &&
                     before.state == SIM_ACTIVE;
    if (was_active && s->state != SIM_ACTIVE && c->e->acct)
        (void)accounting_disconnect_sim(c->e->acct, (uint32_t)s->id,
                                        s->state == SIM_SUSPENDED ? "suspended" : "deactivated", 0);
    struct sim_record r = {
        .id = (uint32_t)s->id, .tenant_id = (uint32_t)s->tenant_id,
        .group_id = (uint32_t)s->group_id, .ip = s->ip, .iccid = s->iccid,
        .imsi = s->imsi, .imei = s->imei, .state = s->state, .last_sv = s->last_sv,
    };
    int e = simtab_upsert(c->e->sims, &r);
    if (e < 0) {
        if (c->res->errors++ < 10)
            log_err("SIM %s: cannot load: %s", s->iccid, strerror(-e));
        return e == -ENOMEM ? e : 0;
    }
    /* A big fleet takes seconds to load at start: show progress. */
    if (++c->res->sims % 1000000 == 0)
        log_info("loading: %llu SIMs", (unsigned long long)c->res->sims);
    return 0;
}

/*
 * A SIM deleted from the store: its live sessions are cut like a suspended
 * SIM's (the Disconnect outcomes name it by the ICCID the index no longer
 * holds), then it leaves the index, so its next Access-Request is an
 * unknown SIM's.  Deletions are applied before the changed rows: a SIM
 * deleted and imported again with the same IMSI between two syncs is
 * removed, then loaded as the new row.
 */
static int on_deleted(void *arg, int64_t log_id, const char *iccid, const char *imsi)
{
    struct ctx *c = arg;
    struct sim_view gone;
    c->log_id = log_id;
    if (!imsi[0] || simtab_remove(c->e->sims, imsi, strlen(imsi), &gone) < 0)
        return 0;   /* never loaded, or already gone */
    if (c->e->acct)
        (void)accounting_forget_sim(c->e->acct, gone.id, iccid);
    c->res->deleted++;
    log_info("SIM %s (IMSI %s) deleted: no longer admitted", iccid, imsi);
    return 0;
}

int sync_apply(struct store *st, struct engine *e, struct sync_pos *pos, struct sync_result *res)
{
    struct ctx c = { .e = e, .res = res, .log_id = pos->admin_log_id };
    memset(res, 0, sizeof *res);
    int64_t now = store_rev_current(st);
    if (now < 0)
        return (int)now;
    if (pos->loaded && now == pos->rev)
        return 0;
    /* One read transaction: `now` and the rows come from the same snapshot. */
    int r = store_begin_read(st);
    if (r < 0)
        return r;
    now = store_rev_current(st);
    if (now < 0) {
        store_rollback(st);
        return (int)now;
    }
    if (!pos->loaded)
        r = store_admin_log_last(st, &c.log_id);  /* the load has no deleted SIM */
    else
        r = store_sims_deleted(st, pos->admin_log_id, on_deleted, &c);
    if (r == 0)
        r = store_groups_changed(st, pos->rev, on_group, &c);
    if (r == 0)
        r = store_sims_changed(st, pos->rev, on_sim, &c);
    store_rollback(st);     /* read-only: nothing to commit */
    if (r < 0)
        return r;
    pos->rev = now;
    pos->admin_log_id = c.log_id;
    pos->loaded = 1;
    return 0;
}
