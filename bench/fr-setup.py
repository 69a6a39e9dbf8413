#!/usr/bin/env python3
"""fr-setup.py — a private FreeRADIUS 3.2 configuration for bench/run.sh.

Writes, under --dir, a complete configuration directory for `freeradius -f
-d DIR` (never /etc/freeradius) and the SIM data it reads, with the same
population and policy as m2mguard's bench group: SIM i of radload's
numbering (IMSI imsi_base + i, IMEI core imei_base + i) is known, and an
Access-Request is accepted only when the first 14 digits of its
3GPP-IMEISV are the IMEI core bound to the IMSI in User-Name; anything else
(unknown IMSI, foreign device) is rejected.

Variants (--variant):
  users   rlm_files: a "users" file with one entry per SIM
          (IMSI  Tmp-String-0 := "<imei core>"); rlm_files hashes the
          entries by name at start-up.
  passwd  rlm_passwd: a passwd-style file "IMSI:IMEI-core" loaded into
          rlm_passwd's in-memory hash table, keyed by User-Name.
  sql     rlm_sql with the SQLite driver: one table
          sims(imsi PRIMARY KEY, imei) WITHOUT ROWID, one indexed SELECT per
          request through the %{sql:...} expansion.

In every variant the same unlang compares the bound IMEI core with the
request's 3GPP-IMEISV and sets Auth-Type := Accept or rejects; every reply
carries a Message-Authenticator, as m2mguard's do.  For a fair run against
m2mguard: reject_delay 0, a 4 MiB receive buffer on the auth
socket, no detail / linelog / auth logging, the client's
require_message_authenticator = yes (radload always sends one).
Standard library only.
"""
import argparse
import os
import sqlite3
import sys


def digits_arg(width):
    def parse(s):
        if len(s) != width or not s.isdigit():
            raise argparse.ArgumentTypeError(f"want exactly {width} digits")
        return s
    return parse


RADIUSD_CONF = """\
# written by bench/fr-setup.py — a private FreeRADIUS for bench/run.sh
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {dir}
sbindir = /usr/sbin
logdir = {dir}/log
raddbdir = {dir}
radacctdir = {dir}/log
name = freeradius
confdir = {dir}
modconfdir = {dir}
certdir = {dir}
cadir = {dir}
run_dir = {dir}/run
db_dir = {dir}
libdir = /usr/lib/freeradius
pidfile = {dir}/run/freeradius.pid
max_request_time = 30
# The duplicate-reply cache of FreeRADIUS (5 s, its default); max_requests
# must hold cleanup_delay seconds of requests at full rate or it drops them.
cleanup_delay = 5
max_requests = {max_requests}
hostname_lookups = no
log {{
    destination = stderr
    colourise = no
    stripped_names = no
    auth = no
    auth_badpass = no
    auth_goodpass = no
}}
security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = no
}}
proxy_requests = no
client bench {{
    ipaddr = 127.0.0.1
    secret = "{secret}"
    require_message_authenticator = yes
    nas_type = other
}}
thread pool {{
    start_servers = {threads}
    max_servers = {threads}
    min_spare_servers = 1
    max_spare_servers = {threads}
    max_requests_per_server = 0
    max_queue_size = 65536
    auto_limit_acct = no
}}
modules {{
    always reject {{
        rcode = reject
    }}
{modules}
}}
instantiate {{
}}
server bench {{
    listen {{
        type = auth
        ipaddr = 127.0.0.1
        port = {port}
        recv_buff = 4194304
    }}
    authorize {{
{lookup}
        # The IMEI lock: the 14-digit core of 3GPP-IMEISV must be the one
        # bound to the IMSI (an unknown IMSI has none and is rejected).
        if (&control:Tmp-String-0 && &3GPP-IMEISV =~ /^([0-9]{{14}})/) {{
            if (&control:Tmp-String-0 == "%{{1}}") {{
                update control {{
                    &Auth-Type := Accept
                }}
            }}
            else {{
                reject
            }}
        }}
        else {{
            reject
        }}
    }}
    authenticate {{
    }}
    # A Message-Authenticator in every reply, as m2mguard and udp_ceiling
    # send (RFC 3579 §3.2; radload verifies it when present): the same
    # HMAC-MD5 per reply for every server.
    post-auth {{
        update reply {{
            &Message-Authenticator := 0x00
        }}
        Post-Auth-Type REJECT {{
            update reply {{
                &Message-Authenticator := 0x00
            }}
        }}
    }}
}}
"""

