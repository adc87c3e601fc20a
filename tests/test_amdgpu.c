/* test_amdgpu.c - AMD GPUs through fake amdgpu hwmon trees (issue 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "sources/source.h"
#include "test_support.h"

static char *g_root;
static char g_notes[8][CT__MSG_LEN];
static int g_nnotes;

static void collect(void *user, int level, const char *msg) {
    (void)user;
    (void)level;
    if (g_nnotes < 8) ct__strlcpy(g_notes[g_nnotes], msg, CT__MSG_LEN);
    g_nnotes++;
}

static int setup(void **st) {
    (void)st;
    g_root = ts_mkdtemp();
    setenv("CT_DRM_ROOT", g_root, 1);
    g_nnotes = 0;
    return 0;
}
static int teardown(void **st) {
    (void)st;
    ts_rmtree(g_root);
    free(g_root);
    unsetenv("CT_DRM_ROOT");
    return 0;
}

static int open_src(void **state, char *why) {
    ct_config cfg;
    ct_config_init(&cfg);
    ct__source_ctx ctx = {&cfg, collect, NULL};
    why[0] = '\0';
    return ct__source_amdgpu.open(&ctx, state, why, CT__MSG_LEN);
}

/* A node: card0 with an energy counter, card1 with power1_average, card1-DP-1 a
 * connector, card2 a non-AMD GPU, card3 with power1_input only, card5 amdgpu with
 * garbage only, renderD128 ignored. */
static void build_node(void) {
    ts_write(g_root, "card0/device/hwmon/hwmon3/name", "amdgpu\n");
    ts_write(g_root, "card0/device/hwmon/hwmon3/energy1_input", "1000000\n");
    ts_write(g_root, "card0/device/hwmon/hwmon3/power1_average", "99000000\n");
    ts_write(g_root, "card0/device/product_name", "AMD Instinct MI250X\n");
    ts_write(g_root, "card0/device/unique_id", "5a7d0c2e1f3b4a69\n");
    ts_write(g_root, "card1/device/hwmon/hwmon4/name", "amdgpu\n");
    ts_write(g_root, "card1/device/hwmon/hwmon4/power1_average", "150000000\n");
    ts_write(g_root, "card1-DP-1/status", "connected\n");
    ts_write(g_root, "card2/device/hwmon/hwmon5/name", "nouveau\n");
    ts_write(g_root, "card2/device/hwmon/hwmon5/power1_average", "50000000\n");
    ts_write(g_root, "card3/device/hwmon/hwmon6/name", "amdgpu\n");
    ts_write(g_root, "card3/device/hwmon/hwmon6/power1_input", "40000000\n");
    ts_write(g_root, "card5/device/hwmon/hwmon7/name", "amdgpu\n");
    ts_write(g_root, "card5/device/hwmon/hwmon7/power1_average", "n/a\n");
    ts_write(g_root, "renderD128/dev", "226:128\n");
}

static void test_enumerate_and_describe(void **st) {
    (void)st;
    build_node();
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_amdgpu.device_count(s), 3);
    ct_device_desc d;
    ct__source_amdgpu.describe(s, 0, &d);
    assert_int_equal(d.component, CT_COMPONENT_GPU);
    assert_string_equal(d.name, "AMD Instinct MI250X");
    assert_string_equal(d.uuid, "5a7d0c2e1f3b4a69");
    assert_string_equal(d.method, "counter"); /* energy1_input preferred over power */
    assert_string_equal(d.source, "amdgpu");
    assert_int_equal(d.lost, 0);
    ct__source_amdgpu.describe(s, 1, &d);
    assert_string_equal(d.name, "AMD GPU card1");
    assert_string_equal(d.uuid, "");
    assert_string_equal(d.method, "power-polling");
    ct__source_amdgpu.describe(s, 2, &d);
    assert_string_equal(d.name, "AMD GPU card3");
    assert_string_equal(d.method, "power-polling");
    assert_true(ct__source_amdgpu.max_read_interval(s) <= 0.1);
    ct__source_amdgpu.close(s);
}

