# Host tools and the configuration fuzz target.
#   $(BUILD)/bulkhead-check  the configuration checker (tools/bulkhead-check.c)
#   make fuzz                open-ended libFuzzer run (Ctrl-C to stop)
#   make fuzz-replay         replays the corpus and fuzzes for about 30 s
# Inputs libFuzzer finds go to $(BUILD)/fuzz/corpus (the seeds in
# tests/fuzz/corpus stay untouched); crashes to $(BUILD)/fuzz/crash-*.

CONFIG_SRCS := $(wildcard core/config*.c) lib/format.c lib/strutil.c
CONFIG_HDRS := $(wildcard core/config*.h) guest/vm.h guest/acpi_gen.h lib/format.h lib/string.h \
	boot/layout.h

TOOL_CC     := gcc
TOOL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. -DHOST_TEST

$(BUILD)/bulkhead-check: tools/bulkhead-check.c $(CONFIG_SRCS) $(CONFIG_HDRS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(TOOL_CC) $(TOOL_CFLAGS) -o $@ tools/bulkhead-check.c $(CONFIG_SRCS)

FUZZ_CC     := clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. -DHOST_TEST \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_BIN    := $(FUZZ_DIR)/fuzz_config
FUZZ_SEEDS  := tests/fuzz/corpus
FUZZ_DICT   := tests/fuzz/config.dict
FUZZ_ARGS   := -dict=$(FUZZ_DICT) -max_len=4096 -timeout=10 -artifact_prefix=$(FUZZ_DIR)/

$(FUZZ_BIN): tests/fuzz/fuzz_config.c $(CONFIG_SRCS) $(CONFIG_HDRS)
	@mkdir -p $(FUZZ_DIR)/corpus
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_config.c $(CONFIG_SRCS)

fuzz: $(FUZZ_BIN)
	$(FUZZ_BIN) $(FUZZ_ARGS) $(FUZZ_DIR)/corpus $(FUZZ_SEEDS)

# One line of result; the full libFuzzer log stays in $(FUZZ_DIR)/replay.log.
fuzz-replay: $(FUZZ_BIN)
	@if $(FUZZ_BIN) $(FUZZ_ARGS) -max_total_time=30 -print_final_stats=1 \
		$(FUZZ_DIR)/corpus $(FUZZ_SEEDS) >$(FUZZ_DIR)/replay.log 2>&1; then \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/replay.log); \
		seeds=$$(ls $(FUZZ_SEEDS) | wc -l); \
		echo "fuzz-replay: ok: $$seeds seeds replayed, $${runs:-?} runs in 30 s, no crashes"; \
	else \
		echo "fuzz-replay: FAILED: see $(FUZZ_DIR)/replay.log and $(FUZZ_DIR)/crash-*"; \
		exit 1; \
	fi

.PHONY: fuzz fuzz-replay
