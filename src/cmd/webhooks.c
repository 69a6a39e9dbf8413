/*
 * webhooks.c — a tenant's webhooks: created, changed, deleted, pinged
 * (cmd.h).  The sender is out/webhook.c; the outbox is in the store.
 *
 * A webhook's secret is 32 random bytes ("whsec_" + base64url), shown once
 * when it is made or rotated.  Unlike an API token it is stored as it is:
 * signing a delivery needs it.  The audit trail records what changed,
 * never the secret itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cmd/cmd.h"
#include "core/jsonw.h"
#include "engine/model.h"
#include "out/webhook.h"
#include "store/store.h"

const char *webhook_url_problem(const char *url)
{
    if (!url || !*url)
        return "a URL is required";
    if (strlen(url) > WEBHOOK_URL_MAX)
        return "the URL is longer than 1000 characters";
    const char *rest;
    if (strncmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    else
        return "the URL must start with http:// or https://";
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return "the URL contains a space or a control character";
    size_t host = strcspn(rest, "/?#");
    if (host == 0)
        return "the URL has no host";
    if (memchr(rest, '@', host))
        return "the URL must not carry credentials (user@host): the signature authenticates";
    return NULL;
}

/* One filter entry: "*", a type, or type.kind with a known kind. */
static int entry_ok(const char *e, size_t n)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, e, n);
    buf[n] = '\0';
    if (strcmp(buf, "*") == 0 || strcmp(buf, "finding") == 0 || strcmp(buf, "action") == 0)
        return 1;
    if (strncmp(buf, "finding.", 8) == 0)
        return finding_kind_from_name(buf + 8) >= 0;
    if (strncmp(buf, "action.", 7) == 0)
        return action_from_name(buf + 7) >= 0;
    return 0;
}

const char *webhook_events_problem(const char *events)
{
    if (!events || !*events)
        return "events is empty (\"*\" takes every event)";
    if (strlen(events) >= sizeof(((struct store_webhook *)0)->events))
        return "events is longer than 255 characters";
    for (const char *p = events; *p;) {
        size_t n = strcspn(p, ",");
        if (!entry_ok(p, n))
            return "each event is \"*\", \"finding\", \"action\", \"finding.KIND\" or "
                   "\"action.KIND\" with a known kind (docs/operator-guide.md)";
        p += n;
        if (*p == ',' && !*++p)
            return "events ends with a comma";
    }
    return NULL;
}

static int new_secret(char out[WEBHOOK_SECRET_MAX])
{
    uint8_t raw[32];
    char enc[TOKEN_SECRET_LEN + 1];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -EIO;
    b64url32(raw, enc);
    snprintf(out, WEBHOOK_SECRET_MAX, "%s%s", WEBHOOK_SECRET_PREFIX, enc);
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(enc, sizeof enc);
    return 0;
}

/* The audit trail's view of a webhook: everything but the secret. */
static void describe(struct jsonw *w, const char *key, const struct store_webhook *h)
{
    jsonw_open_member(w, key);
    jsonw_str(w, "url", h->url);
    jsonw_str(w, "events", h->events);
    jsonw_str(w, "min_severity", severity_name(h->min_severity));
    jsonw_bool(w, "enabled", h->enabled);
    jsonw_close(w);
}

/* A webhook inside the caller's scope, else -ENOENT (as if absent). */
static int find(struct cmd_ctx *c, int64_t id, struct store_webhook *h)
{
    int r = store_webhook_get(c->st, id, h);
    if (r == 0 && c->tenant_scope && h->tenant_id != c->tenant_scope)
        r = -ENOENT;
    if (r == -ENOENT)
        fprintf(c->err, "m2mguard: no webhook %lld\n", (long long)id);
    else if (r < 0)
        fprintf(c->err, "m2mguard: reading webhook %lld: %s\n", (long long)id,
                store_errmsg(c->st));
    return r;
}

/* Open the command's transaction and find the webhook in it; on failure
 * nothing is left open. */
static int begin_find(struct cmd_ctx *c, int64_t id, struct store_webhook *h)
{
    int r;
    if ((r = store_begin(c->st)) < 0) {
        fprintf(c->err, "m2mguard: %s\n", store_errmsg(c->st));
        return r;
    }
    if ((r = find(c, id, h)) < 0)
        store_rollback(c->st);
    return r;
}

