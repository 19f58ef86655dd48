/* bulkhead-check: the hypervisor's configuration parser, run on the host.
 *
 *   bulkhead-check [--cpus N] [--mem SIZE] [--modules a,b]
 *                  [--console com1|com2|0xPORT|mmio] FILE
 *       prints every error as "FILE:LINE: ..." and exits 1 when there are
 *       any, 0 when the file is valid (for that machine, when described).
 *       SIZE is in MiB unless it ends in K, M or G (`--mem 256` = 256 MiB,
 *       as for scripts/run.sh). The console (the boot command line's) is
 *       COM1 unless --console says otherwise: no VM may have its ports
 *       passed through. A file that defines no VM gets a warning on stderr
 *       ("FILE: warning: defines no VMs") and is still valid.
 *   bulkhead-check --hash-password [--iterations N]
 *       reads a password (the first line of stdin; asked twice without echo
 *       on a terminal) and prints a salted hash for `net.password_hash`
 *       (PBKDF2-HMAC-SHA256, 16 random bytes of salt from /dev/urandom).
 *   bulkhead-check --hash-token
 *       makes the HTTP API's token: reads one from the first line of stdin
 *       when stdin is not a terminal, else makes 32 random bytes (printed
 *       in hex on stderr as "token: ..."), and prints the salted hash for
 *       `net.api_token` (sha256$SALT$HASH, HASH = SHA-256(SALT || token)).
 *   bulkhead-check --list-modules FILE
 *       prints the modules the VMs name (kernel, initrd, modules), one per line, once
 *       each. Errors in the file do not stop the listing.
 *
 * Exit status 2: bad usage or an unreadable file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/api_auth.h"
#include "core/config.h"
#include "lib/string.h"

#define MAX_MODULES 64

static void usage(void)
{
    fprintf(stderr, "usage: bulkhead-check [--cpus N] [--mem SIZE] [--modules a,b,...] "
                    "[--console com1|com2|0xPORT|mmio] FILE\n"
                    "       bulkhead-check --hash-password [--iterations N]\n"
                    "       bulkhead-check --hash-token\n"
                    "       bulkhead-check --list-modules FILE\n");
    exit(2);
}

/* Reads at most CONFIG_MAX_SIZE + 1 bytes: enough for the parser to see that
 * the file is too large. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bulkhead-check: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    char *buf = malloc(CONFIG_MAX_SIZE + 1);
    if (!buf) {
        fprintf(stderr, "bulkhead-check: out of memory\n");
        exit(2);
    }
    *len = fread(buf, 1, CONFIG_MAX_SIZE + 1, f);
    if (ferror(f)) {
        fprintf(stderr, "bulkhead-check: %s: read error\n", path);
        exit(2);
    }
    fclose(f);
    return buf;
}

/* Splits a comma-separated option value in place. */
static unsigned split(char *s, char **out, unsigned max, const char *opt)
{
    unsigned n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max) {
            fprintf(stderr, "bulkhead-check: %s: more than %u entries\n", opt, max);
            exit(2);
        }
        out[n++] = tok;
    }
    return n;
}

/* A size in MiB, or with a unit: 512, 512M, 2G, 65536K. 0 on bad input. */
static uint64_t parse_mem(const char *v)
{
    unsigned long long n;
    size_t len = strlen(v);
    bool unit = len && strchr("KMGkmg", v[len - 1]);
    if (str_to_u64(v, len, &n, 1) || !n)
        return 0;
    if (unit)
        return n;
    return n > (~0ULL >> 20) ? 0 : n << 20;
}

static int list_modules(const struct config *cfg)
{
    const char *seen[CONFIG_MAX_VMS * (2 + VM_MAX_MODULES)];
    unsigned n = 0;
    for (unsigned i = 0; i < cfg->nr_vms; i++) {
        const struct vm_config *vm = &cfg->vms[i];
        const char *names[2 + VM_MAX_MODULES] = {vm->kernel, vm->initrd};
        for (unsigned k = 0; k < vm->nr_modules && k < VM_MAX_MODULES; k++)
            names[2 + k] = vm->modules[k].name;
        for (unsigned k = 0; k < 2 + vm->nr_modules && k < 2 + VM_MAX_MODULES; k++) {
            bool dup = !names[k][0];
            for (unsigned j = 0; j < n && !dup; j++)
                dup = !strcmp(seen[j], names[k]);
            if (!dup) {
                seen[n++] = names[k];
                printf("%s\n", names[k]);
            }
        }
    }
    return 0;
}

