#!/bin/sh
# Static analysis of src/: cppcheck, then clang-tidy, both driven by the
# compile_commands.json that Meson writes (so they see the real flags,
# defines and include paths).  Any finding fails the run; the checks, the
# exclusions and why are in .clang-tidy, scripts/cppcheck.supp and
# docs/hardening.md.
#
#   scripts/lint.sh [BUILD_DIR]        (default: build; `make lint`)
#
#   LINT_JOBS=1     clang-tidy processes in parallel (it takes ~35 s of CPU)
#
# Ends with one line per tool, "cppcheck: N findings, K known" and the
# same for clang-tidy, and exits non-zero when either has a finding that is
# not known.  Known findings (scripts/lint-known.txt) are in files this
# branch was not allowed to edit; each is described, with a proposed patch,
# in docs/hardening.md (scripts/lint_report.py).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$here/$build" ;; esac
cd "$here" || exit 1
jobs=${LINT_JOBS:-1}

if [ ! -f "$build/compile_commands.json" ]; then
    echo "lint: $build/compile_commands.json is missing (meson setup $build)" >&2
    exit 1
fi
for tool in cppcheck clang-tidy; do
    command -v "$tool" >/dev/null || { echo "lint: $tool is not installed (make deps)" >&2; exit 1; }
done

# The compile database restricted to src/ (tests, fuzzers and bench/ are not
# linted), for cppcheck; the list of its files, for clang-tidy.  Every
# src/**/*.c must be in it: a file the build does not compile is not linted.
out="$build/lint"
mkdir -p "$out"
/usr/bin/python3 - "$build/compile_commands.json" "$here" "$out" <<'EOF' || exit 1
import json, os, subprocess, sys
db_path, root, out = sys.argv[1:]
src = os.path.join(root, "src") + os.sep
db = json.load(open(db_path))
keep, files = [], []
for e in db:
    path = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if path.startswith(src) and path.endswith(".c"):
        keep.append(e)
        if path not in files:
            files.append(path)
tracked = subprocess.run(["git", "-C", root, "ls-files", "src/*.c", "src/**/*.c"],
                         capture_output=True, text=True).stdout.split()
missing = sorted(set(os.path.join(root, f) for f in tracked) - set(files))
if missing:
    sys.exit("lint: not in the compile database (not built, so not linted): "
             + " ".join(os.path.relpath(m, root) for m in missing))
json.dump(keep, open(os.path.join(out, "compile_commands.json"), "w"), indent=1)
open(os.path.join(out, "files.txt"), "w").write("\n".join(files) + "\n")
EOF

echo "== cppcheck $(cppcheck --version | sed 's/^Cppcheck //') over $(wc -l < "$out/files.txt") files of src/"
cppcheck --project="$out/compile_commands.json" --std=c11 --library=posix \
    --enable=warning,style,performance,portability --inline-suppr \
    --suppressions-list=scripts/cppcheck.supp --quiet \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    -j "$jobs" >"$out/cppcheck.txt" 2>&1
echo $? >"$out/cppcheck.rc"

echo "== $(clang-tidy --version | grep -o 'LLVM version [0-9.]*' | sed 's/LLVM/clang-tidy/') (.clang-tidy) over the same files"
# One process per file; WarningsAsErrors in .clang-tidy makes each finding
# an error, so a file with findings exits non-zero.
xargs -P "$jobs" -n 1 clang-tidy -p "$build" --quiet <"$out/files.txt" >"$out/clang-tidy.txt" 2>"$out/clang-tidy.err"
echo $? >"$out/clang-tidy.rc"

# The findings, each once; the verdict.
/usr/bin/python3 scripts/lint_report.py "$here" "$build"
