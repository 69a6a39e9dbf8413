/*
 * admin.c — `serve`, `check-config`, `stats` and `reload`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "daemon/daemon.h"
#include "daemon/privdrop.h"

int cli_serve(struct cli *g, int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc > 1) {
        printf("usage: m2mguard [-c CONFIG] serve\n\n"
               "Run the daemon in the foreground until SIGTERM or SIGINT.\n"
               "SIGHUP (or `m2mguard reload`) re-reads the configuration: clients and\n"
               "secrets change without dropping a request; listen (with the API's TLS\n"
               "certificate and key), workers, database,\n"
               "dup-cache-size, acct-queue, acct-flush, acct-retention, syslog,\n"
               "webhook-*, user, group and seccomp need a restart.  Logs go where `log`\n"
               "says.\n\n"
               "Started as root, it binds its sockets (RADIUS, control socket, HTTP API)\n"
               "and then runs as `user` (default: %s; it refuses to start when\n"
               "that account does not exist, and only `user root` keeps root).  It opens\n"
               "the store, the lock and the logs as that user: the configuration must be\n"
               "readable by it, the database directory writable.  Once started, a\n"
               "seccomp filter allows only the system calls it needs; any other stops\n"
               "it, naming the call (`seccomp off` to debug).  A configuration that\n"
               "holds secrets and is readable by every user is refused, and so is a\n"
               "`listen api ... tls` key file readable by every user.\n",
               PRIVDROP_DEFAULT_USER);
        return argc > 1 && !cli_wants_help(argc, argv) ? 2 : 0;
    }
    return daemon_serve(g->config_path, g->verbose);
}

int cli_check_config(struct cli *g, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: m2mguard [-c CONFIG] check-config [FILE]\n\n"
               "Parse the configuration and report every error as FILE:LINE: message,\n"
               "and read the API's TLS certificate and key if it has them (a key file\n"
               "readable by every user is an error, as it is for serve).\n"
               "Exit status 0 when it is valid, 1 otherwise.\n");
        return 0;
    }
    const char *path = argc > 1 ? argv[1] : g->config_path;
    struct config *cfg;
    if (config_load(path, stderr, &cfg) < 0)
        return 1;
    /* `serve` would refuse to start with these. */
    if (config_check_secret_files(cfg, stderr) < 0) {
        config_free(cfg);
        return 1;
    }
    /* The API's certificate and key. */
    if (cfg->api_tls_cert[0]) {
        struct api_tls tls;
        char why[PATH_MAX + 128];
        if (api_tls_read(cfg->api_tls_cert, cfg->api_tls_key, &tls, why, sizeof why) < 0) {
            fprintf(stderr, "%s: listen api tls: %s\n", path, why);
            config_free(cfg);
            return 1;
        }
        api_tls_free(&tls);
    }
    printf("%s: OK (%u clients, %d workers, database %s)\n", path, cfg->nclients,
           cfg->workers, cfg->database);
    config_free(cfg);
    return 0;
}

static int ctl_command(struct cli *g, const char *cmd)
{
    struct config *cfg;
    static char reply[CTL_REPLY_MAX];
    if (cli_config(g, &cfg) < 0)
        return 1;
    int r = ctl_request(cfg->control, cmd, reply, sizeof reply, 10000);
    if (r < 0) {
        fprintf(stderr, "m2mguard: no daemon answers on %s: %s\n", cfg->control, strerror(-r));
        config_free(cfg);
        return 1;
    }
    config_free(cfg);
    fputs(reply, stdout);
    return strncmp(reply, "error", 5) == 0 ? 1 : 0;
}

int cli_stats(struct cli *g, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: m2mguard [-c CONFIG] stats\n\n"
               "Print the running daemon's counters as one JSON object: RADIUS packets\n"
               "received, answered, accepted, rejected, duplicates, drops by reason,\n"
               "3GPP attribute errors, per-client authentication failures, findings by\n"
               "kind and the journal queue.  Exit status 1 when no daemon answers.\n");
        return 0;
    }
    return ctl_command(g, "stats");
}

int cli_reload(struct cli *g, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: m2mguard [-c CONFIG] reload\n\n"
               "Ask the running daemon to re-read its configuration (like SIGHUP) and\n"
               "print the result; a configuration with errors is not applied.\n");
        return 0;
    }
    return ctl_command(g, "reload");
}
