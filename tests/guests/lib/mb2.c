/* Multiboot2 information: the command line and memory size, copied at
 * start so later tests may scribble anywhere in RAM. */
#include "tests/guests/lib/guest.h"

#define MB2_TAG_END      0
#define MB2_TAG_CMDLINE  1
#define MB2_TAG_BASICMEM 4
#define MB2_MAX_SIZE     (64 * 1024) /* sanity bound for a hostile loader */

static char g_cmdline[512];
static uint32_t g_ram_end = 4u << 20;
static bool g_valid;

void mb2_init(uint32_t magic, uint32_t mbi);

void mb2_init(uint32_t magic, uint32_t mbi)
{
    if (magic != MB2_BOOT_MAGIC || mbi == 0 || (mbi & 7))
        return;
    const uint8_t *base = (const uint8_t *)(uintptr_t)mbi;
    uint32_t total = *(const uint32_t *)base;
    if (total < 16 || total > MB2_MAX_SIZE)
        return;

    uint32_t off = 8;
    while (off + 8 <= total) {
        uint32_t type = *(const uint32_t *)(base + off);
        uint32_t size = *(const uint32_t *)(base + off + 4);
        if (size < 8 || size > total - off)
            return;
        if (type == MB2_TAG_END) {
            g_valid = true;
            return;
        }
        if (type == MB2_TAG_CMDLINE) {
            const char *s = (const char *)(base + off + 8);
            uint32_t i, max = size - 8;
            for (i = 0; i < max && i < sizeof(g_cmdline) - 1 && s[i]; i++)
                g_cmdline[i] = s[i];
            g_cmdline[i] = '\0';
        } else if (type == MB2_TAG_BASICMEM && size >= 16) {
            uint32_t upper_kib = *(const uint32_t *)(base + off + 12);
            if (upper_kib < (0xffffffffu >> 10) - 1024)
                g_ram_end = (1024 + upper_kib) << 10;
        }
        off += (size + 7) & ~7u;
    }
}

bool mb2_valid(void)
{
    return g_valid;
}

const char *cmdline(void)
{
    return g_cmdline;
}

uint32_t ram_end(void)
{
    return g_ram_end;
}

/* Words are separated by spaces; a value may be double-quoted (GRUB quotes
 * words that contain spaces). */
bool cmdline_get(const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);
    const char *p = g_cmdline;

    while (*p) {
        while (*p == ' ')
            p++;
        const char *word = p;
        bool quoted = false;
        while (*p && (quoted || *p != ' ')) {
            if (*p == '"')
                quoted = !quoted;
            p++;
        }
        size_t wlen = (size_t)(p - word);
        if (wlen > klen && word[klen] == '=') {
            size_t i;
            for (i = 0; i < klen && word[i] == key[i]; i++)
                ;
            if (i < klen)
                continue;
            const char *v = word + klen + 1, *end = p;
            if (*v == '"') {
                v++;
                if (end > v && end[-1] == '"')
                    end--;
            }
            size_t n = 0;
            while (v < end && n + 1 < size)
                buf[n++] = *v++;
            if (size)
                buf[n] = '\0';
            return true;
        }
    }
    return false;
}

uint32_t cmdline_get_u32(const char *key, uint32_t def)
{
    char buf[24];
    uint32_t v;

    if (!cmdline_get(key, buf, sizeof(buf)) || !parse_u32(buf, &v)) {
        return def;
    }
    return v;
}
