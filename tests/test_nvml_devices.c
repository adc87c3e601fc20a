/*
 * test_nvml_devices.c - which GPUs the NVML source measures, against the
 * fake libnvidia-ml (tests/fake_nvml) with power traces whose energy is
 * known exactly (issue 3): CUDA_VISIBLE_DEVICES, mixed models, MIG, the
 * devices of a process tree; and the tracker end to end (epoch energy, NVML
 * missing, CUDA_VISIBLE_DEVICES, local ranks, a device lost in the JSONL).
 * The source's energy and failures are in test_nvml.c; the shared helpers in
 * support/nvml_support.c.
 *
 * Most tests run the fake on a virtual clock: the test sets the fake's "now"
 * and passes the same time to read(), so 10 s of a trace take milliseconds.
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

static void test_cuda_visible_devices(void **st) {
    (void)st;
    three_gpus("", "", "");
    void *s;
    char why[CT__MSG_LEN];
    ct_device_desc d;
    setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1); /* the GPUs differ: CUDA's order made explicit */

    setenv("CUDA_VISIBLE_DEVICES", "2", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 1);
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.uuid, UUID_C);
    ct__source_nvml.close(s);

    setenv("CUDA_VISIBLE_DEVICES", "GPU-b1b1,0", 1); /* UUID prefix, then an index: CUDA's order */
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 2);
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.uuid, UUID_B);
    ct__source_nvml.describe(s, 1, &d);
    assert_string_equal(d.uuid, UUID_A);
    ct__source_nvml.close(s);
    assert_int_equal(g_nnotes, 0);

    /* An id that matches nothing: a warning, not all GPUs. */
    setenv("CUDA_VISIBLE_DEVICES", "1,7,0", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 1);
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.uuid, UUID_B);
    assert_int_equal(notes_with("CUDA_VISIBLE_DEVICES entry \"7\" is not a GPU index here (3 GPUs found by NVML)", 1),
                     1);
    ct__source_nvml.close(s);

    g_nnotes = 0;
    setenv("CUDA_VISIBLE_DEVICES", "GPU-ffff", 1);
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_null(s);
    assert_string_equal(why, "NVIDIA GPU: CUDA_VISIBLE_DEVICES=\"GPU-ffff\" selects none of the 3 GPUs");
    assert_int_equal(notes_with("\"GPU-ffff\" matches no GPU UUID", 1), 1);

    /* Empty: no GPU, and NVML is not even loaded. */
    int inits = fake_calls("nvmlInit_v2");
    setenv("CUDA_VISIBLE_DEVICES", "", 1);
    assert_int_equal(open_src(&s, why), CT_ENOSOURCE);
    assert_string_equal(why, "CUDA_VISIBLE_DEVICES is set and empty: no GPU is visible to this process");
    assert_int_equal(fake_calls("nvmlInit_v2"), inits);
    unsetenv("CUDA_VISIBLE_DEVICES");
}

static void test_mixed_models_index_warning(void **st) {
    (void)st;
    three_gpus("", "", "");
    void *s;
    char why[CT__MSG_LEN];
    setenv("CUDA_VISIBLE_DEVICES", "0,1", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(notes_with("set CUDA_DEVICE_ORDER=PCI_BUS_ID", 1), 1);
    ct__source_nvml.close(s);
    g_nnotes = 0;
    setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(g_nnotes, 0);
    ct__source_nvml.close(s);
}

static void test_mig(void **st) {
    (void)st;
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\nclock virtual\n"
             "device " UUID_A " NVIDIA A100-SXM4-80GB\nmig 1\n"
             "mig_device MIG-11111111-aaaa-5555-8888-000000000001\n"
             "mig_device MIG-22222222-aaaa-5555-8888-000000000002\nstep 0 200\n"
             "device " UUID_B " NVIDIA A100-SXM4-80GB\nstep 0 100\n",
             t0);
    fake_set_time(t0);
    void *s;
    char why[CT__MSG_LEN];
    setenv("CUDA_VISIBLE_DEVICES", "MIG-22222222-aaaa-5555-8888-000000000002", 1);
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 1);
    ct_device_desc d;
    ct__source_nvml.describe(s, 0, &d);
    assert_string_equal(d.uuid, UUID_A);
    assert_int_equal(notes_with("GPU 0 (NVIDIA A100-SXM4-80GB) has MIG enabled: NVML gives no power or energy per "
                                "MIG slice, so the whole GPU's energy is counted",
                                1),
                     1);
    double e[1];
    fake_set_time(t0 + 2);
    assert_int_equal(ct__source_nvml.read(s, t0 + 2, e), 0);
    assert_float_equal(e[0], 400.0, 0.002); /* whole GPU: 200 W x 2 s */
    ct__source_nvml.close(s);
    unsetenv("CUDA_VISIBLE_DEVICES");
}

