/*
 * gpu_common.h - what every GPU source shares (internal to sources/):
 *  - the meter: one device's energy from a cumulative counter (difference of
 *    readings, a restart of the driver counted from zero) or from polled
 *    power (trapezoid rule over the sample times);
 *  - the process tree under CT_PROC_ROOT (default /proc): is a pid this
 *    process or a descendant, and the list of them;
 *  - device claiming for devices_by_pid: a device is counted from the first
 *    check that finds this process tree on it, checks spaced by an interval;
 *  - the read interval a GPU source asks of the tracker;
 *  - CUDA_VISIBLE_DEVICES selection (gpu_select.h).
 * A new GPU source (docs/CONTRIBUTING.md) is its device discovery and reads
 * on top of these.
 */
#ifndef CT_GPU_COMMON_H
#define CT_GPU_COMMON_H

#include "sources/gpu_select.h"
#include "sources/source.h"

/* Polled power sources need reads this often (the tracker's thread obliges). */
#define CT__GPU_POLL_INTERVAL_S 0.1
/* Counters need no particular rate; the tracker still reads this often. */
#define CT__GPU_COUNTER_INTERVAL_S 60.0

typedef struct ct_gpu_meter {
    int has_counter;             /* 1: cumulative counter; 0: polled power */
    int claimed;                 /* counted (always, unless devices_by_pid and not yet used by this tree) */
    int lost;                    /* no longer readable: energy_j is kept */
    double energy_j;             /* cumulative since claimed */
    unsigned long long last_raw; /* last counter reading, in the source's units */
    int have_raw;
    double last_t, last_w; /* last power sample */
    int have_sample;
} ct_gpu_meter;

/* Sets the reference reading (the energy counts from here): a counter
 * value, or a power sample at now_s. */
void ct__gpu_meter_base_counter(ct_gpu_meter *m, unsigned long long raw);
void ct__gpu_meter_base_power(ct_gpu_meter *m, double now_s, double watts);
/* Adds a counter reading (j_per_unit: 1e-3 for mJ, 1e-6 for uJ). The counters
 * are 64-bit and do not wrap: a smaller value means the driver restarted, so
 * only what came after is added. */
void ct__gpu_meter_counter(ct_gpu_meter *m, unsigned long long raw, double j_per_unit);
/* Adds a power sample taken at now_s (trapezoid from the last sample). */
void ct__gpu_meter_power(ct_gpu_meter *m, double now_s, double watts);

/* The read interval a GPU source asks for: 0.1 s when a polled device counts
 * or waits to be claimed, the claim-check interval when devices wait, else 60 s. */
double ct__gpu_read_interval(int polled_alive, int waiting, double claim_check_s);

/* devices_by_pid bookkeeping. */
typedef struct ct_gpu_claims {
    int by_pid;          /* devices_by_pid is on */
    double interval_s;   /* between checks */
    double next_s;       /* monotonic time of the next check */
    char proc_root[512]; /* CT_PROC_ROOT or /proc */
} ct_gpu_claims;

/* Fills c from the options (ctx may be NULL) with the given check interval. */
void ct__gpu_claims_init(ct_gpu_claims *c, const ct__source_ctx *ctx, double interval_s);
/* 1 when a check is due now (something waits and the interval has passed);
 * the next check is then scheduled. */
int ct__gpu_claims_due(ct_gpu_claims *c, int waiting, double now_s);

/* Is pid this process or one of its descendants (parent links in
 * <proc_root>/<pid>/stat)? */
int ct__proc_in_tree(const char *proc_root, int pid);
/* This process and its descendants, malloc'd (*n set); NULL when out of memory. */
int *ct__proc_tree(const char *proc_root, int *n);

#endif /* CT_GPU_COMMON_H */
