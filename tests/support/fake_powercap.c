/* fake_powercap.c - see fake_powercap.h. */
#include "fake_powercap.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Last value set per zone, for fake_powercap_add. */
#define FAKE_MAX_ZONES 64
static struct {
    char root[512];
    char id[64];
    uint64_t value;
} g_values[FAKE_MAX_ZONES];

static void remember(const fake_tree *t, const char *id, uint64_t v) {
    int free_slot = -1;
    for (int i = 0; i < FAKE_MAX_ZONES; i++) {
        if (g_values[i].id[0] && strcmp(g_values[i].id, id) == 0 && strcmp(g_values[i].root, t->root) == 0) {
            g_values[i].value = v;
            return;
        }
        if (!g_values[i].id[0] && free_slot < 0) free_slot = i;
    }
    if (free_slot < 0) return;
    snprintf(g_values[free_slot].root, sizeof g_values[free_slot].root, "%s", t->root);
    snprintf(g_values[free_slot].id, sizeof g_values[free_slot].id, "%s", id);
    g_values[free_slot].value = v;
}

static int recall(const fake_tree *t, const char *id, uint64_t *v) {
    for (int i = 0; i < FAKE_MAX_ZONES; i++)
        if (g_values[i].id[0] && strcmp(g_values[i].id, id) == 0 && strcmp(g_values[i].root, t->root) == 0) {
            *v = g_values[i].value;
            return 0;
        }
    return -1;
}

static void forget_tree(const fake_tree *t) {
    for (int i = 0; i < FAKE_MAX_ZONES; i++)
        if (strcmp(g_values[i].root, t->root) == 0) g_values[i].id[0] = '\0';
}

int fake_tree_init(fake_tree *t, const char *tag) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(t->root, sizeof t->root, "%s/ct-%s-XXXXXX", tmp, tag ? tag : "fake");
    if (!mkdtemp(t->root)) {
        fprintf(stderr, "fake_tree_init: mkdtemp %s: %s\n", t->root, strerror(errno));
        t->root[0] = '\0';
        return -1;
    }
    /* Readable by an unprivileged user too (the EACCES test drops root). */
    chmod(t->root, 0755);
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

void fake_tree_destroy(fake_tree *t) {
    if (!t->root[0]) return;
    forget_tree(t);
    nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    t->root[0] = '\0';
}

/* Directory of a zone: nested under its parent for "a:b:c" ids. */
static int zone_dir(const fake_tree *t, const char *id, char *buf, size_t len) {
    const char *first = strchr(id, ':');
    const char *second = first ? strchr(first + 1, ':') : NULL;
    int w;
    if (second) {
        char parent[64];
        size_t pl = (size_t)(second - id);
        if (pl >= sizeof parent) return -1;
        memcpy(parent, id, pl);
        parent[pl] = '\0';
        w = snprintf(buf, len, "%s/%s/%s", t->root, parent, id);
    } else {
        w = snprintf(buf, len, "%s/%s", t->root, id);
    }
    return (w < 0 || (size_t)w >= len) ? -1 : 0;
}

int fake_powercap_path(const fake_tree *t, const char *id, const char *file, char *buf, size_t len) {
    char dir[768];
    if (zone_dir(t, id, dir, sizeof dir)) return -1;
    int w = snprintf(buf, len, "%s/%s", dir, file);
    return (w < 0 || (size_t)w >= len) ? -1 : 0;
}