/* A fake /proc: this process -> 3000001 -> 3000002; 3000003 is someone else's. */
static void fake_proc(void) {
    char proc[4200];
    snprintf(proc, sizeof proc, "%s/proc", g_dir);
    /* comm may hold blanks and ')' */
    ts_writef(g_dir, "proc/3000001/stat", "3000001 (python3) S %d 3000001 1 0 -1 4194304\n", (int)getpid());
    ts_write(g_dir, "proc/3000002/stat", "3000002 (pt_data (worker) 1) S 3000001 3000001 1 0 -1\n");
    ts_write(g_dir, "proc/3000003/stat", "3000003 (other job) R 1 3000003 1 0 -1\n");
    ts_write(g_dir, "proc/3000004/stat", "garbage");
    setenv("CT_PROC_ROOT", proc, 1);
}

static void test_devices_by_pid(void **st) {
    (void)st;
    fake_proc();
    /* GPU 0: only others' processes; GPU 1: our grandchild; GPU 2: our child from
     * t = 1.5; GPU 3: 60 others' processes then ours (the process buffer must grow). */
    char many[4096];
    size_t o = 0;
    for (int i = 0; i < 60; i++) o += (size_t)snprintf(many + o, sizeof many - o, "proc %d\n", 3100000 + i);
    snprintf(many + o, sizeof many - o, "proc 3000002\n");
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\nclock virtual\n"
             "device GPU-00000000-0000-0000-0000-000000000000 G0\nstep 0 100\nproc 3000003\nproc 3000004\n"
             "device GPU-11111111-0000-0000-0000-000000000000 G1\nstep 0 200\nproc 3000003\nproc 3000002\n"
             "device GPU-22222222-0000-0000-0000-000000000000 G2\nstep 0 300\nproc 3000001 1.5\n"
             "device GPU-33333333-0000-0000-0000-000000000000 G3\ncounter 0\nstep 0 50\n%s",
             t0, many);
    fake_set_time(t0);
    g_cfg.devices_by_pid = 1;
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(ct__source_nvml.device_count(s), 4);
    assert_true(ct__source_nvml.max_read_interval(s) <= 0.1); /* G3 is polled */
    double e[4];
    run_reads(s, t0, 0.1, 4.0, e);
    assert_float_equal(e[0], 0.0, 1e-12);        /* never ours */
    assert_float_equal(e[1], 200.0 * 4.0, 0.01); /* ours from the start */
    check_rel("polled, ours from the start", e[3], 50.0 * 4.0, 0.01);
    /* G2: ours from t = 1.5; checked once a second, so counted from the first check after it. */
    assert_true(e[2] >= 300.0 * (4.0 - 2.6) - 0.01 && e[2] <= 300.0 * (4.0 - 1.5) + 0.01);
    assert_int_equal(notes_with("GPU 2 (G2) runs a process of this process tree: measured from now on", 0), 1);
    assert_true(fake_calls("nvmlDeviceGetComputeRunningProcesses_v3") > 0);
    ct__source_nvml.close(s);
}

static void test_devices_by_pid_none_yet(void **st) {
    (void)st;
    fake_proc();
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\nclock virtual\ndevice " UUID_A " G0\nstep 0 100\nproc 3000003\n", t0);
    fake_set_time(t0);
    g_cfg.devices_by_pid = 1;
    void *s;
    char why[CT__MSG_LEN];
    assert_int_equal(open_src(&s, why), 0);
    assert_int_equal(notes_with("no GPU runs a process of this process tree yet", 0), 1);
    assert_float_equal(ct__source_nvml.max_read_interval(s), 1.0, 1e-12);
    double e[1];
    run_reads(s, t0, 0.1, 2.0, e);
    assert_float_equal(e[0], 0.0, 1e-12);
    ct__source_nvml.close(s);
}

