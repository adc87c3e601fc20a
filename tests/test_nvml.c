/*
 * test_nvml.c - the NVML source against the fake libnvidia-ml (tests/fake_nvml),
 * with power traces whose energy is known exactly (issue 3).
 *
 * Most tests run the fake on a virtual clock: the test sets the fake's "now"
 * and passes the same time to read(), so 10 s of a trace take milliseconds.
 * One test uses the real clock.
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
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "sources/source.h"
#include "test_support.h"

#ifndef FAKE_NVML_PATH
#error "FAKE_NVML_PATH must be defined by the build"
#endif

static char *g_dir;
static void *g_fake; /* our own reference to the fake, for its test hooks */
static void (*fake_set_time)(double);
static int (*fake_calls)(const char *);
static int (*fake_refcount)(void);
static ct_config g_cfg;

#define MAX_NOTES 32
static char g_notes[MAX_NOTES][CT__MSG_LEN];
static int g_note_level[MAX_NOTES];
static int g_nnotes;

static void collect(void *user, int level, const char *msg) {
    (void)user;
    if (g_nnotes < MAX_NOTES) {
        ct__strlcpy(g_notes[g_nnotes], msg, CT__MSG_LEN);
        g_note_level[g_nnotes] = level;
    }
    g_nnotes++;
}

/* Number of notices containing needle (at level, or any level when level < 0). */
static int notes_with(const char *needle, int level) {
    int n = 0;
    for (int i = 0; i < g_nnotes && i < MAX_NOTES; i++)
        if (strstr(g_notes[i], needle) && (level < 0 || g_note_level[i] == level)) n++;
    return n;
}

static void load_fake(const char *path) {
    g_fake = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!g_fake) fail_msg("cannot load the fake NVML %s: %s", path, dlerror());
    fake_set_time = (void (*)(double))dlsym(g_fake, "fake_nvml_set_time");
    fake_calls = (int (*)(const char *))dlsym(g_fake, "fake_nvml_calls");
    fake_refcount = (int (*)(void))dlsym(g_fake, "fake_nvml_refcount");
    assert_non_null(fake_set_time);
    assert_non_null(fake_calls);
    assert_non_null(fake_refcount);
}

