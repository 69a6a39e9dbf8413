/*
 * config.c — parser for the daemon configuration (OpenBSD style).
 *
 * A line is split into words first (quotes, comments), then interpreted by
 * a small table of directives.  The parser keeps going after an error so
 * that `m2mguard check-config` shows every mistake at once.  Secrets are
 * turned into struct radius_secret immediately and never printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "config/config.h"
#include "core/ident.h"

#define MAX_WORDS 32
#define MAX_LINE 4096

struct parser {
    const char *path;
    FILE *errf;
    int line;
    int errors;
    struct config *cfg;
    struct config_client *client;   /* inside a client block */
    int acct_set;                   /* `listen acct` given */
    size_t cap;
};

static void perr(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void perr(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    p->errors++;
    if (!p->errf)
        return;
    fprintf(p->errf, "%s:%d: ", p->path, p->line);
    va_start(ap, fmt);
    vfprintf(p->errf, fmt, ap);
    va_end(ap);
    fputc('\n', p->errf);
}

static void pwarn(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pwarn(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    if (!p->errf)
        return;
    fprintf(p->errf, "%s:%d: warning: ", p->path, p->line);
    va_start(ap, fmt);
    vfprintf(p->errf, fmt, ap);
    va_end(ap);
    fputc('\n', p->errf);
}

int config_split_words(char *s, char **words, int max, int *ret_too_many)
{
    int n = 0;
    *ret_too_many = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        if (*s == '\0' || *s == '#' || *s == '\n')
            return n;
        if (n == max) {
            *ret_too_many = 1;
            return n;
        }
        if (*s == '"') {
            char *out = ++s;
            words[n++] = out;
            while (*s != '"') {
                if (*s == '\0' || *s == '\n')
                    return -1;
                if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                    s++;
                *out++ = *s++;
            }
            s++;
            *out = '\0';
            if (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' && *s != '#')
                return -1;
            if (*s == '#' || *s == '\n' || *s == '\0') {
                *s = '\0';
                return n;
            }
            *s++ = '\0';
            continue;
        }
        words[n++] = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' && *s != '#')
            s++;
        if (*s == '#' || *s == '\n' || *s == '\0') {
            *s = '\0';
            return n;
        }
        *s++ = '\0';
    }
}

static int parse_uint(const char *s, unsigned long min, unsigned long max,
                      unsigned long *ret)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *ret = v;
    return 0;
}

static int parse_hostport(const char *s, struct sockaddr_in *ret)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    unsigned long port;
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (parse_uint(colon + 1, 1, 65535, &port) < 0)
        return -1;
    memset(ret, 0, sizeof *ret);
    ret->sin_family = AF_INET;
    ret->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &ret->sin_addr) != 1)
        return -1;
    return 0;
}

static int set_path(struct parser *p, char *dst, const char *val)
{
    size_t n = strlen(val);
    if (n == 0 || n >= PATH_MAX) {
        perr(p, "path is empty or too long");
        return -1;
    }
    memcpy(dst, val, n + 1);
    return 0;
}

/*
 * A user or group name for `user` / `group`: 1 to 32 of the POSIX portable
 * filename characters, not starting with '-' (useradd's own rule, minus
 * the trailing '$' of machine accounts).
 */
static void set_account_name(struct parser *p, const char *what, char *dst, const char *val)
{
    size_t n = strlen(val);
    int ok = n > 0 && n < CONFIG_USER_MAX && val[0] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = (val[i] >= 'a' && val[i] <= 'z') || (val[i] >= 'A' && val[i] <= 'Z') ||
             (val[i] >= '0' && val[i] <= '9') || val[i] == '.' || val[i] == '_' || val[i] == '-';
    if (!ok) {
        perr(p, "%s must be a %s name: 1 to %d letters, digits, '.', '_' or '-'", what, what,
             CONFIG_USER_MAX - 1);
        return;
    }
    memcpy(dst, val, n + 1);
}