static int check_input(struct cmd_ctx *c, const struct webhook_input *in)
{
    const char *why;
    if (in->url && (why = webhook_url_problem(in->url))) {
        fprintf(c->err, "m2mguard: url: %s\n", why);
        return -EINVAL;
    }
    if (in->events && (why = webhook_events_problem(in->events))) {
        fprintf(c->err, "m2mguard: events: %s\n", why);
        return -EINVAL;
    }
    if (in->min_severity > SEV_CRITICAL) {
        fprintf(c->err, "m2mguard: min_severity: info, notice, warning or critical\n");
        return -EINVAL;
    }
    return 0;
}

/* Commit with the audit record, or roll back and say why. */
static int finish(struct cmd_ctx *c, int r, int64_t tenant_id, const char *action,
                  const char *target, const char *detail)
{
    if (r == 0)
        r = store_admin_log_role(c->st, tenant_id, c->actor, cmd_role(c), action, target, detail);
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: %s: %s\n", action, store_errmsg(c->st));
    }
    return r;
}

int cmd_webhook_create(struct cmd_ctx *c, const char *tenant, const struct webhook_input *in,
                       int64_t *ret_id, char secret[WEBHOOK_SECRET_MAX])
{
    struct store_webhook h;
    int r;
    memset(&h, 0, sizeof h);
    if (!in->url) {
        fprintf(c->err, "m2mguard: url: %s\n", webhook_url_problem(NULL));
        return -EINVAL;
    }
    if ((r = check_input(c, in)) < 0)
        return r;
    if (tenant) {
        if (store_tenant_find(c->st, tenant, &h.tenant_id) < 0 ||
            (c->tenant_scope && h.tenant_id != c->tenant_scope)) {
            fprintf(c->err, "m2mguard: no tenant \"%s\"\n", tenant);
            return -ENOENT;
        }
    } else if (!(h.tenant_id = c->tenant_scope)) {
        fprintf(c->err, "m2mguard: a webhook belongs to a tenant: name it\n");
        return -EINVAL;
    }
    snprintf(h.url, sizeof h.url, "%s", in->url);
    snprintf(h.events, sizeof h.events, "%s", in->events ? in->events : "*");
    h.min_severity = in->min_severity >= 0 ? in->min_severity : SEV_INFO;
    h.enabled = in->enabled >= 0 ? in->enabled : 1;
    h.created_at = (int64_t)time(NULL);
    snprintf(h.created_by, sizeof h.created_by, "%s", c->actor);
    if ((r = new_secret(h.secret)) < 0) {
        fprintf(c->err, "m2mguard: no random bytes for the secret\n");
        return r;
    }
    if ((r = store_begin(c->st)) < 0) {
        fprintf(c->err, "m2mguard: %s\n", store_errmsg(c->st));
        OPENSSL_cleanse(h.secret, sizeof h.secret);
        return r;
    }
    int64_t n = 0;
    if ((r = store_webhook_count(c->st, h.tenant_id, &n)) == 0 && n >= STORE_WEBHOOKS_PER_TENANT) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: a tenant has at most %d webhooks\n", STORE_WEBHOOKS_PER_TENANT);
        OPENSSL_cleanse(h.secret, sizeof h.secret);
        return -ENOSPC;
    }
    if (r == 0)
        r = store_webhook_insert(c->st, &h, ret_id);
    char detail[1536], target[32];
    struct jsonw w;
    jsonw_init(&w, detail, sizeof detail);
    jsonw_open(&w);
    describe(&w, "after", &h);
    jsonw_close(&w);
    jsonw_finish(&w);
    snprintf(target, sizeof target, "webhook:%lld", (long long)(r == 0 ? *ret_id : 0));
    if ((r = finish(c, r, h.tenant_id, "webhook.create", target, detail)) < 0) {
        OPENSSL_cleanse(h.secret, sizeof h.secret);
        return r;
    }
    snprintf(secret, WEBHOOK_SECRET_MAX, "%s", h.secret);
    OPENSSL_cleanse(h.secret, sizeof h.secret);
    fprintf(c->out, "webhook %lld created for %s\n", (long long)*ret_id, h.url);
    return 0;
}

