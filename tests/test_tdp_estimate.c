/*
 * test_tdp_estimate.c - the CPU estimate from TDP x packages x measured
 * utilisation, against fake /proc trees (CT_PROC_ROOT) whose /proc/stat
 * counters are scripted so that every interval's utilisation, and so the
 * energy, is known exactly: the unknown-model default, a missing cpuinfo,
 * malformed /proc/stat, containers billed for their cgroup's CPU time, the
 * DRAM estimate, and end to end when there is no RAPL. The TDP table lookup
 * and the real hosts and VMs are in test_tdp_lookup.c; the shared helpers
 * in support/tdp_support.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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
#include "sources/cpu_host.h"
#include "fake_powercap.h"
#include "test_support.h"
#include "tdp_support.h"

/* ------------------------------------------------------------------ */
/* The source through its ops table                                     */
/* ------------------------------------------------------------------ */

static void test_two_sockets_scripted_utilisation(void **st) {
    (void)st;
    fake_tree p;
    fake_stat s = {.user = 1000,
                   .nice = 10,
                   .system = 300,
                   .idle = 5000,
                   .iowait = 50,
                   .irq = 5,
                   .softirq = 5,
                   .steal = 0,
                   .guest = 0,
                   .guest_nice = 0};
    make_proc(&p, "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", 2, 16, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(ct__source_tdp.device_count(x.state), 1);
    ct_device_desc d;
    ct__source_tdp.describe(x.state, 0, &d);
    assert_string_equal(d.name, "cpu:0-1 (estimated)");
    assert_null(strchr(d.name, '.'));
    assert_null(strchr(d.name, ','));
    assert_string_equal(d.method, "estimate");
    assert_string_equal(d.source, "tdp");
    assert_int_equal(d.estimated, 1);
    assert_int_equal(d.lost, 0);
    assert_int_equal(d.component, CT_COMPONENT_CPU);
    assert_near(ct__source_tdp.max_read_interval(x.state), 1.0, 1e-12);
    /* the model, the table entry and the figures are said (info level) */
    assert_int_equal(x.notes.count[0], 1);
    assert_non_null(strstr(x.notes.last[0], "estimated"));
    assert_non_null(strstr(x.notes.last[0], "125 W"));
    assert_non_null(strstr(x.notes.last[0], "Xeon(R) Gold 6130 CPU"));
    assert_non_null(strstr(x.notes.last[0], "quattor"));
    assert_non_null(strstr(x.notes.last[0], "2 package(s)"));

    /* P(100 %) = 125 W x 2 packages = 250 W. */
    double t0 = ct__monotonic_s() + 10.0, e;
    /* interval 1 (from open): idle only -> 0 % -> 0 J exactly */
    s.idle += 400;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    assert_near(e, 0.0, EPS);
    /* interval 2: 2 s at 25 % (busy 200 of 800 ticks) -> 250 x 0.25 x 2 = 125 J */
    s.user += 150;
    s.system += 50;
    s.idle += 600;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 2.0, &e), 0);
    assert_near(e, 125.0, EPS);
    /* no tick moved (a read < 10 ms later in real life): provisional, last
     * utilisation x time since the last interval */
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 3.0, &e), 0);
    assert_near(e, 125.0 + 250.0 * 0.25 * 1.0, EPS);
    /* interval 3, 3 s from t0+2 at 90 %: user 800, nice 50, irq 30, softirq
     * 10, steal 10 busy; idle 50 + iowait 50 not busy; guest time is inside
     * user already and must not be counted twice. */
    s.user += 800;
    s.nice += 50;
    s.irq += 30;
    s.softirq += 10;
    s.steal += 10;
    s.idle += 50;
    s.iowait += 50;
    s.guest += 500;
    s.guest_nice += 20;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 5.0, &e), 0);
    assert_near(e, 125.0 + 250.0 * 0.9 * 3.0, EPS);
    /* interval 4: 100 % for 0.5 s */
    s.user += 1000;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 5.5, &e), 0);
    assert_near(e, 800.0 + 125.0, EPS);
    assert_int_equal(x.notes.count[1], 0);
    src_close(&x);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

/* An unknown model: the per-thread default, named for what it is (the old
 * message called 85 W per package "CodeCarbon's default"). */
