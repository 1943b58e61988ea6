# The two commands of README.md: `make demo` and `make test`. Both install what is missing first
# (scripts/setup.sh is idempotent), then build with CMake + Ninja in $(BUILD).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
BENCH ?=
RECIPE ?= recipes/tiny_r1.yaml

.PHONY: all setup configure build test demo bench clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: setup configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 1500

# The default recipe's built stages (pretrain, cold start, reasoning RL) into runs/tiny_r1/, then its
# report page. `make demo RECIPE=recipes/tiny_r1_zero.yaml` runs R1-Zero style instead.
demo: build
	$(BUILD)/r1kit run $(RECIPE)
	$(BUILD)/r1kit report $$($(BUILD)/r1kit config $(RECIPE) | sed -n 's/^  dir: //p' | head -1)

# make bench (all) or make bench BENCH=floor
bench: build
	@bash scripts/bench.sh $(BUILD) $(BENCH)

clean:
	rm -rf $(BUILD)