MOD_USERS = """\
    files {{
        filename = {dir}/users
        acctusersfile = {dir}/acct_users
        preproxy_usersfile = {dir}/preproxy_users
    }}
"""

MOD_PASSWD = """\
    passwd sims {{
        filename = {dir}/sims.passwd
        format = "*User-Name:Tmp-String-0"
        hash_size = {hash_size}
        ignore_nislike = yes
        allow_multiple_keys = no
        delimiter = ":"
    }}
"""

MOD_SQL = """\
    sql {{
        driver = "rlm_sql_sqlite"
        dialect = "sqlite"
        sqlite {{
            filename = "{dir}/sims.db"
            busy_timeout = 200
        }}
        radius_db = "radius"
        read_clients = no
        read_groups = no
        read_profiles = no
        delete_stale_sessions = no
        pool {{
            start = {threads}
            min = {threads}
            max = {threads}
            spare = {threads}
            uses = 0
            retry_delay = 1
            lifetime = 0
            idle_timeout = 0
        }}
    }}
"""

LOOKUP = {
    "users": "        files",
    "passwd": "        sims",
    # One indexed SELECT; the IMSI is digits (sql escapes anything else).
    "sql": '        update control {\n'
           '            &Tmp-String-0 := "%{sql:SELECT imei FROM sims WHERE imsi = \'%{User-Name}\'}"\n'
           '        }\n'
           '        if (&control:Tmp-String-0 == "") {\n'
           '            update control {\n'
           '                &Tmp-String-0 !* ANY\n'
           '            }\n'
           '        }',
}


def write_data(variant, d, n, imsi_base, imei_base):
    if variant == "users":
        with open(os.path.join(d, "users"), "w") as f:
            for i in range(n):
                f.write('%015d\tTmp-String-0 := "%014d"\n' % (imsi_base + i, imei_base + i))
        for name in ("acct_users", "preproxy_users"):
            open(os.path.join(d, name), "w").close()
    elif variant == "passwd":
        with open(os.path.join(d, "sims.passwd"), "w") as f:
            for i in range(n):
                f.write("%015d:%014d\n" % (imsi_base + i, imei_base + i))
    else:
        path = os.path.join(d, "sims.db")
        if os.path.exists(path):
            os.unlink(path)
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE sims (imsi TEXT PRIMARY KEY, imei TEXT NOT NULL) WITHOUT ROWID")
        con.executemany("INSERT INTO sims VALUES (?, ?)",
                        (("%015d" % (imsi_base + i), "%014d" % (imei_base + i)) for i in range(n)))
        con.commit()
        con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=("users", "passwd", "sql"), required=True)
    ap.add_argument("--dir", required=True, help="configuration directory (created)")
    ap.add_argument("--port", type=int, required=True, help="auth port on 127.0.0.1")
    ap.add_argument("--secret", required=True)
    ap.add_argument("--sims", type=int, required=True)
    ap.add_argument("--imsi-base", type=digits_arg(15), default="001010000000000")
    ap.add_argument("--imei-base", type=digits_arg(14), default="35000000000000")
    ap.add_argument("--threads", type=int, default=1,
                    help="worker threads (the sql pool gets as many connections)")
    ap.add_argument("--max-requests", type=int, default=4194304,
                    help="FreeRADIUS max_requests (requests tracked, cleanup_delay included)")
    a = ap.parse_args()
    if a.sims < 1:
        ap.error("--sims must be >= 1")

    d = os.path.abspath(a.dir)
    for sub in ("", "log", "run"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    # radiusd reads $confdir/dictionary after the system dictionaries.
    open(os.path.join(d, "dictionary"), "w").close()
    mod = {"users": MOD_USERS, "passwd": MOD_PASSWD, "sql": MOD_SQL}[a.variant]
    modules = mod.format(dir=d, threads=a.threads,
                         hash_size=max(100, a.sims * 2))
    with open(os.path.join(d, "radiusd.conf"), "w") as f:
        f.write(RADIUSD_CONF.format(dir=d, secret=a.secret, port=a.port,
                                    threads=a.threads, max_requests=a.max_requests,
                                    modules=modules, lookup=LOOKUP[a.variant]))
    write_data(a.variant, d, a.sims, int(a.imsi_base), int(a.imei_base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