static void test_unknown_model_uses_stated_default(void **st) {
    (void)st;
    fake_tree p;
    fake_stat s = {.user = 10, .idle = 10};
    make_proc(&p, "Frobnicator 9000 Processor", 1, 4, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    ct_device_desc d;
    ct__source_tdp.describe(x.state, 0, &d);
    assert_string_equal(d.name, "cpu:0 (estimated)");
    assert_int_equal(x.notes.count[1], 1); /* a warning: the figure is a guess */
    assert_non_null(strstr(x.notes.last[1], "\"Frobnicator 9000 Processor\" has no TDP in the CPU tables"));
    assert_non_null(strstr(x.notes.last[1], "per-thread default"));
    assert_non_null(strstr(x.notes.last[1], "median of the Cloud Carbon Footprint"));
    assert_null(strstr(x.notes.last[1], "CodeCarbon's default"));
    assert_null(strstr(x.notes.last[1], "85 W"));
    double min, max;
    ct__cpu_vcpu_default(&min, &max);
    assert_near(min, DEFAULT_MIN_W, 1e-12);
    assert_near(max, DEFAULT_MAX_W, 1e-12);
    double t0 = ct__monotonic_s() + 10.0, e1, e;
    s.idle += 100;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e1), 0);
    /* ~10 s idle since the open: the idle power of 4 threads */
    assert_true(e1 >= 4.0 * DEFAULT_MIN_W * 10.0 - EPS && e1 <= 4.0 * DEFAULT_MIN_W * 11.0);
    s.user += 50;
    s.idle += 50;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 4.0, &e), 0);
    /* then 4 s at 50 %: 4 threads x (min + 0.5 (max - min)) */
    assert_near(e - e1, 4.0 * (DEFAULT_MIN_W + 0.5 * (DEFAULT_MAX_W - DEFAULT_MIN_W)) * 4.0, 1e-9);
    src_close(&x);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

