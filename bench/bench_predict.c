/*
 * bench_predict.c - the prediction of issue 12 against the paper's, on
 * replayed training traces (figures in bench/RESULTS.md, "Prediction").
 *
 * A trace is built batch by batch: each epoch has a start-up phase (data
 * loader workers), B training batches (a progress mark after each) and an
 * optional tail (validation). Every phase has a duration and a CPU and a GPU
 * power, so the energy of each epoch and of the whole run is known exactly.
 * Every run draws its own sizes (epochs 12..100, 50..400 batches, epoch
 * 20..600 s, GPU 150..650 W, CPU 30..150 W) and noise (epoch-to-epoch 0.3..2 %
 * on time and, independently, on power; 5 % per batch). Shapes:
 *   steady       nothing else
 *   warmup       torch.compile / autotune: the first batch of epoch 1 takes
 *                0.5..5 steady epochs more (GPU near idle, CPU busy), the next
 *                10 batches 3x slower
 *   cold         a cold data cache: every batch of epoch 1 takes 1.5..2.5x
 *                longer, the GPU waits (its power drops accordingly)
 *   periodic     validation after the training batches of every 4th epoch,
 *                0.15..0.5 of an epoch at 70 % GPU power
 *   resize       progressive resizing: image side 128 -> 224 px over the run,
 *                in steps of 16 px; cost ~ side^2; GPU power 80 -> 100 %
 *   throttle     from an epoch in 15..40 % of the run the GPU is power-capped:
 *                epochs 15..30 % longer, GPU power 70..85 %
 * The paper's predictor is total epochs x epoch 1, made once after epoch 1.
 * Ours is fed every epoch (no marks), or every epoch and every batch (marks).
 * Checkpoints: 10 % into epoch 1 (marks only), after epochs 1, 2, 3, at 25 %
 * and 50 % of the epochs. Error = |predicted total - true total| / true total
 * of the whole run's energy (CPU + GPU) and duration.
 *
 * Usage: bench_predict [runs per shape, default 200]
 */
#include "predict/predictor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { STEADY, WARMUP, COLD, PERIODIC, RESIZE, THROTTLE, NSHAPES };
static const char *shape_name[NSHAPES] = {"steady", "warmup", "cold", "periodic", "resize", "throttle"};

enum { CP_E1_10, CP_E1, CP_E2, CP_E3, CP_25, CP_50, NCP };
static const char *cp_name[NCP] = {"epoch 1 at 10 %", "after epoch 1", "after epoch 2",
                                   "after epoch 3",   "at 25 %",       "at 50 %"};