static int setup(void **st) {
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

static int teardown(void **st) {
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

static void scenario(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void scenario(const char *fmt, ...) {
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

static int open_src(void **state, char *why) {
    ct__source_ctx ctx = {&g_cfg, collect, NULL};
    why[0] = '\0';
    *state = NULL;
    return ct__source_nvml.open(&ctx, state, why, CT__MSG_LEN);
}

/* ---- exact energy of a trace, computed here independently of the fake ---- */
typedef struct trace {
    int linear, n;
    double t[16], p[16];
} trace;

static double power_of(const trace *tr, double t) {
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
static double truth(const trace *tr, double a, double b) {
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

static void trace_line(const trace *tr, char *buf, size_t len) {
    size_t o = (size_t)snprintf(buf, len, "%s", tr->linear ? "linear" : "step");
    for (int i = 0; i < tr->n && o < len; i++) o += (size_t)snprintf(buf + o, len - o, " %g %g", tr->t[i], tr->p[i]);
}

/* Power changing every 1-2 s (steps) and a ramped one (lines). */
static const trace STEPS = {0, 7, {0, 1.53, 2.71, 4.12, 5.37, 6.98, 8.21}, {80, 320, 150, 400, 90, 250, 120}};
static const trace RAMPS = {1, 6, {0, 1.9, 3.1, 4.6, 6.7, 8.3}, {60, 200, 70, 300, 100, 180}};

#define UUID_A "GPU-a0a0a0a0-1111-2222-3333-444444444444"
#define UUID_B "GPU-b1b1b1b1-1111-2222-3333-444444444444"
#define UUID_C "GPU-c2c2c2c2-1111-2222-3333-444444444444"

/* Three GPUs on the virtual clock: A counter + steps, B polled + steps, C polled + ramps. */
static double three_gpus(const char *extra_a, const char *extra_b, const char *extra_c) {
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
static void run_reads(void *s, double t0, double from, double to, double *e) {
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

static void check_rel(const char *what, double got, double want, double tol) {
    double err = fabs(got - want) / want;
    if (err > tol) fail_msg("%s: %.3f J vs true %.3f J (%.3f %% > %.2f %%)", what, got, want, err * 100, tol * 100);
}

static void test_energy_vs_truth(void **st) {
    (void)st;
    double t0 = three_gpus("", "", "");
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 3);

    ct_device_desc d;
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.name, "NVIDIA A100-SXM4-40GB");
    assert_string_equal(d.uuid, UUID_A);
    assert_string_equal(d.method, "counter");
    assert_string_equal(d.source, "nvml");
    assert_int_equal(d.component, CT_COMPONENT_GPU);
    assert_int_equal(d.estimated, 0);
    assert_int_equal(d.lost, 0);
    ct__source_nvml.describe(s, 1, &d);
    assert_string_equal(d.name, "Tesla P100-PCIE-16GB");
    assert_string_equal(d.method, "power-polling");
    ct__source_nvml.describe(s, 2, &d);
    assert_string_equal(d.uuid, UUID_C);
    assert_string_equal(d.method, "power-polling");
    assert_true(ct__source_nvml.max_read_interval(s) <= 0.1);

    /* "Epochs" [1.013, 5.013] and [5.013, 9.513]: difference of cumulative readings. */
    double e1[3], e2[3], e3[3];
    run_reads(s, t0, 0.1, 1.013, e1);
    run_reads(s, t0, 1.113, 5.013, e2);
    run_reads(s, t0, 5.113, 9.513, e3);
    check_rel("counter, epoch 1", e2[0] - e1[0], truth(&STEPS, 1.013, 5.013), 0.005);
    check_rel("counter, epoch 2", e3[0] - e2[0], truth(&STEPS, 5.013, 9.513), 0.005);
    check_rel("counter, since open", e3[0], truth(&STEPS, 0, 9.513), 0.005);
    check_rel("polling steps, epoch 1", e2[1] - e1[1], truth(&STEPS, 1.013, 5.013), 0.03);
    check_rel("polling steps, epoch 2", e3[1] - e2[1], truth(&STEPS, 5.013, 9.513), 0.03);
    check_rel("polling ramps, epoch 1", e2[2] - e1[2], truth(&RAMPS, 1.013, 5.013), 0.03);
    check_rel("polling ramps, epoch 2", e3[2] - e2[2], truth(&RAMPS, 5.013, 9.513), 0.03);
    /* The counter is exact to its mJ resolution. */
    assert_float_equal(e3[0], truth(&STEPS, 0, 9.513), 0.002);

    /* Versioned entry points were used. */
    assert_true(fake_calls("nvmlInit_v2") >= 1);
    assert_int_equal(fake_calls("nvmlInit"), 0);
    assert_true(fake_calls("nvmlDeviceGetCount_v2") >= 1);
    assert_int_equal(fake_calls("nvmlDeviceGetHandleByIndex"), 0);
    int shutdowns = fake_calls("nvmlShutdown");
    ct__source_nvml.close(s);
    assert_int_equal(fake_calls("nvmlShutdown"), shutdowns + 1);
    assert_int_equal(g_nnotes, 0);
}

/* A counter that moves only every 50 ms, as on real GPUs: still within 0.5 % on a 4 s window. */
static void test_counter_granularity(void **st) {
    (void)st;
    double t0 = three_gpus("counter_step_ms 50", "", "");
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    double e1[3], e2[3];
    run_reads(s, t0, 0.1, 2.0, e1);
    run_reads(s, t0, 2.1, 6.0, e2);
    check_rel("counter updated every 50 ms", e2[0] - e1[0], truth(&STEPS, 2.0, 6.0), 0.005);
    ct__source_nvml.close(s);
}

static void test_old_driver(void **st) {
    (void)st;
    /* An old driver: no _v2 names, no energy counter: every GPU is polled. */
    dlclose(g_fake);
    load_fake(FAKE_NVML_OLD_PATH);
    setenv("CT_NVML_LIBRARY", FAKE_NVML_OLD_PATH, 1);
    double t0 = three_gpus("", "", "");
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 3);
    ct_device_desc d;
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.method, "power-polling");
    double e1[3], e2[3];
    run_reads(s, t0, 0.1, 1.013, e1);
    run_reads(s, t0, 1.113, 6.013, e2);
    check_rel("old driver, polled", e2[0] - e1[0], truth(&STEPS, 1.013, 6.013), 0.03);
    assert_true(fake_calls("nvmlInit") >= 1);
    assert_true(fake_calls("nvmlDeviceGetHandleByIndex") >= 3);
    ct__source_nvml.close(s);
}

static void test_device_lost(void **st) {
    (void)st;
    /* A: GPU_IS_LOST from t = 3.45; C: RESET_REQUIRED from t = 6.05. B goes on. */
    double t0 = three_gpus("lost_after 3.45", "", "lost_after 6.05 16");
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    double e1[3], e2[3], e3[3];
    run_reads(s, t0, 0.1, 3.4, e1); /* last good read of A at 3.4 */
    run_reads(s, t0, 3.5, 6.0, e2); /* C's last good read at 6.0 */
    run_reads(s, t0, 6.1, 9.0, e3);
    check_rel("lost counter GPU keeps its energy", e3[0], truth(&STEPS, 0, 3.4), 0.005);
    assert_float_equal(e2[0], e1[0], 1e-9);
    assert_float_equal(e3[2], e2[2], 1e-9);
    check_rel("the other GPU goes on", e3[1], truth(&STEPS, 0, 9.0), 0.03);
    ct_device_desc d;
    ct__source_nvml.describe(s, 0, &d);
    assert_int_equal(d.lost, 1);
    ct__source_nvml.describe(s, 1, &d);
    assert_int_equal(d.lost, 0);
    ct__source_nvml.describe(s, 2, &d);
    assert_int_equal(d.lost, 1);
    /* One warning per lost GPU, with NVML's own words. */
    assert_int_equal(
        notes_with("GPU 0 (NVIDIA A100-SXM4-40GB, " UUID_A ") is no longer readable (NVML: GPU is lost)", 1), 1);
    assert_int_equal(notes_with("GPU 2 (Tesla T4", 1), 1);
    assert_int_equal(notes_with("GPU requires restart", 1), 1);
    assert_int_equal(g_nnotes, 2);
    /* Only polled B is left: still polled at 10 Hz. */
    assert_true(ct__source_nvml.max_read_interval(s) <= 0.1);
    ct__source_nvml.close(s);
}

static void test_not_supported_is_data(void **st) {
    (void)st;
    /* NOT_SUPPORTED for a while on A (counter) and B (polled, at constant power). */
    double t0 = three_gpus("nsup 2.0 3.0", "nsup 3.0 3.9", "");
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    double e1[3], e2[3], e3[3];
    run_reads(s, t0, 0.1, 1.9, e1);
    run_reads(s, t0, 2.0, 2.9, e2);
    assert_float_equal(e2[0], e1[0], 1e-9); /* no new data, nothing lost */
    run_reads(s, t0, 3.0, 9.0, e3);
    check_rel("counter catches up", e3[0], truth(&STEPS, 0, 9.0), 0.005);
    check_rel("polling across the gap", e3[1] - e1[1], truth(&STEPS, 1.9, 9.0), 0.03);
    ct_device_desc d;
    for (int i = 0; i < 3; i++) {
        ct__source_nvml.describe(s, i, &d);
        assert_int_equal(d.lost, 0);
    }
    assert_int_equal(g_nnotes, 0);
    ct__source_nvml.close(s);
}

/* A counter unreadable for a long time: one warning, and the energy is caught up when it returns. */
static void test_long_failure_warned_once(void **st) {
    (void)st;
    double t0 = three_gpus("nsup 1.0 13.0", "nsup 2.0 14.0", "");
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    double e[3];
    run_reads(s, t0, 0.1, 10.9, e);
    assert_int_equal(g_nnotes, 0); /* 9.9 s so far */
    run_reads(s, t0, 11.0, 20.0, e);
    assert_int_equal(notes_with("GPU 0 (NVIDIA A100-SXM4-40GB): the energy counter has not been readable for 10 s "
                                "(NVML: Not Supported); the counter is cumulative",
                                1),
                     1);
    assert_int_equal(notes_with("GPU 1 (Tesla P100-PCIE-16GB): power has not been readable", 1), 1);
    assert_int_equal(g_nnotes, 2);
    check_rel("counter caught up", e[0], truth(&STEPS, 0, 20.0), 0.005);
    ct_device_desc d;
    ct__source_nvml.describe(s, 0, &d);
    assert_int_equal(d.lost, 0);
    ct__source_nvml.close(s);
}

/* The real clock: 3 s of power ramping up and down every second, polled at 10 Hz. */
static void test_real_clock_polling(void **st) {
    (void)st;
    static const trace tr = {1, 4, {0, 0.97, 1.94, 2.61}, {100, 300, 150, 250}};
    char line[256];
    trace_line(&tr, line, sizeof line);
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\ndevice " UUID_B " Tesla V100\ncounter 0\n%s\n", t0, line);
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    double e[1], start = -1, e_start = 0, now = 0;
    for (int k = 0; k < 32; k++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        now = ct__monotonic_s();
        assert_int_equal(ct__source_nvml.read(s, now, e), 0);
        if (start < 0) {
            start = now;
            e_start = e[0];
        }
    }
    check_rel("real-clock polling", e[0] - e_start, truth(&tr, start - t0, now - t0), 0.03);
    ct__source_nvml.close(s);
}

static void test_cuda_visible_devices(void **st) {
    (void)st;
    three_gpus("", "", "");
    void *s;
    char why[CT__MSG_LEN];
    ct_device_desc d;
    setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1); /* the GPUs differ: CUDA's order made explicit */

    setenv("CUDA_VISIBLE_DEVICES", "2", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 1);
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.uuid, UUID_C);
    ct__source_nvml.close(s);

    setenv("CUDA_VISIBLE_DEVICES", "GPU-b1b1,0", 1); /* UUID prefix, then an index: CUDA's order */
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 2);
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.uuid, UUID_B);
    ct__source_nvml.describe(s, 1, &d);
    assert_string_equal(d.uuid, UUID_A);
    ct__source_nvml.close(s);
    assert_int_equal(g_nnotes, 0);

    /* An id that matches nothing: a warning, not all GPUs. */
    setenv("CUDA_VISIBLE_DEVICES", "1,7,0", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 1);
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.uuid, UUID_B);
    assert_int_equal(notes_with("CUDA_VISIBLE_DEVICES entry \"7\" is not a GPU index here (3 GPUs found by NVML)", 1),
                     1);
    ct__source_nvml.close(s);

    g_nnotes = 0;
    setenv("CUDA_VISIBLE_DEVICES", "GPU-ffff", 1);
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_null(s);
    assert_string_equal(why, "NVIDIA GPU: CUDA_VISIBLE_DEVICES=\"GPU-ffff\" selects none of the 3 GPUs");
    assert_int_equal(notes_with("\"GPU-ffff\" matches no GPU UUID", 1), 1);

    /* Empty: no GPU, and NVML is not even loaded. */
    int inits = fake_calls("nvmlInit_v2");
    setenv("CUDA_VISIBLE_DEVICES", "", 1);
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_string_equal(why, "CUDA_VISIBLE_DEVICES is set and empty: no GPU is visible to this process");
    assert_int_equal(fake_calls("nvmlInit_v2"), inits);
    unsetenv("CUDA_VISIBLE_DEVICES");
}

