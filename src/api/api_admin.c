/*
 * api_admin.c — the API's administration routes: tenants (platform-admin),
 * groups and their policies, and the bulk SIM import (CSV, or JSON turned
 * into the same CSV).  Every change goes through the command layer with the
 * token's tenant as its scope; the command's messages (policy errors with
 * their JSON path, import errors with their line) come back as the
 * problem's "errors" list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "cmd/cmd.h"

int capture_begin(struct call *c, struct captured *k)
{
    memset(k, 0, sizeof *k);
    k->cc.st = c->a->st;
    k->cc.control = c->a->control[0] ? c->a->control : NULL;
    k->cc.tenant_scope = c->scope;
    k->cc.quiet = 1;
    snprintf(k->cc.actor, sizeof k->cc.actor, "api:%s", c->tok.name);
    snprintf(k->cc.role, sizeof k->cc.role, "%s", c->tok.role);
    k->cc.out = open_memstream(&k->out, &k->outlen);
    k->cc.err = open_memstream(&k->err, &k->errlen);
    return k->cc.out && k->cc.err ? 0 : -ENOMEM;
}

void capture_end(struct captured *k)
{
    if (k->cc.out)
        (void)fclose(k->cc.out);
    if (k->cc.err)
        (void)fclose(k->cc.err);
    k->cc.out = k->cc.err = NULL;
}

void capture_free(struct captured *k)
{
    capture_end(k);
    free(k->out);
    free(k->err);
}

/* The command's error lines as a JSON array of strings. */
static json_t *lines_of(const char *text)
{
    json_t *a = json_array();
    for (const char *p = text ? text : ""; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n)
            json_array_append_new(a, json_stringn(p, n));
        p += n + (e != NULL);
    }
    return a;
}

int problem_with_errors(struct call *c, unsigned status, const char *title,
                        const char *detail, const char *lines)
{
    json_t *doc = json_pack("{s:s, s:s, s:i, s:s, s:s, s:o}", "type",
                            "https://m2mguard.org/problems/invalid-document", "title", title,
                            "status", (int)status, "detail", detail, "instance", c->url,
                            "errors", lines_of(lines));
    return send_json(c, status, doc, "application/problem+json");
}

/* The tenant the caller acts in: its own, or ?tenant= for the platform. */
static int acting_tenant(struct call *c, char name[64], int *ret)
{
    if (c->scope) {
        if (store_tenant_name(c->a->st, c->scope, name, 64) < 0) {
            *ret = problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                           store_errmsg(c->a->st));
            return -1;
        }
        return 0;
    }
    const char *t = arg(c, "tenant");
    if (!t || !t[0] || strlen(t) > 63) {
        *ret = problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "a platform token names the tenant: ?tenant=NAME");
        return -1;
    }
    snprintf(name, 64, "%s", t);
    return 0;
}

/* ---- tenants ---- */

static int collect_tenant(void *ctx, int64_t id, const char *name, int64_t sims)
{
    json_array_append_new(ctx, json_pack("{s:I, s:s, s:I}", "id", (json_int_t)id, "name", name,
                                         "sims", (json_int_t)sims));
    return 0;
}

int h_tenants_list(struct call *c)
{
    json_t *items = json_array();
    if (store_tenant_list(c->a->st, collect_tenant, items) < 0) {
        json_decref(items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    return ok(c, json_pack("{s:o}", "items", items));
}

int h_tenant_create(struct call *c)
{
    json_error_t jerr;
    json_t *body = json_loadb(c->body ? c->body : "", c->body_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *name = json_string_value(json_object_get(body, "name"));
    if (!body || !json_is_object(body) || !name || json_object_size(body) != 1) {
        json_decref(body);
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "the body is {\"name\": \"TENANT\"} and nothing else");
    }
    struct captured k;
    int r = capture_begin(c, &k);
    if (r == 0)
        r = cmd_tenant_create(&k.cc, name);
    capture_end(&k);
    int ret = r == 0 ? send_json(c, MHD_HTTP_CREATED, json_pack("{s:s}", "name", name),
                                 "application/json")
              : r == -EEXIST ? problem(c, MHD_HTTP_CONFLICT, "conflict", "tenant %s exists", name)
              : r == -EINVAL ? problem_with_errors(c, MHD_HTTP_BAD_REQUEST, "bad request",
                                                   "the tenant name is not valid", k.err)
                             : problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                                       k.err ? k.err : "");
    json_decref(body);
    capture_free(&k);
    return ret;
}

/* ---- groups and policies ---- */

static int collect_group(void *ctx, const struct store_group *g, const char *policy_body)
{
    (void)policy_body;
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:I, s:I}", "name", g->name, "tenant",
                                         g->tenant, "policy_version",
                                         (json_int_t)g->policy_version, "sims",
                                         (json_int_t)g->sims));
    return 0;
}

int h_groups_list(struct call *c)
{
    json_t *items = json_array();
    if (store_group_list(c->a->st, c->scope, collect_group, items) < 0) {
        json_decref(items);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s",
                       store_errmsg(c->a->st));
    }
    return ok(c, json_pack("{s:o}", "items", items));
}

