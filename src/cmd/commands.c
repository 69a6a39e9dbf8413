/*
 * commands.c — tenants, groups, policies, SIM state and alert state changes
 * (see cmd.h).  Each command is one transaction: the change, its
 * revision stamp and its admin_log record commit together or not at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/ident.h"
#include "core/jsonw.h"
#include "ctl/ctl.h"
#include "engine/model.h"
#include "engine/policy.h"
#include "store/store.h"

void cmd_notify(struct cmd_ctx *c)
{
    char reply[128];
    if (!c->control)
        return;
    /* Not running is fine: the daemon loads everything when it starts. */
    (void)ctl_request(c->control, "sync", reply, sizeof reply, 5000);
}

void cmd_fresh(struct cmd_ctx *c)
{
    char reply[128];
    if (c->control)
        (void)ctl_request(c->control, "flush", reply, sizeof reply, 5000);
}

static int fail(struct cmd_ctx *c, int r, const char *what)
{
    fprintf(c->err, "m2mguard: %s: %s\n", what,
            r == -ENOENT ? "not found" : store_errmsg(c->st)[0] ? store_errmsg(c->st) : strerror(-r));
    return r;
}

struct one_group {
    const char *name;
    int n;
    int64_t tenant_id, group_id;
    char tenants[256];
};

static int find_cb(void *arg, const struct store_group *g, const char *body)
{
    struct one_group *o = arg;
    (void)body;
    if (strcmp(g->name, o->name) != 0)
        return 0;
    o->n++;
    o->tenant_id = g->tenant_id;
    o->group_id = g->id;
    /* The list only names the candidates in an error message: a tenant
     * that does not fit is left out rather than cut. */
    size_t used = strlen(o->tenants);
    if (used + strlen(g->tenant) + 3 < sizeof o->tenants)
        snprintf(o->tenants + used, sizeof o->tenants - used, "%s%s", used ? ", " : "",
                 g->tenant);
    return 0;
}

int cmd_find_group(struct cmd_ctx *c, const char *tenant, const char *group,
                   int64_t *ret_tenant_id, int64_t *ret_group_id)
{
    int r;
    if (tenant) {
        if ((r = store_tenant_find(c->st, tenant, ret_tenant_id)) < 0) {
            fprintf(c->err, "m2mguard: no tenant \"%s\"\n", tenant);
            return r;
        }
        if ((r = store_group_find(c->st, *ret_tenant_id, group, ret_group_id)) < 0) {
            fprintf(c->err, "m2mguard: tenant \"%s\" has no group \"%s\"\n", tenant, group);
            return r;
        }
        return 0;
    }
    struct one_group o = { .name = group };
    if ((r = store_group_list(c->st, 0, find_cb, &o)) < 0)
        return fail(c, r, "listing groups");
    if (o.n == 0) {
        fprintf(c->err, "m2mguard: no group \"%s\"\n", group);
        return -ENOENT;
    }
    if (o.n > 1) {
        fprintf(c->err, "m2mguard: group \"%s\" exists in several tenants (%s): give --tenant\n",
                group, o.tenants);
        return -EINVAL;
    }
    *ret_tenant_id = o.tenant_id;
    *ret_group_id = o.group_id;
    return 0;
}

static int check_name(struct cmd_ctx *c, const char *what, const char *name)
{
    if (ident_check_name(name) < 0) {
        fprintf(c->err, "m2mguard: %s name \"%s\": %s\n", what, name,
                ident_error_str(IDENT_E_NAME));
        return -EINVAL;
    }
    return 0;
}

int cmd_tenant_create(struct cmd_ctx *c, const char *name)
{
    int64_t id;
    int r;
    if ((r = check_name(c, "tenant", name)) < 0)
        return r;
    if ((r = store_begin(c->st)) < 0)
        return fail(c, r, "database");
    r = store_tenant_create(c->st, name, &id);
    if (r == -EEXIST) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: tenant \"%s\" already exists\n", name);
        return r;
    }
    if (r == 0)
        r = store_admin_log_role(c->st, id, c->actor, cmd_role(c), "tenant.create", name,
                                 NULL);
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        return fail(c, r, "creating tenant");
    }
    fprintf(c->out, "tenant %s created\n", name);
    return 0;
}

