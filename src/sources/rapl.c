/*
 * rapl.c - CPU package and DRAM energy from Linux RAPL counters through
 * powercap sysfs (Intel, and AMD Zen on kernel >= 5.11).
 *
 * Root: env CT_POWERCAP_ROOT (default /sys/class/powercap), so that tests and
 * containers (host sysfs mounted elsewhere) can point at another tree.
 *
 * What is counted (see hardware-facts.md):
 *  - zones are found by their `name` file, never by index;
 *  - default ("auto"): every `package-N` / `package-N-die-D` plus every `dram`;
 *    `core` and `uncore` are inside the package and never added; `psys`
 *    (platform) contains the package and is never added to it;
 *  - rapl_zones = "psys": the psys zone(s) alone, instead of packages + dram;
 *  - `intel-rapl-mmio:*` zones duplicate package-0 and are skipped (by their
 *    directory, because their name is also "package-0").
 *
 * Each kept zone is one device. energy_uj stays open for the life of the
 * source and is re-read with pread (a read costs a few microseconds).
 * Cumulative energy is kept in integer microjoules, so an epoch's energy is
 * exactly the counter delta, with wrap-around corrected by ct__counter_delta().
 * Every zone is read at least every range / (2 x 500 W), at most 60 s, so a
 * wrap is never missed (max_read_interval).
 *
 * Faults: an unreadable energy_uj (EACCES, mode 0400 since Linux 5.10) fails
 * the open with one reason naming the chmod that fixes it, so the tracker
 * falls back to the TDP estimate. Zones with a missing name or an empty or
 * non-numeric counter are skipped with their reason (info notice); no usable
 * zone fails the open with the reasons. Mid-run, a zone whose file errors
 * (ENODEV when sysfs removes it) or was unlinked is marked lost (once, as a
 * warning) and keeps its energy so far; a malformed reading is skipped, and
 * only malformed readings for RAPL_BAD_READ_S seconds in a row lose the zone
 * (counted in time, not in reads: at 20 reads a second a short glitch is
 * many reads). read() fails only when every zone is lost.
 *
 * Wrap or reset: a counter that goes backwards has either wrapped (passed
 * max_energy_range_uj) or been reset (a driver reload, a firmware reset). A
 * wrap means at least range - last + cur microjoules since the last good read,
 * which at the zone's highest plausible power (twice its constraint max power,
 * else RAPL_GUARD_POWER_W) takes a known minimum time; a backwards step sooner
 * than that is a reset, and only cur (what came after the reset) is counted,
 * with a warning. Without the time bound one reset in a 100 ms epoch added a
 * whole range (~262 kJ).
 * Multi-die mirrors: see ct__rapl_drop_mirrors().
 *
 * No dram zone (AMD, many clients) and CT_DRAM_ESTIMATE=1 (off by default):
 * one more device, "dram (estimated)", at CT__DRAM_W_PER_GB x installed
 * memory, marked estimated (the run is then partly estimated).
 */
#include "sources/rapl_zones.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>


typedef struct rapl_state {
    int n;
    ct_rapl_zone *zones; /* n kept zones, in device order */
    double max_interval_s;
    void (*notice)(void *user, int level, const char *msg);
    void *notice_user;
    int warned_no_range;
    /* DRAM estimate (device n when on) */
    int dram_est;
    double dram_w, t_open, dram_j;
} rapl_state;

/* snprintf for messages: truncation of a long path in a message is fine. */
__attribute__((format(printf, 3, 4))) static int fmt(char *buf, size_t len, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int w = vsnprintf(buf, len, f, ap);
    va_end(ap);
    return w;
}

/* ops                                                                  */
/* ------------------------------------------------------------------ */

static void close_zones(ct_rapl_zone *z, int n) {
    for (int i = 0; i < n; i++)
        if (z[i].fd >= 0) close(z[i].fd);
}

