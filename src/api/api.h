/*
 * api.h — the HTTP/JSON management API (libmicrohttpd), under /v1.
 *
 * Authentication: `Authorization: Bearer TOKEN` (m2mguard token create);
 * the token's role decides what it may do and its tenant what it may see —
 * another tenant's objects answer 404, as if they did not exist.  Failed
 * authentications are counted per source address: an api_auth_failure
 * finding for the first of each minute, and 429 after API_FAIL_LIMIT of them.
 * The routes and their documents: docs/openapi.json.
 */
#ifndef M2MG_API_H
#define M2MG_API_H

#include <netinet/in.h>
#include <stdint.h>

#define API_CONNECTIONS_MAX 256
#define API_CONNECTIONS_PER_ADDRESS 64
#define API_ERR__COUNT 12
/* The statuses of problem responses that are counted (stats: api.errors). */
extern const unsigned api_err_status[API_ERR__COUNT];

struct engine;
struct store;
struct api;

struct api_options {
    struct sockaddr_in addr;
    int listen_fd;              /* bound and listening (the API owns it), or -1: bind addr */
    struct store *st;           /* its own connection; the API owns it */
    struct engine *eng;         /* findings (api_auth_failure) */
    const char *control;        /* the daemon's control socket (cmd_notify) */
};

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
