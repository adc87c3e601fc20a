/*
 * fake_nvml.c - a stand-in for libnvidia-ml.so.1, driven by a scenario file
 * (env FAKE_NVML_SCENARIO), for the tests and the GPU benchmark.
 *
 * Power is a function of time t (s) since the scenario's origin, so the energy
 * of any window is known exactly: the energy counter returns the exact integral
 * (in whole mJ, optionally refreshed only every counter_step_ms), the power
 * query returns P(t) rounded to mW.
 *
 * Scenario, one directive per line ('#' starts a comment):
 *   origin <s>             CLOCK_MONOTONIC value of t = 0 (default: when nvmlInit loads the scenario)
 *   clock virtual          "now" is what fake_nvml_set_time() set, not CLOCK_MONOTONIC
 *   init_error <code>      nvmlInit* returns code
 *   count_error <code>     nvmlDeviceGetCount* returns code
 *   device <uuid> <name>   a new GPU (the name is the rest of the line); the lines below apply to it
 *     counter 0|1          nvmlDeviceGetTotalEnergyConsumption supported (default 1)
 *     power 0|1            nvmlDeviceGetPowerUsage supported (default 1)
 *     mig 0|1              MIG mode (default 0)
 *     mig_device <uuid>    a MIG device on this GPU
 *     step t0 p0 t1 p1 ... power p_i W on [t_i, t_i+1), p0 before t0, the last value after (lines append)
 *     linear t0 p0 ...     piecewise-linear power between the points instead
 *     period <T>           the trace repeats every T s
 *     counter_offset_mj <n> counter value at t = 0 (default 1000000)
 *     counter_step_ms <ms> the counter moves only every ms (default 0: continuous)
 *     lost_after <s> [code] from t = s every call on the device returns code (default 15, GPU_IS_LOST)
 *     nsup <from> <to>     power and energy return NOT_SUPPORTED for t in [from, to)
 *     proc <pid> [from]    a compute process on the device (from t = from, default 0)
 *     handle_error <code>  nvmlDeviceGetHandleByIndex* returns code for this device
 * Built twice: as a current driver, and with -DFAKE_NVML_OLD as an old one
 * (no _v2/_v3 entry points, no energy counter, no MIG functions).
 *
 * Test hooks (not NVML): fake_nvml_set_time, fake_nvml_calls, fake_nvml_refcount,
 * fake_nvml_energy_j.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_API __attribute__((visibility("default")))

typedef int nvmlReturn_t;
enum { MAX_DEV = 16, MAX_MIG = 8, MAX_PROC = 512 };

typedef struct fake_mig {
    char uuid[96];
    int parent;
} fake_mig;

typedef struct fake_dev {
    char uuid[96], name[96];
    int counter, power, mig, linear;
    double *t, *p, *cum; /* trace points and the energy up to each, J */
    int n, cap;
    double period;
    unsigned long long offset_mj;
    double counter_step_s;
    double lost_after;
    int lost_code;
    double nsup_from, nsup_to;
    int nproc;
    unsigned int proc_pid[MAX_PROC];
    double proc_from[MAX_PROC];
    int handle_error;
    int mig_first, nmig;
} fake_dev;

static struct {
    int refcount;
    double origin;
    int origin_set, virtual_clock;
    double virtual_now;
    int init_error, count_error;
    int ndev;
    fake_dev dev[MAX_DEV];
    int nmig;
    fake_mig mig[MAX_DEV * MAX_MIG];
} g;

/* ---- call counting, for the tests --------------------------------------- */
static struct {
    const char *name;
    int n;
} g_calls[64];

static void count_call(const char *name) {
    for (int i = 0; i < 64; i++) {
        if (!g_calls[i].name) {
            g_calls[i].name = name;
            g_calls[i].n = 1;
            return;
        }
        if (strcmp(g_calls[i].name, name) == 0) {
            g_calls[i].n++;
            return;
        }
    }
}

