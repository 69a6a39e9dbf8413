/*
 * cli.h — the command-line front end: one function per subcommand group,
 * dispatched from main.c.  The CLI parses arguments and prints; changes go
 * through the command layer (cmd/cmd.h), reads straight to the store.
 */
#ifndef M2MG_CLI_H
#define M2MG_CLI_H

#include "cmd/cmd.h"

struct cli {
    const char *config_path;
    int verbose;
};

/* Open config + store and fill a command context; prints errors. */
int cli_open(struct cli *g, struct cmd_ctx *ret_ctx);
void cli_close(struct cmd_ctx *c);
/* Config only (for commands that talk to the daemon). */
struct config;
int cli_config(struct cli *g, struct config **ret);

int cli_serve(struct cli *g, int argc, char **argv);
int cli_check_config(struct cli *g, int argc, char **argv);
int cli_stats(struct cli *g, int argc, char **argv);
int cli_reload(struct cli *g, int argc, char **argv);
int cli_tenant(struct cli *g, int argc, char **argv);
int cli_group(struct cli *g, int argc, char **argv);
int cli_sim(struct cli *g, int argc, char **argv);
int cli_policy(struct cli *g, int argc, char **argv);
int cli_alerts(struct cli *g, int argc, char **argv);
int cli_findings(struct cli *g, int argc, char **argv);
int cli_simulate(struct cli *g, int argc, char **argv);
int cli_token(struct cli *g, int argc, char **argv);

/*
 * Parse argv[first..] for a single "--NAME VALUE" option (the common case:
 * --tenant, --reason).  Returns the index of the first operand, or -1
 * after printing `usage` to stderr for anything else.
 */
int cli_one_option(int argc, char **argv, int first, const char *name, const char **ret,
                   const char *usage);

/* True when argv has -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

#endif
