/*
 * bench_gpu.c - GPU energy: accuracy per epoch on bursty power traces, and the
 * CPU cost of polling 8 GPUs at 10 Hz (issue 3). Figures go to bench/RESULTS.md
 * (section "GPU").
 *
 * Part 1 runs the real NVML source (src/sources/nvml.c) against the fake
 * libnvidia-ml on a virtual clock, so hours of trace take seconds. Per epoch it
 * compares with the exact integral of the trace:
 *   counter   nvmlDeviceGetTotalEnergyConsumption at the epoch's ends (the fake's
 *             counter moves only every 20 ms, like real ones, and in whole mJ)
 *   10 Hz     nvmlDeviceGetPowerUsage every 0.1 s (each read 0-5 ms late, as a
 *             woken thread is) and at the epoch's ends, trapezoid rule
 *   original  the original carbontracker: mean of instantaneous 1 Hz samples
 *             (phase random against the epoch) x epoch duration
 * Part 2 runs the source on the real clock with 8 polled GPUs at 10 Hz in a
 * thread and measures that thread's CPU time (CLOCK_THREAD_CPUTIME_ID), then the
 * same through a whole tracker (components "gpu"), measuring the process's CPU
 * time while the main thread sleeps.
 *
 * Usage: bench_gpu [epochs per case (default 200)] [seconds for part 2 (default 10)]
 */
#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "sources/source.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef FAKE_NVML_PATH
#error "FAKE_NVML_PATH must be defined by the build"
#endif

