/* Pure accounting arithmetic, table-driven with known values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "sources/source.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static void test_counter_delta(void **state) {
    (void)state;
    static const struct {
        uint64_t prev, cur, range, want;
    } cases[] = {
        {100, 250, 1000, 150},                          /* plain */
        {0, 0, 1000, 0},                                /* no change */
        {900, 100, 999, 200},                           /* wrap: 99 to the top, 1 to zero, 100 */
        {262143328850ull, 5000, 262143328850ull, 5001}, /* wrap at the common 262 kJ range */
        {65532610987ull, 0, 65532610987ull, 1},         /* exactly to zero */
        {500, 100, 0, 100},                             /* unknown range: cannot recover the lost part */
        {UINT64_MAX - 5, UINT64_MAX, 0, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ct__counter_delta(cases[i].prev, cases[i].cur, cases[i].range), cases[i].want);
}

static void test_trapezoid(void **state) {
    (void)state;
    assert_true(fabs(ct__trapezoid_j(0, 100, 1, 100) - 100) < 1e-12);
    assert_true(fabs(ct__trapezoid_j(2, 0, 4, 50) - 50) < 1e-12); /* ramp 0..50 W over 2 s */
    assert_true(ct__trapezoid_j(5, 10, 5, 10) == 0);              /* no time, no energy */
    assert_true(ct__trapezoid_j(5, 10, 4, 10) == 0);              /* time going backwards is ignored */
}

static void test_units(void **state) {
    (void)state;
    assert_true(fabs(ct__j_to_kwh(3.6e6) - 1.0) < 1e-15);
}

static void test_series_bounded(void **state) {
    (void)state;
    ct__series s;
    ct__series_reset(&s);
    double p[CT_COMPONENT_COUNT];
    /* 10^6 samples: memory is the struct, points stay <= CT__SERIES_MAX, and
     * the mean power is preserved (constant 40 W CPU, ramp on GPU). */
    for (int i = 0; i < 1000000; i++) {
        p[0] = 40.0;
        p[1] = (double)(i % 100);
        ct__series_add(&s, i * 0.001, p);
        assert_true(s.n <= CT__SERIES_MAX);
    }
    assert_true(s.n >= CT__SERIES_MAX / 2);
    double mean0 = 0, mean1 = 0;
    for (int i = 0; i < s.n; i++) mean0 += s.p[i][0], mean1 += s.p[i][1];
    mean0 /= s.n;
    mean1 /= s.n;
    assert_true(fabs(mean0 - 40.0) < 1e-9);
    assert_true(fabs(mean1 - 49.5) < 1.0);
    for (int i = 1; i < s.n; i++) assert_true(s.t[i] > s.t[i - 1]); /* time stays ordered */
}

