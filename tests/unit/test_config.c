/*
 * test_config.c — the daemon configuration parser (config/config.c):
 * a full valid file, every error reported as FILE:LINE: message (all of
 * them, not only the first), quoting, and client lookup by longest prefix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "config/config.h"

static int load(const char *text, struct config **ret, char *err, size_t errlen)
{
    char path[] = "/tmp/m2mg-test-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    FILE *f = fmemopen(err, errlen, "w");
    int r = config_load(path, f, ret);
    fclose(f);
    /* Errors name the file: replace the random name for the asserts. */
    char *p;
    while ((p = strstr(err, path)) != NULL) {
        memmove(p + 4, p + strlen(path), strlen(p + strlen(path)) + 1);
        memcpy(p, "CONF", 4);
    }
    unlink(path);
    return r;
}

static void test_valid(void **state)
{
    (void)state;
    struct config *c = NULL;
    char err[1024] = "";
    int r = load("# comment\n"
                 "database /var/db/x.db   # trailing comment\n"
                 "control  \"/run/a b.sock\"\n"
                 "events   stderr\n"
                 "workers  4\n"
                 "listen auth 127.0.0.1:1812\n"
                 "require-message-authenticator no\n"
                 "dup-cache-size 1024\n"
                 "acct-flush 250\n"
                 "acct-retention 0\n"
                 "client gw1 {\n"
                 "    address 10.0.0.0/8\n"
                 "    secret \"s3cret with # and \\\" quote-0123456789\"\n"
                 "    tenant acme\n"
                 "    da-port 1700\n"
                 "    da-attributes 3gpp-imsi calling-station-id\n"
                 "}\n"
                 "client gw2 {\n"
                 "    address 10.1.2.3\n"
                 "    secret 0123456789abcdef0123\n"
                 "}\n", &c, err, sizeof err);
    assert_int_equal(r, 0);
    assert_string_equal(err, "");
    assert_string_equal(c->database, "/var/db/x.db");
    assert_string_equal(c->control, "/run/a b.sock");
    assert_int_equal(c->workers, 4);
    assert_int_equal(c->require_ma, 0);
    assert_int_equal(c->dup_cache_size, 1024);
    assert_int_equal(c->acct_flush_ms, 250);
    assert_int_equal(c->acct_retention_days, 0);
    assert_int_equal(ntohs(c->auth_addr.sin_port), 1812);
    assert_int_equal(c->nclients, 2);
    assert_string_equal(c->clients[0].tenant, "acme");
    assert_int_equal(c->clients[0].da_port, 1700);
    assert_int_equal(c->clients[0].da_attrs, DA_ATTR_3GPP_IMSI | DA_ATTR_CALLING_STATION_ID);
    assert_int_equal(c->clients[0].secret.len, strlen("s3cret with # and \" quote-0123456789"));
    assert_string_equal(c->clients[1].tenant, "default");
    /* Longest prefix wins. */
    assert_ptr_equal(config_client_find(c, 0x0a010203), &c->clients[1]);
    assert_ptr_equal(config_client_find(c, 0x0a010204), &c->clients[0]);
    assert_null(config_client_find(c, 0x0b000001));
    config_free(c);
}

static void test_every_error_with_line(void **state)
{
    (void)state;
    struct config *c = NULL;
    char err[4096] = "";
    int r = load("workers 0\n"
                 "bogus 1\n"
                 "listen auth 127.0.0.1\n"
                 "database\n"
                 "client a {\n"
                 "  address 300.1.1.1\n"
                 "  secret \"unterminated\n"
                 "  da-attributes user-name nonsense\n"
                 "  colour blue\n"
                 "}\n"
                 "client a {\n"
                 "  address 10.0.0.1\n"
                 "}\n"
                 "}\n"
                 "client open {\n", &c, err, sizeof err);
    assert_int_equal(r, -EINVAL);
    assert_null(c);
    assert_non_null(strstr(err, "CONF:1: workers must be 1..64"));
    assert_non_null(strstr(err, "CONF:2: unknown directive \"bogus\""));
    assert_non_null(strstr(err, "CONF:3: bad address"));
    assert_non_null(strstr(err, "CONF:4: directive \"database\" takes exactly one value"));
    assert_non_null(strstr(err, "CONF:6: bad IPv4 address"));
    assert_non_null(strstr(err, "CONF:7: unterminated or misplaced quote"));
    assert_non_null(strstr(err, "CONF:8: unknown identification attribute \"nonsense\""));
    assert_non_null(strstr(err, "CONF:9: unknown client directive \"colour\""));
    assert_non_null(strstr(err, "CONF:5: client \"a\" has no secret"));
    assert_non_null(strstr(err, "CONF:11: client \"a\" already defined at line 5"));
    assert_non_null(strstr(err, "CONF:14: \"}\" without a block"));
    assert_non_null(strstr(err, "block is not closed"));
}

