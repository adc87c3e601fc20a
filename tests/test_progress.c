/* ct_epoch_progress and the refined prediction through the public API, with
 * simulated devices (issue 12). No timing margins: the assertions hold however
 * long the sleeps take on a loaded machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "carbontracker.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

static ct_tracker *new_tracker_budget(int epochs, int ignore_errors, double max_kwh) {
    ct_config c;
    ct_config_init(&c);
    c.epochs = epochs;
    c.verbose = 0;
    c.sim_cpu = "Simulated CPU";
    c.sim_cpu_tdp = 100; /* x 0.5 = 50 W */
    c.sim_gpu = "Simulated GPU";
    c.sim_gpu_watts = 300;
    c.sim_gpu_util = 0.8; /* 240 W */
    c.carbon_intensity = 200;
    c.update_interval = 0.02;
    c.ignore_errors = ignore_errors;
    c.pue = 1;
    c.max_energy_kwh = max_kwh;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    return t;
}

static ct_tracker *new_tracker(int epochs, int ignore_errors) { return new_tracker_budget(epochs, ignore_errors, 0); }

static void test_progress_bad_input(void **state) {
    (void)state;
    assert_int_equal(ct_epoch_progress(NULL, 0.5), CT_EINVAL);
    ct_tracker *t = new_tracker(5, 0);
    assert_int_equal(ct_epoch_progress(t, 0.5), CT_ESTATE); /* no epoch_start */
    assert_int_equal(ct_epoch_start(t), 0);
    assert_int_equal(ct_epoch_progress(t, -0.1), CT_EINVAL);
    assert_int_equal(ct_epoch_progress(t, 1.5), CT_EINVAL);
    assert_int_equal(ct_epoch_progress(t, NAN), CT_EINVAL);
    assert_int_equal(ct_epoch_progress(t, 0.5), 0);
    assert_int_equal(ct_epoch_progress(t, 0.4), CT_EINVAL); /* decreasing */
    assert_int_equal(ct_epoch_progress(t, 0.5), 0);
    assert_int_equal(ct_epoch_progress(t, 1.0), 0);
    assert_int_equal(ct_epoch_end(t), 0);
    assert_int_equal(ct_epoch_progress(t, 0.1), CT_ESTATE); /* between epochs */
    assert_int_equal(ct_epoch_start(t), 0);
    assert_int_equal(ct_epoch_progress(t, 0.1), 0); /* a new epoch starts from 0 again */
    assert_int_equal(ct_stop(t), 0);
    assert_int_equal(ct_epoch_progress(t, 0.2), CT_ESTOPPED);
    ct_tracker_free(t);
    t = new_tracker(5, 1);
    assert_int_equal(ct_epoch_progress(t, 0.5), 0); /* ignore_errors: out of order is not an error */
    ct_tracker_free(t);
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A warm-up before the first mark, then steady marks: the prediction exists
 * before epoch 1 ends and counts the warm-up once, not in every epoch. The
 * bounds come from our own clock readings around each call (the tracker reads
 * the same monotonic clock inside them), so they hold on a loaded machine. */
static void test_prediction_before_epoch_one_ends(void **state) {
    (void)state;
    const int N = 10;
    ct_tracker *t = new_tracker(N, 0);
    ct_result r;
    assert_int_equal(ct_get_predicted(t, &r), CT_ENODATA);
    double start_lo = mono_s();
    assert_int_equal(ct_epoch_start(t), 0);
    double start_hi = mono_s();
    sleep_ms(300); /* warm-up: compiling, autotuning */
    double lo[10], hi[10], f = 0.05;
    for (int i = 0; i < 10; i++) {
        if (i > 0) sleep_ms(20);
        lo[i] = mono_s();
        assert_int_equal(ct_epoch_progress(t, f), 0);
        hi[i] = mono_s();
        if (i == 1) assert_int_equal(ct_get_predicted(t, &r), CT_ENODATA); /* 2 marks: no rate yet */
        if (i < 9) f += 0.05;
    }
    /* the steady rate (s per epoch) lies between the slowest and the fastest 0.05 step */
    double rmin = 1e300, rmax = 0;
    for (int i = 1; i < 10; i++) {
        rmin = fmin(rmin, (lo[i] - hi[i - 1]) / 0.05);
        rmax = fmax(rmax, (hi[i] - lo[i - 1]) / 0.05);
    }
    double done_lo = lo[9] - start_hi, done_hi = hi[9] - start_lo;
    assert_int_equal(ct_get_predicted(t, &r), 0);
    assert_int_equal(r.epochs, N);
    assert_true(r.duration_s >= done_lo + (N - f) * rmin - 1e-6);
    assert_true(r.duration_s <= done_hi + (N - f) * rmax + 1e-6);
    assert_true(r.duration_s_low <= r.duration_s && r.duration_s <= r.duration_s_high);
    assert_true(r.energy_kwh_low <= r.energy_kwh && r.energy_kwh <= r.energy_kwh_high);
    assert_true(r.co2eq_g_low <= r.co2eq_g && r.co2eq_g <= r.co2eq_g_high);
    assert_true(isfinite(r.co2eq_g) && r.co2eq_g > 0);
    /* after epoch 1: epoch 1 as measured, its warm-up kept apart from the 9 to come */
    sleep_ms(20);
    double end_lo = mono_s();
    assert_int_equal(ct_epoch_end(t), 0);
    double end_hi = mono_s();
    rmin = fmin(rmin, (end_lo - hi[9]) / (1 - f)), rmax = fmax(rmax, (end_hi - lo[9]) / (1 - f));
    assert_int_equal(ct_get_predicted(t, &r), 0);
    ct_epoch_info e1;
    assert_int_equal(ct_get_epoch(t, 0, &e1), 0);
    assert_true(r.duration_s >= e1.duration_s + (N - 1) * rmin - 1e-6);
    assert_true(r.duration_s <= e1.duration_s + (N - 1) * rmax + 1e-6);
    ct_tracker_free(t);
}

/* Budgets act on the refined prediction: epoch 1 is almost empty (the paper's
 * N x epoch 1 is far under the budget), the next ones take 100 ms at 290 W;
 * from then on the prediction (about 40 x 29 J) is over 400 J while the actual
 * stays far under it. The measurement thread (a sample every 20 ms) refits the
 * prediction during an epoch, so an epoch after the first long one ends with
 * CT_EBUDGET for the prediction. */
static void test_budget_on_refined_prediction(void **state) {
    (void)state;
    const double limit_kwh = 400.0 / 3.6e6;
    ct_tracker *t = new_tracker_budget(40, 0, limit_kwh);
    assert_int_equal(ct_epoch_start(t), 0);
    assert_int_equal(ct_epoch_end(t), 0); /* 40 x almost nothing */
    int rc = 0, tries = 0;
    while (rc == 0 && tries++ < 6) {
        assert_int_equal(ct_epoch_start(t), 0);
        sleep_ms(100);
        rc = ct_epoch_end(t);
    }
    assert_int_equal(rc, CT_EBUDGET);
    assert_non_null(strstr(ct_tracker_message(t), "predicted energy"));
    ct_result a;
    assert_int_equal(ct_get_actual(t, &a), 0);
    assert_true(a.energy_kwh < limit_kwh);
    ct_status st;
    assert_int_equal(ct_get_status(t, &st), 0);
    assert_true(st.has_prediction && st.predicted_energy_kwh > limit_kwh);
    assert_true(st.budget_exceeded & CT_BUDGET_ENERGY);
    ct_tracker_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_bad_input),
        cmocka_unit_test(test_prediction_before_epoch_one_ends),
        cmocka_unit_test(test_budget_on_refined_prediction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
