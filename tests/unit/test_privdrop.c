/*
 * test_privdrop.c — becoming the unprivileged user (daemon/privdrop.c).
 *
 * Run as root (the CI machine is): in a child process, privdrop_apply() to
 * `nobody` leaves every uid and gid that user's, no capability, no way
 * back (setuid(0), seteuid(0), setgid(0) fail with EPERM), no root-only
 * file readable, and PR_SET_NO_NEW_PRIVS set.  Which account a
 * configuration names, and the messages for the ones that cannot be used.
 * As another user these tests skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/privdrop.h"

static struct config *conf(const char *user, const char *group)
{
    struct config *c = calloc(1, sizeof *c);
    assert_non_null(c);
    snprintf(c->path, sizeof c->path, "/etc/m2mguard/test.conf");
    snprintf(c->user, sizeof c->user, "%s", user ? user : "");
    snprintf(c->group, sizeof c->group, "%s", group ? group : "");
    return c;
}

static const struct passwd *nobody(void)
{
    const struct passwd *pw = getpwnam("nobody");
    if (!pw)
        skip();
    return pw;
}

static int skip_unless_root(void)
{
    if (geteuid() != 0)
        skip();
    return 0;
}

/* Run in a child: each failed check is its own exit status. */
static int dropped_child(void)
{
    struct config *c = conf("nobody", NULL);
    struct privdrop_id id;
    char err[1024];
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (privdrop_resolve(c, &id, err, sizeof err) < 0 || !id.change)
        return 10;
    free(c);
    if (privdrop_apply(&id, err, sizeof err) < 0)
        return 11;
    if (getresuid(&ru, &eu, &su) < 0 || ru != id.uid || eu != id.uid || su != id.uid)
        return 12;
    if (getresgid(&rg, &eg, &sg) < 0 || rg != id.gid || eg != id.gid || sg != id.gid)
        return 13;
    errno = 0;
    if (setuid(0) != -1 || errno != EPERM)
        return 14;
    errno = 0;
    if (seteuid(0) != -1 || errno != EPERM)
        return 15;
    errno = 0;
    if (setgid(0) != -1 || errno != EPERM)
        return 16;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        return 17;
    /* Root's files are root's again. */
    int fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EACCES)
        return 18;
    return 0;
}

static void test_drop_to_nobody_cannot_come_back(void **state)
{
    (void)state;
    skip_unless_root();
    nobody();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(dropped_child());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_user_and_group_are_resolved(void **state)
{
    (void)state;
    skip_unless_root();
    const struct passwd *pw = nobody();
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    struct config *c = conf("nobody", NULL);
    struct privdrop_id id;
    char err[1024] = "";
    assert_int_equal(privdrop_resolve(c, &id, err, sizeof err), 0);
    assert_int_equal(id.change, 1);
    assert_int_equal(id.uid, uid);
    assert_int_equal(id.gid, gid);      /* the user's primary group */
    assert_string_equal(id.user, "nobody");
    free(c);

    /* `user root`, asked for: no change. */
    c = conf("root", NULL);
    assert_int_equal(privdrop_resolve(c, &id, err, sizeof err), 0);
    assert_int_equal(id.change, 0);
    assert_int_equal(id.uid, 0);
    free(c);
}

static void test_unusable_accounts_are_refused_with_the_fix(void **state)
{
    (void)state;
    skip_unless_root();
    nobody();
    struct privdrop_id id;
    char err[1024] = "";

    struct config *c = conf("no-such-user-m2mg", NULL);
    assert_int_equal(privdrop_resolve(c, &id, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "/etc/m2mguard/test.conf: user \"no-such-user-m2mg\" does not exist"));
    free(c);

    c = conf("nobody", "no-such-group-m2mg");
    assert_int_equal(privdrop_resolve(c, &id, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "group \"no-such-group-m2mg\" does not exist"));
    free(c);

    /* Group root is not an unprivileged group. */
    c = conf("nobody", "root");
    assert_int_equal(privdrop_resolve(c, &id, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "group root (gid 0)"));
    free(c);

    c = conf("root", "nogroup");
    assert_int_equal(privdrop_resolve(c, &id, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "`group` needs an unprivileged `user`"));
    free(c);

    /* No `user` line: the default account, which must exist. */
    if (!getpwnam(PRIVDROP_DEFAULT_USER)) {
        c = conf(NULL, NULL);
        assert_int_equal(privdrop_resolve(c, &id, err, sizeof err), -ENOENT);
        assert_non_null(strstr(err, "started as root, and the default user \"m2mguard\" does "
                                    "not exist: create it (useradd --system"));
        assert_non_null(strstr(err, "`user root` keeps root"));
        free(c);
    }
}

/* In a child dropped to nobody: a root-owned 0755 directory is refused. */
static int database_child(const char *dir)
{
    struct config *c = conf("nobody", NULL);
    struct privdrop_id id;
    char err[2048], db[512], want[1024];
    if (privdrop_resolve(c, &id, err, sizeof err) < 0 || privdrop_apply(&id, err, sizeof err) < 0)
        return 10;
    free(c);
    snprintf(db, sizeof db, "%s/m2mguard.db", dir);
    if (privdrop_check_database(db, id.user, err, sizeof err) != -EACCES)
        return 11;
    snprintf(want, sizeof want, "database %s: its directory %s is not writable by user nobody",
             db, dir);
    if (!strstr(err, want))
        return 12;
    snprintf(want, sizeof want, "chown nobody %s", dir);
    if (!strstr(err, want))
        return 13;
    /* /tmp is writable by everyone: accepted. */
    if (privdrop_check_database("/tmp/m2mguard-test-none.db", id.user, err, sizeof err) != 0)
        return 14;
    return 0;
}

static void test_database_directory_must_be_writable_by_the_user(void **state)
{
    (void)state;
    skip_unless_root();
    nobody();
    char dir[] = "/tmp/m2mg-privdrop-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(database_child(dir));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    rmdir(dir);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_to_nobody_cannot_come_back),
        cmocka_unit_test(test_user_and_group_are_resolved),
        cmocka_unit_test(test_unusable_accounts_are_refused_with_the_fix),
        cmocka_unit_test(test_database_directory_must_be_writable_by_the_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
