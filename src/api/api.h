/*
 * api.h — the HTTP/JSON management API (libmicrohttpd), under /v1.
 *
 * Authentication: `Authorization: Bearer TOKEN` (m2mguard token create);
 * the token's role decides what it may do and its tenant what it may see —
 * another tenant's objects answer 404, as if they did not exist.  Failed
 * authentications are counted per source address: an api_auth_failure
 * finding for the first of each minute, and 429 after API_FAIL_LIMIT of them.
 * The routes and their documents: docs/openapi.json.  HTTPS when
 * `listen api … tls CERT KEY` is configured (libmicrohttpd with GnuTLS).
 */
#ifndef M2MG_API_H
#define M2MG_API_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define API_CONNECTIONS_MAX 256
#define API_CONNECTIONS_PER_ADDRESS 64
#define API_ERR__COUNT 12
/* The statuses of problem responses that are counted (stats: api.errors). */
extern const unsigned api_err_status[API_ERR__COUNT];

struct engine;
struct store;
struct webhook_sender;
struct api;

struct api_options {
    struct sockaddr_in addr;
    int listen_fd;              /* bound and listening (the API owns it), or -1: bind addr */
    struct store *st;           /* its own connection; the API owns it */
    const char *database;       /* the store's path, for the audit verification's thread */
    struct engine *eng;         /* findings (api_auth_failure) */
    const char *control;        /* the daemon's control socket (cmd_notify) */
    const struct api_tls *tls;  /* NULL: plain HTTP */
    struct webhook_sender *webhooks;    /* /metrics: delivery counters (NULL: none) */
};

/* The API's certificate and key (PEM), read by api_tls_read(). */
#define API_TLS_FILE_MAX 65536
struct api_tls {
    char *cert;
    char *key;
};
/*
 * Read the certificate (chain) and the private key for `listen api … tls`.
 * Refused, with the reason in why[]: libmicrohttpd without TLS (-ENOTSUP),
 * a key file readable or writable by every user (-EPERM: chmod 600), a
 * file that cannot be read, is empty, larger than API_TLS_FILE_MAX or not
 * PEM (-EINVAL).  The caller frees with api_tls_free() (which wipes the
 * key).  The API keeps its own copy.
 */
int api_tls_read(const char *cert_path, const char *key_path, struct api_tls *ret,
                 char *why, size_t whylen) __attribute__((warn_unused_result));
void api_tls_free(struct api_tls *t);

struct api_stats {
    uint64_t requests;
    uint64_t auth_failures;
    uint64_t throttled;
    uint64_t errors[API_ERR__COUNT];    /* by api_err_status[i] */
    uint64_t connections;               /* accepted */
    int64_t connections_open;           /* gauge */
    uint64_t connections_refused;       /* over API_CONNECTIONS_MAX or ..._PER_ADDRESS */
    uint64_t http_errors;               /* answered by libmicrohttpd itself (400, 413, 431...) */
    uint64_t streams_open;              /* GET /v1/stream connections */
    uint64_t stream_events;             /* events published to the streams */
    uint64_t stream_sent;               /* events written to streams */
    uint64_t stream_gaps;               /* "gap" events: a stream fell behind */
};

int api_start(const struct api_options *o, struct api **ret);
void api_get_stats(struct api *a, struct api_stats *ret);
void api_stop(struct api *a);

#endif
