/* source.h - energy sources behind ct__source_ops (internal). */
#ifndef CT_SOURCE_H
#define CT_SOURCE_H

#include "base/base.h"

typedef struct ct__source_ops {
    const char *name; /* "rapl", "tdp", "sim-cpu", "sim-gpu", "nvml", "amdgpu" */
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

/* ------------------------------------------------------------------ */
/* The table of sources (registry.c)                                   */
/* ------------------------------------------------------------------ */
/* One row per source: which component it serves and how it combines with the
 * others of that component. Rows are tried in table order. */
typedef struct ct_source_row {
    const ct__source_ops *ops;
    ct_component component;
    /* 1: once this row opens, the later rows of its component are not tried
     * (RAPL, else the TDP estimate: one CPU source). 0: every row of the
     * component that opens is added (NVIDIA and AMD GPUs side by side). */
    int exclusive;
    /* 1: a simulated source, used only (and alone) when the options ask for
     * a simulation of that component (sim_cpu / sim_gpu). */
    int simulated;
} ct_source_row;

extern const ct_source_row ct__sources[];
extern const int ct__source_count;

/* What the owner of the sources does with each row it is handed. */
typedef struct ct_source_opener {
    /* Opens ops and keeps it: 0, CT_ENOMEM (stops everything) or another
     * code with a reason in why. */
    int (*open)(void *user, const ct__source_ops *ops, char *why, size_t whylen);
    /* A row that did not open, with its reason (for a notice). May be NULL. */
    void (*skipped)(void *user, const ct_source_row *row, const char *why);
    void *user;
} ct_source_opener;

/* Opens the sources of component c in table order: the simulated rows when
 * simulated is set, else the others. Returns 0 or CT_ENOMEM; *opened gets the
 * number of sources kept, and reasons the "; "-joined reasons of the rows
 * that did not open ("" when none failed). */
int ct__sources_open(ct_component c, int simulated, const ct_source_opener *op, int *opened, char *reasons, size_t len);

/* CPU TDP in W for a /proc/cpuinfo model name; 0 or CT_ENODATA. matched gets the table's name. */
int ct__cpu_tdp_lookup(const char *model, double *tdp_w, char *matched, size_t mlen);
extern const char ct__data_cpu_tdp_csv[];

#endif /* CT_SOURCE_H */
