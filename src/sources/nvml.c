/*
 * nvml.c - NVIDIA GPUs through NVML, loaded at run time (no link-time
 * dependency, no nvml.h: the few types used are declared here).
 *
 * Per device, the method is chosen at open:
 *  - "counter": nvmlDeviceGetTotalEnergyConsumption (mJ since the driver
 *    loaded; Volta and newer). Energy = difference of two readings, exact as
 *    the GPU sees it, whenever it is read.
 *  - "power-polling": nvmlDeviceGetPowerUsage (mW) sampled at every read (the
 *    source asks the tracker for reads every 0.1 s) and integrated with the
 *    trapezoid rule over the sample times.
 * Faults while running: NOT_SUPPORTED or another transient error is a missing
 * sample, not a failure (a counter catches up at the next good read, polling
 * integrates across the gap). GPU_IS_LOST / RESET_REQUIRED mark that device
 * lost (one warning), its energy so far kept; the other devices go on.
 */
#include "sources/gpu_common.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the part of NVML's API used here ---------------------------------- */
typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_RESET_REQUIRED = 16,
};
#define NVML_NAME_LEN 96 /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */
#define NVML_UUID_LEN 96 /* > NVML_DEVICE_UUID_V2_BUFFER_SIZE (80) */

/* nvmlProcessInfo_t as taken by the _v2 and _v3 process queries ... */
typedef struct nvml_process_v2 {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvml_process_v2;
/* ... and by the unversioned one (old drivers). */
typedef struct nvml_process_v1 {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvml_process_v1;

typedef struct nvml_api {
    void *lib;
    const char *init_name; /* the symbol used, for messages */
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*shutdown)(void);
    const char *(*error_string)(nvmlReturn_t);
    nvmlReturn_t (*get_count)(unsigned int *);
    nvmlReturn_t (*get_handle)(unsigned int, nvmlDevice_t *);
    nvmlReturn_t (*get_name)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*get_uuid)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*get_power)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*get_energy)(nvmlDevice_t, unsigned long long *);
    nvmlReturn_t (*get_procs)(nvmlDevice_t, unsigned int *, void *);
    size_t proc_size; /* sizeof the struct get_procs fills */
    nvmlReturn_t (*get_mig_mode)(nvmlDevice_t, unsigned int *, unsigned int *);
    nvmlReturn_t (*get_max_mig)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*get_mig_handle)(nvmlDevice_t, unsigned int, nvmlDevice_t *);
} nvml_api;

/* ---- state ------------------------------------------------------------- */
typedef struct nvml_dev {
    nvmlDevice_t handle;
    unsigned int index; /* NVML index */
    char name[NVML_NAME_LEN], uuid[NVML_UUID_LEN];
    int mig;           /* MIG mode on */
    ct_gpu_meter m;    /* counter (mJ) or polled power; claimed, lost, energy */
    double fail_since; /* monotonic s of the first failed read in a row, -1 none */
    int fail_warned;   /* the long-failure warning was given */
} nvml_dev;

typedef struct nvml_state {
    nvml_api api;
    ct__source_ctx ctx;
    ct_gpu_claims claims; /* devices_by_pid */
    void *procbuf;
    unsigned int proccap;
    int ndev;
    nvml_dev *dev;
} nvml_state;

#define PID_CHECK_INTERVAL_S 1.0
#define FAIL_WARN_S 10.0 /* failed reads in a row for this long: warn once */

static void notice(const nvml_state *s, int level, const char *msg) {
    if (s->ctx.notice) s->ctx.notice(s->ctx.user, level, msg);
}

static const char *err_text(const nvml_api *api, nvmlReturn_t r) {
    const char *t = api->error_string ? api->error_string(r) : NULL;
    return t ? t : "unknown NVML error";
}

static int is_lost_code(nvmlReturn_t r) { return r == NVML_ERROR_GPU_IS_LOST || r == NVML_ERROR_RESET_REQUIRED; }

/* dlsym of the first name that exists (versioned names first). */
static void *sym2(void *lib, const char *a, const char *b, const char **used) {
    void *p = dlsym(lib, a);
    if (p) {
        if (used) *used = a;
        return p;
    }
    if (!b) return NULL;
    p = dlsym(lib, b);
    if (p && used) *used = b;
    return p;
}

