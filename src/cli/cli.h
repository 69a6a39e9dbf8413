/*
 * cli.h — the command-line front end: one function per subcommand group,
 * dispatched from main.c.  The CLI parses arguments and prints; changes go
 * through the command layer (cmd/cmd.h), reads straight to the store.
 */
#ifndef M2MG_CLI_H
#define M2MG_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "cmd/cmd.h"

struct cli {
    const char *config_path;
    int verbose;
};

/* Open config + store and fill a command context; prints errors. */
int cli_open(struct cli *g, struct cmd_ctx *ret_ctx);
void cli_close(struct cmd_ctx *c);
/* cli_open(), then the --tenant name (NULL: none) as an id in *tenant_id
 * (left as it is when NULL); prints the error and closes on failure. */
int cli_open_tenant(struct cli *g, struct cmd_ctx *c, const char *tenant, int64_t *tenant_id);
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
int cli_webhook(struct cli *g, int argc, char **argv);
int cli_audit(struct cli *g, int argc, char **argv);

/*
 * Parse argv[first..] for a single "--NAME VALUE" option (the common case:
 * --tenant, --reason).  Returns the index of the first operand, or -1
 * after printing `usage` to stderr for anything else.
 */
int cli_one_option(int argc, char **argv, int first, const char *name, const char **ret,
                   const char *usage);

/* True when argv has -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

/*
 * Parse `arg`, the value of option --`name`, as a whole decimal number in
 * [min, max] (no sign for min >= 0, no trailing text, no overflow).  On
 * failure prints "m2mguard: --NAME must be a number from MIN to MAX" and
 * returns -EINVAL, leaving *ret untouched.  atoi() would take "10x" as 10
 * and "x" as 0 (which means "no limit" to --limit).
 */
int cli_parse_number(const char *name, const char *arg, long long min, long long max,
                     long long *ret);

/*
 * Format `seconds` since the epoch, in UTC, with strftime's `fmt` into
 * out[outlen]; "-" when the time cannot be represented or does not fit
 * (strftime then leaves `out` indeterminate).  Returns `out`.
 */
const char *cli_format_utc(int64_t seconds, const char *fmt, char *out, size_t outlen)
    __attribute__((format(strftime, 2, 0)));

#endif
