/* Label values of the Prometheus text format (metrics.h); pure. */
#include "core/metrics.h"

void metrics_label_escape(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (; *s && o + 1 < size; s++) {
        char e = *s == '\\' ? '\\' : *s == '"' ? '"' : *s == '\n' ? 'n' : 0;
        if (e) {
            if (o + 2 >= size)
                break;
            out[o++] = '\\';
            out[o++] = e;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}
