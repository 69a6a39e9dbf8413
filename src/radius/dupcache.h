/*
 * dupcache.h — the duplicate-request cache (RFC 5080 §2.2.2).
 *
 * A NAS retransmits a request it got no answer to; the retransmission has
 * the same source, port, Identifier and Request Authenticator, and must get
 * the same reply without being evaluated again (or a storm counter would
 * count it twice and a learned IMEI might be judged again).  One cache per
 * worker: SO_REUSEPORT sends a given source to the same socket, so no lock.
 * Direct-mapped with a fixed size chosen at start: a collision evicts, a
 * miss only costs a re-evaluation.  No allocation after dupcache_new().
 */
#ifndef M2MG_RADIUS_DUPCACHE_H
#define M2MG_RADIUS_DUPCACHE_H

#include <stddef.h>
#include <stdint.h>

#define DUPCACHE_REPLY_MAX 320      /* larger replies are not cached (counted) */

struct dupcache;

/* size: entries (rounded up to a power of two); ttl_ms: how long a reply is kept. */
struct dupcache *dupcache_new(uint32_t size, uint32_t ttl_ms);
void dupcache_free(struct dupcache *c);

/* The cached reply for this request, or NULL; *ret_len set on a hit. */
const uint8_t *dupcache_find(struct dupcache *c, uint32_t ip, uint16_t port, uint8_t id,
                             const uint8_t auth[16], int64_t now_ms, size_t *ret_len);
/* Remember a reply; returns 0, 1 when it took the slot of a reply still
 * within its time (evicted: that request's retransmission will be
 * evaluated again), or -E2BIG when it is too large to cache. */
int dupcache_put(struct dupcache *c, uint32_t ip, uint16_t port, uint8_t id,
                 const uint8_t auth[16], const uint8_t *reply, size_t len, int64_t now_ms);

#endif
