/* lwIP includes <string.h>: the hypervisor's own string functions. */
#include "lib/string.h"
