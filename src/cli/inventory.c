/*
 * inventory.c — `tenant`, `group` and `sim` subcommands.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "engine/model.h"
#include "store/store.h"

static void fmt_ip(uint32_t ip, char out[16])
{
    if (!ip) {
        snprintf(out, 16, "-");
        return;
    }
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static const char tenant_usage[] =
    "usage: m2mguard tenant create NAME\n"
    "       m2mguard tenant list\n\n"
    "Tenants own groups, SIMs, policies and alerts.  Names: letters, digits,\n"
    "'-', '_' and '.', up to 63 characters.\n";

static int tenant_row(void *arg, const struct store_group *gr, const char *body)
{
    (void)arg;
    (void)body;
    printf("  %-20s %-20s policy v%-4lld %lld SIMs\n", gr->tenant, gr->name,
           (long long)gr->policy_version, (long long)gr->sims);
    return 0;
}

static int tenant_line(void *arg, int64_t id, const char *name, int64_t sims)
{
    (void)arg;
    (void)id;
    printf("  %-20s %lld\n", name, (long long)sims);
    return 0;
}

int cli_tenant(struct cli *g, int argc, char **argv)
{
    struct cmd_ctx c;
    int r;
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(tenant_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "create") == 0 && argc == 3) {
        if (cli_open(g, &c) < 0)
            return 1;
        r = cmd_tenant_create(&c, argv[2]);
        cli_close(&c);
        return r < 0;
    }
    if (strcmp(argv[1], "list") == 0 && argc == 2) {
        if (cli_open(g, &c) < 0)
            return 1;
        printf("  %-20s %s\n", "TENANT", "SIMS");
        r = store_tenant_list(c.st, tenant_line, NULL);
        cli_close(&c);
        return r < 0;
    }
    fputs(tenant_usage, stderr);
    return 2;
}

static const char group_usage[] =
    "usage: m2mguard group create NAME --tenant TENANT\n"
    "       m2mguard group list [--tenant TENANT]\n\n"
    "A group carries one policy (see `m2mguard policy --help`); until one is set\n"
    "its SIMs get the default policy described in docs/policy.md.\n";

int cli_group(struct cli *g, int argc, char **argv)
{
    const char *tenant = NULL;
    struct cmd_ctx c;
    int r;
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(group_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *verb = argv[1];
    if (cli_one_option(argc, argv, 2, "tenant", &tenant, group_usage) < 0)
        return 2;
    if (strcmp(verb, "create") == 0 && optind == argc - 1) {
        if (!tenant) {
            fprintf(stderr, "m2mguard: group create needs --tenant\n");
            return 2;
        }
        if (cli_open(g, &c) < 0)
            return 1;
        r = cmd_group_create(&c, tenant, argv[optind]);
        cli_close(&c);
        return r < 0;
    }
    if (strcmp(verb, "list") == 0 && optind == argc) {
        int64_t tid = 0;
        if (cli_open_tenant(g, &c, tenant, &tid) < 0)
            return 1;
        printf("  %-20s %-20s %-11s %s\n", "TENANT", "GROUP", "POLICY", "SIMS");
        r = store_group_list(c.st, tid, tenant_row, NULL);
        cli_close(&c);
        return r < 0;
    }
    fputs(group_usage, stderr);
    return 2;
}

static const char sim_usage[] =
    "usage: m2mguard sim import FILE.csv [--create-missing] [--quiet]\n"
    "       m2mguard sim list [--tenant T] [--group G] [--state S] [--search TEXT]\n"
    "                         [--after ID] [--limit N]\n"
    "       m2mguard sim show ICCID|IMSI\n"
    "       m2mguard sim suspend ICCID|IMSI [--reason TEXT]\n"
    "       m2mguard sim resume ICCID|IMSI [--reason TEXT]\n"
    "       m2mguard sim delete ICCID|IMSI [--tenant T] [--reason TEXT]\n\n"
    "import   load a carrier's SIM export (columns: iccid, imsi, msisdn, imei, ip,\n"
    "         group, tenant, state; see docs/csv-format.md).  All rows or none:\n"
    "         every bad row is reported as FILE:LINE: reason.  --create-missing\n"
    "         creates tenants and groups the file names; FILE may be - (stdin).\n"
    "show     the SIM's record, IMEI binding, usage today and this month (UTC),\n"
    "         and its latest sessions.\n"
    "list     SIMs, oldest first, 100 per page by default (--limit 0: all);\n"
    "         --after ID continues after the last ID shown.\n"
    "suspend  every later Access-Request of the SIM is rejected (sim_inactive);\n"
    "resume   the SIM may attach again.  Both are logged with who and why.\n"
    "delete   remove the SIM from the inventory (--tenant: only if it is that\n"
    "         tenant's).  The running daemon forgets it within a second: its\n"
    "         Access-Requests are refused as an unknown SIM and its live sessions\n"
    "         are cut with a Disconnect-Request.  Its daily usage goes with it; its\n"
    "         sessions, findings, actions, alerts and audit records stay.  The audit\n"
    "         trail keeps the whole record (before), who and why (--reason, at most\n"
    "         200 characters).\n";

static int sim_row(void *arg, const struct store_sim *s)
{
    int64_t *last = arg;
    char ip[16];
    fmt_ip(s->ip, ip);
    printf("%-8lld %-22s %-15s %-15s %-14s %-15s %-11s %s/%s\n", (long long)s->id, s->iccid,
           s->imsi, s->msisdn[0] ? s->msisdn : "-", s->imei[0] ? s->imei : "-", ip,
           sim_state_name(s->state), s->tenant, s->group);
    *last = s->id;
    return 0;
}

static int count_one(void *arg, const struct store_sim *s)
{
    (void)s;
    ++*(int *)arg;
    return 1;
}

/* Is there a row after `last` under the same filter? */
static int rows_seen(struct cmd_ctx *c, const struct store_sim_filter *f, int64_t last)
{
    struct store_sim_filter more = *f;
    int n = 0;
    more.after_id = last;
    more.limit = 1;
    (void)store_sim_list(c->st, &more, count_one, &n);
    return n > 0;
}

