/*
 * import.c — `m2mguard sim import FILE.csv`: a carrier's SIM export into
 * the store (format: docs/csv-format.md).
 *
 * The header names the columns, in any order, case-insensitively; columns
 * m2mguard does not know are ignored (carrier exports carry many).  Every
 * row is validated — IMSI 6–15 digits, ICCID 18–22 digits with its Luhn
 * check digit, IMEI 14–16 digits (Luhn when 15), dotted-quad IP,
 * duplicates against the file and the database — and every bad row is
 * reported as FILE:LINE: reason.  The import is one transaction: any bad
 * row and nothing changes.  One revision stamps every row, so a running
 * daemon picks the whole import up in one sync.
 *
 * Speed: one prepared INSERT, one transaction, a large page cache for the
 * index builds; about 1M rows in well under a minute (docs/PERFORMANCE.md).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/cmd.h"
#include "core/ident.h"
#include "engine/model.h"
#include "store/store.h"

#define CSV_MAX_FIELDS 64
#define CSV_MAX_LINE 8192
#define GROUP_CACHE 256
#define PROGRESS_EVERY 100000

enum col { C_ICCID, C_IMSI, C_MSISDN, C_IMEI, C_IP, C_GROUP, C_TENANT, C_STATE, C__COUNT };
static const char *const col_names[C__COUNT] = {
    "iccid", "imsi", "msisdn", "imei", "ip", "group", "tenant", "state",
};

struct group_key {
    char tenant[64];
    char group[64];
    int64_t tenant_id, group_id;
};

struct importer {
    struct cmd_ctx *c;
    const char *path;
    int create;
    int col[C__COUNT];          /* field index of each column, -1 = absent */
    struct group_key cache[GROUP_CACHE];
    int ncache, next_evict;
    uint64_t errors;
};

