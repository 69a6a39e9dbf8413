/*
 * test_audit.c — the audit chain (src/audit/chain.c): the canonical
 * encoding byte for byte, the hash against a vector computed elsewhere
 * (Python's hashlib), and verification of a real SQLite store that is then
 * tampered with through a second, raw SQLite connection, as an attacker with
 * the file would: each kind of tampering must be named, at the right record.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "cmd/cmd.h"
#include "store/store.h"

/* ---- encoding ---- */

static void test_admin_encoding_is_canonical(void **state)
{
    (void)state;
    struct audit_admin a = {
        .tenant_id = 2, .actor = "cli:root", .action = "sim.suspend",
        .target = "8944110000000100014",
        .detail = "{\"reason\":\"stolen\",\"after\":\"suspended\",\"before\":\"active\"}",
    };
    char *body = NULL;
    assert_int_equal(audit_encode_admin(&a, 7, 1700000000123, &body), 0);
    assert_string_equal(body,
        "{\"action\":\"sim.suspend\",\"actor\":\"cli:root\",\"after\":\"suspended\","
        "\"before\":\"active\",\"detail\":{\"reason\":\"stolen\"},\"kind\":\"admin\","
        "\"role\":null,\"seq\":7,\"source\":\"cli\",\"target\":\"8944110000000100014\","
        "\"tenant_id\":2,\"ts\":1700000000123}");
    free(body);

    /* The same change with its detail's keys in another order and spaced
     * out encodes to the same bytes. */
    a.detail = "{ \"before\" : \"active\", \"after\":\"suspended\", \"reason\":\"stolen\" }";
    char *again = NULL;
    assert_int_equal(audit_encode_admin(&a, 7, 1700000000123, &again), 0);
    assert_non_null(strstr(again, "\"detail\":{\"reason\":\"stolen\"}"));
    assert_int_equal(audit_encode_admin(&a, 7, 1700000000123, &body), 0);
    assert_string_equal(body, again);
    free(body);
    free(again);
}

static void test_admin_encoding_escapes_and_keeps_odd_input(void **state)
{
    (void)state;
    /* Role given, no source prefix, non-ASCII escaped, a detail that is not
     * JSON kept as a string, invalid UTF-8 kept byte by byte. */
    struct audit_admin a = {
        .tenant_id = 1, .actor = "operator", .role = "admin", .action = "policy.set",
        .target = "caf\xc3\xa9", .detail = "not json",
    };
    char *body = NULL;
    assert_int_equal(audit_encode_admin(&a, 1, 5, &body), 0);
    assert_string_equal(body,
        "{\"action\":\"policy.set\",\"actor\":\"operator\",\"after\":null,\"before\":null,"
        "\"detail\":\"not json\",\"kind\":\"admin\",\"role\":\"admin\",\"seq\":1,"
        "\"source\":null,\"target\":\"caf\\u00E9\",\"tenant_id\":1,\"ts\":5}");
    free(body);
    a.target = "bad\xff";
    assert_int_equal(audit_encode_admin(&a, 1, 5, &body), 0);
    assert_non_null(strstr(body, "\"target\":\"bad\\\\xff\""));
    free(body);
    a.actor = NULL;
    assert_int_equal(audit_encode_admin(&a, 1, 5, &body), -EINVAL);
}

static void test_action_encoding(void **state)
{
    (void)state;
    struct audit_action a = { .tenant_id = 2, .finding_id = 12, .action = "disconnect",
                              .target = "234151000000001", .outcome = "acked",
                              .detail = "{\"nas\":\"ggsn\"}" };
    char *body = NULL;
    assert_int_equal(audit_encode_action(&a, 3, 99, &body), 0);
    assert_string_equal(body,
        "{\"action\":\"disconnect\",\"detail\":{\"nas\":\"ggsn\"},\"finding_id\":12,"
        "\"kind\":\"action\",\"outcome\":\"acked\",\"seq\":3,\"target\":\"234151000000001\","
        "\"tenant_id\":2,\"ts\":99}");
    free(body);
    a.finding_id = 0;
    a.detail = NULL;
    assert_int_equal(audit_encode_action(&a, 3, 99, &body), 0);
    assert_non_null(strstr(body, "\"detail\":null,\"finding_id\":null,"));
    free(body);
}

