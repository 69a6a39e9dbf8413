#!/usr/bin/python3
"""Write the seed corpus of fuzz_senml (tests/fuzz/fuzz_senml.c).

    tests/fuzz/make_senml_corpus.py [--out DIR]   (default: tests/fuzz/corpus)

Each seed is one selector octet and a payload.  Selector bit 0: 0 JSON,
1 CBOR; bits 1-3: max_records (1 + 4 * n, or 1024 for 7); bit 4: max_bytes
64 instead of 4096.  The seeds are the RFC 8428 examples (§5.1.1-§5.1.7)
in JSON and, translated with the integer labels of Table 4, in CBOR; the
§6 dump as printed; and one input per refusal of the decoder, so that
every error path starts covered.

CBOR is written with python3-cbor2 (Debian), independently of libcbor
and of the decoder; the malformed CBOR is assembled by hand.  The output
is deterministic; re-run after changing it and commit the result.
"""
import argparse
import base64
import json
import os

import cbor2

JSON = 0x0e            # JSON, max_records 1024, max_bytes 4096
CBOR = 0x0f
LABELS = {"bver": -1, "bn": -2, "bt": -3, "bu": -4, "bv": -5, "bs": -6, "n": 0, "u": 1,
          "v": 2, "vs": 3, "vb": 4, "s": 5, "t": 6, "ut": 7, "vd": 8}

RFC = {
    "rfc-5.1.1": '[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]',
    "rfc-5.1.2a": '[{"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},'
                  '{"n":"current","u":"A","v":1.2}]',
    "rfc-5.1.2b": '[{"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,"bu":"A",'
                  '"bver":5,"n":"voltage","u":"V","v":120.1},{"n":"current","t":-5,"v":1.2},'
                  '{"n":"current","t":-4,"v":1.3},{"n":"current","t":-3,"v":1.4},'
                  '{"n":"current","t":-2,"v":1.5},{"n":"current","t":-1,"v":1.6},'
                  '{"n":"current","v":1.7}]',
    "rfc-5.1.3": '[{"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,"bu":"%RH",'
                 '"v":20},{"u":"lon","v":24.30621},{"u":"lat","v":60.07965},'
                 '{"t":60,"v":20.3},{"u":"lon","t":60,"v":24.30622},'
                 '{"u":"lat","t":60,"v":60.07965},{"t":120,"v":20.7},'
                 '{"u":"lon","t":120,"v":24.30623},{"u":"lat","t":120,"v":60.07966},'
                 '{"u":"%EL","t":150,"v":98},{"t":180,"v":21.2},'
                 '{"u":"lon","t":180,"v":24.30628},{"u":"lat","t":180,"v":60.07967}]',
    "rfc-5.1.4": '[{"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067464e+09,"v":20},'
                 '{"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067464e+09,'
                 '"v":24.30621},{"n":"urn:dev:ow:10e2073a01080063","u":"%EL",'
                 '"t":1.320067614e+09,"v":98}]',
    "rfc-5.1.5": '[{"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},'
                 '{"n":"label","vs":"Machine Room"},{"n":"open","vb":false},'
                 '{"n":"nfv-reader","vd":"aGkgCg"}]',
    "rfc-5.1.6": '[{"bn":"2001:db8::2/","bt":1.320078429e+09,"n":"temperature","u":"Cel",'
                 '"v":25.2},{"n":"humidity","u":"%RH","v":30},'
                 '{"bn":"2001:db8::1/","n":"temperature","u":"Cel","v":12.3},'
                 '{"n":"humidity","u":"%RH","v":67}]',
    "rfc-5.1.7a": '[{"bn":"urn:dev:ow:10e2073a01080063:"},{"n":"temp","u":"Cel","v":23.1},'
                  '{"n":"heat","u":"/","v":1},{"n":"fan","u":"/","v":0}]',
    "rfc-5.1.7c": '[{"bt":1.320078429e+09,"bu":"/","n":"2001:db8::3","v":0.5},'
                  '{"n":"2001:db8::4","v":0.5},{"n":"2001:db8::3","t":0.1,"v":0},'
                  '{"n":"2001:db8::4","t":0.1,"v":0}]',
    "sums-and-bases": '[{"bn":"m:","bv":100,"bu":"W","bs":1000,"n":"p","v":5},'
                      '{"n":"p","v":-1.5,"s":20},{"n":"e","s":7,"u":"J","ut":60},'
                      '{"n":"label","vs":"x\\u00e9\\ud83d\\ude00"}]',
    "relative-times": '[{"n":"a","t":-5,"v":1},{"n":"a","t":268435455,"v":1},'
                      '{"bt":268435000,"n":"a","t":456,"v":1},{"n":"a","t":455,"v":1}]',
    "unknown-fields": '[{"n":"a","ct":"60","x-note":true,"v":1,"b2":2}]',
}

# RFC 8428 §6: the CBOR of §5.1.2's second example, as printed.
RFC_6_DUMP = """
87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a 31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a
22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00 67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06
66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75
72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f
f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e
74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67 63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33
33 33 33
"""

