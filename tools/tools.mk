# Host tools and the libFuzzer targets.
#   $(BUILD)/bulkhead-check  the configuration checker (tools/bulkhead-check.c)
#   make fuzz-replay         runs every target once over each file of its
#                            committed corpus: no mutation, deterministic
#                            (part of `make test`)
#   make fuzz                mutates, FUZZ_SECONDS (default 600) per target;
#                            FUZZ_TARGETS="decode vpic" picks targets
#   make fuzz-merge          rebuilds tests/fuzz/corpus/NAME as a small set
#                            covering it and $(BUILD)/fuzz/corpus/NAME
# Every tests/fuzz/fuzz_NAME.c is a target: its corpus is
# tests/fuzz/corpus/NAME/, its optional dictionary tests/fuzz/NAME.dict, and
# the project sources it links are named on a line of its own in the file:
#   /* fuzz-srcs: vcpu/decode.c */
# Inputs found by `make fuzz` go to $(BUILD)/fuzz/corpus/NAME (the committed
# seeds stay untouched); crashes to $(BUILD)/fuzz/NAME-crash-*.

CONFIG_SRCS := $(wildcard core/config*.c) lib/sha256.c lib/format.c lib/strutil.c
CONFIG_HDRS := $(wildcard core/config*.h) vcpu/vm.h vdev/acpi_gen.h lib/format.h lib/string.h \
	lib/sha256.h boot/layout.h

TOOL_CC     := gcc
TOOL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. -DHOST_TEST

$(BUILD)/bulkhead-check: tools/bulkhead-check.c $(CONFIG_SRCS) $(CONFIG_HDRS) core/api_auth.c core/api_auth.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(TOOL_CC) $(TOOL_CFLAGS) -o $@ tools/bulkhead-check.c $(CONFIG_SRCS) core/api_auth.c

FUZZ_CC      := clang
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -I. -DHOST_TEST \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SEEDS   := tests/fuzz/corpus
FUZZ_SECONDS ?= 600
FUZZ_ALL     := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_ALL))
fuzz_srcs     = $(shell sed -n 's|^/\* fuzz-srcs: \(.*\) \*/$$|\1|p' tests/fuzz/fuzz_$(1).c)
fuzz_dict     = $(if $(wildcard tests/fuzz/$(1).dict),-dict=tests/fuzz/$(1).dict)
FUZZ_ARGS    := -max_len=4096 -timeout=10

# Headers are a blunt dependency: any project header change rebuilds.
FUZZ_HDRS := $(wildcard tests/fuzz/*.h) $(foreach d,core vcpu vdev loader vm net hvm vmx svm ept lib include/bulkhead drivers arch/x86_64,$(wildcard $(d)/*.h))

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $$(call fuzz_srcs,$$*) $(FUZZ_HDRS)
	@mkdir -p $(FUZZ_DIR)
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(call fuzz_srcs,$*)

fuzz-build: $(FUZZ_BINS)

# Replays each committed corpus file once (libFuzzer given files, not a
# directory, executes them and stops). One line per target; the log stays
# in $(FUZZ_DIR)/NAME-replay.log. A target without seeds is a failure.
fuzz-replay: $(FUZZ_BINS)
	@fail=0; for t in $(FUZZ_ALL); do \
		files=$$(find $(FUZZ_SEEDS)/$$t -type f 2>/dev/null | sort); \
		n=$$(printf '%s\n' $$files | grep -c .); \
		log=$(FUZZ_DIR)/$$t-replay.log; \
		if [ "$$n" -eq 0 ]; then \
			echo "fuzz-replay: $$t: FAILED: no seeds in $(FUZZ_SEEDS)/$$t"; fail=1; \
		elif $(FUZZ_DIR)/fuzz_$$t $(FUZZ_ARGS) $$files >$$log 2>&1 && \
			[ "$$(grep -c '^Executed ' $$log)" -eq "$$n" ]; then \
			echo "fuzz-replay: $$t: ok: $$n inputs"; \
		else \
			echo "fuzz-replay: $$t: FAILED: see $$log"; fail=1; \
		fi; \
	done; exit $$fail

# Open-ended fuzzing, one target after the other (nice: the machine is shared).
fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: $(FUZZ_DIR)/$$t-fuzz.log)"; \
		nice -n 10 $(FUZZ_DIR)/fuzz_$$t $(FUZZ_ARGS) $(call fuzz_dict,$$t) \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/$$t- \
			$(FUZZ_DIR)/corpus/$$t $(FUZZ_SEEDS)/$$t >$(FUZZ_DIR)/$$t-fuzz.log 2>&1 || \
			{ echo "fuzz: $$t: FAILED: see $(FUZZ_DIR)/$$t-fuzz.log"; exit 1; }; \
		grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units' $(FUZZ_DIR)/$$t-fuzz.log | sed "s/^/fuzz: $$t: /"; \
	done

# Rebuilds each committed corpus as the smallest set of inputs (from it and
# from $(BUILD)/fuzz/corpus/NAME) that covers the same edges: hit counts
# are ignored (-use_counters=0) to keep the seeds few. The configuration
# seeds are hand-written, named files: merged only when FUZZ_TARGETS names
# config on the command line.
FUZZ_MERGE := $(if $(filter command line,$(origin FUZZ_TARGETS)),$(FUZZ_TARGETS),$(filter-out config,$(FUZZ_ALL)))
fuzz-merge: $(FUZZ_BINS)
	@for t in $(FUZZ_MERGE); do \
		new=$(FUZZ_DIR)/merge-$$t; rm -rf $$new; \
		mkdir -p $$new $(FUZZ_SEEDS)/$$t $(FUZZ_DIR)/corpus/$$t; \
		$(FUZZ_DIR)/fuzz_$$t $(FUZZ_ARGS) -merge=1 -use_counters=0 $$new $(FUZZ_SEEDS)/$$t \
			$(FUZZ_DIR)/corpus/$$t >$(FUZZ_DIR)/$$t-merge.log 2>&1 || \
			{ echo "fuzz-merge: $$t failed: see $(FUZZ_DIR)/$$t-merge.log"; exit 1; }; \
		rm -rf $(FUZZ_SEEDS)/$$t && mv $$new $(FUZZ_SEEDS)/$$t; \
		echo "fuzz-merge: $$t: $$(ls $(FUZZ_SEEDS)/$$t | wc -l) seeds," \
			"$$(sed -n 's/.*new features added; \([0-9]*\) new coverage edges/\1/p' $(FUZZ_DIR)/$$t-merge.log) edges"; \
	done

.PHONY: fuzz fuzz-replay fuzz-merge fuzz-build
