/* Allocation-failure torture (issue 10 item 1): the library's Nth allocation
 * fails, for every N, over ct_tracker_new, every epoch call, the getters,
 * ct_stop and ct_tracker_free, and over reading the logs back. Each run must
 * end without a crash, with 0 or a listed CT_E* code, and (under ASan) with
 * nothing leaked.
 *
 * How: this test is linked against the static library with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (and the other resource
 * calls src/ makes: fopen, opendir, pthread_create), so every call the
 * library's objects make goes to __wrap_* below, which fails the Nth one
 * once armed. Calls made inside libc or other shared libraries are not
 * counted (they do not go through the link-time wrap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/base.h"
#include "core/core.h"
#include "fake_powercap.h"
#include "test_support.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
FILE *__real_fopen(const char *path, const char *mode);
DIR *__real_opendir(const char *path);
int __real_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
FILE *__wrap_fopen(const char *path, const char *mode);
DIR *__wrap_opendir(const char *path);
int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

static atomic_long g_calls;   /* counted calls since armed */
static atomic_long g_fail_at; /* 0 = never fail; else the call number to fail */
static atomic_int g_failed;   /* the failure happened in this run */

static int should_fail(void) {
    long at = atomic_load(&g_fail_at);
    if (at <= 0) return 0;
    long n = atomic_fetch_add(&g_calls, 1) + 1;
    if (n != at) return 0;
    atomic_store(&g_failed, 1);
    return 1;
}

void *__wrap_malloc(size_t n) {
    if (should_fail()) return errno = ENOMEM, NULL;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
    if (should_fail()) return errno = ENOMEM, NULL;
    return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
    if (should_fail()) return errno = ENOMEM, NULL;
    return __real_realloc(p, n);
}
FILE *__wrap_fopen(const char *path, const char *mode) {
    if (should_fail()) return errno = ENOMEM, NULL;
    return __real_fopen(path, mode);
}
DIR *__wrap_opendir(const char *path) {
    if (should_fail()) return errno = ENOMEM, NULL;
    return __real_opendir(path);
}
int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    if (should_fail()) return EAGAIN;
    return __real_pthread_create(th, attr, fn, arg);
}

static void arm(long at) {
    atomic_store(&g_calls, 0);
    atomic_store(&g_failed, 0);
    atomic_store(&g_fail_at, at);
}
static void disarm(void) { atomic_store(&g_fail_at, 0); }

/* A return code is clear: 0 or one of the listed codes (a budget or stop code included). */
static void check_code(const char *what, long n, int rc) {
    if (rc > 0 || strcmp(ct_err_name(rc), "CT_EUNKNOWN") == 0) {
        disarm();
        fprintf(stderr, "failing allocation %ld: %s returned %d (not a CT_E* code)\n", n, what, rc);
        fail();
    }
}

typedef struct scenario {
    const char *name;
    void (*setup)(ct_config *c, const char *dir);
} scenario;

static fake_tree g_tree;
static char *g_dir;
static char g_keyfile[600];

static void base_config(ct_config *c, const char *logdir) {
    ct_config_init(c);
    c->epochs = 3;
    c->epochs_before_pred = 1;
    c->verbose = 0;
    c->update_interval = 0.05;
    c->log_dir = logdir;
    c->log_file_prefix = "torture";
    c->country = "Denmark";
}

static void setup_sim(ct_config *c, const char *dir) {
    base_config(c, dir);
    c->sim_cpu = "Simulated CPU";
    c->sim_cpu_tdp = 100;
    c->sim_gpu = "Simulated GPU";
    c->sim_gpu_watts = 250;
    c->max_energy_kwh = 1e-12; /* the budget path as well */
}

static void setup_rapl(ct_config *c, const char *dir) {
    base_config(c, dir);
    c->components = "cpu";
    c->verbose = 2; /* the info notices too (printed: verbose 2 is the path under test) */
}

static void setup_all_no_log(ct_config *c, const char *dir) {
    (void)dir;
    base_config(c, NULL);
    c->components = "all";
    c->country = "SE";
}