static void test_devices_by_pid_old_driver(void **st) {
    (void)st;
    dlclose(g_fake);
    load_fake(FAKE_NVML_OLD_PATH);
    setenv("CT_NVML_LIBRARY", FAKE_NVML_OLD_PATH, 1);
    fake_proc();
    double t0 = ct__monotonic_s();
    /* The old process struct has no instance ids: pids must still be read right. */
    scenario("origin %.9f\nclock virtual\n"
             "device " UUID_A " G0\nstep 0 100\nproc 3000003\nproc 3100001\n"
             "device " UUID_B " G1\nstep 0 100\nproc 3000003\nproc 3000002\n",
             t0);
    fake_set_time(t0);
    g_cfg.devices_by_pid = 1;
    void *s;
    char why[CT__MSG_LEN];
    /* G1 is claimed during the open, so its energy counts from then: 100 W
     * from a moment inside the open to t0 + 2 s (the open takes ~35 ms under
     * TSan on a loaded machine, which a flat 200 J missed by 1.8 %). */
    double before = ct__monotonic_s() - t0;
    assert_int_equal(open_src(&s, why), 0);
    double opened = ct__monotonic_s() - t0;
    double e[2];
    run_reads(s, t0, 0.1, 2.0, e);
    assert_float_equal(e[0], 0.0, 1e-12);
    if (e[1] < 100.0 * (2.0 - opened) * 0.99 || e[1] > 100.0 * (2.0 - before) * 1.01)
        fail_msg("ours, old driver: %.3f J, expected 100 W x (%.3f .. %.3f s)", e[1], 2.0 - opened, 2.0 - before);
    assert_true(fake_calls("nvmlDeviceGetComputeRunningProcesses") > 0);
    ct__source_nvml.close(s);
}


/* ---- through the whole tracker ---------------------------------------- */
static void tracker_cfg(ct_config *cfg, const char *components) {
    ct_config_init(cfg);
    cfg->epochs = 2;
    cfg->verbose = 0;
    cfg->components = components;
    cfg->carbon_intensity = 100;
    cfg->offline = 1;
    setenv("CT_DRM_ROOT", g_dir, 1); /* no AMD GPU either */
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Two GPUs (counter + polled) on the real clock, one epoch through the tracker:
 * the epoch's GPU energy is the sum of both devices' exact energies. */
static void test_tracker_epoch_energy(void **st) {
    (void)st;
    static const trace a = {1, 4, {0, 0.8, 1.6, 2.4}, {150, 350, 200, 300}};
    static const trace b = {1, 4, {0, 0.7, 1.5, 2.3}, {60, 120, 90, 140}};
    char la[256], lb[256];
    trace_line(&a, la, sizeof la);
    trace_line(&b, lb, sizeof lb);
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\ndevice " UUID_A " NVIDIA H100 80GB HBM3\n%s\ndevice " UUID_B " Tesla P100\ncounter 0\n%s\n",
             t0, la, lb);
    ct_config cfg;
    tracker_cfg(&cfg, "gpu");
    ct_tracker *t = NULL;
    int rc = ct_tracker_new(&cfg, &t);
    if (rc) fail_msg("ct_tracker_new: %s", ct_last_error_message());
    assert_int_equal(ct_device_count(t), 2);
    ct_device_desc d;
    assert_int_equal(ct_get_device(t, 0, &d), 0);
    assert_string_equal(d.name, "NVIDIA H100 80GB HBM3");
    assert_string_equal(d.uuid, UUID_A);
    assert_string_equal(d.method, "counter");
    assert_string_equal(d.source, "nvml");
    assert_int_equal(ct_get_device(t, 1, &d), 0);
    assert_string_equal(d.method, "power-polling");

    sleep_s(0.3);
    double s0 = ct__monotonic_s();
    assert_int_equal(ct_epoch_start(t), 0);
    double s1 = ct__monotonic_s();
    sleep_s(2.0);
    double e0 = ct__monotonic_s();
    assert_int_equal(ct_epoch_end(t), 0);
    double e1 = ct__monotonic_s();
    ct_epoch_info ep;
    assert_int_equal(ct_get_epoch(t, 0, &ep), 0);
    /* The epoch's window lies between [s1, e0] and [s0, e1]; both are within microseconds. */
    double lo = truth(&a, s1 - t0, e0 - t0) + truth(&b, s1 - t0, e0 - t0);
    double hi = truth(&a, s0 - t0, e1 - t0) + truth(&b, s0 - t0, e1 - t0);
    double polled_tol = 0.03 * truth(&b, s0 - t0, e1 - t0), counter_tol = 0.005 * truth(&a, s0 - t0, e1 - t0);
    double got = ep.energy_j[CT_COMPONENT_GPU];
    if (got < lo - polled_tol - counter_tol || got > hi + polled_tol + counter_tol)
        fail_msg("epoch GPU energy %.2f J, truth in [%.2f, %.2f] J", got, lo, hi);
    assert_float_equal(ep.energy_j[CT_COMPONENT_CPU], 0.0, 1e-12);
    ct_tracker_free(t);
}

