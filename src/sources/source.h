/* source.h - energy sources behind ct__source_ops (internal). */
#ifndef CT_SOURCE_H
#define CT_SOURCE_H

#include "base/base.h"

typedef struct ct__source_ops {
    const char *name;        /* "rapl", "tdp", "sim-cpu", "sim-gpu", "nvml", "amdgpu" */
    ct_component component;
    /* Probe and open. 0 and *state set, or CT_ENOSOURCE/CT_E* with a reason
     * the user can read in why. Must not block for long or touch the network. */
    int (*open)(const ct__source_ctx *ctx, void **state, char *why, size_t whylen);
    int (*device_count)(void *state);
    void (*describe)(void *state, int index, ct_device_desc *out);
    /* Brings every device up to monotonic time now_s and writes its cumulative
     * energy since open, in J, to energy_j[0..device_count-1]. A device that
     * fails is marked lost (describe) and keeps its last value. Returns
     * non-zero only if the whole source has failed. Called with the tracker's
     * lock held; never concurrently for one state. */
    int (*read)(void *state, double now_s, double *energy_j);
    /* Longest time between reads that keeps the energy exact, s: 60 for
     * wrapping counters, 0.1 for polled power, 0 for no constraint. */
    double (*max_read_interval)(void *state);
    void (*close)(void *state);
} ct__source_ops;

extern const ct__source_ops ct__source_sim_cpu;
extern const ct__source_ops ct__source_rapl;
extern const ct__source_ops ct__source_tdp;
extern const ct__source_ops ct__source_sim_gpu;
extern const ct__source_ops ct__source_nvml;
extern const ct__source_ops ct__source_amdgpu;

/* CPU TDP in W for a /proc/cpuinfo model name; 0 or CT_ENODATA. matched gets the table's name. */
int ct__cpu_tdp_lookup(const char *model, double *tdp_w, char *matched, size_t mlen);
extern const char ct__data_cpu_tdp_csv[];

#endif /* CT_SOURCE_H */
