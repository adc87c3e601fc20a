/* The per-epoch predictor (issue 12): known shapes with known totals, real
 * Keras epoch times, progress marks, the interval, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "predict/predictor.h"
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ct__predictor P; /* 6 KB: static, one test at a time */

static void add(ct__predictor *p, double d, double cpu_j, double gpu_j) {
    const double e[CT_COMPONENT_COUNT] = {cpu_j, gpu_j};
    assert_int_equal(ct__predictor_add_epoch(p, d, e), 0);
}

static ct__prediction predict(ct__predictor *p, int total) {
    ct__prediction out;
    assert_int_equal(ct__predictor_predict(p, total, &out), 0);
    return out;
}

static double rel_err(double got, double want) { return fabs(got - want) / want; }

/* Every number of a prediction finite and not negative, low <= value <= high. */
static void assert_sane_value(const ct__pred_value *v) {
    const double x[] = {v->measured, v->remaining, v->remaining_low, v->remaining_high,
                        v->total,    v->total_low, v->total_high};
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
        assert_true(isfinite(x[i]));
        assert_true(x[i] >= 0);
    }
    assert_true(v->remaining_low <= v->remaining && v->remaining <= v->remaining_high);
    assert_true(v->total_low <= v->total && v->total <= v->total_high);
}

static void assert_sane(const ct__prediction *o) {
    assert_sane_value(&o->duration_s);
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) assert_sane_value(&o->energy_j[c]);
    assert_sane_value(&o->energy_total_j);
}

/* deterministic noise in [-1, 1] */
static double noise(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) % 20001) / 10000.0 - 1.0;
}

/* Steady epochs: after one epoch the prediction is N x the epoch, the interval
 * within +-5 %, and it narrows as epochs accumulate. */
static void test_steady_and_narrowing(void **state) {
    (void)state;
    ct__predictor_init(&P);
    unsigned s = 7;
    double prev_width = 1e300;
    for (int e = 1; e <= 20; e++) {
        double k = 1 + 0.005 * noise(&s);
        add(&P, 60 * k, 1000 * k, 5000 * k);
        ct__prediction o = predict(&P, 40);
        assert_sane(&o);
        double w = (o.energy_total_j.total_high - o.energy_total_j.total_low) / 2 / o.energy_total_j.total;
        if (e == 1) {
            assert_true(rel_err(o.energy_total_j.total, 40 * 6000 * k) < 1e-9);
            assert_true(w <= 0.05);
            assert_int_equal(o.from_one_epoch, 1);
        } else {
            assert_int_equal(o.from_one_epoch, 0);
        }
        if (e == 1 || e == 2 || e == 5 || e == 10 || e == 20) {
            assert_true(w < prev_width);
            prev_width = w;
        }
        assert_true(rel_err(o.duration_s.total, 40 * 60) < 0.01);
        assert_true(o.energy_total_j.total_low <= 40 * 6000 && 40 * 6000 <= o.energy_total_j.total_high);
    }
    assert_true(prev_width < 0.01);
}

/* A slow first epoch (warm-up, cold cache) without marks: after epoch 2 the
 * rest is predicted at the steady rate. The paper's N x epoch 1 is 45 % off. */
static void test_first_epoch_apart(void **state) {
    (void)state;
    ct__predictor_init(&P);
    add(&P, 120, 2000, 6000);
    add(&P, 60, 1000, 5000);
    ct__prediction o = predict(&P, 30);
    double want_d = 120 + 29 * 60, want_e = 8000 + 29 * 6000.0;
    assert_true(rel_err(o.duration_s.total, want_d) < 0.04);
    assert_true(rel_err(o.energy_total_j.total, want_e) < 0.04);
    add(&P, 61, 1010, 5020);
    o = predict(&P, 30);
    assert_true(rel_err(o.duration_s.total, want_d) < 0.02);
    assert_true(o.duration_s.total_low <= want_d && want_d <= o.duration_s.total_high);
    assert_non_null(strstr(o.model, "first epoch apart"));
}

/* Reads the epochs of a real Keras log: steps x ms/step (s), the training
 * time of each complete epoch at 1 ms/step resolution (the whole seconds Keras
 * also prints round to 4 %). */
