# Host unit tests: one cmocka binary per tests/unit/test_NAME.c, built with
# ASan and UBSan. List the project sources each test links in UNIT_SRCS_NAME.
HOST_CC     := gcc
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -I. -DHOST_TEST \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_LIBS   := -lcmocka

UNIT_SRCS_format := lib/format.c lib/strutil.c
UNIT_SRCS_log    := lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_ept    := ept/ept.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_ept_page := ept/ept.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_decode := vcpu/decode.c
UNIT_SRCS_insn_len := vcpu/insn_len.c
UNIT_SRCS_inject := vcpu/inject.c vcpu/cr_rules.c vcpu/apicv.c
UNIT_SRCS_cr_rules := vcpu/cr_rules.c
UNIT_SRCS_x86_operand := vcpu/x86_operand.c
UNIT_SRCS_run_rules := vcpu/run_rules.c
UNIT_SRCS_debug_rules := vcpu/debug_rules.c
UNIT_SRCS_gwalk  := ept/gwalk.c
UNIT_SRCS_exc_merge := arch/x86_64/exc_merge.c
UNIT_SRCS_mb2info := boot/mb2info.c lib/format.c lib/strutil.c
UNIT_SRCS_mb2build := boot/efi/mb2build.c boot/mb2info.c lib/format.c lib/strutil.c
UNIT_SRCS_memmap := mm/memmap.c
UNIT_SRCS_pmm := mm/pmm.c mm/memmap.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_timer_queue := arch/x86_64/timer_queue.c
UNIT_SRCS_acpi := drivers/acpi.c drivers/acpi_tables.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_pci  := drivers/pci.c drivers/pci_cap.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_acpi_gen := vdev/acpi_gen.c vdev/vpci_acpi.c drivers/acpi.c drivers/acpi_tables.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_linux_boot := loader/linux_boot.c lib/format.c lib/strutil.c
UNIT_SRCS_config := core/config.c core/config_keys.c core/config_validate.c core/config_net.c lib/sha256.c lib/format.c lib/strutil.c
UNIT_SRCS_config_validate := $(UNIT_SRCS_config)
UNIT_SRCS_cmdline := core/cmdline.c lib/format.c lib/strutil.c
UNIT_SRCS_vmspec  := core/vmspec.c lib/format.c lib/strutil.c
UNIT_SRCS_elf     := loader/elf.c lib/format.c lib/strutil.c
UNIT_SRCS_boot_place := loader/boot_place.c lib/format.c lib/strutil.c
UNIT_SRCS_vuart   := vdev/vuart.c
UNIT_SRCS_vuart_race := vdev/vuart.c
UNIT_SRCS_strutil := lib/strutil.c
UNIT_SRCS_sched_policy := core/sched_policy.c
UNIT_SRCS_time_share := core/time_share.c
UNIT_SRCS_rt_icr := vcpu/rt_icr.c

UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_TESTS))