static int sim_list(struct cli *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "tenant", required_argument, NULL, 't' }, { "group", required_argument, NULL, 'g' },
        { "state", required_argument, NULL, 's' }, { "search", required_argument, NULL, 'q' },
        { "after", required_argument, NULL, 'a' }, { "limit", required_argument, NULL, 'n' },
        { 0 } };
    const char *tenant = NULL, *group = NULL;
    struct store_sim_filter f = { .state = -1, .limit = 100 };
    struct cmd_ctx c;
    int ch;
    long long v;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "t:g:s:q:a:n:", opts, NULL)) != -1) {
        switch (ch) {
        case 't': tenant = optarg; break;
        case 'g': group = optarg; break;
        case 's':
            if ((f.state = sim_state_from_name(optarg)) < 0) {
                fprintf(stderr, "m2mguard: --state must be active, suspended or deactivated\n");
                return 2;
            }
            break;
        case 'q': f.text = optarg; break;
        case 'a':
            if (cli_parse_number("after", optarg, 0, LLONG_MAX, &v) < 0)
                return 2;
            f.after_id = v;
            break;
        case 'n':
            if (cli_parse_number("limit", optarg, 0, INT_MAX, &v) < 0)
                return 2;
            f.limit = (int)v;
            break;
        default: fputs(sim_usage, stderr); return 2;
        }
    }
    if (optind != argc) {
        fputs(sim_usage, stderr);
        return 2;
    }
    if (cli_open(g, &c) < 0)
        return 1;
    int r = 0;
    if (group) {
        if (cmd_find_group(&c, tenant, group, &f.tenant_id, &f.group_id) < 0)
            r = -ENOENT;
    } else if (tenant && store_tenant_find(c.st, tenant, &f.tenant_id) < 0) {
        fprintf(stderr, "m2mguard: no tenant \"%s\"\n", tenant);
        r = -ENOENT;
    }
    if (r == 0) {
        int64_t last = 0;
        printf("%-8s %-22s %-15s %-15s %-14s %-15s %-11s %s\n", "ID", "ICCID", "IMSI", "MSISDN",
               "IMEI", "IP", "STATE", "TENANT/GROUP");
        r = store_sim_list(c.st, &f, sim_row, &last);
        /* A full page: say how to continue. */
        if (r == 0 && f.limit > 0 && last && rows_seen(&c, &f, last))
            fprintf(stderr, "(more: continue with --after %lld)\n", (long long)last);
        if (r < 0)
            fprintf(stderr, "m2mguard: %s\n", store_errmsg(c.st));
    }
    cli_close(&c);
    return r < 0;
}