static void test_mixed_models_index_warning(void **st) {
    (void)st;
    three_gpus("", "", "");
    void *s;
    char why[CT__MSG_LEN];
    setenv("CUDA_VISIBLE_DEVICES", "0,1", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(notes_with("set CUDA_DEVICE_ORDER=PCI_BUS_ID", 1), 1);
    ct__source_nvml.close(s);
    g_nnotes = 0;
    setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(g_nnotes, 0);
    ct__source_nvml.close(s);
}

static void test_mig(void **st) {
    (void)st;
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\nclock virtual\n"
             "device " UUID_A " NVIDIA A100-SXM4-80GB\nmig 1\n"
             "mig_device MIG-11111111-aaaa-5555-8888-000000000001\n"
             "mig_device MIG-22222222-aaaa-5555-8888-000000000002\nstep 0 200\n"
             "device " UUID_B " NVIDIA A100-SXM4-80GB\nstep 0 100\n",
             t0);
    fake_set_time(t0);
    void *s;
    char why[CT__MSG_LEN];
    setenv("CUDA_VISIBLE_DEVICES", "MIG-22222222-aaaa-5555-8888-000000000002", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 1);
    ct_device_desc d;
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.uuid, UUID_A);
    assert_int_equal(notes_with("GPU 0 (NVIDIA A100-SXM4-80GB) has MIG enabled: NVML gives no power or energy per "
                                "MIG slice, so the whole GPU's energy is counted",
                                1),
                     1);
    double e[1];
    fake_set_time(t0 + 2);
    assert_int_equal(ct__source_nvml.read(s, t0 + 2, e), 0);
    assert_float_equal(e[0], 400.0, 0.002); /* whole GPU: 200 W x 2 s */
    ct__source_nvml.close(s);
    unsetenv("CUDA_VISIBLE_DEVICES");
}

