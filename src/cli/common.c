/*
 * common.c — what every CLI subcommand needs: reading the config for the
 * database and control socket paths, opening the store, naming the actor.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "daemon/privdrop.h"
#include "store/store.h"

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

static int bad_number(const char *name, long long min, long long max)
{
    fprintf(stderr, "m2mguard: --%s must be a number from %lld to %lld\n", name, min, max);
    return -EINVAL;
}

int cli_parse_number(const char *name, const char *arg, long long min, long long max,
                     long long *ret)
{
    /* strtoll() alone would also take leading blanks and a '+'. */
    const char *digits = arg[0] == '-' && min < 0 ? arg + 1 : arg;
    if (!(digits[0] >= '0' && digits[0] <= '9'))
        return bad_number(name, min, max);
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return bad_number(name, min, max);
    *ret = v;
    return 0;
}

const char *cli_format_utc(int64_t seconds, const char *fmt, char *out, size_t outlen)
{
    time_t t = (time_t)seconds;
    struct tm tm;
    if (outlen == 0)
        return out;
    size_t n = 0;
    /* The callers' formats are literals, checked there by the format
     * attribute on the prototype. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    if (gmtime_r(&t, &tm))
        n = strftime(out, outlen, fmt, &tm);
#pragma GCC diagnostic pop
    if (n == 0)
        snprintf(out, outlen, "-");
    return out;
}

int cli_one_option(int argc, char **argv, int first, const char *name, const char **ret,
                   const char *usage)
{
    const struct option opts[] = { { name, required_argument, NULL, 'o' }, { 0 } };
    int ch;
    optind = first;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch != 'o') {
            fputs(usage, stderr);
            return -1;
        }
        *ret = optarg;
    }
    return optind;
}

int cli_config(struct cli *g, struct config **ret)
{
    int r = config_load(g->config_path, stderr, ret);
    if (r < 0 && r != -EINVAL)
        fprintf(stderr, "m2mguard: cannot read configuration %s (give one with -c FILE "
                "or M2MGUARD_CONFIG)\n", g->config_path);
    return r;
}

int cli_open_tenant(struct cli *g, struct cmd_ctx *c, const char *tenant, int64_t *tenant_id)
{
    if (cli_open(g, c) < 0)
        return -1;
    if (tenant && store_tenant_find(c->st, tenant, tenant_id) < 0) {
        fprintf(stderr, "m2mguard: no tenant \"%s\"\n", tenant);
        cli_close(c);
        return -1;
    }
    return 0;
}

/*
 * Run as root, the CLI may be the first to touch the database (an import
 * before the first `serve`).  SQLite would make it root's, and the daemon,
 * which runs as its own user (daemon/privdrop.h), could not write it.  So
 * a database that does not exist yet is created here, empty (SQLite takes
 * an empty file for a new database), and given to that user; SQLite, run
 * as root, gives the -wal and -shm files it makes the database's owner.
 * Best effort: when it cannot be done, store_open() creates the file as
 * before and the daemon says what to chown.
 */
static void precreate_database(const struct config *cfg)
{
    struct privdrop_id id;
    char err[1024];
    if (geteuid() != 0 || privdrop_resolve(cfg, &id, err, sizeof err) < 0 || !id.change)
        return;
    /* O_EXCL | O_NOFOLLOW: only a new file, never through a link. */
    int fd = open(cfg->database, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return;
    if (fchown(fd, id.uid, id.gid) < 0)
        fprintf(stderr, "m2mguard: warning: %s: chown to %s: %s\n", cfg->database, id.user,
                strerror(errno));
    close(fd);
}

int cli_open(struct cli *g, struct cmd_ctx *c)
{
    struct config *cfg;
    int r;
    memset(c, 0, sizeof *c);
    c->out = stdout;
    c->err = stderr;
    if ((r = cli_config(g, &cfg)) < 0)
        return r;
    precreate_database(cfg);
    if ((r = store_open(cfg->database, &c->st)) < 0) {
        fprintf(stderr, "m2mguard: database %s: %s\n", cfg->database,
                c->st ? store_errmsg(c->st) : strerror(-r));
        store_close(c->st);
        c->st = NULL;
        config_free(cfg);
        return r;
    }
    c->control = strdup(cfg->control);
    config_free(cfg);
    if (!c->control) {
        fprintf(stderr, "m2mguard: out of memory\n");
        cli_close(c);
        return -ENOMEM;
    }
    /* The actor recorded in the admin log.  getpwuid_r(): the reentrant
     * one, though the CLI has a single thread. */
    struct passwd pwd, *pw = NULL;
    char pwbuf[4096];
    if (getpwuid_r(getuid(), &pwd, pwbuf, sizeof pwbuf, &pw) != 0)
        pw = NULL;
    snprintf(c->actor, sizeof c->actor, "cli:%s", pw ? pw->pw_name : "unknown");
    return 0;
}

void cli_close(struct cmd_ctx *c)
{
    store_close(c->st);
    free((char *)c->control);
    c->st = NULL;
    c->control = NULL;
}
