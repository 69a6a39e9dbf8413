/*
 * alerts.c — `alerts` (list, ack, resolve) and `findings`.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/jsonw.h"
#include "store/store.h"

static const char alerts_usage[] =
    "usage: m2mguard alerts [list] [--all | --state STATE] [--tenant T] [--limit N]\n"
    "       m2mguard alerts ack ID\n"
    "       m2mguard alerts resolve ID\n\n"
    "Findings at or above a group's alert severity become alerts, one open alert\n"
    "per tenant, kind and subject (SIM or client) with a count.  `list` shows open\n"
    "and acknowledged alerts, newest first; --all includes resolved ones.\n"
    "A later finding of the same kind counts into an acknowledged alert and opens\n"
    "a new one once the old one is resolved.\n";

static void fmt_ms(int64_t ms, char out[24])
{
    cli_format_utc(ms / 1000, "%Y-%m-%d %H:%M:%S", out, 24);
}

static int alert_row(void *arg, const struct store_alert *a)
{
    char last[24];
    (void)arg;
    fmt_ms(a->last_ms, last);
    printf("%-6lld %-12s %-9s %-26s %-24s %6lld  %s  %s\n", (long long)a->id, a->state,
           a->severity, a->kind, a->subject, (long long)a->count, last, a->tenant);
    printf("       %s\n", a->evidence);
    return 0;
}

int cli_alerts(struct cli *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' }, { "state", required_argument, NULL, 's' },
        { "tenant", required_argument, NULL, 't' }, { "limit", required_argument, NULL, 'n' },
        { 0 } };
    const char *state = NULL, *tenant = NULL;
    int limit = 100, ch, r;
    long long v;
    struct cmd_ctx c;
    if (cli_wants_help(argc, argv)) {
        fputs(alerts_usage, stdout);
        return 0;
    }
    const char *verb = argc > 1 && argv[1][0] != '-' ? argv[1] : "list";
    optind = argc > 1 && argv[1][0] != '-' ? 2 : 1;
    while ((ch = getopt_long(argc, argv, "as:t:n:", opts, NULL)) != -1) {
        switch (ch) {
        case 'a': state = "all"; break;
        case 's': state = optarg; break;
        case 't': tenant = optarg; break;
        case 'n':
            if (cli_parse_number("limit", optarg, 0, INT_MAX, &v) < 0)
                return 2;
            limit = (int)v;
            break;
        default: fputs(alerts_usage, stderr); return 2;
        }
    }
    if ((strcmp(verb, "ack") == 0 || strcmp(verb, "resolve") == 0) && optind == argc - 1) {
        char *end;
        long long id = strtoll(argv[optind], &end, 10);
        if (*end || id <= 0) {
            fprintf(stderr, "m2mguard: alert ID must be a positive number\n");
            return 2;
        }
        if (cli_open(g, &c) < 0)
            return 1;
        r = cmd_alert_set_state(&c, id, verb[0] == 'a' ? "acknowledged" : "resolved");
        cli_close(&c);
        return r < 0;
    }
    if (strcmp(verb, "list") != 0 || optind != argc) {
        fputs(alerts_usage, stderr);
        return 2;
    }
    if (state && strcmp(state, "all") != 0 && strcmp(state, "open") != 0 &&
        strcmp(state, "acknowledged") != 0 && strcmp(state, "resolved") != 0) {
        fprintf(stderr, "m2mguard: --state must be open, acknowledged or resolved\n");
        return 2;
    }
    int64_t tid = 0;
    if (cli_open_tenant(g, &c, tenant, &tid) < 0)
        return 1;
    printf("%-6s %-12s %-9s %-26s %-24s %6s  %-19s  %s\n", "ID", "STATE", "SEVERITY", "KIND",
           "SUBJECT", "COUNT", "LAST SEEN (UTC)", "TENANT");
    r = store_alert_list(c.st, tid, state, limit, alert_row, NULL);
    if (r < 0)
        fprintf(stderr, "m2mguard: %s\n", store_errmsg(c.st));
    cli_close(&c);
    return r < 0;
}

static const char findings_usage[] =
    "usage: m2mguard findings [--tenant T] [--after ID] [--limit N] [--json]\n\n"
    "Every finding, oldest first (100 by default), with its evidence.  --after ID\n"
    "shows only newer ones, so `--after` with the last ID seen follows new findings.\n";

struct fctx {
    int json;
};

static int finding_row(void *arg, const struct store_finding_row *f)
{
    struct fctx *fc = arg;
    char when[24];
    fmt_ms(f->ts_ms, when);
    if (fc->json) {
        char line[2048];
        struct jsonw w;
        jsonw_init(&w, line, sizeof line);
        jsonw_open(&w);
        jsonw_int(&w, "id", f->id);
        jsonw_int(&w, "ts_ms", f->ts_ms);
        jsonw_str(&w, "tenant", f->tenant);
        jsonw_str(&w, "kind", f->kind);
        jsonw_str(&w, "severity", f->severity);
        jsonw_str(&w, "subject", f->subject);
        jsonw_raw(&w, "evidence", f->evidence);
        jsonw_close(&w);
        jsonw_finish(&w);
        puts(line);
    } else
        printf("%-7lld %s  %-9s %-26s %-24s %s\n", (long long)f->id, when, f->severity, f->kind,
               f->subject, f->evidence);
    return 0;
}

int cli_findings(struct cli *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "tenant", required_argument, NULL, 't' }, { "after", required_argument, NULL, 'a' },
        { "limit", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' }, { 0 } };
    const char *tenant = NULL;
    long long after = 0, v;
    int limit = 100, ch;
    struct fctx fc = { 0 };
    struct cmd_ctx c;
    if (cli_wants_help(argc, argv)) {
        fputs(findings_usage, stdout);
        return 0;
    }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "t:a:n:j", opts, NULL)) != -1) {
        switch (ch) {
        case 't': tenant = optarg; break;
        case 'a':
            if (cli_parse_number("after", optarg, 0, LLONG_MAX, &after) < 0)
                return 2;
            break;
        case 'n':
            if (cli_parse_number("limit", optarg, 0, INT_MAX, &v) < 0)
                return 2;
            limit = (int)v;
            break;
        case 'j': fc.json = 1; break;
        default: fputs(findings_usage, stderr); return 2;
        }
    }
    if (optind != argc) {
        fputs(findings_usage, stderr);
        return 2;
    }
    int64_t tid = 0;
    if (cli_open_tenant(g, &c, tenant, &tid) < 0)
        return 1;
    int r = store_finding_list(c.st, tid, after, limit, finding_row, &fc);
    if (r < 0)
        fprintf(stderr, "m2mguard: %s\n", store_errmsg(c.st));
    cli_close(&c);
    return r < 0;
}