/* A fake /proc: this process -> 3000001 -> 3000002; 3000003 is someone else's. */
static void fake_proc(void) {
    char proc[4200];
    snprintf(proc, sizeof proc, "%s/proc", g_dir);
    /* comm may hold blanks and ')' */
    ts_writef(g_dir, "proc/3000001/stat", "3000001 (python3) S %d 3000001 1 0 -1 4194304\n", (int)getpid());
    ts_write(g_dir, "proc/3000002/stat", "3000002 (pt_data (worker) 1) S 3000001 3000001 1 0 -1\n");
    ts_write(g_dir, "proc/3000003/stat", "3000003 (other job) R 1 3000003 1 0 -1\n");
    ts_write(g_dir, "proc/3000004/stat", "garbage");
    setenv("CT_PROC_ROOT", proc, 1);
}

static void test_devices_by_pid(void **st) {
    (void)st;
    fake_proc();
    /* GPU 0: only others' processes; GPU 1: our grandchild; GPU 2: our child from
     * t = 1.5; GPU 3: 60 others' processes then ours (the process buffer must grow). */
    char many[4096];
    size_t o = 0;
    for (int i = 0; i < 60; i++) o += (size_t)snprintf(many + o, sizeof many - o, "proc %d\n", 3100000 + i);
    snprintf(many + o, sizeof many - o, "proc 3000002\n");
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\nclock virtual\n"
             "device GPU-00000000-0000-0000-0000-000000000000 G0\nstep 0 100\nproc 3000003\nproc 3000004\n"
             "device GPU-11111111-0000-0000-0000-000000000000 G1\nstep 0 200\nproc 3000003\nproc 3000002\n"
             "device GPU-22222222-0000-0000-0000-000000000000 G2\nstep 0 300\nproc 3000001 1.5\n"
             "device GPU-33333333-0000-0000-0000-000000000000 G3\ncounter 0\nstep 0 50\n%s",
             t0, many);
    fake_set_time(t0);
    g_cfg.devices_by_pid = 1;
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 4);
    assert_true(ct__source_nvml.max_read_interval(s) <= 0.1); /* G3 is polled */
    double e[4];
    run_reads(s, t0, 0.1, 4.0, e);
    assert_float_equal(e[0], 0.0, 1e-12);        /* never ours */
    assert_float_equal(e[1], 200.0 * 4.0, 0.01); /* ours from the start */
    check_rel("polled, ours from the start", e[3], 50.0 * 4.0, 0.01);
    /* G2: ours from t = 1.5; checked once a second, so counted from the first check after it. */
    assert_true(e[2] >= 300.0 * (4.0 - 2.6) - 0.01 && e[2] <= 300.0 * (4.0 - 1.5) + 0.01);
    assert_int_equal(notes_with("GPU 2 (G2) runs a process of this process tree: measured from now on", 0), 1);
    assert_true(fake_calls("nvmlDeviceGetComputeRunningProcesses_v3") > 0);
    ct__source_nvml.close(s);
}

