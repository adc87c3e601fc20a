/*
 * rapl_zones.c - finding and naming RAPL zones: sysfs helpers, the scan of
 * the powercap tree, multi-die mirrors, device order and names, and the
 * bounds that keep wraps visible. See rapl.c for what is counted.
 */
#include "sources/rapl_zones.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* snprintf for messages: truncation of a long path in a message is fine. */
__attribute__((format(printf, 3, 4))) static int fmt(char *buf, size_t len, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int w = vsnprintf(buf, len, f, ap);
    va_end(ap);
    return w;
}

/* ------------------------------------------------------------------ */
/* Small file helpers                                                   */
/* ------------------------------------------------------------------ */

/* Reads up to len-1 bytes of a small file at offset 0; trims trailing
 * whitespace. Returns bytes kept, or -errno. */
static int pread_text(int fd, char *buf, size_t len) {
    ssize_t r;
    do {
        r = pread(fd, buf, len - 1, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    buf[r] = '\0';
    while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' ' || buf[r - 1] == '\t' || buf[r - 1] == '\r'))
        buf[--r] = '\0';
    return (int)r;
}

int ct__rapl_read_text(const char *path, char *buf, size_t len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int r = pread_text(fd, buf, len);
    close(fd);
    return r;
}

/* Parses a counter value; 0 or CT_EPARSE (empty, garbage, overflow). */
int ct__rapl_parse_uj(const char *text, uint64_t *out) {
    if (text[0] == '\0') return CT_EPARSE;
    return ct__parse_u64(text, out) == 0 ? 0 : CT_EPARSE;
}

/* Reads a counter through its open fd. 0, CT_EPARSE (bad contents) or -errno. */
int ct__rapl_read_counter(int fd, uint64_t *out, char *raw, size_t rawlen) {
    int r = pread_text(fd, raw, rawlen);
    if (r < 0) return r;
    return ct__rapl_parse_uj(raw, out);
}

/* Appends "; text" to a reason buffer (bounded). */
void ct__rapl_add_reason(char *buf, size_t len, const char *text) {
    size_t used = strlen(buf);
    if (used + 3 >= len) return;
    fmt(buf + used, len - used, "%s%s", used ? "; " : "", text);
}

/* ------------------------------------------------------------------ */
/* Zone discovery                                                       */
/* ------------------------------------------------------------------ */

static int is_rapl_dir_name(const char *d) {
    /* "intel-rapl:N[:M]" only: the control type dir "intel-rapl" has no
     * counter, and "intel-rapl-mmio:N" duplicates package-0. */
    return strncmp(d, "intel-rapl:", 11) == 0;
}

/* "package-N" or "package-N-die-D". Returns 1 if it is a package name. */
int ct__rapl_parse_package_name(const char *name, int *pkg, int *die) {
    *pkg = -1;
    *die = -1;
    if (strncmp(name, "package", 7) != 0) return 0;
    const char *p = name + 7;
    if (*p == '\0') return 1;
    if (*p != '-') return 0;
    char *end;
    errno = 0;
    long v = strtol(p + 1, &end, 10);
    if (end == p + 1 || errno || v < 0 || v > 65535) return 1; /* a package, number unknown */
    *pkg = (int)v;
    if (strncmp(end, "-die-", 5) == 0) {
        char *end2;
        long d = strtol(end + 5, &end2, 10);
        if (end2 != end + 5 && d >= 0 && d <= 65535 && *end2 == '\0') *die = (int)d;
    }
    return 1;
}


static int cand_add(ct_rapl_cand_list *l, const char *dir, const char *id) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->c[i].id, id) == 0) return 0; /* same zone, flat and nested */
    if (l->n >= RAPL_MAX_ZONES) return 0;
    if (strlen(id) >= sizeof l->c[0].id) return 0;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        ct_rapl_candidate *nc = realloc(l->c, (size_t)cap * sizeof *nc);
        if (!nc) return CT_ENOMEM;
        l->c = nc;
        l->cap = cap;
    }
    ct_rapl_candidate *c = &l->c[l->n];
    ct__strlcpy(c->id, id, sizeof c->id);
    int w = fmt(c->path, sizeof c->path, "%s/%s", dir, id);
    if (w < 0 || (size_t)w >= sizeof c->path) return 0;
    l->n++;
    return 0;
}

