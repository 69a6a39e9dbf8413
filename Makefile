# Thin wrapper over Meson + Ninja: the README's two commands and a few more.
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON ?= meson
# e.g. NINJAFLAGS=-j1 on a machine that is busy measuring something else.
NINJAFLAGS ?=

# The sanitizer build (docs/hardening.md): ASan + UBSan on every object;
# b_lundef=false because the sanitizer runtimes resolve symbols at run time;
# -fno-sanitize-recover=undefined so a UBSan finding stops the process like
# an ASan one does; frame pointers for whole stacks in the reports.
ASAN_SETUP = -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args='-fno-sanitize-recover=undefined -fno-omit-frame-pointer' \
	-Dc_link_args='-fno-sanitize-recover=undefined'
# Leaks and UB are failures; abort_on_error turns a report into SIGABRT.
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all deps build build-asan demo check check-asan lint test unit integration bench clean fuzz

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) $(NINJAFLAGS)

$(ASAN_BUILD)/build.ninja:
	$(MESON) setup $(ASAN_BUILD) $(ASAN_SETUP)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) $(NINJAFLAGS)

demo: build
	scripts/demo.sh

check: build
	tests/run-all.sh $(BUILD)

# The whole suite (unit tests, corpus replays, integration tests against
# the sanitized daemon) with every sanitizer report a failure.
check-asan: build-asan
	$(SANITIZER_ENV) tests/run-all.sh $(ASAN_BUILD)

# cppcheck and clang-tidy over src/, from the compile_commands.json that
# Meson writes; any finding fails (.clang-tidy, scripts/cppcheck.supp,
# docs/hardening.md).  LINT_JOBS=N runs clang-tidy N files at a time.
lint: deps $(BUILD)/build.ninja
	scripts/lint.sh $(BUILD)

bench: build
	bench/run.sh

fuzz: build
	scripts/fuzz.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
