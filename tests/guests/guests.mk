# Test guests: small freestanding 32-bit multiboot2 kernels, one per
# directory under tests/guests/ (lib/ is their shared runtime). Each links to
# $(BUILD)/guests/NAME.elf at 1 MiB guest-physical; see docs/test-guests.md.
# The 64-bit guests (GUEST64_NAMES) run on lib64/ plus the portable part of
# lib/ (GUEST_SHARED), built a second time as 64-bit code.

GUEST_DIR   := tests/guests
GUEST_NAMES := hello cpuid-bench spin hostile echo pcitest platform conform32 platform-bench
GUEST_OUT   := $(BUILD)/guests
GUEST_LDS   := $(GUEST_DIR)/lib/guest.ld

# 32-bit, no SSE (the hypervisor need not carry guest FPU state for these),
# no CET notes or unwind tables (they only bloat the image).
GUEST_CFLAGS := -m32 -std=gnu11 -ffreestanding -fno-pic -fno-pie -nostdlib \
	-fno-stack-protector -mno-sse -mno-mmx -mno-80387 -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fcf-protection=none -fno-omit-frame-pointer \
	-O2 -g -Wall -Wextra -Werror -I.
GUEST_LDFLAGS := -m elf_i386 -nostdlib -z max-page-size=0x1000 -z noexecstack \
	--build-id=none -T $(GUEST_LDS)

# src path under tests/guests -> object path; .c and .S keep distinct names.
guest_objs = $(patsubst $(GUEST_DIR)/%,$(GUEST_OUT)/obj/%.o,\
	$(wildcard $(GUEST_DIR)/$(1)/*.c $(GUEST_DIR)/$(1)/*.S))

GUEST_LIB_OBJS := $(call guest_objs,lib)
GUEST_ELFS     := $(patsubst %,$(GUEST_OUT)/%.elf,$(GUEST_NAMES))

$(GUEST_OUT)/obj/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj/%.S.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

define GUEST_RULES
$(GUEST_OUT)/$(1).elf: $(call guest_objs,$(1)) $(GUEST_LIB_OBJS) $(GUEST_LDS)
	$(LD) $(GUEST_LDFLAGS) -o $$@ $(call guest_objs,$(1)) $(GUEST_LIB_OBJS)
	@scripts/check-image.sh $$@ >/dev/null
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call GUEST_RULES,$(g))))

# The platform guest twice more: linked at 0x8000 (where the boot information
# used to be), and as a multiboot v1-only kernel (lib/entry.S without its
# multiboot2 header; platform/mb1.S brings the v1 one).
$(GUEST_OUT)/platform-low.elf: $(call guest_objs,platform) $(GUEST_LIB_OBJS) $(GUEST_DIR)/platform/low.ld
	$(LD) $(filter-out -T $(GUEST_LDS),$(GUEST_LDFLAGS)) -T $(GUEST_DIR)/platform/low.ld \
		-o $@ $(call guest_objs,platform) $(GUEST_LIB_OBJS)
	@scripts/check-image.sh $@ >/dev/null

$(GUEST_OUT)/obj/platform-mb1/entry.S.o: $(GUEST_OUT)/obj/lib/entry.S.o
	@mkdir -p $(dir $@)
	objcopy -R .multiboot $< $@

$(GUEST_OUT)/platform-mb1.elf: $(call guest_objs,platform) $(GUEST_OUT)/obj/platform-mb1/entry.S.o \
		$(filter-out %/entry.S.o,$(GUEST_LIB_OBJS)) $(GUEST_LDS)
	$(LD) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)
	@od -An -tx4 -N8192 $@ | grep -qw 1badb002 || { echo "$@: no multiboot v1 header"; exit 1; }

GUEST_ELFS += $(GUEST_OUT)/platform-low.elf $(GUEST_OUT)/platform-mb1.elf

# ---- 64-bit guests ----
GUEST64_NAMES := hostile64 smp64 conform exitfuzz
GUEST64_LDS   := $(GUEST_DIR)/lib64/guest64.ld
GUEST_SHARED  := serial util mb2 vectors

# Long mode, no red zone (exceptions arrive on the same stack at CPL 0), no
# compiler-generated SIMD (tests use SSE/AVX only in inline assembly).
GUEST64_CFLAGS := -m64 -mno-red-zone -mcmodel=small -std=gnu11 -ffreestanding -fno-pic -fno-pie \
	-nostdlib -fno-stack-protector -mno-sse -mno-mmx -mno-80387 -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fcf-protection=none -fno-omit-frame-pointer \
	-O2 -g -Wall -Wextra -Werror -I.
GUEST64_LDFLAGS := -m elf_x86_64 -nostdlib -z max-page-size=0x1000 -z noexecstack \
	--build-id=none -T $(GUEST64_LDS)

guest64_objs = $(patsubst $(GUEST_DIR)/%,$(GUEST_OUT)/obj64/%.o,\
	$(wildcard $(GUEST_DIR)/$(1)/*.c $(GUEST_DIR)/$(1)/*.S))

GUEST64_LIB_OBJS := $(call guest64_objs,lib64) \
	$(patsubst %,$(GUEST_OUT)/obj64/lib/%.c.o,$(GUEST_SHARED))
GUEST64_ELFS     := $(patsubst %,$(GUEST_OUT)/%.elf,$(GUEST64_NAMES))
GUEST_ELFS       += $(GUEST64_ELFS)

$(GUEST_OUT)/obj64/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST64_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj64/%.S.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST64_CFLAGS) -MMD -MP -c $< -o $@

define GUEST64_RULES
$(GUEST_OUT)/$(1).elf: $(call guest64_objs,$(1)) $(GUEST64_LIB_OBJS) $(GUEST64_LDS)
	$(LD) $(GUEST64_LDFLAGS) -o $$@ $(call guest64_objs,$(1)) $(GUEST64_LIB_OBJS)
	@scripts/check-image.sh $$@ >/dev/null
endef
$(foreach g,$(GUEST64_NAMES),$(eval $(call GUEST64_RULES,$(g))))

.PHONY: guests
guests: $(GUEST_ELFS)

-include $(wildcard $(GUEST_OUT)/obj/*/*.d $(GUEST_OUT)/obj64/*/*.d)
