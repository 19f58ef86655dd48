# Bulkhead build. `make` builds build/bulkhead.elf; see README for the rest.

BUILD   ?= build
.DEFAULT_GOAL := all
CONFIG  ?= configs/demo.cfg
CC      := gcc
NASM    := nasm
LD      := ld
PYTHON  := /usr/bin/python3

VERSION  := $(shell cat VERSION)
GIT_DESC := $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)

# Root mode: no SSE (guest state is not saved for us), no red zone (interrupts
# run on the same stack), frame pointers for the panic stack trace.
# Retpolines: every indirect call and jump goes through a thunk in
# arch/x86_64/retpoline.asm (branch target injection; docs/security.md), and
# switches compile to compare trees rather than jump tables, which would each
# need one. `make check-indirect` proves the image has no other.
RETPOLINE_CFLAGS := -mindirect-branch=thunk-extern -mindirect-branch-register -fno-jump-tables
KERNEL_CFLAGS := -std=gnu11 -ffreestanding -fno-builtin -nostdlib -fno-stack-protector \
	-fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small $(RETPOLINE_CFLAGS) \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fcf-protection=none \
	-O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wstrict-prototypes \
	-I. -DBULKHEAD_VERSION='"$(VERSION)"' -DBULKHEAD_GIT='"$(GIT_DESC)"'
KERNEL_LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack -T $(BUILD)/linker.ld

KERNEL_DIRS := boot arch/x86_64 lib mm core drivers vmx svm ept hvm vcpu vdev loader vm
KERNEL_C    := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.c))
KERNEL_ASM  := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.asm))
KERNEL_OBJS := $(patsubst %.c,$(BUILD)/k/%.o,$(KERNEL_C)) \
	$(patsubst %.asm,$(BUILD)/k/%.asm.o,$(KERNEL_ASM))
# net/ and lwIP (fetched at build time): their objects join KERNEL_OBJS.
include net/net.mk

# The framebuffer console's font, generated from a PSF font of Debian's
# console-setup-linux package (no font data in the tree): drivers/fbcon_font.h.
FBCON_FONT ?= /usr/share/consolefonts/Lat15-VGA16.psf.gz
KERNEL_OBJS += $(BUILD)/k/gen/fbcon_font.o
$(BUILD)/gen/fbcon_font.c: scripts/psffont.py
	@mkdir -p $(dir $@)
	@echo "  FONT    $@"
	@test -f $(FBCON_FONT) || { echo "$(FBCON_FONT): missing (the console-setup-linux package: make deps)"; exit 1; }
	@$(PYTHON) scripts/psffont.py --c $(FBCON_FONT) $@
$(BUILD)/k/gen/fbcon_font.o: $(BUILD)/gen/fbcon_font.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KERNEL_CFLAGS) -c $< -o $@

# The HTTP status page (core/www/index.html) as a C array: core/api_page.h.
KERNEL_OBJS += $(BUILD)/k/gen/api_page.o
$(BUILD)/gen/api_page.c: core/www/index.html scripts/embed_file.py
	@mkdir -p $(dir $@)
	@echo "  EMBED   $@"
	@$(PYTHON) scripts/embed_file.py core/www/index.html $@ api_page_html
$(BUILD)/k/gen/api_page.o: $(BUILD)/gen/api_page.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KERNEL_CFLAGS) -c $< -o $@

.PHONY: check-layers all iso test-iso linux-guest linux-test-iso deps unit integration test run bench soak test-slow format format-check clean guests check-indirect
all: $(BUILD)/bulkhead.elf

$(BUILD)/k/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/k/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf64 -g -F dwarf -I. -MD $(@:.o=.d) $< -o $@

# linker.ld takes its addresses from boot/layout.h (shared with the checker).
$(BUILD)/linker.ld: linker.ld boot/layout.h
	@mkdir -p $(dir $@)
	@$(CC) -E -P -undef -x c -I. $< -o $@

$(BUILD)/bulkhead.elf: $(KERNEL_OBJS) $(BUILD)/linker.ld
	@echo "  LD      $@"
	@$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS)
	@scripts/check-image.sh $@ && scripts/check-indirect.sh $@ || { rm -f $@; exit 1; }

-include $(KERNEL_OBJS:.o=.d)

include tests/guests/guests.mk
include tests/unit/unit.mk
include tools/tools.mk
include boot/efi/efi.mk