static void test_tracker_nvml_missing(void **st) {
    (void)st;
    setenv("CT_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
    ct_config cfg;
    tracker_cfg(&cfg, "gpu");
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&cfg, &t), CT_ENOSOURCE);
    assert_null(t);
    const char *m = ct_last_error_message();
    if (!strstr(m, "component \"gpu\" was requested") ||
        !strstr(m, "cannot load NVML (/nonexistent/libnvidia-ml.so.1)"))
        fail_msg("unexpected message: %s", m);
    /* "all" goes on with the CPU. */
    tracker_cfg(&cfg, "all");
    cfg.sim_cpu = "Test CPU";
    cfg.sim_cpu_tdp = 100;
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    assert_int_equal(ct_device_count(t), 1);
    ct_device_desc d;
    assert_int_equal(ct_get_device(t, 0, &d), 0);
    assert_int_equal(d.component, CT_COMPONENT_CPU);
    ct_tracker_free(t);
}

static void test_tracker_cuda_visible_devices(void **st) {
    (void)st;
    three_gpus("", "", "");
    fake_set_time(ct__monotonic_s());
    ct_config cfg;
    tracker_cfg(&cfg, "gpu");
    ct_tracker *t = NULL;
    setenv("CUDA_VISIBLE_DEVICES", "GPU-c2c2", 1);
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    assert_int_equal(ct_device_count(t), 1);
    ct_device_desc d;
    assert_int_equal(ct_get_device(t, 0, &d), 0);
    assert_string_equal(d.uuid, UUID_C);
    ct_tracker_free(t);

    setenv("CUDA_VISIBLE_DEVICES", "", 1);
    assert_int_equal(ct_tracker_new(&cfg, &t), CT_ENOSOURCE);
    assert_non_null(strstr(ct_last_error_message(), "CUDA_VISIBLE_DEVICES is set and empty"));

    setenv("CUDA_VISIBLE_DEVICES", "5", 1);
    assert_int_equal(ct_tracker_new(&cfg, &t), CT_ENOSOURCE);
    assert_non_null(strstr(ct_last_error_message(), "CUDA_VISIBLE_DEVICES=\"5\" selects none of the 3 GPUs"));
    unsetenv("CUDA_VISIBLE_DEVICES");
}

/* Local rank 1 leaves the node's GPUs to local rank 0, unless each rank measures its own. */
static void test_tracker_ranks(void **st) {
    (void)st;
    fake_proc();
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\n"
             "device " UUID_A " G0\nproc 3000003\n"
             "device " UUID_B " G1\nproc 3000002\n",
             t0);
    setenv("LOCAL_RANK", "1", 1);
    setenv("RANK", "3", 1);
    ct_config cfg;
    tracker_cfg(&cfg, "all");
    cfg.sim_cpu = "Test CPU";
    cfg.sim_cpu_tdp = 100;
    ct_tracker *t = NULL;
    /* This rank measures nothing (its tracker still keeps epoch times). */
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    assert_int_equal(ct_device_count(t), 0);
    ct_tracker_free(t);
    int rc;
    cfg.devices_by_pid = 1;
    rc = ct_tracker_new(&cfg, &t);
    if (rc) fail_msg("ct_tracker_new: %s", ct_last_error_message());
    assert_int_equal(ct_device_count(t), 2); /* both listed; only G1 runs our process */
    assert_int_equal(ct_epoch_start(t), 0);
    sleep_s(0.5);
    assert_int_equal(ct_epoch_end(t), 0);
    ct_epoch_info ep;
    assert_int_equal(ct_get_epoch(t, 0, &ep), 0);
    /* G1 only: 100 W (the fake's default) over the epoch; G0 would double it. */
    double want = 100 * ep.duration_s;
    if (fabs(ep.energy_j[CT_COMPONENT_GPU] - want) > 0.01 * want)
        fail_msg("epoch GPU energy %.3f J, expected %.3f J (G1 only)", ep.energy_j[CT_COMPONENT_GPU], want);
    ct_tracker_free(t);
    unsetenv("LOCAL_RANK");
    unsetenv("RANK");
}