static int read_keras(const char *name, double *d, int max) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/predict/%s", ts_env("CT_TEST_SOURCE_DIR"), name);
    char *text = ts_read(path);
    assert_non_null(text);
    int n = 0;
    for (char *line = strtok(text, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        int steps, of, s;
        double ms;
        char *p = strstr(line, "] - ");
        if (!p || sscanf(line, "%d/%d", &steps, &of) != 2 || steps != of) continue; /* an epoch cut short */
        if (sscanf(p, "] - %ds %lfms/step", &s, &ms) != 2) continue;
        d[n++] = steps * ms / 1000;
    }
    free(text);
    return n;
}

/* Real captures: Keras epochs whose first is 38-45 % longer (tracing, cuDNN
 * autotuning). From epoch 2 on, the prediction of the whole run is within 4 %
 * (the paper's, N x epoch 1, is 35-45 % off), and the interval holds the truth
 * at 80 % of the epochs or more (it misses where the real epochs drift by 2-4 %
 * after the interval had narrowed; see docs/prediction.md). */
static void test_real_keras_warmup(void **state) {
    (void)state;
    static const struct {
        const char *file;
        int epochs;
        double sum_s;
    } runs[] = {{"keras_cifar10_separable_50.log", 50, 1171.95}, {"keras_io_supcon_baseline_28.log", 28, 300.132}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        double d[64];
        int n = read_keras(runs[r].file, d, 64);
        assert_int_equal(n, runs[r].epochs);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += d[i];
        assert_true(fabs(sum - runs[r].sum_s) < 1e-6);
        ct__predictor_init(&P);
        int held = 0;
        for (int i = 0; i < n; i++) {
            add(&P, d[i], NAN, NAN); /* durations only: the energies are gaps */
            ct__prediction o = predict(&P, n);
            assert_sane(&o);
            if (i == 0) continue;
            assert_true(rel_err(o.duration_s.total, sum) < 0.04);
            held += o.duration_s.total_low <= sum && sum <= o.duration_s.total_high;
        }
        assert_true(held >= 0.8 * (n - 1));
        assert_true(rel_err(n * d[0], sum) > 0.3); /* the paper's predictor on the same run */
    }
}

/* Validation every 4th epoch: found, and the future ones counted exactly. */
static void test_periodic(void **state) {
    (void)state;
    ct__predictor_init(&P);
    unsigned s = 3;
    double sum_d = 0;
    for (int e = 1; e <= 40; e++) {
        double d = 100 * (1 + 0.004 * noise(&s)) + (e % 4 == 0 ? 30 : 0);
        sum_d += d;
        if (e <= 16) add(&P, d, d * 50, d * 300);
    }
    ct__prediction o = predict(&P, 40);
    assert_true(rel_err(o.duration_s.total, sum_d) < 0.01);
    assert_true(o.duration_s.total_low <= sum_d && sum_d <= o.duration_s.total_high);
    assert_non_null(strstr(o.model, "every 4 epochs"));
    /* the paper's: 40 x epoch 1 */
    assert_true(rel_err(40 * 100.0, sum_d) > 0.05);
}

/* The profile of the epochs to come (for pricing energy at a forecast): the
 * periodic epochs show, and the pieces add up to the predicted remainder. */
static void test_profile(void **state) {
    (void)state;
    double d[64], e[64];
    ct__predictor_init(&P);
    assert_int_equal(ct__predictor_profile(&P, 1, 10, 8, d, e), 0); /* nothing to predict from */
    assert_int_equal(ct__predictor_profile(NULL, 1, 10, 8, d, e), CT_EINVAL);
    assert_int_equal(ct__predictor_profile(&P, 1, 10, 0, d, e), CT_EINVAL);
    unsigned s = 3;
    for (int ep = 1; ep <= 16; ep++) {
        double dur = 100 * (1 + 0.004 * noise(&s)) + (ep % 4 == 0 ? 30 : 0);
        add(&P, dur, dur * 50, dur * 300);
    }
    ct__prediction o = predict(&P, 40);
    int k = ct__predictor_profile(&P, 17, 40, 64, d, e);
    assert_int_equal(k, 24);
    double sd = 0, se = 0;
    for (int i = 0; i < k; i++) {
        sd += d[i], se += e[i];
        int ep = 17 + i;
        if (ep % 4 == 0) assert_true(d[i] > 120 && e[i] > 120 * 340);
        else assert_true(d[i] < 110 && e[i] < 110 * 360);
    }
    assert_true(fabs(sd - o.duration_s.remaining) < 1e-6 * sd);
    assert_true(fabs(se - o.energy_total_j.remaining) < 1e-6 * se);
    k = ct__predictor_profile(&P, 17, 40, 5, d, e); /* grouped: same totals */
    assert_int_equal(k, 5);
    double sd5 = 0;
    for (int i = 0; i < k; i++) sd5 += d[i];
    assert_true(fabs(sd5 - sd) < 1e-6 * sd);
    assert_int_equal(ct__predictor_profile(&P, 17, 16, 5, d, e), 0); /* empty range */
}

