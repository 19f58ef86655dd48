# bulkhead.efi (the GNU-EFI loader) and a FAT ESP image to boot it from.
#   make efi   -> $(BUILD)/bulkhead.efi and $(BUILD)/esp.img (CONFIG=..., MODULES as for make iso)
# Built against Debian's gnu-efi: its headers, crt0 and linker script and
# libgnuefi (self-relocation) only; objcopy turns the ELF into PE32+.

EFI_INC     := /usr/include/efi
EFI_LIBDIR  := /usr/lib
EFI_CRT0    := $(EFI_LIBDIR)/crt0-efi-x86_64.o
EFI_LDS     := $(EFI_LIBDIR)/elf_x86_64_efi.lds
EFI_OUT     := $(BUILD)/efi
EFI_CFLAGS  := -std=gnu11 -ffreestanding -fno-builtin -fpic -fshort-wchar -fno-stack-protector \
	-mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables -fcf-protection=none \
	-O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -I. -I$(EFI_INC) -I$(EFI_INC)/x86_64 \
	-DGNU_EFI_USE_MS_ABI -DBULKHEAD_VERSION='"$(VERSION)"' -DBULKHEAD_GIT='"$(GIT_DESC)"'
EFI_LDFLAGS := -nostdlib -znocombreloc -z noexecstack -shared -Bsymbolic -T $(EFI_LDS) \
	-L$(EFI_LIBDIR)
# The loader's own files, the multiboot2 builder, and the pure parsers it
# shares with the hypervisor (configuration, ELF checks, formatting).
EFI_SRCS    := $(wildcard boot/efi/*.c) core/config.c core/config_keys.c core/config_validate.c \
	core/config_net.c lib/sha256.c loader/elf.c lib/format.c lib/string.c lib/strutil.c
EFI_OBJS    := $(patsubst %.c,$(EFI_OUT)/%.o,$(EFI_SRCS)) $(EFI_OUT)/boot/efi/handoff.asm.o

$(EFI_OUT)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  EFICC   $<"
	@$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

$(EFI_OUT)/boot/efi/handoff.asm.o: boot/efi/handoff.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf64 $< -o $@

$(EFI_OUT)/bulkhead-efi.so: $(EFI_OBJS)
	@echo "  LD      $@"
	@$(LD) $(EFI_LDFLAGS) $(EFI_CRT0) $(EFI_OBJS) -o $@ -lgnuefi

$(BUILD)/bulkhead.efi: $(EFI_OUT)/bulkhead-efi.so
	@echo "  OBJCOPY $@"
	@objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 $< $@

-include $(EFI_OBJS:.o=.d)

# The ESP holds exactly the modules the configuration names, found as
# `make iso` finds them (scripts/resolve-modules.sh: next to the
# configuration, MODULES=dir:dir, build/guests, build/linux); a module found
# nowhere or a configuration with errors stops the build.
ESP ?= $(BUILD)/esp.img
efi: $(BUILD)/bulkhead.efi $(BUILD)/bulkhead.elf guests $(BUILD)/bulkhead-check
	@$(BUILD)/bulkhead-check "$(CONFIG)"
	@mods=$$(scripts/resolve-modules.sh --config "$(CONFIG)" --search "$(MODULES)") && \
		scripts/mkesp.sh --config "$(CONFIG)" --out "$(ESP)" $(ESP_ARGS) \
			$$(for m in $$mods; do printf -- '--module %s ' "$$m"; done)

.PHONY: efi test-esp

# The ESP of the integration tests (tests/integration/test_efi.py).
test-esp:
	@$(MAKE) --no-print-directory efi CONFIG=configs/demo.cfg ESP=$(BUILD)/test-esp.img