static void row_error(struct importer *im, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void row_error(struct importer *im, unsigned long line, const char *fmt, ...)
{
    va_list ap;
    if (im->errors++ >= IMPORT_MAX_REPORTED)
        return;
    fprintf(im->c->err, "%s:%lu: ", im->path, line);
    va_start(ap, fmt);
    vfprintf(im->c->err, fmt, ap);
    va_end(ap);
    fputc('\n', im->c->err);
}

/*
 * Split one CSV record (RFC 4180: "quoted" fields, "" for a quote) in place.
 * Returns the number of fields, or -1 for an unterminated quote.
 */
static int csv_split(char *s, char **f, int max)
{
    int n = 0;
    size_t len = strlen(s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
    for (;;) {
        if (n == max)
            return n + 1;   /* too many: caller reports */
        if (*s == '"') {
            char *out = ++s;
            f[n++] = out;
            for (;;) {
                if (*s == '\0')
                    return -1;
                if (*s == '"') {
                    if (s[1] == '"') {
                        *out++ = '"';
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                *out++ = *s++;
            }
            if (*s != ',' && *s != '\0')
                return -1;
            *out = '\0';
        } else {
            f[n++] = s;
            s += strcspn(s, ",");
        }
        if (*s == '\0')
            return n;
        *s++ = '\0';
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int parse_header(struct importer *im, char *line)
{
    char *f[CSV_MAX_FIELDS];
    /* A UTF-8 byte order mark from spreadsheet exports. */
    if ((unsigned char)line[0] == 0xef && (unsigned char)line[1] == 0xbb &&
        (unsigned char)line[2] == 0xbf)
        line += 3;
    int n = csv_split(line, f, CSV_MAX_FIELDS);
    if (n < 0 || n > CSV_MAX_FIELDS) {
        fprintf(im->c->err, "%s:1: header is not a CSV line of at most %d columns\n",
                im->path, CSV_MAX_FIELDS);
        return -EINVAL;
    }
    for (int k = 0; k < C__COUNT; k++)
        im->col[k] = -1;
    for (int i = 0; i < n; i++) {
        char *name = trim(f[i]);
        int k;
        for (k = 0; k < C__COUNT; k++)
            if (strcasecmp(name, col_names[k]) == 0)
                break;
        if (k == C__COUNT)
            continue;       /* unknown columns are ignored */
        if (im->col[k] >= 0) {
            fprintf(im->c->err, "%s:1: column \"%s\" appears twice\n", im->path, col_names[k]);
            return -EINVAL;
        }
        im->col[k] = i;
    }
    static const int required[] = { C_ICCID, C_IMSI, C_GROUP, C_TENANT };
    int missing = 0;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (im->col[required[i]] < 0) {
            fprintf(im->c->err, "%s:1: required column \"%s\" is missing (header needs iccid, "
                    "imsi, group, tenant; optional msisdn, imei, ip, state)\n",
                    im->path, col_names[required[i]]);
            missing = 1;
        }
    return missing ? -EINVAL : 0;
}

static int resolve_group(struct importer *im, unsigned long line, const char *tenant,
                         const char *group, int64_t *ret_tid, int64_t *ret_gid)
{
    for (int i = 0; i < im->ncache; i++) {
        struct group_key *k = &im->cache[i];
        if (strcmp(k->group, group) == 0 && strcmp(k->tenant, tenant) == 0) {
            *ret_tid = k->tenant_id;
            *ret_gid = k->group_id;
            return 0;
        }
    }
    if (ident_check_name(tenant) < 0 || ident_check_name(group) < 0) {
        row_error(im, line, "tenant \"%.70s\" / group \"%.70s\": %s", tenant, group,
                  ident_error_str(IDENT_E_NAME));
        return -EINVAL;
    }
    int64_t tid, gid;
    /* A tenant-scoped import (an API token) may neither create a tenant
     * nor name another one. */
    int scoped = im->c->tenant_scope != 0;
    int r = store_tenant_ensure(im->c->st, tenant, im->create && !scoped, &tid);
    if (scoped && (r == -ENOENT || (r == 0 && tid != im->c->tenant_scope))) {
        row_error(im, line, "tenant \"%s\" is not this token's tenant", tenant);
        return -EPERM;
    }
    if (r == -ENOENT) {
        row_error(im, line, "no tenant \"%s\" (create it first, or import with --create-missing)",
                  tenant);
        return r;
    }
    if (r == 0)
        r = store_group_ensure(im->c->st, tid, group, im->create, &gid);
    if (r == -ENOENT) {
        row_error(im, line, "tenant \"%s\" has no group \"%s\" (create it first, or import "
                  "with --create-missing)", tenant, group);
        return r;
    }
    /* The store returns 0 or a negative errno: anything else is not a
     * success either, and tid / gid would not be set. */
    if (r != 0) {
        row_error(im, line, "database: %s", store_errmsg(im->c->st));
        return r;
    }
    struct group_key *k = &im->cache[im->ncache < GROUP_CACHE ? im->ncache++ : im->next_evict++ % GROUP_CACHE];
    snprintf(k->tenant, sizeof k->tenant, "%s", tenant);
    snprintf(k->group, sizeof k->group, "%s", group);
    k->tenant_id = tid;
    k->group_id = gid;
    *ret_tid = tid;
    *ret_gid = gid;
    return 0;
}

static const char *field(char **f, int n, int idx)
{
    return idx >= 0 && idx < n ? f[idx] : "";
}

static void import_row(struct importer *im, unsigned long line, char **f, int n, int64_t rev)
{
    struct store_sim s;
    int r;
    memset(&s, 0, sizeof s);

    const char *iccid = field(f, n, im->col[C_ICCID]);
    const char *imsi = field(f, n, im->col[C_IMSI]);
    const char *msisdn = field(f, n, im->col[C_MSISDN]);
    const char *imei = field(f, n, im->col[C_IMEI]);
    const char *ip = field(f, n, im->col[C_IP]);
    const char *state = field(f, n, im->col[C_STATE]);

    if ((r = ident_check_iccid(iccid, strlen(iccid))) < 0) {
        row_error(im, line, "ICCID \"%.40s\": %s (18-22 digits with a Luhn check digit)",
                  iccid, ident_error_str(r));
        return;
    }
    if ((r = ident_check_imsi(imsi, strlen(imsi))) < 0) {
        row_error(im, line, "IMSI \"%.40s\": %s (6-15 digits)", imsi, ident_error_str(r));
        return;
    }
    if (msisdn[0] && (r = ident_check_msisdn(msisdn, strlen(msisdn))) < 0) {
        row_error(im, line, "MSISDN \"%.40s\": %s (5-15 digits, optional +)", msisdn,
                  ident_error_str(r));
        return;
    }
    if (imei[0] && (r = ident_imei_core(imei, strlen(imei), s.imei)) < 0) {
        row_error(im, line, "IMEI \"%.40s\": %s (14-16 digits, Luhn when 15)", imei,
                  ident_error_str(r));
        return;
    }
    if (ip[0] && (ident_parse_ipv4(ip, strlen(ip), &s.ip) < 0 || s.ip == 0 || s.ip == 0xffffffffu)) {
        row_error(im, line, "IP \"%.40s\": not a usable dotted-quad IPv4 address", ip);
        return;
    }
    s.state = state[0] ? sim_state_from_name(state) : SIM_ACTIVE;
    if (s.state < 0) {
        row_error(im, line, "state \"%.20s\": must be active, suspended or deactivated", state);
        return;
    }
    if (resolve_group(im, line, field(f, n, im->col[C_TENANT]), field(f, n, im->col[C_GROUP]),
                      &s.tenant_id, &s.group_id) < 0)
        return;
    snprintf(s.iccid, sizeof s.iccid, "%s", iccid);
    snprintf(s.imsi, sizeof s.imsi, "%s", imsi);
    snprintf(s.msisdn, sizeof s.msisdn, "%s", msisdn);
    snprintf(s.imei_source, sizeof s.imei_source, "import");

    r = store_sim_insert(im->c->st, &s, rev);
    if (r == -EEXIST) {
        const char *m = store_errmsg(im->c->st);
        if (strstr(m, "sims.iccid"))
            row_error(im, line, "duplicate ICCID %s (earlier in this file or already provisioned)", iccid);
        else if (strstr(m, "sims.imsi"))
            row_error(im, line, "duplicate IMSI %s (earlier in this file or already provisioned)", imsi);
        else if (strstr(m, "sims.ip"))
            row_error(im, line, "duplicate IP %s (earlier in this file or already assigned)", ip);
        else
            row_error(im, line, "rejected by the database: %s", m);
    } else if (r < 0) {
        row_error(im, line, "database: %s", store_errmsg(im->c->st));
    }
}

static double elapsed(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int cmd_sim_import(struct cmd_ctx *c, const char *path, int create_missing,
                   struct import_result *res)
{
    memset(res, 0, sizeof *res);
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        int r = -errno;
        fprintf(c->err, "m2mguard: %s: %s\n", path, strerror(errno));
        return r;
    }
    int r = cmd_sim_import_stream(c, f, path, create_missing, res);
    if (f != stdin)
        (void)fclose(f);      /* read only: nothing to lose */
    return r;
}

int cmd_sim_import_stream(struct cmd_ctx *c, FILE *f, const char *path, int create_missing,
                          struct import_result *res)
{
    struct importer *im = calloc(1, sizeof *im);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    struct timespec t0;
    int r = 0;

    memset(res, 0, sizeof *res);
    if (!im)
        return -ENOMEM;
    im->c = c;
    im->path = path;
    im->create = create_missing;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((len = getline(&line, &cap, f)) < 0) {
        fprintf(c->err, "%s: empty file (expected a header line)\n", path);
        r = -EINVAL;
        goto out;
    }
    lineno = 1;
    if ((size_t)len != strlen(line)) {
        fprintf(c->err, "%s:1: NUL byte in header\n", path);
        r = -EINVAL;
        goto out;
    }
    if ((r = parse_header(im, line)) < 0)
        goto out;
    store_bulk_mode(c->st);
    if ((r = store_begin(c->st)) < 0) {
        fprintf(c->err, "m2mguard: database: %s\n", store_errmsg(c->st));
        goto out;
    }
    int64_t rev = store_rev_next(c->st);
    if (rev < 0) {
        r = (int)rev;
        store_rollback(c->st);
        goto out;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        char *fields[CSV_MAX_FIELDS];
        lineno++;
        /* Blank, and not a line that only looks blank up to a NUL byte. */
        if ((size_t)len == strlen(line) && line[strspn(line, " \t\r\n")] == '\0')
            continue;
        res->rows++;
        if (len > CSV_MAX_LINE) {
            row_error(im, lineno, "line longer than %d bytes", CSV_MAX_LINE);
            continue;
        }
        if ((size_t)len != strlen(line)) {
            row_error(im, lineno, "NUL byte in line");
            continue;
        }
        int n = csv_split(line, fields, CSV_MAX_FIELDS);
        if (n < 0) {
            row_error(im, lineno, "unterminated or misplaced quote");
            continue;
        }
        if (n > CSV_MAX_FIELDS) {
            row_error(im, lineno, "more than %d fields", CSV_MAX_FIELDS);
            continue;
        }
        for (int i = 0; i < n; i++)
            fields[i] = trim(fields[i]);
        import_row(im, lineno, fields, n, rev);
        if (!c->quiet && res->rows % PROGRESS_EVERY == 0) {
            double s = elapsed(&t0);
            fprintf(c->err, "m2mguard: %llu rows checked, %llu bad (%.0f rows/s)\n",
                    (unsigned long long)res->rows, (unsigned long long)im->errors,
                    s > 0 ? (double)res->rows / s : 0.0);
        }
    }
    if (ferror(f)) {
        fprintf(c->err, "%s: read error\n", path);
        im->errors++;
    }
    if (im->errors) {
        store_rollback(c->st);
        if (im->errors > IMPORT_MAX_REPORTED)
            fprintf(c->err, "%s: ... and %llu more bad rows\n", path,
                    (unsigned long long)(im->errors - IMPORT_MAX_REPORTED));
        fprintf(c->err, "m2mguard: import failed: %llu bad rows of %llu; nothing was imported\n",
                (unsigned long long)im->errors, (unsigned long long)res->rows);
        res->errors = im->errors;
        r = -EINVAL;
        goto out;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "{\"rows\":%llu}", (unsigned long long)res->rows);
    if ((r = store_admin_log_role(c->st, c->tenant_scope ? c->tenant_scope : 1, c->actor,
                                  cmd_role(c), "sim.import", path, detail)) < 0 ||
        (r = store_commit(c->st)) < 0) {
        fprintf(c->err, "m2mguard: database: %s; nothing was imported\n", store_errmsg(c->st));
        store_rollback(c->st);
        goto out;
    }
    res->imported = res->rows;
    res->seconds = elapsed(&t0);
    fprintf(c->out, "imported %llu SIMs from %s in %.1f s\n",
            (unsigned long long)res->imported, path, res->seconds);
    cmd_notify(c);
out:
    free(line);
    free(im);
    return r;
}
