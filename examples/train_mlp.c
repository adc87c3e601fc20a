/* A small real training, instrumented with carbontracker.
 *
 * A two-layer perceptron (2 -> 64 -> 64 -> 3, tanh) learns to separate three
 * interleaved spirals (synthetic data, 30,000 points) with mini-batch SGD.
 * Each epoch is a few seconds of real floating-point work on one core.
 *
 *   ct_example_train [--epochs N] [--log-dir DIR] [--country CC] [--verbose V]
 *
 * The carbontracker calls are the five lines marked "carbontracker:".
 */
#include "carbontracker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_POINTS 30000
#define N_CLASSES 3
#define H 64
#define BATCH 32

typedef struct {
    float w1[2][H], b1[H], w2[H][H], b2[H], w3[H][N_CLASSES], b3[N_CLASSES];
} model;

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;
static double frand(void) { /* xorshift64*: reproducible data and weights */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static double gauss(void) {
    double u = frand() + 1e-12, v = frand();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void make_spirals(float (*x)[2], int *y) {
    for (int i = 0; i < N_POINTS; i++) {
        int c = i % N_CLASSES;
        double r = (double)(i / N_CLASSES) / (N_POINTS / N_CLASSES);
        double th = c * 2 * M_PI / N_CLASSES + r * 4.0 + gauss() * 0.2;
        x[i][0] = (float)(r * cos(th));
        x[i][1] = (float)(r * sin(th));
        y[i] = c;
    }
}

static void init_model(model *m) {
    memset(m, 0, sizeof *m);
    for (int j = 0; j < H; j++) {
        for (int i = 0; i < 2; i++) m->w1[i][j] = (float)(gauss() * sqrt(1.0 / 2));
        for (int i = 0; i < H; i++) m->w2[i][j] = (float)(gauss() * sqrt(1.0 / H));
    }
    for (int i = 0; i < H; i++)
        for (int k = 0; k < N_CLASSES; k++) m->w3[i][k] = (float)(gauss() * sqrt(1.0 / H));
}

/* Forward and backward pass over one mini-batch; returns the summed loss. */
static double train_batch(model *m, model *g, float (*x)[2], const int *y, const int *idx, int n, float lr,
                          int *correct) {
    memset(g, 0, sizeof *g);
    double loss = 0;
    for (int s = 0; s < n; s++) {
        const float *xi = x[idx[s]];
        int yi = y[idx[s]];
        float h1[H], h2[H], o[N_CLASSES], p[N_CLASSES];
        for (int j = 0; j < H; j++) h1[j] = tanhf(m->b1[j] + xi[0] * m->w1[0][j] + xi[1] * m->w1[1][j]);
        for (int j = 0; j < H; j++) {
            float a = m->b2[j];
            for (int i = 0; i < H; i++) a += h1[i] * m->w2[i][j];
            h2[j] = tanhf(a);
        }
        float mx = -1e30f;
        for (int k = 0; k < N_CLASSES; k++) {
            o[k] = m->b3[k];
            for (int i = 0; i < H; i++) o[k] += h2[i] * m->w3[i][k];
            if (o[k] > mx) mx = o[k];
        }
        float z = 0;
        int arg = 0;
        for (int k = 0; k < N_CLASSES; k++) {
            p[k] = expf(o[k] - mx);
            z += p[k];
            if (o[k] > o[arg]) arg = k;
        }
        *correct += arg == yi;
        for (int k = 0; k < N_CLASSES; k++) p[k] /= z;
        loss += -log(p[yi] + 1e-12);
        float d3[N_CLASSES], d2[H], d1[H];
        for (int k = 0; k < N_CLASSES; k++) d3[k] = p[k] - (k == yi);
        for (int i = 0; i < H; i++) {
            float a = 0;
            for (int k = 0; k < N_CLASSES; k++) {
                g->w3[i][k] += h2[i] * d3[k];
                a += m->w3[i][k] * d3[k];
            }
            d2[i] = a * (1 - h2[i] * h2[i]);
        }
        for (int k = 0; k < N_CLASSES; k++) g->b3[k] += d3[k];
        for (int i = 0; i < H; i++) {
            float a = 0;
            for (int j = 0; j < H; j++) {
                g->w2[i][j] += h1[i] * d2[j];
                a += m->w2[i][j] * d2[j];
            }
            d1[i] = a * (1 - h1[i] * h1[i]);
        }
        for (int j = 0; j < H; j++) {
            g->b2[j] += d2[j];
            g->b1[j] += d1[j];
            g->w1[0][j] += xi[0] * d1[j];
            g->w1[1][j] += xi[1] * d1[j];
        }
    }
    float *pm = (float *)m, *pg = (float *)g;
    for (size_t i = 0; i < sizeof *m / sizeof(float); i++) pm[i] -= lr * pg[i] / (float)n;
    return loss;
}

int main(int argc, char **argv) {
    int epochs = 5, verbose = 1;
    const char *log_dir = "carbontracker_logs", *country = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--epochs") == 0) epochs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--log-dir") == 0) log_dir = argv[i + 1];
        else if (strcmp(argv[i], "--country") == 0) country = argv[i + 1];
        else if (strcmp(argv[i], "--verbose") == 0) verbose = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: %s [--epochs N] [--log-dir DIR] [--country CC] [--verbose V]\n", argv[0]);
            return 2;
        }
    }
    if (epochs < 1) epochs = 1;

    static float x[N_POINTS][2];
    static int y[N_POINTS], idx[N_POINTS];
    static model m, g;
    make_spirals(x, y);
    init_model(&m);
    for (int i = 0; i < N_POINTS; i++) idx[i] = i;

    /* carbontracker: configure and start tracking. */
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = epochs;
    cfg.log_dir = log_dir;
    cfg.country = country;
    cfg.verbose = verbose;
    cfg.decimal_precision = 6;
    ct_tracker *tracker = NULL;
    int rc = ct_tracker_new(&cfg, &tracker);
    if (rc != 0) /* the training goes on without tracking */
        fprintf(stderr, "carbontracker unavailable: %s: %s\n", ct_strerror(rc), ct_last_error_message());

    for (int e = 1; e <= epochs; e++) {
        if (tracker) ct_epoch_start(tracker); /* carbontracker: epoch starts */
        double loss = 0;
        int correct = 0, seen = 0;
        for (int pass = 0; pass < 12; pass++) { /* twelve passes over the data per epoch */
            for (int i = N_POINTS - 1; i > 0; i--) {
                int j = (int)(frand() * (i + 1));
                int tmp = idx[i];
                idx[i] = idx[j];
                idx[j] = tmp;
            }
            for (int b = 0; b + BATCH <= N_POINTS; b += BATCH) {
                loss += train_batch(&m, &g, x, y, idx + b, BATCH, 0.3f, &correct);
                seen += BATCH;
            }
        }
        printf("epoch %d/%d: loss %.4f, training accuracy %.1f %%\n", e, epochs, loss / seen, 100.0 * correct / seen);
        fflush(stdout);
        if (tracker) ct_epoch_end(tracker); /* carbontracker: epoch ends (prediction after the first) */
    }

    if (tracker) {
        ct_stop(tracker); /* carbontracker: actual consumption */
        if (ct_log_path(tracker)) printf("Logs: %s and %s\n", ct_log_path(tracker), ct_jsonl_path(tracker));
        ct_tracker_free(tracker);
    }
    return 0;
}
