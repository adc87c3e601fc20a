/*
 * nvml_support.c - see nvml_support.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "test_support.h"
#include "nvml_support.h"

#ifndef FAKE_NVML_PATH
#error "FAKE_NVML_PATH must be defined by the build"
#endif

char *g_dir;
void *g_fake; /* our own reference to the fake, for its test hooks */
void (*fake_set_time)(double);
int (*fake_calls)(const char *);
int (*fake_refcount)(void);
ct_config g_cfg;

char g_notes[MAX_NOTES][CT__MSG_LEN];
int g_note_level[MAX_NOTES];
int g_nnotes;

void collect(void *user, int level, const char *msg) {
    (void)user;
    if (g_nnotes < MAX_NOTES) {
        ct__strlcpy(g_notes[g_nnotes], msg, CT__MSG_LEN);
        g_note_level[g_nnotes] = level;
    }
    g_nnotes++;
}

/* Number of notices containing needle (at level, or any level when level < 0). */
int notes_with(const char *needle, int level) {
    int n = 0;
    for (int i = 0; i < g_nnotes && i < MAX_NOTES; i++)
        if (strstr(g_notes[i], needle) && (level < 0 || g_note_level[i] == level)) n++;
    return n;
}

void load_fake(const char *path) {
    g_fake = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!g_fake) fail_msg("cannot load the fake NVML %s: %s", path, dlerror());
    fake_set_time = (void (*)(double))dlsym(g_fake, "fake_nvml_set_time");
    fake_calls = (int (*)(const char *))dlsym(g_fake, "fake_nvml_calls");
    fake_refcount = (int (*)(void))dlsym(g_fake, "fake_nvml_refcount");
    assert_non_null(fake_set_time);
    assert_non_null(fake_calls);
    assert_non_null(fake_refcount);
}

int setup(void **st) {
    (void)st;
    g_dir = ts_mkdtemp();
    g_nnotes = 0;
    ct_config_init(&g_cfg);
    unsetenv("CUDA_VISIBLE_DEVICES");
    unsetenv("CUDA_DEVICE_ORDER");
    unsetenv("CT_PROC_ROOT");
    setenv("CT_NVML_LIBRARY", FAKE_NVML_PATH, 1);
    load_fake(FAKE_NVML_PATH);
    return 0;
}

int teardown(void **st) {
    (void)st;
    /* Every open was closed: NVML sessions balanced. */
    if (g_fake) {
        /* A failed test leaves its source open: end its session so the next test starts clean. */
        int leaked = fake_refcount();
        int (*shutdown)(void) = (int (*)(void))dlsym(g_fake, "nvmlShutdown");
        while (fake_refcount() > 0) shutdown();
        assert_int_equal(leaked, 0);
        dlclose(g_fake);
        g_fake = NULL;
    }
    ts_rmtree(g_dir);
    free(g_dir);
    unsetenv("FAKE_NVML_SCENARIO");
    return 0;
}

void scenario(const char *fmt, ...) {
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ts_write(g_dir, "scenario", buf);
    char path[4200];
    snprintf(path, sizeof path, "%s/scenario", g_dir);
    setenv("FAKE_NVML_SCENARIO", path, 1);
}

int open_src(void **state, char *why) {
    ct__source_ctx ctx = {&g_cfg, collect, NULL};
    why[0] = '\0';
    *state = NULL;
    return ct__source_nvml.open(&ctx, state, why, CT__MSG_LEN);
}

/* ---- exact energy of a trace, computed here independently of the fake ---- */
double power_of(const trace *tr, double t) {
    if (t <= tr->t[0]) return tr->p[0];
    for (int i = 0; i + 1 < tr->n; i++) {
        if (t < tr->t[i + 1]) {
            if (!tr->linear) return tr->p[i];
            return tr->p[i] + (tr->p[i + 1] - tr->p[i]) * (t - tr->t[i]) / (tr->t[i + 1] - tr->t[i]);
        }
    }
    return tr->p[tr->n - 1];
}

/* Energy over [a, b] (s since the origin), J. Exact for steps and lines: the
 * breakpoints split [a, b] into pieces where power is constant or linear. */
double truth(const trace *tr, double a, double b) {
    double pts[40];
    int n = 0;
    pts[n++] = a;
    for (int i = 0; i < tr->n; i++)
        if (tr->t[i] > a && tr->t[i] < b) pts[n++] = tr->t[i];
    pts[n++] = b;
    double e = 0;
    for (int i = 0; i + 1 < n; i++) {
        double x0 = pts[i], x1 = pts[i + 1];
        if (tr->linear) {
            e += (x1 - x0) * 0.5 * (power_of(tr, x0) + power_of(tr, x1));
        } else {
            e += (x1 - x0) * power_of(tr, x0);
        }
    }
    return e;
}

void trace_line(const trace *tr, char *buf, size_t len) {
    size_t o = (size_t)snprintf(buf, len, "%s", tr->linear ? "linear" : "step");
    for (int i = 0; i < tr->n && o < len; i++) o += (size_t)snprintf(buf + o, len - o, " %g %g", tr->t[i], tr->p[i]);
}

/* Power changing every 1-2 s (steps) and a ramped one (lines). */
const trace STEPS = {0, 7, {0, 1.53, 2.71, 4.12, 5.37, 6.98, 8.21}, {80, 320, 150, 400, 90, 250, 120}};
const trace RAMPS = {1, 6, {0, 1.9, 3.1, 4.6, 6.7, 8.3}, {60, 200, 70, 300, 100, 180}};

/* Three GPUs on the virtual clock: A counter + steps, B polled + steps, C polled + ramps. */
double three_gpus(const char *extra_a, const char *extra_b, const char *extra_c) {
    char ls[512], lr[512];
    trace_line(&STEPS, ls, sizeof ls);
    trace_line(&RAMPS, lr, sizeof lr);
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\nclock virtual\n"
             "device " UUID_A " NVIDIA A100-SXM4-40GB\ncounter 1\n%s\n%s\n"
             "device " UUID_B " Tesla P100-PCIE-16GB\ncounter 0\n%s\n%s\n"
             "device " UUID_C " Tesla T4\ncounter 0\n%s\n%s\n",
             t0, ls, extra_a, ls, extra_b, lr, extra_c);
    fake_set_time(t0);
    return t0;
}

/* Reads at ~10 Hz, each up to 20 ms late, on the virtual clock, from t = from to t = to (s since origin). */
void run_reads(void *s, double t0, double from, double to, double *e) {
    unsigned int lcg = 12345;
    for (double t = from; t <= to + 1e-9; t += 0.1) {
        lcg = lcg * 1103515245u + 12345u;
        double jitter = ((lcg >> 16) % 2001) / 1000.0 * 0.01; /* 0..20 ms late */
        double tj = t + jitter;
        if (t + 0.1 > to + 1e-9) tj = to; /* end exactly at `to` */
        fake_set_time(t0 + tj);
        assert_int_equal(ct__source_nvml.read(s, t0 + tj, e), 0);
    }
}

void check_rel(const char *what, double got, double want, double tol) {
    double err = fabs(got - want) / want;
    if (err > tol) fail_msg("%s: %.3f J vs true %.3f J (%.3f %% > %.2f %%)", what, got, want, err * 100, tol * 100);
}
