/* Machine power-off and reboot. */
#ifndef CORE_POWER_H
#define CORE_POWER_H

#include <stdbool.h>

/* Hooks run on the way down (e.g. VMXOFF on every CPU); at most 8. */
/* Connects the panic policy to power-off and reboot. */
void power_init(void);
int power_register_shutdown_hook(void (*fn)(void));
/* Skip emulator exit devices and use ACPI S5 only (`poweroff=acpi`). */
void power_set_acpi_only(bool acpi_only);
__attribute__((noreturn)) void machine_poweroff(int code);
__attribute__((noreturn)) void machine_reboot(void);

#endif