static unsigned long long rng_state = 88172645463325252ull;
static double urand(void) { /* xorshift64*, in [0, 1) */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static char g_scenario[512];

static void write_scenario(const char *text) {
    FILE *f = fopen(g_scenario, "w");
    if (!f) {
        perror(g_scenario);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    setenv("FAKE_NVML_SCENARIO", g_scenario, 1);
}

/* A step trace of `total` s into buf: kind 0 = a new level every 1-2 s (60-400 W),
 * kind 1 = bursty: 50-800 ms bursts at 300-400 W between 100-1500 ms lulls at 70-120 W. */
static size_t make_trace(int kind, double total, char *buf, size_t len) {
    size_t o = (size_t)snprintf(buf, len, "step");
    double t = 0;
    int burst = 0;
    while (t < total + 5 && o + 40 < len) {
        double p, dur;
        if (kind == 0) {
            p = 60 + 340 * urand();
            dur = 1 + urand();
        } else {
            burst = !burst;
            p = burst ? 300 + 100 * urand() : 70 + 50 * urand();
            dur = burst ? 0.05 + 0.75 * urand() : 0.1 + 1.4 * urand();
        }
        o += (size_t)snprintf(buf + o, len - o, " %.4f %.2f", t, p);
        t += dur;
    }
    o += (size_t)snprintf(buf + o, len - o, "\n");
    return o;
}

typedef struct fake_api {
    void *lib;
    void (*set_time)(double);
    double (*energy_j)(int, double);
    int (*init)(void);
    int (*shutdown)(void);
    int (*handle)(unsigned int, void **);
    int (*power)(void *, unsigned int *);
} fake_api;

static void load_fake(fake_api *f) {
    f->lib = dlopen(FAKE_NVML_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!f->lib) {
        fprintf(stderr, "cannot load %s: %s\n", FAKE_NVML_PATH, dlerror());
        exit(1);
    }
    f->set_time = (void (*)(double))dlsym(f->lib, "fake_nvml_set_time");
    f->energy_j = (double (*)(int, double))dlsym(f->lib, "fake_nvml_energy_j");
    f->init = (int (*)(void))dlsym(f->lib, "nvmlInit_v2");
    f->shutdown = (int (*)(void))dlsym(f->lib, "nvmlShutdown");
    f->handle = (int (*)(unsigned int, void **))dlsym(f->lib, "nvmlDeviceGetHandleByIndex_v2");
    f->power = (int (*)(void *, unsigned int *))dlsym(f->lib, "nvmlDeviceGetPowerUsage");
}

static void noop_notice(void *u, int l, const char *m) {
    (void)u;
    (void)l;
    fprintf(stderr, "notice: %s\n", m);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stats {
    double mean_abs, p95_abs, max_abs, mean_signed;
} stats;

static stats summarize(double *err, int n) {
    stats s = {0, 0, 0, 0};
    double *a = malloc((size_t)n * sizeof *a);
    for (int i = 0; i < n; i++) {
        a[i] = fabs(err[i]);
        s.mean_abs += a[i] / n;
        s.mean_signed += err[i] / n;
    }
    qsort(a, (size_t)n, sizeof *a, cmp_double);
    s.p95_abs = a[(int)(0.95 * (n - 1))];
    s.max_abs = a[n - 1];
    free(a);
    return s;
}

/* Part 1: one trace kind and epoch length, `epochs` epochs. */
static void accuracy_case(fake_api *f, int kind, double epoch_s, int epochs) {
    double total = epoch_s * epochs + 2;
    size_t cap = (size_t)(total * 40 + 4096);
    char *trace = malloc(cap), *sc = malloc(2 * cap + 1024); /* two copies of the trace */
    make_trace(kind, total, trace, cap);
    double t0 = ct__monotonic_s();
    snprintf(sc, 2 * cap + 1024,
             "origin %.9f\nclock virtual\n"
             "device GPU-00000000-0000-0000-0000-00000000c0de Counter GPU\ncounter 1\ncounter_step_ms 20\n%s"
             "device GPU-00000000-0000-0000-0000-00000000b011 Polled GPU\ncounter 0\n%s",
             t0, trace, trace);
    write_scenario(sc);
    f->set_time(t0);
    ct_config cfg;
    ct_config_init(&cfg);
    ct__source_ctx ctx = {&cfg, noop_notice, NULL};
    void *src;
    char why[CT__MSG_LEN];
    if (ct__source_nvml.open(&ctx, &src, why, sizeof why) != 0) {
        fprintf(stderr, "open: %s\n", why);
        exit(1);
    }
    f->init(); /* our own session, for the original method's samples */
    void *h1;
    f->handle(1, &h1);

    double *err_c = malloc((size_t)epochs * sizeof(double)), *err_p = malloc((size_t)epochs * sizeof(double)),
           *err_o = malloc((size_t)epochs * sizeof(double));
    double e_prev[2], e[2];
    double t = 0.5; /* first epoch starts here (s since origin) */
    f->set_time(t0 + t);
    ct__source_nvml.read(src, t0 + t, e_prev);
    double next_poll = t + 0.1;
    for (int k = 0; k < epochs; k++) {
        double start = t, end = t + epoch_s * (0.9 + 0.2 * urand()); /* epochs vary a little */
        /* 10 Hz polls, each a little late, then the boundary read. */
        while (next_poll < end) {
            double tp = next_poll + 0.005 * urand();
            if (tp >= end) break;
            f->set_time(t0 + tp);
            ct__source_nvml.read(src, t0 + tp, e);
            next_poll += 0.1;
        }
        f->set_time(t0 + end);
        ct__source_nvml.read(src, t0 + end, e);
        double truth = f->energy_j(0, t0 + end) - f->energy_j(0, t0 + start);
        err_c[k] = (e[0] - e_prev[0]) / truth - 1;
        err_p[k] = (e[1] - e_prev[1]) / truth - 1;
        /* The original: 1 Hz instantaneous samples during the epoch, mean x duration. */
        double sum = 0;
        int n = 0;
        for (double ts = start + urand(); ts < end; ts += 1.0) {
            unsigned int mw;
            f->set_time(t0 + ts);
            if (f->power(h1, &mw) == 0) {
                sum += mw / 1000.0;
                n++;
            }
        }
        double orig = n ? sum / n * (end - start) : 0;
        err_o[k] = orig / truth - 1;
        e_prev[0] = e[0];
        e_prev[1] = e[1];
        t = end;
    }
    f->shutdown();
    ct__source_nvml.close(src);
    stats sc_ = summarize(err_c, epochs), sp = summarize(err_p, epochs), so = summarize(err_o, epochs);
    const char *kname = kind == 0 ? "new level every 1-2 s" : "bursty (50-800 ms bursts)";
    printf("| %s | %.0f s | counter | %.3f %% | %.3f %% | %.3f %% |\n", kname, epoch_s, sc_.mean_abs * 100,
           sc_.p95_abs * 100, sc_.max_abs * 100);
    printf("| %s | %.0f s | 10 Hz trapezoid | %.3f %% | %.3f %% | %.3f %% |\n", kname, epoch_s, sp.mean_abs * 100,
           sp.p95_abs * 100, sp.max_abs * 100);
    printf("| %s | %.0f s | original (1 Hz mean x duration) | %.2f %% | %.2f %% | %.2f %% |\n", kname, epoch_s,
           so.mean_abs * 100, so.p95_abs * 100, so.max_abs * 100);
    fflush(stdout);
    free(err_c);
    free(err_p);
    free(err_o);
    free(trace);
    free(sc);
}

/* Part 2a: the source alone, 8 polled GPUs, read at 10 Hz in a thread. */
typedef struct poll_arg {
    void *src;
    double seconds;
    double cpu_s, wall_s;
    long reads;
} poll_arg;

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *poll_main(void *p) {
    poll_arg *a = p;
    double e[8];
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    double c0 = thread_cpu_s(), w0 = ct__monotonic_s();
    while (ct__monotonic_s() - w0 < a->seconds) {
        next.tv_nsec += 100000000L;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        ct__source_nvml.read(a->src, ct__monotonic_s(), e);
        a->reads++;
    }
    a->cpu_s = thread_cpu_s() - c0;
    a->wall_s = ct__monotonic_s() - w0;
    return NULL;
}

static void eight_gpu_scenario(void) {
    char sc[8192];
    size_t o = (size_t)snprintf(sc, sizeof sc, "origin %.9f\n", ct__monotonic_s());
    for (int i = 0; i < 8; i++)
        o += (size_t)snprintf(sc + o, sizeof sc - o,
                              "device GPU-%08d-0000-0000-0000-000000000000 Tesla V100-SXM2-32GB\ncounter 0\n"
                              "linear 0 80 3 300 6 120\nperiod 6\n",
                              i);
    write_scenario(sc);
}

static void cost_source(double seconds) {
    eight_gpu_scenario();
    ct_config cfg;
    ct_config_init(&cfg);
    ct__source_ctx ctx = {&cfg, noop_notice, NULL};
    poll_arg a = {NULL, seconds, 0, 0, 0};
    char why[CT__MSG_LEN];
    if (ct__source_nvml.open(&ctx, &a.src, why, sizeof why) != 0) {
        fprintf(stderr, "open: %s\n", why);
        exit(1);
    }
    pthread_t th;
    pthread_create(&th, NULL, poll_main, &a);
    pthread_join(th, NULL);
    ct__source_nvml.close(a.src);
    printf("| NVML source alone, 8 polled GPUs, 10 Hz thread | %.1f s | %ld | %.1f us | %.4f %% |\n", a.wall_s, a.reads,
           a.cpu_s / (double)a.reads * 1e6, a.cpu_s / a.wall_s * 100);
}

static double process_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

/* Part 2b: a whole tracker measuring the 8 GPUs; the main thread sleeps. */
static void cost_tracker(double seconds) {
    eight_gpu_scenario();
    setenv("CT_DRM_ROOT", "/nonexistent", 1);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.verbose = 0;
    cfg.components = "gpu";
    cfg.carbon_intensity = 100;
    cfg.offline = 1;
    ct_tracker *t;
    if (ct_tracker_new(&cfg, &t) != 0) {
        fprintf(stderr, "tracker: %s\n", ct_last_error_message());
        exit(1);
    }
    ct_epoch_start(t);
    double c0 = process_cpu_s(), w0 = ct__monotonic_s();
    struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
    double cpu = process_cpu_s() - c0, wall = ct__monotonic_s() - w0;
    ct_epoch_end(t);
    ct_tracker_free(t);
    printf("| whole tracker, components=gpu, 8 polled GPUs (process CPU, main thread asleep) | %.1f s | ~%.0f | - | "
           "%.4f %% |\n",
           wall, wall * 10, cpu / wall * 100);
}

int main(int argc, char **argv) {
    int epochs = argc > 1 ? atoi(argv[1]) : 200;
    double seconds = argc > 2 ? atof(argv[2]) : 10;
    if (epochs < 10) epochs = 10;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_scenario, sizeof g_scenario, "%s/ct_bench_gpu_%d.scenario", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    setenv("CT_NVML_LIBRARY", FAKE_NVML_PATH, 1);
    unsetenv("CUDA_VISIBLE_DEVICES");
    fake_api f;
    load_fake(&f);

    printf("## Per-epoch error against the exact energy (%d epochs per row)\n\n", epochs);
    printf("| trace | epoch | method | mean abs error | p95 abs error | max abs error |\n");
    printf("| --- | --- | --- | --- | --- | --- |\n");
    for (int kind = 0; kind < 2; kind++) {
        accuracy_case(&f, kind, 10, epochs);
        accuracy_case(&f, kind, 60, epochs);
    }
    printf("\n## CPU cost of polling 8 GPUs at 10 Hz (fake NVML: driver time not included)\n\n");
    printf("| what | wall | reads | CPU per read (8 GPUs) | CPU, %% of one core |\n");
    printf("| --- | --- | --- | --- | --- |\n");
    cost_source(seconds);
    cost_tracker(seconds);
    unlink(g_scenario);
    dlclose(f.lib);
    return 0;
}
