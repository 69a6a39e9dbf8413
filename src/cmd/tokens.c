/*
 * tokens.c — API tokens: created, verified, revoked (cmd.h).
 *
 * A token reads "m2mg_<id>_<secret>": the id finds the row, the secret is
 * 32 random bytes in unpadded base64url (43 characters).  Only the SHA-256
 * of the secret is stored; a presented secret is hashed and compared in
 * constant time (CRYPTO_memcmp), so neither the store nor the timing of a
 * failed attempt tells anything about a valid secret.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "cmd/cmd.h"
#include "core/ident.h"
#include "core/jsonw.h"
#include "store/store.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 32 bytes: ten 3-byte groups (4 characters each), then 2 bytes (3). */
static void encode(const uint8_t in[32], char out[TOKEN_SECRET_LEN + 1])
{
    size_t o = 0;
    for (size_t i = 0; i < 30; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
        out[o++] = b64url[v & 63];
    }
    uint32_t v = (uint32_t)in[30] << 16 | (uint32_t)in[31] << 8;
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
    out[o] = '\0';
}

void b64url32(const uint8_t in[32], char out[TOKEN_SECRET_LEN + 1])
{
    encode(in, out);
}

/* Platform tokens are logged under the platform tenant. */
static int64_t audit_tenant(struct cmd_ctx *c, int64_t tenant_id)
{
    int64_t id = tenant_id;
    if (!id && store_tenant_find(c->st, "platform", &id) < 0)
        id = 0;
    return id;
}

int token_role_valid(const char *role)
{
    return role && (strcmp(role, "platform-admin") == 0 || strcmp(role, "admin") == 0 ||
                    strcmp(role, "operator") == 0 || strcmp(role, "viewer") == 0);
}

int cmd_token_create(struct cmd_ctx *c, const char *tenant, const char *name, const char *role,
                     int days, char *out, size_t cap)
{
    struct store_token t;
    int r;
    memset(&t, 0, sizeof t);
    if (ident_check_name(name) < 0) {
        fprintf(c->err, "m2mguard: token name \"%s\": %s\n", name, ident_error_str(IDENT_E_NAME));
        return -EINVAL;
    }
    if (!token_role_valid(role)) {
        fprintf(c->err, "m2mguard: role \"%s\": one of platform-admin, admin, operator, viewer\n",
                role ? role : "");
        return -EINVAL;
    }
    int platform = strcmp(role, "platform-admin") == 0;
    if (platform != (tenant == NULL)) {
        fprintf(c->err, "m2mguard: %s\n", platform
                ? "a platform-admin token belongs to no tenant (no --tenant)"
                : "a tenant token needs --tenant");
        return -EINVAL;
    }
    if (days < 0 || days > 3650) {
        fprintf(c->err, "m2mguard: --days must be 0 (no expiry) to 3650\n");
        return -EINVAL;
    }
    if (cap < TOKEN_MAX) {
        fprintf(c->err, "m2mguard: internal error: token buffer too small\n");
        return -EINVAL;
    }
    uint8_t secret[32];
    if (getrandom(secret, sizeof secret, 0) != (ssize_t)sizeof secret) {
        fprintf(c->err, "m2mguard: no randomness for the token: %s\n", strerror(errno));
        return -EIO;
    }
    SHA256(secret, sizeof secret, t.secret_sha256);
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.role, sizeof t.role, "%s", role);
    snprintf(t.created_by, sizeof t.created_by, "%s", c->actor);
    t.created_at = (int64_t)time(NULL);
    t.expires_at = days ? t.created_at + (int64_t)days * 86400 : 0;

    if ((r = store_begin(c->st)) < 0)
        goto failed;
    if (tenant && (r = store_tenant_ensure(c->st, tenant, 0, &t.tenant_id)) < 0) {
        store_rollback(c->st);
        if (r == -ENOENT)
            fprintf(c->err, "m2mguard: no tenant \"%s\"\n", tenant);
        else
            fprintf(c->err, "m2mguard: %s\n", store_errmsg(c->st));
        OPENSSL_cleanse(secret, sizeof secret);
        return r;
    }
    int64_t id = 0;
    char detail[160];
    struct jsonw w;
    r = store_token_insert(c->st, &t, &id);
    if (r == 0) {
        jsonw_init(&w, detail, sizeof detail);
        jsonw_open(&w);
        jsonw_int(&w, "id", id);
        jsonw_str(&w, "role", role);
        jsonw_int(&w, "expires_at", t.expires_at);
        jsonw_close(&w);
        jsonw_finish(&w);
        r = store_admin_log_role(c->st, audit_tenant(c, t.tenant_id), c->actor, cmd_role(c),
                                 "token.create", name, detail);
    }
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        goto failed;
    }
    r = token_format(id, secret, out, cap);
    OPENSSL_cleanse(secret, sizeof secret);
    return r;
