/*
 * privdrop.c — becoming the unprivileged user (see privdrop.h).
 *
 * The order is the one that cannot leave a way back: supplementary groups
 * (initgroups), then all three gids, then all three uids — once the uids
 * are not 0 the process has no capability left to change its groups.  The
 * result is then checked rather than trusted: every id read back, and
 * setuid(0) / setgid(0) tried and required to fail.  A process that could
 * still become root stops at start-up instead of running believing it is
 * confined.
 *
 * Names are looked up here, once, at start (NSS may read files or talk to
 * a daemon, which the seccomp filter would not allow later).  A reload
 * never looks them up again: `user` and `group` are start-only.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "daemon/privdrop.h"
#include "daemon/sandbox.h"

#define NSS_BUF 16384           /* getpwnam_r / getgrnam_r scratch space */
#define GROUPS_MAX 1024         /* supplementary groups read back */

static int lookup_user(const char *name, struct passwd *pw, char *buf, size_t len)
{
    struct passwd *found = NULL;
    int r = getpwnam_r(name, pw, buf, len, &found);
    if (r != 0)
        return -r;
    return found ? 0 : -ENOENT;
}

static int lookup_group(const char *name, struct group *gr, char *buf, size_t len)
{
    struct group *found = NULL;
    int r = getgrnam_r(name, gr, buf, len, &found);
    if (r != 0)
        return -r;
    return found ? 0 : -ENOENT;
}

/* The name of gid into out, or "" (a group without a name still works). */
static void group_name(gid_t gid, char *out, size_t outlen)
{
    struct group gr, *found = NULL;
    char buf[NSS_BUF];
    out[0] = '\0';
    if (getgrgid_r(gid, &gr, buf, sizeof buf, &found) == 0 && found)
        snprintf(out, outlen, "%s", gr.gr_name);
}

/* Started as an ordinary user: `user` / `group`, if given, must be us. */
static int resolve_unprivileged(const struct config *c, struct privdrop_id *id, char *err,
                                size_t errlen)
{
    char buf[NSS_BUF];
    struct passwd pw, *found = NULL;

    id->uid = geteuid();
    id->gid = getegid();
    if (c->user[0]) {
        if (lookup_user(c->user, &pw, buf, sizeof buf) < 0 || pw.pw_uid != id->uid) {
            snprintf(err, errlen, "%s: user %s: only root can switch users, and m2mguard "
                     "was started as uid %u; start it as root or as %s, or remove the line",
                     c->path, c->user, (unsigned)id->uid, c->user);
            return -EPERM;
        }
    }
    if (c->group[0]) {
        struct group gr;
        if (lookup_group(c->group, &gr, buf, sizeof buf) < 0 || gr.gr_gid != id->gid) {
            snprintf(err, errlen, "%s: group %s: only root can switch groups, and m2mguard "
                     "was started with gid %u; start it as root or remove the line",
                     c->path, c->group, (unsigned)id->gid);
            return -EPERM;
        }
    }
    if (getpwuid_r(id->uid, &pw, buf, sizeof buf, &found) == 0 && found)
        snprintf(id->user, sizeof id->user, "%s", pw.pw_name);
    else
        snprintf(id->user, sizeof id->user, "uid %u", (unsigned)id->uid);
    group_name(id->gid, id->group, sizeof id->group);
    id->change = 0;
    return 0;
}

int privdrop_resolve(const struct config *c, struct privdrop_id *ret, char *err, size_t errlen)
{
    struct privdrop_id id;
    struct passwd pw;
    char buf[NSS_BUF];
    const char *user = c->user[0] ? c->user : PRIVDROP_DEFAULT_USER;
    int r;

    memset(&id, 0, sizeof id);
    if (geteuid() != 0) {
        if ((r = resolve_unprivileged(c, &id, err, errlen)) < 0)
            return r;
        *ret = id;
        return 0;
    }
    if ((r = lookup_user(user, &pw, buf, sizeof buf)) < 0) {
        if (r == -ENOENT && !c->user[0])
            snprintf(err, errlen, "started as root, and the default user \"%s\" does not "
                     "exist: create it (useradd --system --home-dir /var/lib/m2mguard "
                     "--shell /usr/sbin/nologin %s), or name the account to run as with "
                     "`user NAME` in %s (`user root` keeps root: not recommended)",
                     user, user, c->path);
        else if (r == -ENOENT)
            snprintf(err, errlen, "%s: user \"%s\" does not exist", c->path, user);
        else
            snprintf(err, errlen, "looking up user \"%s\": %s", user, strerror(-r));
        return r;
    }
    snprintf(id.user, sizeof id.user, "%s", pw.pw_name);
    if (pw.pw_uid == 0) {
        /* `user root`: asked for explicitly (the default is not root). */
        if (c->group[0]) {
            snprintf(err, errlen, "%s: `group` needs an unprivileged `user` (%s is uid 0)",
                     c->path, user);
            return -EINVAL;
        }
        id.uid = 0;
        id.gid = getegid();
        group_name(id.gid, id.group, sizeof id.group);
        *ret = id;
        return 0;
    }
    id.uid = pw.pw_uid;
    id.gid = pw.pw_gid;
    if (c->group[0]) {
        struct group gr;
        if ((r = lookup_group(c->group, &gr, buf, sizeof buf)) < 0) {
            snprintf(err, errlen, r == -ENOENT ? "%s: group \"%s\" does not exist"
                                               : "%s: looking up group \"%s\" failed",
                     c->path, c->group);
            return r;
        }
        id.gid = gr.gr_gid;
    }
    group_name(id.gid, id.group, sizeof id.group);
    /* Group root owns files (and /etc/shadow's group may be another one,
     * but root's group is never an unprivileged one). */
    if (id.gid == 0) {
        snprintf(err, errlen, "%s: user %s would keep group root (gid 0); give it a group "
                 "of its own or set `group NAME`", c->path, id.user);
        return -EINVAL;
    }
    id.change = 1;
    *ret = id;
    return 0;
}