static void test_no_cpuinfo(void **st) {
    (void)st;
    fake_tree p;
    fake_stat s = {.user = 10, .idle = 10};
    make_proc(&p, NULL, 0, 0, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(x.notes.count[1], 1);
    assert_non_null(strstr(x.notes.last[1], "no readable cpuinfo"));
    assert_non_null(strstr(x.notes.last[1], "per-thread default"));
    src_close(&x);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

static void expect_open_fails(const char *stat_text, int rc, const char *needle) {
    fake_tree p;
    assert_int_equal(fake_tree_init(&p, "proc"), 0);
    assert_int_equal(fake_proc_cpuinfo(&p, "AMD EPYC 7763 64-Core Processor", 1, 2), 0);
    if (stat_text) assert_int_equal(fake_tree_write(&p, "stat", stat_text), 0);
    setenv("CT_PROC_ROOT", p.root, 1);
    src x;
    int got = src_open(&x);
    if (got != rc || !strstr(x.why, needle))
        fail_msg("stat \"%s\": rc %d, why \"%s\"; expected rc %d and \"%s\"", stat_text ? stat_text : "(none)", got,
                 x.why, rc, needle);
    assert_null(x.state);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

static void test_malformed_stat_fails_clearly(void **st) {
    (void)st;
    expect_open_fails(NULL, CT_ENOSOURCE, "CPU utilisation is unknown");
    expect_open_fails("", CT_EPARSE, "is empty");
    expect_open_fails("garbage\n", CT_EPARSE, "does not start with the aggregate \"cpu\" line");
    expect_open_fails("cpu0 1 2 3 4\n", CT_EPARSE, "aggregate");
    expect_open_fails("cpu  1 2 3\n", CT_EPARSE, "has 3 fields, at least 4");
    expect_open_fails("cpu  1 2 x 4 5\n", CT_EPARSE, "field 3 of the \"cpu\" line is not a number: \"x\"");
    expect_open_fails("cpu  1 2 -3 4 5\n", CT_EPARSE, "field 3");
    expect_open_fails("cpu  1 99999999999999999999999 3 4\n", CT_EPARSE, "field 2");
    expect_open_fails("cpu  18446744073709551615 18446744073709551615 3 4\n", CT_EPARSE, "overflows");
}

/* /proc/stat turning to garbage mid-run: the source fails as a whole, its
 * one device is marked lost and keeps its energy, one warning. */
static void test_malformed_stat_mid_run(void **st) {
    (void)st;
    fake_tree p;
    fake_stat s = {.user = 0, .idle = 100};
    make_proc(&p, "AMD EPYC 7763 64-Core Processor", 1, 2, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    double t0 = ct__monotonic_s() + 10.0, e;
    s.idle += 100;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    s.user += 100; /* 100 % for 1 s: 280 J */
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 1.0, &e), 0);
    assert_near(e, 280.0, EPS);
    assert_int_equal(fake_tree_write(&p, "stat", "cpu  garbage\n"), 0);
    assert_int_not_equal(ct__source_tdp.read(x.state, t0 + 2.0, &e), 0);
    assert_near(e, 280.0, EPS);
    ct_device_desc d;
    ct__source_tdp.describe(x.state, 0, &d);
    assert_int_equal(d.lost, 1);
    assert_int_not_equal(ct__source_tdp.read(x.state, t0 + 3.0, &e), 0);
    assert_near(e, 280.0, EPS);
    assert_int_equal(x.notes.count[1], 1);
    assert_non_null(strstr(x.notes.last[1], "malformed"));
    src_close(&x);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

/* ------------------------------------------------------------------ */
/* Containers: billed for the cgroup's CPU time                          */
/* ------------------------------------------------------------------ */

/* cgroup v2 (a container with its own cgroup namespace: "0::/"), limited to
 * 2 CPUs by cpu.max on a 16-thread, 2 x 80 W host: 10 W per busy CPU x the
 * cgroup's own CPU time, whatever the host's utilisation. */
static void test_cgroup_v2_limited(void **st) {
    (void)st;
    fake_tree p, dmi, cg;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "host-2socket-e5540", NULL, NULL, &s);
    assert_int_equal(ts_write(p.root, "self/cgroup", "0::/\n"), 0);
    assert_int_equal(fake_tree_init(&cg, "cgroup"), 0);
    assert_int_equal(ts_write(cg.root, "cpu.max", "200000 100000\n"), 0);
    assert_int_equal(ts_write(cg.root, "cpuset.cpus.effective", "0-15\n"), 0);
#define CPU_STAT_FMT                                                                                            \
    "usage_usec %d\nuser_usec %d\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\n" \
    "burst_usec 0\n"
    assert_int_equal(ts_writef(cg.root, "cpu.stat", CPU_STAT_FMT, 5000000, 5000000), 0);
    setenv("CT_CGROUP_ROOT", cg.root, 1);
    src x;
    assert_int_equal(src_open(&x), 0);
    if (!strstr(x.notes.last[0], "cgroup (v2)")) fail_msg("%s", x.notes.last[0]);
    assert_non_null(strstr(x.notes.last[0], "a CPU quota of 2 CPU(s)"));
    double t0 = ct__monotonic_s() + 1.0, e;
    /* the host is 100 % busy, the container used 3 CPU-seconds */
    s.user += 1000;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ts_writef(cg.root, "cpu.stat", CPU_STAT_FMT, 8000000, 8000000), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    assert_near(e, 3.0 * 10.0, 1e-9);
    src_close(&x);
    unsetenv("CT_CGROUP_ROOT");
    fake_tree_destroy(&cg);
    drop_fixture(&p, &dmi);
}

/* cgroup v1 (Docker: "N:cpu,cpuacct:/docker/<id>", "N:cpuset:/docker/<id>"),
 * a 1.5-CPU CFS quota: cpuacct.usage in ns. An unlimited cgroup ("max")
 * keeps the host's utilisation. */
static void test_cgroup_v1_and_unlimited(void **st) {
    (void)st;
    const char *id = "/docker/3a8b0e56d4b5a6f0c2e9d1e7f4b8c3a2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6";
    fake_tree p, dmi, cg;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "host-2socket-e5540", NULL, NULL, &s);
    assert_int_equal(ts_writef(p.root, "self/cgroup",
                               "12:pids:%s\n11:cpuset:%s\n5:cpu,cpuacct:%s\n2:memory:%s\n1:name=systemd:%s\n", id, id,
                               id, id, id),
                     0);
    assert_int_equal(fake_tree_init(&cg, "cgroup"), 0);
    char rel[256];
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpu.cfs_quota_us", id);
    assert_int_equal(ts_write(cg.root, rel, "150000\n"), 0);
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpu.cfs_period_us", id);
    assert_int_equal(ts_write(cg.root, rel, "100000\n"), 0);
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpuacct.usage", id);
    assert_int_equal(ts_write(cg.root, rel, "1000000000\n"), 0);
    snprintf(rel, sizeof rel, "cpuset%s/cpuset.cpus", id);
    assert_int_equal(ts_write(cg.root, rel, "0-15\n"), 0);
    setenv("CT_CGROUP_ROOT", cg.root, 1);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_non_null(strstr(x.notes.last[0], "cgroup (v1)"));
    assert_non_null(strstr(x.notes.last[0], "1.5 CPU(s)"));
    double t0 = ct__monotonic_s() + 1.0, e;
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpuacct.usage", id);
    assert_int_equal(ts_write(cg.root, rel, "2500000000\n"), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    assert_near(e, 1.5 * 10.0, 1e-9);
    src_close(&x);
    /* unlimited: quota -1, a cpuset of all 16 CPUs -> the machine's utilisation */
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpu.cfs_quota_us", id);
    assert_int_equal(ts_write(cg.root, rel, "-1\n"), 0);
    assert_int_equal(src_open(&x), 0);
    assert_null(strstr(x.notes.last[0], "cgroup"));
    assert_near(full_load_2s(&x, &p, &s, NULL), 2.0 * 160.0, 1e-6);
    src_close(&x);
    unsetenv("CT_CGROUP_ROOT");
    fake_tree_destroy(&cg);
    drop_fixture(&p, &dmi);
}

/* Copies a file of tests/fixtures/<rel> to dir/<to>. */
static void copy_fixture(const char *rel, const char *dir, const char *to) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/%s", ts_env("CT_TEST_SOURCE_DIR"), rel);
    char *text = ts_read(path);
    if (!text) fail_msg("fixture %s missing", rel);
    assert_int_equal(ts_write(dir, to, text), 0);
    free(text);
}

/* A real sandbox (the machine these tests were written on): a 2-vCPU VM of
 * an "AMD EPYC" with the model hidden (CPUID family 26: Zen 5, no CCF
 * figure, so the per-vCPU default), the hypervisor flag, and a hybrid cgroup
 * v1 with cpu and cpuacct mounted apart, no quota, a cpuset of both CPUs: not
 * limited, so the machine's utilisation counts. The same tree with a quota of
 * half a CPU (the one edit) is billed its cpuacct.usage. */
static void test_real_sandbox_cgroup_v1(void **st) {
    (void)st;
    fake_tree p, dmi, cg;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "vm-amd-epyc-zen5-2vcpu", NULL, NULL, &s);
    copy_fixture("cgroup/v1-hybrid-sandbox/proc/self/cgroup", p.root, "self/cgroup");
    assert_int_equal(fake_tree_init(&cg, "cgroup"), 0);
    static const char *const files[] = {"cpu/cpu.cfs_quota_us",
                                        "cpu/cpu.cfs_period_us",
                                        "cpu/cpu.shares",
                                        "cpu/cpu.stat",
                                        "cpuacct/cpuacct.usage",
                                        "cpuacct/cpuacct.stat",
                                        "cpuacct/cpuacct.usage_percpu",
                                        "cpuset/cpuset.cpus",
                                        "cpuset/cpuset.effective_cpus"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "cgroup/v1-hybrid-sandbox/sys/fs/cgroup/%s", files[i]);
        copy_fixture(rel, cg.root, files[i]);
    }
    setenv("CT_CGROUP_ROOT", cg.root, 1);
    ct_cgroup_cpu c;
    assert_int_equal(ct__cgroup_cpu_open(&c, 2), 0);
    assert_int_equal(c.version, 1);
    assert_int_equal(c.cpuset_cpus, 2);
    assert_true(c.quota_cpus == 0);
    assert_int_equal(c.limited, 0);
    double used;
    assert_int_equal(ct__cgroup_cpu_usage(&c, &used), 0);
    assert_near(used, 2864.694203334, 1e-9);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(x.notes.count[1], 1); /* the default stands in: a warning */
    assert_non_null(strstr(x.notes.last[1], "hypervisor flag"));
    assert_non_null(strstr(x.notes.last[1], "2 vCPU(s) of \"AMD EPYC\""));
    assert_null(strstr(x.notes.last[1], "cgroup"));
    assert_near(full_load_2s(&x, &p, &s, NULL), 2.0 * 2 * DEFAULT_MAX_W, 1e-6);
    src_close(&x);
    /* half a CPU of quota: limited, billed its own CPU time */
    assert_int_equal(ts_write(cg.root, "cpu/cpu.cfs_quota_us", "50000\n"), 0);
    memset(&x.notes, 0, sizeof x.notes);
    assert_int_equal(src_open(&x), 0);
    assert_non_null(strstr(x.notes.last[1], "cgroup (v1) limited to a CPU quota of 0.5 CPU(s)"));
    double t0 = ct__monotonic_s() + 1.0, e;
    assert_int_equal(ts_write(cg.root, "cpuacct/cpuacct.usage", "2866194203334\n"), 0); /* +1.5 s */
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    assert_near(e, 1.5 * DEFAULT_MAX_W, 1e-9);
    src_close(&x);
    unsetenv("CT_CGROUP_ROOT");
    fake_tree_destroy(&cg);
    drop_fixture(&p, &dmi);
}