failed:
    OPENSSL_cleanse(secret, sizeof secret);
    fprintf(c->err, "m2mguard: creating the token: %s\n", store_errmsg(c->st));
    return r;
}

int cmd_token_revoke(struct cmd_ctx *c, int64_t id)
{
    struct store_token t;
    int r;
    if ((r = store_begin(c->st)) < 0)
        return r;
    if ((r = store_token_get(c->st, id, &t)) == 0 && (c->tenant_scope && t.tenant_id != c->tenant_scope))
        r = -ENOENT;        /* another tenant's: as if it did not exist */
    if (r == 0)
        r = store_token_revoke(c->st, id, (int64_t)time(NULL));
    if (r == -ENOENT) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: no token %lld (or already revoked)\n", (long long)id);
        return r;
    }
    if (r == 0)
        r = store_admin_log_role(c->st, audit_tenant(c, t.tenant_id), c->actor, cmd_role(c),
                                 "token.revoke", t.name, NULL);
    if (r == 0)
        r = store_commit(c->st);
    if (r < 0) {
        store_rollback(c->st);
        fprintf(c->err, "m2mguard: revoking the token: %s\n", store_errmsg(c->st));
        return r;
    }
    fprintf(c->out, "token %lld (%s) revoked\n", (long long)id, t.name);
    return 0;
}

int token_format(int64_t id, const uint8_t secret[32], char *out, size_t cap)
{
    char enc[TOKEN_SECRET_LEN + 1];
    encode(secret, enc);
    int n = snprintf(out, cap, "m2mg_%lld_%s", (long long)id, enc);
    OPENSSL_cleanse(enc, sizeof enc);
    return n > 0 && (size_t)n < cap ? 0 : -ENOSPC;
}

int token_parse(const char *presented, int64_t *id, uint8_t secret[32])
{
    /* "m2mg_" id "_" secret: parse without trusting any length. */
    if (!presented || strncmp(presented, "m2mg_", 5) != 0)
        return -EACCES;
    const char *p = presented + 5;
    if (*p < '1' || *p > '9')
        return -EACCES;     /* no sign, no leading zero: one spelling per id */
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || end == p || *end != '_' || v <= 0)
        return -EACCES;
    const char *enc = end + 1;
    if (strlen(enc) != TOKEN_SECRET_LEN)
        return -EACCES;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < TOKEN_SECRET_LEN; i++) {
        const char *q = enc[i] ? strchr(b64url, enc[i]) : NULL;
        if (!q)
            return -EACCES;
        acc = (acc << 6) | (uint32_t)(q - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            secret[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* The last character carries 2 unused bits: they must be zero, so
     * that a secret has one spelling. */
    if (o != 32 || (acc & ((1u << bits) - 1)) != 0)
        return -EACCES;
    *id = v;
    return 0;
}

int token_verify(struct store *st, const char *presented, int64_t now_s, struct store_token *ret)
{
    int64_t id;
    uint8_t raw[32], digest[32];
    if (token_parse(presented, &id, raw) < 0)
        return -EACCES;
    SHA256(raw, 32, digest);
    OPENSSL_cleanse(raw, sizeof raw);
    struct store_token t;
    int r = store_token_get(st, id, &t);
    if (r == -ENOENT)
        return -EACCES;
    if (r < 0)
        return r;
    if (CRYPTO_memcmp(digest, t.secret_sha256, 32) != 0)
        return -EACCES;
    if (t.revoked_at)
        return -EKEYREVOKED;
    if (t.expires_at && now_s >= t.expires_at)
        return -EKEYEXPIRED;
    *ret = t;
    return 0;
}
