/* DMAR device scopes and RMRRs; see vtd_dmar.h. Offsets are from the VT-d
 * spec, chapter 8 (DMAR 8.1, DRHD 8.3, device scope 8.3.1, RMRR 8.4). */
#include "drivers/vtd_dmar.h"

#include "drivers/acpi_internal.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

#define DMAR_ENTRIES_OFF 48u
#define DMAR_TYPE_DRHD   0
#define DMAR_TYPE_RMRR   1
#define DRHD_SCOPES_OFF  16u
#define RMRR_SCOPES_OFF  24u
#define SCOPE_MIN_LEN    8u /* header (6) and at least one path element */

#define P(x) ((unsigned long long)(x))

/* Parses the device scopes in [p, p+len) into out->scopes; returns how many
 * were recorded (bad ones are skipped and counted). */
static unsigned parse_scopes(struct vtd_dmar *out, const uint8_t *p, uint32_t len, const char *what,
                             unsigned index)
{
    unsigned n = 0;
    uint32_t off = 0;
    while (off < len) {
        uint32_t slen = len - off >= 2 ? p[off + 1] : 0;
        if (slen < SCOPE_MIN_LEN || slen > len - off || (slen - 6) % 2) {
            pr_warn("iommu: DMAR %s %u: device scope at offset %u has bad length %u; rest of "
                    "its scopes ignored",
                    what, index, off, slen);
            out->nr_bad++;
            break;
        }
        const uint8_t *s = p + off;
        unsigned path_len = (slen - 6) / 2;
        off += slen;
        if (s[0] < VTD_SCOPE_ENDPOINT || s[0] > VTD_SCOPE_ACPI || path_len > VTD_SCOPE_MAX_PATH) {
            pr_warn("iommu: DMAR %s %u: device scope type %u with %u path elements ignored", what,
                    index, s[0], path_len);
            out->nr_bad++;
            continue;
        }
        if (out->nr_scopes >= VTD_MAX_SCOPES) {
            pr_warn("iommu: DMAR: more than %u device scopes, the rest ignored", VTD_MAX_SCOPES);
            out->nr_bad++;
            break;
        }
        struct vtd_scope *sc = &out->scopes[out->nr_scopes++];
        sc->type = s[0];
        sc->enum_id = s[4];
        sc->start_bus = s[5];
        sc->path_len = (uint8_t)path_len;
        for (unsigned i = 0; i < path_len; i++) {
            sc->path[i][0] = s[6 + 2 * i] & 0x1f;
            sc->path[i][1] = s[7 + 2 * i] & 7;
        }
        n++;
    }
    return n;
}

static void parse_drhd(struct vtd_dmar *out, const uint8_t *e, uint16_t elen, uint32_t off)
{
    uint64_t base = elen >= DRHD_SCOPES_OFF ? acpi_rd64(e + 8) : 0;
    if (!base || (base & 0xfff)) {
        pr_warn("iommu: DMAR: DRHD at offset %u (length %u, base 0x%llx) invalid, ignored", off,
                elen, P(base));
        out->nr_bad++;
        return;
    }
    if (out->nr_drhd >= VTD_MAX_UNITS) {
        pr_warn("iommu: DMAR: more than %u units, 0x%llx ignored", VTD_MAX_UNITS, P(base));
        out->nr_bad++;
        return;
    }
    for (unsigned i = 0; i < out->nr_drhd; i++)
        if (out->drhd[i].base == base) {
            pr_warn("iommu: DMAR: second DRHD at 0x%llx ignored", P(base));
            out->nr_bad++;
            return;
        }
    struct vtd_dmar_drhd *d = &out->drhd[out->nr_drhd];
    d->base = base;
    d->include_all = e[4] & 1;
    d->segment = acpi_rd16(e + 6);
    d->first_scope = out->nr_scopes;
    d->nr_scopes =
        parse_scopes(out, e + DRHD_SCOPES_OFF, elen - DRHD_SCOPES_OFF, "unit", out->nr_drhd);
    out->nr_drhd++;
}