/* One line of stdin without its newline; on a terminal, prompted without echo. */
static int read_password(const char *prompt, char *buf, size_t size)
{
    struct termios old, quiet;
    bool tty = isatty(0) && !tcgetattr(0, &old);
    if (tty) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSAFLUSH, &quiet);
    }
    char *r = fgets(buf, (int)size, stdin);
    if (tty) {
        tcsetattr(0, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (!r)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int hash_password(unsigned long iterations)
{
    char pw[256], again[256], out[PWHASH_MAX_LEN];
    uint8_t salt[16];
    if (iterations < PWHASH_MIN_ITERATIONS || iterations > PWHASH_MAX_ITERATIONS) {
        fprintf(stderr, "bulkhead-check: --iterations: expected %u-%u\n", PWHASH_MIN_ITERATIONS,
                PWHASH_MAX_ITERATIONS);
        return 2;
    }
    if (read_password("password: ", pw, sizeof(pw))) {
        fprintf(stderr, "bulkhead-check: --hash-password: no password on stdin\n");
        return 2;
    }
    if (isatty(0) && (read_password("again: ", again, sizeof(again)) || strcmp(pw, again))) {
        fprintf(stderr, "bulkhead-check: --hash-password: the passwords differ\n");
        return 2;
    }
    if (!pw[0]) {
        fprintf(stderr, "bulkhead-check: --hash-password: the password is empty\n");
        return 2;
    }
    FILE *r = fopen("/dev/urandom", "rb");
    if (!r || fread(salt, 1, sizeof(salt), r) != sizeof(salt)) {
        fprintf(stderr, "bulkhead-check: /dev/urandom: %s\n", strerror(errno));
        return 2;
    }
    fclose(r);
    if (!pwhash_format(pw, strlen(pw), salt, sizeof(salt), (uint32_t)iterations, out, sizeof(out)))
        return 2;
    printf("%s\n", out);
    return 0;
}

static int random_bytes(uint8_t *out, size_t n)
{
    FILE *r = fopen("/dev/urandom", "rb");
    if (!r || fread(out, 1, n, r) != n) {
        fprintf(stderr, "bulkhead-check: /dev/urandom: %s\n", strerror(errno));
        return -1;
    }
    fclose(r);
    return 0;
}

static void print_hex(FILE *f, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", b[i]);
}

static int hash_token(void)
{
    char tok[API_TOKEN_MAX + 2];
    uint8_t salt[CONFIG_API_TOKEN_SALT], h[SHA256_DIGEST], raw[32];
    if (!isatty(0)) {
        if (!fgets(tok, sizeof(tok), stdin)) {
            fprintf(stderr, "bulkhead-check: --hash-token: no token on stdin\n");
            return 2;
        }
        tok[strcspn(tok, "\r\n")] = '\0';
        if (!tok[0] || strlen(tok) > API_TOKEN_MAX || strchr(tok, ' ')) {
            fprintf(stderr,
                    "bulkhead-check: --hash-token: expected 1 to %u characters without "
                    "spaces\n",
                    API_TOKEN_MAX);
            return 2;
        }
    } else {
        if (random_bytes(raw, sizeof(raw)))
            return 2;
        for (unsigned i = 0; i < sizeof(raw); i++)
            snprintf(tok + 2 * i, 3, "%02x", raw[i]);
        fprintf(stderr, "token: %s\n", tok);
    }
    if (random_bytes(salt, sizeof(salt)))
        return 2;
    api_token_hash(salt, sizeof(salt), tok, strlen(tok), h);
    printf("%s", CONFIG_API_TOKEN_PREFIX);
    print_hex(stdout, salt, sizeof(salt));
    printf("$");
    print_hex(stdout, h, sizeof(h));
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--hash-token"))
        return hash_token();
    if (argc >= 2 && !strcmp(argv[1], "--hash-password")) {
        unsigned long iterations = PWHASH_DEFAULT_ITER;
        if (argc == 4 && !strcmp(argv[2], "--iterations")) {
            char *end;
            iterations = strtoul(argv[3], &end, 10);
            if (*end || !argv[3][0])
                iterations = 0;
        } else if (argc != 2) {
            usage();
            return 2;
        }
        return hash_password(iterations);
    }

    static struct config cfg;
    struct config_machine m = {0};
    char *modules[MAX_MODULES];
    bool list = false;
    const char *file = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_arg = i + 1 < argc;
        if (!strcmp(a, "--list-modules")) {
            list = true;
        } else if (!strcmp(a, "--cpus") && has_arg) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 0);
            if (*end || !v || v > CONFIG_MAX_CPUS) {
                fprintf(stderr, "bulkhead-check: --cpus: expected 1-%u\n", CONFIG_MAX_CPUS);
                return 2;
            }
            m.nr_cpus = (unsigned)v;
        } else if (!strcmp(a, "--mem") && has_arg) {
            m.free_ram = parse_mem(argv[++i]);
            if (!m.free_ram) {
                fprintf(stderr, "bulkhead-check: --mem: expected a size in MiB like 512, or with "
                                "a unit like 512M or 2G\n");
                return 2;
            }
        } else if (!strcmp(a, "--modules") && has_arg) {
            m.nr_modules = split(argv[++i], modules, MAX_MODULES, "--modules");
            m.module_names = (const char *const *)modules;
            m.check_modules = true;
        } else if (!strcmp(a, "--console") && has_arg) {
            const char *v = argv[++i];
            char *end;
            unsigned long port = strtoul(v, &end, 16);
            if (!strcmp(v, "com1"))
                m.console_port = 0x3f8;
            else if (!strcmp(v, "com2"))
                m.console_port = 0x2f8;
            else if (!strncmp(v, "mmio", 4))
                m.console_port = CONFIG_CONSOLE_MMIO;
            else if (!strncmp(v, "0x", 2) && v[2] && !*end && port && port <= 0xfff8)
                m.console_port = (unsigned)port;
            else {
                fprintf(stderr, "bulkhead-check: --console: expected com1, com2, 0xPORT or mmio\n");
                return 2;
            }
        } else if (a[0] == '-' || file) {
            usage();
        } else {
            file = a;
        }
    }
    if (!file)
        usage();

    size_t len;
    char *text = read_file(file, &len);
    int errors = config_parse(text, len, file, &cfg);
    if (list) {
        if (errors)
            fprintf(stderr, "bulkhead-check: %s has %d error(s); listing its modules anyway\n",
                    file, errors);
        list_modules(&cfg);
        free(text);
        return 0;
    }
    errors = config_validate(&cfg, &m);
    for (unsigned i = 0; i < cfg.nr_errors; i++) {
        char line[512];
        config_format_error(&cfg.errors[i], file, line, sizeof(line));
        printf("%s\n", line);
    }
    /* Valid (the hypervisor comes up with its console alone), but rarely meant. */
    if (!cfg.nr_vms && !errors)
        fprintf(stderr, "%s: warning: defines no VMs\n", file);
    free(text);
    return errors ? 1 : 0;
}
