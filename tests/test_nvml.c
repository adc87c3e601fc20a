/*
 * test_nvml.c - the NVML source against the fake libnvidia-ml (tests/fake_nvml),
 * with power traces whose energy is known exactly (issue 3): energy against
 * the truth, counter granularity, old drivers, lost devices, unsupported
 * readings, long failures, the library missing and NVML failing. Device
 * selection (CUDA_VISIBLE_DEVICES, MIG, by process) and the tracker end to
 * end are in test_nvml_devices.c; the shared helpers in
 * support/nvml_support.c.
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
#include "nvml_support.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_energy_vs_truth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_granularity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_supported_is_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_failure_warned_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_clock_polling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_library_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_and_device_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