static void test_devices_by_pid_none_yet(void **st) {
    (void)st;
    fake_proc();
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\nclock virtual\ndevice " UUID_A " G0\nstep 0 100\nproc 3000003\n", t0);
    fake_set_time(t0);
    g_cfg.devices_by_pid = 1;
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(notes_with("no GPU runs a process of this process tree yet", 0), 1);
    assert_float_equal(ct__source_nvml.max_read_interval(s), 1.0, 1e-12);
    double e[1];
    run_reads(s, t0, 0.1, 2.0, e);
    assert_float_equal(e[0], 0.0, 1e-12);
    ct__source_nvml.close(s);
}

static void test_devices_by_pid_old_driver(void **st) {
    (void)st;
    dlclose(g_fake);
    load_fake(FAKE_NVML_OLD_PATH);
    setenv("CT_NVML_LIBRARY", FAKE_NVML_OLD_PATH, 1);
    fake_proc();
    double t0 = ct__monotonic_s();
    /* The old process struct has no instance ids: pids must still be read right. */
    scenario("origin %.9f\nclock virtual\n"
             "device " UUID_A " G0\nstep 0 100\nproc 3000003\nproc 3100001\n"
             "device " UUID_B " G1\nstep 0 100\nproc 3000003\nproc 3000002\n",
             t0);
    fake_set_time(t0);
    g_cfg.devices_by_pid = 1;
    void *s;
    char why[CT__MSG_LEN];
    /* G1 is claimed during the open, so its energy counts from then: 100 W
     * from a moment inside the open to t0 + 2 s (the open takes ~35 ms under
     * TSan on a loaded machine, which a flat 200 J missed by 1.8 %). */
    double before = ct__monotonic_s() - t0;
    assert_int_equal(open_src(&s, why), 0);
    double opened = ct__monotonic_s() - t0;
    double e[2];
    run_reads(s, t0, 0.1, 2.0, e);
    assert_float_equal(e[0], 0.0, 1e-12);
    if (e[1] < 100.0 * (2.0 - opened) * 0.99 || e[1] > 100.0 * (2.0 - before) * 1.01)
        fail_msg("ours, old driver: %.3f J, expected 100 W x (%.3f .. %.3f s)", e[1], 2.0 - opened, 2.0 - before);
    assert_true(fake_calls("nvmlDeviceGetComputeRunningProcesses") > 0);
    ct__source_nvml.close(s);
}

