/*
 * sandbox.c — the seccomp allowlist of the running daemon (see sandbox.h).
 *
 * The list is what the daemon's threads do once started, by who does it:
 * RADIUS workers (recvmmsg / sendmmsg), the accounting, journal and
 * checkpoint threads (SQLite: pread / pwrite / fdatasync / fcntl locks /
 * the -shm mapping; the event log), the Dynamic Authorization client
 * (ppoll, an eventfd, UDP), the HTTP API (libmicrohttpd's epoll loop; a
 * request that changes something tells the main thread over the control
 * socket; the live event stream suspends and resumes connections), the
 * syslog output (it reconnects its TCP socket), the webhook sender
 * (libcurl: a thread per name lookup, DNS over UDP, /etc/hosts, IPv4 or
 * IPv6, OpenSSL loading the CA certificates), and the main thread
 * (signalfd, the control socket, a reload re-reading the configuration
 * and reopening the logs, syslog(3)).  Start-up calls —
 * bind, listen, setuid, epoll_create, signalfd, flock, prctl — are not on
 * it: the filter comes after them.
 *
 * Arguments are checked where it matters and is possible: socket() only
 * for AF_UNIX, AF_INET and AF_INET6 (a webhook's receiver may be IPv6),
 * socketpair() only AF_UNIX (libcurl's resolver makes one per lookup);
 * mmap() and mprotect() never with PROT_EXEC (as systemd's
 * MemoryDenyWriteExecute=); clone() only for a thread
 * (CLONE_THREAD), never a process, and clone3() — whose flags are in
 * memory a filter cannot read — answers ENOSYS so glibc falls back to
 * clone(); tgkill() only to this process; ioctl() only the terminal query
 * stdio makes on a character device and FIONREAD (the resolver); prctl()
 * only to name a thread.
 *
 * Why kill and not EPERM: a call outside the list is a bug or an exploit
 * at work.  EPERM would send it down an error path that looks like an
 * ordinary failure (a "disk error", a thread giving up) and keep running
 * in a state nobody planned; stopping at once, with the call named in the
 * log, is what an operator can act on (and a service manager restarts
 * the daemon).  SECCOMP_RET_TRAP rather than RET_KILL_PROCESS only so the
 * process can say which call it was before it dies.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "daemon/sandbox.h"

#define SYSCALL_NAMES 512       /* x86-64 and aarch64 numbers are below this */
#define SYSCALL_NAME_MAX 32

/* Allowed with any arguments. */
static const char *const allowed[] = {
    /* memory (mmap and mprotect: below, without PROT_EXEC) */
    "brk", "munmap", "mremap", "madvise",
    /* threads, locks, their end */
    "futex", "set_robust_list", "rseq", "sched_yield", "exit", "exit_group",
    "restart_syscall",
    /* signals: the signalfd is read(); abort() and raise() reset and send */
    "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "getpid", "gettid",
    /* time (normally the vDSO) and waiting */
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    /* files: SQLite, the logs, a reload re-reading the configuration */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close",
    "open", "openat", "stat", "fstat", "lstat", "newfstatat", "statx", "fcntl",
    "fsync", "fdatasync", "ftruncate", "unlink", "unlinkat", "access", "faccessat",
    "faccessat2", "getcwd", "readlink", "readlinkat", "fchmod", "fchown",
    /* sockets that exist, and the syslog and control-socket clients */
    "connect", "accept4", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
    "recvmmsg", "shutdown", "setsockopt", "getsockopt", "getsockname", "getpeername",
    /* waiting for them */
    "poll", "ppoll", "epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl",
    /* the rest: token secrets, `stats`, SQLite's file-creation check,
     * qsort() sizing its buffer by the machine's memory, the resolver
     * reading the host's name */
    "getrandom", "getrusage", "getuid", "geteuid", "getgid", "getegid", "sysinfo", "uname",
};

#if SANDBOX_SANITIZED
/* ASan / LSan / TSan runtimes: reading /proc/self, the alternate signal
 * stack of a thread that exits, and LeakSanitizer's check at exit, which
 * stops every thread with ptrace() from a helper process (a clone()
 * without CLONE_THREAD, below) and waits for it. */
static const char *const allowed_sanitizer[] = {
    "sigaltstack", "getdents", "getdents64", "ptrace", "wait4", "waitid", "kill",
    "sched_getaffinity", "getppid", "prlimit64", "getrlimit", "setrlimit",
    "process_vm_readv", "pipe2", "dup", "dup2", "dup3",
};
#endif

static char syscall_names[SYSCALL_NAMES][SYSCALL_NAME_MAX];

/* Decimal n into out (async-signal-safe); returns the length. */
static size_t fmt_uint(char *out, unsigned long n)
{
    char tmp[24];
    size_t k = 0, len = 0;
    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n && k < sizeof tmp);
    while (k)
        out[len++] = tmp[--k];
    return len;
}

static size_t append(char *buf, size_t len, size_t cap, const char *s)
{
    while (*s && len < cap)
        buf[len++] = *s++;
    return len;
}

/*
 * SIGSYS from the filter: name the call, then die of the same signal (the
 * handler was reset on entry, SA_RESETHAND, and SA_NODEFER leaves the
 * signal unblocked).  Only async-signal-safe calls, all on the list.
 */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    char buf[320];
    size_t len = 0;
    int nr = si->si_syscall;
    len = append(buf, len, sizeof buf, "m2mguard: seccomp: system call ");
    len += fmt_uint(buf + len, (unsigned long)(nr < 0 ? 0 : nr));
    if (nr >= 0 && nr < SYSCALL_NAMES && syscall_names[nr][0]) {
        len = append(buf, len, sizeof buf, " (");
        len = append(buf, len, sizeof buf, syscall_names[nr]);
        len = append(buf, len, sizeof buf, ")");
    }
    len = append(buf, len, sizeof buf, " is not allowed: stopping (a bug or an attack; "
                                       "`seccomp off` in the configuration runs without the "
                                       "filter)\n");
    ssize_t w = write(STDERR_FILENO, buf, len);
    int fd = log_file_fd();
    if (fd >= 0)
        w = write(fd, buf, len);
    (void)w;
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
    _exit(128 + sig);   /* not reached */
}

