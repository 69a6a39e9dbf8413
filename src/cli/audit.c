/*
 * audit.c — `audit verify` and `audit list`: the audit trail (audit/audit.h)
 * from the command line.  Verification is audit_verify(), which the HTTP
 * API can call as well; this file only parses arguments and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "core/jsonw.h"
#include "store/store.h"

static const char audit_usage[] =
    "usage: m2mguard audit verify [--head SEQ:HASH]\n"
    "       m2mguard audit list [--tenant T] [--limit N] [--json]\n\n"
    "Every administrative change (who, role when known, source, action, target,\n"
    "before and after) and every enforcement action is appended to one hash chain\n"
    "in the same transaction as the change: record N carries\n"
    "SHA-256(hash of record N-1 || canonical encoding of record N).\n\n"
    "verify  walks the whole chain and names the first record that does not\n"
    "        verify and why: changed, deleted, inserted or reordered.  Exit\n"
    "        status 0 when the chain is intact, 1 otherwise.  Compare the head it\n"
    "        prints with the one the daemon logs: a chain rewritten from some\n"
    "        record on verifies by itself, but no longer holds a logged head:\n"
    "        --head SEQ:HASH checks that record SEQ is still there with that hash.\n"
    "list    the last N records (100 by default, 0 = all), oldest first, with\n"
    "        --tenant only that tenant's; --json one JSON object per line.\n";

struct list_ctx {
    struct store *st;
    int json;
};

static int list_row(void *arg, const struct store_audit_row *r)
{
    struct list_ctx *lc = arg;
    if (lc->json) {
        char head[512];
        struct jsonw w;
        jsonw_init(&w, head, sizeof head);
        jsonw_open(&w);
        jsonw_int(&w, "seq", r->seq);
        jsonw_int(&w, "ts_ms", r->ts_ms);
        jsonw_int(&w, "tenant_id", r->tenant_id);
        jsonw_str(&w, "kind", r->kind);
        jsonw_str(&w, "prev_hash", r->prev_hash);
        jsonw_str(&w, "hash", r->hash);
        jsonw_close(&w);
        size_t n = jsonw_finish(&w);
        /* The record is already JSON: splice it in rather than copy it
         * into a bounded buffer. */
        if (n > 0 && head[n - 1] == '}')
            printf("%.*s,\"record\":%s}\n", (int)(n - 1), head, r->body);
        return 0;
    }
    char when[24], tenant[64];
    cli_format_utc(r->ts_ms / 1000, "%Y-%m-%d %H:%M:%S", when, sizeof when);
    if (store_tenant_name(lc->st, r->tenant_id, tenant, sizeof tenant) < 0)
        snprintf(tenant, sizeof tenant, "#%lld", (long long)r->tenant_id);
    printf("%-7lld %s  %-12s %-6s %.16s  %s\n", (long long)r->seq, when, tenant, r->kind, r->hash,
           r->body);
    return 0;
}

static int audit_list(struct cli *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "tenant", required_argument, NULL, 't' }, { "limit", required_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' }, { 0 } };
    const char *tenant = NULL;
    long long v;
    int limit = 100, ch;
    struct list_ctx lc = { 0 };
    struct cmd_ctx c;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "t:n:j", opts, NULL)) != -1) {
        switch (ch) {
        case 't': tenant = optarg; break;
        case 'n':
            if (cli_parse_number("limit", optarg, 0, INT_MAX, &v) < 0)
                return 2;
            limit = (int)v;
            break;
        case 'j': lc.json = 1; break;
        default: fputs(audit_usage, stderr); return 2;
        }
    }
    if (optind != argc) {
        fputs(audit_usage, stderr);
        return 2;
    }
    int64_t tid = 0;
    if (cli_open_tenant(g, &c, tenant, &tid) < 0)
        return 1;
    lc.st = c.st;
    if (!lc.json)
        printf("%-7s %-19s  %-12s %-6s %-16s  %s\n", "SEQ", "TIME (UTC)", "TENANT", "KIND", "HASH",
               "RECORD");
    int r = store_audit_walk(c.st, tid, limit, list_row, &lc);
    if (r < 0)
        fprintf(stderr, "m2mguard: %s\n", store_errmsg(c.st));
    cli_close(&c);
    return r < 0;
}

static int audit_verify_cmd(struct cli *g, int argc, char **argv)
{
    static const struct option opts[] = { { "head", required_argument, NULL, 'H' }, { 0 } };
    struct cmd_ctx c;
    struct audit_verdict v;
    int64_t head_seq = 0;
    char head_hex[AUDIT_HEX_LEN] = "";
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "H:", opts, NULL)) != -1) {
        switch (ch) {
        case 'H':
            if (audit_parse_head(optarg, &head_seq, head_hex) < 0) {
                fprintf(stderr, "m2mguard: --head must be SEQ:HASH, a head as the daemon logs "
                                "it (a record number, 64 lowercase hex digits)\n");
                return 2;
            }
            break;
        default: fputs(audit_usage, stderr); return 2;
        }
    }
    if (optind != argc) {
        fputs(audit_usage, stderr);
        return 2;
    }
    if (cli_open(g, &c) < 0)
        return 1;
    int r = audit_verify_anchor(c.st, head_seq, head_seq ? head_hex : NULL, &v);
    if (r < 0) {
        fprintf(stderr, "m2mguard: reading the audit chain: %s\n", store_errmsg(c.st));
        cli_close(&c);
        return 1;
    }
    cli_close(&c);
    if (v.fault == AUDIT_INTACT) {
        printf("audit chain intact: %s\n", v.why);
        return 0;
    }
    printf("audit chain broken at record %lld (%s): %s\n", (long long)v.seq,
           audit_fault_name(v.fault), v.why);
    printf("%lld records verified before it\n", (long long)v.records);
    return 1;
}

int cli_audit(struct cli *g, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(audit_usage, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return audit_verify_cmd(g, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return audit_list(g, argc, argv);
    fputs(audit_usage, stderr);
    return 2;
}