static void test_library_missing(void **st) {
    (void)st;
    void *s;
    char why[CT__MSG_LEN];
    setenv("CT_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_null(s);
    assert_non_null(strstr(why, "NVIDIA GPU: cannot load NVML (/nonexistent/libnvidia-ml.so.1): "));
    assert_non_null(strstr(why, "No such file or directory"));
    assert_non_null(strstr(why, "is the NVIDIA driver installed?"));
    /* A library that is not NVML. */
    setenv("CT_NVML_LIBRARY", "libm.so.6", 1);
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_string_equal(why, "NVIDIA GPU: libm.so.6 has no nvmlInit_v2 (or nvmlInit) (not NVML, or a driver too old)");
}

static void test_init_fails(void **st) {
    (void)st;
    scenario("init_error 9\ndevice " UUID_A " G0\n");
    void *s;
    char why[CT__MSG_LEN];
    int shutdowns = fake_calls("nvmlShutdown");
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_string_equal(why, "NVIDIA GPU: NVML could not start: Driver Not Loaded (nvmlInit_v2 returned 9)");
    /* No nvmlShutdown for an init that failed (it would end someone else's session). */
    assert_int_equal(fake_calls("nvmlShutdown"), shutdowns);

    /* Without our own reference, the library is really unloaded after the failure. */
    dlclose(g_fake);
    g_fake = NULL;
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_null(dlopen(FAKE_NVML_PATH, RTLD_NOW | RTLD_NOLOAD));
    /* And after a successful open/close too. */
    scenario("device " UUID_A " G0\n");
    assert_int_equal(open_src(&s, why), 0);
    ct__source_nvml.close(s);
    assert_null(dlopen(FAKE_NVML_PATH, RTLD_NOW | RTLD_NOLOAD));
}

static void test_count_and_device_errors(void **st) {
    (void)st;
    void *s;
    char why[CT__MSG_LEN];
    scenario("count_error 999\ndevice " UUID_A " G0\n");
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_string_equal(why, "NVIDIA GPU: NVML cannot count the GPUs: Unknown Error");
    scenario("# no device\n");
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_string_equal(why, "NVIDIA GPU: NVML finds no GPU");

    /* One GPU cannot be opened, one reads neither energy nor power, one is fine. */
    scenario("device " UUID_A " G0\nhandle_error 4\n"
             "device " UUID_B " G1\ncounter 0\npower 0\n"
             "device " UUID_C " G2\n");
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 1);
    ct_device_desc d;
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.name, "G2");
    assert_int_equal(notes_with("GPU 0 cannot be opened through NVML (Insufficient Permissions)", 1), 1);
    assert_int_equal(notes_with("GPU 1 (G1) gives neither an energy counter nor power (NVML: Not Supported)", 1), 1);
    ct__source_nvml.close(s);

    /* Nothing measurable at all: the reason is the error. */
    scenario("device " UUID_B " G1\ncounter 0\npower 0\n");
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_string_equal(why, "NVIDIA GPU: no GPU can be measured: GPU 0 (G1) gives neither an energy counter nor "
                             "power (NVML: Not Supported)");
    /* Lost already at open: every call on G0 fails, so it is left out with a warning; G1 is measured. */
    scenario("device " UUID_A " G0\nlost_after 0\ndevice " UUID_B " G1\n");
    g_nnotes = 0;
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 1);
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.name, "G1");
    assert_int_equal(
        notes_with("GPU 0 (NVIDIA GPU 0) gives neither an energy counter nor power (NVML: GPU is lost)", 1), 1);
    ct__source_nvml.close(s);
}


