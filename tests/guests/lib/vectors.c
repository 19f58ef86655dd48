/* Exception names for the 32-bit and the 64-bit runtime. */
#include "tests/guests/lib/guest.h"

static const char *const g_vec_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "?15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

const char *vector_name(unsigned v)
{
    if (v < 32 && g_vec_names[v])
        return g_vec_names[v];
    return v == 0x80 ? "int80" : "?";
}
