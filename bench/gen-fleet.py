#!/usr/bin/env python3
"""gen-fleet.py — write the SIM inventory CSV that matches radload's numbering.

SIM i (0 <= i < N) is, exactly as bench/radload.c numbers it:
  iccid   "8900101" + 11-digit i + Luhn check digit (19 digits, E.118)
  imsi    imsi_base + i, 15 digits
  msisdn  "4479" + 8-digit i
  imei    imei_base + i (14-digit TAC + serial) + Luhn check digit (15 digits);
          radload sends the same core as 3GPP-IMEISV core + "01"
  ip      empty, or with --with-ip a unique 10.x.y.z (10.0.0.1 upwards) for
          i < 2^24 - 1; empty beyond
  group   "bench", tenant "bench" (options)

Rows are streamed: ten million SIMs need no more memory than ten.
Standard library only.
"""
import argparse
import sys

ICCID_PREFIX = "8900101"        # 89 (telecom) + 001 (test MCC) + 01
MSISDN_PREFIX = "4479"
SIMS_MAX = 100_000_000          # MSISDN carries i in 8 digits
IP_MAX = (1 << 24) - 1          # 10.0.0.1 .. 10.255.255.255

# Luhn: the payload's rightmost digit is doubled (the check digit goes after
# it).  Doubling table: 2d, minus 9 when that is two digits.
_DOUBLE = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]


def luhn_digit(payload: str) -> str:
    total = 0
    double = True
    for ch in reversed(payload):
        d = ord(ch) - 48
        total += _DOUBLE[d] if double else d
        double = not double
    return chr(48 + (10 - total % 10) % 10)


def digits_arg(width):
    def parse(s):
        if len(s) != width or not s.isdigit():
            raise argparse.ArgumentTypeError(f"want exactly {width} digits")
        return s
    return parse


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", "-n", type=int, required=True, help="number of SIMs")
    ap.add_argument("--imsi-base", type=digits_arg(15), default="001010000000000")
    ap.add_argument("--imei-base", type=digits_arg(14), default="35000000000000")
    ap.add_argument("--with-ip", action="store_true", help="give each SIM a 10.x.y.z")
    ap.add_argument("--group", default="bench")
    ap.add_argument("--tenant", default="bench")
    ap.add_argument("--output", "-o", default="-", help="file (default stdout)")
    a = ap.parse_args()

    if not 0 <= a.sims <= SIMS_MAX:
        ap.error(f"--sims must be 0..{SIMS_MAX}")
    imsi0, imei0 = int(a.imsi_base), int(a.imei_base)
    if a.sims and (imsi0 + a.sims - 1 >= 10**15 or imei0 + a.sims - 1 >= 10**14):
        ap.error("base + sims overflows the IMSI (15) or IMEI (14) digits")
    for name in ("group", "tenant"):
        v = getattr(a, name)
        if not v or any(c in v for c in ',"\r\n'):
            ap.error(f"--{name} must be non-empty without commas, quotes or newlines")

    out = sys.stdout if a.output == "-" else open(a.output, "w", newline="")
    tail = f",{a.group},{a.tenant}\n"
    try:
        out.write("iccid,imsi,msisdn,imei,ip,group,tenant\n")
        rows = []
        for i in range(a.sims):
            iccid = f"{ICCID_PREFIX}{i:011d}"
            imei = f"{imei0 + i:014d}"
            if a.with_ip and i < IP_MAX:
                n = i + 1
                ip = f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}"
            else:
                ip = ""
            rows.append(f"{iccid}{luhn_digit(iccid)},{imsi0 + i:015d},"
                        f"{MSISDN_PREFIX}{i:08d},{imei}{luhn_digit(imei)},{ip}{tail}")
            if len(rows) == 8192:
                out.write("".join(rows))
                rows.clear()
        out.write("".join(rows))
        out.flush()
    except BrokenPipeError:
        return 1
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