static void parse_rmrr(struct vtd_dmar *out, const uint8_t *e, uint16_t elen, uint32_t off)
{
    if (elen < RMRR_SCOPES_OFF) {
        pr_warn("iommu: DMAR: RMRR at offset %u too short (%u), ignored", off, elen);
        out->nr_bad++;
        return;
    }
    uint64_t base = acpi_rd64(e + 8), limit = acpi_rd64(e + 16);
    if ((base & 0xfff) || ((limit + 1) & 0xfff) || limit < base) {
        pr_warn("iommu: DMAR: RMRR 0x%llx-0x%llx is not a page-aligned range, ignored", P(base),
                P(limit));
        out->nr_bad++;
        return;
    }
    if (out->nr_rmrr >= VTD_MAX_RMRR) {
        pr_warn("iommu: DMAR: more than %u RMRRs, 0x%llx-0x%llx ignored", VTD_MAX_RMRR, P(base),
                P(limit));
        out->nr_bad++;
        return;
    }
    struct vtd_dmar_rmrr *r = &out->rmrr[out->nr_rmrr];
    r->base = base;
    r->limit = limit;
    r->segment = acpi_rd16(e + 6);
    r->first_scope = out->nr_scopes;
    r->nr_scopes =
        parse_scopes(out, e + RMRR_SCOPES_OFF, elen - RMRR_SCOPES_OFF, "RMRR", out->nr_rmrr);
    out->nr_rmrr++;
}

int vtd_dmar_parse(const uint8_t *t, uint32_t len, struct vtd_dmar *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!t || len < DMAR_ENTRIES_OFF || memcmp(t, "DMAR", 4) || acpi_rd32(t + 4) != len) {
        fmt_snprintf(err, errlen, "not a DMAR table (length %u)", len);
        return -1;
    }
    out->haw = (uint8_t)(t[36] + 1);
    out->flags = t[37];
    if (out->haw < 32 || out->haw > 64) {
        fmt_snprintf(err, errlen, "host address width %u is impossible", out->haw);
        return -1;
    }
    uint32_t off = DMAR_ENTRIES_OFF;
    while (off < len) {
        if (len - off < 4) {
            pr_warn("iommu: DMAR: stray bytes at offset %u", off);
            out->nr_bad++;
            break;
        }
        uint16_t type = acpi_rd16(t + off), elen = acpi_rd16(t + off + 2);
        if (elen < 4 || elen > len - off) {
            pr_warn("iommu: DMAR: structure type %u at offset %u has bad length %u; rest ignored",
                    type, off, elen);
            out->nr_bad++;
            break;
        }
        if (type == DMAR_TYPE_DRHD)
            parse_drhd(out, t + off, elen, off);
        else if (type == DMAR_TYPE_RMRR)
            parse_rmrr(out, t + off, elen, off);
        off += elen;
    }
    if (!out->nr_drhd) {
        fmt_snprintf(err, errlen, "no usable remapping unit (DRHD)");
        return -1;
    }
    return 0;
}

/* The requester ID of the scope's last path element, crossing the bridges
 * named by the elements before it. */
static bool resolve_path(const struct vtd_scope *s, uint16_t seg, vtd_bridge_fn bridge, void *ctx,
                         uint16_t *bdf)
{
    if (!s->path_len)
        return false;
    uint8_t bus = s->start_bus;
    for (unsigned i = 0; i + 1 < s->path_len; i++) {
        uint8_t sec, sub;
        if (!bridge || !bridge(ctx, seg, bus, s->path[i][0], s->path[i][1], &sec, &sub) ||
            sec <= bus)
            return false;
        bus = sec;
    }
    const uint8_t *el = s->path[s->path_len - 1];
    *bdf = (uint16_t)((bus << 8) | (el[0] << 3) | el[1]);
    return true;
}

bool vtd_scope_resolve(const struct vtd_scope *s, uint16_t seg, vtd_bridge_fn bridge, void *ctx,
                       uint16_t *first_bdf, uint16_t *last_bdf)
{
    uint16_t bdf;
    if ((s->type != VTD_SCOPE_ENDPOINT && s->type != VTD_SCOPE_BRIDGE) ||
        !resolve_path(s, seg, bridge, ctx, &bdf))
        return false;
    *first_bdf = *last_bdf = bdf;
    if (s->type == VTD_SCOPE_BRIDGE) {
        uint8_t sec, sub, bus = (uint8_t)(bdf >> 8);
        if (!bridge || !bridge(ctx, seg, bus, (bdf >> 3) & 0x1f, bdf & 7, &sec, &sub) ||
            sec <= bus || sub < sec)
            return false;
        /* Everything on the buses below the bridge. */
        *first_bdf = (uint16_t)(sec << 8);
        *last_bdf = (uint16_t)((sub << 8) | 0xff);
    }
    return true;
}