/* ---- through the whole tracker ---------------------------------------- */
static void tracker_cfg(ct_config *cfg, const char *components) {
    ct_config_init(cfg);
    cfg->epochs = 2;
    cfg->verbose = 0;
    cfg->components = components;
    cfg->carbon_intensity = 100;
    cfg->offline = 1;
    setenv("CT_DRM_ROOT", g_dir, 1); /* no AMD GPU either */
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Two GPUs (counter + polled) on the real clock, one epoch through the tracker:
 * the epoch's GPU energy is the sum of both devices' exact energies. */
static void test_tracker_epoch_energy(void **st) {
    (void)st;
    static const trace a = {1, 4, {0, 0.8, 1.6, 2.4}, {150, 350, 200, 300}};
    static const trace b = {1, 4, {0, 0.7, 1.5, 2.3}, {60, 120, 90, 140}};
    char la[256], lb[256];
    trace_line(&a, la, sizeof la);
    trace_line(&b, lb, sizeof lb);
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\ndevice " UUID_A " NVIDIA H100 80GB HBM3\n%s\ndevice " UUID_B " Tesla P100\ncounter 0\n%s\n",
             t0, la, lb);
    ct_config cfg;
    tracker_cfg(&cfg, "gpu");
    ct_tracker *t = NULL;
    int rc = ct_tracker_new(&cfg, &t);
    if (rc) fail_msg("ct_tracker_new: %s", ct_last_error_message());
    assert_int_equal(ct_device_count(t), 2);
    ct_device_desc d;
    assert_int_equal(ct_get_device(t, 0, &d), 0);
    assert_string_equal(d.name, "NVIDIA H100 80GB HBM3");
    assert_string_equal(d.uuid, UUID_A);
    assert_string_equal(d.method, "counter");
    assert_string_equal(d.source, "nvml");
    assert_int_equal(ct_get_device(t, 1, &d), 0);
    assert_string_equal(d.method, "power-polling");

    sleep_s(0.3);
    double s0 = ct__monotonic_s();
    assert_int_equal(ct_epoch_start(t), 0);
    double s1 = ct__monotonic_s();
    sleep_s(2.0);
    double e0 = ct__monotonic_s();
    assert_int_equal(ct_epoch_end(t), 0);
    double e1 = ct__monotonic_s();
    ct_epoch_info ep;
    assert_int_equal(ct_get_epoch(t, 0, &ep), 0);
    /* The epoch's window lies between [s1, e0] and [s0, e1]; both are within microseconds. */
    double lo = truth(&a, s1 - t0, e0 - t0) + truth(&b, s1 - t0, e0 - t0);
    double hi = truth(&a, s0 - t0, e1 - t0) + truth(&b, s0 - t0, e1 - t0);
    double polled_tol = 0.03 * truth(&b, s0 - t0, e1 - t0), counter_tol = 0.005 * truth(&a, s0 - t0, e1 - t0);
    double got = ep.energy_j[CT_COMPONENT_GPU];
    if (got < lo - polled_tol - counter_tol || got > hi + polled_tol + counter_tol)
        fail_msg("epoch GPU energy %.2f J, truth in [%.2f, %.2f] J", got, lo, hi);
    assert_float_equal(ep.energy_j[CT_COMPONENT_CPU], 0.0, 1e-12);
    ct_tracker_free(t);
}

static void test_tracker_nvml_missing(void **st) {
    (void)st;
    setenv("CT_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
    ct_config cfg;
    tracker_cfg(&cfg, "gpu");
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&cfg, &t), CT_ENOSOURCE);
    assert_null(t);
    const char *m = ct_last_error_message();
    if (!strstr(m, "component \"gpu\" was requested") ||
        !strstr(m, "cannot load NVML (/nonexistent/libnvidia-ml.so.1)"))
        fail_msg("unexpected message: %s", m);
    /* "all" goes on with the CPU. */
    tracker_cfg(&cfg, "all");
    cfg.sim_cpu = "Test CPU";
    cfg.sim_cpu_tdp = 100;
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    assert_int_equal(ct_device_count(t), 1);
    ct_device_desc d;
    assert_int_equal(ct_get_device(t, 0, &d), 0);
    assert_int_equal(d.component, CT_COMPONENT_CPU);
    ct_tracker_free(t);
}

static void test_tracker_cuda_visible_devices(void **st) {
    (void)st;
    three_gpus("", "", "");
    fake_set_time(ct__monotonic_s());
    ct_config cfg;
    tracker_cfg(&cfg, "gpu");
    ct_tracker *t = NULL;
    setenv("CUDA_VISIBLE_DEVICES", "GPU-c2c2", 1);
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    assert_int_equal(ct_device_count(t), 1);
    ct_device_desc d;
    assert_int_equal(ct_get_device(t, 0, &d), 0);
    assert_string_equal(d.uuid, UUID_C);
    ct_tracker_free(t);

    setenv("CUDA_VISIBLE_DEVICES", "", 1);
    assert_int_equal(ct_tracker_new(&cfg, &t), CT_ENOSOURCE);
    assert_non_null(strstr(ct_last_error_message(), "CUDA_VISIBLE_DEVICES is set and empty"));

    setenv("CUDA_VISIBLE_DEVICES", "5", 1);
    assert_int_equal(ct_tracker_new(&cfg, &t), CT_ENOSOURCE);
    assert_non_null(strstr(ct_last_error_message(), "CUDA_VISIBLE_DEVICES=\"5\" selects none of the 3 GPUs"));
    unsetenv("CUDA_VISIBLE_DEVICES");
}

