/*
 * model.c — names, default severities and summaries of the engine's
 * vocabulary.  Tables indexed by enum so a missing entry is a build-time
 * visible gap, not a runtime surprise.
 */
#include <string.h>

#include "engine/model.h"

static const struct {
    const char *name;
    enum severity sev;
    const char *summary;
} kinds[FK__COUNT] = {
    [FK_SIM_UNKNOWN] = { "sim_unknown", SEV_WARNING, "unknown SIM tried to attach" },
    [FK_SIM_INACTIVE] = { "sim_inactive", SEV_WARNING, "suspended or deactivated SIM tried to attach" },
    [FK_IMEI_MISMATCH] = { "imei_mismatch", SEV_CRITICAL, "SIM moved to another device" },
    [FK_DEVICE_SIM_CHANGED] = { "device_sim_changed", SEV_WARNING, "a bound device shows up with another SIM" },
    [FK_TAC_NOT_ALLOWED] = { "tac_not_allowed", SEV_WARNING, "device model (TAC) not approved" },
    [FK_LOCATION_NOT_ALLOWED] = { "location_not_allowed", SEV_CRITICAL, "attach from a forbidden network or area" },
    [FK_RAT_NOT_ALLOWED] = { "rat_not_allowed", SEV_WARNING, "radio type not allowed (downgrade?)" },
    [FK_ROAMING] = { "roaming", SEV_NOTICE, "SIM attached in a visited network" },
    [FK_SOFTWARE_VERSION_CHANGED] = { "software_version_changed", SEV_INFO, "device software version changed" },
    [FK_ATTACH_STORM] = { "attach_storm", SEV_WARNING, "too many Access-Requests for one SIM" },
    [FK_NAS_UNKNOWN] = { "nas_unknown", SEV_WARNING, "RADIUS request from an unknown client" },
    [FK_NAS_BAD_AUTHENTICATOR] = { "nas_bad_authenticator", SEV_CRITICAL, "RADIUS request failed authentication (wrong secret or forged)" },
    [FK_CREDENTIAL_FAILURE] = { "credential_failure", SEV_WARNING, "wrong APN user name or password" },
    [FK_IMEI_MISSING] = { "imei_missing", SEV_WARNING, "IMEI lock on but the request carries no 3GPP-IMEISV" },
    [FK_USAGE_WARNING] = { "usage_warning", SEV_WARNING, "data usage passed the warning threshold" },
    [FK_USAGE_LIMIT] = { "usage_limit", SEV_CRITICAL, "data usage passed the limit" },
    [FK_CONCURRENT_SESSIONS] = { "concurrent_sessions", SEV_WARNING, "the same SIM in two live sessions (cloned SIM?)" },
    [FK_API_AUTH_FAILURE] = { "api_auth_failure", SEV_WARNING, "failed authentication on the HTTP API" },
    [FK_USAGE_BURST] = { "usage_burst", SEV_WARNING, "far more data this hour than the SIM's own baseline" },
};

const char *finding_kind_name(int kind)
{
    return kind >= 0 && kind < FK__COUNT ? kinds[kind].name : "unknown";
}

int finding_kind_from_name(const char *name)
{
    for (int i = 0; i < FK__COUNT; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return i;
    return -1;
}

enum severity finding_kind_severity(int kind)
{
    return kind >= 0 && kind < FK__COUNT ? kinds[kind].sev : SEV_WARNING;
}

const char *finding_kind_summary(int kind)
{
    return kind >= 0 && kind < FK__COUNT ? kinds[kind].summary : "";
}

static const char *const sev_names[SEV__COUNT] = { "info", "notice", "warning", "critical" };

const char *severity_name(int sev)
{
    return sev >= 0 && sev < SEV__COUNT ? sev_names[sev] : "unknown";
}

int severity_from_name(const char *name)
{
    for (int i = 0; i < SEV__COUNT; i++)
        if (strcmp(sev_names[i], name) == 0)
            return i;
    return -1;
}

const char *action_name(unsigned bit)
{
    switch (bit) {
    case ACT_REJECT: return "reject";
    case ACT_ALERT: return "alert";
    case ACT_SUSPEND: return "suspend";
    case ACT_DISCONNECT: return "disconnect";
    case ACT_RESTRICT: return "restrict";
    case ACT_NONE: return "none";
    default: return "unknown";
    }
}

int action_from_name(const char *name)
{
    if (strcmp(name, "reject") == 0)
        return ACT_REJECT;
    if (strcmp(name, "alert") == 0)
        return ACT_ALERT;
    if (strcmp(name, "none") == 0)
        return ACT_NONE;
    if (strcmp(name, "suspend") == 0)
        return ACT_SUSPEND;
    if (strcmp(name, "disconnect") == 0)
        return ACT_DISCONNECT;
    if (strcmp(name, "restrict") == 0)
        return ACT_RESTRICT;
    return -1;
}

static const char *const state_names[SIM_STATE__COUNT] = { "active", "suspended", "deactivated" };

const char *sim_state_name(int state)
{
    return state >= 0 && state < SIM_STATE__COUNT ? state_names[state] : "unknown";
}

int sim_state_from_name(const char *name)
{
    for (int i = 0; i < SIM_STATE__COUNT; i++)
        if (strcmp(state_names[i], name) == 0)
            return i;
    return -1;
}