static void test_counter_and_polling_energy(void **st) {
    (void)st;
    build_node();
    void *s;
    char why[CT__MSG_LEN];
    double t0 = ct__monotonic_s();
    assert_int_equal(open_src(&s, why), 0);
    double t_open_end = ct__monotonic_s();
    double e[3];
    ts_write(g_root, "card0/device/hwmon/hwmon3/energy1_input", "2500000\n");
    ts_write(g_root, "card1/device/hwmon/hwmon4/power1_average", "250000000\n");
    ts_write(g_root, "card3/device/hwmon/hwmon6/power1_input", "60000000\n");
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 1.0, e), 0);
    assert_float_equal(e[0], 1.5, 1e-9); /* (2500000 - 1000000) uJ */
    /* Trapezoid from the open sample (150 W) to this one (250 W), the open sample
     * taken between t0 and t_open_end. */
    assert_in_range(e[1] * 1000, (1.0 - (t_open_end - t0)) * 200 * 1000 - 1, 1.0 * 200 * 1000 + 1);
    assert_in_range(e[2] * 1000, (1.0 - (t_open_end - t0)) * 50 * 1000 - 1, 1.0 * 50 * 1000 + 1);
    double e1_prev = e[1];
    ts_write(g_root, "card1/device/hwmon/hwmon4/power1_average", "50000000\n");
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 3.0, e), 0);
    assert_float_equal(e[1] - e1_prev, 2.0 * 150, 1e-6);
    /* A read at the same time adds nothing; one back in time neither. */
    double same[3];
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 3.0, same), 0);
    assert_float_equal(same[1], e[1], 1e-12);
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 2.0, same), 0);
    assert_float_equal(same[1], e[1], 1e-12);
    ct__source_amdgpu.close(s);
}

/* Power changing every 1-2 s, polled at 10 Hz, against the exact integral. */
static void test_polling_accuracy(void **st) {
    (void)st;
    ts_write(g_root, "card0/device/hwmon/hwmon0/name", "amdgpu\n");
    ts_write(g_root, "card0/device/hwmon/hwmon0/power1_average", "80000000\n");
    static const double tt[] = {0, 1.53, 2.71, 4.12, 5.37, 6.98, 8.21, 1e9};
    static const double pp[] = {80, 320, 150, 400, 90, 250, 120};
    void *s;
    char why[CT__MSG_LEN];
    double t0 = ct__monotonic_s();
    assert_int_equal(open_src(&s, why), 0);
    double e[1], truth = 0;
    int seg = 0;
    for (int k = 1; k <= 100; k++) {
        double t = 0.1 * k;
        /* Exact energy up to t. */
        while (tt[seg + 1] <= t) seg++;
        truth = 0;
        for (int i = 0; i < 7; i++) {
            double a = tt[i], b = fmin(tt[i + 1], t);
            if (b > a) truth += (b - a) * pp[i];
        }
        char v[32];
        snprintf(v, sizeof v, "%.0f\n", pp[seg] * 1e6);
        ts_write(g_root, "card0/device/hwmon/hwmon0/power1_average", v);
        assert_int_equal(ct__source_amdgpu.read(s, t0 + t, e), 0);
    }
    double err = fabs(e[0] - truth) / truth;
    if (err > 0.03) fail_msg("polled %.1f J vs true %.1f J: %.2f %%", e[0], truth, err * 100);
    ct__source_amdgpu.close(s);
}