int cmd_group_create(struct cmd_ctx *c, const char *tenant, const char *name)
{
    int64_t tid, gid;
    int r;
    if ((r = check_name(c, "group", name)) < 0)
        return r;
    if ((r = store_begin(c->st)) < 0)
        return fail(c, r, "database");
    if ((r = store_tenant_find(c->st, tenant, &tid)) < 0) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: no tenant \"%s\" (create it with: m2mguard tenant create %s)\n",
                tenant, tenant);
        return r;
    }
    r = store_group_create(c->st, tid, name, &gid);
    if (r == -EEXIST) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: tenant \"%s\" already has a group \"%s\"\n", tenant, name);
        return r;
    }
    if (r == 0)
        r = store_admin_log_role(c->st, tid, c->actor, cmd_role(c), "group.create", name,
                                 NULL);
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        return fail(c, r, "creating group");
    }
    fprintf(c->out, "group %s/%s created (default policy until you set one)\n", tenant, name);
    cmd_notify(c);
    return 0;
}

int cmd_policy_set(struct cmd_ctx *c, const char *tenant, const char *group,
                   const char *body, size_t len, const char *source)
{
    struct policy *p = NULL;
    int64_t tid, gid, version;
    int r;
    if (memchr(body, '\0', len)) {
        fprintf(c->err, "%s: NUL byte in policy document\n", source);
        return -EINVAL;
    }
    if ((r = policy_compile(body, len, source, c->err, &p)) < 0) {
        fprintf(c->err, "m2mguard: policy not changed\n");
        return r;
    }
    policy_free(p);
    if ((r = store_begin(c->st)) < 0)
        return fail(c, r, "database");
    if ((r = cmd_find_group(c, tenant, group, &tid, &gid)) < 0) {
        store_rollback(c->st);
        return r;
    }
    char *copy = strndup(body, len);
    if (!copy) {
        store_rollback(c->st);
        return -ENOMEM;
    }
    r = store_policy_set(c->st, gid, copy, c->actor, &version);
    if (r == 0) {
        /* A new version always follows the current one (0: the default). */
        char detail[96];
        snprintf(detail, sizeof detail,
                 "{\"before\":{\"version\":%lld},\"after\":{\"version\":%lld}}",
                 (long long)version - 1, (long long)version);
        r = store_admin_log_role(c->st, tid, c->actor, cmd_role(c), "policy.set", group,
                                 detail);
    }
    free(copy);
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        return fail(c, r, "storing policy");
    }
    fprintf(c->out, "policy of group %s is now version %lld\n", group, (long long)version);
    cmd_notify(c);
    return 0;
}

int cmd_sim_set_state(struct cmd_ctx *c, const char *key, int state, const char *reason)
{
    struct store_sim sim;
    int r;
    if ((r = store_begin(c->st)) < 0)
        return fail(c, r, "database");
    if ((r = store_sim_find(c->st, key, &sim)) == 0 && c->tenant_scope &&
        sim.tenant_id != c->tenant_scope)
        r = -ENOENT;    /* another tenant's SIM: as if it did not exist */
    if (r < 0) {
        store_rollback(c->st);
        if (r == -ENOENT)
            fprintf(c->err, "m2mguard: no SIM with ICCID or IMSI \"%s\"\n", key);
        else
            fail(c, r, "finding SIM");
        return r;
    }
    if (sim.state == state) {
        store_rollback(c->st);
        fprintf(c->out, "SIM %s is already %s\n", sim.iccid, sim_state_name(state));
        return 0;
    }
    char detail[512];
    struct jsonw w;
    jsonw_init(&w, detail, sizeof detail);
    jsonw_open(&w);
    jsonw_str(&w, "before", sim_state_name(sim.state));
    jsonw_str(&w, "after", sim_state_name(state));
    if (reason)
        jsonw_str(&w, "reason", reason);
    jsonw_close(&w);
    jsonw_finish(&w);
    r = store_sim_set_state(c->st, sim.id, state);
    if (r == 0)
        r = store_admin_log_role(c->st, sim.tenant_id, c->actor, cmd_role(c),
                                 state == SIM_ACTIVE ? "sim.resume" : "sim.suspend", sim.iccid,
                                 detail);
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        return fail(c, r, "changing SIM state");
    }
    fprintf(c->out, "SIM %s (IMSI %s) is now %s\n", sim.iccid, sim.imsi, sim_state_name(state));
    cmd_notify(c);
    return 0;
}

