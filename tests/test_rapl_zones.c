/*
 * test_rapl_zones.c - which RAPL zones the source counts, against fake
 * powercap trees: the layouts, garbage, empty and missing zones, multi-die
 * mirrors counted once, psys on request, the DRAM estimate when there is no
 * dram zone, and unreadable counters (one message with the fix, and the
 * fall back to the estimate); directly through its ops table, and end to
 * end through the public API with CT_POWERCAP_ROOT pointing at the fake
 * tree. The counters themselves (wraps, resets) are in test_rapl.c; the
 * shared helpers in support/rapl_support.c.
 *
 * Every expected energy is the analytically known counter delta, compared
 * with a tolerance of 1e-9 J.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "sources/source.h"
#include "fake_powercap.h"
#include "test_support.h"
#include "rapl_support.h"

/* Nested-only layout (no flat links) and flat-only both find every zone. */
static void test_layouts(void **st) {
    (void)st;
    fake_tree t;
    assert_int_equal(fake_tree_init(&t, "rapl"), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "package-0", 10, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0:0", "dram", 10, RANGE_61UJ), 0);
    /* drop the flat link: nested only */
    char link[1024];
    snprintf(link, sizeof link, "%s/intel-rapl:0:0", t.root);
    assert_int_equal(unlink(link), 0);
    /* a control-type directory without counters, as the kernel has */
    snprintf(link, sizeof link, "%s/intel-rapl", t.root);
    assert_int_equal(mkdir(link, 0755), 0);
    use_root(&t);
    src s;
    assert_int_equal(src_open(&s, "auto"), 0);
    assert_int_equal(ct__source_rapl.device_count(s.state), 2);
    assert_string_equal(describe(&s, 1).name, "dram:0");
    src_close(&s);
    fake_tree_destroy(&t);
}

/* AMD: package zones only. The DRAM estimate is off by default; with
 * CT_DRAM_ESTIMATE=1 one more device, "dram (estimated)", marked estimated. */
static void test_dram_estimate_without_dram_zone(void **st) {
    (void)st;
    fake_tree t, p;
    assert_int_equal(fake_tree_init(&t, "rapl"), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "package-0", 10, RANGE_61UJ), 0);
    use_root(&t);
    assert_int_equal(fake_tree_init(&p, "proc"), 0);
    assert_int_equal(fake_tree_write(&p, "meminfo", "MemTotal:       67108864 kB\n"), 0);
    setenv("CT_PROC_ROOT", p.root, 1);
    unsetenv("CT_DRAM_ESTIMATE");
    src s;
    assert_int_equal(src_open(&s, NULL), 0);
    assert_int_equal(ct__source_rapl.device_count(s.state), 1);
    src_close(&s);
    setenv("CT_DRAM_ESTIMATE", "1", 1);
    assert_int_equal(src_open(&s, NULL), 0);
    assert_int_equal(ct__source_rapl.device_count(s.state), 2);
    ct_device_desc d = describe(&s, 1);
    assert_string_equal(d.name, "dram (estimated)");
    assert_int_equal(d.estimated, 1);
    assert_int_equal(describe(&s, 0).estimated, 0);
    double e[2], t0 = ct__monotonic_s() + 1.0, a;
    assert_int_equal(read_at(&s, t0, e), 0);
    a = e[1];
    assert_int_equal(read_at(&s, t0 + 5.0, e), 0);
    assert_near(e[1] - a, 0.392 * 64.0 * 5.0, 1e-9);
    src_close(&s);
    unsetenv("CT_DRAM_ESTIMATE");
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
    fake_tree_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* psys option                                                          */
/* ------------------------------------------------------------------ */

static void test_psys_option(void **st) {
    (void)st;
    fake_tree t;
    build_server(&t);
    src s;
    assert_int_equal(src_open(&s, "psys"), 0);
    assert_int_equal(ct__source_rapl.device_count(s.state), 1);
    assert_string_equal(describe(&s, 0).name, "psys:0");
    double e[1];
    assert_int_equal(read_all(&s, e), 0);
    assert_int_equal(fake_powercap_add(&t, "intel-rapl:2", 42000000ull), 0);
    assert_int_equal(fake_powercap_add(&t, "intel-rapl:0", 12500000ull), 0);
    assert_int_equal(fake_powercap_add(&t, "intel-rapl:0:2", 3000001ull), 0);
    assert_int_equal(read_all(&s, e), 0);
    assert_near(e[0], 42.0, EPS); /* psys alone, never + packages */
    src_close(&s);

    /* case-insensitive name of the option */
    assert_int_equal(src_open(&s, "PSYS"), 0);
    src_close(&s);

    /* unknown value: refused with the value and the choices */
    assert_int_equal(src_open(&s, "cores"), CT_EINVAL);
    assert_null(s.state);
    assert_non_null(strstr(s.why, "\"cores\""));
    assert_non_null(strstr(s.why, "psys"));
    assert_non_null(strstr(s.why, "auto"));
    fake_tree_destroy(&t);

    /* psys asked for where there is none */
    assert_int_equal(fake_tree_init(&t, "rapl"), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "package-0", 1, RANGE_61UJ), 0);
    use_root(&t);
    assert_int_equal(src_open(&s, "psys"), CT_ENOSOURCE);
    assert_non_null(strstr(s.why, "no usable psys zone"));
    fake_tree_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* Garbage, empty and missing files                                     */
/* ------------------------------------------------------------------ */

static void test_garbage_and_empty_zones_skipped(void **st) {
    (void)st;
    fake_tree t;
    build_server(&t);
    assert_int_equal(fake_powercap_write_raw(&t, "intel-rapl:1", "energy_uj", "12ab34\n"), 0);
    assert_int_equal(fake_powercap_write_raw(&t, "intel-rapl:1:0", "energy_uj", ""), 0);
    assert_int_equal(fake_powercap_write_raw(&t, "intel-rapl:0:2", "energy_uj", "-5\n"), 0);
    /* a zone with an empty name and one with no name: skipped with reasons */
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:3", "", 5, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:4", NULL, 5, RANGE_61UJ), 0);
    /* a 21-digit counter overflows u64: garbage too */
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:5", "package-5", 0, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_write_raw(&t, "intel-rapl:5", "energy_uj", "999999999999999999999\n"), 0);
    src s;
    assert_int_equal(src_open(&s, NULL), 0);
    assert_int_equal(ct__source_rapl.device_count(s.state), 1);
    assert_string_equal(describe(&s, 0).name, "cpu:0");
    assert_int_equal(s.notes.count[0], 1);
    const char *why = s.notes.last[0];
    assert_non_null(strstr(why, "intel-rapl:1 (package-1): energy_uj is not a number"));
    assert_non_null(strstr(why, "intel-rapl:1:0 (dram): energy_uj is empty"));
    assert_non_null(strstr(why, "intel-rapl:0:2 (dram): energy_uj is not a number"));
    assert_non_null(strstr(why, "intel-rapl:3: empty name"));
    assert_non_null(strstr(why, "intel-rapl:4: no readable name"));
    assert_non_null(strstr(why, "intel-rapl:5 (package-5): energy_uj is not a number"));
    double e[1];
    assert_int_equal(read_all(&s, e), 0);
    assert_int_equal(fake_powercap_add(&t, "intel-rapl:0", 777ull), 0);
    assert_int_equal(read_all(&s, e), 0);
    assert_near(e[0], 777e-6, EPS);
    src_close(&s);

    /* nothing usable: open fails and says why */
    assert_int_equal(fake_powercap_write_raw(&t, "intel-rapl:0", "energy_uj", "garbage"), 0);
    assert_int_equal(src_open(&s, NULL), CT_ENOSOURCE);
    assert_null(s.state);
    assert_non_null(strstr(s.why, "no usable package or dram zone"));
    assert_non_null(strstr(s.why, "intel-rapl:0 (package-0): energy_uj is not a number"));
    fake_tree_destroy(&t);
}