/* A GPU lost mid-epoch through the tracker: flagged lost, warned about in the
 * JSON Lines log, its energy so far kept, the other GPU still measured. */
static void test_tracker_device_lost_jsonl(void **st) {
    (void)st;
    double t0 = ct__monotonic_s();
    scenario("origin %.9f\n"
             "device " UUID_A " NVIDIA A100-SXM4-40GB\nstep 0 200\n"
             "device " UUID_B " Tesla P100-PCIE-16GB\ncounter 0\nstep 0 100\nlost_after 0.8\n",
             t0);
    ct_config cfg;
    tracker_cfg(&cfg, "gpu");
    char logs[4200];
    snprintf(logs, sizeof logs, "%s/logs", g_dir);
    ts_mkdirs(g_dir, "logs");
    cfg.log_dir = logs;
    ct_tracker *t = NULL;
    int rc = ct_tracker_new(&cfg, &t);
    if (rc) fail_msg("ct_tracker_new: %s", ct_last_error_message());
    assert_int_equal(ct_epoch_start(t), 0);
    double s0 = ct__monotonic_s();
    sleep_s(1.5);
    assert_int_equal(ct_epoch_end(t), 0);
    double e1 = ct__monotonic_s();
    ct_device_desc d;
    assert_int_equal(ct_get_device(t, 0, &d), 0);
    assert_int_equal(d.lost, 0);
    assert_int_equal(ct_get_device(t, 1, &d), 0);
    assert_int_equal(d.lost, 1);
    ct_epoch_info ep;
    assert_int_equal(ct_get_epoch(t, 0, &ep), 0);
    /* A: 200 W for the whole epoch; B: 100 W until it was lost at 0.8 s (read at 10 Hz;
     * up to 300 ms of lateness allowed for a loaded machine). */
    double a_j = 200 * ep.duration_s, b_lo = 100 * (0.8 - 0.3 - (s0 - t0)), b_hi = 100 * (0.8 - (s0 - t0));
    double got = ep.energy_j[CT_COMPONENT_GPU];
    if (got < a_j * 0.995 + b_lo || got > a_j * 1.005 + b_hi + 1e-6 || e1 - s0 < ep.duration_s)
        fail_msg("epoch GPU energy %.2f J, expected %.2f + [%.2f, %.2f] J", got, a_j, b_lo, b_hi);
    ct_tracker_free(t);

    char *path = ts_find_suffix(logs, "_carbontracker.jsonl");
    assert_non_null(path);
    char *text = ts_read(path);
    assert_non_null(text);
    if (!strstr(text, "\"name\":\"NVIDIA A100-SXM4-40GB\"") || !strstr(text, "\"uuid\":\"" UUID_A "\"") ||
        !strstr(text, "\"method\":\"counter\"") || !strstr(text, "\"method\":\"power-polling\"") ||
        !strstr(text, "\"lost\":true") || !strstr(text, "is no longer readable (NVML: GPU is lost)"))
        fail_msg("JSON Lines log lacks the GPU devices, methods, lost flag or warning:\n%s", text);
    assert_int_equal(ts_count_lines_with(path, "is no longer readable"), 1); /* warned once */
    free(text);
    free(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cuda_visible_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_models_index_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mig, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices_by_pid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices_by_pid_none_yet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices_by_pid_old_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_epoch_energy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_nvml_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_cuda_visible_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_ranks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracker_device_lost_jsonl, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
