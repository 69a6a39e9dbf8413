/*
 * simtab.c — sharded SIM index (see simtab.h for the why).
 *
 * Each shard has an entry array (grown by doubling: O(1) amortized insert;
 * lookups use slot numbers, never pointers, so growth is safe) and a
 * linear-probing hash index from IMSI key to slot.  IMSIs may have leading
 * zeros (test networks use MCC 001), so the key is value * 16 + length.
 * The IMEI index is its own set of shards (key → IMSI key), with
 * backward-shift deletion because a rebinding removes the old IMEI.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ident.h"
#include "engine/model.h"
#include "engine/simtab.h"

struct sim_entry {
    uint64_t imsi_key;
    uint64_t imei;
    uint32_t id;
    uint32_t tenant_id;
    uint32_t group_id;
    uint32_t ip;
    uint32_t storm_start;
    uint16_t storm_count;
    uint8_t state;
    uint8_t bound;
    uint8_t last_sv;
    char iccid[23];
};

/* u64 → u64 map, linear probing, key 0 = empty. */
struct map {
    uint64_t *keys;
    uint64_t *vals;
    uint32_t cap;       /* power of two, or 0 */
    uint32_t n;
};

struct shard {
    pthread_mutex_t lock;
    struct sim_entry *e;
    uint32_t n, cap;
    struct map idx;     /* imsi key → slot */
};

struct imei_shard {
    pthread_mutex_t lock;
    struct map idx;     /* imei key → imsi key */
};

struct simtab {
    struct shard s[SIMTAB_SHARDS];
    struct imei_shard m[SIMTAB_SHARDS];
};

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finalizer: IMSIs are sequential; spread them. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static int map_grow(struct map *m)
{
    uint32_t ncap = m->cap ? m->cap * 2 : 64;
    uint64_t *k = calloc(ncap, sizeof *k), *v = calloc(ncap, sizeof *v);
    if (!k || !v || ncap < m->cap) {
        free(k);
        free(v);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        uint32_t j = (uint32_t)(mix(m->keys[i]) >> 8) & (ncap - 1);
        while (k[j])
            j = (j + 1) & (ncap - 1);
        k[j] = m->keys[i];
        v[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = k;
    m->vals = v;
    m->cap = ncap;
    return 0;
}

static int map_find(const struct map *m, uint64_t key, uint64_t *ret)
{
    if (!m->cap)
        return -ENOENT;
    uint32_t j = (uint32_t)(mix(key) >> 8) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->keys[j] == key) {
            *ret = m->vals[j];
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return -ENOENT;
}

static int map_put(struct map *m, uint64_t key, uint64_t val)
{
    /* Load factor at most 0.7. */
    if ((uint64_t)(m->n + 1) * 10 > (uint64_t)m->cap * 7 && map_grow(m) < 0)
        return -ENOMEM;
    uint32_t j = (uint32_t)(mix(key) >> 8) & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->keys[j])
        m->n++;
    m->keys[j] = key;
    m->vals[j] = val;
    return 0;
}

static void map_del(struct map *m, uint64_t key)
{
    if (!m->cap)
        return;
    uint32_t mask = m->cap - 1;
    uint32_t j = (uint32_t)(mix(key) >> 8) & mask;
    while (m->keys[j] && m->keys[j] != key)
        j = (j + 1) & mask;
    if (!m->keys[j])
        return;
    /* Backward-shift deletion keeps every probe chain unbroken. */
    uint32_t hole = j;
    for (uint32_t i = (j + 1) & mask; m->keys[i]; i = (i + 1) & mask) {
        uint32_t home = (uint32_t)(mix(m->keys[i]) >> 8) & mask;
        /* Move i into the hole if its home is not in (hole, i]. */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->keys[hole] = m->keys[i];
            m->vals[hole] = m->vals[i];
            hole = i;
        }
    }
    m->keys[hole] = 0;
    m->vals[hole] = 0;
    m->n--;
}

static int imsi_key(const char *imsi, size_t len, uint64_t *ret)
{
    uint64_t v;
    if (len < IMSI_MIN || len > IMSI_MAX || ident_digits_u64(imsi, len, &v) < 0)
        return -EINVAL;
    *ret = v * 16 + len;
    return 0;
}