/* One run of a whole training: every public call a program makes. */
static void run_training(const scenario *s, long n) {
    ct_config c;
    s->setup(&c, g_dir);
    ct_tracker *t = (ct_tracker *)0x1;
    int rc = ct_tracker_new(&c, &t);
    check_code("ct_tracker_new", n, rc);
    if (rc != 0) {
        if (t != NULL) {
            disarm();
            fprintf(stderr, "failing allocation %ld: ct_tracker_new failed but *out is not NULL\n", n);
            fail();
        }
        if (ct_last_error_message()[0] == '\0') {
            disarm();
            fprintf(stderr, "failing allocation %ld: ct_tracker_new failed (%s) with no message\n", n, ct_err_name(rc));
            fail();
        }
        return;
    }
    for (int e = 0; e < 3; e++) {
        check_code("ct_epoch_start", n, ct_epoch_start(t));
        check_code("ct_epoch_end", n, ct_epoch_end(t));
        ct_result r;
        check_code("ct_get_predicted", n, ct_get_predicted(t, &r));
        ct_status st;
        check_code("ct_get_status", n, ct_get_status(t, &st));
        ct_epoch_info ei;
        check_code("ct_get_epoch", n, ct_get_epoch(t, 0, &ei));
    }
    ct_result r;
    check_code("ct_get_actual", n, ct_get_actual(t, &r));
    check_code("ct_stop", n, ct_stop(t));
    (void)ct_tracker_message(t);
    ct_tracker_free(t);
}

/* Reading the logs back (JSON Lines and text readers, aggregation). */
static void run_parse(const scenario *s, long n) {
    (void)s;
    const char *dirs[] = {g_dir};
    ct_runs *runs = NULL;
    int rc = ct_parse_dirs(dirs, 1, &runs);
    check_code("ct_parse_dirs", n, rc);
    if (rc == 0) {
        ct_runs_total tot;
        check_code("ct_runs_totals", n, ct_runs_totals(runs, &tot));
        char buf[1024];
        (void)ct_runs_sentence(runs, buf, sizeof buf);
        for (int i = 0; i < ct_runs_count(runs); i++) {
            ct_run_info ri;
            check_code("ct_runs_get", n, ct_runs_get(runs, i, &ri));
        }
    }
    ct_runs_free(runs);
}

/* The report from one run's JSON Lines log (the run reader; cairo's own
 * allocations are not counted). */
static char g_jsonl[PATH_MAX];
static void run_report(const scenario *s, long n) {
    (void)s;
    char out[PATH_MAX + 16];
    snprintf(out, sizeof out, "%s/r.svg", g_dir);
    int rc = ct_report_render(g_jsonl, out);
    check_code("ct_report_render", n, rc);
    unlink(out);
}

/* Fails the 1st, 2nd, ... counted call until a run no longer reaches N. */
static long torture(const scenario *s, void (*body)(const scenario *, long)) {
    long n = 1;
    for (;; n++) {
        arm(n);
        body(s, n);
        int failed = atomic_load(&g_failed);
        disarm();
        if (!failed) break;
    }
    return n - 1;
}

static int setup_trees(void **state) {
    (void)state;
    g_dir = ts_mkdtemp();
    if (fake_tree_init(&g_tree, "torture") != 0) return -1;
    fake_powercap_add_zone(&g_tree, "intel-rapl:0", "package-0", 1000000, 262143328850);
    fake_powercap_add_zone(&g_tree, "intel-rapl:0:0", "dram", 5000, 65712999613);
    fake_proc_cpuinfo(&g_tree, "Intel(R) Xeon(R) Gold 6326 CPU @ 2.90GHz", 1, 4);
    fake_stat st = {.user = 1000, .idle = 3000};
    fake_proc_stat(&g_tree, &st);
    setenv("CT_POWERCAP_ROOT", g_tree.root, 1);
    setenv("CT_PROC_ROOT", g_tree.root, 1);
    snprintf(g_keyfile, sizeof g_keyfile, "%s/em.key", g_tree.root);
    FILE *k = fopen(g_keyfile, "w");
    if (!k) return -1;
    fputs("not-a-real-key-0123456789\n", k);
    fclose(k);
    chmod(g_keyfile, 0600);
    return 0;
}

static int teardown_trees(void **state) {
    (void)state;
    fake_tree_destroy(&g_tree);
    ts_rmtree(g_dir);
    free(g_dir);
    return 0;
}

