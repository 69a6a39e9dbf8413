/*
 * tokens.c — `token` (create, list, revoke): the HTTP API's credentials.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

static const char token_usage[] =
    "usage: m2mguard token create NAME --role ROLE [--tenant TENANT] [--days N]\n"
    "       m2mguard token list [--tenant TENANT]\n"
    "       m2mguard token revoke ID\n\n"
    "Tokens authenticate HTTP API requests (Authorization: Bearer TOKEN).\n"
    "Roles: platform-admin (every tenant; no --tenant), and inside one tenant\n"
    "admin (everything), operator (suspend, resume, acknowledge) and viewer\n"
    "(read only).  `create` prints the token once: only its SHA-256 is kept,\n"
    "so a lost token cannot be shown again — revoke it and create another.\n"
    "--days N: it expires after N days (default 365; 0: never).\n";

/* A time in s as the CLI prints times; 0 (none) as "-". */
static const char *when(int64_t s, char out[24])
{
    if (!s) {
        snprintf(out, 24, "-");
        return out;
    }
    return cli_format_utc(s, "%Y-%m-%d %H:%M", out, 24);
}

static int token_row(void *arg, const struct store_token *t)
{
    char created[24], expires[24], used[24];
    (void)arg;
    when(t->created_at, created);
    when(t->expires_at, expires);
    when(t->last_used_at, used);
    printf("%-5lld %-20s %-14s %-16s %-16s %-16s %-16s %s\n", (long long)t->id, t->name,
           t->role, t->tenant[0] ? t->tenant : "(platform)", created, expires, used,
           t->revoked_at ? "revoked" : "");
    return 0;
}

int cli_token(struct cli *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "role", required_argument, NULL, 'r' }, { "tenant", required_argument, NULL, 't' },
        { "days", required_argument, NULL, 'd' }, { 0 } };
    const char *role = NULL, *tenant = NULL;
    long days = 365;
    int ch, r;
    if (cli_wants_help(argc, argv)) {
        fputs(token_usage, stdout);
        return 0;
    }
    if (argc < 2) {
        fputs(token_usage, stderr);
        return 2;
    }
    const char *verb = argv[1];
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'r': role = optarg; break;
        case 't': tenant = optarg; break;
        case 'd':
            errno = 0;
            days = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || days < 0 || days > 3650) {
                fprintf(stderr, "m2mguard: --days must be a whole number 0..3650\n");
                return 2;
            }
            break;
        default:
            fputs(token_usage, stderr);
            return 2;
        }
    }
    int nargs = argc - optind;
    struct cmd_ctx c;
    if (strcmp(verb, "create") == 0 && nargs == 1 && role) {
        if (cli_open(g, &c) < 0)
            return 1;
        char token[TOKEN_MAX];
        r = cmd_token_create(&c, tenant, argv[optind], role, (int)days, token, sizeof token);
        cli_close(&c);
        if (r < 0)
            return 1;
        printf("%s\n", token);
        fprintf(stderr, "token \"%s\" (%s%s%s) created; it is shown only this once\n",
                argv[optind], role, tenant ? ", tenant " : "", tenant ? tenant : "");
        return 0;
    }
    if (strcmp(verb, "list") == 0 && nargs == 0) {
        int64_t tid = -1;   /* every tenant's, platform tokens included */
        if (cli_open_tenant(g, &c, tenant, &tid) < 0)
            return 1;
        printf("%-5s %-20s %-14s %-16s %-16s %-16s %-16s %s\n", "ID", "NAME", "ROLE", "TENANT",
               "CREATED", "EXPIRES", "LAST USED", "");
        r = store_token_list(c.st, tid, token_row, NULL);
        cli_close(&c);
        return r < 0 ? 1 : 0;
    }
    if (strcmp(verb, "revoke") == 0 && nargs == 1) {
        char *end;
        errno = 0;
        long long id = strtoll(argv[optind], &end, 10);
        if (errno || *end || id <= 0) {
            fprintf(stderr, "m2mguard: token ID must be a positive whole number\n");
            return 2;
        }
        if (cli_open(g, &c) < 0)
            return 1;
        r = cmd_token_revoke(&c, id);
        cli_close(&c);
        return r < 0 ? 1 : 0;
    }
    fputs(token_usage, stderr);
    return 2;
}
