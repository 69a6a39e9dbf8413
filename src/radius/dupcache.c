/*
 * dupcache.c — see dupcache.h.  Memory: size * (sizeof entry ≈ 360 bytes),
 * allocated once; pages are touched only as entries are used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radius/dupcache.h"

struct entry {
    int64_t expires_ms;
    uint32_t ip;
    uint16_t port;
    uint16_t len;
    uint8_t id;
    uint8_t used;
    uint8_t auth[16];
    uint8_t reply[DUPCACHE_REPLY_MAX];
};

struct dupcache {
    uint32_t mask;
    uint32_t ttl_ms;
    struct entry *e;
};

struct dupcache *dupcache_new(uint32_t size, uint32_t ttl_ms)
{
    uint32_t n = 16;
    while (n < size && n < (1u << 24))
        n <<= 1;
    struct dupcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->e = calloc(n, sizeof *c->e);
    if (!c->e) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    c->ttl_ms = ttl_ms;
    return c;
}

void dupcache_free(struct dupcache *c)
{
    if (!c)
        return;
    free(c->e);
    free(c);
}

static uint32_t slot(const struct dupcache *c, uint32_t ip, uint16_t port, uint8_t id,
                     const uint8_t auth[16])
{
    uint32_t a;
    memcpy(&a, auth, 4);
    uint64_t h = ((uint64_t)ip << 32 | (uint64_t)port << 16 | id) ^ ((uint64_t)a * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return (uint32_t)h & c->mask;
}

const uint8_t *dupcache_find(struct dupcache *c, uint32_t ip, uint16_t port, uint8_t id,
                             const uint8_t auth[16], int64_t now_ms, size_t *ret_len)
{
    struct entry *e = &c->e[slot(c, ip, port, id, auth)];
    if (!e->used || e->ip != ip || e->port != port || e->id != id ||
        e->expires_ms < now_ms || memcmp(e->auth, auth, 16) != 0)
        return NULL;
    *ret_len = e->len;
    return e->reply;
}

int dupcache_put(struct dupcache *c, uint32_t ip, uint16_t port, uint8_t id,
                 const uint8_t auth[16], const uint8_t *reply, size_t len, int64_t now_ms)
{
    if (len > DUPCACHE_REPLY_MAX)
        return -E2BIG;
    struct entry *e = &c->e[slot(c, ip, port, id, auth)];
    int evicted = e->used && e->expires_ms >= now_ms;
    e->used = 1;
    e->ip = ip;
    e->port = port;
    e->id = id;
    memcpy(e->auth, auth, 16);
    e->len = (uint16_t)len;
    memcpy(e->reply, reply, len);
    e->expires_ms = now_ms + c->ttl_ms;
    return evicted;
}