# The ISO holds exactly the modules the configuration names, plus
# EXTRA_MODULES (the test suite's ISO adds every test guest). mkiso.sh checks
# the configuration (ALLOW_BAD_CONFIG=1 builds a broken one anyway, to see its
# errors at boot) and finds each module next to the configuration, in the
# MODULES=dir[:dir] directories, then in build/guests and build/linux
# (scripts/resolve-modules.sh); a missing module fails the build.
ISO ?= $(BUILD)/bulkhead.iso
EXTRA_MODULES ?=
MODULES ?=
ALLOW_BAD_CONFIG ?=
iso: $(BUILD)/bulkhead.elf guests $(BUILD)/bulkhead-check
	@scripts/mkiso.sh --config "$(CONFIG)" --out "$(ISO)" --check --resolve --search "$(MODULES)" \
		$(if $(filter 1,$(ALLOW_BAD_CONFIG)),--allow-bad-config) \
		$(foreach m,$(EXTRA_MODULES),--module $(m))

# Debian's kernel and a busybox initramfs, downloaded at setup time (never
# committed), and the ISO of the Linux integration tests.
linux-guest:
	@scripts/build-linux-guest.sh

# The ISO targets build the image first, in this make: a sub-make started
# beside a parallel `all` would link bulkhead.elf at the same time.
linux-test-iso: linux-guest $(BUILD)/bulkhead.elf guests $(BUILD)/bulkhead-check
	@$(MAKE) --no-print-directory iso CONFIG=configs/linux-test.cfg ISO=$(BUILD)/linux-test.iso

test-iso: $(BUILD)/bulkhead.elf guests $(BUILD)/bulkhead-check
	@$(MAKE) --no-print-directory iso CONFIG=configs/test.cfg ISO=$(BUILD)/test.iso \
		EXTRA_MODULES="$(GUEST_ELFS)"

deps:
	@scripts/setup.sh
	@scripts/fetch-lwip.sh $(BUILD)

test: deps
	@scripts/test.sh

# `make run`: the ISO of CONFIG in an emulator, its console on this terminal.
# The machine gets the CPUs and RAM CONFIG needs (--cpus/--mem auto);
# RUN_ARGS adds run.sh options (RUN_ARGS="--emu qemu"). Leaving with
# Ctrl-A x (run.sh status 130) is the normal end, not an error.
RUN_ARGS ?=
run: deps
	@$(MAKE) --no-print-directory iso
	@scripts/run.sh --emu auto --cpus auto --mem auto --interactive --iso $(ISO) $(RUN_ARGS); \
		status=$$?; [ $$status -eq 130 ] || exit $$status

bench: deps
	@scripts/bench.sh

# Long runs: the exit-fuzzing guest until it has caused SOAK_EXITS exits
# beside a neighbour VM (test_exit_fuzz_soak; `make test` runs 6000
# operations), then console lifecycle commands against self-stopping guests
# for SOAK_SECONDS (test_lifecycle_stress; `make test` runs it for 60 s).
SOAK_SECONDS ?= 600
SOAK_EXITS ?= 10000000
soak: deps all test-iso
	BULKHEAD_SOAK=1 BULKHEAD_EXITFUZZ_EXITS=$(SOAK_EXITS) $(PYTHON) -m pytest -q -s -p no:xdist \
		tests/integration/test_exitfuzz.py -k test_exit_fuzz_soak
	BULKHEAD_STRESS_SECONDS=$(SOAK_SECONDS) $(PYTHON) -m pytest -q -s -p no:xdist \
		tests/integration/test_attacks_guest.py -k test_lifecycle_stress

# Slow Linux SMP cases (4 vCPUs, CPU hotplug; tests/integration/test_linux_smp.py):
# many minutes in Bochs, so not in `make test` (which runs the 2-vCPU case).
test-slow: deps all test-iso linux-guest
	BULKHEAD_SLOW=1 $(PYTHON) -m pytest -q -s -p no:xdist --durations=5 \
		tests/integration/test_linux_smp.py

# No indirect JMP or CALL outside the retpoline thunks (part of `make test`).
check-indirect: $(BUILD)/bulkhead.elf
	@scripts/check-indirect.sh --self-test
	@scripts/check-indirect.sh $(BUILD)/bulkhead.elf

# Include arrows point down the layers (README "Source layout"); the
# self-test first proves the check catches a planted upward include.
check-layers:
	@$(PYTHON) scripts/check-layers.py --self-test
	@$(PYTHON) scripts/check-layers.py

FORMAT_FILES = $(shell git ls-files '*.c' '*.h')
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)
