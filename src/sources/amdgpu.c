/*
 * amdgpu.c - AMD GPUs through the amdgpu driver's hwmon files:
 *   <drm root>/card<N>/device/hwmon/hwmon<M>/   (root: env CT_DRM_ROOT, default /sys/class/drm)
 * with name == "amdgpu". Per card the method is chosen at open:
 *  - "counter": energy1_input (uJ, cumulative; newer kernels, some boards);
 *  - "power-polling": power1_average, else power1_input (uW), sampled at every
 *    read (the source asks for reads every 0.1 s) and integrated with the
 *    trapezoid rule.
 * Files are opened once and re-read with pread. A read that fails is a missing
 * sample; ENODEV/ENOENT (the card went away) marks the card lost, its energy
 * so far kept.
 *
 * devices_by_pid: hwmon has no per-process view, so a card counts from when a
 * process of this process tree has it open: the kernel (>= 5.19) names the
 * device of each DRM file in /proc/<pid>/fdinfo/<fd> ("drm-pdev: 0000:03:00.0"),
 * matched against the card's PCI_SLOT_NAME (device/uevent). Checked at open and
 * then every 2 s while some card is not yet counted.
 */
#include "sources/gpu_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct amd_dev {
    int fd;
    char name[128], uuid[96], file[1600];
    char pdev[32];  /* PCI address, "" when unknown */
    ct_gpu_meter m; /* counter (uJ) or polled power (uW); claimed, lost, energy */
} amd_dev;

typedef struct amd_state {
    ct__source_ctx ctx;
    ct_gpu_claims claims; /* devices_by_pid */
    int ndev;
    amd_dev *dev;
} amd_state;

#define PID_CHECK_INTERVAL_S 2.0

static void notice(const amd_state *s, int level, const char *msg) {
    if (s->ctx.notice) s->ctx.notice(s->ctx.user, level, msg);
}

/* Reads an unsigned integer from an open sysfs file. 0, or -errno (or CT_EPARSE). */
static int pread_u64(int fd, uint64_t *out) {
    char buf[64];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) return -errno;
    buf[n] = '\0';
    return ct__parse_u64(buf, out) == 0 ? 0 : CT_EPARSE;
}

/* A small text file's first line, trimmed; "" when unreadable. */
static void read_line(const char *path, char *out, size_t len) {
    char *buf = NULL;
    size_t n = 0;
    out[0] = '\0';
    if (ct__read_file(path, 4096, &buf, &n) != 0) return;
    buf[strcspn(buf, "\r\n")] = '\0';
    ct__strlcpy(out, buf, len);
    free(buf);
}

static int is_card_name(const char *s) {
    if (strncmp(s, "card", 4) != 0 || !s[4]) return 0;
    for (const char *p = s + 4; *p; p++)
        if (*p < '0' || *p > '9') return 0; /* "card0-DP-1" is a connector */
    return 1;
}

static int cmp_cards(const void *a, const void *b) {
    return atoi(*(const char *const *)a + 4) - atoi(*(const char *const *)b + 4);
}

/* Tries one hwmon directory: 1 and *d filled when it is a readable amdgpu sensor. */
static int probe_hwmon(const char *dir, const char *card, const char *devdir, amd_dev *d, double now) {
    char path[1600], name[64];
    snprintf(path, sizeof path, "%s/name", dir);
    read_line(path, name, sizeof name);
    if (strcmp(name, "amdgpu") != 0) return 0;
    static const char *const files[] = {"energy1_input", "power1_average", "power1_input"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        uint64_t v;
        if (pread_u64(fd, &v) != 0) {
            close(fd);
            continue;
        }
        memset(d, 0, sizeof *d);
        d->fd = fd;
        ct__strlcpy(d->file, path, sizeof d->file);
        d->m.has_counter = i == 0;
        if (i == 0) ct__gpu_meter_base_counter(&d->m, v);
        else ct__gpu_meter_base_power(&d->m, now, (double)v / 1e6);
        snprintf(path, sizeof path, "%s/product_name", devdir);
        read_line(path, d->name, sizeof d->name);
        if (!d->name[0]) snprintf(d->name, sizeof d->name, "AMD GPU %s", card);
        snprintf(path, sizeof path, "%s/unique_id", devdir);
        read_line(path, d->uuid, sizeof d->uuid);
        snprintf(path, sizeof path, "%s/uevent", devdir);
        char *ev = NULL;
        size_t evlen = 0;
        if (ct__read_file(path, 16384, &ev, &evlen) == 0) {
            const char *p = strstr(ev, "PCI_SLOT_NAME=");
            if (p) {
                p += strlen("PCI_SLOT_NAME=");
                size_t n = strcspn(p, "\r\n");
                if (n < sizeof d->pdev) {
                    memcpy(d->pdev, p, n);
                    d->pdev[n] = '\0';
                }
            }
            free(ev);
        }
        d->m.claimed = 1;
        return 1;
    }
    return 0;
}

