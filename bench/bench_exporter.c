/*
 * bench_exporter.c - cost of a `carbontracker exporter` scrape (issue 13):
 * rendering /metrics with 8 GPUs (fake libnvidia-ml), 2 RAPL packages + dram
 * (fake powercap) and 100 runs (JSON Lines logs, the SLURM plugin's real
 * output copied 100 times), and the CPU the exporter's measurement thread
 * uses while idle between scrapes. Figures go to bench/RESULTS.md (section
 * "Exporter").
 *
 * Usage: bench_exporter [scrapes (default 2000)] [idle seconds (default 15)]
 */
#include "metrics.h"
#include "fake_powercap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef FAKE_NVML_PATH
#error "FAKE_NVML_PATH must be defined by the build"
#endif
#ifndef CT_FIXTURE
#error "CT_FIXTURE must name a plugin JSONL log"
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int scrapes = argc > 1 ? atoi(argv[1]) : 2000;
    double idle = argc > 2 ? atof(argv[2]) : 15;
    if (scrapes < 1) scrapes = 1;

    fake_tree t;
    if (fake_tree_init(&t, "bench-exporter") != 0) return 1;
    fake_powercap_add_zone(&t, "intel-rapl:0", "package-0", 1000000, 262143328850ull);
    fake_powercap_add_zone(&t, "intel-rapl:0:0", "dram", 1000000, 262143328850ull);
    fake_powercap_add_zone(&t, "intel-rapl:1", "package-1", 1000000, 262143328850ull);
    fake_powercap_add_zone(&t, "intel-rapl:1:0", "dram", 1000000, 262143328850ull);
    char text[4096] = "";
    for (int g = 0; g < 8; g++) {
        char line[200];
        snprintf(line, sizeof line, "device GPU-%08d-1111-2222-3333-444444444444 NVIDIA H100 80GB HBM3\nstep 0 %d\n", g,
                 300 + 10 * g);
        strcat(text, line);
    }
    fake_tree_write(&t, "nvml.scenario", text);
    char path[1024];
    snprintf(path, sizeof path, "%s/nvml.scenario", t.root);
    setenv("FAKE_NVML_SCENARIO", path, 1);
    setenv("CT_NVML_LIBRARY", FAKE_NVML_PATH, 1);
    setenv("CT_POWERCAP_ROOT", t.root, 1);
    setenv("CT_OFFLINE", "1", 1);

    /* 100 runs: the plugin's log, 10 jobs x 10 node-steps. */
    FILE *src = fopen(CT_FIXTURE, "r");
    if (!src) {
        perror(CT_FIXTURE);
        return 1;
    }
    static char log[1 << 16];
    size_t loglen = fread(log, 1, sizeof log - 1, src);
    fclose(src);
    char runs[1024];
    snprintf(runs, sizeof runs, "%s/runs", t.root);
    mkdir(runs, 0755);
    for (int j = 0; j < 10; j++)
        for (int n = 0; n < 10; n++) {
            char jd[1100];
            snprintf(jd, sizeof jd, "%s/%d", runs, 100 + j);
            mkdir(jd, 0755);
            char rel[256];
            snprintf(rel, sizeof rel, "runs/%d/n%d.0_%d.000001_2026-01-01T000000Z_carbontracker.jsonl", 100 + j, n,
                     1000 + n);
            log[loglen] = '\0';
            fake_tree_write(&t, rel, log);
        }

    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.verbose = 0;
    cfg.status_line = 0;
    cfg.update_interval = 1; /* as the exporter sets it */
    ct_tracker *tr = NULL;
    int rc = ct_tracker_new(&cfg, &tr);
    if (rc) {
        fprintf(stderr, "tracker: %s: %s\n", ct_strerror(rc), ct_last_error_message());
        return 1;
    }
    const char *dirs[] = {runs};
    ct_metrics *m = ct_metrics_new(tr, dirs, 1, "bench-host");
    ct_sbuf b = {0};
    ct_metrics_render(m, &b); /* first scrape reads every log whole */
    double *ms = malloc((size_t)scrapes * sizeof *ms);
    for (int i = 0; i < scrapes; i++) {
        double t0 = now_s();
        ct_metrics_render(m, &b);
        ms[i] = (now_s() - t0) * 1e3;
    }
    qsort(ms, (size_t)scrapes, sizeof *ms, cmp);
    int lines = 0;
    for (const char *p = b.s; *p; p++) lines += *p == '\n';
    printf("devices %d, runs %d, /metrics %zu bytes, %d lines\n", ct_device_count(tr), ct_metrics_run_count(m), b.len,
           lines);
    printf("scrape (render) over %d: median %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n", scrapes, ms[scrapes / 2],
           ms[scrapes * 9 / 10], ms[scrapes * 99 / 100], ms[scrapes - 1]);

    /* Idle: the measurement thread alone (8 GPUs + 4 zones every 1 s), one scrape every 15 s. */
    double c0 = cpu_s(), w0 = now_s();
    double next = w0 + 15;
    while (now_s() - w0 < idle) {
        usleep(100000);
        if (now_s() >= next) {
            ct_metrics_render(m, &b);
            next += 15;
        }
    }
    double c1 = cpu_s(), w1 = now_s();
    printf("idle %.1f s with a scrape every 15 s: process CPU %.4f s = %.4f %% of a core\n", w1 - w0, c1 - c0,
           100.0 * (c1 - c0) / (w1 - w0));
    free(ms);
    ct_sbuf_free(&b);
    ct_metrics_free(m);
    ct_tracker_free(tr);
    fake_tree_destroy(&t);
    return 0;
}
