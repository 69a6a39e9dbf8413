/*
 * privdrop.h — `serve` without root (DESIGN.md §7).
 *
 * Started as root, the daemon binds its sockets (RADIUS ports, the control
 * socket, the HTTP API), then becomes the unprivileged user of `user` /
 * `group` for good — real, effective and saved ids, supplementary groups —
 * before it opens any file: the store, its lock, the logs.  So every file
 * it creates is that user's, and what works at start keeps working on a
 * reload (SIGHUP re-reads the configuration as that user) and after a
 * restart.  With no `user` line, root switches to PRIVDROP_DEFAULT_USER and
 * refuses to start when that account does not exist; only an explicit
 * `user root` keeps root.  Started as an ordinary user, nothing changes
 * (and `user` / `group`, if given, must name that user and group).
 *
 * Either way PR_SET_NO_NEW_PRIVS is set: no exec'd program could gain
 * privileges, and the seccomp filter (sandbox.h) needs it.
 */
#ifndef M2MG_DAEMON_PRIVDROP_H
#define M2MG_DAEMON_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

#define PRIVDROP_DEFAULT_USER "m2mguard"

struct privdrop_id {
    char user[CONFIG_USER_MAX];     /* name of the account run as */
    char group[CONFIG_USER_MAX];    /* name of its group, or "" when unknown */
    uid_t uid;
    gid_t gid;
    int change;                     /* 1: started as root, switch to uid / gid */
};

/*
 * Who `serve` with configuration `c` runs as.  Looks the names up (NSS: do
 * it before the sandbox).  Returns 0 and *ret, or a negative errno with a
 * message that says what to change in `err`.
 */
int privdrop_resolve(const struct config *c, struct privdrop_id *ret, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Become id for good and set PR_SET_NO_NEW_PRIVS.  Call while the process
 * has one thread.  Verifies the result: every uid and gid is the new one
 * and setuid(0) / setgid(0) fail; anything else is an error (the caller
 * must not go on).  Returns 0, or a negative errno with a message in err.
 */
int privdrop_apply(const struct privdrop_id *id, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Whether the process, as it runs now, can use the database `file`: write
 * its directory (SQLite creates and removes the -wal and -shm files, and
 * the daemon its lock, beside it) and, when it exists, read and write the
 * file.  `user` names the account in the message.
 * 0, or -errno with a message that says what to change in err.
 */
int privdrop_check_database(const char *file, const char *user, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