/* The group of the path in the acting tenant, else a 404 queued. */
static int find_group(struct call *c, char tenant[64], int64_t *gid, int *ret)
{
    int64_t tid;
    if (acting_tenant(c, tenant, ret) < 0)
        return -1;
    if (store_tenant_find(c->a->st, tenant, &tid) < 0 || (c->scope && tid != c->scope) ||
        store_group_find(c->a->st, tid, c->param, gid) < 0) {
        *ret = problem(c, MHD_HTTP_NOT_FOUND, "not found", "no group %s", c->param);
        return -1;
    }
    return 0;
}

int h_policy_get(struct call *c)
{
    char tenant[64];
    int64_t gid, version = 0;
    int ret;
    char *body = NULL;
    if (find_group(c, tenant, &gid, &ret) < 0)
        return ret;
    if (store_policy_get(c->a->st, gid, &body, &version) < 0 && !body)
        body = NULL;
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return ok(c, json_pack("{s:s, s:s, s:I, s:o}", "group", c->param, "tenant", tenant,
                           "version", (json_int_t)version, "policy",
                           doc ? doc : json_null()));
}

int h_policy_put(struct call *c)
{
    char tenant[64];
    int64_t gid;
    int ret;
    if (find_group(c, tenant, &gid, &ret) < 0)
        return ret;
    if (!c->body_len)
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "the body is the policy document (docs/policy.md)");
    struct captured k;
    int r = capture_begin(c, &k);
    if (r == 0)
        r = cmd_policy_set(&k.cc, tenant, c->param, c->body, c->body_len, "policy");
    capture_end(&k);
    if (r == -ENOMEM || r == -EIO)
        ret = problem_with_errors(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error",
                                  "the policy was not changed", k.err);
    else if (r < 0)     /* the document: every error is in k.err */
        ret = problem_with_errors(c, MHD_HTTP_BAD_REQUEST, "bad request",
                                  "the policy was not changed", k.err);
    else
        ret = h_policy_get(c);
    capture_free(&k);
    return ret;
}

/* ---- bulk import ---- */

/* One CSV field, quoted when it must be (RFC 4180). */
static void csv_field(FILE *f, const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* A JSON array of SIM objects as the import's CSV: the columns are the
 * documented ones; anything else is an error of its row. */
static char *json_to_csv(json_t *arr, size_t *len, char **why)
{
    static const char *const cols[] = { "iccid", "imsi", "msisdn", "imei", "ip", "group",
                                        "tenant", "state", NULL };
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    for (int i = 0; cols[i]; i++)
        fprintf(f, "%s%s", i ? "," : "", cols[i]);
    fputc('\n', f);
    size_t idx;
    json_t *row;
    json_array_foreach(arr, idx, row) {
        const char *key;
        json_t *v;
        if (!json_is_object(row)) {
            if (asprintf(why, "item %zu is not an object", idx) < 0)
                *why = NULL;
            break;
        }
        json_object_foreach(row, key, v) {
            int known = 0;
            for (int i = 0; cols[i]; i++)
                known |= strcmp(key, cols[i]) == 0;
            if (!known || !json_is_string(v)) {
                if (asprintf(why, "item %zu: \"%.40s\" is %s", idx, key,
                             known ? "not a string" : "not a SIM field") < 0)
                    *why = NULL;
                break;
            }
        }
        if (*why)
            break;
        for (int i = 0; cols[i]; i++) {
            if (i)
                fputc(',', f);
            const char *s = json_string_value(json_object_get(row, cols[i]));
            csv_field(f, s ? s : "");
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0 || *why) {
        free(text);
        return NULL;
    }
    return text;
}

int h_sims_import(struct call *c)
{
    const char *ct = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Content-Type");
    char *csv = NULL;
    size_t len = 0;
    if (ct && strncmp(ct, "application/json", 16) == 0) {
        json_error_t jerr;
        json_t *arr = json_loadb(c->body ? c->body : "", c->body_len, JSON_REJECT_DUPLICATES,
                                 &jerr);
        if (!arr || !json_is_array(arr)) {
            json_decref(arr);
            return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                           "the body is a JSON array of SIM objects: %s",
                           arr ? "not an array" : jerr.text);
        }
        char *why = NULL;
        csv = json_to_csv(arr, &len, &why);
        json_decref(arr);
        if (!csv) {
            int r = problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "%s",
                            why ? why : "out of memory");
            free(why);
            return r;
        }
    } else if (!ct || strncmp(ct, "text/csv", 8) == 0) {
        if (!(csv = malloc(c->body_len + 1)))
            return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", "import");
        memcpy(csv, c->body ? c->body : "", c->body_len);
        len = c->body_len;
    } else {
        return problem(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported media type",
                       "send text/csv (docs/csv-format.md) or application/json");
    }
    const char *cm = arg(c, "create_missing");
    int create = cm && (strcmp(cm, "true") == 0 || strcmp(cm, "1") == 0);
    FILE *f = fmemopen(csv, len ? len : 1, "r");
    if (!f) {
        free(csv);
        return problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", "import");
    }
    if (!len)
        (void)fgetc(f);     /* an empty body is an empty file */
    struct captured k;
    struct import_result res;
    memset(&res, 0, sizeof res);
    int r = capture_begin(c, &k);
    if (r == 0)
        r = cmd_sim_import_stream(&k.cc, f, "body", create, &res);
    capture_end(&k);
    (void)fclose(f);
    free(csv);
    int ret;
    if (r < 0)
        ret = problem_with_errors(c, MHD_HTTP_UNPROCESSABLE_CONTENT, "import refused",
                                  "nothing was imported: every bad row is listed", k.err);
    else
        ret = ok(c, json_pack("{s:I, s:I}", "rows", (json_int_t)res.rows, "imported",
                              (json_int_t)res.imported));
    capture_free(&k);
    return ret;
}

