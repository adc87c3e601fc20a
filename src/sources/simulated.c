/* Simulated CPU and GPU (the original's sim_cpu/sim_gpu options):
 * constant power = TDP (or watts) x utilisation, so energy = power x time exactly. */
#include "sources/source.h"

#include <stdlib.h>

typedef struct sim_state {
    ct_component component;
    char name[128];
    double power_w;
    double t0_s;
} sim_state;

static int sim_open(const ct__source_ctx *ctx, ct_component comp, void **state, char *why, size_t whylen) {
    const ct_config *c = ctx->cfg;
    const char *name = comp == CT_COMPONENT_CPU ? c->sim_cpu : c->sim_gpu;
    if (!name) {
        ct__strlcpy(why, "no simulated device configured", whylen);
        return CT_ENOSOURCE;
    }
    sim_state *s = calloc(1, sizeof *s);
    if (!s) return CT_ENOMEM;
    s->component = comp;
    ct__strlcpy(s->name, name, sizeof s->name);
    s->power_w = comp == CT_COMPONENT_CPU ? c->sim_cpu_tdp * c->sim_cpu_util : c->sim_gpu_watts * c->sim_gpu_util;
    s->t0_s = ct__monotonic_s();
    *state = s;
    return 0;
}

static int sim_cpu_open(const ct__source_ctx *ctx, void **state, char *why, size_t whylen) {
    return sim_open(ctx, CT_COMPONENT_CPU, state, why, whylen);
}
static int sim_gpu_open(const ct__source_ctx *ctx, void **state, char *why, size_t whylen) {
    return sim_open(ctx, CT_COMPONENT_GPU, state, why, whylen);
}
static int sim_count(void *state) {
    (void)state;
    return 1;
}
static void sim_describe(void *state, int index, ct_device_desc *out) {
    sim_state *s = state;
    (void)index;
    out->component = s->component;
    ct__strlcpy(out->name, s->name, sizeof out->name);
    out->uuid[0] = '\0';
    ct__strlcpy(out->method, "simulated", sizeof out->method);
    ct__strlcpy(out->source, "sim", sizeof out->source);
    out->estimated = 1;
    out->lost = 0;
}
static int sim_read(void *state, double now_s, double *energy_j) {
    sim_state *s = state;
    double dt = now_s - s->t0_s;
    energy_j[0] = dt > 0 ? s->power_w * dt : 0.0;
    return 0;
}
static double sim_interval(void *state) {
    (void)state;
    return 0.0;
}
static void sim_close(void *state) { free(state); }

const ct__source_ops ct__source_sim_cpu = {"sim-cpu",    CT_COMPONENT_CPU, sim_cpu_open, sim_count,
                                           sim_describe, sim_read,         sim_interval, sim_close};
const ct__source_ops ct__source_sim_gpu = {"sim-gpu",    CT_COMPONENT_GPU, sim_gpu_open, sim_count,
                                           sim_describe, sim_read,         sim_interval, sim_close};
