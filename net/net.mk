# lwIP 2.1.3 from Debian's `lwip` source package, fetched at build time into
# $(BUILD)/lwip (scripts/fetch-lwip.sh; the tarball is cached under
# $(BUILD)/lwip-cache, so later builds are offline) and compiled with the
# kernel's own flags: freestanding, general registers only, retpolines
# (lwIP calls through function pointers; check-indirect checks it).
# Included from the Makefile before the image's link rule.

LWIP_DIR   := $(BUILD)/lwip
LWIP_STAMP := $(LWIP_DIR)/.unpacked-2.1.3
LWIP_SRC_NAMES := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c core/tcp_out.c \
	core/timeouts.c core/udp.c core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c \
	core/ipv4/ip4.c core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c
LWIP_OBJS := $(patsubst %.c,$(BUILD)/k/lwip/%.o,$(LWIP_SRC_NAMES))
LWIP_INCLUDES := -Inet/lwip -Inet/lwip/shim -I$(LWIP_DIR)/src/include
# lwIP is not our code: its own warnings are not errors, the kernel's
# code-generation flags are the same.
LWIP_CFLAGS := $(KERNEL_CFLAGS) $(LWIP_INCLUDES) -Wno-error -Wno-unused-parameter \
	-Wno-sign-compare -Wno-implicit-fallthrough -Wno-missing-field-initializers

NET_C    := $(wildcard net/*.c)
NET_OBJS := $(patsubst %.c,$(BUILD)/k/%.o,$(NET_C))
KERNEL_OBJS += $(NET_OBJS) $(LWIP_OBJS)

# Under a lock: `make all test-iso` reaches this rule from two makes at once.
$(LWIP_STAMP): scripts/fetch-lwip.sh
	@mkdir -p $(BUILD)
	@flock $(BUILD)/.lwip-fetch.lock scripts/fetch-lwip.sh $(BUILD)

lwip-src: $(LWIP_STAMP)
.PHONY: lwip-src

$(LWIP_OBJS): $(BUILD)/k/lwip/%.o: $(LWIP_STAMP) net/lwip/lwipopts.h net/lwip/arch/cc.h
	@mkdir -p $(dir $@)
	@echo "  CC      lwip/$*.c"
	@$(CC) $(LWIP_CFLAGS) -MMD -MP -c $(LWIP_DIR)/src/$*.c -o $@

# Our own net/ code: the kernel's flags (warnings are errors) plus lwIP's headers.
$(NET_OBJS): $(BUILD)/k/net/%.o: net/%.c Makefile net/net.mk | $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KERNEL_CFLAGS) $(LWIP_INCLUDES) -MMD -MP -c $< -o $@
