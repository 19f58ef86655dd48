/* The rule that keeps hypervisor memory out of every IOMMU domain: a domain
 * may map only host memory the page allocator has given to the domain's
 * owner, never free memory and never another owner's (the hypervisor image,
 * its tables, stacks, another VM). */
#ifndef DRIVERS_VTD_OWNER_H
#define DRIVERS_VTD_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 when every page of [hpa, hpa+size) belongs to `owner` in the page
 * allocator; with allow_non_ram, pages outside usable RAM (firmware-reserved
 * ranges an RMRR names) are accepted too. Otherwise VTD_ERR_DENIED with the
 * first offending range and its owner in why. */
int vtd_hpa_check(uint64_t hpa, uint64_t size, const char *owner, bool allow_non_ram, char *why,
                  size_t whylen);

#endif