/* ------------------------------------------------------------------ */
/* DRAM estimate: off by default, labelled when on                      */
/* ------------------------------------------------------------------ */
static void test_dram_estimate(void **st) {
    (void)st;
    fake_tree p, dmi;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "host-2socket-e5540", NULL, NULL, &s);
    assert_int_equal(ts_write(p.root, "meminfo", "MemTotal:       16777216 kB\nMemFree:         1000 kB\n"), 0);
    unsetenv("CT_DRAM_ESTIMATE");
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(ct__source_tdp.device_count(x.state), 1);
    src_close(&x);
    setenv("CT_DRAM_ESTIMATE", "1", 1);
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(ct__source_tdp.device_count(x.state), 2);
    ct_device_desc d;
    ct__source_tdp.describe(x.state, 1, &d);
    assert_string_equal(d.name, "dram (estimated)");
    assert_int_equal(d.estimated, 1);
    assert_string_equal(d.method, "estimate");
    assert_int_equal(x.notes.count[0], 2);
    assert_non_null(strstr(x.notes.last[0], "DRAM energy is estimated"));
    double e[2], t0 = ct__monotonic_s() + 1.0, a;
    assert_int_equal(ct__source_tdp.read(x.state, t0, e), 0);
    a = e[1];
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 10.0, e), 0);
    assert_near(e[1] - a, 0.392 * 16.0 * 10.0, 1e-9); /* 16 GB x 0.392 W/GB x 10 s */
    src_close(&x);
    unsetenv("CT_DRAM_ESTIMATE");
    drop_fixture(&p, &dmi);
}