static void test_counter_restart_and_bad_reads(void **st) {
    (void)st;
    ts_write(g_root, "card0/device/hwmon/hwmon1/name", "amdgpu\n");
    ts_write(g_root, "card0/device/hwmon/hwmon1/energy1_input", "5000000\n");
    ts_write(g_root, "card1/device/hwmon/hwmon2/name", "amdgpu\n");
    ts_write(g_root, "card1/device/hwmon/hwmon2/power1_input", "100000000\n");
    void *s;
    char why[CT__MSG_LEN];
    double t0 = ct__monotonic_s();
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_amdgpu.device_count(s), 2);
    double e[2];
    ts_write(g_root, "card0/device/hwmon/hwmon1/energy1_input", "7000000\n");
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 1, e), 0);
    assert_float_equal(e[0], 2.0, 1e-9);
    /* Garbage or an empty file: a missing sample, energy kept, not lost. */
    ts_write(g_root, "card0/device/hwmon/hwmon1/energy1_input", "garbage\n");
    ts_write(g_root, "card1/device/hwmon/hwmon2/power1_input", "");
    double before1 = e[1];
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 2, e), 0);
    assert_float_equal(e[0], 2.0, 1e-9);
    assert_float_equal(e[1], before1, 1e-9);
    /* Driver restarted: the counter starts again from a small value; only what came after counts. */
    ts_write(g_root, "card0/device/hwmon/hwmon1/energy1_input", "300000\n");
    ts_write(g_root, "card1/device/hwmon/hwmon2/power1_input", "100000000\n");
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 3, e), 0);
    assert_float_equal(e[0], 2.3, 1e-9);
    /* The polled card integrates across the missing sample at 100 W. */
    assert_float_equal(e[1] - before1, 200.0, 1e-6);
    ct_device_desc d;
    ct__source_amdgpu.describe(s, 0, &d);
    assert_int_equal(d.lost, 0);
    assert_int_equal(g_nnotes, 0);
    ct__source_amdgpu.close(s);
}

static void test_counters_only_interval(void **st) {
    (void)st;
    ts_write(g_root, "card0/device/hwmon/hwmon1/name", "amdgpu\n");
    ts_write(g_root, "card0/device/hwmon/hwmon1/energy1_input", "5\n");
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    assert_true(ct__source_amdgpu.max_read_interval(s) >= 1.0);
    ct__source_amdgpu.close(s);
}

static void test_unavailable(void **st) {
    (void)st;
    void *s = (void *)1;
    char why[CT__MSG_LEN];
    /* Empty root. */
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_null(s);
    char expect[CT__MSG_LEN];
    snprintf(expect, sizeof expect, "AMD GPU: no amdgpu card under %s", g_root);
    assert_string_equal(why, expect);
    /* Only a non-AMD card and an unreadable amdgpu one. */
    ts_write(g_root, "card0/device/hwmon/hwmon0/name", "nouveau\n");
    ts_write(g_root, "card0/device/hwmon/hwmon0/power1_average", "1000\n");
    ts_write(g_root, "card1/device/hwmon/hwmon1/name", "amdgpu\n");
    ts_write(g_root, "card1/device/hwmon/hwmon1/power1_average", "-5\n");
    ts_write(g_root, "card1/device/hwmon/hwmon1/energy1_input", "");
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_non_null(strstr(why, "none of energy1_input, power1_average, power1_input is readable"));
    /* A root that does not exist. */
    setenv("CT_DRM_ROOT", "/nonexistent/ct-test-drm", 1);
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_string_equal(why, "AMD GPU: /nonexistent/ct-test-drm cannot be read (No such file or directory)");
}


/* devices_by_pid: a card counts from when a process of this tree has it open
 * (drm-pdev in /proc/<pid>/fdinfo). */