static void fmt_bytes(uint64_t b, char out[24])
{
    static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
    double v = (double)b;
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    snprintf(out, 24, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static int session_row(void *arg, const struct store_session *ss)
{
    char started[24], in[24], out[24];
    (void)arg;
    cli_format_utc(ss->started_ms / 1000, "%Y-%m-%d %H:%M:%S", started, sizeof started);
    fmt_bytes(ss->in_octets, in);
    fmt_bytes(ss->out_octets, out);
    printf("  %-19s  %-6s %-14s %-24.24s up %-9s down %-9s %s\n", started,
           ss->open ? "open" : "closed", ss->open ? "" : ss->close_reason, ss->acct_session_id,
           in, out, ss->nas);
    return 0;
}

static int sim_show(struct cli *g, const char *key)
{
    struct cmd_ctx c;
    struct store_sim s;
    if (cli_open(g, &c) < 0)
        return 1;
    int r = store_sim_find(c.st, key, &s);
    if (r < 0) {
        fprintf(stderr, "m2mguard: no SIM with ICCID or IMSI \"%s\"\n", key);
        cli_close(&c);
        return 1;
    }
    char ip[16], when[32], sv[12] = "-";
    if (s.last_sv >= 0)
        snprintf(sv, sizeof sv, "%02d", s.last_sv);
    cli_format_utc(s.updated_at, "%Y-%m-%dT%H:%M:%SZ", when, sizeof when);
    fmt_ip(s.ip, ip);
    printf("ICCID        %s\nIMSI         %s\nMSISDN       %s\nstate        %s\n"
           "tenant       %s\ngroup        %s\nbound IMEI   %s%s%s%s\n"
           "software ver %s\nstatic IP    %s\nupdated      %s (revision %lld)\n",
           s.iccid, s.imsi, s.msisdn[0] ? s.msisdn : "-", sim_state_name(s.state), s.tenant,
           s.group, s.imei[0] ? s.imei : "(none)", s.imei[0] ? " (" : "",
           s.imei[0] ? s.imei_source : "", s.imei[0] ? ")" : "", sv, ip, when, (long long)s.rev);

    /* Usage (UTC day and month) and the latest sessions, from accounting. */
    cmd_fresh(&c);
    uint64_t u[4] = { 0, 0, 0, 0 };
    char day[11], month[8], b[4][24];
    time_t now = time(NULL);
    cli_format_utc(now, "%Y-%m-%d", day, sizeof day);
    cli_format_utc(now, "%Y-%m", month, sizeof month);
    if (store_usage_get(c.st, s.id, day, month, u) == 0) {
        for (int i = 0; i < 4; i++)
            fmt_bytes(u[i], b[i]);
        printf("usage today  up %s, down %s\nusage month  up %s, down %s\n", b[0], b[1], b[2], b[3]);
    }
    printf("sessions (latest first):\n");
    if (store_sessions_of_sim(c.st, s.id, 10, session_row, NULL) < 0)
        fprintf(stderr, "m2mguard: %s\n", store_errmsg(c.st));
    cli_close(&c);
    return 0;
}

static int sim_delete(struct cli *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "tenant", required_argument, NULL, 't' }, { "reason", required_argument, NULL, 'r' },
        { 0 } };
    const char *tenant = NULL, *reason = NULL;
    struct cmd_ctx c;
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "t:r:", opts, NULL)) != -1) {
        switch (ch) {
        case 't': tenant = optarg; break;
        case 'r': reason = optarg; break;
        default: fputs(sim_usage, stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fputs(sim_usage, stderr);
        return 2;
    }
    if (reason && strlen(reason) > CMD_REASON_MAX) {
        fprintf(stderr, "m2mguard: --reason is at most %d characters\n", CMD_REASON_MAX);
        return 2;
    }
    int64_t tid = 0;
    if (cli_open_tenant(g, &c, tenant, &tid) < 0)
        return 1;
    c.tenant_scope = tid;      /* another tenant's SIM is not found */
    int r = cmd_sim_delete(&c, argv[optind], reason, NULL);
    cli_close(&c);
    return r < 0;
}

int cli_sim(struct cli *g, int argc, char **argv)
{
    struct cmd_ctx c;
    int r;
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(sim_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "list") == 0)
        return sim_list(g, argc, argv);
    if (strcmp(verb, "show") == 0 && argc == 3)
        return sim_show(g, argv[2]);
    if (strcmp(verb, "import") == 0) {
        static const struct option opts[] = { { "create-missing", no_argument, NULL, 'c' },
                                              { "quiet", no_argument, NULL, 'q' }, { 0 } };
        int create = 0, quiet = 0, ch;
        optind = 2;
        while ((ch = getopt_long(argc, argv, "cq", opts, NULL)) != -1) {
            if (ch == 'c')
                create = 1;
            else if (ch == 'q')
                quiet = 1;
            else {
                fputs(sim_usage, stderr);
                return 2;
            }
        }
        if (optind != argc - 1) {
            fputs(sim_usage, stderr);
            return 2;
        }
        if (cli_open(g, &c) < 0)
            return 1;
        c.quiet = quiet;
        struct import_result res;
        r = cmd_sim_import(&c, argv[optind], create, &res);
        cli_close(&c);
        return r < 0;
    }
    if (strcmp(verb, "suspend") == 0 || strcmp(verb, "resume") == 0) {
        const char *reason = NULL;
        if (cli_one_option(argc, argv, 2, "reason", &reason, sim_usage) < 0)
            return 2;
        if (optind != argc - 1) {
            fputs(sim_usage, stderr);
            return 2;
        }
        if (cli_open(g, &c) < 0)
            return 1;
        r = cmd_sim_set_state(&c, argv[optind], verb[0] == 's' ? SIM_SUSPENDED : SIM_ACTIVE,
                              reason);
        cli_close(&c);
        return r < 0;
    }
    if (strcmp(verb, "delete") == 0)
        return sim_delete(g, argc, argv);
    fputs(sim_usage, stderr);
    return 2;
}