/* A level shift (throttling): the epochs after it set the rest. Energy and
 * duration move differently (power capped: longer epochs, less power). */
static void test_level_shift(void **state) {
    (void)state;
    ct__predictor_init(&P);
    unsigned s = 11;
    double sum_d = 0, sum_e = 0;
    for (int e = 1; e <= 40; e++) {
        int thr = e > 10;
        double k = 1 + 0.004 * noise(&s);
        double d = 60 * k * (thr ? 1.25 : 1), gpu = 300 * d * (thr ? 0.75 : 1), cpu = 50 * d;
        sum_d += d, sum_e += gpu + cpu;
        if (e <= 16) add(&P, d, cpu, gpu);
    }
    ct__prediction o = predict(&P, 40);
    assert_true(rel_err(o.duration_s.total, sum_d) < 0.01);
    assert_true(rel_err(o.energy_total_j.total, sum_e) < 0.01);
    assert_true(o.duration_s.total_low <= sum_d && sum_d <= o.duration_s.total_high);
    assert_non_null(strstr(o.model, "since epoch 11"));
}

/* A trend (progressive resizing): extrapolated, within 3 % at half. */
static void test_trend(void **state) {
    (void)state;
    ct__predictor_init(&P);
    double sum = 0;
    unsigned s = 5;
    for (int e = 1; e <= 40; e++) {
        double d = (60 + 2.0 * e) * (1 + 0.003 * noise(&s));
        sum += d;
        if (e <= 20) add(&P, d, d * 40, d * 250);
    }
    ct__prediction o = predict(&P, 40);
    assert_true(rel_err(o.duration_s.total, sum) < 0.03);
    assert_true(o.duration_s.total_low <= sum && sum <= o.duration_s.total_high);
    assert_non_null(strstr(o.model, "trend"));
}

/* Progress marks: a torch.compile warm-up of 5 steady epochs before the first
 * mark. Before epoch 1 ends and right after it, the prediction is the warm-up
 * once plus N steady epochs. */
static void test_marks_warmup(void **state) {
    (void)state;
    ct__predictor_init(&P);
    const int N = 20, B = 100;
    const double steady = 60, warm = 300, pw_gpu = 300, pw_cpu = 50;
    ct__prediction o;
    assert_int_equal(ct__predictor_predict(&P, N, &o), CT_ENODATA);
    for (int b = 1; b <= B; b++) {
        double t = warm + steady * b / B;
        const double e[CT_COMPONENT_COUNT] = {pw_cpu * t, 80 * warm + pw_gpu * steady * b / B};
        assert_int_equal(ct__predictor_progress(&P, (double)b / B, t, e), 0);
        if (b == 2) assert_int_equal(ct__predictor_predict(&P, N, &o), CT_ENODATA); /* 2 marks: no rate yet */
        if (b == 10) {
            o = predict(&P, N);
            assert_sane(&o);
            assert_int_equal(o.partial, 1);
            assert_true(rel_err(o.duration_s.total, warm + N * steady) < 0.02);
            assert_true(o.duration_s.remaining_low >= t); /* what is done is not predicted away */
        }
    }
    double d1 = warm + steady;
    add(&P, d1, pw_cpu * d1, 80 * warm + pw_gpu * steady);
    o = predict(&P, N);
    assert_int_equal(o.warmup_separated, 1);
    assert_int_equal(o.from_one_epoch, 0);
    double want_d = warm + N * steady, want_e = pw_cpu * want_d + 80 * warm + N * pw_gpu * steady;
    assert_true(rel_err(o.duration_s.total, want_d) < 0.01);
    assert_true(rel_err(o.energy_total_j.total, want_e) < 0.01);
    assert_true(o.duration_s.total_low <= want_d && want_d <= o.duration_s.total_high);
    /* the paper's: N x epoch 1 */
    assert_true(rel_err(N * d1, want_d) > 2.0);
}

