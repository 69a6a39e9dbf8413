/*
 * config.h — the daemon's configuration file.
 *
 * Format (see docs/configuration.md): one directive per line, words
 * separated by blanks, "double quotes" for values with blanks or '#',
 * `#` starts a comment, `client NAME { … }` blocks.  Errors are reported as
 * `file:line: message`, all of them, not just the first.  A parsed config
 * is immutable; SIGHUP builds a new one and swaps it in.
 */
#ifndef M2MG_CONFIG_H
#define M2MG_CONFIG_H

#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "out/syslog.h"
#include "out/webhook.h"
#include "radius/crypto.h"

#define CONFIG_NAME_MAX 64
#define CONFIG_MAX_CLIENTS 4096
#define CONFIG_MAX_WORKERS 64
#define CONFIG_DEFAULT_PATH "/etc/m2mguard/m2mguard.conf"
#define CONFIG_USER_MAX 33          /* 32 characters: useradd's limit */

/* Identification attributes a NAS wants in a Disconnect/CoA-Request. */
#define DA_ATTR_USER_NAME           (1u << 0)
#define DA_ATTR_ACCT_SESSION_ID     (1u << 1)
#define DA_ATTR_FRAMED_IP_ADDRESS   (1u << 2)
#define DA_ATTR_CALLING_STATION_ID  (1u << 3)
#define DA_ATTR_3GPP_IMSI           (1u << 4)

struct config_client {
    char name[CONFIG_NAME_MAX];
    char tenant[CONFIG_NAME_MAX];
    uint32_t net;               /* host order */
    uint32_t mask;              /* host order */
    int prefix;
    struct radius_secret secret;
    uint16_t da_port;
    uint32_t da_attrs;          /* DA_ATTR_* */
    int64_t tenant_id;          /* resolved from `tenant` by the daemon */
    int line;
};

struct config {
    char path[PATH_MAX];
    char database[PATH_MAX];
    char control[PATH_MAX];
    char log[PATH_MAX];
    char events[PATH_MAX];
    int workers;
    struct sockaddr_in auth_addr;
    struct sockaddr_in acct_addr;
    struct sockaddr_in api_addr;    /* sin_port 0: no HTTP API */
    char api_tls_cert[PATH_MAX];    /* PEM certificate (chain); "" = plain HTTP */
    char api_tls_key[PATH_MAX];     /* PEM private key, not readable by others */
    struct syslog_conf syslog;      /* proto SYSLOG_OFF: none */
    int require_ma;             /* Message-Authenticator on Access-Request */
    uint32_t dup_cache_size;    /* entries per worker */
    uint32_t dup_cache_ttl;     /* seconds */
    uint32_t journal_queue;     /* findings waiting for the store */
    uint32_t acct_queue;        /* accounting records waiting for their commit */
    uint32_t acct_flush_ms;     /* sessions / usage_daily written from memory */
    uint32_t acct_retention_days;   /* accounting log rows kept; 0 = forever */
    char user[CONFIG_USER_MAX];     /* `user`: run as; empty = the default (daemon/privdrop.h) */
    char group[CONFIG_USER_MAX];    /* `group`: empty = the user's primary group */
    int seccomp;                    /* system call filter once started (daemon/sandbox.h) */
    mode_t mode;                    /* the file's mode when it was read (secrets check) */
    struct webhook_conf webhook;    /* webhook-* directives */
    uint32_t nclients;
    struct config_client *clients;
};

/*
 * Parse `path`.  Every error is printed to `errf` as "file:line: message";
 * warnings (weak secrets) as "file:line: warning: message".  Returns 0 and
 * *ret, or -EINVAL (bad content) / -errno (cannot read).  Caller frees.
 */
int config_load(const char *path, FILE *errf, struct config **ret)
    __attribute__((warn_unused_result));
void config_free(struct config *c);

/*
 * Every file the configuration names that holds a secret — today the file
 * itself, which holds the clients' RADIUS shared secrets — must not be
 * readable or writable by every user.  Prints one "FILE: message" line per
 * offending file to `errf`, with the fix; returns 0 or -EACCES.  `serve`
 * refuses to start (and a reload to apply) on -EACCES.
 */
int config_check_secret_files(const struct config *c, FILE *errf)
    __attribute__((warn_unused_result));

/*
 * Split a line into words in place: blanks separate, "double quotes" group
 * (with \" and \\ escapes), # starts a comment.  Returns the number of
 * words (at most max; *ret_too_many set when more) or -1 for a bad quote.
 * Shared by the config parser and the simulator's scenario files.
 */
int config_split_words(char *line, char **words, int max, int *ret_too_many);

/* The most specific client whose network holds addr (host order), or NULL. */
const struct config_client *config_client_find(const struct config *c, uint32_t addr);

#endif