/* ------------------------------------------------------------------ */
/* End to end: no RAPL, so the tracker uses the estimate               */
/* ------------------------------------------------------------------ */

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void test_e2e_estimate_when_no_rapl(void **st) {
    (void)st;
    fake_tree empty;
    assert_int_equal(fake_tree_init(&empty, "rapl"), 0);
    setenv("CT_POWERCAP_ROOT", empty.root, 1);
    fake_tree p;
    fake_stat s = {.user = 1000, .idle = 1000};
    make_proc(&p, "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", 2, 8, &s);

    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 2;
    cfg.components = "cpu";
    cfg.verbose = 0;
    cfg.carbon_intensity = 100.0;
    ct_tracker *tr = NULL;
    int rc = ct_tracker_new(&cfg, &tr);
    if (rc) fail_msg("ct_tracker_new: %s", ct_last_error_message());
    ct_device_desc d;
    assert_int_equal(ct_device_count(tr), 1);
    assert_int_equal(ct_get_device(tr, 0, &d), 0);
    assert_string_equal(d.name, "cpu:0-1 (estimated)");
    assert_string_equal(d.source, "tdp");
    assert_int_equal(d.estimated, 1);

    /* Utilisation 40 % in every interval (any read timing gives the same
     * answer): epoch energy = 250 W x 0.4 x epoch duration. */
    s.user += 40;
    s.idle += 60;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct_epoch_start(tr), 0);
    sleep_s(0.3);
    s.user += 400;
    s.idle += 600;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct_epoch_end(tr), 0);
    ct_epoch_info ep;
    assert_int_equal(ct_get_epoch(tr, 0, &ep), 0);
    double expect = 250.0 * 0.4 * ep.duration_s;
    assert_true(ep.duration_s >= 0.3);
    /* duration_s is from the wall clock, the source integrates on the
     * monotonic clock: they agree to well under a millisecond here. */
    if (fabs(ep.energy_j[CT_COMPONENT_CPU] - expect) > 250.0 * 0.4 * 1e-3)
        fail_msg("epoch energy %.6f J, expected %.6f J", ep.energy_j[CT_COMPONENT_CPU], expect);
    assert_int_equal(ct_stop(tr), 0);
    ct_result r;
    assert_int_equal(ct_get_actual(tr, &r), 0);
    assert_int_equal(r.estimated[CT_COMPONENT_CPU], 1);
    ct_tracker_free(tr);
    unsetenv("CT_PROC_ROOT");
    unsetenv("CT_POWERCAP_ROOT");
    fake_tree_destroy(&p);
    fake_tree_destroy(&empty);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_sockets_scripted_utilisation),
        cmocka_unit_test(test_unknown_model_uses_stated_default),
        cmocka_unit_test(test_no_cpuinfo),
        cmocka_unit_test(test_malformed_stat_fails_clearly),
        cmocka_unit_test(test_malformed_stat_mid_run),
        cmocka_unit_test(test_cgroup_v2_limited),
        cmocka_unit_test(test_cgroup_v1_and_unlimited),
        cmocka_unit_test(test_real_sandbox_cgroup_v1),
        cmocka_unit_test(test_dram_estimate),
        cmocka_unit_test(test_e2e_estimate_when_no_rapl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
