/*
 * main.c — `m2mguard`: one binary, one subcommand per administrative
 * concern.  This file only dispatches; each subcommand lives in cli/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"

static const struct {
    const char *name;
    int (*fn)(struct cli *g, int argc, char **argv);
    const char *summary;
} commands[] = {
    { "serve", cli_serve, "run the daemon (RADIUS access plane) in the foreground" },
    { "check-config", cli_check_config, "check the configuration file" },
    { "stats", cli_stats, "print the running daemon's counters (JSON)" },
    { "reload", cli_reload, "make the running daemon re-read its configuration" },
    { "tenant", cli_tenant, "create and list tenants" },
    { "group", cli_group, "create and list device groups" },
    { "sim", cli_sim, "import, list, show, suspend and resume SIMs" },
    { "policy", cli_policy, "set, show and check group policies" },
    { "alerts", cli_alerts, "list, acknowledge and resolve alerts" },
    { "findings", cli_findings, "list findings with their evidence" },
    { "simulate", cli_simulate, "play a GGSN scenario against the running daemon" },
    { "token", cli_token, "create, list and revoke HTTP API tokens" },
    { "webhook", cli_webhook, "tenants' webhooks: add, list, set, remove, ping, deliveries" },
    { "audit", cli_audit, "verify and list the tamper-evident audit trail" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: m2mguard [-c CONFIG] [-v] COMMAND [ARGS]\n\n"
               "m2mguard is the security control plane of a cellular M2M fleet: the\n"
               "RADIUS server of its private APN, admitting only known SIMs in their\n"
               "bound devices, in allowed places, and reporting what it refuses.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\noptions:\n"
               "  -c CONFIG     configuration file (default: $M2MGUARD_CONFIG, else %s)\n"
               "  -v            verbose logging (serve)\n"
               "  -h, --help    this help; `m2mguard COMMAND --help` for a command\n",
            CONFIG_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
    struct cli g = { .config_path = getenv("M2MGUARD_CONFIG") };
    int i = 1;
    if (!g.config_path || !g.config_path[0])
        g.config_path = CONFIG_DEFAULT_PATH;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            g.config_path = argv[++i];
        } else if (strcmp(argv[i], "-v") == 0) {
            g.verbose = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("m2mguard %s\n", M2MG_VERSION);
            return 0;
        } else {
            fprintf(stderr, "m2mguard: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i == argc) {
        usage(stderr);
        return 2;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(argv[i], commands[k].name) == 0)
            return commands[k].fn(&g, argc - i, argv + i);
    fprintf(stderr, "m2mguard: unknown command \"%s\"\n\n", argv[i]);
    usage(stderr);
    return 2;
}