typedef nvmlReturn_t (*fn_void)(void);
typedef const char *(*fn_errstr)(nvmlReturn_t);
typedef nvmlReturn_t (*fn_uint)(unsigned int *);
typedef nvmlReturn_t (*fn_handle)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*fn_str)(nvmlDevice_t, char *, unsigned int);
typedef nvmlReturn_t (*fn_dev_uint)(nvmlDevice_t, unsigned int *);
typedef nvmlReturn_t (*fn_dev_ull)(nvmlDevice_t, unsigned long long *);
typedef nvmlReturn_t (*fn_procs)(nvmlDevice_t, unsigned int *, void *);
typedef nvmlReturn_t (*fn_dev_2uint)(nvmlDevice_t, unsigned int *, unsigned int *);
typedef nvmlReturn_t (*fn_dev_idx_handle)(nvmlDevice_t, unsigned int, nvmlDevice_t *);

/* Resolves the symbols. Returns NULL or the name of a missing required one. */
static const char *resolve(nvml_api *a) {
    void *l = a->lib;
    a->init = (fn_void)sym2(l, "nvmlInit_v2", "nvmlInit", &a->init_name);
    if (!a->init) return "nvmlInit_v2 (or nvmlInit)";
    a->shutdown = (fn_void)sym2(l, "nvmlShutdown", NULL, NULL);
    if (!a->shutdown) return "nvmlShutdown";
    a->get_count = (fn_uint)sym2(l, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount", NULL);
    if (!a->get_count) return "nvmlDeviceGetCount_v2 (or nvmlDeviceGetCount)";
    a->get_handle = (fn_handle)sym2(l, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex", NULL);
    if (!a->get_handle) return "nvmlDeviceGetHandleByIndex_v2 (or nvmlDeviceGetHandleByIndex)";
    a->get_power = (fn_dev_uint)sym2(l, "nvmlDeviceGetPowerUsage", NULL, NULL);
    a->get_energy = (fn_dev_ull)sym2(l, "nvmlDeviceGetTotalEnergyConsumption", NULL, NULL);
    if (!a->get_power && !a->get_energy) return "nvmlDeviceGetPowerUsage and nvmlDeviceGetTotalEnergyConsumption";
    a->error_string = (fn_errstr)sym2(l, "nvmlErrorString", NULL, NULL);
    a->get_name = (fn_str)sym2(l, "nvmlDeviceGetName", NULL, NULL);
    a->get_uuid = (fn_str)sym2(l, "nvmlDeviceGetUUID", NULL, NULL);
    const char *used = NULL;
    a->get_procs = (fn_procs)sym2(l, "nvmlDeviceGetComputeRunningProcesses_v3",
                                  "nvmlDeviceGetComputeRunningProcesses_v2", &used);
    a->proc_size = sizeof(nvml_process_v2);
    if (!a->get_procs) {
        a->get_procs = (fn_procs)sym2(l, "nvmlDeviceGetComputeRunningProcesses", NULL, NULL);
        a->proc_size = sizeof(nvml_process_v1);
    }
    a->get_mig_mode = (fn_dev_2uint)sym2(l, "nvmlDeviceGetMigMode", NULL, NULL);
    a->get_max_mig = (fn_dev_uint)sym2(l, "nvmlDeviceGetMaxMigDeviceCount", NULL, NULL);
    a->get_mig_handle = (fn_dev_idx_handle)sym2(l, "nvmlDeviceGetMigDeviceHandleByIndex", NULL, NULL);
    return NULL;
}

/* ---- devices_by_pid ---------------------------------------------------- */
/* 1 when a process of this tree runs on the device, 0 not, -1 NVML error (code in *rc). */
static int device_runs_ours(nvml_state *s, nvml_dev *d, nvmlReturn_t *rc) {
    nvml_api *a = &s->api;
    *rc = NVML_SUCCESS;
    if (!a->get_procs) return 0;
    for (int attempt = 0; attempt < 6; attempt++) {
        unsigned int count = s->proccap;
        nvmlReturn_t r = a->get_procs(d->handle, &count, s->procbuf);
        if (r == NVML_ERROR_INSUFFICIENT_SIZE) {
            /* count now holds what is needed; processes may start meanwhile, so leave room. */
            unsigned int want = (count > s->proccap ? count : s->proccap) * 2 + 8;
            void *nb = realloc(s->procbuf, (size_t)want * a->proc_size);
            if (!nb) return 0;
            s->procbuf = nb;
            s->proccap = want;
            continue;
        }
        if (r != NVML_SUCCESS) {
            *rc = r;
            return -1;
        }
        if (count > s->proccap) count = s->proccap;
        for (unsigned int i = 0; i < count; i++) {
            unsigned int pid;
            memcpy(&pid, (const char *)s->procbuf + (size_t)i * a->proc_size, sizeof pid);
            if (ct__proc_in_tree(s->claims.proc_root, (int)pid)) return 1;
        }
        return 0;
    }
    return 0;
}

/* ---- reading ----------------------------------------------------------- */
static void mark_lost(nvml_state *s, nvml_dev *d, nvmlReturn_t r) {
    if (d->m.lost) return;
    d->m.lost = 1;
    char msg[CT__MSG_LEN];
    snprintf(msg, sizeof msg,
             "GPU %u (%s, %s) is no longer readable (NVML: %s); its energy so far (%.1f J) is kept and the "
             "other GPUs are still measured",
             d->index, d->name, d->uuid, err_text(&s->api, r), d->m.energy_j);
    notice(s, 1, msg);
}

/* First reading of a device being counted: sets the baseline. 0 or the NVML code. */
static nvmlReturn_t baseline(nvml_state *s, nvml_dev *d, double now_s) {
    if (d->m.has_counter) {
        unsigned long long mj;
        nvmlReturn_t r = s->api.get_energy(d->handle, &mj);
        if (r == NVML_SUCCESS) ct__gpu_meter_base_counter(&d->m, mj);
        return r;
    }
    unsigned int mw;
    nvmlReturn_t r = s->api.get_power(d->handle, &mw);
    if (r == NVML_SUCCESS) ct__gpu_meter_base_power(&d->m, now_s, mw / 1000.0);
    return r;
}

static void update_device(nvml_state *s, nvml_dev *d, double now_s) {
    nvmlReturn_t r;
    if (d->m.has_counter) {
        unsigned long long mj;
        r = s->api.get_energy(d->handle, &mj);
        if (r == NVML_SUCCESS) ct__gpu_meter_counter(&d->m, mj, 1e-3); /* mJ since the driver loaded */
    } else {
        unsigned int mw;
        r = s->api.get_power(d->handle, &mw);
        if (r == NVML_SUCCESS) ct__gpu_meter_power(&d->m, now_s, mw / 1000.0);
    }
    if (is_lost_code(r)) {
        mark_lost(s, d, r);
        return;
    }
    /* Any other error (NOT_SUPPORTED, UNKNOWN, ...) is a missing sample. A long run of
     * them is worth one warning: the user should know the energy is stalled. */
    if (r == NVML_SUCCESS) {
        d->fail_since = -1;
        return;
    }
    if (d->fail_since < 0) d->fail_since = now_s;
    if (!d->fail_warned && ct__span_reached(d->fail_since, now_s, FAIL_WARN_S)) {
        d->fail_warned = 1;
        char msg[CT__MSG_LEN];
        snprintf(msg, sizeof msg, "GPU %u (%s): %s not been readable for %.0f s (NVML: %s); %s", d->index, d->name,
                 d->m.has_counter ? "the energy counter has" : "power has", now_s - d->fail_since, err_text(&s->api, r),
                 d->m.has_counter ? "the counter is cumulative, so the energy is caught up if it comes back"
                                  : "the gap is bridged linearly between the samples around it");
        notice(s, 1, msg);
    }
}

static void check_processes(nvml_state *s, double now_s) {
    for (int i = 0; i < s->ndev; i++) {
        nvml_dev *d = &s->dev[i];
        if (d->m.claimed || d->m.lost) continue;
        nvmlReturn_t rc;
        int ours = device_runs_ours(s, d, &rc);
        if (ours < 0 && is_lost_code(rc)) mark_lost(s, d, rc);
        if (ours <= 0) continue;
        nvmlReturn_t r = baseline(s, d, now_s);
        if (is_lost_code(r)) {
            mark_lost(s, d, r);
            continue;
        }
        d->m.claimed = 1;
        char msg[CT__MSG_LEN];
        snprintf(msg, sizeof msg, "GPU %u (%s) runs a process of this process tree: measured from now on", d->index,
                 d->name);
        notice(s, 0, msg);
    }
}

static int pending_pid_devices(const nvml_state *s) {
    if (!s->claims.by_pid) return 0;
    for (int i = 0; i < s->ndev; i++)
        if (!s->dev[i].m.claimed && !s->dev[i].m.lost) return 1;
    return 0;
}

static int read_(void *state, double now_s, double *energy_j) {
    nvml_state *s = state;
    if (ct__gpu_claims_due(&s->claims, pending_pid_devices(s), now_s)) check_processes(s, now_s);
    for (int i = 0; i < s->ndev; i++) {
        nvml_dev *d = &s->dev[i];
        if (d->m.claimed && !d->m.lost) update_device(s, d, now_s);
        energy_j[i] = d->m.energy_j;
    }
    /* Lost devices keep their energy; the source as a whole keeps working. */
    return 0;
}

/* The tracker asks once, at open: a polled GPU not yet claimed (devices_by_pid)
 * needs 10 Hz reads as soon as it is, so it counts already. */
static double max_read_interval_(void *state) {
    nvml_state *s = state;
    int polled = 0;
    for (int i = 0; i < s->ndev; i++)
        if (!s->dev[i].m.lost && !s->dev[i].m.has_counter) polled = 1;
    return ct__gpu_read_interval(polled, pending_pid_devices(s), PID_CHECK_INTERVAL_S);
}

static int device_count_(void *state) { return ((nvml_state *)state)->ndev; }

static void describe_(void *state, int index, ct_device_desc *out) {
    nvml_state *s = state;
    memset(out, 0, sizeof *out);
    if (index < 0 || index >= s->ndev) return;
    const nvml_dev *d = &s->dev[index];
    out->component = CT_COMPONENT_GPU;
    ct__strlcpy(out->name, d->name, sizeof out->name);
    ct__strlcpy(out->uuid, d->uuid, sizeof out->uuid);
    ct__strlcpy(out->method, d->m.has_counter ? "counter" : "power-polling", sizeof out->method);
    ct__strlcpy(out->source, "nvml", sizeof out->source);
    out->estimated = 0;
    out->lost = d->m.lost;
}

static void unload(nvml_state *s, int initialized) {
    /* nvmlShutdown only after a successful init: NVML counts inits, and an unmatched
     * shutdown would end another user's session in this process (e.g. a framework's). */
    if (initialized && s->api.shutdown) s->api.shutdown();
    if (s->api.lib) dlclose(s->api.lib);
    s->api.lib = NULL;
}

static void free_state(nvml_state *s) {
    if (!s) return;
    free(s->dev);
    free(s->procbuf);
    free(s);
}

static void close_(void *state) {
    nvml_state *s = state;
    if (!s) return;
    unload(s, 1);
    free_state(s);
}

/* MIG device UUIDs on a GPU (for CUDA_VISIBLE_DEVICES "MIG-..." entries). */
static int list_mig_uuids(const nvml_api *a, nvmlDevice_t h, char (**uuids)[NVML_UUID_LEN]) {
    *uuids = NULL;
    unsigned int max = 0;
    if (!a->get_max_mig || !a->get_mig_handle || !a->get_uuid) return 0;
    if (a->get_max_mig(h, &max) != NVML_SUCCESS || max == 0 || max > 64) return 0;
    char(*u)[NVML_UUID_LEN] = calloc(max, sizeof *u);
    if (!u) return 0;
    int n = 0;
    for (unsigned int i = 0; i < max; i++) {
        nvmlDevice_t m;
        if (a->get_mig_handle(h, i, &m) != NVML_SUCCESS) continue; /* NOT_FOUND: empty slot */
        if (a->get_uuid(m, u[n], NVML_UUID_LEN) == NVML_SUCCESS) {
            u[n][NVML_UUID_LEN - 1] = '\0';
            n++;
        }
    }
    *uuids = u;
    return n;
}

typedef struct probe_dev {
    nvml_dev d;
    char (*mig_uuids)[NVML_UUID_LEN];
    const char **mig_ptrs;
    int mig_count;
    int usable; /* handle obtained */
} probe_dev;

static int open_(const ct__source_ctx *ctx, void **state, char *why, size_t whylen) {
    *state = NULL;
    const char *cvd = getenv("CUDA_VISIBLE_DEVICES"); /* raw: set-but-empty means "no GPU" */
    if (cvd && strspn(cvd, " \t") == strlen(cvd)) {
        ct__strlcpy(why, "CUDA_VISIBLE_DEVICES is set and empty: no GPU is visible to this process", whylen);
        return CT_ENOSOURCE;
    }
    nvml_state *s = calloc(1, sizeof *s);
    if (!s) return CT_ENOMEM;
    if (ctx) s->ctx = *ctx;
    ct__gpu_claims_init(&s->claims, ctx, PID_CHECK_INTERVAL_S);

    const char *path = ct__env(CT__ENV_NVML_LIBRARY);
    if (!path) path = "libnvidia-ml.so.1";
    dlerror();
    s->api.lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!s->api.lib) {
        const char *e = dlerror(); /* copied at once: the next dl call reuses it */
        snprintf(why, whylen,
                 "NVIDIA GPU: cannot load NVML (%s): %s; is the NVIDIA driver installed? (CT_NVML_LIBRARY sets the "
                 "library's path)",
                 path, e ? e : "unknown error");
        free_state(s);
        return CT_ENOSOURCE;
    }
    const char *missing = resolve(&s->api);
    if (missing) {
        snprintf(why, whylen, "NVIDIA GPU: %s has no %s (not NVML, or a driver too old)", path, missing);
        unload(s, 0);
        free_state(s);
        return CT_ENOSOURCE;
    }
    nvmlReturn_t r = s->api.init();
    if (r != NVML_SUCCESS) {
        snprintf(why, whylen, "NVIDIA GPU: NVML could not start: %s (%s returned %d)", err_text(&s->api, r),
                 s->api.init_name, r);
        unload(s, 0);
        free_state(s);
        return CT_ENOSOURCE;
    }
    unsigned int count = 0;
    r = s->api.get_count(&count);
    if (r != NVML_SUCCESS || count == 0 || count > 1024) {
        if (r != NVML_SUCCESS)
            snprintf(why, whylen, "NVIDIA GPU: NVML cannot count the GPUs: %s", err_text(&s->api, r));
        else snprintf(why, whylen, "NVIDIA GPU: NVML finds no GPU");
        unload(s, 1);
        free_state(s);
        return CT_ENOSOURCE;
    }

    /* Enumerate every GPU NVML sees (CUDA_VISIBLE_DEVICES indexes into all of them). */
    probe_dev *pd = calloc(count, sizeof *pd);
    ct_gpu_ident *ids = calloc(count, sizeof *ids);
    int *sel = calloc(count, sizeof *sel);
    s->dev = calloc(count, sizeof *s->dev);
    s->proccap = 32;
    s->procbuf = calloc(s->proccap, s->api.proc_size);
    if (!pd || !ids || !sel || !s->dev || !s->procbuf) {
        free(pd);
        free(ids);
        free(sel);
        unload(s, 1);
        free_state(s);
        return CT_ENOMEM;
    }
    char msg[CT__MSG_LEN];
    int distinct_names = 0;
    for (unsigned int i = 0; i < count; i++) {
        nvml_dev *d = &pd[i].d;
        d->index = i;
        d->fail_since = -1;
        snprintf(d->name, sizeof d->name, "NVIDIA GPU %u", i);
        r = s->api.get_handle(i, &d->handle);
        if (r != NVML_SUCCESS) {
            snprintf(msg, sizeof msg, "GPU %u cannot be opened through NVML (%s); it is not measured", i,
                     err_text(&s->api, r));
            notice(s, 1, msg);
            ids[i].uuid = "";
            continue;
        }
        pd[i].usable = 1;
        if (s->api.get_name && s->api.get_name(d->handle, d->name, sizeof d->name) != NVML_SUCCESS)
            snprintf(d->name, sizeof d->name, "NVIDIA GPU %u", i);
        d->name[sizeof d->name - 1] = '\0';
        if (!s->api.get_uuid || s->api.get_uuid(d->handle, d->uuid, sizeof d->uuid) != NVML_SUCCESS) d->uuid[0] = 0;
        d->uuid[sizeof d->uuid - 1] = '\0';
        unsigned int cur = 0, pend = 0;
        if (s->api.get_mig_mode && s->api.get_mig_mode(d->handle, &cur, &pend) == NVML_SUCCESS) d->mig = cur == 1;
        if (d->mig) {
            pd[i].mig_count = list_mig_uuids(&s->api, d->handle, &pd[i].mig_uuids);
            pd[i].mig_ptrs = calloc(pd[i].mig_count ? (size_t)pd[i].mig_count : 1, sizeof(char *));
            for (int m = 0; pd[i].mig_ptrs && m < pd[i].mig_count; m++) pd[i].mig_ptrs[m] = pd[i].mig_uuids[m];
            if (!pd[i].mig_ptrs) pd[i].mig_count = 0;
        }
        ids[i].uuid = d->uuid;
        ids[i].mig_uuids = pd[i].mig_ptrs;
        ids[i].mig_count = pd[i].mig_count;
        if (i > 0 && pd[0].usable && strcmp(d->name, pd[0].d.name) != 0) distinct_names = 1;
    }

    int mig_named = 0;
    int nsel = ct__gpu_select(cvd, ids, (int)count, sel, &mig_named, msg, sizeof msg);
    if (msg[0]) notice(s, 1, msg);
    if (cvd && distinct_names && strspn(cvd, " 0123456789,") == strlen(cvd)) {
        const char *order = getenv("CUDA_DEVICE_ORDER");
        if (!order || strcmp(order, "PCI_BUS_ID") != 0)
            notice(s, 1,
                   "CUDA_VISIBLE_DEVICES holds indices and this node has GPUs of different models: CUDA numbers "
                   "them fastest first, NVML (used here) in PCI bus order; set CUDA_DEVICE_ORDER=PCI_BUS_ID so "
                   "both agree");
    }

    char reasons[CT__MSG_LEN] = "";
    double now = ct__monotonic_s();
    for (int k = 0; k < nsel; k++) {
        probe_dev *p = &pd[sel[k]];
        nvml_dev *d = &p->d;
        if (!p->usable) continue;
        unsigned long long mj;
        unsigned int mw;
        nvmlReturn_t re = s->api.get_energy ? s->api.get_energy(d->handle, &mj) : NVML_ERROR_NOT_SUPPORTED;
        nvmlReturn_t rp = NVML_ERROR_NOT_SUPPORTED;
        if (re == NVML_SUCCESS) {
            d->m.has_counter = 1;
        } else {
            rp = s->api.get_power ? s->api.get_power(d->handle, &mw) : NVML_ERROR_NOT_SUPPORTED;
            if (rp != NVML_SUCCESS) {
                snprintf(msg, sizeof msg, "GPU %u (%s) gives neither an energy counter nor power (NVML: %s)", d->index,
                         d->name, err_text(&s->api, rp));
                notice(s, 1, msg);
                ct__strlcpy(reasons, msg, sizeof reasons);
                continue;
            }
        }
        if (d->mig) {
            snprintf(msg, sizeof msg,
                     "GPU %u (%s) has MIG enabled: NVML gives no power or energy per MIG slice, so the whole "
                     "GPU's energy is counted (every slice, whoever uses it)",
                     d->index, d->name);
            notice(s, 1, msg);
        }
        s->dev[s->ndev++] = *d;
    }
    (void)mig_named;

    if (s->claims.by_pid) {
        s->claims.next_s = now + PID_CHECK_INTERVAL_S;
        check_processes(s, now);
        if (pending_pid_devices(s) && s->ndev > 0) {
            int claimed = 0;
            for (int i = 0; i < s->ndev; i++) claimed += s->dev[i].m.claimed;
            if (!claimed)
                notice(s, 0,
                       "devices_by_pid: no GPU runs a process of this process tree yet; each GPU is measured "
                       "from when one does (in a container NVML sees processes only with the host's PID "
                       "namespace, e.g. --pid=host)");
        }
    } else {
        for (int i = 0; i < s->ndev; i++) {
            nvml_dev *d = &s->dev[i];
            r = baseline(s, d, now);
            if (is_lost_code(r)) mark_lost(s, d, r);
            d->m.claimed = 1;
        }
    }

    for (unsigned int i = 0; i < count; i++) {
        free(pd[i].mig_uuids);
        free(pd[i].mig_ptrs);
    }
    free(pd);
    free(ids);
    free(sel);

    if (s->ndev == 0) {
        if (reasons[0]) snprintf(why, whylen, "NVIDIA GPU: no GPU can be measured: %s", reasons);
        else if (cvd)
            snprintf(why, whylen, "NVIDIA GPU: CUDA_VISIBLE_DEVICES=\"%s\" selects none of the %u GPU%s", cvd, count,
                     count == 1 ? "" : "s");
        else snprintf(why, whylen, "NVIDIA GPU: no GPU can be opened through NVML");
        unload(s, 1);
        free_state(s);
        return CT_ENOSOURCE;
    }
    *state = s;
    return 0;
}

const ct__source_ops ct__source_nvml = {"nvml", CT_COMPONENT_GPU,   open_, device_count_, describe_,
                                        read_,  max_read_interval_, close_};