/* Every id read back, the group list included, and no way to root. */
static int verify(const struct privdrop_id *id, char *err, size_t errlen)
{
    uid_t ru = (uid_t)-1, eu = (uid_t)-1, su = (uid_t)-1;
    gid_t rg = (gid_t)-1, eg = (gid_t)-1, sg = (gid_t)-1, groups[GROUPS_MAX];
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0) {
        snprintf(err, errlen, "after switching to %s: reading the ids back: %s", id->user,
                 strerror(errno));
        return -errno;
    }
    if (ru != id->uid || eu != id->uid || su != id->uid ||
        rg != id->gid || eg != id->gid || sg != id->gid) {
        snprintf(err, errlen, "after switching to %s: uids %u/%u/%u, gids %u/%u/%u, not %u "
                 "and %u", id->user, (unsigned)ru, (unsigned)eu, (unsigned)su, (unsigned)rg,
                 (unsigned)eg, (unsigned)sg, (unsigned)id->uid, (unsigned)id->gid);
        return -EPERM;
    }
    int n = getgroups(GROUPS_MAX, groups);
    if (n < 0) {
        snprintf(err, errlen, "getgroups: %s", strerror(errno));
        return -errno;
    }
    for (int i = 0; i < n; i++)
        if (groups[i] == 0) {
            snprintf(err, errlen, "user %s is a member of group root (gid 0); remove it "
                     "from that group", id->user);
            return -EPERM;
        }
    /* The real test: with root's uids gone, so is the way back. */
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0) {
        snprintf(err, errlen, "after switching to %s the process could become root again "
                 "(a capability kept?); refusing to run", id->user);
        return -EPERM;
    }
    return 0;
}

int privdrop_apply(const struct privdrop_id *id, char *err, size_t errlen)
{
    if (id->change) {
        if (initgroups(id->user, id->gid) < 0) {
            snprintf(err, errlen, "initgroups(%s): %s", id->user, strerror(errno));
            return -errno;
        }
        if (setresgid(id->gid, id->gid, id->gid) < 0) {
            snprintf(err, errlen, "setresgid(%u): %s", (unsigned)id->gid, strerror(errno));
            return -errno;
        }
        if (setresuid(id->uid, id->uid, id->uid) < 0) {
            snprintf(err, errlen, "setresuid(%u): %s", (unsigned)id->uid, strerror(errno));
            return -errno;
        }
        int r = verify(id, err, errlen);
        if (r < 0)
            return r;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
        return -errno;
    }
#if SANDBOX_SANITIZED
    /* Changing uid made the process non-dumpable, and LeakSanitizer's
     * check at exit ptrace()s the threads from a helper process, which a
     * non-dumpable process refuses.  Only in sanitizer builds: in the real
     * one, non-dumpable is what keeps other processes of this user (an
     * operator's CLI) from reading the daemon's memory, secrets included. */
    if (id->change && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
        return -errno;
    }
#endif
    return 0;
}

int privdrop_check_database(const char *file, const char *user, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(file, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == file)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - file), file);
    if (access(dir, W_OK | X_OK) < 0) {
        int e = errno;
        snprintf(err, errlen, "database %s: its directory %s is not writable by user %s, "
                 "which the daemon runs as (%s; SQLite creates its -wal and -shm files "
                 "there): chown %s %s, or choose another `database`",
                 file, dir, user, strerror(e), user, dir);
        return -e;
    }
    if (access(file, F_OK) == 0 && access(file, R_OK | W_OK) < 0) {
        int e = errno;
        snprintf(err, errlen, "database %s is not readable and writable by user %s, which "
                 "the daemon runs as (%s): chown %s %s*", file, user, strerror(e), user, file);
        return -e;
    }
    return 0;
}
