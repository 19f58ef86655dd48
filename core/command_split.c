#include "core/command_split.h"

enum command_split_result command_split_next(const char **pos, const char *end, char *out,
                                             size_t outlen)
{
    const char *p = *pos;
    if (p >= end)
        return SPLIT_END;
    const char *start = p;
    int quoted = 0;
    for (; p < end && *p && (quoted || *p != ';'); p++)
        if (*p == '"')
            quoted = !quoted;
    size_t n = (size_t)(p - start);
    *pos = p < end && *p == ';' ? p + 1 : end;
    if (!outlen || n >= outlen)
        return SPLIT_TOO_LONG;
    for (size_t i = 0; i < n; i++)
        out[i] = start[i];
    out[n] = '\0';
    return SPLIT_COMMAND;
}
