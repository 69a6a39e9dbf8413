"""
The verdict of `make lint` (scripts/lint.sh): reads the outputs of cppcheck
and clang-tidy that lint.sh saved in BUILD/lint/, prints each finding once
(a header's finding is reported once per file that includes it) with its
path relative to the repository, and exits 1 if any finding is not known.

Known findings (scripts/lint-known.txt) are in files this branch may not
edit; they are printed as "known" and counted, but do not fail.  They are
matched by file, check and message, not by line (those files are
changing), and at most as many times as the list says, so a new finding of
the same kind in the same file still fails.

    /usr/bin/python3 scripts/lint_report.py REPO BUILD_DIR
"""
import os
import re
import sys

SEVERITY = r"(error|warning|style|performance|portability|information)"
# A finding: FILE:LINE:COL: SEVERITY: MESSAGE [CHECK]; clang-tidy may spread
# the message over several lines before the [check] tag (optin.performance.
# Padding does), hence the non-greedy match across lines.
FINDING = re.compile(r"^(\S+?):(\d+):(\d+): " + SEVERITY + r": (.*?) ?"
                     r"\[([\w.\-]+)(?:,-warnings-as-errors)?\]$", re.M | re.S)
# Any diagnostic line at all: each must belong to a parsed finding.
DIAGNOSTIC = re.compile(r"^(\S+?):(\d+):(\d+): " + SEVERITY + r": ", re.M)


def load_known(path):
    """(file, check, message) -> how many such findings are known."""
    known = {}
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            f, check, msg, count = [x.strip() for x in line.split("|")]
            known[(f, check, msg)] = int(count)
    return known


def main(here, build):
    out = os.path.join(build, "lint")
    known_path = os.path.join(here, "scripts", "lint-known.txt")
    known = load_known(known_path)
    failed = False

    def rel(path):
        return os.path.relpath(os.path.normpath(os.path.join(build, path)), here)

    for tool in ("cppcheck", "clang-tidy"):
        text = open(os.path.join(out, tool + ".txt"), errors="replace").read()
        rc = int(open(os.path.join(out, tool + ".rc")).read())
        seen, new, old = set(), [], []
        parsed = set()
        for m in FINDING.finditer(text):
            f, ln, col, sev, msg, check = m.groups()
            parsed.add(m.start())
            msg = " ".join(msg.split())
            f = rel(f)
            if (f, ln, col, check) in seen:
                continue
            seen.add((f, ln, col, check))
            item = "%s:%s:%s: %s: %s [%s]" % (f, ln, col, sev, msg, check)
            key = (f, check, msg)
            if known.get(key, 0) > 0:
                known[key] -= 1
                old.append(item)
            else:
                new.append(item)
        # A diagnostic the pattern did not take whole is a finding too, so a
        # format this script does not know cannot pass for a clean run.
        for m in DIAGNOSTIC.finditer(text):
            if m.start() not in parsed:
                line = text[m.start():text.find("\n", m.start())]
                new.append("%s (unparsed)" % line.replace(build + "/../", "").replace(here + "/", ""))
        if tool == "clang-tidy" and new:
            # clang-tidy's notes show the path the analyzer took: print them.
            print(text.replace(build + "/../", "").replace(here + "/", ""), end="")
        for item in new:
            print(item)
        for item in old:
            print("known, not fixed here (docs/hardening.md): " + item)
        # A tool that failed without a finding (a crash, a bad option) fails too.
        broken = rc != 0 and not seen
        if broken:
            err = os.path.join(out, tool + ".err")
            if os.path.exists(err):
                sys.stderr.write(open(err, errors="replace").read())
            print("%s: exited with status %d" % (tool, rc))
        print("%s: %d findings, %d known" % (tool, len(new), len(old)))
        failed = failed or bool(new) or broken
    for key, left in known.items():
        if left > 0:
            print("note: %d known finding(s) no longer reported; update %s: %s"
                  % (left, os.path.relpath(known_path, here), " | ".join(key)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])))
