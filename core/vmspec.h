/* The `vm=` boot option: NAME,MODULE,mem=SIZE,cpu=N[,slice=US]
 * [,platform=pc|none][,on_crash=stop|restart][,cmdline=...]. */
#ifndef CORE_VMSPEC_H
#define CORE_VMSPEC_H

#include <stddef.h>

#include "vm/vm.h"

/* Parses one option value; returns 0 or -1 with a reason naming the key. */
int vmspec_parse(const char *s, struct vm_config *cfg, char *err, size_t errlen);

#endif
