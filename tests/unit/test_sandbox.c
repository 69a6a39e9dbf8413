/*
 * test_sandbox.c — the daemon's seccomp filter (daemon/sandbox.c), in a
 * child process each: what the running daemon does still works (sockets
 * of its families, files, memory, a thread — glibc's clone3() answered
 * ENOSYS falls back to clone()), and what it never does kills the process
 * with SIGSYS after a line naming the call: exec, a netlink socket,
 * executable memory, a new process.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/sandbox.h"

/* Exit statuses of a body that found something wrong (not a signal). */
#define BAD_INSTALL 90
#define BAD_CALL 91

struct outcome {
    int status;         /* from waitpid() */
    char err[4096];     /* what the child wrote to stderr */
};

/* Run body() in a child under the filter; its stderr and status. */
static void run_sandboxed(void (*body)(void), struct outcome *o)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512];
        struct rlimit no_core = { 0, 0 };
        close(p[0]);
        dup2(p[1], STDERR_FILENO);
        setrlimit(RLIMIT_CORE, &no_core);       /* SIGSYS dumps core by default */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sandbox_install(err, sizeof err) < 0) {
            dprintf(STDERR_FILENO, "install: %s\n", err);
            _exit(BAD_INSTALL);
        }
        body();
        _exit(0);
    }
    close(p[1]);
    size_t got = 0;
    ssize_t k;
    while (got < sizeof o->err - 1 && (k = read(p[0], o->err + got, sizeof o->err - 1 - got)) > 0)
        got += (size_t)k;
    o->err[got] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, &o->status, 0), pid);
}

static void assert_killed_naming(const struct outcome *o, const char *syscall_name)
{
    char want[128];
    if (!WIFSIGNALED(o->status))
        fail_msg("child was not killed (exit status %d); stderr: %s",
                 WIFEXITED(o->status) ? WEXITSTATUS(o->status) : -1, o->err);
    assert_int_equal(WTERMSIG(o->status), SIGSYS);
    snprintf(want, sizeof want, "seccomp: system call ");
    assert_non_null(strstr(o->err, want));
    snprintf(want, sizeof want, "(%s) is not allowed", syscall_name);
    if (!strstr(o->err, want))
        fail_msg("expected \"%s\" in: %s", want, o->err);
}

static void *thread_body(void *arg)
{
    return arg;
}

/* What the daemon's threads do: must all work under the filter. */
static void allowed_body(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int s6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int pair[2];
    if (s < 0 || s6 < 0 || u < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
        _exit(BAD_CALL);
    close(s);
    close(s6);
    close(u);
    close(pair[0]);
    close(pair[1]);
    void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m, 4096, PROT_READ) < 0 || munmap(m, 1 << 20) < 0)
        _exit(BAD_CALL + 1);
    char *big = malloc(64 << 20);   /* glibc mmap()s it */
    if (!big)
        _exit(BAD_CALL + 2);
    big[0] = 1;
    free(big);
    /* The filter is there (mode 2), seen from the inside. */
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (n <= 0)
        _exit(BAD_CALL + 3);
    buf[n] = '\0';
    close(fd);
    if (!strstr(buf, "Seccomp:\t2"))
        _exit(BAD_CALL + 4);
    pthread_t t;
    void *ret = NULL;
    if (pthread_create(&t, NULL, thread_body, buf) != 0 || pthread_join(t, &ret) != 0 ||
        ret != buf)
        _exit(BAD_CALL + 5);
}

static void test_what_the_daemon_does_is_allowed(void **state)
{
    (void)state;
    struct outcome o;
    run_sandboxed(allowed_body, &o);
    if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
        fail_msg("status %d (signal %d); stderr: %s", WIFEXITED(o.status) ? WEXITSTATUS(o.status)
                 : -1, WIFSIGNALED(o.status) ? WTERMSIG(o.status) : 0, o.err);
}

static void exec_body(void)
{
    char *const argv[] = { "true", NULL };
    execv("/bin/true", argv);
    _exit(BAD_CALL);
}

static void test_exec_is_fatal(void **state)
{
    (void)state;
    struct outcome o;
    run_sandboxed(exec_body, &o);
    assert_killed_naming(&o, "execve");
}

static void netlink_body(void)
{
    int s = socket(AF_NETLINK, SOCK_RAW, 0);    /* NETLINK_ROUTE */
    (void)s;
    _exit(BAD_CALL);
}

static void test_other_socket_families_are_fatal(void **state)
{
    (void)state;
    struct outcome o;
    run_sandboxed(netlink_body, &o);
    assert_killed_naming(&o, "socket");
}

static void exec_memory_body(void)
{
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    (void)m;
    _exit(BAD_CALL);
}

static void test_executable_memory_is_fatal(void **state)
{
    (void)state;
    struct outcome o;
    run_sandboxed(exec_memory_body, &o);
    assert_killed_naming(&o, "mmap");
}

static void mprotect_exec_body(void)
{
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        _exit(BAD_CALL);
    (void)mprotect(m, 4096, PROT_READ | PROT_EXEC);
    _exit(BAD_CALL + 1);
}

static void test_making_memory_executable_is_fatal(void **state)
{
    (void)state;
    struct outcome o;
    run_sandboxed(mprotect_exec_body, &o);
    assert_killed_naming(&o, "mprotect");
}

static void fork_body(void)
{
    pid_t pid = fork();     /* glibc: clone() without CLONE_THREAD */
    if (pid == 0)
        _exit(0);
    _exit(BAD_CALL);
}

static void test_a_new_process_is_fatal(void **state)
{
    (void)state;
    if (SANDBOX_SANITIZED)
        skip();     /* LeakSanitizer's helper process needs clone() in this build */
    struct outcome o;
    run_sandboxed(fork_body, &o);
    assert_killed_naming(&o, "clone");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_the_daemon_does_is_allowed),
        cmocka_unit_test(test_exec_is_fatal),
        cmocka_unit_test(test_other_socket_families_are_fatal),
        cmocka_unit_test(test_executable_memory_is_fatal),
        cmocka_unit_test(test_making_memory_executable_is_fatal),
        cmocka_unit_test(test_a_new_process_is_fatal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