static void test_tracker_sim(void **state) {
    (void)state;
    static const scenario s = {"sim", setup_sim};
    long k = torture(&s, run_training);
    fprintf(stderr, "sim: %ld counted calls failed one at a time\n", k);
    assert_true(k > 20);
}

static void test_tracker_rapl(void **state) {
    (void)state;
    static const scenario s = {"rapl", setup_rapl};
    long k = torture(&s, run_training);
    fprintf(stderr, "rapl: %ld counted calls failed one at a time\n", k);
    assert_true(k > 20);
}

static void test_tracker_tdp_estimate(void **state) {
    (void)state;
    static const scenario s = {"tdp", setup_all_no_log};
    fake_tree empty;
    assert_int_equal(fake_tree_init(&empty, "torture-empty"), 0);
    setenv("CT_POWERCAP_ROOT", empty.root, 1); /* no RAPL: the TDP estimate */
    long k = torture(&s, run_training);
    setenv("CT_POWERCAP_ROOT", g_tree.root, 1);
    fake_tree_destroy(&empty);
    fprintf(stderr, "tdp: %ld counted calls failed one at a time\n", k);
    assert_true(k > 5);
}

/* Not offline: the key file read, the live intensity's thread started (every
 * service URL a closed local port, so nothing leaves the machine). */
static void setup_online(ct_config *c, const char *dir) {
    setup_sim(c, dir);
    c->country = "DK";
    c->zone = "DK-DK1";
    c->electricitymaps_key_file = g_keyfile;
}

static void test_tracker_online(void **state) {
    (void)state;
    static const scenario s = {"online", setup_online};
    unsetenv("CT_OFFLINE");
    setenv("CT_ELECTRICITYMAPS_URL", "http://127.0.0.1:9", 1);
    setenv("CT_ENERGIDATA_URL", "http://127.0.0.1:9", 1);
    setenv("CT_UKGRID_URL", "http://127.0.0.1:9", 1);
    setenv("CT_IPINFO_URL", "http://127.0.0.1:9", 1);
    setenv("CT_HTTP_TIMEOUT_MS", "200", 1);
    long k = torture(&s, run_training);
    setenv("CT_OFFLINE", "1", 1);
    fprintf(stderr, "online: %ld counted calls failed one at a time\n", k);
    assert_true(k > 20);
}

static void test_parse_logs(void **state) {
    (void)state;
    /* The logs the runs above wrote (one complete run at least: the last one of each torture). */
    static const scenario s = {"parse", setup_sim};
    run_training(&s, 0);
    long k = torture(&s, run_parse);
    fprintf(stderr, "parse: %ld counted calls failed one at a time\n", k);
    assert_true(k > 5);
    char *j = ts_find_suffix(g_dir, "_carbontracker.jsonl");
    assert_non_null(j);
    ct__strlcpy(g_jsonl, j, sizeof g_jsonl);
    free(j);
    k = torture(&s, run_report);
    fprintf(stderr, "report: %ld counted calls failed one at a time\n", k);
}

static void test_config_resolve(void **state) {
    (void)state;
    ct_config c;
    setup_sim(&c, "/tmp");
    c.zone = "DK-DK1";
    c.postcode = "SW1";
    c.cloud_provider = "gcp";
    c.cloud_region = "europe-west1";
    c.electricitymaps_key_file = "/nonexistent";
    long n = 1;
    for (;; n++) {
        ct_config r;
        char msg[256] = "";
        arm(n);
        int rc = ct__config_resolve(&c, &r, msg, sizeof msg);
        int failed = atomic_load(&g_failed);
        disarm();
        if (!failed) {
            assert_int_equal(rc, 0);
            ct__config_free(&r);
            break;
        }
        assert_int_equal(rc, CT_ENOMEM);
        assert_null(r.components); /* nothing borrowed, nothing half-copied */
        assert_null(r.country);
        assert_non_null(strstr(msg, "out of memory"));
        ct__config_free(&r);
    }
    assert_true(n > 8);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_resolve), cmocka_unit_test(test_tracker_sim),
        cmocka_unit_test(test_tracker_rapl),   cmocka_unit_test(test_tracker_tdp_estimate),
        cmocka_unit_test(test_tracker_online), cmocka_unit_test(test_parse_logs),
    };
    return cmocka_run_group_tests(tests, setup_trees, teardown_trees);
}