static int rapl_open(const ct__source_ctx *ctx, void **state, char *why, size_t whylen) {
    *state = NULL;
    if (why && whylen) why[0] = '\0';
    const ct_config *cfg = ctx ? ctx->cfg : NULL;
    const char *mode = cfg && cfg->rapl_zones ? cfg->rapl_zones : "auto";
    int want_psys;
    if (strcasecmp(mode, "auto") == 0 || mode[0] == '\0') want_psys = 0;
    else if (strcasecmp(mode, "psys") == 0) want_psys = 1;
    else {
        fmt(why, whylen, "RAPL: unknown rapl_zones \"%s\" (use \"auto\" for packages + dram, or \"psys\")", mode);
        return CT_EINVAL;
    }

    const char *root = ct__env(CT__ENV_POWERCAP_ROOT);
    if (!root) root = RAPL_DEFAULT_ROOT;

    ct_rapl_cand_list cl = {0};
    int rc = ct__rapl_scan_root(root, &cl, why, whylen);
    if (rc) {
        free(cl.c);
        return rc;
    }
    if (cl.n == 0) {
        fmt(why, whylen, "RAPL: no intel-rapl zones under %s (no RAPL support or driver not loaded)", root);
        free(cl.c);
        return CT_ENOSOURCE;
    }

    ct_rapl_zone *z = calloc((size_t)cl.n, sizeof *z);
    if (!z) {
        free(cl.c);
        fmt(why, whylen, "RAPL: out of memory");
        return CT_ENOMEM;
    }
    int n = 0;
    char skipped[CT__MSG_LEN] = "";
    char denied[RAPL_PATH_LEN] = "";
    char path[RAPL_PATH_LEN + 32];
    char text[128];

    for (int i = 0; i < cl.n; i++) {
        const ct_rapl_candidate *c = &cl.c[i];
        char reason[RAPL_PATH_LEN + 128];
        fmt(path, sizeof path, "%s/name", c->path);
        int r = ct__rapl_read_text(path, text, sizeof text);
        if (r <= 0) {
            fmt(reason, sizeof reason, "%s: %s", c->id, r == 0 ? "empty name" : "no readable name");
            ct__rapl_add_reason(skipped, sizeof skipped, reason);
            continue;
        }
        ct_rapl_zone *zz = &z[n];
        memset(zz, 0, sizeof *zz);
        zz->fd = -1;
        ct__strlcpy(zz->id, c->id, sizeof zz->id);
        ct__strlcpy(zz->path, c->path, sizeof zz->path);
        ct__strlcpy(zz->name, text, sizeof zz->name);
        int pkg = -1, die = -1;
        if (ct__rapl_parse_package_name(text, &pkg, &die)) zz->kind = ZONE_PACKAGE;
        else if (strcmp(text, "dram") == 0) zz->kind = ZONE_DRAM;
        else if (strcmp(text, "psys") == 0) zz->kind = ZONE_PSYS;
        else zz->kind = ZONE_OTHER; /* core, uncore, anything new: inside the package */
        if (zz->kind == ZONE_OTHER) continue;
        if (want_psys != (zz->kind == ZONE_PSYS)) continue;
        zz->pkg = pkg;
        zz->die = die;
        if (zz->kind == ZONE_DRAM) {
            /* dram is numbered by its package: the parent zone "intel-rapl:N". */
            char parent[64];
            ct__strlcpy(parent, c->id, sizeof parent);
            char *colon = strrchr(parent, ':');
            if (colon && colon != strchr(parent, ':')) {
                *colon = '\0';
                for (int j = 0; j < cl.n; j++) {
                    if (strcmp(cl.c[j].id, parent) != 0) continue;
                    fmt(path, sizeof path, "%s/name", cl.c[j].path);
                    char pname[128];
                    if (ct__rapl_read_text(path, pname, sizeof pname) > 0)
                        ct__rapl_parse_package_name(pname, &zz->pkg, &zz->die);
                    break;
                }
            }
        }

        fmt(path, sizeof path, "%s/energy_uj", c->path);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EACCES || e == EPERM) {
                if (!denied[0]) ct__strlcpy(denied, path, sizeof denied);
            } else {
                fmt(reason, sizeof reason, "%s (%s): energy_uj: %s", c->id, text, strerror(e));
                ct__rapl_add_reason(skipped, sizeof skipped, reason);
            }
            continue;
        }
        char raw[64];
        r = ct__rapl_read_counter(fd, &zz->last_uj, raw, sizeof raw);
        if (r != 0) {
            if (r == -EACCES || r == -EPERM) {
                if (!denied[0]) ct__strlcpy(denied, path, sizeof denied);
            } else if (r == CT_EPARSE) {
                fmt(reason, sizeof reason, "%s (%s): energy_uj %s", c->id, text,
                    raw[0] ? "is not a number" : "is empty");
                ct__rapl_add_reason(skipped, sizeof skipped, reason);
            } else {
                fmt(reason, sizeof reason, "%s (%s): energy_uj: %s", c->id, text, strerror(-r));
                ct__rapl_add_reason(skipped, sizeof skipped, reason);
            }
            close(fd);
            continue;
        }
        zz->fd = fd;
        fmt(path, sizeof path, "%s/max_energy_range_uj", c->path);
        uint64_t range = 0;
        if (ct__rapl_read_text(path, text, sizeof text) > 0 && ct__rapl_parse_uj(text, &range) == 0 &&
            range >= zz->last_uj)
            zz->max_range = range;
        zz->max_power_w = ct__rapl_zone_max_power_w(c->path);
        zz->bad_since = -1;
        n++;
    }
    free(cl.c);

    if (denied[0]) {
        /* One message with the exact fix, returned as the reason (the
         * tracker shows a reason naming chmod as a warning, once, and tries
         * the next source: the TDP estimate). The command comes before the
         * path so that a short reason buffer cuts only the path. */
        fmt(why, whylen,
            "RAPL energy counters are not readable (permission denied). To measure CPU energy instead of "
            "estimating it, run: " RAPL_FIX_COMMAND " (first unreadable file: %s)",
            denied);
        close_zones(z, n);
        free(z);
        return CT_ENOSOURCE;
    }
    if (n == 0) {
        if (want_psys)
            fmt(why, whylen, "RAPL: rapl_zones is \"psys\" but no usable psys zone under %s%s%s", root,
                skipped[0] ? ": " : "", skipped);
        else
            fmt(why, whylen, "RAPL: no usable package or dram zone under %s%s%s", root, skipped[0] ? ": " : "",
                skipped);
        free(z);
        return CT_ENOSOURCE;
    }
    if (skipped[0] && ctx && ctx->notice) {
        char msg[CT__MSG_LEN + 64];
        fmt(msg, sizeof msg, "RAPL zones skipped: %s", skipped);
        ctx->notice(ctx->user, 0, msg);
    }

    ct__rapl_drop_mirrors(z, &n, ctx);
    ct__rapl_name_devices(z, n);
    /* The mirror check read the counters again: start from a fresh reading. */
    for (int i = 0; i < n; i++) {
        char raw[64];
        uint64_t v;
        if (ct__rapl_read_counter(z[i].fd, &v, raw, sizeof raw) == 0) z[i].last_uj = v;
        z[i].last_t = ct__monotonic_s();
    }

    rapl_state *s = calloc(1, sizeof *s);
    if (!s) {
        close_zones(z, n);
        free(z);
        fmt(why, whylen, "RAPL: out of memory");
        return CT_ENOMEM;
    }
    s->n = n;
    s->zones = z;
    s->max_interval_s = ct__rapl_max_interval(z, n);
    if (ctx) {
        s->notice = ctx->notice;
        s->notice_user = ctx->user;
    }
    int have_dram = 0;
    for (int i = 0; i < n; i++) have_dram |= z[i].kind == ZONE_DRAM;
    double gb;
    if (!want_psys && !have_dram && ct__dram_estimate_wanted() && ct__dram_gb(&gb) == 0) {
        s->dram_est = 1;
        s->dram_w = CT__DRAM_W_PER_GB * gb;
        s->t_open = ct__monotonic_s();
        if (s->notice) {
            char msg[CT__MSG_LEN];
            fmt(msg, sizeof msg,
                "RAPL has no dram zone here: DRAM energy is estimated (CT_DRAM_ESTIMATE) at %.3g W per GB (Cloud "
                "Carbon Footprint's memory coefficient) x %.1f GB installed = %.3g W",
                CT__DRAM_W_PER_GB, gb, s->dram_w);
            s->notice(s->notice_user, 0, msg);
        }
    }
    *state = s;
    return 0;
}