/* ---- devices_by_pid ------------------------------------------------------ */

static int is_number(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* 1 when a process of this tree has a DRM file of PCI device pdev open. */
static int pdev_used(const char *proc_root, const int *tree, int nt, const char *pdev) {
    for (int k = 0; k < nt; k++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%d/fdinfo", proc_root, tree[k]);
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *e;
        int found = 0;
        while (!found && (e = readdir(d)) != NULL) {
            if (!is_number(e->d_name)) continue;
            char path[1400], *buf = NULL;
            size_t len = 0;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (ct__read_file(path, 16384, &buf, &len) != 0) continue;
            const char *p = strstr(buf, "drm-pdev:");
            if (p) {
                p += strlen("drm-pdev:");
                while (*p == ' ' || *p == '\t') p++;
                size_t n = strcspn(p, " \t\r\n");
                found = n == strlen(pdev) && strncmp(p, pdev, n) == 0;
            }
            free(buf);
        }
        closedir(d);
        if (found) return 1;
    }
    return 0;
}

/* Sets a card's reference reading at now (its energy counts from there). */
static void baseline(amd_dev *d, double now) {
    uint64_t v;
    d->m.have_raw = d->m.have_sample = 0;
    if (pread_u64(d->fd, &v) != 0) return;
    if (d->m.has_counter) ct__gpu_meter_base_counter(&d->m, v);
    else ct__gpu_meter_base_power(&d->m, now, (double)v / 1e6);
}

static int pending(const amd_state *s) {
    if (!s->claims.by_pid) return 0;
    for (int i = 0; i < s->ndev; i++)
        if (!s->dev[i].m.claimed && !s->dev[i].m.lost) return 1;
    return 0;
}

static void check_processes(amd_state *s, double now) {
    int nt = 0;
    int *tree = ct__proc_tree(s->claims.proc_root, &nt);
    if (!tree) return;
    for (int i = 0; i < s->ndev; i++) {
        amd_dev *d = &s->dev[i];
        if (d->m.claimed || d->m.lost || !d->pdev[0] || !pdev_used(s->claims.proc_root, tree, nt, d->pdev)) continue;
        d->m.claimed = 1;
        baseline(d, now);
        char msg[CT__MSG_LEN];
        snprintf(msg, sizeof msg, "AMD GPU %s (%s) is used by this process tree: measured from now on", d->name,
                 d->pdev);
        notice(s, 0, msg);
    }
    free(tree);
}

static void free_state(amd_state *s) {
    if (!s) return;
    for (int i = 0; i < s->ndev; i++)
        if (s->dev[i].fd >= 0) close(s->dev[i].fd);
    free(s->dev);
    free(s);
}

static int open_(const ct__source_ctx *ctx, void **state, char *why, size_t whylen) {
    *state = NULL;
    const char *root = ct__env(CT__ENV_DRM_ROOT);
    if (!root) root = "/sys/class/drm";
    DIR *dr = opendir(root);
    if (!dr) {
        snprintf(why, whylen, "AMD GPU: %s cannot be read (%s)", root, strerror(errno));
        return CT_ENOSOURCE;
    }
    amd_state *s = calloc(1, sizeof *s);
    char **cards = NULL;
    int ncards = 0, capc = 0;
    if (!s) {
        closedir(dr);
        return CT_ENOMEM;
    }
    if (ctx) s->ctx = *ctx;
    ct__gpu_claims_init(&s->claims, ctx, PID_CHECK_INTERVAL_S);
    struct dirent *e;
    while ((e = readdir(dr)) != NULL) {
        if (!is_card_name(e->d_name)) continue;
        if (ncards == capc) {
            capc = capc ? capc * 2 : 8;
            char **nc = realloc(cards, (size_t)capc * sizeof *nc);
            if (!nc) break;
            cards = nc;
        }
        cards[ncards] = ct__strdup(e->d_name);
        if (cards[ncards]) ncards++;
    }
    closedir(dr);
    if (ncards > 1) qsort(cards, (size_t)ncards, sizeof *cards, cmp_cards);

    double now = ct__monotonic_s();
    int amd_seen = 0;
    s->dev = calloc(ncards ? (size_t)ncards : 1, sizeof *s->dev);
    for (int c = 0; s->dev && c < ncards; c++) {
        char devdir[1024], hwdir[1040];
        snprintf(devdir, sizeof devdir, "%s/%s/device", root, cards[c]);
        snprintf(hwdir, sizeof hwdir, "%s/hwmon", devdir);
        DIR *hd = opendir(hwdir);
        if (!hd) continue;
        struct dirent *h;
        while ((h = readdir(hd)) != NULL) {
            if (strncmp(h->d_name, "hwmon", 5) != 0) continue;
            char dir[1400], name[64], path[1420];
            snprintf(dir, sizeof dir, "%s/%s", hwdir, h->d_name);
            snprintf(path, sizeof path, "%s/name", dir);
            read_line(path, name, sizeof name);
            if (strcmp(name, "amdgpu") != 0) continue;
            amd_seen = 1;
            if (probe_hwmon(dir, cards[c], devdir, &s->dev[s->ndev], now)) {
                s->ndev++;
                break;
            }
        }
        closedir(hd);
    }
    for (int c = 0; c < ncards; c++) free(cards[c]);
    free(cards);
    if (!s->dev) {
        free_state(s);
        return CT_ENOMEM;
    }
    if (s->ndev == 0) {
        if (amd_seen)
            snprintf(why, whylen,
                     "AMD GPU: amdgpu hwmon found under %s but none of energy1_input, power1_average, "
                     "power1_input is readable",
                     root);
        else snprintf(why, whylen, "AMD GPU: no amdgpu card under %s", root);
        free_state(s);
        return CT_ENOSOURCE;
    }
    if (s->claims.by_pid) {
        for (int i = 0; i < s->ndev; i++) s->dev[i].m.claimed = 0;
        s->claims.next_s = now + PID_CHECK_INTERVAL_S;
        check_processes(s, now);
        if (pending(s)) {
            int claimed = 0;
            for (int i = 0; i < s->ndev; i++) claimed += s->dev[i].m.claimed;
            if (!claimed)
                notice(s, 0,
                       "devices_by_pid: no AMD GPU is open in this process tree yet; each is measured from when "
                       "one is (needs Linux >= 5.19 for drm-pdev in /proc/<pid>/fdinfo)");
        }
    }
    *state = s;
    return 0;
}

static int read_(void *state, double now_s, double *energy_j) {
    amd_state *s = state;
    if (ct__gpu_claims_due(&s->claims, pending(s), now_s)) check_processes(s, now_s);
    for (int i = 0; i < s->ndev; i++) {
        amd_dev *d = &s->dev[i];
        if (!d->m.lost && d->m.claimed) {
            uint64_t v;
            int r = pread_u64(d->fd, &v);
            if (r == 0 && d->m.has_counter) {
                ct__gpu_meter_counter(&d->m, v, 1e-6); /* 64-bit uJ */
            } else if (r == 0) {
                ct__gpu_meter_power(&d->m, now_s, (double)v / 1e6);
            } else if (r == -ENODEV || r == -ENOENT || r == -ENXIO) {
                d->m.lost = 1;
                char msg[CT__MSG_LEN + 1800];
                snprintf(msg, sizeof msg,
                         "AMD GPU %s is no longer readable (%s: %s); its energy so far (%.1f J) is kept", d->name,
                         d->file, strerror(-r), d->m.energy_j);
                notice(s, 1, msg);
            }
        }
        energy_j[i] = d->m.energy_j;
    }
    return 0;
}

static double max_read_interval_(void *state) {
    amd_state *s = state;
    int polled = 0;
    for (int i = 0; i < s->ndev; i++)
        if (!s->dev[i].m.has_counter && !s->dev[i].m.lost) polled = 1;
    return ct__gpu_read_interval(polled, pending(s), PID_CHECK_INTERVAL_S);
}

static int device_count_(void *state) { return ((amd_state *)state)->ndev; }

static void describe_(void *state, int index, ct_device_desc *out) {
    amd_state *s = state;
    memset(out, 0, sizeof *out);
    if (index < 0 || index >= s->ndev) return;
    const amd_dev *d = &s->dev[index];
    out->component = CT_COMPONENT_GPU;
    ct__strlcpy(out->name, d->name, sizeof out->name);
    ct__strlcpy(out->uuid, d->uuid, sizeof out->uuid);
    ct__strlcpy(out->method, d->m.has_counter ? "counter" : "power-polling", sizeof out->method);
    ct__strlcpy(out->source, "amdgpu", sizeof out->source);
    out->lost = d->m.lost;
}

static void close_(void *state) { free_state(state); }

const ct__source_ops ct__source_amdgpu = {"amdgpu", CT_COMPONENT_GPU,   open_, device_count_, describe_,
                                          read_,    max_read_interval_, close_};