static int allow_list(scmp_filter_ctx ctx, const char *const *names, size_t n, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;       /* not on this architecture (aarch64 has no open()) */
        int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (r < 0) {
            snprintf(err, errlen, "seccomp: allowing %s: %s", names[i], strerror(-r));
            return r;
        }
    }
    return 0;
}

/* A call allowed (or answered) with one argument checked, or none. */
struct arg_rule {
    const char *name;
    int nr;
    uint32_t action;
    unsigned nargs;             /* 0 or 1 */
    struct scmp_arg_cmp arg;
};

/* The calls allowed with some arguments only (see the file's comment). */
static int allow_with_arguments(scmp_filter_ctx ctx, char *err, size_t errlen)
{
    const struct arg_rule rules[] = {
        { "socket", SCMP_SYS(socket), SCMP_ACT_ALLOW, 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX) },
        { "socket", SCMP_SYS(socket), SCMP_ACT_ALLOW, 1, SCMP_A0(SCMP_CMP_EQ, AF_INET) },
        /* A webhook's receiver may be IPv6, and libcurl probes for IPv6 with
         * a socket before its first name lookup. */
        { "socket", SCMP_SYS(socket), SCMP_ACT_ALLOW, 1, SCMP_A0(SCMP_CMP_EQ, AF_INET6) },
        /* libcurl's threaded resolver wakes its caller through one. */
        { "socketpair", SCMP_SYS(socketpair), SCMP_ACT_ALLOW, 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX) },
        { "mmap", SCMP_SYS(mmap), SCMP_ACT_ALLOW, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) },
        { "mprotect", SCMP_SYS(mprotect), SCMP_ACT_ALLOW, 1,
          SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) },
        { "clone3", SCMP_SYS(clone3), SCMP_ACT_ERRNO(ENOSYS), 0, { 0 } },
        { "tgkill", SCMP_SYS(tgkill), SCMP_ACT_ALLOW, 1,
          SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()) },
        { "ioctl", SCMP_SYS(ioctl), SCMP_ACT_ALLOW, 1, SCMP_A1(SCMP_CMP_EQ, TCGETS) },
        /* The resolver sizes a DNS answer before reading it. */
        { "ioctl", SCMP_SYS(ioctl), SCMP_ACT_ALLOW, 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD) },
#if SANDBOX_SANITIZED
        /* LeakSanitizer's helper process; every prctl() of the runtimes. */
        { "clone", SCMP_SYS(clone), SCMP_ACT_ALLOW, 0, { 0 } },
        { "prctl", SCMP_SYS(prctl), SCMP_ACT_ALLOW, 0, { 0 } },
#else
        { "clone", SCMP_SYS(clone), SCMP_ACT_ALLOW, 1,
          SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD) },
        /* A thread just started may still be naming itself (libmicrohttpd's
         * does, after MHD_start_daemon() has returned). */
        { "prctl", SCMP_SYS(prctl), SCMP_ACT_ALLOW, 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME) },
#endif
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const struct arg_rule *a = &rules[i];
        int r = seccomp_rule_add_array(ctx, a->action, a->nr, a->nargs, a->nargs ? &a->arg : NULL);
        if (r < 0) {
            snprintf(err, errlen, "seccomp: allowing %s: %s", a->name, strerror(-r));
            return r;
        }
    }
    return 0;
}

/* Names for the SIGSYS message, resolved now: libseccomp allocates. */
static void load_names(void)
{
    for (int nr = 0; nr < SYSCALL_NAMES; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (!name)
            continue;
        snprintf(syscall_names[nr], sizeof syscall_names[nr], "%s", name);
        free(name);
    }
}

int sandbox_install(char *err, size_t errlen)
{
    int r;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx) {
        snprintf(err, errlen, "seccomp: cannot create a filter (out of memory?)");
        return -ENOMEM;
    }
    /* Every thread at once, or none (the call fails if one cannot be). */
    if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) {
        snprintf(err, errlen, "seccomp: thread synchronisation: %s", strerror(-r));
        goto out;
    }
    if ((r = allow_list(ctx, allowed, sizeof allowed / sizeof allowed[0], err, errlen)) < 0)
        goto out;
#if SANDBOX_SANITIZED
    if ((r = allow_list(ctx, allowed_sanitizer,
                        sizeof allowed_sanitizer / sizeof allowed_sanitizer[0], err, errlen)) < 0)
        goto out;
#endif
    if ((r = allow_with_arguments(ctx, err, errlen)) < 0)
        goto out;

    load_names();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigset_t sys;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    if (sigaction(SIGSYS, &sa, NULL) < 0 || pthread_sigmask(SIG_UNBLOCK, &sys, NULL) != 0) {
        r = -errno;
        snprintf(err, errlen, "seccomp: SIGSYS handler: %s", strerror(errno));
        goto out;
    }
    if ((r = seccomp_load(ctx)) < 0) {
        snprintf(err, errlen, "seccomp: loading the filter: %s%s", strerror(-r),
                 r == -ESRCH ? " (a thread has another filter)" : "");
        goto out;
    }
    r = 0;
out:
    seccomp_release(ctx);
    return r;
}
