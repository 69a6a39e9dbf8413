/*
 * policy.c — `policy set / show / check`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/policy.h"
#include "store/store.h"

static const char usage[] =
    "usage: m2mguard policy set GROUP FILE.json [--tenant TENANT]\n"
    "       m2mguard policy show GROUP [--tenant TENANT]\n"
    "       m2mguard policy check FILE.json\n\n"
    "set    validate FILE.json (docs/policy.md) and make it GROUP's policy; a running\n"
    "       daemon applies it within a second.  Every version is kept.\n"
    "show   print GROUP's current policy document (or say it uses the default).\n"
    "check  validate only; every problem is reported as FILE: PATH: message.\n"
    "--tenant is needed only when several tenants have a group of that name.\n";

static char *read_file(const char *path, size_t *ret_len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "m2mguard: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (len > POLICY_MAX_BODY) {
            fprintf(stderr, "m2mguard: %s: larger than %d bytes\n", path, POLICY_MAX_BODY);
            free(buf);
            buf = NULL;
            break;
        }
        if (k == 0)
            break;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    /* A read error (EIO, or EISDIR for a directory) must not pass for the
     * end of a shorter document. */
    if (buf && ferror(f)) {
        fprintf(stderr, "m2mguard: %s: %s\n", path, strerror(errno));
        free(buf);
        buf = NULL;
    }
    if (f != stdin)
        (void)fclose(f);      /* read only: nothing to lose */
    *ret_len = len;
    return buf;
}

int cli_policy(struct cli *g, int argc, char **argv)
{
    const char *tenant = NULL;
    struct cmd_ctx c;
    int r;
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *verb = argv[1];
    if (cli_one_option(argc, argv, 2, "tenant", &tenant, usage) < 0)
        return 2;
    int nargs = argc - optind;
    if (strcmp(verb, "check") == 0 && nargs == 1) {
        size_t len;
        char *body = read_file(argv[optind], &len);
        struct policy *p;
        if (!body)
            return 1;
        r = policy_compile(body, len, argv[optind], stderr, &p);
        free(body);
        if (r < 0)
            return 1;
        policy_free(p);
        printf("%s: OK\n", argv[optind]);
        return 0;
    }
    if (strcmp(verb, "set") == 0 && nargs == 2) {
        size_t len;
        char *body = read_file(argv[optind + 1], &len);
        if (!body)
            return 1;
        if (cli_open(g, &c) < 0) {
            free(body);
            return 1;
        }
        r = cmd_policy_set(&c, tenant, argv[optind], body, len, argv[optind + 1]);
        free(body);
        cli_close(&c);
        return r < 0;
    }
    if (strcmp(verb, "show") == 0 && nargs == 1) {
        int64_t tid, gid, version;
        char *body;
        if (cli_open(g, &c) < 0)
            return 1;
        r = cmd_find_group(&c, tenant, argv[optind], &tid, &gid);
        if (r == 0) {
            r = store_policy_get(c.st, gid, &body, &version);
            if (r == -ENOENT) {
                printf("# group %s uses the default policy (docs/policy.md)\n", argv[optind]);
                r = 0;
            } else if (r == 0) {
                printf("# group %s, policy version %lld\n%s", argv[optind], (long long)version, body);
                if (body[0] && body[strlen(body) - 1] != '\n')
                    putchar('\n');
                free(body);
            }
        }
        cli_close(&c);
        return r < 0;
    }
    fputs(usage, stderr);
    return 2;
}
