/*
 * bench_core.c - what the tracker costs the training process, measured on a
 * fake 6-zone RAPL host (3 packages + 3 dram zones, all counted, so every
 * sample reads 6 counters; CT_POWERCAP_ROOT points at the fake tree):
 *
 *  1. start-up: ct_tracker_new -> first ct_epoch_start returned, wall time
 *     (CLOCK_MONOTONIC), the first one in the process (cold) and the median
 *     of 50 more (warm); resident memory added by the first tracker
 *     (VmRSS from /proc/self/status before ct_tracker_new and after
 *     ct_epoch_start, tracker still alive); and the start-up time where
 *     RAPL is absent and the TDP estimate opens (this host's /proc).
 *  2. the sampling thread's CPU time: a tracker in an epoch, the main
 *     thread asleep; the CPU time of every thread but the main one is read
 *     from /proc/self/task/TID/schedstat (nanoseconds run on a CPU), over
 *     20 s at update_interval 1 s (direct), and over 10 s at 0.05 s (scaled
 *     to 1 s by the number of samples taken, which gives more samples per
 *     run). Reported as % of one core.
 *  3. memory under many samples: a tracker in one long epoch at
 *     update_interval 1e-6 s (the thread samples as fast as it can) until it
 *     has taken 10^6 samples; VmRSS after ~10^4 samples and after 10^6.
 *     The number of samples is the tracker's own count of raw samples in
 *     the epoch's power series (internal: ct__tracker_samples_in_epoch).
 *  4. memory per epoch: 2^17 = 131072 epochs of a tracker (6 RAPL zones, no
 *     log files, update_interval 1000 s so the thread stays asleep); heap in
 *     use (mallinfo2: uordblks + hblkhd) before the first epoch and after the
 *     last, divided by the epochs (2^17 is a power of two: the epoch array's
 *     capacity equals the count, no slack), and the size of the record the
 *     tracker keeps per epoch.
 *
 * Usage: bench_core [quick|epochs]   ("quick" shortens 2 and 3 for a smoke run;
 *                                    "epochs" runs 4 alone)
 */
#include "core/core.h"
#include "fake_powercap.h"

#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) { return ct__monotonic_s(); }

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) v = strtol(line + 6, NULL, 10);
    fclose(f);
    return v;
}

/* CPU time, s, of all threads of this process except the main one. */
static double other_threads_cpu_s(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    pid_t me = getpid();
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (atoi(e->d_name) == me) continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        unsigned long long run_ns = 0;
        if (fscanf(f, "%llu", &run_ns) == 1) total += (double)run_ns * 1e-9;
        fclose(f);
    }
    closedir(d);
    return total;
}

/* Raw samples in the current epoch's power series. */
static double samples_in_epoch(ct_tracker *t) { return ct__tracker_samples_in_epoch(t); }

static fake_tree tree;

static void build_tree(void) {
    const char *ids[] = {"intel-rapl:0",   "intel-rapl:0:0", "intel-rapl:1",
                         "intel-rapl:1:0", "intel-rapl:2",   "intel-rapl:2:0"};
    const char *names[] = {"package-0", "dram", "package-1", "dram", "package-2", "dram"};
    if (fake_tree_init(&tree, "bench-core")) exit(1);
    for (int i = 0; i < 6; i++)
        if (fake_powercap_add_zone(&tree, ids[i], names[i], 1000000ull * (uint64_t)(i + 1), 262143328850ull)) exit(1);
    setenv("CT_POWERCAP_ROOT", tree.root, 1);
}

static ct_tracker *new_tracker_epochs(double update_interval, int epochs) {
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = epochs;
    cfg.components = "cpu";
    cfg.verbose = 0;
    cfg.offline = 1;
    cfg.country = "DK";
    cfg.update_interval = update_interval;
    ct_tracker *t = NULL;
    int rc = ct_tracker_new(&cfg, &t);
    if (rc != 0) {
        fprintf(stderr, "ct_tracker_new: %s: %s\n", ct_strerror(rc), ct_last_error_message());
        exit(1);
    }
    if (ct_device_count(t) != 6) {
        fprintf(stderr, "expected 6 RAPL devices, got %d\n", ct_device_count(t));
        exit(1);
    }
    return t;
}