static void test_devices_by_pid(void **st) {
    (void)st;
    ts_write(g_root, "card0/device/hwmon/hwmon0/name", "amdgpu\n");
    ts_write(g_root, "card0/device/hwmon/hwmon0/energy1_input", "1000000\n");
    ts_write(g_root, "card0/device/uevent", "DRIVER=amdgpu\nPCI_CLASS=30000\nPCI_SLOT_NAME=0000:03:00.0\n");
    ts_write(g_root, "card1/device/hwmon/hwmon1/name", "amdgpu\n");
    ts_write(g_root, "card1/device/hwmon/hwmon1/power1_average", "100000000\n");
    ts_write(g_root, "card1/device/uevent", "DRIVER=amdgpu\nPCI_SLOT_NAME=0000:04:00.0\n");
    ts_write(g_root, "card2/device/hwmon/hwmon2/name", "amdgpu\n");
    ts_write(g_root, "card2/device/hwmon/hwmon2/energy1_input", "5000000\n");
    ts_write(g_root, "card2/device/uevent", "DRIVER=amdgpu\nPCI_SLOT_NAME=0000:05:00.0\n");
    ts_write(g_root, "card3/device/hwmon/hwmon3/name", "amdgpu\n"); /* no uevent: never ours */
    ts_write(g_root, "card3/device/hwmon/hwmon3/energy1_input", "1\n");
    /* This process has card1 open, its child card0; someone else has card2. */
    char self[64];
    snprintf(self, sizeof self, "proc/%d/fdinfo/7", (int)getpid());
    ts_write(g_root, self, "pos:\t0\nflags:\t02100002\nmnt_id:\t24\ndrm-driver:\tamdgpu\ndrm-pdev:\t0000:04:00.0\n");
    ts_writef(g_root, "proc/3000001/stat", "3000001 (python3) S %d 1 1 0\n", (int)getpid());
    ts_write(g_root, "proc/3000001/fdinfo/3", "pos:\t0\ndrm-driver:\tamdgpu\ndrm-pdev:\t0000:03:00.0\n");
    ts_write(g_root, "proc/3000001/fdinfo/4", "pos:\t0\nflags:\t0100000\n");
    ts_write(g_root, "proc/3000003/stat", "3000003 (other) S 1 1 1 0\n");
    ts_write(g_root, "proc/3000003/fdinfo/3", "drm-driver:\tamdgpu\ndrm-pdev:\t0000:05:00.0\n");
    ts_write(g_root, "proc/garbage/stat", "x");
    char proc[4200];
    snprintf(proc, sizeof proc, "%s/proc", g_root);
    setenv("CT_PROC_ROOT", proc, 1);

    ct_config cfg;
    ct_config_init(&cfg);
    cfg.devices_by_pid = 1;
    ct__source_ctx ctx = {&cfg, collect, NULL};
    void *s;
    char why[CT__MSG_LEN];
    double t0 = ct__monotonic_s();
    assert_int_equal(ct__source_amdgpu.open(&ctx, &s, why, sizeof why), 0);
    assert_int_equal(ct__source_amdgpu.device_count(s), 4);
    assert_int_equal(g_nnotes, 2); /* card0 and card1 counted from the start */
    assert_non_null(strstr(g_notes[0], "AMD GPU AMD GPU card0 (0000:03:00.0) is used by this process tree"));
    double e[4];
    ts_write(g_root, "card0/device/hwmon/hwmon0/energy1_input", "3000000\n");
    ts_write(g_root, "card2/device/hwmon/hwmon2/energy1_input", "9000000\n");
    ts_write(g_root, "card3/device/hwmon/hwmon3/energy1_input", "7000001\n");
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 1.0, e), 0);
    assert_float_equal(e[0], 2.0, 1e-9);
    assert_in_range(e[1], 100.0 * 0.9, 100.0 * 1.0 + 1e-9); /* 100 W since open */
    assert_float_equal(e[2], 0.0, 1e-12);
    assert_float_equal(e[3], 0.0, 1e-12);
    /* Our grandchild opens card2; seen at the next check (2 s after open). */
    ts_write(g_root, "proc/3000002/stat", "3000002 (worker) R 3000001 1 1 0\n");
    ts_write(g_root, "proc/3000002/fdinfo/9", "drm-driver:\tamdgpu\ndrm-pdev:\t0000:05:00.0\n");
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 1.5, e), 0);
    assert_float_equal(e[2], 0.0, 1e-12);
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 2.5, e), 0);
    assert_float_equal(e[2], 0.0, 1e-12); /* counted from now: nothing yet */
    ts_write(g_root, "card2/device/hwmon/hwmon2/energy1_input", "12000000\n");
    assert_int_equal(ct__source_amdgpu.read(s, t0 + 3.0, e), 0);
    assert_float_equal(e[2], 3.0, 1e-9);
    assert_float_equal(e[3], 0.0, 1e-12);
    assert_int_equal(g_nnotes, 3);
    assert_non_null(strstr(g_notes[2], "card2 (0000:05:00.0) is used by this process tree: measured from now on"));
    ct__source_amdgpu.close(s);
    unsetenv("CT_PROC_ROOT");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enumerate_and_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_and_polling_energy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_polling_accuracy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_restart_and_bad_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_only_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices_by_pid, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