FAKE_API int fake_nvml_calls(const char *name);
FAKE_API int fake_nvml_calls(const char *name) {
    for (int i = 0; i < 64 && g_calls[i].name; i++)
        if (strcmp(g_calls[i].name, name) == 0) return g_calls[i].n;
    return 0;
}
FAKE_API int fake_nvml_refcount(void);
FAKE_API int fake_nvml_refcount(void) { return g.refcount; }
FAKE_API void fake_nvml_set_time(double monotonic_s);
FAKE_API void fake_nvml_set_time(double monotonic_s) { g.virtual_now = monotonic_s; }

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double now_t(void) { return (g.virtual_clock ? g.virtual_now : mono()) - g.origin; }

/* ---- traces -------------------------------------------------------------- */
static void add_point(fake_dev *d, double t, double p) {
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->t = realloc(d->t, d->cap * sizeof *d->t);
        d->p = realloc(d->p, d->cap * sizeof *d->p);
        if (!d->t || !d->p) abort();
    }
    d->t[d->n] = t;
    d->p[d->n] = p;
    d->n++;
}

static void finish_trace(fake_dev *d) {
    if (d->n == 0) add_point(d, 0, 100.0);
    if (d->t[0] > 0) { /* p0 holds from t = 0 */
        add_point(d, 0, 0);
        memmove(d->t + 1, d->t, (d->n - 1) * sizeof *d->t);
        memmove(d->p + 1, d->p, (d->n - 1) * sizeof *d->p);
        d->t[0] = 0;
        d->p[0] = d->p[1];
    }
    free(d->cum);
    d->cum = malloc(d->n * sizeof *d->cum);
    if (!d->cum) abort();
    d->cum[0] = 0;
    for (int i = 1; i < d->n; i++) {
        double dt = d->t[i] - d->t[i - 1];
        d->cum[i] = d->cum[i - 1] + (d->linear ? 0.5 * (d->p[i - 1] + d->p[i]) * dt : d->p[i - 1] * dt);
    }
}

