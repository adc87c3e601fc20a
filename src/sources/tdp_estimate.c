/*
 * tdp_estimate.c - CPU energy ESTIMATED from the processor's rating and the
 * measured CPU use, for machines without readable RAPL counters.
 *
 * The power at utilisation u is P(u) = idle + u x (full - idle), integrated
 * over time; what idle and full are depends on the machine (cpu_host.h):
 *  - a host: full = TDP per chip x packages (distinct "physical id"), idle 0;
 *  - a virtual machine (the "hypervisor" cpuinfo flag, or DMI naming a
 *    hypervisor or cloud): only its share of the chip, full = TDP / hardware
 *    threads of that model x the vCPUs present (a VM often shows every vCPU
 *    as its own socket: TDP x "packages" billed an 8-vCPU VM for 8 chips);
 *    without the model's TDP and threads, the Cloud Carbon Footprint
 *    per-vCPU min/max watts of its microarchitecture (idle = min x vCPUs,
 *    full = max x vCPUs);
 *  - an unknown model: the per-thread default, the median of the Cloud
 *    Carbon Footprint per-vCPU coefficients, x hardware threads present;
 *  - a container or job limited by its cgroup (cpu.max, cpuset): billed for
 *    its own CPU time from the cgroup (cpu.stat / cpuacct.usage) at the
 *    per-CPU full power above, not for the machine's utilisation.
 * Utilisation: from the aggregate "cpu" line of /proc/stat, differenced
 * between reads: busy = total - idle - iowait. Not a constant 50 %.
 * Root of /proc: env CT_PROC_ROOT (default /proc), so tests build fake trees.
 *
 * Optional (CT_DRAM_ESTIMATE=1, off by default): a second device "dram
 * (estimated)" at CT__DRAM_W_PER_GB x installed memory.
 *
 * Every number from here is an estimate: devices say so (estimated = 1,
 * method "estimate", name "... (estimated)").
 */
#include "sources/cpu_host.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TDP_DEFAULT_ROOT "/proc"
#define TDP_CPUINFO_MAX (16u << 20)
#define TDP_READ_INTERVAL_S 1.0