static ct_tracker *new_tracker(double update_interval) { return new_tracker_epochs(update_interval, 10); }

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    int only_epochs = argc > 1 && strcmp(argv[1], "epochs") == 0;
    build_tree();
    if (only_epochs) goto per_epoch;

    /* 1. start-up */
    long rss0 = rss_kib();
    double t0 = now_s();
    ct_tracker *first = new_tracker(1.0);
    if (ct_epoch_start(first) != 0) return 1;
    double cold_ms = (now_s() - t0) * 1e3;
    long rss1 = rss_kib();
    enum { WARM = 50 };
    double warm[WARM];
    for (int i = 0; i < WARM; i++) {
        double a = now_s();
        ct_tracker *t = new_tracker(1.0);
        if (ct_epoch_start(t) != 0) return 1;
        warm[i] = (now_s() - a) * 1e3;
        ct_tracker_free(t);
    }
    qsort(warm, WARM, sizeof warm[0], cmp_double);
    ct_tracker_free(first);
    printf("1. ct_tracker_new -> first ct_epoch_start (6 RAPL zones, components=cpu, offline, country DK)\n");
    printf("   cold (first in process): %.3f ms; warm: median %.3f ms, max %.3f ms over %d\n", cold_ms, warm[WARM / 2],
           warm[WARM - 1], WARM);
    printf("   resident memory added by the first tracker: %ld KiB (VmRSS %ld -> %ld KiB)\n", rss1 - rss0, rss0, rss1);

    /* 1b. the same where RAPL is absent: the TDP estimate opens instead
     * (model lookup in the embedded table, /proc/stat). */
    {
        fake_tree empty;
        if (fake_tree_init(&empty, "bench-core-empty")) return 1;
        setenv("CT_POWERCAP_ROOT", empty.root, 1);
        double tdp_ms[WARM];
        for (int i = 0; i < WARM; i++) {
            ct_config cfg;
            ct_config_init(&cfg);
            cfg.epochs = 10;
            cfg.components = "cpu";
            cfg.verbose = 0;
            cfg.offline = 1;
            cfg.country = "DK";
            ct_tracker *t = NULL;
            double a = now_s();
            if (ct_tracker_new(&cfg, &t) != 0 || ct_epoch_start(t) != 0) {
                fprintf(stderr, "TDP tracker: %s\n", ct_last_error_message());
                return 1;
            }
            tdp_ms[i] = (now_s() - a) * 1e3;
            ct_tracker_free(t);
        }
        qsort(tdp_ms, WARM, sizeof tdp_ms[0], cmp_double);
        printf("   without RAPL (TDP estimate from this host's /proc): median %.3f ms, max %.3f ms over %d\n",
               tdp_ms[WARM / 2], tdp_ms[WARM - 1], WARM);
        fake_tree_destroy(&empty);
        setenv("CT_POWERCAP_ROOT", tree.root, 1);
    }

    /* 2. sampling thread CPU */
    struct {
        double interval, duration;
    } runs[2] = {{1.0, quick ? 5.0 : 20.0}, {0.05, quick ? 3.0 : 10.0}};
    printf("2. sampling thread CPU time (schedstat of the non-main threads; main thread asleep)\n");
    for (int r = 0; r < 2; r++) {
        ct_tracker *t = new_tracker(runs[r].interval);
        if (ct_epoch_start(t) != 0) return 1;
        double c0 = other_threads_cpu_s(), w0 = now_s(), s0 = samples_in_epoch(t);
        sleep_s(runs[r].duration);
        double c1 = other_threads_cpu_s(), w1 = now_s(), s1 = samples_in_epoch(t);
        ct_epoch_end(t);
        ct_tracker_free(t);
        double cpu = c1 - c0, wall = w1 - w0, n = s1 - s0;
        double per_sample_us = n > 0 ? cpu / n * 1e6 : 0;
        printf("   update_interval %.2f s over %.1f s: %.0f samples, thread CPU %.3f ms = %.4f %% of one core; "
               "%.1f us per sample -> at 1 s: %.4f %% of one core\n",
               runs[r].interval, wall, n, cpu * 1e3, cpu / wall * 100.0, per_sample_us, per_sample_us * 1e-6 * 100.0);
    }

    /* 3. memory under 10^6 samples */
    double target = quick ? 1e5 : 1e6;
    ct_tracker *t = new_tracker(1e-6);
    if (ct_epoch_start(t) != 0) return 1;
    long rss_a = -1;
    double sa = 0, start = now_s();
    for (;;) {
        sleep_s(0.05);
        double n = samples_in_epoch(t);
        if (rss_a < 0 && n >= 1e4) {
            rss_a = rss_kib();
            sa = n;
        }
        if (n >= target || now_s() - start > 300) break;
    }
    double sb = samples_in_epoch(t);
    long rss_b = rss_kib();
    double took = now_s() - start;
    ct_epoch_end(t);
    ct_epoch_info ep;
    ct_get_epoch(t, 0, &ep);
    ct_tracker_free(t);
    printf("3. memory under many samples (update_interval 1e-6 s, one epoch)\n");
    printf("   VmRSS %ld KiB after %.0f samples, %ld KiB after %.0f samples (%+ld KiB); %.1f s, %.1f us per sample\n",
           rss_a, sa, rss_b, sb, rss_b - rss_a, took, took / sb * 1e6);

    /* 4. memory per epoch */
per_epoch : {
    const int n_epochs = 1 << 17;
    ct_tracker *te = new_tracker_epochs(1000.0, n_epochs);
    struct mallinfo2 m0 = mallinfo2();
    for (int e = 0; e < n_epochs; e++)
        if (ct_epoch_start(te) != 0 || ct_epoch_end(te) < 0) return 1;
    struct mallinfo2 m1 = mallinfo2();
    double heap = (double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd);
    printf("4. memory per epoch (%d epochs, heap in use by mallinfo2)\n", ct_epoch_count(te));
    printf("   %.1f B per epoch in the heap; the record kept per epoch is %zu B\n", heap / n_epochs,
           sizeof(ct__epoch_rec));
    ct_tracker_free(te);
}
    fake_tree_destroy(&tree);
    return 0;
}