/* Last point index with t_i <= t (t >= 0). */
static int seg(const fake_dev *d, double t) {
    int lo = 0, hi = d->n - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (d->t[mid] <= t) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

static double power_at(const fake_dev *d, double t) {
    if (t < 0) t = 0;
    if (d->period > 0) t = fmod(t, d->period);
    int i = seg(d, t);
    if (!d->linear || i == d->n - 1) return d->p[i];
    double f = (t - d->t[i]) / (d->t[i + 1] - d->t[i]);
    return d->p[i] + f * (d->p[i + 1] - d->p[i]);
}

/* Energy from t = 0 to t, J. */
static double energy_to(const fake_dev *d, double t) {
    if (t <= 0) return 0;
    double base = 0;
    if (d->period > 0) {
        double cycles = floor(t / d->period);
        base = cycles *
               energy_to(&(fake_dev){.t = d->t, .p = d->p, .cum = d->cum, .n = d->n, .linear = d->linear}, d->period);
        t -= cycles * d->period;
    }
    int i = seg(d, t);
    double dt = t - d->t[i], e = d->cum[i] + d->p[i] * dt;
    if (d->linear && i < d->n - 1) e += 0.5 * (d->p[i + 1] - d->p[i]) / (d->t[i + 1] - d->t[i]) * dt * dt;
    return base + e;
}

FAKE_API double fake_nvml_energy_j(int index, double monotonic_s);
/* Exact energy of device index from the origin to the monotonic time given. */
FAKE_API double fake_nvml_energy_j(int index, double monotonic_s) {
    if (index < 0 || index >= g.ndev) return -1;
    return energy_to(&g.dev[index], monotonic_s - g.origin);
}

/* ---- scenario ------------------------------------------------------------ */
static void reset_scenario(void) {
    for (int i = 0; i < g.ndev; i++) {
        free(g.dev[i].t);
        free(g.dev[i].p);
        free(g.dev[i].cum);
    }
    double vnow = g.virtual_now;
    int rc = g.refcount;
    memset(&g, 0, sizeof g);
    g.virtual_now = vnow;
    g.refcount = rc;
}

/* The last scenario's traces live until the library is unloaded. */
__attribute__((destructor)) static void unload_scenario(void) { reset_scenario(); }

static void load_scenario(void) {
    reset_scenario();
    g.origin = mono();
    const char *path = getenv("FAKE_NVML_SCENARIO");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    fake_dev *d = NULL;
    while (getline(&line, &cap, f) > 0) {
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char key[32];
        int off = 0;
        if (sscanf(line, " %31s%n", key, &off) != 1) continue;
        char *rest = line + off;
        if (!strcmp(key, "origin")) {
            g.origin = strtod(rest, NULL);
            g.origin_set = 1;
        } else if (!strcmp(key, "clock")) {
            g.virtual_clock = strstr(rest, "virtual") != NULL;
        } else if (!strcmp(key, "init_error")) {
            g.init_error = atoi(rest);
        } else if (!strcmp(key, "count_error")) {
            g.count_error = atoi(rest);
        } else if (!strcmp(key, "device") && g.ndev < MAX_DEV) {
            d = &g.dev[g.ndev++];
            d->counter = d->power = 1;
            d->offset_mj = 1000000;
            d->lost_after = -1;
            d->lost_code = 15;
            d->nsup_from = d->nsup_to = -1;
            d->mig_first = g.nmig;
            int n2 = 0;
            sscanf(rest, " %95s %n", d->uuid, &n2);
            snprintf(d->name, sizeof d->name, "%s", rest + n2);
            d->name[strcspn(d->name, "\r\n")] = '\0';
        } else if (!d) {
            continue;
        } else if (!strcmp(key, "counter")) {
            d->counter = atoi(rest);
        } else if (!strcmp(key, "power")) {
            d->power = atoi(rest);
        } else if (!strcmp(key, "mig")) {
            d->mig = atoi(rest);
        } else if (!strcmp(key, "mig_device") && g.nmig < MAX_DEV * MAX_MIG) {
            fake_mig *m = &g.mig[g.nmig++];
            sscanf(rest, " %95s", m->uuid);
            m->parent = (int)(d - g.dev);
            d->nmig++;
        } else if (!strcmp(key, "step") || !strcmp(key, "linear")) {
            d->linear = !strcmp(key, "linear");
            char *p = rest, *e;
            for (;;) {
                double t = strtod(p, &e);
                if (e == p) break;
                p = e;
                double w = strtod(p, &e);
                if (e == p) break;
                p = e;
                add_point(d, t, w);
            }
        } else if (!strcmp(key, "period")) {
            d->period = strtod(rest, NULL);
        } else if (!strcmp(key, "counter_offset_mj")) {
            d->offset_mj = strtoull(rest, NULL, 10);
        } else if (!strcmp(key, "counter_step_ms")) {
            d->counter_step_s = strtod(rest, NULL) / 1000.0;
        } else if (!strcmp(key, "lost_after")) {
            int code = 15;
            sscanf(rest, " %lf %d", &d->lost_after, &code);
            d->lost_code = code;
        } else if (!strcmp(key, "nsup")) {
            sscanf(rest, " %lf %lf", &d->nsup_from, &d->nsup_to);
        } else if (!strcmp(key, "proc") && d->nproc < MAX_PROC) {
            double from = 0;
            unsigned int pid = 0;
            sscanf(rest, " %u %lf", &pid, &from);
            d->proc_pid[d->nproc] = pid;
            d->proc_from[d->nproc] = from;
            d->nproc++;
        } else if (!strcmp(key, "handle_error")) {
            d->handle_error = atoi(rest);
        }
    }
    free(line);
    fclose(f);
    for (int i = 0; i < g.ndev; i++) finish_trace(&g.dev[i]);
}

/* ---- NVML ---------------------------------------------------------------- */
typedef struct nvmlDevice_st *nvmlDevice_t;

static fake_dev *dev_of(nvmlDevice_t h) {
    fake_dev *d = (fake_dev *)(void *)h;
    if (d >= g.dev && d < g.dev + g.ndev) return d;
    return NULL;
}
static fake_mig *mig_of(nvmlDevice_t h) {
    fake_mig *m = (fake_mig *)(void *)h;
    if (m >= g.mig && m < g.mig + g.nmig) return m;
    return NULL;
}

/* Common checks: initialised, a device, not lost. */
static nvmlReturn_t check(nvmlDevice_t h, fake_dev **out) {
    if (g.refcount <= 0) return 1; /* UNINITIALIZED */
    fake_dev *d = dev_of(h);
    if (!d) return 2; /* INVALID_ARGUMENT */
    if (d->lost_after >= 0 && now_t() >= d->lost_after) return d->lost_code;
    *out = d;
    return 0;
}

#define NVML FAKE_API nvmlReturn_t

static nvmlReturn_t do_init(void) {
    if (g.refcount == 0) load_scenario();
    if (g.init_error) return g.init_error;
    g.refcount++;
    return 0;
}
NVML nvmlInit(void);
NVML nvmlInit(void) {
    count_call("nvmlInit");
    return do_init();
}
NVML nvmlShutdown(void);
NVML nvmlShutdown(void) {
    count_call("nvmlShutdown");
    if (g.refcount <= 0) return 1;
    g.refcount--;
    return 0;
}

FAKE_API const char *nvmlErrorString(nvmlReturn_t r);
FAKE_API const char *nvmlErrorString(nvmlReturn_t r) {
    switch (r) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    case 16: return "GPU requires restart";
    default: return "Unknown Error";
    }
}

