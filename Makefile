# Thin wrapper over Meson + Ninja: the README's two commands and a few more.
BUILD ?= build
MESON ?= meson

.PHONY: all deps build demo check test unit integration bench clean fuzz

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	scripts/demo.sh

check: build
	tests/run-all.sh $(BUILD)

bench: build
	bench/run.sh

fuzz: build
	scripts/fuzz.sh

clean:
	rm -rf $(BUILD)