bool vtd_scope_matches(const struct vtd_scope *s, uint16_t seg, uint16_t bdf, vtd_bridge_fn bridge,
                       void *ctx)
{
    uint16_t first, last, self;
    if (!vtd_scope_resolve(s, seg, bridge, ctx, &first, &last))
        return false;
    /* A bridge scope covers the bridge function itself as well. */
    return (bdf >= first && bdf <= last) ||
           (s->type == VTD_SCOPE_BRIDGE && resolve_path(s, seg, bridge, ctx, &self) && self == bdf);
}

int vtd_dmar_ioapic_source(const struct vtd_dmar *d, uint8_t ioapic_id, vtd_bridge_fn bridge,
                           void *ctx, uint16_t *seg, uint16_t *sid)
{
    for (unsigned i = 0; i < d->nr_drhd; i++) {
        const struct vtd_dmar_drhd *u = &d->drhd[i];
        for (unsigned k = 0; k < u->nr_scopes; k++) {
            const struct vtd_scope *s = &d->scopes[u->first_scope + k];
            if (s->type == VTD_SCOPE_IOAPIC && s->enum_id == ioapic_id &&
                resolve_path(s, u->segment, bridge, ctx, sid)) {
                *seg = u->segment;
                return (int)i;
            }
        }
    }
    return -1;
}

int vtd_dmar_first_unremapped_ioapic(const struct vtd_dmar *d, const uint8_t *ids, unsigned n,
                                     unsigned remap_units, vtd_bridge_fn bridge, void *ctx)
{
    for (unsigned i = 0; i < n; i++) {
        uint16_t seg, sid;
        int ui = vtd_dmar_ioapic_source(d, ids[i], bridge, ctx, &seg, &sid);
        if (ui < 0 || ui >= 32 || !(remap_units & (1u << ui)))
            return (int)i;
    }
    return -1;
}

int vtd_dmar_unit_for(const struct vtd_dmar *d, uint16_t seg, uint16_t bdf, vtd_bridge_fn bridge,
                      void *ctx)
{
    int all = -1;
    for (unsigned i = 0; i < d->nr_drhd; i++) {
        const struct vtd_dmar_drhd *u = &d->drhd[i];
        if (u->segment != seg)
            continue;
        if (u->include_all) {
            all = (int)i;
            continue;
        }
        for (unsigned k = 0; k < u->nr_scopes; k++)
            if (vtd_scope_matches(&d->scopes[u->first_scope + k], seg, bdf, bridge, ctx))
                return (int)i;
    }
    return all;
}

/* "BB:DD.F" or "SSSS:BB:DD.F", hexadecimal as lspci prints them. */
static bool hex_field(const char **p, unsigned max_digits, unsigned limit, unsigned *out)
{
    unsigned v = 0, n = 0;
    for (; n < max_digits; n++, (*p)++) {
        char c = **p;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16)
            break;
        v = v * 16 + d;
    }
    *out = v;
    return n > 0 && v <= limit;
}

bool vtd_parse_bdf(const char *s, uint16_t *seg, uint16_t *bdf)
{
    unsigned a, b, dev, fn;
    const char *p = s;
    if (!s || !hex_field(&p, 4, 0xffff, &a) || *p++ != ':' || !hex_field(&p, 2, 0xff, &b))
        return false;
    unsigned sg = 0, bus = a;
    if (*p == ':') { /* segment given */
        p++;
        sg = a;
        bus = b;
        if (!hex_field(&p, 2, 0x1f, &dev))
            return false;
    } else {
        if (a > 0xff || b > 0x1f)
            return false;
        dev = b;
    }
    if (bus > 0xff || *p++ != '.' || !hex_field(&p, 1, 7, &fn) || *p)
        return false;
    *seg = (uint16_t)sg;
    *bdf = (uint16_t)((bus << 8) | (dev << 3) | fn);
    return true;
}
