/*
 * policy.h — a group's policy: the JSON document an operator writes
 * (docs/policy.md) compiled into a flat struct the RADIUS workers read
 * without locks or allocation.
 *
 * A compiled policy is immutable.  A change compiles a new one and swaps
 * the group's pointer; the old one is retired through QSBR (core/qsbr.h).
 */
#ifndef M2MG_ENGINE_POLICY_H
#define M2MG_ENGINE_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/model.h"
#include "radius/gpp.h"

#define POLICY_MAX_LIST 4096        /* entries in any allow-list */
#define POLICY_MAX_BODY (1 << 20)   /* bytes of policy JSON */
#define POLICY_CLASS_MAX 64
#define POLICY_CRED_MAX 128

enum rule_mode { MODE_OFF, MODE_ALERT, MODE_ENFORCE, MODE_LEARN };

/* Usage thresholds: [period][level][direction], bytes, 0 = not set. */
enum usage_period { USAGE_DAY, USAGE_MONTH, USAGE_SESSION, USAGE__PERIODS };
enum usage_level { USAGE_WARN, USAGE_LIMIT, USAGE__LEVELS };
enum usage_dir { USAGE_TOTAL, USAGE_UP, USAGE_DOWN, USAGE__DIRS };

struct policy {
    uint8_t imei_mode;              /* off | alert | learn | enforce */
    uint8_t location_mode;          /* off | alert | enforce */
    uint8_t rat_mode;               /* off | alert | enforce */
    uint8_t roaming_mode;           /* off | alert (a finding; never rejects) */
    uint8_t min_severity;           /* findings at or above become alerts */

    uint32_t *tacs;                 /* sorted; empty = any model */
    uint32_t ntacs;
    uint16_t *mccs;                 /* sorted */
    uint32_t nmccs;
    struct gpp_plmn *plmns;
    uint32_t nplmns;
    uint32_t *areas;                /* LAC / TAC, sorted */
    uint32_t nareas;
    uint32_t *cells;                /* CI / SAC / RAC / ECI, sorted */
    uint32_t ncells;
    struct gpp_plmn *home;          /* home networks for roaming */
    uint32_t nhome;
    uint32_t rat_allowed;           /* bit (1 << rat) */

    uint32_t storm_max;             /* Access-Requests per SIM per window */
    uint32_t storm_window;          /* seconds */

    char *cred_user;                /* NULL: any User-Name */
    char *cred_password;            /* NULL: no PAP/CHAP check */

    uint32_t interim_interval;      /* Acct-Interim-Interval, 0 = not sent */
    uint32_t session_timeout;       /* Session-Timeout, 0 = not sent */
    char class_[POLICY_CLASS_MAX];  /* Class, "" = not sent */

    char restrict_filter[POLICY_CLASS_MAX]; /* Filter-Id of `restrict`, "" = none */

    uint64_t usage[USAGE__PERIODS][USAGE__LEVELS][USAGE__DIRS];
    int has_usage;
    /* usage.burst: this hour's bytes (up + down) against the SIM's own
     * hourly baseline (a moving mean over burst_baseline_hours). */
    double burst_factor;            /* 0 = off */
    uint64_t burst_min_bytes;       /* never below this many bytes in the hour */
    uint32_t burst_baseline_hours;  /* the mean's window */
    uint32_t burst_min_history;     /* hours of history before judging */

    uint8_t response[FK__COUNT];    /* ACT_* overrides; 0 = the default */
};

/*
 * Compile a policy document.  On error returns -EINVAL and writes one line
 * per problem to errf as "SOURCE: PATH: message" (SOURCE is a file name or
 * "policy"); JSON syntax errors carry the line and column.
 */
int policy_compile(const char *json, size_t len, const char *source, FILE *errf,
                   struct policy **ret)
    __attribute__((warn_unused_result));
/* The policy of a group that has none (docs/policy.md lists the defaults). */
struct policy *policy_default(void);
void policy_free(struct policy *p);
/* For qsbr_retire(). */
void policy_free_void(void *p);

/* The actions a finding of `kind` triggers under this policy. */
unsigned policy_actions(const struct policy *p, int kind);

/* Sorted-list membership (bsearch). */
int policy_has_u32(const uint32_t *v, uint32_t n, uint32_t x);
int policy_has_mcc(const struct policy *p, uint16_t mcc);
int policy_has_plmn(const struct gpp_plmn *v, uint32_t n, const struct gpp_plmn *x);

const char *rule_mode_name(int mode);

/*
 * The location and radio rules, shared by the Access-Request decision and
 * the mid-session checks of accounting.  Each returns NULL when the rule
 * passes (or is off) and otherwise the reason, for the evidence.
 * plmn NULL: the request named no network; has_uli: area and cell are known.
 */
const char *policy_location_violation(const struct policy *p, const struct gpp_plmn *plmn,
                                      int has_uli, uint32_t area, uint32_t cell);
/* rat < 0: no 3GPP-RAT-Type. */
const char *policy_rat_violation(const struct policy *p, int rat);

#endif