/* splitmix64 */
typedef struct {
    unsigned long long s;
} rng;
static unsigned long long next_u64(rng *r) {
    unsigned long long z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double uni(rng *r) { return (double)(next_u64(r) >> 11) / 9007199254740992.0; }
static double range(rng *r, double a, double b) { return a + (b - a) * uni(r); }
static double gauss(rng *r) {
    double u = uni(r), v = uni(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

typedef struct run_params {
    int shape, epochs, batches;
    double epoch_s, gpu_w, cpu_w, idle_gpu_w;
    double sd_time, sd_power;
    double startup_frac;
    double warm_epochs, cold_ratio, val_frac, throttle_time, throttle_power;
    int throttle_from;
} run_params;

static void draw_params(int shape, unsigned long long seed, run_params *rp) {
    rng r = {seed * 7919 + (unsigned long long)shape * 104729};
    rp->shape = shape;
    rp->epochs = 12 + (int)(uni(&r) * 89);
    rp->batches = 50 + (int)(uni(&r) * 351);
    rp->epoch_s = range(&r, 20, 600);
    rp->gpu_w = range(&r, 150, 650);
    rp->cpu_w = range(&r, 30, 150);
    rp->idle_gpu_w = 0.12 * rp->gpu_w;
    rp->sd_time = range(&r, 0.003, 0.02);
    rp->sd_power = range(&r, 0.003, 0.02);
    rp->startup_frac = range(&r, 0, 0.02);
    rp->warm_epochs = range(&r, 0.5, 5);
    rp->cold_ratio = range(&r, 1.5, 2.5);
    rp->val_frac = range(&r, 0.15, 0.5);
    rp->throttle_time = range(&r, 1.15, 1.30);
    rp->throttle_power = range(&r, 0.70, 0.85);
    rp->throttle_from = 1 + (int)ceil(rp->epochs * range(&r, 0.15, 0.40));
}

/* Feeds: pn gets epochs only, pm gets epochs and marks; either may be NULL.
 * At each checkpoint epoch, calls back. Returns the true totals. */
typedef struct checkpoint_sink {
    ct__predictor *pn, *pm;
    int cp_epoch[NCP]; /* epoch after which the checkpoint is taken (CP_E1_10: during epoch 1) */
    ct__prediction got_n[NCP], got_m[NCP];
    int ok_n[NCP], ok_m[NCP];
    double paper_energy, paper_duration;
} checkpoint_sink;

static void simulate(const run_params *rp, unsigned long long seed, checkpoint_sink *k, double *true_e,
                     double *true_d) {
    rng r = {seed * 31337 + 17};
    double tot_e = 0, tot_d = 0;
    int N = rp->epochs, B = rp->batches;
    for (int ep = 1; ep <= N; ep++) {
        if (k && k->pm) ct__predictor_begin_epoch(k->pm);
        double mt = 1 + rp->sd_time * gauss(&r), mp = 1 + rp->sd_power * gauss(&r);
        double scale = 1, gpu = rp->gpu_w * mp, cpu = rp->cpu_w * (1 + rp->sd_power * gauss(&r));
        if (rp->shape == RESIZE) {
            double side = 128 + 96.0 * (ep - 1) / (N > 1 ? N - 1 : 1);
            side = 16 * floor(side / 16 + 0.5);
            scale = side * side / (176.0 * 176.0);
            gpu *= 0.8 + 0.2 * (side - 128) / 96;
        }
        if (rp->shape == THROTTLE && ep >= rp->throttle_from) scale *= rp->throttle_time, gpu *= rp->throttle_power;
        double t = 0, e[CT_COMPONENT_COUNT] = {0, 0};
        /* start-up: workers spin up, GPU idle */
        double su = rp->startup_frac * rp->epoch_s * mt;
        t += su, e[0] += su * cpu, e[1] += su * rp->idle_gpu_w;
        double tb = rp->epoch_s * scale * mt / B;
        for (int b = 0; b < B; b++) {
            double dt = tb * (1 + 0.05 * gauss(&r));
            if (dt < 0) dt = 0;
            double g = gpu, c = cpu;
            if (ep == 1 && rp->shape == WARMUP) {
                if (b == 0) { /* compile: CPU busy, GPU near idle */
                    double w = rp->warm_epochs * rp->epoch_s;
                    t += w, e[0] += w * cpu * 1.3, e[1] += w * rp->idle_gpu_w * 1.5;
                }
                if (b < 10) dt *= 3;
            }
            if (ep == 1 && rp->shape == COLD) {
                dt *= rp->cold_ratio;
                g = rp->idle_gpu_w + (gpu - rp->idle_gpu_w) / rp->cold_ratio;
                c = cpu * 1.2;
            }
            t += dt, e[0] += dt * c, e[1] += dt * g;
            if (k && k->pm) ct__predictor_progress(k->pm, (double)(b + 1) / B, t, e);
            if (k && ep == 1 && b + 1 == (B + 9) / 10) {
                k->ok_m[CP_E1_10] = k->pm && ct__predictor_predict(k->pm, N, &k->got_m[CP_E1_10]) == 0;
            }
        }
        if (rp->shape == PERIODIC && ep % 4 == 0) {
            double v = rp->val_frac * rp->epoch_s * mt;
            t += v, e[0] += v * cpu, e[1] += v * gpu * 0.7;
        }
        tot_e += e[0] + e[1];
        tot_d += t;
        if (!k) continue;
        if (ep == 1) k->paper_energy = N * (e[0] + e[1]), k->paper_duration = N * t;
        if (k->pn) ct__predictor_add_epoch(k->pn, t, e);
        if (k->pm) ct__predictor_add_epoch(k->pm, t, e);
        for (int c = CP_E1; c < NCP; c++) {
            if (k->cp_epoch[c] != ep) continue;
            if (k->pn) k->ok_n[c] = ct__predictor_predict(k->pn, N, &k->got_n[c]) == 0;
            if (k->pm) k->ok_m[c] = ct__predictor_predict(k->pm, N, &k->got_m[c]) == 0;
        }
    }
    *true_e = tot_e, *true_d = tot_d;
}

/* per (shape, method, checkpoint): arrays of errors over runs */
#define MAXRUNS 2000
typedef struct stats {
    double err_e[MAXRUNS], err_d[MAXRUNS], width_e[MAXRUNS];
    int cover_e, cover_d, n;
} stats;

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double pct(double *v, int n, double q) {
    if (n == 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    int i = (int)ceil(q * n) - 1;
    return v[i < 0 ? 0 : i];
}

static void add_pred(stats *s, const ct__prediction *p, double te, double td) {
    int i = s->n++;
    s->err_e[i] = fabs(p->energy_total_j.total - te) / te * 100;
    s->err_d[i] = fabs(p->duration_s.total - td) / td * 100;
    s->width_e[i] = (p->energy_total_j.total_high - p->energy_total_j.total_low) / 2 / p->energy_total_j.total * 100;
    s->cover_e += te >= p->energy_total_j.total_low && te <= p->energy_total_j.total_high;
    s->cover_d += td >= p->duration_s.total_low && td <= p->duration_s.total_high;
}

static stats S[NSHAPES][3][NCP]; /* method 0 paper, 1 ours without marks, 2 ours with marks */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void cost(void) {
    static ct__predictor p;
    enum { REPS = 20001 };
    static double v[REPS];
    double e[CT_COMPONENT_COUNT] = {0, 0};
    /* progress: a mark per batch, 1000 batches per epoch */
    ct__predictor_init(&p);
    for (int i = 0; i < REPS; i++) {
        int b = i % 1000;
        if (b == 0) ct__predictor_begin_epoch(&p);
        e[0] = b * 0.5, e[1] = b * 2.0;
        double t0 = now_ns();
        ct__predictor_progress(&p, (b + 1) / 1000.0, b * 0.1, e);
        v[i] = now_ns() - t0;
    }
    double empty[REPS];
    for (int i = 0; i < REPS; i++) {
        double t0 = now_ns();
        empty[i] = now_ns() - t0;
    }
    double clock_ns = pct(empty, REPS, 0.5);
    printf("| `ct__predictor_progress` (one mark) | %.0f ns | %.0f ns |\n", pct(v, REPS, 0.5) - clock_ns,
           pct(v, REPS, 0.99) - clock_ns);
    /* add_epoch, predict right after it (refit), predict again (cached), with a full window */
    static double va[2000], vf[2000], vc[2000];
    ct__predictor_init(&p);
    rng r = {5};
    for (int i = 0; i < 2000; i++) {
        double ee[2] = {1000 * (1 + 0.01 * gauss(&r)), 5000 * (1 + 0.01 * gauss(&r))};
        double t0 = now_ns();
        ct__predictor_add_epoch(&p, 60 * (1 + 0.01 * gauss(&r)), ee);
        double t1 = now_ns();
        ct__prediction out;
        ct__predictor_refit(&p);
        ct__predictor_predict(&p, 4000, &out);
        double t2 = now_ns();
        ct__predictor_predict(&p, 4000, &out);
        double t3 = now_ns();
        va[i] = t1 - t0 - clock_ns, vf[i] = t2 - t1 - clock_ns, vc[i] = t3 - t2 - clock_ns;
    }
    printf("| `ct__predictor_add_epoch` | %.0f ns | %.0f ns |\n", pct(va, 2000, 0.5), pct(va, 2000, 0.99));
    printf("| `ct__predictor_refit` + `predict`, first after an epoch (fit of %d epochs) | %.1f us | %.1f us |\n",
           CT__PRED_WINDOW, pct(vf, 2000, 0.5) / 1000, pct(vf, 2000, 0.99) / 1000);
    printf("| `ct__predictor_predict`, again (fit cached) | %.0f ns | %.0f ns |\n", pct(vc, 2000, 0.5),
           pct(vc, 2000, 0.99));
    printf("| (clock_gettime pair, subtracted above) | %.0f ns | |\n", clock_ns);
    printf("| sizeof(ct__predictor) | %zu bytes | |\n", sizeof(ct__predictor));
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 200;
    if (runs < 1 || runs > MAXRUNS) runs = 200;
    static ct__predictor pn, pm;
    for (int shape = 0; shape < NSHAPES; shape++) {
        for (int run = 0; run < runs; run++) {
            unsigned long long seed = (unsigned long long)run + 1;
            run_params rp;
            draw_params(shape, seed, &rp);
            double te, td;
            simulate(&rp, seed, NULL, &te, &td);
            checkpoint_sink k;
            memset(&k, 0, sizeof k);
            ct__predictor_init(&pn);
            ct__predictor_init(&pm);
            k.pn = &pn, k.pm = &pm;
            int N = rp.epochs;
            k.cp_epoch[CP_E1_10] = 1, k.cp_epoch[CP_E1] = 1, k.cp_epoch[CP_E2] = 2, k.cp_epoch[CP_E3] = 3;
            k.cp_epoch[CP_25] = (N + 3) / 4, k.cp_epoch[CP_50] = (N + 1) / 2;
            double te2, td2;
            simulate(&rp, seed, &k, &te2, &td2);
            if (getenv("BENCH_VERBOSE") && atoi(getenv("BENCH_VERBOSE")) == shape && run < 5)
                for (int c = CP_E1; c < NCP; c++)
                    printf("%s run %d N=%d %s: energy %.1f %% duration %.1f %% [%s]\n", shape_name[shape], run, N,
                           cp_name[c], (k.got_n[c].energy_total_j.total - te) / te * 100,
                           (k.got_n[c].duration_s.total - td) / td * 100, k.got_n[c].model);
            for (int c = 0; c < NCP; c++) {
                if (c != CP_E1_10) {
                    stats *s = &S[shape][0][c];
                    int i = s->n++;
                    s->err_e[i] = fabs(k.paper_energy - te) / te * 100;
                    s->err_d[i] = fabs(k.paper_duration - td) / td * 100;
                    s->width_e[i] = 0;
                }
                if (c != CP_E1_10 && k.ok_n[c]) add_pred(&S[shape][1][c], &k.got_n[c], te, td);
                if (k.ok_m[c]) add_pred(&S[shape][2][c], &k.got_m[c], te, td);
            }
        }
    }
    printf("%d runs per shape. Error: |predicted - true| / true total of the whole run, median (90th "
           "percentile) over the runs; energy = CPU + GPU. Interval: how often the 90 %% interval holds the "
           "true energy / duration, and its median half-width (energy).\n\n",
           runs);
    printf("| shape | when | paper: energy | ours: energy | ours: duration | ours: interval holds | "
           "ours+marks: energy | ours+marks: duration | ours+marks: interval holds |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
    for (int shape = 0; shape < NSHAPES; shape++)
        for (int c = 0; c < NCP; c++) {
            char col[3][3][96];
            for (int m = 0; m < 3; m++) {
                stats *s = &S[shape][m][c];
                int n = s->n;
                if (n == 0) {
                    for (int k = 0; k < 3; k++) snprintf(col[m][k], sizeof col[m][k], "-");
                    continue;
                }
                double cov_e = 100.0 * s->cover_e / n, cov_d = 100.0 * s->cover_d / n;
                snprintf(col[m][0], sizeof col[m][0], "%.1f %% (%.1f)", pct(s->err_e, n, 0.5), pct(s->err_e, n, 0.9));
                snprintf(col[m][1], sizeof col[m][1], "%.1f %% (%.1f)", pct(s->err_d, n, 0.5), pct(s->err_d, n, 0.9));
                snprintf(col[m][2], sizeof col[m][2], "%.0f / %.0f %%, +-%.1f %%", cov_e, cov_d,
                         pct(s->width_e, n, 0.5));
            }
            printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", shape_name[shape], cp_name[c], col[0][0],
                   col[1][0], col[1][1], col[1][2], col[2][0], col[2][1], col[2][2]);
        }

    printf("\n| call | median | p99 |\n|---|---|---|\n");
    cost();
    return 0;
}