static nvmlReturn_t get_count(unsigned int *n) {
    if (g.refcount <= 0) return 1;
    if (g.count_error) return g.count_error;
    *n = (unsigned int)g.ndev;
    return 0;
}
NVML nvmlDeviceGetCount(unsigned int *n);
NVML nvmlDeviceGetCount(unsigned int *n) {
    count_call("nvmlDeviceGetCount");
    return get_count(n);
}

static nvmlReturn_t get_handle(unsigned int i, nvmlDevice_t *h) {
    if (g.refcount <= 0) return 1;
    if (i >= (unsigned int)g.ndev) return 2;
    if (g.dev[i].handle_error) return g.dev[i].handle_error;
    *h = (nvmlDevice_t)(void *)&g.dev[i];
    return 0;
}
NVML nvmlDeviceGetHandleByIndex(unsigned int i, nvmlDevice_t *h);
NVML nvmlDeviceGetHandleByIndex(unsigned int i, nvmlDevice_t *h) {
    count_call("nvmlDeviceGetHandleByIndex");
    return get_handle(i, h);
}

NVML nvmlDeviceGetName(nvmlDevice_t h, char *buf, unsigned int len);
NVML nvmlDeviceGetName(nvmlDevice_t h, char *buf, unsigned int len) {
    fake_dev *d = NULL;
    nvmlReturn_t r = check(h, &d);
    if (r) return r;
    if (strlen(d->name) + 1 > len) return 7;
    strcpy(buf, d->name);
    return 0;
}

NVML nvmlDeviceGetUUID(nvmlDevice_t h, char *buf, unsigned int len);
NVML nvmlDeviceGetUUID(nvmlDevice_t h, char *buf, unsigned int len) {
    fake_mig *m = mig_of(h);
    const char *u;
    if (m) {
        u = m->uuid;
    } else {
        fake_dev *d = NULL;
        nvmlReturn_t r = check(h, &d);
        if (r) return r;
        u = d->uuid;
    }
    if (strlen(u) + 1 > len) return 7;
    strcpy(buf, u);
    return 0;
}

static int in_nsup(const fake_dev *d, double t) { return t >= d->nsup_from && t < d->nsup_to; }

NVML nvmlDeviceGetPowerUsage(nvmlDevice_t h, unsigned int *mw);
NVML nvmlDeviceGetPowerUsage(nvmlDevice_t h, unsigned int *mw) {
    count_call("nvmlDeviceGetPowerUsage");
    fake_dev *d = NULL;
    nvmlReturn_t r = check(h, &d);
    if (r) return r;
    double t = now_t();
    if (!d->power || in_nsup(d, t)) return 3;
    *mw = (unsigned int)llround(power_at(d, t) * 1000.0);
    return 0;
}

