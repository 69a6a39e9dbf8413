/*
 * server.h — the RADIUS authentication listener (UDP, 1812 by default).
 *
 * N worker threads, each with its own SO_REUSEPORT socket on the same
 * address, read batches with recvmmsg() and answer with sendmmsg().  A
 * worker owns its buffers, its duplicate cache and its counters, so the
 * only shared things it touches are the SIM index shards, the engine's
 * group table and the configuration — the last two read without locks
 * under QSBR.  The listener decodes and authenticates; the engine decides.
 */
#ifndef M2MG_RADIUS_SERVER_H
#define M2MG_RADIUS_SERVER_H

#include <stdint.h>

#include <netinet/in.h>

#include "config/config.h"
#include "radius/gpp.h"
#include "radius/radius.h"

struct engine;
struct radius_server;

/* Per-client counters; they survive configuration reloads (keyed by name). */
struct client_stats {
    char name[CONFIG_NAME_MAX];
    _Atomic uint64_t requests;
    _Atomic uint64_t bad_authenticator;
    _Atomic uint64_t ma_missing;
    _Atomic int64_t last_report_ms;
    _Atomic uint64_t unreported;
};

struct server_stats {
    uint64_t received;
    uint64_t answered;
    uint64_t accepts;
    uint64_t rejects;
    uint64_t duplicates;
    uint64_t dup_uncached;
    uint64_t dup_evicted;               /* cached replies replaced within their time */
    uint64_t send_errors;
    /* Datagrams the kernel dropped before any worker read them (a receive
     * buffer full), summed over the listening sockets: not in `received`. */
    uint64_t socket_drops;
    uint64_t dropped[RADIUS_E__COUNT];  /* by radius_error */
    uint64_t gpp_errors[GPP_E__COUNT];  /* by gpp_error (packet dropped) */
};

/*
 * Bind the sockets of cfg's listeners (fatal errors returned, nothing
 * started, cfg not kept).  The daemon does it while still root, before it
 * opens the store that radius_server_reconfigure() needs.
 */
int radius_server_new(struct engine *e, const struct config *cfg, struct radius_server **ret)
    __attribute__((warn_unused_result));
/* Start the workers; a configuration must have been installed. */
int radius_server_start(struct radius_server *s);
/*
 * Install a configuration, the first one or a new one (the server takes
 * ownership, even on failure; a previous one is retired).  The clients'
 * tenant_id must be resolved.
 */
int radius_server_reconfigure(struct radius_server *s, struct config *cfg);
void radius_server_stop(struct radius_server *s);
void radius_server_free(struct radius_server *s);

/* Where and how to reach a NAS with a Disconnect/CoA-Request. */
struct nas_target {
    struct sockaddr_in addr;        /* the NAS's address, its da-port */
    struct radius_secret secret;    /* a copy */
    uint32_t da_attrs;
};
/*
 * The client named `name` in the running configuration, at `ip` (host
 * order; the address its accounting came from).  -ENOENT when no such
 * client.  Call inside a QSBR online section.
 */
int radius_server_nas(struct radius_server *s, const char *name, uint32_t ip,
                      struct nas_target *ret);

void radius_server_get_stats(struct radius_server *s, struct server_stats *ret);
/* Visit each known client's counters. */
void radius_server_foreach_client(struct radius_server *s,
                                  void (*fn)(void *ctx, const struct client_stats *c),
                                  void *ctx);

#endif