static void client_begin(struct parser *p, char **w, int n)
{
    if (n != 3 || strcmp(w[2], "{") != 0) {
        perr(p, "usage: client NAME {");
        return;
    }
    if (ident_check_name(w[1]) < 0) {
        perr(p, "client name \"%.70s\": %s", w[1], ident_error_str(IDENT_E_NAME));
        return;
    }
    struct config *c = p->cfg;
    for (uint32_t i = 0; i < c->nclients; i++)
        if (strcmp(c->clients[i].name, w[1]) == 0)
            perr(p, "client \"%s\" already defined at line %d", w[1], c->clients[i].line);
    if (c->nclients >= CONFIG_MAX_CLIENTS) {
        perr(p, "more than %d clients", CONFIG_MAX_CLIENTS);
        return;
    }
    if (c->nclients == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 8;
        struct config_client *nc = realloc(c->clients, ncap * sizeof *nc);
        if (!nc) {
            perr(p, "out of memory");
            return;
        }
        c->clients = nc;
        p->cap = ncap;
    }
    struct config_client *cl = &c->clients[c->nclients++];
    memset(cl, 0, sizeof *cl);
    snprintf(cl->name, sizeof cl->name, "%s", w[1]);
    snprintf(cl->tenant, sizeof cl->tenant, "default");
    cl->da_port = 3799;
    cl->da_attrs = DA_ATTR_USER_NAME | DA_ATTR_ACCT_SESSION_ID | DA_ATTR_FRAMED_IP_ADDRESS;
    cl->prefix = -1;
    cl->line = p->line;
    p->client = cl;
}

static void client_directive(struct parser *p, char **w, int n)
{
    struct config_client *cl = p->client;
    unsigned long v;

    if (strcmp(w[0], "address") == 0) {
        if (n != 2) {
            perr(p, "usage: address A.B.C.D[/PREFIX]");
            return;
        }
        char buf[64];
        /* Refuse rather than truncate: a cut value could parse as another. */
        if (strlen(w[1]) >= sizeof buf) {
            perr(p, "bad IPv4 address \"%.*s...\"", (int)sizeof buf - 1, w[1]);
            return;
        }
        memcpy(buf, w[1], strlen(w[1]) + 1);
        char *slash = strchr(buf, '/');
        unsigned long prefix = 32;
        if (slash) {
            *slash = '\0';
            if (parse_uint(slash + 1, 0, 32, &prefix) < 0) {
                perr(p, "bad prefix length in \"%s\"", w[1]);
                return;
            }
        }
        uint32_t a;
        if (ident_parse_ipv4(buf, strlen(buf), &a) < 0) {
            perr(p, "bad IPv4 address \"%s\"", w[1]);
            return;
        }
        cl->mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
        cl->net = a & cl->mask;
        cl->prefix = (int)prefix;
        if (cl->net != a)
            pwarn(p, "address %s has host bits set; using the network", w[1]);
    } else if (strcmp(w[0], "secret") == 0) {
        if (n != 2) {
            perr(p, "usage: secret \"SHARED-SECRET\"");
            return;
        }
        size_t len = strlen(w[1]);
        if (radius_secret_init(&cl->secret, w[1], len) < 0) {
            perr(p, "secret must be 1 to %d characters", RADIUS_SECRET_MAX);
            return;
        }
        if (len < 16)
            pwarn(p, "secret of client \"%s\" is shorter than 16 characters; "
                  "use a long random secret (Blast-RADIUS, CVE-2024-3596)", cl->name);
    } else if (strcmp(w[0], "tenant") == 0) {
        if (n != 2 || ident_check_name(w[1]) < 0) {
            perr(p, "usage: tenant NAME (%s)", ident_error_str(IDENT_E_NAME));
            return;
        }
        snprintf(cl->tenant, sizeof cl->tenant, "%s", w[1]);
    } else if (strcmp(w[0], "da-port") == 0) {
        if (n != 2 || parse_uint(w[1], 1, 65535, &v) < 0) {
            perr(p, "usage: da-port 1..65535");
            return;
        }
        cl->da_port = (uint16_t)v;
    } else if (strcmp(w[0], "da-attributes") == 0) {
        static const struct { const char *name; uint32_t bit; } names[] = {
            { "user-name", DA_ATTR_USER_NAME },
            { "acct-session-id", DA_ATTR_ACCT_SESSION_ID },
            { "framed-ip-address", DA_ATTR_FRAMED_IP_ADDRESS },
            { "calling-station-id", DA_ATTR_CALLING_STATION_ID },
            { "3gpp-imsi", DA_ATTR_3GPP_IMSI },
        };
        if (n < 2) {
            perr(p, "usage: da-attributes ATTR...");
            return;
        }
        cl->da_attrs = 0;
        for (int i = 1; i < n; i++) {
            size_t k;
            for (k = 0; k < sizeof names / sizeof names[0]; k++)
                if (strcmp(w[i], names[k].name) == 0)
                    break;
            if (k == sizeof names / sizeof names[0]) {
                perr(p, "unknown identification attribute \"%s\" (user-name, "
                     "acct-session-id, framed-ip-address, calling-station-id, 3gpp-imsi)", w[i]);
                continue;
            }
            cl->da_attrs |= names[k].bit;
        }
    } else {
        perr(p, "unknown client directive \"%s\"", w[0]);
    }
}