static int rapl_device_count(void *state) {
    const rapl_state *s = state;
    return s ? s->n + s->dram_est : 0;
}

static void rapl_describe(void *state, int index, ct_device_desc *out) {
    const rapl_state *s = state;
    if (!s || !out || index < 0 || index >= s->n + s->dram_est) return;
    memset(out, 0, sizeof *out);
    if (index == s->n) {
        out->component = CT_COMPONENT_CPU;
        ct__strlcpy(out->name, "dram (estimated)", sizeof out->name);
        ct__strlcpy(out->method, "estimate", sizeof out->method);
        ct__strlcpy(out->source, "rapl", sizeof out->source);
        out->estimated = 1;
        return;
    }
    out->component = CT_COMPONENT_CPU;
    ct__strlcpy(out->name, s->zones[index].dev_name, sizeof out->name);
    ct__strlcpy(out->method, "counter", sizeof out->method);
    ct__strlcpy(out->source, "rapl", sizeof out->source);
    out->estimated = 0;
    out->lost = s->zones[index].lost;
}

static void zone_lost(rapl_state *s, ct_rapl_zone *z, const char *what) {
    z->lost = 1;
    if (z->fd >= 0) {
        close(z->fd);
        z->fd = -1;
    }
    if (s->notice) {
        char msg[CT__MSG_LEN];
        fmt(msg, sizeof msg,
            "RAPL zone %s (%s, device %s) %s: its energy so far (%.6f J) is kept, the other zones go on", z->id,
            z->name, z->dev_name, what, (double)z->total_uj * 1e-6);
        s->notice(s->notice_user, 1, msg);
    }
}