static void test_duration_format(void **state) {
    (void)state;
    static const struct {
        double s;
        int hundredths;
        const char *want;
    } cases[] = {
        {10, 0, "0:00:10"},      {10342.9, 0, "2:52:22"}, {3.3, 1, "0:00:03.30"}, {59.999, 1, "0:01:00.00"},
        {3600, 1, "1:00:00.00"}, {0, 0, "0:00:00"},       {-5, 0, "0:00:00"},     {90061, 0, "25:01:01"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_format_duration(cases[i].s, cases[i].hundredths, buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_consumption_block(void **state) {
    (void)state;
    char buf[1024];
    double car = ct__car_g_per_km(NULL);
    ct__format_consumption(buf, sizeof buf, "Actual consumption for 1 epoch(s):", 10, 0.000038, 0.00313, 6,
                           0.00313 / car);
    char want[1024];
    snprintf(want, sizeof want,
             "\nActual consumption for 1 epoch(s):\n\tTime:\t0:00:10\n\tEnergy:\t0.000038 kWh\n\tCO2eq:\t0.003130 g"
             "\n\tThis is equivalent to:\n\t%.6f km travelled by car",
             0.00313 / car);
    assert_string_equal(buf, want);
    ct__format_consumption(buf, sizeof buf, "Predicted consumption for 1000 epoch(s):", 10342, 0.038168, 4.096665, 3,
                           -1);
    assert_string_equal(buf, "\nPredicted consumption for 1000 epoch(s):\n\tTime:\t2:52:22\n\tEnergy:\t0.038 kWh\n"
                             "\tCO2eq:\t4.097 g");
}

static void test_errors(void **state) {
    (void)state;
    assert_string_equal(ct_strerror(CT_OK), "success");
    assert_string_equal(ct_strerror(CT_EBUDGET), "an energy or CO2eq budget is exceeded (the epoch was recorded)");
    assert_string_equal(ct_strerror(12345), "unknown error");
    assert_int_equal(ct_sizeof("ct_config"), sizeof(ct_config));
    assert_int_equal(ct_sizeof("nope"), 0);
    assert_string_equal(ct_component_name(CT_COMPONENT_GPU), "gpu");
}

/* A failed read is a CT_E* code with the path and the system's reason in
 * the thread's detail, never -errno (-ENOENT is -2, CT_ENOMEM). */
static void test_read_file_codes(void **state) {
    (void)state;
    char *buf = (char *)1;
    size_t n = 7;
    int rc = ct__read_file("/nonexistent/ct-test-file", 4096, &buf, &n);
    assert_int_equal(rc, CT_EIO);
    assert_null(buf);
    assert_int_equal(n, 0);
    assert_non_null(strstr(ct_last_error_message(), "/nonexistent/ct-test-file"));
    assert_non_null(strstr(ct_last_error_message(), "No such file"));
    rc = ct__read_file("/", 4096, &buf, &n); /* a directory: read(2) fails with EISDIR */
    assert_int_equal(rc, CT_EIO);
    assert_int_equal(ct__errno_code(ENOMEM), CT_ENOMEM);
    assert_int_equal(ct__errno_code(EINVAL), CT_EINVAL);
    assert_int_equal(ct__errno_code(EPERM), CT_EIO); /* -EPERM would read as CT_EINVAL */
}

/* The growth rule of carbontracker.h: every public struct ends with
 * ct_reserved (8 doubles), ct_sizeof counts it, ct_config_init zeroes it. */
#define TAIL_OK_N(T, n)                                                                    \
    assert_int_equal(offsetof(T, ct_reserved) + sizeof(((T *)0)->ct_reserved), sizeof(T)); \
    assert_int_equal(sizeof(((T *)0)->ct_reserved), (n) * sizeof(double));                 \
    assert_int_equal(ct_sizeof(#T), sizeof(T))
#define TAIL_OK(T) TAIL_OK_N(T, 8)
static void test_struct_growth_rule(void **state) {
    (void)state;
    TAIL_OK_N(ct_config, 6); /* 2 taken by output_fn, output_user: same size as before */
    assert_int_equal(offsetof(ct_config, output_fn) + 8 * sizeof(double), sizeof(ct_config));
    TAIL_OK_N(ct_result, 2); /* 6 taken by the 90 % interval (issue 12): same size as before */
    assert_int_equal(offsetof(ct_result, energy_kwh_low) + 8 * sizeof(double), sizeof(ct_result));
    TAIL_OK(ct_epoch_info);
    TAIL_OK_N(ct_status, 6); /* 2 taken by the predicted energy's interval (issue 12): same size */
    TAIL_OK(ct_device_desc);
    TAIL_OK(ct_run_info);
    TAIL_OK(ct_runs_total);
    TAIL_OK(ct_plan_result);
    ct_config c;
    memset(&c, 0xab, sizeof c);
    ct_config_init(&c);
    for (int i = 0; i < 6; i++) assert_true(c.ct_reserved[i] == 0.0);
    assert_null(c.output_fn);
    assert_null(c.output_user);
    /* named budget bits */
    assert_int_equal(CT_BUDGET_ENERGY, 1);
    assert_int_equal(CT_BUDGET_CO2, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_delta),
        cmocka_unit_test(test_trapezoid),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_series_bounded),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_consumption_block),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_read_file_codes),
        cmocka_unit_test(test_struct_growth_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