/* The epoch in progress (after epoch 1): what is done plus the rest. */
static void test_marks_in_later_epoch(void **state) {
    (void)state;
    ct__predictor_init(&P);
    for (int e = 1; e <= 5; e++) add(&P, 60, 600, 3000);
    ct__predictor_begin_epoch(&P);
    for (int b = 1; b <= 50; b++) {
        const double e[CT_COMPONENT_COUNT] = {10.0 * b, 50.0 * b};
        assert_int_equal(ct__predictor_progress(&P, b / 100.0, 0.6 * b, e), 0);
    }
    ct__prediction o = predict(&P, 10);
    assert_int_equal(o.partial, 1);
    assert_true(rel_err(o.duration_s.total, 600) < 0.01);
    assert_true(o.duration_s.remaining >= 30);
    assert_true(o.energy_total_j.remaining >= 3000);
}

/* A steady run with 1.5 % noise, 100 seeds: the 90 % interval holds the truth
 * in at least 9 of 10 runs at every point from epoch 1 to the end. */
static void test_interval_coverage(void **state) {
    (void)state;
    int held = 0, asked = 0;
    for (unsigned seed = 1; seed <= 100; seed++) {
        unsigned s = seed * 2654435761u;
        const int N = 30;
        double d[30], sum = 0;
        for (int e = 0; e < N; e++) {
            /* sum of 3 uniforms: close to normal, sd 1.5 % */
            double z = (noise(&s) + noise(&s) + noise(&s));
            d[e] = 60 * (1 + 0.015 * z);
            sum += d[e];
        }
        ct__predictor_init(&P);
        for (int e = 0; e < N - 1; e++) {
            add(&P, d[e], d[e] * 10, d[e] * 50);
            ct__prediction o = predict(&P, N);
            held += o.duration_s.total_low <= sum && sum <= o.duration_s.total_high;
            asked++;
        }
    }
    assert_true(held >= 0.9 * asked);
}

/* Bad marks: a clear error, nothing recorded. */
static void test_bad_marks(void **state) {
    (void)state;
    ct__predictor_init(&P);
    const double e[CT_COMPONENT_COUNT] = {1, 2};
    assert_int_equal(ct__predictor_progress(NULL, 0.5, 1, e), CT_EINVAL);
    assert_int_equal(ct__predictor_progress(&P, -0.1, 1, e), CT_EINVAL);
    assert_int_equal(ct__predictor_progress(&P, 1.1, 1, e), CT_EINVAL);
    assert_int_equal(ct__predictor_progress(&P, NAN, 1, e), CT_EINVAL);
    assert_int_equal(ct__predictor_progress(&P, 0.5, NAN, e), CT_EINVAL);
    assert_int_equal(ct__predictor_progress(&P, 0.5, -1, e), CT_EINVAL);
    assert_int_equal(P.cur.n, 0);
    assert_int_equal(ct__predictor_progress(&P, 0.5, 10, e), 0);
    assert_int_equal(ct__predictor_progress(&P, 0.4, 11, e), CT_EINVAL); /* fraction decreasing */
    assert_int_equal(ct__predictor_progress(&P, 0.6, 9, e), CT_EINVAL);  /* time decreasing */
    assert_int_equal(P.cur.n, 1);
    assert_true(P.cur.last.f == 0.5 && P.cur.last.t == 10);
    assert_int_equal(ct__predictor_progress(&P, 0.5, 10, NULL), 0); /* same fraction, no energy: fine */
    assert_int_equal(ct__predictor_progress(&P, 1.0, 20, e), 0);
    assert_int_equal(P.cur.n, 3);
}

/* Other bad input: NULLs, no data, one epoch, zero-length epochs, more epochs
 * than planned, NaN from a lost device, a falling trend: finite, never negative. */