int cmd_sim_patch(struct cmd_ctx *c, const char *key, const struct sim_patch *p)
{
    struct store_sim sim;
    int r;
    /* Validate the new values before touching anything. */
    char imei[IMEI_CORE_LEN + 1] = "";
    uint32_t ip = 0;
    int e;
    if (p->set_imei && p->imei && p->imei[0] &&
        (e = ident_imei_core(p->imei, strlen(p->imei), imei)) < 0) {
        fprintf(c->err, "m2mguard: imei \"%.40s\": %s\n", p->imei, ident_error_str(e));
        return -EINVAL;
    }
    if (p->set_msisdn && p->msisdn && p->msisdn[0] &&
        (e = ident_check_msisdn(p->msisdn, strlen(p->msisdn))) < 0) {
        fprintf(c->err, "m2mguard: msisdn \"%.40s\": %s\n", p->msisdn, ident_error_str(e));
        return -EINVAL;
    }
    if (p->set_ip && p->ip && p->ip[0] && (e = ident_parse_ipv4(p->ip, strlen(p->ip), &ip)) < 0) {
        fprintf(c->err, "m2mguard: ip \"%.40s\": %s\n", p->ip, ident_error_str(e));
        return -EINVAL;
    }
    if (p->set_group && (!p->group || check_name(c, "group", p->group) < 0))
        return -EINVAL;
    if ((r = store_begin(c->st)) < 0)
        return fail(c, r, "database");
    if ((r = store_sim_find(c->st, key, &sim)) == 0 && c->tenant_scope &&
        sim.tenant_id != c->tenant_scope)
        r = -ENOENT;
    if (r < 0) {
        store_rollback(c->st);
        if (r == -ENOENT)
            fprintf(c->err, "m2mguard: no SIM with ICCID or IMSI \"%s\"\n", key);
        return r == -ENOENT ? r : fail(c, r, "finding SIM");
    }
    int64_t gid = sim.group_id;
    if (p->set_group && (r = store_group_find(c->st, sim.tenant_id, p->group, &gid)) < 0) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: tenant %s has no group \"%s\"\n", sim.tenant, p->group);
        return -EINVAL;
    }
    const char *msisdn = p->set_msisdn ? (p->msisdn ? p->msisdn : "") : sim.msisdn;
    const char *new_imei = p->set_imei ? imei : sim.imei;
    uint32_t new_ip = p->set_ip ? ip : sim.ip;
    char detail[512];
    struct jsonw w;
    jsonw_init(&w, detail, sizeof detail);
    jsonw_open(&w);
    jsonw_open_member(&w, "before");
    jsonw_str(&w, "group", sim.group);
    jsonw_str(&w, "msisdn", sim.msisdn);
    jsonw_int(&w, "ip", sim.ip);
    jsonw_str(&w, "imei", sim.imei);
    jsonw_close(&w);
    jsonw_open_member(&w, "after");
    jsonw_str(&w, "group", p->set_group ? p->group : sim.group);
    jsonw_str(&w, "msisdn", msisdn);
    jsonw_int(&w, "ip", new_ip);
    jsonw_str(&w, "imei", new_imei);
    jsonw_close(&w);
    jsonw_close(&w);
    jsonw_finish(&w);
    r = store_sim_update(c->st, sim.id, gid, msisdn, new_ip, new_imei);
    if (r == -EEXIST) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: %s is already another SIM's\n", p->set_ip ? "that IP" : "a value");
        return -EEXIST;
    }
    if (r == 0)
        r = store_admin_log_role(c->st, sim.tenant_id, c->actor, cmd_role(c), "sim.update",
                                 sim.iccid, detail);
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        return fail(c, r, "changing SIM");
    }
    fprintf(c->out, "SIM %s updated\n", sim.iccid);
    cmd_notify(c);
    return 0;
}