/* snprintf for messages: truncation of a long path in a message is fine. */
__attribute__((format(printf, 3, 4))) static void fmt(char *buf, size_t len, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* /proc parsing                                                        */
/* ------------------------------------------------------------------ */

typedef struct cpu_times {
    uint64_t total, busy;
} cpu_times;

/* Parses the aggregate "cpu " line (the first line of /proc/stat):
 * user nice system idle [iowait irq softirq steal [guest guest_nice]].
 * total = user..steal (guest time is already inside user and nice);
 * busy = total - idle - iowait. 0 or CT_EPARSE with a reason. */
static int parse_stat(const char *text, cpu_times *out, char *why, size_t whylen) {
    if (strncmp(text, "cpu ", 4) != 0) {
        fmt(why, whylen, "does not start with the aggregate \"cpu\" line");
        return CT_EPARSE;
    }
    const char *nl = strchr(text, '\n');
    size_t len = nl ? (size_t)(nl - text) : strlen(text);
    char line[512];
    if (len >= sizeof line) {
        fmt(why, whylen, "the \"cpu\" line is too long");
        return CT_EPARSE;
    }
    memcpy(line, text, len);
    line[len] = '\0';
    uint64_t v[10] = {0};
    int n = 0;
    char *save = NULL;
    strtok_r(line, " \t", &save); /* "cpu" */
    for (char *tok = strtok_r(NULL, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (n >= 10) break;
        if (ct__parse_u64(tok, &v[n]) != 0) {
            fmt(why, whylen, "field %d of the \"cpu\" line is not a number: \"%.40s\"", n + 1, tok);
            return CT_EPARSE;
        }
        n++;
    }
    if (n < 4) {
        fmt(why, whylen, "the \"cpu\" line has %d fields, at least 4 are needed", n);
        return CT_EPARSE;
    }
    uint64_t total = 0;
    for (int i = 0; i < n && i < 8; i++) {
        if (UINT64_MAX - total < v[i]) {
            fmt(why, whylen, "the \"cpu\" line overflows");
            return CT_EPARSE;
        }
        total += v[i];
    }
    uint64_t idle = v[3] + (n > 4 ? v[4] : 0);
    if (idle > total) idle = total;
    out->total = total;
    out->busy = total - idle;
    return 0;
}

/* ------------------------------------------------------------------ */
/* ops                                                                  */
/* ------------------------------------------------------------------ */

typedef struct tdp_state {
    int stat_fd;
    char stat_path[1024];
    double idle_w, full_w; /* power at 0 and 100 % utilisation of the machine */
    int use_cgroup;        /* billed for the cgroup's CPU time */
    ct_cgroup_cpu cg;
    double per_cpu_w;   /* W per fully busy logical CPU (cgroup billing) */
    int logical;        /* logical CPUs of the machine (vCPUs on a VM) */
    double cg_anchor_s; /* cgroup CPU time at the anchor */
    int packages;
    char dev_name[64];
    /* Integration anchor: the last read at which the tick counters moved. */
    double anchor_t;
    cpu_times anchor_ticks;
    double anchor_energy_j;
    double last_util;  /* utilisation of the last measured interval */
    double last_out_j; /* last value returned (cumulative, never decreases) */
    int lost;
    /* DRAM estimate (device 1 when on) */
    int dram;
    double dram_w, t_open, dram_j;
    void (*notice)(void *user, int level, const char *msg);
    void *notice_user;
} tdp_state;

static int read_stat(tdp_state *s, cpu_times *out, char *why, size_t whylen) {
    char buf[1024];
    ssize_t r;
    do {
        r = pread(s->stat_fd, buf, sizeof buf - 1, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        fmt(why, whylen, "cannot read %s: %s", s->stat_path, strerror(errno));
        return CT_EIO;
    }
    buf[r] = '\0';
    if (r == 0) {
        fmt(why, whylen, "%s is empty", s->stat_path);
        return CT_EPARSE;
    }
    if (!memchr(buf, '\n', (size_t)r) && (size_t)r == sizeof buf - 1) {
        fmt(why, whylen, "%s: the first line is too long", s->stat_path);
        return CT_EPARSE;
    }
    char detail[256];
    if (parse_stat(buf, out, detail, sizeof detail) != 0) {
        fmt(why, whylen, "%s is malformed: %s", s->stat_path, detail);
        return CT_EPARSE;
    }
    return 0;
}

/* Decides idle_w / full_w (and per_cpu_w) for the machine; writes what was
 * decided, for the user, into msg. Returns the notice level: 0 when the model
 * was found, 1 when a default stands in. */
static int plan_power(tdp_state *s, const ct_cpu_host *h, int have_info, char *msg, size_t len) {
    ct_cpu_spec spec;
    int known = have_info && h->model[0] && ct__cpu_spec_lookup(h->model, &spec) == 0;
    if (!known) memset(&spec, 0, sizeof spec);
    const char *arch = spec.arch[0] ? spec.arch : ct__cpu_arch_from_id(h);
    long online = sysconf(_SC_NPROCESSORS_ONLN); /* without a cpuinfo: the threads the kernel runs */
    int logical = h->logical > 0 ? h->logical : online > 0 && online < 65536 ? (int)online : 1;
    const char *model = h->model[0] ? h->model : (have_info ? "unknown" : "unknown (no readable cpuinfo)");
    double vmin, vmax;
    char coef[96];
    int level = 0;
    s->packages = h->packages;
    if (h->vm) {
        const char *why_vm = h->vm_why;
        s->packages = 1;
        if (spec.tdp_w > 0 && spec.threads > 0) {
            double per = spec.tdp_w / spec.threads;
            s->idle_w = 0;
            s->full_w = per * logical;
            snprintf(msg, len,
                     "CPU energy is estimated, not measured: a virtual machine (%s) with %d vCPU(s) of \"%.120s\" "
                     "(\"%s\" in the %s: TDP %g W, %d hardware threads per chip): %.3g W per vCPU x %d vCPU(s) x "
                     "CPU utilisation",
                     why_vm, logical, model, spec.name, spec.source, spec.tdp_w, spec.threads, per, logical);
        } else if (arch[0] && ct__cpu_vcpu_power(arch, h->provider, &vmin, &vmax, coef, sizeof coef) == 0) {
            s->idle_w = vmin * logical;
            s->full_w = vmax * logical;
            snprintf(msg, len,
                     "CPU energy is estimated, not measured: a virtual machine (%s) with %d vCPU(s) of \"%.120s\" "
                     "(%s): Cloud Carbon Footprint per-vCPU coefficients for %s, %.3g W idle to %.3g W busy per "
                     "vCPU, x CPU utilisation",
                     why_vm, logical, model, arch, coef, vmin, vmax);
        } else {
            ct__cpu_vcpu_default(&vmin, &vmax);
            s->idle_w = vmin * logical;
            s->full_w = vmax * logical;
            level = 1;
            snprintf(msg, len,
                     "CPU energy is estimated, not measured: a virtual machine (%s) with %d vCPU(s) of \"%.120s\", a "
                     "model without TDP and thread count in the CPU tables, so the per-vCPU default (the median of "
                     "the Cloud Carbon Footprint coefficients: %.3g W idle to %.3g W busy per vCPU) x CPU "
                     "utilisation is used",
                     why_vm, logical, model, vmin, vmax);
        }
    } else if (spec.tdp_w > 0) {
        s->idle_w = 0;
        s->full_w = spec.tdp_w * h->packages;
        snprintf(msg, len,
                 "CPU energy is estimated, not measured: TDP %g W (\"%s\" in the %s, for \"%.200s\") x %d "
                 "package(s) x CPU utilisation",
                 spec.tdp_w, spec.name, spec.source, model, h->packages);
    } else {
        ct__cpu_vcpu_default(&vmin, &vmax);
        s->idle_w = vmin * logical;
        s->full_w = vmax * logical;
        level = 1;
        snprintf(msg, len,
                 "CPU energy is estimated, not measured: CPU model \"%.200s\" has no TDP in the CPU tables, so the "
                 "per-thread default (the median of the Cloud Carbon Footprint per-vCPU coefficients: %.3g W idle "
                 "to %.3g W busy per thread) x %d hardware thread(s) x CPU utilisation is used",
                 model, vmin, vmax, logical);
    }
    s->per_cpu_w = s->full_w / logical;
    s->logical = logical;
    return level;
}

static int tdp_open(const ct__source_ctx *ctx, void **state, char *why, size_t whylen) {
    *state = NULL;
    if (why && whylen) why[0] = '\0';
    const char *root = ct__env(CT__ENV_PROC_ROOT);
    if (!root) root = TDP_DEFAULT_ROOT;

    tdp_state *s = calloc(1, sizeof *s);
    if (!s) {
        fmt(why, whylen, "TDP estimate: out of memory");
        return CT_ENOMEM;
    }
    s->stat_fd = -1;
    fmt(s->stat_path, sizeof s->stat_path, "%s/stat", root);
    s->stat_fd = open(s->stat_path, O_RDONLY | O_CLOEXEC);
    if (s->stat_fd < 0) {
        fmt(why, whylen, "TDP estimate: cannot open %s (%s), so CPU utilisation is unknown", s->stat_path,
            strerror(errno));
        free(s);
        return CT_ENOSOURCE;
    }
    char detail[CT__MSG_LEN];
    int rc = read_stat(s, &s->anchor_ticks, detail, sizeof detail);
    if (rc) {
        fmt(why, whylen, "TDP estimate: %s", detail);
        close(s->stat_fd);
        free(s);
        return rc;
    }

    char path[1100];
    fmt(path, sizeof path, "%s/cpuinfo", root);
    char *info = NULL;
    size_t infolen = 0;
    ct_cpu_host host;
    memset(&host, 0, sizeof host);
    int info_rc = ct__read_file(path, TDP_CPUINFO_MAX, &info, &infolen);
    if (info_rc == 0 && info) ct__cpuinfo_parse(info, &host);
    else ct__cpuinfo_parse("", &host);
    free(info);
    ct__cpu_host_dmi(&host);

    char msg[3 * CT__MSG_LEN];
    int level = plan_power(s, &host, info_rc == 0, msg, sizeof msg);
    size_t used = strlen(msg);
    if (ct__cgroup_cpu_open(&s->cg, s->logical) == 0 && s->cg.limited &&
        ct__cgroup_cpu_usage(&s->cg, &s->cg_anchor_s) == 0) {
        s->use_cgroup = 1;
        char lim[96] = "";
        if (s->cg.quota_cpus > 0) snprintf(lim, sizeof lim, "a CPU quota of %.3g CPU(s)", s->cg.quota_cpus);
        if (s->cg.cpuset_cpus > 0)
            snprintf(lim + strlen(lim), sizeof lim - strlen(lim), "%sa cpuset of %d CPU(s)", lim[0] ? " and " : "",
                     s->cg.cpuset_cpus);
        fmt(msg + used, sizeof msg - used,
            "; this process runs in a cgroup (v%d) limited to %s, so it is billed for its own CPU time (%s) at "
            "%.3g W per busy CPU, not for the machine's utilisation",
            s->cg.version, lim, s->cg.usage_path, s->per_cpu_w);
    } else {
        fmt(msg + used, sizeof msg - used, " from %.500s", s->stat_path);
    }
    if (s->packages <= 1) fmt(s->dev_name, sizeof s->dev_name, "cpu:0 (estimated)");
    else fmt(s->dev_name, sizeof s->dev_name, "cpu:0-%d (estimated)", s->packages - 1);
    s->anchor_t = ct__monotonic_s();
    s->t_open = s->anchor_t;
    s->last_util = 0;
    if (ctx) {
        s->notice = ctx->notice;
        s->notice_user = ctx->user;
    }
    if (s->notice) s->notice(s->notice_user, level, msg);
    double gb;
    if (ct__dram_estimate_wanted()) {
        if (ct__dram_gb(&gb) == 0) {
            s->dram = 1;
            s->dram_w = CT__DRAM_W_PER_GB * gb;
            if (s->notice) {
                fmt(msg, sizeof msg,
                    "DRAM energy is estimated (CT_DRAM_ESTIMATE): %.3g W per GB (Cloud Carbon Footprint's memory "
                    "coefficient) x %.1f GB installed = %.3g W, whatever the memory does",
                    CT__DRAM_W_PER_GB, gb, s->dram_w);
                s->notice(s->notice_user, 0, msg);
            }
        } else if (s->notice) {
            s->notice(s->notice_user, 1,
                      "CT_DRAM_ESTIMATE is set but the installed memory is unknown (no readable "
                      "MemTotal in meminfo): no DRAM estimate");
        }
    }
    *state = s;
    return 0;
}

static int tdp_device_count(void *state) {
    const tdp_state *s = state;
    return s ? 1 + s->dram : 0;
}

static void tdp_describe(void *state, int index, ct_device_desc *out) {
    const tdp_state *s = state;
    if (!s || !out || index < 0 || index > s->dram) return;
    memset(out, 0, sizeof *out);
    out->component = CT_COMPONENT_CPU;
    ct__strlcpy(out->name, index == 0 ? s->dev_name : "dram (estimated)", sizeof out->name);
    ct__strlcpy(out->method, "estimate", sizeof out->method);
    ct__strlcpy(out->source, "tdp", sizeof out->source);
    out->estimated = 1;
    out->lost = s->lost;
}

/*
 * Integration. Tick counters move in 10 ms steps per CPU; when they have
 * moved since the anchor (always, in practice, for reads >= 10 ms apart),
 * the interval [anchor, now] is committed with its own utilisation and the
 * anchor moves to now. When they have not moved, the value returned is
 * provisional (last utilisation x time since the anchor) and nothing is
 * committed, so the next interval with ticks gets its true utilisation over
 * its whole length. Returned values never decrease.
 */
static double power_at(const tdp_state *s, double util) { return s->idle_w + util * (s->full_w - s->idle_w); }

static void put(tdp_state *s, double now_s, double *energy_j) {
    energy_j[0] = s->last_out_j;
    if (s->dram) {
        double e = s->dram_w * (now_s - s->t_open);
        if (e > s->dram_j) s->dram_j = e;
        energy_j[1] = s->dram_j;
    }
}

static int tdp_read(void *state, double now_s, double *energy_j) {
    tdp_state *s = state;
    if (!s) return CT_EINVAL;
    if (s->lost) {
        put(s, now_s, energy_j);
        return CT_EIO;
    }
    cpu_times cur;
    char why[CT__MSG_LEN];
    double cg_s = 0;
    int rc = read_stat(s, &cur, why, sizeof why);
    if (rc == 0 && s->use_cgroup && (rc = ct__cgroup_cpu_usage(&s->cg, &cg_s)) != 0)
        fmt(why, sizeof why, "cannot read the cgroup's CPU time from %s", s->cg.usage_path);
    if (rc) {
        s->lost = 1;
        if (s->notice) {
            char msg[CT__MSG_LEN + 128];
            fmt(msg, sizeof msg, "TDP estimate stopped: %s; the CPU energy so far (%.6f J) is kept", why,
                s->last_out_j);
            s->notice(s->notice_user, 1, msg);
        }
        put(s, now_s, energy_j);
        return CT_EIO;
    }
    double e;
    if (s->use_cgroup) {
        /* the cgroup's own CPU time, at the power of a busy CPU */
        e = s->per_cpu_w * (cg_s - s->cg_anchor_s);
    } else {
        double dt = now_s - s->anchor_t;
        if (dt < 0) dt = 0;
        if (cur.total > s->anchor_ticks.total && cur.busy >= s->anchor_ticks.busy) {
            double util = (double)(cur.busy - s->anchor_ticks.busy) / (double)(cur.total - s->anchor_ticks.total);
            if (util > 1) util = 1;
            e = s->anchor_energy_j + power_at(s, util) * dt;
            s->anchor_energy_j = e;
            s->anchor_t = now_s > s->anchor_t ? now_s : s->anchor_t;
            s->anchor_ticks = cur;
            s->last_util = util;
        } else if (cur.total < s->anchor_ticks.total || cur.busy < s->anchor_ticks.busy) {
            /* counters went backwards (not a real kernel): restart from here */
            s->anchor_ticks = cur;
            s->anchor_t = now_s > s->anchor_t ? now_s : s->anchor_t;
            s->anchor_energy_j = s->last_out_j;
            e = s->last_out_j;
        } else {
            e = s->anchor_energy_j + power_at(s, s->last_util) * dt;
        }
    }
    if (e < s->last_out_j) e = s->last_out_j;
    s->last_out_j = e;
    put(s, now_s, energy_j);
    return 0;
}

static double tdp_max_read_interval(void *state) {
    (void)state;
    return TDP_READ_INTERVAL_S;
}

static void tdp_close(void *state) {
    tdp_state *s = state;
    if (!s) return;
    if (s->stat_fd >= 0) close(s->stat_fd);
    free(s);
}

const ct__source_ops ct__source_tdp = {
    "tdp", CT_COMPONENT_CPU, tdp_open, tdp_device_count, tdp_describe, tdp_read, tdp_max_read_interval, tdp_close,
};
