/*
 * model.h — the vocabulary of the engine: finding kinds, severities,
 * actions and SIM states (DESIGN.md §3).
 *
 * A finding is a detector's judgement on an event; response rules in the
 * group policy map each kind to actions; findings at or above the
 * policy's severity become alerts.  Names here are the ones that appear
 * in the store, the event log, the CLI and the docs — change them never.
 */
#ifndef M2MG_ENGINE_MODEL_H
#define M2MG_ENGINE_MODEL_H

enum finding_kind {
    FK_SIM_UNKNOWN,
    FK_SIM_INACTIVE,
    FK_IMEI_MISMATCH,
    FK_DEVICE_SIM_CHANGED,
    FK_TAC_NOT_ALLOWED,
    FK_LOCATION_NOT_ALLOWED,
    FK_RAT_NOT_ALLOWED,
    FK_ROAMING,
    FK_SOFTWARE_VERSION_CHANGED,
    FK_ATTACH_STORM,
    FK_NAS_UNKNOWN,
    FK_NAS_BAD_AUTHENTICATOR,
    FK_CREDENTIAL_FAILURE,
    FK_IMEI_MISSING,
    FK_USAGE_WARNING,
    FK_USAGE_LIMIT,
    FK_CONCURRENT_SESSIONS,
    FK_USAGE_BURST,
    FK_API_AUTH_FAILURE,
    FK__COUNT,
};

enum severity {
    SEV_INFO,
    SEV_NOTICE,
    SEV_WARNING,
    SEV_CRITICAL,
    SEV__COUNT,
};

/* Actions a response rule can name (bit flags; Access plane II adds more). */
#define ACT_REJECT  (1u << 0)   /* answer Access-Reject */
#define ACT_ALERT   (1u << 1)   /* raise an alert whatever the severity */
#define ACT_SUSPEND (1u << 2)   /* SIM state → suspended (and disconnect) */
#define ACT_DISCONNECT (1u << 3) /* RFC 5176 Disconnect-Request to every live session */
#define ACT_RESTRICT (1u << 4)  /* RFC 5176 CoA-Request with the policy's Filter-Id */
#define ACT_NONE    (1u << 7)   /* explicitly nothing (overrides defaults) */

enum sim_state {
    SIM_ACTIVE,
    SIM_SUSPENDED,
    SIM_DEACTIVATED,
    SIM_STATE__COUNT,
};

const char *finding_kind_name(int kind);
int finding_kind_from_name(const char *name);        /* -1 if unknown */
enum severity finding_kind_severity(int kind);       /* the default */
const char *finding_kind_summary(int kind);          /* one line for people */
const char *severity_name(int sev);
int severity_from_name(const char *name);            /* -1 if unknown */
const char *action_name(unsigned bit);
int action_from_name(const char *name);              /* bit, or -1 */
const char *sim_state_name(int state);
int sim_state_from_name(const char *name);           /* -1 if unknown */

#endif