/* ---- one SIM: create, change ---- */

int h_sim_create(struct call *c)
{
    json_error_t jerr;
    json_t *obj = json_loadb(c->body ? c->body : "", c->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "the body is one SIM object (iccid, imsi, group, tenant, ...)");
    }
    const char *iccid = json_string_value(json_object_get(obj, "iccid"));
    char key[32];
    snprintf(key, sizeof key, "%s", iccid ? iccid : "");
    json_t *arr = json_pack("[o]", obj);
    char *why = NULL;
    size_t len = 0;
    char *csv = json_to_csv(arr, &len, &why);
    json_decref(arr);
    if (!csv) {
        int r = problem(c, MHD_HTTP_BAD_REQUEST, "bad request", "%s", why ? why : "out of memory");
        free(why);
        return r;
    }
    FILE *f = fmemopen(csv, len, "r");
    struct captured k;
    struct import_result res;
    memset(&res, 0, sizeof res);
    int r = f ? capture_begin(c, &k) : -ENOMEM;
    if (r == 0)
        r = cmd_sim_import_stream(&k.cc, f, "body", 0, &res);
    if (f) {
        capture_end(&k);
        (void)fclose(f);
    }
    free(csv);
    int ret;
    if (r < 0) {
        ret = problem_with_errors(c, MHD_HTTP_UNPROCESSABLE_CONTENT, "not created",
                                  "the SIM was not created", f ? k.err : "out of memory");
    } else {
        struct store_sim s;
        snprintf(c->param, sizeof c->param, "%s", key);
        ret = find_sim(c, &s, &ret) < 0 ? ret
              : send_json(c, MHD_HTTP_CREATED, sim_to_json(&s), "application/json");
    }
    if (f)
        capture_free(&k);
    return ret;
}

int h_sim_patch(struct call *c)
{
    static const char *const fields[] = { "group", "msisdn", "ip", "imei", NULL };
    json_error_t jerr;
    json_t *obj = json_loadb(c->body ? c->body : "", c->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj || !json_is_object(obj) || json_object_size(obj) == 0) {
        json_decref(obj);
        return problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                       "the body is an object of the fields to change: group, msisdn, ip, imei "
                       "(null clears msisdn, ip and imei)");
    }
    struct sim_patch p;
    memset(&p, 0, sizeof p);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int i;
        for (i = 0; fields[i] && strcmp(fields[i], key) != 0; i++)
            ;
        if (!fields[i] || !(json_is_string(v) || (json_is_null(v) && i > 0))) {
            int r = problem(c, MHD_HTTP_BAD_REQUEST, "bad request",
                            "\"%.40s\" is %s", key, fields[i] ? "not a string" :
                            "not a field that can be changed (group, msisdn, ip, imei)");
            json_decref(obj);
            return r;
        }
        const char *sv = json_string_value(v);    /* NULL for null */
        switch (i) {
        case 0: p.set_group = 1; p.group = sv; break;
        case 1: p.set_msisdn = 1; p.msisdn = sv; break;
        case 2: p.set_ip = 1; p.ip = sv; break;
        default: p.set_imei = 1; p.imei = sv; break;
        }
    }
    struct store_sim s;
    int ret;
    if (find_sim(c, &s, &ret) < 0) {
        json_decref(obj);
        return ret;
    }
    struct captured k;
    int r = capture_begin(c, &k);
    if (r == 0)
        r = cmd_sim_patch(&k.cc, s.iccid, &p);
    capture_end(&k);
    json_decref(obj);
    if (r == -EINVAL)
        ret = problem_with_errors(c, MHD_HTTP_BAD_REQUEST, "bad request", "nothing was changed",
                                  k.err);
    else if (r == -EEXIST)
        ret = problem_with_errors(c, MHD_HTTP_CONFLICT, "conflict", "nothing was changed", k.err);
    else if (r < 0)
        ret = problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error", "%s", k.err ? k.err : "");
    else
        ret = find_sim(c, &s, &ret) < 0 ? ret : ok(c, sim_to_json(&s));
    capture_free(&k);
    return ret;
}
