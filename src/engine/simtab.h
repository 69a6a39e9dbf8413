/*
 * simtab.h — the in-memory SIM index: the hot state of the access plane.
 *
 * Every provisioned SIM lives here, rebuilt from the store at start and
 * kept current by revision sync (DESIGN.md §5).  The RADIUS workers look a
 * SIM up by IMSI on every Access-Request, so the table is split into
 * SIMTAB_SHARDS shards, each with its own mutex, open-addressing index and
 * entry array: two workers contend only when they touch the same shard at
 * the same instant, and no lookup allocates.  A second index maps a bound
 * IMEI to its SIM, to see a bound device come back with another SIM.
 *
 * Memory per SIM: one 72-byte entry plus two index slots of 16 bytes at a
 * load factor of at most 0.7 (see docs/PERFORMANCE.md for the measurement).
 * Lock order: never hold two shard locks; copy out, then lock the next.
 */
#ifndef M2MG_ENGINE_SIMTAB_H
#define M2MG_ENGINE_SIMTAB_H

#include <stddef.h>
#include <stdint.h>

#define SIMTAB_SHARDS 64
#define SIM_SV_UNKNOWN 0xff

/* A SIM as the decision sees it: a copy, consistent at the time of lookup. */
struct sim_view {
    uint32_t id;                /* store row id */
    uint32_t tenant_id;
    uint32_t group_id;
    uint32_t ip;                /* host order, 0 = none */
    uint64_t imei;              /* bound IMEI (14 digits as a number) */
    uint8_t bound;              /* imei is valid */
    uint8_t state;              /* enum sim_state */
    uint8_t last_sv;            /* software version digits, SIM_SV_UNKNOWN */
    char iccid[23];
    char imsi[16];
};

/* What the store says about a SIM (simtab_upsert's input). */
struct sim_record {
    uint32_t id, tenant_id, group_id, ip;
    const char *iccid;
    const char *imsi;
    const char *imei;           /* 14 digits or "" */
    int state;
    int last_sv;                /* -1 unknown */
};

struct simtab;

struct simtab *simtab_new(void);
void simtab_free(struct simtab *t);

/* Insert or update (by IMSI).  Returns 0, -EINVAL (bad IMSI) or -ENOMEM. */
int simtab_upsert(struct simtab *t, const struct sim_record *r)
    __attribute__((warn_unused_result));

/*
 * Look up by IMSI digits for an Access-Request: copies the SIM into *ret
 * and counts the request in the SIM's attach-storm window, whose length
 * window_of(ctx, group_id) gives (the group's policy; 0 = no counting).
 * One lookup, one lock.  Returns the number of requests in the current
 * window (0 when not counted), or -ENOENT when the IMSI is unknown.
 */
typedef uint32_t (*simtab_window_fn)(void *ctx, uint32_t group_id);
int simtab_attach(struct simtab *t, const char *imsi, size_t len, uint32_t now_s,
                  simtab_window_fn window_of, void *ctx, struct sim_view *ret);
/* Look up without counting (CLI, tests). */
int simtab_get(struct simtab *t, const char *imsi, size_t len, struct sim_view *ret);

/*
 * IMEI learning: bind `imei` if the SIM is still unbound.  Returns 1 when it
 * bound it now, 0 when the SIM already had exactly this IMEI, and -EEXIST
 * when another IMEI got bound first (*ret_bound tells which).
 */
int simtab_learn_imei(struct simtab *t, const char *imsi, size_t len, uint64_t imei,
                      uint64_t *ret_bound);
/* Remove a deleted SIM (and its IMEI binding from the device index); its
 * last view in *ret when not NULL.  0, -ENOENT or -EINVAL (bad IMSI). */
int simtab_remove(struct simtab *t, const char *imsi, size_t len, struct sim_view *ret);
/* Change a SIM's state in memory (a response rule's suspend); the previous
 * state, or -ENOENT. */
int simtab_set_state(struct simtab *t, const char *imsi, size_t len, uint8_t state);
/* Remember the last software version seen; returns the previous one. */
int simtab_set_sv(struct simtab *t, const char *imsi, size_t len, uint8_t sv);
/* The SIM (IMSI) a device IMEI is bound to; 0 and ret_imsi, or -ENOENT. */
int simtab_imei_owner(struct simtab *t, uint64_t imei, char ret_imsi[16]);

size_t simtab_count(struct simtab *t);
/* Bytes allocated by the table (entries + indexes). */
size_t simtab_memory(struct simtab *t);

#endif