int cmd_webhook_update(struct cmd_ctx *c, int64_t id, const struct webhook_input *in,
                       char secret[WEBHOOK_SECRET_MAX])
{
    struct store_webhook before, h;
    int r;
    if ((r = check_input(c, in)) < 0)
        return r;
    if ((r = begin_find(c, id, &before)) < 0)
        return r;
    h = before;
    if (in->url)
        snprintf(h.url, sizeof h.url, "%s", in->url);
    if (in->events)
        snprintf(h.events, sizeof h.events, "%s", in->events);
    if (in->min_severity >= 0)
        h.min_severity = in->min_severity;
    if (in->enabled >= 0)
        h.enabled = in->enabled;
    if (in->rotate_secret && (r = new_secret(h.secret)) < 0) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: no random bytes for the secret\n");
        return r;
    }
    r = store_webhook_update(c->st, &h);
    char detail[3072], target[32];
    struct jsonw w;
    jsonw_init(&w, detail, sizeof detail);
    jsonw_open(&w);
    describe(&w, "before", &before);
    describe(&w, "after", &h);
    jsonw_bool(&w, "secret_rotated", in->rotate_secret != 0);
    jsonw_close(&w);
    jsonw_finish(&w);
    snprintf(target, sizeof target, "webhook:%lld", (long long)id);
    OPENSSL_cleanse(before.secret, sizeof before.secret);
    if ((r = finish(c, r, h.tenant_id, "webhook.update", target, detail)) == 0 &&
        in->rotate_secret)
        snprintf(secret, WEBHOOK_SECRET_MAX, "%s", h.secret);
    OPENSSL_cleanse(h.secret, sizeof h.secret);
    if (r == 0)
        fprintf(c->out, "webhook %lld updated\n", (long long)id);
    return r;
}

int cmd_webhook_delete(struct cmd_ctx *c, int64_t id)
{
    struct store_webhook h;
    int r;
    if ((r = begin_find(c, id, &h)) < 0)
        return r;
    OPENSSL_cleanse(h.secret, sizeof h.secret);
    r = store_webhook_delete(c->st, id);
    char detail[1536], target[32];
    struct jsonw w;
    jsonw_init(&w, detail, sizeof detail);
    jsonw_open(&w);
    describe(&w, "before", &h);
    jsonw_int(&w, "undelivered", h.pending);
    jsonw_close(&w);
    jsonw_finish(&w);
    snprintf(target, sizeof target, "webhook:%lld", (long long)id);
    if ((r = finish(c, r, h.tenant_id, "webhook.delete", target, detail)) == 0)
        fprintf(c->out, "webhook %lld deleted (%lld undelivered events dropped)\n",
                (long long)id, (long long)h.pending);
    return r;
}

int cmd_webhook_ping(struct cmd_ctx *c, int64_t id)
{
    struct store_webhook h;
    int r;
    if ((r = begin_find(c, id, &h)) < 0)
        return r;
    OPENSSL_cleanse(h.secret, sizeof h.secret);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char body[512], when[32];
    struct tm tm;
    time_t s = ts.tv_sec;
    gmtime_r(&s, &tm);
    if (strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        when[0] = '\0';
    struct jsonw w;
    jsonw_init(&w, body, sizeof body);
    jsonw_open(&w);
    jsonw_str(&w, "ts", when);
    jsonw_str(&w, "type", "ping");
    jsonw_str(&w, "tenant", h.tenant);
    jsonw_int(&w, "webhook_id", id);
    jsonw_close(&w);
    jsonw_finish(&w);
    struct store_webhook_event e = {
        .tenant_id = h.tenant_id, .ts_ms = now, .type = "ping", .kind = "", .body = body,
        .only_webhook = id,
    };
    int queued = 0, dropped = 0;
    /* A ping is not limited by the outbox size: the operator asked for it. */
    r = store_webhook_enqueue(c->st, &e, INT64_MAX, &queued, &dropped);
    if (r == 0 && !queued) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: webhook %lld is disabled\n", (long long)id);
        return -EAGAIN;
    }
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: queueing the ping: %s\n", store_errmsg(c->st));
        return r;
    }
    fprintf(c->out, "ping queued for webhook %lld\n", (long long)id);
    return 0;
}