static void imsi_from_key(uint64_t key, char out[16])
{
    unsigned len = (unsigned)(key % 16);
    uint64_t v = key / 16;
    out[len] = '\0';
    for (unsigned i = len; i-- > 0;) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static uint64_t imei_key(uint64_t imei)
{
    return imei | (1ULL << 63);
}

struct simtab *simtab_new(void)
{
    struct simtab *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    for (int i = 0; i < SIMTAB_SHARDS; i++) {
        pthread_mutex_init(&t->s[i].lock, NULL);
        pthread_mutex_init(&t->m[i].lock, NULL);
    }
    return t;
}

void simtab_free(struct simtab *t)
{
    if (!t)
        return;
    for (int i = 0; i < SIMTAB_SHARDS; i++) {
        free(t->s[i].e);
        free(t->s[i].idx.keys);
        free(t->s[i].idx.vals);
        free(t->m[i].idx.keys);
        free(t->m[i].idx.vals);
        pthread_mutex_destroy(&t->s[i].lock);
        pthread_mutex_destroy(&t->m[i].lock);
    }
    free(t);
}

static struct shard *shard_of(struct simtab *t, uint64_t key)
{
    return &t->s[mix(key) % SIMTAB_SHARDS];
}

static struct imei_shard *imei_shard_of(struct simtab *t, uint64_t key)
{
    return &t->m[mix(key) % SIMTAB_SHARDS];
}

/*
 * Point a device IMEI at a SIM.  A provisioned binding (overwrite) takes the
 * index over; a learned one does not displace an existing owner, so a device
 * that moves to a learning SIM is still seen as the other SIM's device.
 */
static void imei_index_set(struct simtab *t, uint64_t imei, uint64_t skey, int overwrite)
{
    uint64_t k = imei_key(imei), v;
    struct imei_shard *m = imei_shard_of(t, k);
    pthread_mutex_lock(&m->lock);
    if (overwrite || map_find(&m->idx, k, &v) < 0)
        (void)map_put(&m->idx, k, skey);    /* on ENOMEM the index only misses a hint */
    pthread_mutex_unlock(&m->lock);
}

static void imei_index_del(struct simtab *t, uint64_t imei, uint64_t skey)
{
    uint64_t k = imei_key(imei), v;
    struct imei_shard *m = imei_shard_of(t, k);
    pthread_mutex_lock(&m->lock);
    /* Only remove it if it still points at this SIM. */
    if (map_find(&m->idx, k, &v) == 0 && v == skey)
        map_del(&m->idx, k);
    pthread_mutex_unlock(&m->lock);
}

int simtab_upsert(struct simtab *t, const struct sim_record *r)
{
    uint64_t key, slot, imei = 0;
    int bound = 0;
    if (imsi_key(r->imsi, strlen(r->imsi), &key) < 0)
        return -EINVAL;
    if (r->imei && r->imei[0]) {
        if (ident_digits_u64(r->imei, strlen(r->imei), &imei) < 0)
            return -EINVAL;
        bound = 1;
    }
    struct shard *s = shard_of(t, key);
    uint64_t old_imei = 0;
    int old_bound = 0;
    pthread_mutex_lock(&s->lock);
    if (map_find(&s->idx, key, &slot) < 0) {
        if (s->n == s->cap) {
            uint32_t ncap = s->cap ? s->cap * 2 : 16;
            struct sim_entry *ne = realloc(s->e, (size_t)ncap * sizeof *ne);
            if (!ne) {
                pthread_mutex_unlock(&s->lock);
                return -ENOMEM;
            }
            s->e = ne;
            s->cap = ncap;
        }
        slot = s->n;
        if (map_put(&s->idx, key, slot) < 0) {
            pthread_mutex_unlock(&s->lock);
            return -ENOMEM;
        }
        s->n++;
        memset(&s->e[slot], 0, sizeof s->e[slot]);
        s->e[slot].imsi_key = key;
        s->e[slot].last_sv = SIM_SV_UNKNOWN;
    }
    struct sim_entry *e = &s->e[slot];
    old_imei = e->imei;
    old_bound = e->bound;
    e->id = r->id;
    e->tenant_id = r->tenant_id;
    e->group_id = r->group_id;
    e->ip = r->ip;
    e->state = (uint8_t)r->state;
    e->imei = imei;
    e->bound = (uint8_t)bound;
    if (r->last_sv >= 0 && e->last_sv == SIM_SV_UNKNOWN)
        e->last_sv = (uint8_t)r->last_sv;
    snprintf(e->iccid, sizeof e->iccid, "%s", r->iccid);
    pthread_mutex_unlock(&s->lock);

    if (old_bound && (!bound || old_imei != imei))
        imei_index_del(t, old_imei, key);
    if (bound)
        imei_index_set(t, imei, key, 1);
    return 0;
}

static void view_of(const struct sim_entry *e, struct sim_view *v)
{
    v->id = e->id;
    v->tenant_id = e->tenant_id;
    v->group_id = e->group_id;
    v->ip = e->ip;
    v->imei = e->imei;
    v->bound = e->bound;
    v->state = e->state;
    v->last_sv = e->last_sv;
    memcpy(v->iccid, e->iccid, sizeof v->iccid);
    imsi_from_key(e->imsi_key, v->imsi);
}

int simtab_remove(struct simtab *t, const char *imsi, size_t len, struct sim_view *ret)
{
    uint64_t key, slot;
    if (imsi_key(imsi, len, &key) < 0)
        return -EINVAL;
    struct shard *s = shard_of(t, key);
    pthread_mutex_lock(&s->lock);
    if (map_find(&s->idx, key, &slot) < 0) {
        pthread_mutex_unlock(&s->lock);
        return -ENOENT;
    }
    struct sim_entry gone = s->e[slot];
    map_del(&s->idx, key);
    /* The shard's last entry fills the hole so that the array stays dense;
     * its index slot is updated in place (map_del just made room, so this
     * map_put does not grow the map). */
    uint32_t last = s->n - 1;
    if (slot != last) {
        s->e[slot] = s->e[last];
        (void)map_put(&s->idx, s->e[slot].imsi_key, slot);
    }
    s->n--;
    pthread_mutex_unlock(&s->lock);
    if (gone.bound)
        imei_index_del(t, gone.imei, key);
    if (ret)
        view_of(&gone, ret);
    return 0;
}

/*
 * Find a SIM by IMSI digits and return its entry with the shard locked
 * (*ret_shard; the caller unlocks), or NULL with nothing locked.
 */
static struct sim_entry *find_locked(struct simtab *t, const char *imsi, size_t len,
                                     struct shard **ret_shard, uint64_t *ret_key)
{
    uint64_t key, slot;
    if (imsi_key(imsi, len, &key) < 0)
        return NULL;
    struct shard *s = shard_of(t, key);
    pthread_mutex_lock(&s->lock);
    if (map_find(&s->idx, key, &slot) < 0) {
        pthread_mutex_unlock(&s->lock);
        return NULL;
    }
    *ret_shard = s;
    if (ret_key)
        *ret_key = key;
    return &s->e[slot];
}

int simtab_attach(struct simtab *t, const char *imsi, size_t len, uint32_t now_s,
                  simtab_window_fn window_of, void *ctx, struct sim_view *ret)
{
    struct shard *s;
    struct sim_entry *e = find_locked(t, imsi, len, &s, NULL);
    int count = 0;
    if (!e)
        return -ENOENT;
    uint32_t window_s = window_of ? window_of(ctx, e->group_id) : 0;
    if (window_s) {
        if (now_s - e->storm_start >= window_s || e->storm_count == 0) {
            e->storm_start = now_s;
            e->storm_count = 0;
        }
        if (e->storm_count < UINT16_MAX)
            e->storm_count++;
        count = e->storm_count;
    }
    view_of(e, ret);
    pthread_mutex_unlock(&s->lock);
    return count;
}

int simtab_get(struct simtab *t, const char *imsi, size_t len, struct sim_view *ret)
{
    struct shard *s;
    struct sim_entry *e = find_locked(t, imsi, len, &s, NULL);
    if (!e)
        return -ENOENT;
    view_of(e, ret);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

int simtab_learn_imei(struct simtab *t, const char *imsi, size_t len, uint64_t imei,
                      uint64_t *ret_bound)
{
    struct shard *s;
    uint64_t key;
    int r;
    struct sim_entry *e = find_locked(t, imsi, len, &s, &key);
    if (!e)
        return -ENOENT;
    if (!e->bound) {
        e->imei = imei;
        e->bound = 1;
        r = 1;
    } else {
        r = e->imei == imei ? 0 : -EEXIST;
    }
    *ret_bound = e->imei;
    pthread_mutex_unlock(&s->lock);
    if (r == 1)
        imei_index_set(t, imei, key, 0);
    return r;
}

int simtab_set_sv(struct simtab *t, const char *imsi, size_t len, uint8_t sv)
{
    struct shard *s;
    struct sim_entry *e = find_locked(t, imsi, len, &s, NULL);
    if (!e)
        return -ENOENT;
    int prev = e->last_sv;
    e->last_sv = sv;
    pthread_mutex_unlock(&s->lock);
    return prev;
}

int simtab_set_state(struct simtab *t, const char *imsi, size_t len, uint8_t state)
{
    struct shard *s;
    struct sim_entry *e = find_locked(t, imsi, len, &s, NULL);
    if (!e)
        return -ENOENT;
    int prev = e->state;
    e->state = state;
    pthread_mutex_unlock(&s->lock);
    return prev;
}

int simtab_imei_owner(struct simtab *t, uint64_t imei, char ret_imsi[16])
{
    uint64_t k = imei_key(imei), v;
    struct imei_shard *m = imei_shard_of(t, k);
    pthread_mutex_lock(&m->lock);
    int r = map_find(&m->idx, k, &v);
    pthread_mutex_unlock(&m->lock);
    if (r == 0)
        imsi_from_key(v, ret_imsi);
    return r;
}

size_t simtab_count(struct simtab *t)
{
    size_t n = 0;
    for (int i = 0; i < SIMTAB_SHARDS; i++) {
        pthread_mutex_lock(&t->s[i].lock);
        n += t->s[i].n;
        pthread_mutex_unlock(&t->s[i].lock);
    }
    return n;
}

size_t simtab_memory(struct simtab *t)
{
    size_t b = sizeof *t;
    for (int i = 0; i < SIMTAB_SHARDS; i++) {
        pthread_mutex_lock(&t->s[i].lock);
        b += (size_t)t->s[i].cap * sizeof(struct sim_entry) + (size_t)t->s[i].idx.cap * 16;
        pthread_mutex_unlock(&t->s[i].lock);
        pthread_mutex_lock(&t->m[i].lock);
        b += (size_t)t->m[i].idx.cap * 16;
        pthread_mutex_unlock(&t->m[i].lock);
    }
    return b;
}