int cmd_sim_delete(struct cmd_ctx *c, const char *key, const char *reason,
                   struct store_sim *ret_before)
{
    struct store_sim sim;
    int r;
    if (reason && strlen(reason) > CMD_REASON_MAX) {
        fprintf(c->err, "m2mguard: the reason is longer than %d characters\n", CMD_REASON_MAX);
        return -EINVAL;
    }
    if ((r = store_begin(c->st)) < 0)
        return fail(c, r, "database");
    if ((r = store_sim_find(c->st, key, &sim)) == 0 && c->tenant_scope &&
        sim.tenant_id != c->tenant_scope)
        r = -ENOENT;    /* another tenant's SIM: as if it did not exist */
    if (r < 0) {
        store_rollback(c->st);
        if (r == -ENOENT)
            fprintf(c->err, "m2mguard: no SIM with ICCID or IMSI \"%s\"\n", key);
        return r == -ENOENT ? r : fail(c, r, "finding SIM");
    }
    /* The whole record as it was: the audit trail is all that is left of it,
     * and before.imsi is how a running daemon knows which SIM to forget. */
    char detail[2048], ip[16] = "";
    if (sim.ip)
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", sim.ip >> 24, (sim.ip >> 16) & 255,
                 (sim.ip >> 8) & 255, sim.ip & 255);
    struct jsonw w;
    jsonw_init(&w, detail, sizeof detail);
    jsonw_open(&w);
    jsonw_open_member(&w, "before");
    jsonw_str(&w, "iccid", sim.iccid);
    jsonw_str(&w, "imsi", sim.imsi);
    jsonw_str(&w, "msisdn", sim.msisdn);
    jsonw_str(&w, "imei", sim.imei);
    jsonw_str(&w, "imei_source", sim.imei[0] ? sim.imei_source : "");
    jsonw_str(&w, "ip", ip);
    jsonw_str(&w, "state", sim_state_name(sim.state));
    jsonw_str(&w, "tenant", sim.tenant);
    jsonw_str(&w, "group", sim.group);
    jsonw_close(&w);
    if (reason)
        jsonw_str(&w, "reason", reason);
    jsonw_close(&w);
    jsonw_finish(&w);
    if (w.truncated) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: the record of SIM %s does not fit the audit detail\n",
                sim.iccid);
        return -EMSGSIZE;
    }
    r = store_sim_delete(c->st, sim.id);
    if (r == 0)
        r = store_admin_log_role(c->st, sim.tenant_id, c->actor, cmd_role(c), "sim.delete",
                                 sim.iccid, detail);
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        return fail(c, r, "deleting SIM");
    }
    fprintf(c->out, "SIM %s (IMSI %s) deleted\n", sim.iccid, sim.imsi);
    if (ret_before)
        *ret_before = sim;
    cmd_notify(c);
    return 0;
}

int cmd_alert_set_state(struct cmd_ctx *c, int64_t id, const char *state)
{
    int r;
    if ((r = store_begin(c->st)) < 0)
        return fail(c, r, "database");
    int64_t tenant_id = 0;
    r = store_alert_set_state(c->st, id, state, c->actor, &tenant_id);
    if ((r == 0 || r == -EALREADY) && c->tenant_scope && tenant_id != c->tenant_scope)
        r = -ENOENT;    /* another tenant's alert: as if it did not exist (rolled back) */
    if (r == -ENOENT || r == -EALREADY) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: alert %lld %s\n", (long long)id,
                r == -ENOENT ? "does not exist" : "is already resolved");
        return r;
    }
    char target[32];
    snprintf(target, sizeof target, "alert:%lld", (long long)id);
    if (r == 0)
        r = store_admin_log_role(c->st, tenant_id, c->actor, cmd_role(c),
                                 strcmp(state, "resolved") == 0 ? "alert.resolve" : "alert.ack",
                                 target, NULL);
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        return fail(c, r, "changing alert");
    }
    fprintf(c->out, "alert %lld %s\n", (long long)id, state);
    return 0;
}
