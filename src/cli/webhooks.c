/*
 * webhooks.c — `webhook` (add, list, set, remove, ping, deliveries): the
 * same commands as the API's /v1/webhooks, through cmd/webhooks.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/model.h"
#include "store/store.h"

static const char webhook_usage[] =
    "usage: m2mguard webhook add URL --tenant TENANT [--events LIST] [--min-severity S]\n"
    "       m2mguard webhook list [--tenant TENANT]\n"
    "       m2mguard webhook set ID [--url URL] [--events LIST] [--min-severity S]\n"
    "                               [--enable|--disable] [--rotate-secret]\n"
    "       m2mguard webhook remove ID\n"
    "       m2mguard webhook ping ID\n"
    "       m2mguard webhook deliveries ID [--state pending|delivered|failed] [--limit N]\n\n"
    "A webhook receives the tenant's findings and actions as signed HTTP POSTs\n"
    "(docs/operator-guide.md, \"Webhooks\").  LIST is comma-separated: *, finding,\n"
    "action, finding.KIND, action.KIND (default *).  S: info, notice, warning,\n"
    "critical (default info).  `add` and `set --rotate-secret` print the secret\n"
    "once, on standard output; receivers verify signatures with it.\n";

static int webhook_row(void *arg, const struct store_webhook *w)
{
    (void)arg;
    printf("%-5lld %-16s %-8s %-8s %-8lld %-8lld %-24s %s\n", (long long)w->id, w->tenant,
           w->enabled ? "on" : "off", severity_name(w->min_severity), (long long)w->pending,
           (long long)w->dropped, w->events, w->url);
    return 0;
}

/* A time in ms as the CLI prints times; 0 (none) as "-". */
static const char *when(int64_t ms, char out[24])
{
    if (!ms) {
        snprintf(out, 24, "-");
        return out;
    }
    return cli_format_utc(ms / 1000, "%Y-%m-%d %H:%M:%S", out, 24);
}

static int delivery_row(void *arg, const struct store_delivery *d)
{
    char created[24], next[24];
    (void)arg;
    when(d->created_ms, created);
    when(strcmp(d->state, "pending") == 0 ? d->next_ms : d->done_ms, next);
    printf("%-8lld %-28s %-10s %-8d %-19s %-19s %-6d %s\n", (long long)d->id, d->event, d->state,
           d->attempts, created, next, d->last_status, d->last_error);
    return 0;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v <= 0) {
        fprintf(stderr, "m2mguard: webhook ID must be a positive whole number\n");
        return -1;
    }
    *id = v;
    return 0;
}

int cli_webhook(struct cli *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "tenant", required_argument, NULL, 't' }, { "events", required_argument, NULL, 'e' },
        { "min-severity", required_argument, NULL, 's' }, { "url", required_argument, NULL, 'u' },
        { "enable", no_argument, NULL, 'E' }, { "disable", no_argument, NULL, 'D' },
        { "rotate-secret", no_argument, NULL, 'R' }, { "state", required_argument, NULL, 'S' },
        { "limit", required_argument, NULL, 'l' }, { 0 } };
    struct webhook_input in = { .min_severity = -1, .enabled = -1 };
    const char *tenant = NULL, *state = NULL;
    long limit = 50;
    int ch, r;
    if (cli_wants_help(argc, argv)) {
        fputs(webhook_usage, stdout);
        return 0;
    }
    if (argc < 2) {
        fputs(webhook_usage, stderr);
        return 2;
    }
    const char *verb = argv[1];
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 't': tenant = optarg; break;
        case 'e': in.events = optarg; break;
        case 'u': in.url = optarg; break;
        case 'E': in.enabled = 1; break;
        case 'D': in.enabled = 0; break;
        case 'R': in.rotate_secret = 1; break;
        case 'S':
            state = optarg;
            if (strcmp(state, "pending") != 0 && strcmp(state, "delivered") != 0 &&
                strcmp(state, "failed") != 0) {
                fprintf(stderr, "m2mguard: --state is pending, delivered or failed\n");
                return 2;
            }
            break;
        case 's':
            if ((in.min_severity = severity_from_name(optarg)) < 0) {
                fprintf(stderr, "m2mguard: --min-severity is info, notice, warning or "
                        "critical\n");
                return 2;
            }
            break;
        case 'l':
            errno = 0;
            limit = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || limit < 1 || limit > 100000) {
                fprintf(stderr, "m2mguard: --limit must be 1..100000\n");
                return 2;
            }
            break;
        default:
            fputs(webhook_usage, stderr);
            return 2;
        }
    }
    int nargs = argc - optind;
    struct cmd_ctx c;
    int64_t id = 0;
    char secret[WEBHOOK_SECRET_MAX] = "";
    if (strcmp(verb, "add") == 0 && nargs == 1 && tenant) {
        in.url = argv[optind];
        if (cli_open(g, &c) < 0)
            return 1;
        c.out = stderr;     /* standard output is the secret alone */
        r = cmd_webhook_create(&c, tenant, &in, &id, secret);
        cli_close(&c);
        if (r < 0)
            return 1;
        printf("%s\n", secret);
        fprintf(stderr, "the secret above is shown only this once\n");
        return 0;
    }
    if (strcmp(verb, "list") == 0 && nargs == 0) {
        int64_t tid = 0;
        if (cli_open_tenant(g, &c, tenant, &tid) < 0)
            return 1;
        printf("%-5s %-16s %-8s %-8s %-8s %-8s %-24s %s\n", "ID", "TENANT", "ENABLED", "MIN-SEV",
               "PENDING", "DROPPED", "EVENTS", "URL");
        r = store_webhook_list(c.st, tid, webhook_row, NULL);
        if (r < 0)
            fprintf(stderr, "m2mguard: %s\n", store_errmsg(c.st));
        cli_close(&c);
        return r < 0 ? 1 : 0;
    }
    if (nargs != 1 || parse_id(argv[optind], &id) < 0) {
        fputs(webhook_usage, stderr);
        return 2;
    }
    if (cli_open(g, &c) < 0)
        return 1;
    if (strcmp(verb, "set") == 0) {
        c.out = stderr;     /* standard output is the new secret alone */
        r = cmd_webhook_update(&c, id, &in, secret);
        if (r == 0 && in.rotate_secret)
            printf("%s\n", secret);
    } else if (strcmp(verb, "remove") == 0) {
        r = cmd_webhook_delete(&c, id);
    } else if (strcmp(verb, "ping") == 0) {
        r = cmd_webhook_ping(&c, id);
    } else if (strcmp(verb, "deliveries") == 0) {
        printf("%-8s %-28s %-10s %-8s %-19s %-19s %-6s %s\n", "ID", "EVENT", "STATE", "ATTEMPTS",
               "CREATED", "NEXT/DONE", "STATUS", "LAST ERROR");
        r = store_delivery_list(c.st, id, state, 0, (int)limit, delivery_row, NULL);
        if (r < 0)
            fprintf(stderr, "m2mguard: %s\n", store_errmsg(c.st));
    } else {
        cli_close(&c);
        fputs(webhook_usage, stderr);
        return 2;
    }
    cli_close(&c);
    memset(secret, 0, sizeof secret);
    return r < 0 ? 1 : 0;
}