static void client_end(struct parser *p)
{
    struct config_client *cl = p->client;
    int line = p->line;
    p->line = cl->line;
    if (cl->prefix < 0)
        perr(p, "client \"%s\" has no address", cl->name);
    if (cl->secret.len == 0)
        perr(p, "client \"%s\" has no secret", cl->name);
    p->line = line;
    p->client = NULL;
}

static void directive(struct parser *p, char **w, int n)
{
    struct config *c = p->cfg;
    unsigned long v;

    if (strcmp(w[0], "client") == 0) {
        client_begin(p, w, n);
        return;
    }
    if (strcmp(w[0], "listen") == 0) {
        /* listen api ADDRESS:PORT tls CERT KEY: HTTPS (libmicrohttpd's TLS). */
        int tls = n == 6 && strcmp(w[1], "api") == 0 && strcmp(w[3], "tls") == 0;
        if ((n != 3 && !tls) || (strcmp(w[1], "auth") != 0 && strcmp(w[1], "acct") != 0 &&
                                 strcmp(w[1], "api") != 0)) {
            perr(p, "usage: listen auth|acct|api ADDRESS:PORT, or listen api ADDRESS:PORT "
                 "tls CERT.pem KEY.pem");
            return;
        }
        if (tls && (set_path(p, c->api_tls_cert, w[4]) < 0 ||
                    set_path(p, c->api_tls_key, w[5]) < 0))
            return;
        if (!tls && w[1][1] == 'p')
            c->api_tls_cert[0] = c->api_tls_key[0] = '\0';   /* the last line counts */
        if (parse_hostport(w[2], w[1][1] == 'u' ? &c->auth_addr
                                 : w[1][1] == 'p' ? &c->api_addr : &c->acct_addr) < 0)
            perr(p, "bad address \"%s\" (expected IPv4:PORT)", w[2]);
        else if (w[1][1] == 'c')
            p->acct_set = 1;
        return;
    }
    if (strcmp(w[0], "syslog") == 0) {
        if ((n != 3 && n != 4) || (strcmp(w[1], "udp") != 0 && strcmp(w[1], "tcp") != 0) ||
            (n == 4 && strcmp(w[3], "json") != 0 && strcmp(w[3], "cef") != 0)) {
            perr(p, "usage: syslog udp|tcp ADDRESS:PORT [json|cef]");
            return;
        }
        if (parse_hostport(w[2], &c->syslog.addr) < 0) {
            perr(p, "bad address \"%s\" (expected IPv4:PORT)", w[2]);
            return;
        }
        c->syslog.proto = w[1][0] == 'u' ? SYSLOG_UDP : SYSLOG_TCP;
        c->syslog.format = n == 4 && strcmp(w[3], "cef") == 0 ? SYSLOG_CEF : SYSLOG_JSON;
        c->syslog.facility = 16;    /* local0 */
        return;
    }
    if (n != 2) {
        perr(p, "directive \"%s\" takes exactly one value", w[0]);
        return;
    }
    if (strcmp(w[0], "database") == 0) {
        set_path(p, c->database, w[1]);
    } else if (strcmp(w[0], "control") == 0) {
        if (strlen(w[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            perr(p, "control socket path longer than %zu characters",
                 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        else
            set_path(p, c->control, w[1]);
    } else if (strcmp(w[0], "log") == 0) {
        set_path(p, c->log, w[1]);
    } else if (strcmp(w[0], "events") == 0) {
        set_path(p, c->events, w[1]);
    } else if (strcmp(w[0], "workers") == 0) {
        if (parse_uint(w[1], 1, CONFIG_MAX_WORKERS, &v) < 0)
            perr(p, "workers must be 1..%d", CONFIG_MAX_WORKERS);
        else
            c->workers = (int)v;
    } else if (strcmp(w[0], "require-message-authenticator") == 0) {
        if (strcmp(w[1], "yes") == 0)
            c->require_ma = 1;
        else if (strcmp(w[1], "no") == 0)
            c->require_ma = 0;
        else
            perr(p, "require-message-authenticator must be yes or no");
    } else if (strcmp(w[0], "dup-cache-size") == 0) {
        if (parse_uint(w[1], 16, 1u << 24, &v) < 0)
            perr(p, "dup-cache-size must be 16..16777216");
        else
            c->dup_cache_size = (uint32_t)v;
    } else if (strcmp(w[0], "dup-cache-ttl") == 0) {
        if (parse_uint(w[1], 1, 300, &v) < 0)
            perr(p, "dup-cache-ttl must be 1..300 seconds");
        else
            c->dup_cache_ttl = (uint32_t)v;
    } else if (strcmp(w[0], "acct-queue") == 0) {
        if (parse_uint(w[1], 64, 1u << 22, &v) < 0)
            perr(p, "acct-queue must be 64..4194304");
        else
            c->acct_queue = (uint32_t)v;
    } else if (strcmp(w[0], "acct-flush") == 0) {
        if (parse_uint(w[1], 100, 600000, &v) < 0)
            perr(p, "acct-flush must be 100..600000 milliseconds");
        else
            c->acct_flush_ms = (uint32_t)v;
    } else if (strcmp(w[0], "acct-retention") == 0) {
        if (parse_uint(w[1], 0, 36500, &v) < 0)
            perr(p, "acct-retention must be 0..36500 days (0: keep forever)");
        else
            c->acct_retention_days = (uint32_t)v;
    } else if (strcmp(w[0], "user") == 0) {
        set_account_name(p, "user", c->user, w[1]);
    } else if (strcmp(w[0], "group") == 0) {
        set_account_name(p, "group", c->group, w[1]);
    } else if (strcmp(w[0], "seccomp") == 0) {
        if (strcmp(w[1], "on") == 0)
            c->seccomp = 1;
        else if (strcmp(w[1], "off") == 0)
            c->seccomp = 0;
        else
            perr(p, "seccomp must be on or off");
    } else if (strcmp(w[0], "webhook-timeout") == 0) {
        if (parse_uint(w[1], 100, 120000, &v) < 0)
            perr(p, "webhook-timeout must be 100..120000 milliseconds");
        else
            c->webhook.timeout_ms = (uint32_t)v;
    } else if (strcmp(w[0], "webhook-attempts") == 0) {
        if (parse_uint(w[1], 1, 100, &v) < 0)
            perr(p, "webhook-attempts must be 1..100");
        else
            c->webhook.attempts = (uint32_t)v;
    } else if (strcmp(w[0], "webhook-backoff-min") == 0) {
        if (parse_uint(w[1], 10, 86400000, &v) < 0)
            perr(p, "webhook-backoff-min must be 10..86400000 milliseconds");
        else
            c->webhook.backoff_min_ms = (uint32_t)v;
    } else if (strcmp(w[0], "webhook-backoff-max") == 0) {
        if (parse_uint(w[1], 10, 86400000, &v) < 0)
            perr(p, "webhook-backoff-max must be 10..86400000 milliseconds");
        else
            c->webhook.backoff_max_ms = (uint32_t)v;
    } else if (strcmp(w[0], "webhook-outbox-max") == 0) {
        if (parse_uint(w[1], 1, 100000000, &v) < 0)
            perr(p, "webhook-outbox-max must be 1..100000000 events");
        else
            c->webhook.outbox_max = (uint32_t)v;
    } else if (strcmp(w[0], "webhook-retention") == 0) {
        if (parse_uint(w[1], 1, 3650, &v) < 0)
            perr(p, "webhook-retention must be 1..3650 days");
        else
            c->webhook.keep_days = (uint32_t)v;
    } else if (strcmp(w[0], "journal-queue") == 0) {
        if (parse_uint(w[1], 64, 1u << 22, &v) < 0)
            perr(p, "journal-queue must be 64..4194304");
        else
            c->journal_queue = (uint32_t)v;
    } else {
        perr(p, "unknown directive \"%s\"", w[0]);
    }
}

static void defaults(struct config *c, const char *path)
{
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(c->database, sizeof c->database, "/var/lib/m2mguard/m2mguard.db");
    snprintf(c->control, sizeof c->control, "/run/m2mguard/control.sock");
    snprintf(c->log, sizeof c->log, "stderr");
    snprintf(c->events, sizeof c->events, "none");
    c->workers = 2;
    c->auth_addr.sin_family = AF_INET;
    c->auth_addr.sin_port = htons(1812);
    c->auth_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->acct_queue = 65536;
    c->acct_flush_ms = 1000;
    c->acct_retention_days = 90;
    c->require_ma = 1;
    c->dup_cache_size = 65536;
    c->dup_cache_ttl = 10;
    c->journal_queue = 65536;
    c->seccomp = 1;
    c->webhook.timeout_ms = 10000;
    c->webhook.attempts = 16;           /* about four hours with the backoff below */
    c->webhook.backoff_min_ms = 1000;
    c->webhook.backoff_max_ms = 3600000;
    c->webhook.outbox_max = 100000;
    c->webhook.keep_days = 7;
}

/*
 * fgets() that also says how many octets it stored: strlen() stops at a NUL
 * byte in the line and would hide the rest of it.  The buffer is filled
 * with '\n' first, so the last NUL in it is the one fgets() appended.
 * Returns that length, or -1 at end of file or on a read error.
 */
static ssize_t read_line(char *line, size_t size, FILE *f)
{
    memset(line, '\n', size);
    if (!fgets(line, (int)size, f))
        return -1;
    return (const char *)memrchr(line, '\0', size) - line;
}

int config_load(const char *path, FILE *errf, struct config **ret)
{
    struct parser p = { .path = path, .errf = errf };
    char line[MAX_LINE + 2];
    char *words[MAX_WORDS];

    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        if (errf)
            fprintf(errf, "%s: %s\n", path, strerror(e));
        return -e;
    }
    p.cfg = calloc(1, sizeof *p.cfg);
    if (!p.cfg) {
        (void)fclose(f);
        return -ENOMEM;
    }
    defaults(p.cfg, path);
    /* The mode of what is read, not of whatever the path names later. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0)
        p.cfg->mode = st.st_mode;

    ssize_t len;
    while ((len = read_line(line, sizeof line, f)) >= 0) {
        p.line++;
        /* The newline is not one of the MAX_LINE characters. */
        if ((size_t)len - (len > 0 && line[len - 1] == '\n') > MAX_LINE) {
            perr(&p, "line longer than %d characters", MAX_LINE);
            /* skip the rest of the physical line */
            while (line[len - 1] != '\n' && (len = read_line(line, sizeof line, f)) > 0)
                ;
            continue;
        }
        if (strlen(line) != (size_t)len) {
            perr(&p, "NUL byte in line");
            continue;
        }
        int too_many;
        int n = config_split_words(line, words, MAX_WORDS, &too_many);
        if (n < 0) {
            perr(&p, "unterminated or misplaced quote");
            continue;
        }
        if (too_many) {
            perr(&p, "more than %d words", MAX_WORDS);
            continue;
        }
        if (n == 0)
            continue;
        if (strcmp(words[0], "}") == 0 && n == 1) {
            if (!p.client)
                perr(&p, "\"}\" without a block");
            else
                client_end(&p);
            continue;
        }
        if (p.client)
            client_directive(&p, words, n);
        else
            directive(&p, words, n);
    }
    if (ferror(f))
        perr(&p, "read error");
    (void)fclose(f);      /* read only: nothing to lose */
    if (p.client) {
        perr(&p, "client \"%s\" block is not closed", p.client->name);
        p.client = NULL;
    }
    /* Accounting listens next to authentication unless told otherwise
     * (1812 → 1813, the RFC 2866 convention). */
    if (!p.acct_set) {
        p.cfg->acct_addr = p.cfg->auth_addr;
        uint16_t port = ntohs(p.cfg->auth_addr.sin_port);
        if (port == 65535)
            perr(&p, "listen auth port 65535 leaves no port for accounting: give listen acct");
        p.cfg->acct_addr.sin_port = htons((uint16_t)(port + 1));
    }
    if (p.cfg->webhook.backoff_min_ms > p.cfg->webhook.backoff_max_ms)
        perr(&p, "webhook-backoff-min (%u ms) is above webhook-backoff-max (%u ms)",
             p.cfg->webhook.backoff_min_ms, p.cfg->webhook.backoff_max_ms);
    if (p.errors) {
        config_free(p.cfg);
        return -EINVAL;
    }
    *ret = p.cfg;
    return 0;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->nclients; i++)
        radius_secret_wipe(&c->clients[i].secret);
    free(c->clients);
    free(c);
}

int config_check_secret_files(const struct config *c, FILE *errf)
{
    /* A configuration without clients holds no secret. */
    if (c->nclients == 0 || !(c->mode & (S_IROTH | S_IWOTH)))
        return 0;
    if (errf)
        fprintf(errf, "%s: holds RADIUS shared secrets and is %s by every user; "
                "fix: chmod o-rwx %s (mode 600, or 640 with the group of the daemon's user)\n",
                c->path, (c->mode & S_IROTH) && (c->mode & S_IWOTH) ? "readable and writable"
                         : c->mode & S_IROTH ? "readable" : "writable", c->path);
    return -EACCES;
}

const struct config_client *config_client_find(const struct config *c, uint32_t addr)
{
    const struct config_client *best = NULL;
    for (uint32_t i = 0; i < c->nclients; i++) {
        const struct config_client *cl = &c->clients[i];
        if ((addr & cl->mask) == cl->net && (!best || cl->prefix > best->prefix))
            best = cl;
    }
    return best;
}
