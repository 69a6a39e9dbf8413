/*
 * sandbox.h — the seccomp filter of the running daemon (libseccomp).
 *
 * Installed once start-up is over — sockets bound, privileges dropped,
 * store open, every thread running — on all threads at once
 * (SECCOMP_FILTER_FLAG_TSYNC): from then on the process may make only the
 * system calls it needs to serve, reload its configuration and stop.  No
 * exec, no new process, no new listening socket, no executable memory, no
 * socket outside AF_INET / AF_INET6 / AF_UNIX.  Anything else is fatal: the thread
 * gets SIGSYS, whose handler writes the call's number and name to stderr
 * (and the log file), and the process dies of SIGSYS.  `seccomp off` in the
 * configuration runs without the filter (for debugging).
 */
#ifndef M2MG_DAEMON_SANDBOX_H
#define M2MG_DAEMON_SANDBOX_H

#include <stddef.h>

/* Sanitizer runtimes make system calls of their own (LeakSanitizer's check
 * at exit ptrace()s every thread from a helper process); those are allowed
 * in sanitizer builds only. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANDBOX_SANITIZED 1
#endif
#endif
#ifndef SANDBOX_SANITIZED
#define SANDBOX_SANITIZED 0
#endif

/*
 * Install the filter on every thread of the process.  Needs
 * PR_SET_NO_NEW_PRIVS (privdrop_apply() sets it).  Returns 0, or a negative
 * errno with a message in err; nothing is installed then.
 */
int sandbox_install(char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
