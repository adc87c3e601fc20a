/*
 * bench_epoch_cost.c - what ct_epoch_end and ct_epoch_progress cost the training
 * thread (issue 12 targets: progress under 1 us median; epoch_end within 20 % of
 * its cost before the predictor). Public API only, simulated CPU and GPU, no log
 * files: 3,000 epochs back to back (without and with an energy budget, which
 * makes the prediction needed at every epoch), then 100,000 marks in one epoch.
 * Built here with HAVE_PROGRESS; without it, the same file builds against a
 * library from before ct_epoch_progress (the "before" column of RESULTS.md).
 */
#include "carbontracker.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double pct(double *v, int n, double q) {
    qsort(v, n, sizeof *v, cmp);
    return v[(int)(q * n)];
}
static ct_tracker *mk(double budget) {
    ct_config c;
    ct_config_init(&c);
    c.epochs = 100000;
    c.monitor_epochs = 100000;
    c.verbose = 0;
    c.status_line = 0;
    c.sim_cpu = "Simulated CPU";
    c.sim_cpu_tdp = 100;
    c.sim_gpu = "Simulated GPU";
    c.sim_gpu_watts = 300;
    c.sim_gpu_util = 0.8;
    c.carbon_intensity = 200;
    c.update_interval = 1;
    c.max_energy_kwh = budget;
    ct_tracker *t = NULL;
    if (ct_tracker_new(&c, &t) != 0) {
        fprintf(stderr, "new failed\n");
        exit(1);
    }
    return t;
}
int main(void) {
    enum { E = 3000 };
    static double v[E];
    for (int b = 0; b < 2; b++) {
        ct_tracker *t = mk(b ? 1e9 : 0);
        for (int i = 0; i < E; i++) {
            ct_epoch_start(t);
            double t0 = now_ns();
            ct_epoch_end(t);
            v[i] = now_ns() - t0;
        }
        printf("ct_epoch_end%s: median %.2f us, p99 %.2f us\n", b ? " (budget set)" : "", pct(v, E, 0.5) / 1e3,
               pct(v, E, 0.99) / 1e3);
        ct_tracker_free(t);
    }
#ifdef HAVE_PROGRESS
    enum { P = 100000 };
    static double w[P];
    ct_tracker *t = mk(0);
    ct_epoch_start(t);
    for (int i = 0; i < P; i++) {
        double t0 = now_ns();
        ct_epoch_progress(t, (i + 1.0) / P);
        w[i] = now_ns() - t0;
    }
    ct_epoch_end(t);
    printf("ct_epoch_progress: median %.0f ns, p99 %.0f ns\n", pct(w, P, 0.5), pct(w, P, 0.99));
    ct_tracker_free(t);
#endif
    return 0;
}
