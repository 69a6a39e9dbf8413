/*
 * cmd.h — the command layer: every administrative change goes through
 * here, whoever asks (the CLI today; the HTTP API and response rules
 * later).  A command validates its input, commits to the store in one
 * transaction with an admin_log record (who, what, before → after), and
 * tells a running daemon to apply it at once (control socket `sync`).
 *
 * Commands write human-readable results and errors to ctx->out / ctx->err
 * and return 0 or a negative errno-style code.
 */
#ifndef M2MG_CMD_H
#define M2MG_CMD_H

#include <stdint.h>
#include <stdio.h>

struct store;

struct cmd_ctx {
    struct store *st;
    const char *control;        /* daemon's control socket, NULL = none */
    char actor[96];             /* "cli:root", "api:token-name", "rule:…" */
    char role[16];              /* the actor's role when known (API token), else "" */
    int64_t tenant_scope;       /* 0: every tenant (CLI); else only this one (API) */
    FILE *out;
    FILE *err;
    int quiet;                  /* no progress output */
};

/* The role recorded in the audit trail: NULL when not known. */
static inline const char *cmd_role(const struct cmd_ctx *c)
{
    return c->role[0] ? c->role : NULL;
}

/* Tell a running daemon to apply store changes now.  Silent if none runs. */
void cmd_notify(struct cmd_ctx *c);
/* Ask a running daemon to write sessions and usage from memory to the store
 * (they reach it every second otherwise) before reading them. */
void cmd_fresh(struct cmd_ctx *c);

/* Resolve a tenant by name (NULL: the only tenant that has groups named `group`). */
int cmd_find_group(struct cmd_ctx *c, const char *tenant, const char *group,
                   int64_t *ret_tenant_id, int64_t *ret_group_id);

int cmd_tenant_create(struct cmd_ctx *c, const char *name);
int cmd_group_create(struct cmd_ctx *c, const char *tenant, const char *name);
/* Validate and store a policy document; `source` names it in errors. */
int cmd_policy_set(struct cmd_ctx *c, const char *tenant, const char *group,
                   const char *body, size_t len, const char *source);
/* state: enum sim_state; reason may be NULL. */
int cmd_sim_set_state(struct cmd_ctx *c, const char *key, int state, const char *reason);
/* Change a SIM's group, MSISDN, static IP or bound IMEI; a field is changed
 * when its set_* flag is on (value NULL or "": cleared).  -EINVAL with the
 * reason on c->err for a bad value; -ENOENT for no such SIM (in scope). */
struct sim_patch {
    int set_group, set_msisdn, set_ip, set_imei;
    const char *group, *msisdn, *ip, *imei;
};
int cmd_sim_patch(struct cmd_ctx *c, const char *key, const struct sim_patch *p);
/* "acknowledged" or "resolved". */
int cmd_alert_set_state(struct cmd_ctx *c, int64_t id, const char *state);

struct import_result {
    uint64_t rows;
    uint64_t imported;
    uint64_t errors;
    double seconds;
};
#define IMPORT_MAX_REPORTED 100     /* bad rows listed; the rest are counted */

/*
 * Import a carrier's SIM CSV (docs/csv-format.md).  All or nothing: one
 * transaction; any bad row (reported as FILE:LINE: reason) rolls it back.
 */
int cmd_sim_import(struct cmd_ctx *c, const char *path, int create_missing,
                   struct import_result *ret);
/* The same from an open stream; `name` stands for it in the messages. */
int cmd_sim_import_stream(struct cmd_ctx *c, FILE *f, const char *name, int create_missing,
                          struct import_result *ret);

/* ---- API tokens (tokens.c) ---- */
#define TOKEN_SECRET_LEN 43         /* 32 bytes, unpadded base64url */
#define TOKEN_MAX 80                /* "m2mg_" id "_" secret + NUL */
struct store_token;
int token_role_valid(const char *role);
/* Create a token (tenant NULL for platform-admin; days 0 = no expiry) and
 * write it to out: the only time it is ever shown. */
int cmd_token_create(struct cmd_ctx *c, const char *tenant, const char *name, const char *role,
                     int days, char *out, size_t cap);
int cmd_token_revoke(struct cmd_ctx *c, int64_t id);
/* 32 bytes as unpadded base64url (TOKEN_SECRET_LEN characters). */
void b64url32(const uint8_t in[32], char out[TOKEN_SECRET_LEN + 1]);
/* "m2mg_<id>_<secret>" and back (-EACCES when it is not one). */
int token_format(int64_t id, const uint8_t secret[32], char *out, size_t cap);
int token_parse(const char *presented, int64_t *id, uint8_t secret[32]);
/* A presented token: 0 and the row, -EACCES (unknown, malformed, wrong
 * secret), -EKEYREVOKED, -EKEYEXPIRED, or a store error. */
int token_verify(struct store *st, const char *presented, int64_t now_s,
                 struct store_token *ret);

/* ---- webhooks (webhooks.c; out/webhook.h delivers) ---- */
#define WEBHOOK_URL_MAX 1000
#define WEBHOOK_SECRET_MAX 64
/* What a create or update sets; on update NULL / -1 leaves a field as it is. */
struct webhook_input {
    const char *url;            /* http:// or https:// */
    const char *events;         /* "*", "finding", "action", "finding.KIND", "action.KIND", comma-separated */
    int min_severity;           /* enum severity; -1: unchanged (info on create) */
    int enabled;                /* 0/1; -1: unchanged (on on create) */
    int rotate_secret;          /* update: a new secret */
};
/* NULL when acceptable, else why not. */
const char *webhook_url_problem(const char *url);
const char *webhook_events_problem(const char *events);
/* tenant NULL: the scope's tenant.  The secret (shown once) goes to secret. */
int cmd_webhook_create(struct cmd_ctx *c, const char *tenant, const struct webhook_input *in,
                       int64_t *ret_id, char secret[WEBHOOK_SECRET_MAX]);
/* secret is written when rotated. */
int cmd_webhook_update(struct cmd_ctx *c, int64_t id, const struct webhook_input *in,
                       char secret[WEBHOOK_SECRET_MAX]);
int cmd_webhook_delete(struct cmd_ctx *c, int64_t id);
/* Queue a "ping" event for this webhook alone. */
int cmd_webhook_ping(struct cmd_ctx *c, int64_t id);

#endif