static void test_hash_vector(void **state)
{
    (void)state;
    char h[AUDIT_HEX_LEN];
    /* python3 -c "import hashlib; print(hashlib.sha256(bytes(32) + b'abc').hexdigest())" */
    assert_int_equal(audit_hash("0000000000000000000000000000000000000000000000000000000000000000",
                                "abc", 3, h), 0);
    assert_string_equal(h, "365aa7d8f7f9402c4b9434502b4cc89ddb09fe50d7cd95b493b834c62d5a5370");
    assert_int_equal(audit_hash("00", "abc", 3, h), -EINVAL);
    assert_int_equal(audit_hash("365aa7d8f7f9402c4b9434502b4cc89ddb09fe50d7cd95b493b834c62d5a537X",
                                "abc", 3, h), -EINVAL);
    assert_int_equal(audit_hash("365aa7d8f7f9402c4b9434502b4cc89ddb09fe50d7cd95b493b834c62d5a53700",
                                "abc", 3, h), -EINVAL);
}

/* ---- verification of a real store ---- */

struct fx {
    char dir[64];
    char db[96];
    struct store *st;
    sqlite3 *raw;
};

#define RECORDS 6

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/m2mg-audit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/t.db", f->dir);
    assert_int_equal(store_open(f->db, &f->st), 0);
    /* Records 1..6: admin changes in transactions of their own, and
     * enforcement actions, two in one transaction as the journal does. */
    for (int i = 0; i < 4; i++) {
        char target[16];
        snprintf(target, sizeof target, "sim-%d", i);
        assert_int_equal(store_begin(f->st), 0);
        assert_int_equal(store_admin_log(f->st, 1, "cli:root", "sim.suspend", target,
                                         "{\"before\":\"active\",\"after\":\"suspended\"}"), 0);
        assert_int_equal(store_commit(f->st), 0);
    }
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_action_insert(f->st, 1, 1000, 0, "disconnect", "sim-9", "acked", NULL), 0);
    assert_int_equal(store_action_insert(f->st, 1, 1001, 0, "disconnect", "sim-8", "nak",
                                         "{\"error_cause\":503}"), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(sqlite3_open(f->db, &f->raw), SQLITE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[200];
    sqlite3_close(f->raw);
    store_close(f->st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void tamper(struct fx *f, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(f->raw, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static struct audit_verdict verify(struct fx *f)
{
    struct audit_verdict v;
    assert_int_equal(audit_verify(f->st, &v), 0);
    return v;
}

static void test_intact_chain_and_head(void **state)
{
    struct fx *f = *state;
    struct audit_verdict v = verify(f);
    assert_int_equal(v.fault, AUDIT_INTACT);
    assert_int_equal(v.records, RECORDS);
    int64_t seq;
    char hex[AUDIT_HEX_LEN];
    assert_int_equal(audit_head(f->st, &seq, hex), 0);
    assert_int_equal(seq, RECORDS);
    assert_string_equal(hex, v.head_hash);
    /* A rolled-back change leaves no record (and no gap). */
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_admin_log(f->st, 1, "cli:root", "tenant.create", "x", NULL), 0);
    store_rollback(f->st);
    v = verify(f);
    assert_int_equal(v.fault, AUDIT_INTACT);
    assert_int_equal(v.head_seq, RECORDS);
}

/* What the HTTP API adds: one tenant's records counted, the tenant of the
 * record at fault (-1 when it is not a stored row), and cancelling. */
static void test_tenant_count_fault_tenant_and_cancel(void **state)
{
    struct fx *f = *state;
    int64_t acme;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_tenant_create(f->st, "acme", &acme), 0);
    assert_int_equal(store_admin_log(f->st, acme, "api:a", "sim.delete", "s1", NULL), 0);
    assert_int_equal(store_admin_log(f->st, acme, "api:a", "sim.delete", "s2", NULL), 0);
    assert_int_equal(store_commit(f->st), 0);
    struct audit_verify_opts o = { .tenant_id = acme };
    struct audit_verdict v;
    assert_int_equal(audit_verify_ex(f->st, &o, &v), 0);
    assert_int_equal(v.fault, AUDIT_INTACT);
    assert_int_equal(v.records, RECORDS + 2);
    assert_int_equal(v.tenant_records, 2);
    _Atomic int cancel = 1;
    o.cancel = &cancel;
    assert_int_equal(audit_verify_ex(f->st, &o, &v), -ECANCELED);
    o.cancel = NULL;
    /* acme's second record changed: named as acme's, one of its records proven. */
    tamper(f, "UPDATE audit_chain SET body = replace(body, '\"s2\"', '\"s3\"') WHERE seq = 8");
    assert_int_equal(audit_verify_ex(f->st, &o, &v), 0);
    assert_int_equal(v.fault, AUDIT_CHANGED);
    assert_int_equal(v.seq, 8);
    assert_int_equal(v.fault_tenant_id, acme);
    assert_int_equal(v.tenant_records, 1);
    /* The platform's record 2 changed: not acme's; no acme record proven. */
    tamper(f, "UPDATE audit_chain SET body = replace(body, 'sim-1', 'sim-7') WHERE seq = 2");
    assert_int_equal(audit_verify_ex(f->st, &o, &v), 0);
    assert_int_equal(v.seq, 2);
    assert_int_equal(v.fault_tenant_id, 1);
    assert_int_equal(v.tenant_records, 0);
    /* A deleted record is nobody's. */
    tamper(f, "DELETE FROM audit_chain WHERE seq = 2");
    assert_int_equal(audit_verify_ex(f->st, &o, &v), 0);
    assert_int_equal(v.fault, AUDIT_DELETED);
    assert_int_equal(v.fault_tenant_id, -1);
}

static void test_parse_head(void **state)
{
    (void)state;
    char hex[AUDIT_HEX_LEN], in[128];
    const char *h64 = "365aa7d8f7f9402c4b9434502b4cc89ddb09fe50d7cd95b493b834c62d5a5370";
    int64_t seq;
    snprintf(in, sizeof in, "42:%s", h64);
    assert_int_equal(audit_parse_head(in, &seq, hex), 0);
    assert_int_equal(seq, 42);
    assert_string_equal(hex, h64);
    snprintf(in, sizeof in, "999999999999999999:%s", h64);
    assert_int_equal(audit_parse_head(in, &seq, hex), 0);
    assert_int_equal(seq, 999999999999999999LL);
    /* Bare, then each prefix followed by a valid hash. */
    static const char *const bare[] = { "", "42", "42:", ":", NULL };
    for (int i = 0; bare[i]; i++)
        assert_int_equal(audit_parse_head(bare[i], &seq, hex), -EINVAL);
    static const char *const prefix[] = { ":", "0:", "042:", "-1:", "+1:", " 1:",
                                          "1234567890123456789:", "4x:", "1::", NULL };
    for (int i = 0; prefix[i]; i++) {
        snprintf(in, sizeof in, "%s%s", prefix[i], h64);
        assert_int_equal(audit_parse_head(in, &seq, hex), -EINVAL);
    }
    snprintf(in, sizeof in, "1:%.63s", h64);            /* one digit short */
    assert_int_equal(audit_parse_head(in, &seq, hex), -EINVAL);
    snprintf(in, sizeof in, "1:%sA", h64);               /* one too many */
    assert_int_equal(audit_parse_head(in, &seq, hex), -EINVAL);
    snprintf(in, sizeof in, "1:%.63sF", h64);            /* upper case */
    assert_int_equal(audit_parse_head(in, &seq, hex), -EINVAL);
}

static void test_changed_field_is_named(void **state)
{
    struct fx *f = *state;
    tamper(f, "UPDATE audit_chain SET body = replace(body, 'suspended', 'active') WHERE seq = 3");
    struct audit_verdict v = verify(f);
    assert_int_equal(v.fault, AUDIT_CHANGED);
    assert_int_equal(v.seq, 3);
    assert_int_equal(v.records, 2);
}

static void test_changed_column_is_named(void **state)
{
    struct fx *f = *state;
    tamper(f, "UPDATE audit_chain SET tenant_id = 3 WHERE seq = 5");
    struct audit_verdict v = verify(f);
    assert_int_equal(v.fault, AUDIT_CHANGED);
    assert_int_equal(v.seq, 5);
    assert_non_null(strstr(v.why, "tenant_id"));
}

static void test_deleted_record_is_named(void **state)
{
    struct fx *f = *state;
    tamper(f, "DELETE FROM audit_chain WHERE seq = 2");
    struct audit_verdict v = verify(f);
    assert_int_equal(v.fault, AUDIT_DELETED);
    assert_int_equal(v.seq, 2);
}

static void test_deleted_last_record_is_named(void **state)
{
    struct fx *f = *state;
    tamper(f, "DELETE FROM audit_chain WHERE seq = 6");
    struct audit_verdict v = verify(f);
    assert_int_equal(v.fault, AUDIT_DELETED);
    assert_int_equal(v.seq, 6);
}

/* An insertion done well: later records renumbered, the forged record
 * hashed correctly onto its predecessor. */
static void test_inserted_record_is_named(void **state)
{
    struct fx *f = *state;
    struct audit_admin a = { .tenant_id = 1, .actor = "cli:mallory", .action = "sim.resume",
                             .target = "sim-1" };
    char *body = NULL, prev[AUDIT_HEX_LEN], h[AUDIT_HEX_LEN], sql[2048];
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->raw, "SELECT hash FROM audit_chain WHERE seq = 3",
                                        -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    assert_int_equal(audit_encode_admin(&a, 4, 1234, &body), 0);
    assert_int_equal(audit_hash(prev, body, strlen(body), h), 0);
    tamper(f, "UPDATE audit_chain SET seq = seq + 1000 WHERE seq >= 4");
    tamper(f, "UPDATE audit_chain SET seq = seq - 999 WHERE seq >= 1000");
    sqlite3_snprintf(sizeof sql, sql, "INSERT INTO audit_chain VALUES (4, 1234, 1, 'admin', %Q,"
                     " %Q, %Q); UPDATE meta SET value = 7 WHERE key = 'audit_seq'", body, prev, h);
    tamper(f, sql);
    free(body);
    struct audit_verdict v = verify(f);
    assert_int_equal(v.fault, AUDIT_INSERTED);
    assert_int_equal(v.seq, 4);
}

static void test_copied_record_is_named(void **state)
{
    struct fx *f = *state;
    tamper(f, "INSERT INTO audit_chain SELECT 7, ts, tenant_id, kind, body, prev_hash, hash"
              " FROM audit_chain WHERE seq = 2");
    struct audit_verdict v = verify(f);
    assert_int_equal(v.fault, AUDIT_INSERTED);
    assert_int_equal(v.seq, 7);
}

static void test_swapped_records_are_named(void **state)
{
    struct fx *f = *state;
    tamper(f, "UPDATE audit_chain SET seq = 100 WHERE seq = 2;"
              "UPDATE audit_chain SET seq = 2 WHERE seq = 3;"
              "UPDATE audit_chain SET seq = 3 WHERE seq = 100");
    struct audit_verdict v = verify(f);
    assert_int_equal(v.fault, AUDIT_REORDERED);
    assert_int_equal(v.seq, 2);
}

static void test_published_head(void **state)
{
    struct fx *f = *state;
    struct audit_verdict v;
    int64_t seq;
    char hex[AUDIT_HEX_LEN], other[AUDIT_HEX_LEN];
    assert_int_equal(audit_head(f->st, &seq, hex), 0);
    assert_int_equal(audit_verify_anchor(f->st, seq, hex, &v), 0);
    assert_int_equal(v.fault, AUDIT_INTACT);
    /* Record 3 with the head's hash: not what was published. */
    assert_int_equal(audit_verify_anchor(f->st, 3, hex, &v), 0);
    assert_int_equal(v.fault, AUDIT_CHANGED);
    assert_int_equal(v.seq, 3);
    /* A head beyond the end: records were deleted (and re-counted). */
    assert_int_equal(audit_verify_anchor(f->st, seq + 2, hex, &v), 0);
    assert_int_equal(v.fault, AUDIT_DELETED);
    assert_int_equal(v.seq, seq + 1);
    memcpy(other, hex, sizeof other);
    other[5] = 'G';
    assert_int_equal(audit_verify_anchor(f->st, seq, other, &v), -EINVAL);
}

/* The command layer records the role its caller knows (the API's token). */
static int last_body(void *ctx, const struct store_audit_row *r)
{
    snprintf(ctx, 1024, "%s", r->body);
    return 0;
}

static void test_command_records_role_and_source(void **state)
{
    struct fx *f = *state;
    struct cmd_ctx c = { .st = f->st };
    char body[1024] = "";
    c.out = fopen("/dev/null", "w");
    c.err = c.out;
    assert_non_null(c.out);
    snprintf(c.actor, sizeof c.actor, "api:noc");
    snprintf(c.role, sizeof c.role, "platform-admin");
    assert_int_equal(cmd_tenant_create(&c, "beta"), 0);
    assert_int_equal(cmd_tenant_create(&c, "beta"), -EEXIST);   /* refused: no record */
    fclose(c.out);
    assert_int_equal(store_audit_walk(f->st, 0, 1, last_body, body), 0);
    assert_non_null(strstr(body, "\"action\":\"tenant.create\",\"actor\":\"api:noc\""));
    assert_non_null(strstr(body, "\"role\":\"platform-admin\",\"seq\":7,\"source\":\"api\""));
    struct audit_verdict v = verify(f);
    assert_int_equal(v.fault, AUDIT_INTACT);
    assert_int_equal(v.head_seq, RECORDS + 1);
}

/* The walk alone, without a store to look hashes up in. */
static void test_walk_without_store(void **state)
{
    (void)state;
    struct audit_walk w;
    struct store_audit_row r = { .seq = 1, .ts_ms = 5, .tenant_id = 1 };
    struct audit_admin a = { .tenant_id = 1, .actor = "cli:root", .action = "a", .target = "t" };
    char *body = NULL;
    audit_walk_init(&w, NULL);
    snprintf(r.kind, sizeof r.kind, "admin");
    memset(r.prev_hash, '0', 64);
    assert_int_equal(audit_encode_admin(&a, 1, 5, &body), 0);
    r.body = body;
    assert_int_equal(audit_hash(r.prev_hash, body, strlen(body), r.hash), 0);
    assert_int_equal(audit_walk_row(&w, &r), 0);
    audit_walk_end(&w, 1);
    assert_int_equal(w.v.fault, AUDIT_INTACT);
    assert_int_equal(w.v.head_seq, 1);
    /* The same row again: it does not follow itself. */
    audit_walk_init(&w, NULL);
    assert_int_equal(audit_walk_row(&w, &r), 0);
    r.seq = 2;
    assert_int_equal(audit_walk_row(&w, &r), 1);
    assert_int_not_equal(w.v.fault, AUDIT_INTACT);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_encoding_is_canonical),
        cmocka_unit_test(test_admin_encoding_escapes_and_keeps_odd_input),
        cmocka_unit_test(test_action_encoding),
        cmocka_unit_test(test_hash_vector),
        cmocka_unit_test(test_walk_without_store),
        cmocka_unit_test(test_parse_head),
        cmocka_unit_test_setup_teardown(test_tenant_count_fault_tenant_and_cancel, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_intact_chain_and_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_records_role_and_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_published_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_field_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_column_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_record_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_last_record_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inserted_record_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copied_record_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_records_are_named, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