static void test_weak_secret_warns(void **state)
{
    (void)state;
    struct config *c = NULL;
    char err[1024] = "";
    assert_int_equal(load("client a {\n address 127.0.0.1\n secret short\n}\n", &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "CONF:3: warning: secret of client \"a\" is shorter than 16"));
    config_free(c);
}

static void test_user_group_seccomp(void **state)
{
    (void)state;
    struct config *c = NULL;
    char err[1024] = "";
    assert_int_equal(load("database /x.db\n", &c, err, sizeof err), 0);
    assert_string_equal(c->user, "");       /* the default: daemon/privdrop.h */
    assert_string_equal(c->group, "");
    assert_int_equal(c->seccomp, 1);        /* on unless turned off */
    config_free(c);
    assert_int_equal(load("user m2mguard\ngroup m2m-ops\nseccomp off\n", &c, err, sizeof err), 0);
    assert_string_equal(c->user, "m2mguard");
    assert_string_equal(c->group, "m2m-ops");
    assert_int_equal(c->seccomp, 0);
    config_free(c);
    assert_int_equal(load("user -rf\ngroup a/b\nuser abcdefghijklmnopqrstuvwxyz0123456\n"
                          "seccomp maybe\n", &c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "CONF:1: user must be a user name"));
    assert_non_null(strstr(err, "CONF:2: group must be a group name"));
    assert_non_null(strstr(err, "CONF:3: user must be a user name: 1 to 32"));
    assert_non_null(strstr(err, "CONF:4: seccomp must be on or off"));
}

/* The file's mode as it was read decides; the message names it and the fix. */
static void test_secrets_readable_by_everyone(void **state)
{
    (void)state;
    static const struct { mode_t mode; const char *what; } cases[] = {
        { 0600, NULL }, { 0640, NULL }, { 0660, NULL },
        { 0644, "is readable by every user" }, { 0602, "is writable by every user" },
        { 0666, "is readable and writable by every user" },
    };
    char path[] = "/tmp/m2mg-test-conf-XXXXXX";
    const char *text = "client a {\n address 127.0.0.1\n secret 0123456789abcdef\n}\n";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config *c = NULL;
        char err[1024] = "", want[256];
        assert_int_equal(chmod(path, cases[i].mode), 0);
        assert_int_equal(config_load(path, NULL, &c), 0);
        FILE *f = fmemopen(err, sizeof err, "w");
        int r = config_check_secret_files(c, f);
        fclose(f);
        config_free(c);
        if (!cases[i].what) {
            assert_int_equal(r, 0);
            assert_string_equal(err, "");
            continue;
        }
        assert_int_equal(r, -EACCES);
        snprintf(want, sizeof want, "%s: holds RADIUS shared secrets and %s; fix: chmod o-rwx %s",
                 path, cases[i].what, path);
        if (!strstr(err, want))
            fail_msg("expected \"%s\" in \"%s\"", want, err);
    }
    /* Without a client there is no secret in it. */
    struct config *c = NULL;
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "workers 2\n", 10), 10);
    close(fd);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(config_load(path, NULL, &c), 0);
    assert_int_equal(config_check_secret_files(c, NULL), 0);
    config_free(c);
    unlink(path);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct config *c = NULL;
    assert_true(config_load("/nonexistent/m2mguard.conf", NULL, &c) < 0);
    assert_null(c);
}

static void test_split_words(void **state)
{
    (void)state;
    char line[] = "attach \"a \\\"quoted\\\" step\" imsi=1 # comment";
    char *w[8];
    int too_many;
    assert_int_equal(config_split_words(line, w, 8, &too_many), 3);
    assert_string_equal(w[1], "a \"quoted\" step");
    assert_string_equal(w[2], "imsi=1");
    char many[] = "a b c d";
    assert_int_equal(config_split_words(many, w, 2, &too_many), 2);
    assert_true(too_many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_every_error_with_line),
        cmocka_unit_test(test_weak_secret_warns),
        cmocka_unit_test(test_user_group_seccomp),
        cmocka_unit_test(test_secrets_readable_by_everyone),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_split_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