static void test_missing_root_and_no_zones(void **st) {
    (void)st;
    src s;
    setenv("CT_POWERCAP_ROOT", "/nonexistent/ct-powercap", 1);
    assert_int_equal(src_open(&s, NULL), CT_ENOSOURCE);
    assert_non_null(strstr(s.why, "/nonexistent/ct-powercap"));
    fake_tree t;
    assert_int_equal(fake_tree_init(&t, "rapl"), 0);
    use_root(&t);
    assert_int_equal(src_open(&s, NULL), CT_ENOSOURCE);
    assert_non_null(strstr(s.why, "no intel-rapl zones"));
    /* only mmio and core: still nothing to count */
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl-mmio:0", "package-0", 1, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "core", 1, RANGE_61UJ), 0);
    assert_int_equal(src_open(&s, NULL), CT_ENOSOURCE);
    assert_non_null(strstr(s.why, "no usable package or dram zone"));
    fake_tree_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* Multi-die                                                            */
/* ------------------------------------------------------------------ */

/* AMD Zen 1/2 style: one zone per die, all mirroring the socket counter. */
static void test_multi_die_mirrors_counted_once(void **st) {
    (void)st;
    fake_tree t;
    assert_int_equal(fake_tree_init(&t, "rapl"), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "package-0-die-0", 5000000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:1", "package-0-die-1", 5000000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:2", "package-1-die-0", 8000000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:3", "package-1-die-1", 8000000ull, RANGE_61UJ), 0);
    /* and a repeated plain name reading the same counter */
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:4", "package-1", 8000000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0:0", "core", 123, RANGE_61UJ), 0);
    use_root(&t);
    src s;
    assert_int_equal(src_open(&s, NULL), 0);
    assert_int_equal(ct__source_rapl.device_count(s.state), 2);
    assert_string_equal(describe(&s, 0).name, "cpu:0");
    assert_string_equal(describe(&s, 1).name, "cpu:1");
    assert_int_equal(s.notes.count[0], 3); /* three mirrors dropped, each said */
    assert_non_null(strstr(s.notes.all, "mirrors"));
    double e[2];
    assert_int_equal(read_all(&s, e), 0);
    const char *p0[] = {"intel-rapl:0", "intel-rapl:1"};
    const char *p1[] = {"intel-rapl:2", "intel-rapl:3", "intel-rapl:4"};
    for (int i = 0; i < 2; i++) assert_int_equal(fake_powercap_set(&t, p0[i], 15000000ull), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(fake_powercap_set(&t, p1[i], 28000000ull), 0);
    assert_int_equal(read_all(&s, e), 0);
    assert_near(e[0], 10.0, EPS);
    assert_near(e[1], 20.0, EPS);
    src_close(&s);
    fake_tree_destroy(&t);
}

/* Intel multi-die packages (e.g. Cascade Lake-AP): real per-die counters. */
static void test_multi_die_distinct_counters_summed(void **st) {
    (void)st;
    fake_tree t;
    assert_int_equal(fake_tree_init(&t, "rapl"), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "package-0-die-0", 1000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0:0", "dram", 70ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:1", "package-0-die-1", 2000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:1:0", "dram", 90ull, RANGE_61UJ), 0);
    use_root(&t);
    src s;
    assert_int_equal(src_open(&s, NULL), 0);
    assert_int_equal(ct__source_rapl.device_count(s.state), 4);
    assert_string_equal(describe(&s, 0).name, "cpu:0-die-0");
    assert_string_equal(describe(&s, 1).name, "cpu:0-die-1");
    assert_string_equal(describe(&s, 2).name, "dram:0-die-0");
    assert_string_equal(describe(&s, 3).name, "dram:0-die-1");
    double e[4];
    assert_int_equal(read_all(&s, e), 0);
    assert_int_equal(fake_powercap_add(&t, "intel-rapl:0", 1000000ull), 0);
    assert_int_equal(fake_powercap_add(&t, "intel-rapl:1", 3000000ull), 0);
    assert_int_equal(fake_powercap_add(&t, "intel-rapl:1:0", 500000ull), 0);
    assert_int_equal(read_all(&s, e), 0);
    assert_near(e[0] + e[1] + e[2] + e[3], 4.5, EPS);
    assert_near(e[1], 3.0, EPS);
    src_close(&s);
    fake_tree_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* EACCES                                                               */
/* ------------------------------------------------------------------ */

/* Root reads files whatever their mode, so when the tests run as root the
 * check runs in a child that drops to nobody (65534) first. Either way the
 * child verifies that energy_uj really is unreadable before it checks the
 * source, so the EACCES path is exercised, never skipped. Results come back
 * through a pipe: "<open rc>\n<why>\n<device names>\n". */
static int drop_privileges(void) {
    if (geteuid() != 0) return 0;
    if (setgroups(0, NULL) != 0) return -1;
    if (setgid(65534) != 0) return -1;
    if (setuid(65534) != 0) return -1;
    return geteuid() == 65534 ? 0 : -1;
}

typedef void (*child_fn)(const fake_tree *t, int out_fd);

/* Runs fn in a child as an unprivileged user; returns what it wrote. */
static void run_unprivileged(const fake_tree *t, child_fn fn, char *out, size_t outlen) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (drop_privileges() != 0) {
            dprintf(p[1], "SETUP could not drop privileges: %s\n", strerror(errno));
            _exit(2);
        }
        char path[1024];
        fake_powercap_path(t, "intel-rapl:0", "energy_uj", path, sizeof path);
        int fd = open(path, O_RDONLY);
        if (fd >= 0 || errno != EACCES) {
            dprintf(p[1], "SETUP energy_uj is readable (fd %d, errno %d): cannot test EACCES\n", fd, errno);
            _exit(3);
        }
        fn(t, p[1]);
        _exit(0);
    }
    close(p[1]);
    size_t used = 0;
    ssize_t r;
    while (used + 1 < outlen && (r = read(p[0], out + used, outlen - 1 - used)) > 0) used += (size_t)r;
    out[used] = '\0';
    close(p[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("EACCES child failed: %s", out);
}

static void eacces_child_source(const fake_tree *t, int out_fd) {
    (void)t;
    src s;
    int rc = src_open(&s, NULL);
    dprintf(out_fd, "%d\n%s\n%d\n", rc, s.why, s.notes.count[0] + s.notes.count[1]);
    src_close(&s);
}

static void build_unreadable(fake_tree *t) {
    build_server(t);
    const char *ids[] = {"intel-rapl:0", "intel-rapl:0:0", "intel-rapl:0:1", "intel-rapl:0:2",
                         "intel-rapl:1", "intel-rapl:1:0", "intel-rapl:1:1", "intel-rapl:2"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        assert_int_equal(fake_powercap_chmod(t, ids[i], "energy_uj", 0400), 0); /* as since Linux 5.10 */
    if (geteuid() != 0) /* owned by us: make it unreadable to us too */
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
            assert_int_equal(fake_powercap_chmod(t, ids[i], "energy_uj", 0000), 0);
}

static void test_eacces_one_message_with_fix(void **st) {
    (void)st;
    fake_tree t;
    build_unreadable(&t);
    char out[4096];
    run_unprivileged(&t, eacces_child_source, out, sizeof out);
    char expect_rc[16];
    snprintf(expect_rc, sizeof expect_rc, "%d\n", CT_ENOSOURCE);
    assert_memory_equal(out, expect_rc, strlen(expect_rc));
    assert_non_null(strstr(out, "permission denied"));
    assert_non_null(strstr(out, "run: " FIX_COMMAND " (first unreadable file: "));
    /* one message: the fix appears once, and the source printed nothing itself */
    const char *first = strstr(out, "sudo chmod");
    assert_null(strstr(first + 1, "sudo chmod"));
    const char *last_line = strrchr(out, '\n');
    while (last_line > out && last_line[-1] != '\n') last_line--;
    assert_string_equal(last_line, "0\n");
    chmod(t.root, 0700);
    fake_tree_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* End to end through the public API                                    */
/* ------------------------------------------------------------------ */

/* Through the tracker: an AMD host (packages only) with the DRAM estimate on
 * has a third device "dram (estimated)", and the run says its CPU energy is
 * estimated (partly: the packages are measured). Off by default: measured. */
static void test_e2e_dram_estimate_labels_the_run(void **st) {
    (void)st;
    fake_tree t, p;
    assert_int_equal(fake_tree_init(&t, "rapl"), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "package-0", 10, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:1", "package-1", 10, RANGE_61UJ), 0);
    use_root(&t);
    assert_int_equal(fake_tree_init(&p, "proc"), 0);
    assert_int_equal(fake_tree_write(&p, "meminfo", "MemTotal:       33554432 kB\n"), 0);
    setenv("CT_PROC_ROOT", p.root, 1);
    for (int on = 0; on <= 1; on++) {
        if (on) setenv("CT_DRAM_ESTIMATE", "1", 1);
        else unsetenv("CT_DRAM_ESTIMATE");
        ct_tracker *tr = new_cpu_tracker(1);
        assert_int_equal(ct_device_count(tr), 2 + on);
        ct_device_desc d;
        if (on) {
            assert_int_equal(ct_get_device(tr, 2, &d), 0);
            assert_string_equal(d.name, "dram (estimated)");
            assert_int_equal(d.estimated, 1);
        }
        assert_int_equal(ct_epoch_start(tr), 0);
        assert_int_equal(fake_powercap_add(&t, "intel-rapl:0", 1000000ull), 0);
        assert_int_equal(ct_epoch_end(tr), 0);
        ct_epoch_info ep;
        assert_int_equal(ct_get_epoch(tr, 0, &ep), 0);
        /* 1 J measured, plus 32 GB x 0.392 W/GB over the epoch when on */
        assert_true(ep.energy_j[CT_COMPONENT_CPU] >= 1.0 - EPS);
        if (!on) assert_near(ep.energy_j[CT_COMPONENT_CPU], 1.0, EPS);
        if (on) assert_true(ep.energy_j[CT_COMPONENT_CPU] <= 1.0 + 0.392 * 32.0 * (ep.duration_s + 0.01));
        assert_int_equal(ct_stop(tr), 0);
        ct_result r;
        assert_int_equal(ct_get_actual(tr, &r), 0);
        assert_int_equal(r.estimated[CT_COMPONENT_CPU], on);
        ct_tracker_free(tr);
    }
    unsetenv("CT_DRAM_ESTIMATE");
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
    fake_tree_destroy(&t);
}

/* rapl_zones = "psys" through the tracker: the platform zone alone. */
static void test_e2e_psys(void **st) {
    (void)st;
    fake_tree t;
    build_server(&t);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.components = "cpu";
    cfg.verbose = 0;
    cfg.update_interval = 30.0;
    cfg.carbon_intensity = 100.0;
    cfg.rapl_zones = "psys";
    ct_tracker *tr = NULL;
    int rc = ct_tracker_new(&cfg, &tr);
    if (rc) fail_msg("ct_tracker_new: %s", ct_last_error_message());
    assert_int_equal(ct_device_count(tr), 1);
    ct_device_desc d;
    assert_int_equal(ct_get_device(tr, 0, &d), 0);
    assert_string_equal(d.name, "psys:0");
    assert_int_equal(ct_epoch_start(tr), 0);
    add_epoch_deltas(&t, 1000000ull, 1000000ull, 1000000ull, 1000000ull); /* psys moves by 99.999999 J */
    assert_int_equal(ct_epoch_end(tr), 0);
    ct_epoch_info ep;
    assert_int_equal(ct_get_epoch(tr, 0, &ep), 0);
    assert_near(ep.energy_j[CT_COMPONENT_CPU], 99.999999, EPS);
    ct_tracker_free(tr);
    fake_tree_destroy(&t);
}

/* Unreadable counters through the tracker: the TDP estimate takes over,
 * and the chmod fix is in the tracker's messages. */
static int count_in(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle)) n++;
    return n;
}

static void eacces_child_tracker(const fake_tree *t, int out_fd) {
    char logs[700];
    snprintf(logs, sizeof logs, "%s/logs", t->root);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.components = "cpu";
    cfg.verbose = 0;
    cfg.carbon_intensity = 100.0;
    cfg.log_dir = logs;
    ct_tracker *tr = NULL;
    int rc = ct_tracker_new(&cfg, &tr);
    ct_device_desc d;
    memset(&d, 0, sizeof d);
    if (rc == 0) ct_get_device(tr, 0, &d);
    ct_tracker_free(tr);
    /* the fix command, once, in the error log and in the JSON Lines warnings */
    char *err = ts_find_suffix(logs, "_carbontracker_err.log");
    char *jsonl = ts_find_suffix(logs, "_carbontracker.jsonl");
    char *err_text = err ? ts_read(err) : NULL;
    char *jsonl_text = jsonl ? ts_read(jsonl) : NULL;
    dprintf(out_fd, "%d\n%s\n%s\n%d\nerr log: %d\njsonl: %d\n", rc, d.source, d.name, d.estimated,
            count_in(err_text, FIX_COMMAND), count_in(jsonl_text, FIX_COMMAND));
    free(err);
    free(jsonl);
    free(err_text);
    free(jsonl_text);
}

static void test_e2e_eacces_falls_back_to_estimate(void **st) {
    (void)st;
    fake_tree t;
    build_unreadable(&t);
    fake_tree proc;
    assert_int_equal(fake_tree_init(&proc, "proc"), 0);
    assert_int_equal(fake_proc_cpuinfo(&proc, "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", 2, 8), 0);
    fake_stat s0 = {.user = 100, .idle = 900};
    assert_int_equal(fake_proc_stat(&proc, &s0), 0);
    chmod(proc.root, 0755);
    setenv("CT_PROC_ROOT", proc.root, 1);
    /* the build machine's DMI (a cloud VM) and cgroup must not leak in */
    setenv("CT_DMI_ROOT", "/nonexistent/dmi", 1);
    setenv("CT_CGROUP_ROOT", "/nonexistent/cgroup", 1);
    char logs[700];
    snprintf(logs, sizeof logs, "%s/logs", t.root);
    assert_int_equal(mkdir(logs, 0777), 0);
    assert_int_equal(chmod(logs, 0777), 0);
    char out[4096];
    run_unprivileged(&t, eacces_child_tracker, out, sizeof out);
    assert_string_equal(out, "0\ntdp\ncpu:0-1 (estimated)\n1\nerr log: 1\njsonl: 1\n");
    unsetenv("CT_PROC_ROOT");
    unsetenv("CT_DMI_ROOT");
    unsetenv("CT_CGROUP_ROOT");
    fake_tree_destroy(&proc);
    fake_tree_destroy(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_dram_estimate_without_dram_zone),
        cmocka_unit_test(test_psys_option),
        cmocka_unit_test(test_garbage_and_empty_zones_skipped),
        cmocka_unit_test(test_missing_root_and_no_zones),
        cmocka_unit_test(test_multi_die_mirrors_counted_once),
        cmocka_unit_test(test_multi_die_distinct_counters_summed),
        cmocka_unit_test(test_eacces_one_message_with_fix),
        cmocka_unit_test(test_e2e_dram_estimate_labels_the_run),
        cmocka_unit_test(test_e2e_psys),
        cmocka_unit_test(test_e2e_eacces_falls_back_to_estimate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