.SECONDEXPANSION:
$(BUILD)/unit/test_%: tests/unit/test_%.c $$(UNIT_SRCS_$$*) $$(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $< $(UNIT_SRCS_$*) $(HOST_LIBS)

unit-build: $(UNIT_BINS)
unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)
.PHONY: unit-build
UNIT_SRCS_lineedit := core/lineedit.c
UNIT_SRCS_vpic := vdev/vpic.c
UNIT_SRCS_vpit := vdev/vpit.c
UNIT_SRCS_vlapic := vdev/vlapic.c vdev/vlapic_timer.c vdev/vlapic_ipi.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_vlapic_sipi := vdev/vlapic.c vdev/vlapic_timer.c vdev/vlapic_ipi.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_vlapic_apicv := vdev/vlapic.c vdev/vlapic_timer.c vdev/vlapic_ipi.c vdev/vlapic_apicv.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_vlapic_apicv_xapic := vdev/vlapic.c vdev/vlapic_timer.c vdev/vlapic_ipi.c vdev/vlapic_apicv.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_vioapic := vdev/vioapic.c
UNIT_SRCS_virq_rt := vdev/virq_rt.c
UNIT_SRCS_vrtc := vdev/vrtc.c
UNIT_SRCS_vpm  := vdev/vpm.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_outq := vm/outq.c
UNIT_SRCS_uart_txq := drivers/uart_txq.c
UNIT_SRCS_rt_ticks := vdev/rt_ticks.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_command_split := core/command_split.c
UNIT_SRCS_fbcon := drivers/fbcon.c $(BUILD)/gen/fbcon_font.c lib/format.c lib/strutil.c
UNIT_SRCS_config_checks := $(UNIT_SRCS_config)
UNIT_SRCS_define := core/define_check.c core/define_input.c core/config.c core/config_keys.c core/config_validate.c core/config_net.c lib/sha256.c lib/format.c lib/strutil.c
UNIT_SRCS_define_store := core/module_store.c loader/modules.c core/config.c core/config_keys.c core/config_validate.c core/config_net.c lib/sha256.c lib/format.c lib/strutil.c
UNIT_SRCS_vtd_tables := drivers/vtd_pt.c drivers/vtd_tables.c drivers/vtd_sm.c
UNIT_SRCS_vtd_sm     := drivers/vtd_pt.c drivers/vtd_tables.c drivers/vtd_sm.c
UNIT_SRCS_vtd_ir     := drivers/vtd_ir.c
UNIT_SRCS_ioapic_rte :=
UNIT_SRCS_vtd_fault  := drivers/vtd_fault.c lib/format.c lib/strutil.c
UNIT_SRCS_vtd_dmar   := drivers/vtd_dmar.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_vtd_owner  := drivers/vtd_owner.c mm/pmm.c mm/memmap.c lib/log.c lib/format.c lib/strutil.c
UNIT_SRCS_spec_ctrl := arch/x86_64/spec_ctrl_plan.c lib/format.c lib/strutil.c
UNIT_SRCS_spec_guest := arch/x86_64/spec_guest.c
UNIT_SRCS_svm_caps := svm/svm_caps.c lib/format.c lib/strutil.c
UNIT_SRCS_svm_vmcb := svm/svm_vmcb.c svm/svm_check.c svm/svm_names.c
UNIT_SRCS_svm_check := svm/svm_check.c svm/svm_vmcb.c
UNIT_SRCS_svm_fetch := svm/svm_fetch.c svm/svm_vmcb.c ept/gwalk.c
UNIT_SRCS_svm_decode := svm/svm_decode.c
UNIT_SRCS_sha256 := lib/sha256.c lib/format.c lib/strutil.c
UNIT_SRCS_telnet := net/telnet.c
UNIT_SRCS_login_limit := net/login_limit.c
UNIT_SRCS_tcp_syn := net/tcp_syn.c
UNIT_SRCS_vpci_bridge := vdev/vpci_bridge.c vdev/vpci_bar.c vdev/vpci_cap.c vdev/vpci_msi.c vdev/vpci_io.c lib/format.c lib/strutil.c
UNIT_SRCS_vpci_bridge_caps := $(UNIT_SRCS_vpci_bridge)
UNIT_SRCS_io_bitmap := 
UNIT_SRCS_vpci_host := drivers/pci_cap.c drivers/pci_group.c drivers/pci_quiesce.c vdev/vpci_acpi.c vdev/acpi_gen.c core/config.c core/config_keys.c core/config_validate.c core/config_net.c lib/sha256.c lib/format.c lib/strutil.c
UNIT_SRCS_http_parse := net/http_parse.c lib/strutil.c
UNIT_SRCS_http_json := core/api_json.c core/metrics_text.c lib/strutil.c
UNIT_SRCS_http_auth := core/api_auth.c core/config.c core/config_keys.c core/config_validate.c core/config_net.c lib/sha256.c lib/format.c lib/strutil.c
UNIT_SRCS_xsavec_check := vcpu/xsavec_image.c