static int cand_cmp(const void *a, const void *b) {
    return strverscmp(((const ct_rapl_candidate *)a)->id, ((const ct_rapl_candidate *)b)->id);
}

/* Collects intel-rapl:* zone directories: the flat list of /sys/class/powercap
 * and the nested subzones inside each zone directory (either layout works). */
int ct__rapl_scan_root(const char *root, ct_rapl_cand_list *l, char *why, size_t whylen) {
    DIR *d = opendir(root);
    if (!d) {
        fmt(why, whylen, "RAPL: no powercap directory %s (%s)", root, strerror(errno));
        return CT_ENOSOURCE;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!is_rapl_dir_name(e->d_name)) continue;
        rc = cand_add(l, root, e->d_name);
        if (rc) break;
        char sub[RAPL_PATH_LEN];
        int w = fmt(sub, sizeof sub, "%s/%s", root, e->d_name);
        if (w < 0 || (size_t)w >= sizeof sub) continue;
        DIR *sd = opendir(sub);
        if (!sd) continue;
        struct dirent *se;
        while ((se = readdir(sd)) != NULL) {
            if (!is_rapl_dir_name(se->d_name)) continue;
            rc = cand_add(l, sub, se->d_name);
            if (rc) break;
        }
        closedir(sd);
    }
    closedir(d);
    if (rc) {
        fmt(why, whylen, "RAPL: out of memory");
        return rc;
    }
    if (l->n > 1) qsort(l->c, (size_t)l->n, sizeof l->c[0], cand_cmp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Multi-die mirrors                                                    */
/* ------------------------------------------------------------------ */

/*
 * Rule for zones that mirror one counter (multi-die AMD Zen 1/2: the kernel
 * may create one zone per die, all reading the same socket MSR, so summing
 * them double counts):
 *   zones of the same kind with the same package number (parsed from the
 *   name, which the kernel derives from physical_package_id) are compared;
 *   a zone whose energy_uj equals that of an already kept zone of the same
 *   package is a mirror and is dropped.
 * Zones of distinct counters (Intel multi-die packages, e.g. Cascade Lake-AP
 * `package-0-die-0` / `package-0-die-1`) read different values, since the
 * counters tick every ~1 ms in microjoules. The group is read back to back
 * up to three times: one reading can straddle a counter update (a few us
 * between two reads, ~0.5 % odds), three in a row practically cannot, so a
 * pair equal in any round is a mirror. We do not count packages from
 * /sys/devices/system/cpu/cpuN/topology/physical_package_id because that
 * says how many sockets exist, not which zones share a counter: on Intel
 * multi-die parts two zones per socket are both real.
 */
static int same_group(const ct_rapl_zone *a, const ct_rapl_zone *b) {
    return a->kind == b->kind && a->pkg >= 0 && a->pkg == b->pkg;
}

void ct__rapl_drop_mirrors(ct_rapl_zone *z, int *n, const ct__source_ctx *ctx) {
    int *mirror_of = calloc((size_t)*n, sizeof *mirror_of);
    uint64_t *val = calloc((size_t)*n, sizeof *val);
    if (!mirror_of || !val) {
        free(mirror_of);
        free(val);
        return; /* out of memory: keep all (no crash) */
    }
    for (int i = 0; i < *n; i++) mirror_of[i] = -1;
    for (int round = 0; round < 3; round++) {
        char raw[64];
        for (int i = 0; i < *n; i++)
            if (ct__rapl_read_counter(z[i].fd, &val[i], raw, sizeof raw) != 0) val[i] = UINT64_MAX - (uint64_t)i;
        for (int j = 0; j < *n; j++) {
            if (mirror_of[j] >= 0) continue;
            for (int i = 0; i < j; i++) {
                if (mirror_of[i] >= 0 || !same_group(&z[i], &z[j])) continue;
                if (val[i] == val[j]) {
                    mirror_of[j] = i;
                    break;
                }
            }
        }
    }
    int k = 0;
    for (int i = 0; i < *n; i++) {
        if (mirror_of[i] >= 0) {
            if (ctx && ctx->notice) {
                char msg[CT__MSG_LEN];
                fmt(msg, sizeof msg, "RAPL zone %s (%s) mirrors zone %s (%s): same counter, counted once", z[i].id,
                    z[i].name, z[mirror_of[i]].id, z[mirror_of[i]].name);
                ctx->notice(ctx->user, 0, msg);
            }
            close(z[i].fd);
            continue;
        }
        if (k != i) z[k] = z[i];
        k++;
    }
    *n = k;
    free(mirror_of);
    free(val);
}

/* ------------------------------------------------------------------ */
/* Device order and names                                               */
/* ------------------------------------------------------------------ */

static int zone_order(const void *pa, const void *pb) {
    const ct_rapl_zone *a = pa, *b = pb;
    if (a->kind != b->kind)
        return a->kind == ZONE_PACKAGE ? -1 : b->kind == ZONE_PACKAGE ? 1 : (int)a->kind - (int)b->kind;
    if (a->pkg != b->pkg) return a->pkg < b->pkg ? -1 : 1;
    if (a->die != b->die) return a->die < b->die ? -1 : 1;
    return strverscmp(a->id, b->id);
}

void ct__rapl_name_devices(ct_rapl_zone *z, int n) {
    /* Unknown package numbers get numbers after the known ones. */
    int next = 0;
    for (int i = 0; i < n; i++)
        if (z[i].pkg >= next) next = z[i].pkg + 1;
    for (int i = 0; i < n; i++)
        if (z[i].kind != ZONE_PSYS && z[i].pkg < 0) z[i].pkg = next++;
    qsort(z, (size_t)n, sizeof *z, zone_order);
    int psys = 0;
    for (int i = 0; i < n; i++) {
        const char *prefix = z[i].kind == ZONE_PACKAGE ? "cpu" : z[i].kind == ZONE_DRAM ? "dram" : "psys";
        if (z[i].kind == ZONE_PSYS) {
            fmt(z[i].dev_name, sizeof z[i].dev_name, "psys:%d", psys++);
            continue;
        }
        /* Several kept zones in one package (real per-die counters): name the die. */
        int same = 0, index = 0;
        for (int j = 0; j < n; j++) {
            if (z[j].kind == z[i].kind && z[j].pkg == z[i].pkg) {
                if (j < i) index++;
                same++;
            }
        }
        if (same == 1) fmt(z[i].dev_name, sizeof z[i].dev_name, "%s:%d", prefix, z[i].pkg);
        else
            fmt(z[i].dev_name, sizeof z[i].dev_name, "%s:%d-die-%d", prefix, z[i].pkg,
                z[i].die >= 0 ? z[i].die : index);
    }
}

/* Highest plausible power of a zone, W: twice the largest constraint max
 * power the zone declares (constraint_N_max_power_uw), else the guard power. */
double ct__rapl_zone_max_power_w(const char *zone_path) {
    double best = 0;
    for (int i = 0; i < 4; i++) {
        char path[RAPL_PATH_LEN + 48], text[64];
        uint64_t uw;
        fmt(path, sizeof path, "%s/constraint_%d_max_power_uw", zone_path, i);
        if (ct__rapl_read_text(path, text, sizeof text) > 0 && ct__rapl_parse_uj(text, &uw) == 0 &&
            (double)uw * 1e-6 > best)
            best = (double)uw * 1e-6;
    }
    return best > 0 ? 2.0 * best : RAPL_GUARD_POWER_W;
}

double ct__rapl_max_interval(const ct_rapl_zone *z, int n) {
    double iv = RAPL_MAX_INTERVAL_S;
    for (int i = 0; i < n; i++) {
        if (z[i].max_range == 0) continue;
        double s = ((double)z[i].max_range * 1e-6) / (2.0 * RAPL_GUARD_POWER_W);
        if (s < iv) iv = s;
    }
    return iv < RAPL_MIN_INTERVAL_S ? RAPL_MIN_INTERVAL_S : iv;
}

/* ------------------------------------------------------------------ */