static void test_bad_input(void **state) {
    (void)state;
    ct__prediction o;
    ct__predictor_init(&P);
    assert_int_equal(ct__predictor_add_epoch(NULL, 1, NULL), CT_EINVAL);
    assert_int_equal(ct__predictor_predict(NULL, 5, &o), CT_EINVAL);
    assert_int_equal(ct__predictor_predict(&P, 5, NULL), CT_EINVAL);
    assert_int_equal(ct__predictor_predict(&P, 0, &o), CT_EINVAL);
    assert_int_equal(ct__predictor_predict(&P, 5, &o), CT_ENODATA);

    /* a single epoch, of a single-epoch run */
    add(&P, 60, 600, 3000);
    o = predict(&P, 1);
    assert_sane(&o);
    assert_true(o.duration_s.total == 60 && o.duration_s.total_low == 60 && o.duration_s.total_high == 60);
    assert_int_equal(o.overrun, 0);

    /* zero-length epochs: recorded, left out of the fit */
    ct__predictor_init(&P);
    add(&P, 0, 0, 0);
    o = predict(&P, 10);
    assert_sane(&o);
    assert_true(o.duration_s.total == 0 && o.energy_total_j.total == 0);
    add(&P, 60, 600, 3000);
    add(&P, 0, 0, 0);
    add(&P, 60, 600, 3000);
    o = predict(&P, 10);
    assert_sane(&o);
    assert_true(o.duration_s.measured == 120);
    assert_true(rel_err(o.duration_s.remaining, 6 * 60) < 0.05);

    /* trained longer than planned: nothing left, nothing negative */
    ct__predictor_init(&P);
    for (int e = 0; e < 8; e++) add(&P, 60, 600, 3000);
    o = predict(&P, 5);
    assert_sane(&o);
    assert_int_equal(o.overrun, 1);
    assert_true(o.duration_s.remaining == 0 && o.duration_s.total == 480);
    assert_true(o.energy_total_j.total == 8 * 3600 && o.energy_total_j.total_high == 8 * 3600);
    assert_int_equal(ct__predictor_progress(&P, 0.5, 30, NULL), 0); /* a 9th epoch of a 8-epoch plan */
    o = predict(&P, 8);
    assert_int_equal(o.overrun, 1);
    assert_true(o.duration_s.remaining == 0);

    /* NaN, infinite and negative energy (a lost GPU): gaps, estimated; all finite */
    ct__predictor_init(&P);
    for (int e = 0; e < 5; e++) add(&P, 60, 600, 3000);
    add(&P, 60, 600, NAN);
    add(&P, 60, 600, INFINITY);
    add(&P, 60, 600, -5);
    o = predict(&P, 10);
    assert_sane(&o);
    assert_int_equal(o.gaps, 3);
    assert_true(o.energy_j[CT_COMPONENT_GPU].measured == 15000);
    assert_true(rel_err(o.energy_j[CT_COMPONENT_GPU].total, 30000) < 0.02);
    assert_true(o.energy_j[CT_COMPONENT_GPU].total_low <= 30000 && 30000 <= o.energy_j[CT_COMPONENT_GPU].total_high);

    /* a device lost from the start: that series predicts nothing, still finite */
    ct__predictor_init(&P);
    for (int e = 0; e < 3; e++) add(&P, 60, 600, NAN);
    o = predict(&P, 10);
    assert_sane(&o);
    assert_true(o.energy_j[CT_COMPONENT_GPU].total == 0);

    /* a falling trend extrapolated far: never below zero */
    ct__predictor_init(&P);
    for (int e = 0; e < 12; e++) add(&P, 100 - 8 * e, 1000 - 80 * e, 5000 - 400 * e);
    o = predict(&P, 200);
    assert_sane(&o);

    /* many more epochs than the window, then a long horizon */
    ct__predictor_init(&P);
    for (int e = 0; e < 500; e++) add(&P, 60, 600, 3000);
    o = predict(&P, 100000);
    assert_sane(&o);
    assert_true(o.duration_s.measured == 500 * 60);
    assert_true(rel_err(o.duration_s.total, 100000 * 60.0) < 0.01);

    /* all-zero energies (a component not measured): zero, with a zero-width interval */
    ct__predictor_init(&P);
    for (int e = 0; e < 4; e++) add(&P, 60, 0, 3000);
    o = predict(&P, 10);
    assert_true(o.energy_j[CT_COMPONENT_CPU].total == 0 && o.energy_j[CT_COMPONENT_CPU].total_high == 0);

    /* reset forgets everything */
    ct__predictor_reset(&P);
    assert_int_equal(ct__predictor_predict(&P, 5, &o), CT_ENODATA);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_and_narrowing),
        cmocka_unit_test(test_first_epoch_apart),
        cmocka_unit_test(test_real_keras_warmup),
        cmocka_unit_test(test_periodic),
        cmocka_unit_test(test_level_shift),
        cmocka_unit_test(test_trend),
        cmocka_unit_test(test_marks_warmup),
        cmocka_unit_test(test_marks_in_later_epoch),
        cmocka_unit_test(test_interval_coverage),
        cmocka_unit_test(test_bad_marks),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