static nvmlReturn_t get_procs(nvmlDevice_t h, unsigned int *count, void *infos, size_t size) {
    fake_dev *d = NULL;
    nvmlReturn_t r = check(h, &d);
    if (r) return r;
    double t = now_t();
    unsigned int n = 0;
    for (int i = 0; i < d->nproc; i++) n += t >= d->proc_from[i];
    if (*count < n) {
        *count = n;
        return 7;
    }
    unsigned int k = 0;
    for (int i = 0; i < d->nproc; i++) {
        if (t < d->proc_from[i]) continue;
        char *e = (char *)infos + k * size;
        memset(e, 0, size);
        memcpy(e, &d->proc_pid[i], sizeof(unsigned int));
        unsigned long long mem = 1ull << 30;
        memcpy(e + 8, &mem, sizeof mem);
        k++;
    }
    *count = n;
    return 0;
}

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} proc_v1;
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} proc_v2;

NVML nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t h, unsigned int *count, proc_v1 *infos);
NVML nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t h, unsigned int *count, proc_v1 *infos) {
    count_call("nvmlDeviceGetComputeRunningProcesses");
    return get_procs(h, count, infos, sizeof(proc_v1));
}

#ifndef FAKE_NVML_OLD
NVML nvmlInit_v2(void);
NVML nvmlInit_v2(void) {
    count_call("nvmlInit_v2");
    return do_init();
}
NVML nvmlDeviceGetCount_v2(unsigned int *n);
NVML nvmlDeviceGetCount_v2(unsigned int *n) {
    count_call("nvmlDeviceGetCount_v2");
    return get_count(n);
}
NVML nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *h);
NVML nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *h) {
    count_call("nvmlDeviceGetHandleByIndex_v2");
    return get_handle(i, h);
}

NVML nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t h, unsigned long long *mj);
NVML nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t h, unsigned long long *mj) {
    count_call("nvmlDeviceGetTotalEnergyConsumption");
    fake_dev *d = NULL;
    nvmlReturn_t r = check(h, &d);
    if (r) return r;
    double t = now_t();
    if (!d->counter || in_nsup(d, t)) return 3;
    if (d->counter_step_s > 0) t = floor(t / d->counter_step_s) * d->counter_step_s;
    *mj = d->offset_mj + (unsigned long long)floor(energy_to(d, t) * 1000.0);
    return 0;
}

NVML nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t h, unsigned int *count, proc_v2 *infos);
NVML nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t h, unsigned int *count, proc_v2 *infos) {
    count_call("nvmlDeviceGetComputeRunningProcesses_v3");
    return get_procs(h, count, infos, sizeof(proc_v2));
}

NVML nvmlDeviceGetMigMode(nvmlDevice_t h, unsigned int *cur, unsigned int *pending);
NVML nvmlDeviceGetMigMode(nvmlDevice_t h, unsigned int *cur, unsigned int *pending) {
    fake_dev *d = NULL;
    nvmlReturn_t r = check(h, &d);
    if (r) return r;
    *cur = *pending = (unsigned int)d->mig;
    return 0;
}
NVML nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t h, unsigned int *n);
NVML nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t h, unsigned int *n) {
    fake_dev *d = NULL;
    nvmlReturn_t r = check(h, &d);
    if (r) return r;
    if (!d->mig) return 3;
    *n = 7;
    return 0;
}
NVML nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t h, unsigned int i, nvmlDevice_t *out);
NVML nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t h, unsigned int i, nvmlDevice_t *out) {
    fake_dev *d = NULL;
    nvmlReturn_t r = check(h, &d);
    if (r) return r;
    if (i >= (unsigned int)d->nmig) return 6; /* NOT_FOUND: empty slot */
    *out = (nvmlDevice_t)(void *)&g.mig[d->mig_first + (int)i];
    return 0;
}
#endif