static int write_text(const char *path, const char *text, int truncate) {
    int fd = open(path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : 0), 0644);
    if (fd < 0) {
        fprintf(stderr, "fake tree: open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = strlen(text);
    ssize_t w = pwrite(fd, text, n, 0);
    close(fd);
    if (w != (ssize_t)n) {
        fprintf(stderr, "fake tree: write %s failed\n", path);
        return -1;
    }
    return 0;
}

/* Counter text: fixed width (20 digits max + padding) so an in-place
 * rewrite always covers the previous value; trailing spaces are allowed by
 * the parser, as the kernel's trailing newline is. */
static void counter_text(uint64_t v, char *buf, size_t len) { snprintf(buf, len, "%-24" PRIu64 "\n", v); }

int fake_powercap_add_zone(fake_tree *t, const char *id, const char *name, uint64_t energy_uj, uint64_t max_range_uj) {
    char dir[768], path[1024], text[64];
    if (zone_dir(t, id, dir, sizeof dir)) return -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "fake_powercap_add_zone: mkdir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (name) {
        snprintf(path, sizeof path, "%s/name", dir);
        snprintf(text, sizeof text, "%s\n", name);
        if (write_text(path, text, 1)) return -1;
    }
    snprintf(path, sizeof path, "%s/energy_uj", dir);
    counter_text(energy_uj, text, sizeof text);
    if (write_text(path, text, 1)) return -1;
    remember(t, id, energy_uj);
    if (max_range_uj) {
        snprintf(path, sizeof path, "%s/max_energy_range_uj", dir);
        snprintf(text, sizeof text, "%" PRIu64 "\n", max_range_uj);
        if (write_text(path, text, 1)) return -1;
    }
    snprintf(path, sizeof path, "%s/enabled", dir);
    if (write_text(path, "1\n", 1)) return -1;
    /* Flat link at the root for sub-zones, as /sys/class/powercap has. */
    if (strchr(id, ':') && strchr(strchr(id, ':') + 1, ':')) {
        char link[1024];
        snprintf(link, sizeof link, "%s/%s", t->root, id);
        if (symlink(dir, link) != 0 && errno != EEXIST) {
            fprintf(stderr, "fake_powercap_add_zone: symlink %s: %s\n", link, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int fake_powercap_set(fake_tree *t, const char *id, uint64_t energy_uj) {
    char path[1024], text[64];
    if (fake_powercap_path(t, id, "energy_uj", path, sizeof path)) return -1;
    counter_text(energy_uj, text, sizeof text);
    if (write_text(path, text, 0)) return -1;
    remember(t, id, energy_uj);
    return 0;
}

int fake_powercap_add(fake_tree *t, const char *id, uint64_t delta_uj) {
    uint64_t v;
    if (recall(t, id, &v)) {
        fprintf(stderr, "fake_powercap_add: unknown zone %s\n", id);
        return -1;
    }
    return fake_powercap_set(t, id, v + delta_uj);
}

int fake_powercap_write_raw(fake_tree *t, const char *id, const char *file, const char *text) {
    char path[1024];
    if (fake_powercap_path(t, id, file, path, sizeof path)) return -1;
    return write_text(path, text, 1);
}

int fake_powercap_chmod(fake_tree *t, const char *id, const char *file, unsigned mode) {
    char path[1024];
    if (fake_powercap_path(t, id, file, path, sizeof path)) return -1;
    return chmod(path, (mode_t)mode) == 0 ? 0 : -1;
}

int fake_powercap_remove_zone(fake_tree *t, const char *id) {
    char dir[768], link[1024];
    if (zone_dir(t, id, dir, sizeof dir)) return -1;
    snprintf(link, sizeof link, "%s/%s", t->root, id);
    struct stat st;
    if (lstat(link, &st) == 0 && S_ISLNK(st.st_mode)) unlink(link);
    /* Sub-zones' root links of this zone go too. */
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s:", id);
    for (int i = 0; i < 64; i++) {
        snprintf(link, sizeof link, "%s/%s%d", t->root, prefix, i);
        if (lstat(link, &st) == 0 && S_ISLNK(st.st_mode)) unlink(link);
    }
    return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int fake_tree_write(fake_tree *t, const char *rel, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", t->root, rel);
    /* Pad with spaces over a longer previous content instead of truncating,
     * so that a concurrent reader never sees an empty file. */
    struct stat st;
    size_t n = strlen(text);
    if (stat(path, &st) == 0 && (size_t)st.st_size > n) {
        char *padded = malloc((size_t)st.st_size + 1);
        if (!padded) return -1;
        memcpy(padded, text, n);
        memset(padded + n, ' ', (size_t)st.st_size - n);
        padded[st.st_size] = '\0';
        if (n > 0 && text[n - 1] == '\n') padded[st.st_size - 1] = '\n';
        int rc = write_text(path, padded, 0);
        free(padded);
        return rc;
    }
    return write_text(path, text, 0);
}

int fake_proc_cpuinfo(fake_tree *t, const char *model, int packages, int cpus) {
    size_t cap = (size_t)cpus * 512 + 64;
    char *buf = malloc(cap);
    if (!buf) return -1;
    size_t o = 0;
    for (int c = 0; c < cpus; c++) {
        int w = snprintf(buf + o, cap - o,
                         "processor\t: %d\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
                         "model name\t: %s\nstepping\t: 4\ncpu MHz\t\t: 2100.000\n"
                         "physical id\t: %d\nsiblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\n"
                         "flags\t\t: fpu vme de pse tsc msr\n\n",
                         c, model, packages > 0 ? c % packages : 0, cpus / (packages > 0 ? packages : 1), c,
                         cpus / (packages > 0 ? packages : 1));
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
    buf[o] = '\0';
    char path[1024];
    snprintf(path, sizeof path, "%s/cpuinfo", t->root);
    int rc = write_text(path, buf, 1);
    free(buf);
    return rc;
}

int fake_proc_stat(fake_tree *t, const fake_stat *s) {
    char text[1024];
    snprintf(text, sizeof text,
             "cpu  %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
             " %" PRIu64 " %" PRIu64 "\n"
             "cpu0 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 0 0 0 0 0\n"
             "intr 12345 0 0\nctxt 6789\nbtime 1700000000\nprocesses 42\nprocs_running 1\nprocs_blocked 0\n",
             s->user, s->nice, s->system, s->idle, s->iowait, s->irq, s->softirq, s->steal, s->guest, s->guest_nice,
             s->user, s->nice, s->system, s->idle);
    return fake_tree_write(t, "stat", text);
}