# One per refusal (the decoder's SENML_E_* codes).
JSON_BAD = {
    "bad-not-array": '{"n":"a","v":1}',
    "bad-empty": "[]",
    "bad-not-record": '[{"n":"a","v":1},[1]]',
    "bad-must-understand": '[{"n":"a","v":1,"foo_":1}]',
    "bad-type-string-for-number": '[{"n":"a","v":"23.1"}]',
    "bad-type-null": '[{"n":"a","v":null}]',
    "bad-nested": '[{"n":"a","v":1,"meta":{"k":[1]}}]',
    "bad-multiple-values": '[{"n":"a","v":1,"vs":"x"}]',
    "bad-no-value": '[{"n":"a","t":5}]',
    "bad-name-chars": '[{"n":"a b","v":1}]',
    "bad-name-first": '[{"n":"-a","v":1}]',
    "bad-name-empty": '[{"v":1}]',
    "bad-name-long": '[{"bn":"' + "x" * 40 + '","n":"' + "y" * 25 + '","v":1}]',
    "bad-duplicate": '[{"n":"a","n":"b","v":1}]',
    "bad-trailing": '[{"n":"a","v":1}] x',
    "bad-version": '[{"bver":11,"n":"a","v":1}]',
    "bad-version-mixed": '[{"n":"a","v":1},{"bver":5,"n":"a","v":2}]',
    "bad-unit": '[{"n":"a","u":"deg C","v":1}]',
    "bad-data-padding": '[{"n":"a","vd":"aGkgCg=="}]',
    "bad-data-bits": '[{"n":"a","vd":"aGkgCh"}]',
    "bad-update-time": '[{"n":"a","v":1,"ut":-1}]',
    "bad-overflow": '[{"n":"a","v":1e999}]',
    "bad-sum-overflow": '[{"bv":1e308,"n":"a","v":1e308}]',
    "bad-too-many-fields": '[{"n":"a","v":1' + "".join(',"x%d":1' % i for i in range(31)) + "}]",
    "bad-deep": "[" * 40 + "]" * 40,
    "bad-syntax": '[{"n":"a","v":01}]',
}


def to_cbor_labels(pack):
    """A JSON pack with the integer labels of Table 4 and vd as bytes."""
    out = []
    for rec in pack:
        m = {}
        for k, v in rec.items():
            if k == "vd":
                v = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
            m[LABELS.get(k, k)] = v
        out.append(m)
    return out


def seeds():
    s = {}
    for name, text in RFC.items():
        s[name + ".json"] = bytes([JSON]) + text.encode()
        s[name + ".cbor"] = bytes([CBOR]) + cbor2.dumps(to_cbor_labels(json.loads(text)))
    for name, text in JSON_BAD.items():
        s[name + ".json"] = bytes([JSON]) + text.encode()
    # Limits: over 64 bytes with the small limit; two records with max_records 1.
    s["bad-too-large.json"] = bytes([JSON | 0x10]) + RFC["rfc-5.1.2a"].encode()
    s["bad-too-many-records.json"] = bytes([JSON & ~0x0e]) + RFC["rfc-5.1.2a"].encode()
    s["bad-too-many-records.cbor"] = bytes([CBOR & ~0x0e]) + bytes.fromhex("9b" + "ff" * 8)

    h = bytes.fromhex
    # RFC 8428 §6, the dump as printed (half float for 1.5).
    s["rfc-6.cbor"] = bytes([CBOR]) + h(RFC_6_DUMP.replace(" ", "").replace("\n", ""))
    cbor_forms = {
        "decfrac": "81 a2 00 61 61 02 c4 82 21 19 01 00",          # 4([-2, 256])
        "indefinite-map": "81 bf 00 61 61 02 01 ff",
        "half-float": "81 a2 00 61 61 02 f9 3e 00",
        "text-labels": "81 a2 61 6e 61 61 61 76 02",
        "unknown-labels": "81 a6 00 61 61 02 01 18 18 01 62 63 74 18 3c 26 61 78 09 41 00",
        "bad-nan": "81 a2 00 61 61 02 f9 7e 00",
        "bad-inf": "81 a2 00 61 61 02 fb 7f f0 00 00 00 00 00 00",
        "bad-decfrac-inf": "81 a2 00 61 61 02 c4 82 1b 7f ff ff ff ff ff ff ff 01",
        "bad-decfrac-bignum": "81 a2 00 61 61 02 c4 82 21 c2 41 01",
        "bad-tag": "81 a2 00 61 61 02 c1 1a 5f 00 00 00",
        "bad-indefinite-array": "9f a2 00 61 61 02 01 ff",
        "bad-indefinite-string": "81 a2 00 7f 61 61 ff 02 01",
        "bad-trailing": "81 a2 00 61 61 02 01 00",
        "bad-duplicate": "81 a3 00 61 61 61 6e 61 62 02 01",
        "bad-duplicate-unknown": "81 a4 00 61 61 02 01 18 18 01 18 18 02",
        "bad-label": "81 a2 00 61 61 f9 3c 00 01",
        "bad-truncated": "81 a2 00 63 61",
        "bad-reserved": "81 a2 00 61 61 02 1c",
        "bad-break": "81 a2 00 61 61 02 ff",
        "bad-nested": "81 a3 00 61 61 02 01 18 63 a0",
        "bad-not-record": "82 a2 00 61 61 02 01 01",
        "bad-utf8": "81 a2 00 61 61 03 62 c0 80",
        "bad-vd-text": "81 a2 00 61 61 08 63 61 47 6b",
        "bad-bver-float": "81 a3 20 f9 45 00 00 61 61 02 01",
        "bad-must-understand": "81 a3 00 61 61 02 01 64 66 6f 6f 5f 01",
        "bad-null": "81 a2 00 61 61 02 f6",
        "bad-map": "a2 00 61 61 02 01",
    }
    for name, hexs in cbor_forms.items():
        s[name + ".cbor"] = bytes([CBOR]) + h(hexs.replace(" ", ""))
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "corpus"))
    args = ap.parse_args()
    d = os.path.join(args.out, "fuzz_senml")
    os.makedirs(d, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