/* Local rank 1 leaves the node's GPUs to local rank 0, unless each rank measures its own. */
static void test_tracker_ranks(void **st) {
    (void)st;
    fake_proc();
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\n"
             "device " UUID_A " G0\nproc 3000003\n"
             "device " UUID_B " G1\nproc 3000002\n",
             t0);
    setenv("LOCAL_RANK", "1", 1);
    setenv("RANK", "3", 1);
    ct_config cfg;
    tracker_cfg(&cfg, "all");
    cfg.sim_cpu = "Test CPU";
    cfg.sim_cpu_tdp = 100;
    ct_tracker *t = NULL;
    /* This rank measures nothing (its tracker still keeps epoch times). */
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    assert_int_equal(ct_device_count(t), 0);
    ct_tracker_free(t);
    int rc;
    cfg.devices_by_pid = 1;
    rc = ct_tracker_new(&cfg, &t);
    if (rc) fail_msg("ct_tracker_new: %s", ct_last_error_message());
    assert_int_equal(ct_device_count(t), 2); /* both listed; only G1 runs our process */
    assert_int_equal(ct_epoch_start(t), 0);
    sleep_s(0.5);
    assert_int_equal(ct_epoch_end(t), 0);
    ct_epoch_info ep;
    assert_int_equal(ct_get_epoch(t, 0, &ep), 0);
    /* G1 only: 100 W (the fake's default) over the epoch; G0 would double it. */
    double want = 100 * ep.duration_s;
    if (fabs(ep.energy_j[CT_COMPONENT_GPU] - want) > 0.01 * want)
        fail_msg("epoch GPU energy %.3f J, expected %.3f J (G1 only)", ep.energy_j[CT_COMPONENT_GPU], want);
    ct_tracker_free(t);
    unsetenv("LOCAL_RANK");
    unsetenv("RANK");
}


/* A GPU lost mid-epoch through the tracker: flagged lost, warned about in the
 * JSON Lines log, its energy so far kept, the other GPU still measured. */
static void test_tracker_device_lost_jsonl(void **st) {
    (void)st;
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\n"
             "device " UUID_A " NVIDIA A100-SXM4-40GB\nstep 0 200\n"
             "device " UUID_B " Tesla P100-PCIE-16GB\ncounter 0\nstep 0 100\nlost_after 0.8\n",
             t0);
    ct_config cfg;
    tracker_cfg(&cfg, "gpu");
    char logs[4200];
    snprintf(logs, sizeof logs, "%s/logs", g_dir);
    ts_mkdirs(g_dir, "logs");
    cfg.log_dir = logs;
    ct_tracker *t = NULL;
    int rc = ct_tracker_new(&cfg, &t);
    if (rc) fail_msg("ct_tracker_new: %s", ct_last_error_message());
    assert_int_equal(ct_epoch_start(t), 0);
    double s0 = ct__monotonic_s();
    sleep_s(1.5);
    assert_int_equal(ct_epoch_end(t), 0);
    double e1 = ct__monotonic_s();
    ct_device_desc d;
    assert_int_equal(ct_get_device(t, 0, &d), 0);
    assert_int_equal(d.lost, 0);
    assert_int_equal(ct_get_device(t, 1, &d), 0);
    assert_int_equal(d.lost, 1);
    ct_epoch_info ep;
    assert_int_equal(ct_get_epoch(t, 0, &ep), 0);
    /* A: 200 W for the whole epoch; B: 100 W until it was lost at 0.8 s (read at 10 Hz;
     * up to 300 ms of lateness allowed for a loaded machine). */
    double a_j = 200 * ep.duration_s, b_lo = 100 * (0.8 - 0.3 - (s0 - t0)), b_hi = 100 * (0.8 - (s0 - t0));
    double got = ep.energy_j[CT_COMPONENT_GPU];
    if (got < a_j * 0.995 + b_lo || got > a_j * 1.005 + b_hi + 1e-6 || e1 - s0 < ep.duration_s)
        fail_msg("epoch GPU energy %.2f J, expected %.2f + [%.2f, %.2f] J", got, a_j, b_lo, b_hi);
    ct_tracker_free(t);

    char *path = ts_find_suffix(logs, "_carbontracker.jsonl");
    assert_non_null(path);
    char *text = ts_read(path);
    assert_non_null(text);
    if (!strstr(text, "\"name\":\"NVIDIA A100-SXM4-40GB\"") || !strstr(text, "\"uuid\":\"" UUID_A "\"") ||
        !strstr(text, "\"method\":\"counter\"") || !strstr(text, "\"method\":\"power-polling\"") ||
        !strstr(text, "\"lost\":true") || !strstr(text, "is no longer readable (NVML: GPU is lost)"))
        fail_msg("JSON Lines log lacks the GPU devices, methods, lost flag or warning:\n%s", text);
    assert_int_equal(ts_count_lines_with(path, "is no longer readable"), 1); /* warned once */
    free(text);
    free(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_energy_vs_truth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_granularity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_supported_is_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_failure_warned_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_clock_polling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cuda_visible_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_models_index_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mig, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices_by_pid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices_by_pid_none_yet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices_by_pid_old_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_library_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_and_device_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_epoch_energy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_nvml_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_cuda_visible_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_ranks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_device_lost_jsonl, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
