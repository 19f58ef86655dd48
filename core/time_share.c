#include "core/time_share.h"

unsigned share_percent(uint64_t part, uint64_t whole)
{
    if (!whole)
        return 0;
    if (part >= whole)
        return 100;
    /* 100 * part must fit: for huge counters drop low bits of both (the
     * ratio barely moves; whole stays above part, so above 0). */
    while (part > (UINT64_MAX - whole / 2) / 100) {
        part >>= 1;
        whole >>= 1;
    }
    return (unsigned)((part * 100 + whole / 2) / whole);
}

uint64_t share_busy_at(uint64_t busy_done, uint64_t turn_start, uint64_t now)
{
    if (!turn_start || now <= turn_start)
        return busy_done;
    return busy_done + (now - turn_start);
}

unsigned share_window_take(struct share_window *w, uint64_t busy, uint64_t now)
{
    unsigned pct = 0;
    if (now > w->at && busy >= w->busy)
        pct = share_percent(busy - w->busy, now - w->at);
    w->at = now;
    w->busy = busy;
    return pct;
}