/* Energy between two good readings, uJ: a plain delta, a wrap, or (when a
 * wrap is impossible in the time since the last reading) a reset. */
static uint64_t zone_delta(rapl_state *s, ct_rapl_zone *z, uint64_t cur, double now_s) {
    if (cur >= z->last_uj) return cur - z->last_uj;
    if (z->max_range == 0) {
        /* Wrapped or reset, but the range is unknown: ct__counter_delta
         * counts only what came after. Say so once. */
        if (!s->warned_no_range && s->notice) {
            char msg[CT__MSG_LEN];
            fmt(msg, sizeof msg,
                "RAPL zone %s (%s) wrapped around but has no readable max_energy_range_uj: "
                "the energy before the wrap in that interval is not counted",
                z->id, z->name);
            s->notice(s->notice_user, 1, msg);
        }
        s->warned_no_range = 1;
        return ct__counter_delta(z->last_uj, cur, 0);
    }
    uint64_t wrap = ct__counter_delta(z->last_uj, cur, z->max_range);
    double dt = now_s - z->last_t;
    double min_wrap_s = (double)wrap * 1e-6 / z->max_power_w;
    /* dt < 0: the caller's clock is not the one of the last reading (a
     * contract breach, e.g. a simulation): no time bound, so a wrap. */
    if (dt < 0 || dt >= min_wrap_s) return wrap;
    if (s->notice) {
        char msg[CT__MSG_LEN];
        fmt(msg, sizeof msg,
            "RAPL zone %s (%s, device %s) went back from %llu to %llu uJ after %.3f s: a wrap would mean "
            "%.1f J, more than %.0f W can give in that time, so the counter was reset; only the %.6f J "
            "since the reset are counted",
            z->id, z->name, z->dev_name, (unsigned long long)z->last_uj, (unsigned long long)cur, dt,
            (double)wrap * 1e-6, z->max_power_w, (double)cur * 1e-6);
        s->notice(s->notice_user, 1, msg);
    }
    return cur;
}

static int rapl_read(void *state, double now_s, double *energy_j) {
    rapl_state *s = state;
    if (!s) return CT_EINVAL;
    int alive = 0;
    for (int i = 0; i < s->n; i++) {
        ct_rapl_zone *z = &s->zones[i];
        if (!z->lost) {
            char raw[64];
            uint64_t cur;
            int r = ct__rapl_read_counter(z->fd, &cur, raw, sizeof raw);
            if (r < 0 && r != CT_EPARSE) {
                char what[160];
                fmt(what, sizeof what, "could not be read (%s)", strerror(-r));
                zone_lost(s, z, what);
            } else if (r == CT_EPARSE) {
                /* Skip this reading (the last good one stands); a zone that
                 * returns nothing but garbage for RAPL_BAD_READ_S is given up. */
                if (z->bad_since < 0) z->bad_since = now_s;
                if (ct__span_reached(z->bad_since, now_s, RAPL_BAD_READ_S)) {
                    char what[160];
                    fmt(what, sizeof what, "returned only malformed readings for %.0f s", now_s - z->bad_since);
                    zone_lost(s, z, what);
                }
            } else {
                z->bad_since = -1;
                /* A zone removed from sysfs while its file is open reads
                 * ENODEV; an unlinked regular file (a fake tree, a
                 * container's copy) still reads: catch that too. */
                struct stat st;
                if (fstat(z->fd, &st) == 0 && st.st_nlink == 0) {
                    zone_lost(s, z, "was removed");
                } else {
                    z->total_uj += zone_delta(s, z, cur, now_s);
                    z->last_uj = cur;
                    z->last_t = now_s;
                }
            }
        }
        if (!z->lost) alive++;
        energy_j[i] = (double)z->total_uj * 1e-6;
    }
    if (s->dram_est) {
        double e = s->dram_w * (now_s - s->t_open);
        if (e > s->dram_j) s->dram_j = e;
        energy_j[s->n] = s->dram_j;
    }
    return alive > 0 ? 0 : CT_EIO;
}

static double rapl_max_read_interval(void *state) {
    const rapl_state *s = state;
    return s ? s->max_interval_s : RAPL_MAX_INTERVAL_S;
}

static void rapl_close(void *state) {
    rapl_state *s = state;
    if (!s) return;
    close_zones(s->zones, s->n);
    free(s->zones);
    free(s);
}

const ct__source_ops ct__source_rapl = {
    "rapl",    CT_COMPONENT_CPU,       rapl_open,  rapl_device_count, rapl_describe,
    rapl_read, rapl_max_read_interval, rapl_close,
};
