/*
 * test_spank.c - the SPANK plugin's code outside SLURM (issue 13): the plugin
 * source is compiled into this test with a stand-in for the few SPANK calls it
 * makes (spank_get_item, spank_getenv, option registration, slurm_error...),
 * so that its logic also runs under ASan/UBSan and TSan (slurmstepd itself is
 * not built with sanitizers; the real cluster run is tests/cluster/test_slurm.sh).
 * Checks: a step measured into DIR/JOBID with the fake powercap truth, the node
 * list and attribution files, descriptors made close-on-exec; a DIR that
 * cannot be created and a missing energy source only log an error and return 0;
 * a job without the option and the extern step write nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/spank.h>

#include "fake_powercap.h"
#include "test_support.h"

/* The plugin's entry points (compiled in with the plugin's source, see tests/CMakeLists.txt). */
int slurm_spank_init(spank_t sp, int ac, char **av);
int slurm_spank_init_post_opt(spank_t sp, int ac, char **av);
int slurm_spank_exit(spank_t sp, int ac, char **av);

/* ---- the stand-in SPANK ---- */
static spank_context_t g_ctx = S_CTX_REMOTE;
static uint32_t g_job = 42, g_step = 0;
static struct spank_option g_opt;
static char g_log[8192];
static const char *g_env_cvd; /* job's CUDA_VISIBLE_DEVICES, NULL = unset */

spank_context_t spank_context(void) { return g_ctx; }
spank_err_t spank_option_register(spank_t sp, struct spank_option *opt) {
    (void)sp;
    g_opt = *opt;
    return ESPANK_SUCCESS;
}
spank_err_t spank_option_getopt(spank_t sp, struct spank_option *opt, char **arg) {
    (void)sp;
    (void)opt;
    (void)arg;
    return ESPANK_ERROR;
}
spank_err_t spank_get_item(spank_t sp, spank_item_t item, ...) {
    (void)sp;
    va_list ap;
    va_start(ap, item);
    spank_err_t rc = ESPANK_SUCCESS;
    switch (item) {
    case S_JOB_ID: *va_arg(ap, uint32_t *) = g_job; break;
    case S_JOB_STEPID: *va_arg(ap, uint32_t *) = g_step; break;
    case S_JOB_UID: *va_arg(ap, uid_t *) = getuid(); break;
    case S_JOB_GID: *va_arg(ap, gid_t *) = getgid(); break;
    case S_JOB_NODEID: *va_arg(ap, uint32_t *) = 0; break;
    default: rc = ESPANK_BAD_ARG;
    }
    va_end(ap);
    return rc;
}
spank_err_t spank_getenv(spank_t sp, const char *var, char *buf, int len) {
    (void)sp;
    const char *v = NULL;
    if (strcmp(var, "SLURM_STEP_NODELIST") == 0) v = "tn[1-2]";
    else if (strcmp(var, "CUDA_VISIBLE_DEVICES") == 0) v = g_env_cvd;
    else if (strcmp(var, "PWD") == 0) v = "/tmp";
    if (!v) return ESPANK_ENV_NOEXIST;
    snprintf(buf, (size_t)len, "%s", v);
    return ESPANK_SUCCESS;
}
__attribute__((format(printf, 2, 0))) static void logf_(const char *kind, const char *fmt, va_list ap) {
    size_t n = strlen(g_log);
    n += (size_t)snprintf(g_log + n, sizeof g_log - n, "%s: ", kind);
    if (n < sizeof g_log) vsnprintf(g_log + n, sizeof g_log - n, fmt, ap);
    n = strlen(g_log);
    if (n + 1 < sizeof g_log) strcat(g_log, "\n");
}
#define LOGFN(name)                   \
    void name(const char *fmt, ...) { \
        va_list ap;                   \
        va_start(ap, fmt);            \
        logf_(#name, fmt, ap);        \
        va_end(ap);                   \
    }
LOGFN(slurm_error)
LOGFN(slurm_info)
LOGFN(slurm_debug)

/* ---- the tests ---- */
static fake_tree g_tree;
static char *g_dir;

static int setup(void **state) {
    (void)state;
    if (fake_tree_init(&g_tree, "spank") != 0) return -1;
    if (fake_powercap_add_zone(&g_tree, "intel-rapl:0", "package-0", 1000000, 262143328850ull) != 0) return -1;
    setenv("CT_POWERCAP_ROOT", g_tree.root, 1);
    setenv("SLURMD_NODENAME", "tn1", 1);
    g_dir = ts_mkdtemp();
    g_log[0] = '\0';
    g_job++;
    g_step = 0;
    g_env_cvd = NULL;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    ts_rmtree(g_dir);
    free(g_dir);
    fake_tree_destroy(&g_tree);
    return 0;
}

static int count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        size_t l = strlen(e->d_name), k = strlen(suffix);
        if (l >= k && strcmp(e->d_name + l - k, suffix) == 0) n++;
    }
    closedir(d);
    return n;
}

/* One step through the plugin: init with args, the option, post_opt, "tasks" add add_uj, exit. */
static void run_step(char **args, int nargs, const char *opt, uint64_t add_uj) {
    assert_int_equal(slurm_spank_init(NULL, nargs, args), 0);
    if (opt) assert_int_equal(g_opt.cb(g_opt.val, opt, 1), 0);
    assert_int_equal(slurm_spank_init_post_opt(NULL, nargs, args), 0);
    /* every descriptor the plugin keeps open is close-on-exec (the tasks inherit none) */
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d)) continue;
        char link[256] = "";
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(p, link, sizeof link - 1);
        if (n > 0) link[n] = '\0';
        if (strstr(link, g_tree.root) || strstr(link, g_dir)) assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    }
    closedir(d);
    if (add_uj) assert_int_equal(fake_powercap_add(&g_tree, "intel-rapl:0", add_uj), 0);
    assert_int_equal(slurm_spank_exit(NULL, nargs, args), 0);
}

static void test_step_measured(void **state) {
    (void)state;
    char site[600];
    snprintf(site, sizeof site, "dir=%s", g_dir);
    char *args[] = {site, "pue=1", "interval=0.05"};
    char opt[700];
    snprintf(opt, sizeof opt, "%s/out", g_dir);
    run_step(args, 3, opt, 4000000);
    char jobdir[800];
    snprintf(jobdir, sizeof jobdir, "%s/out/%u", g_dir, g_job);
    assert_int_equal(count_files(jobdir, "_carbontracker.jsonl"), 1);
    assert_int_equal(count_files(jobdir, "_attribution.json"), 1);
    char *nodes = NULL;
    char p[900];
    snprintf(p, sizeof p, "%s/tn1.0.nodes", jobdir);
    nodes = ts_read(p);
    assert_non_null(nodes);
    assert_string_equal(nodes, "tn[1-2]\n");
    free(nodes);
    if (!strstr(g_log, "slurm_info: carbontracker: step measured: ") || !strstr(g_log, "cpu 4.0 J"))
        fail_msg("log: %s", g_log);
    assert_null(strstr(g_log, "slurm_error"));
    /* the log line names the real directory, not /proc/self/fd/N */
    assert_non_null(strstr(g_log, jobdir));
    /* parse --job reads it back: 4 J on tn1, tn2 named missing */
    char *out = NULL, *err = NULL;
    char jid[32], outdir[700];
    snprintf(jid, sizeof jid, "%u", g_job);
    snprintf(outdir, sizeof outdir, "%s/out", g_dir);
    char *argv[] = {(char *)ts_env("CT_CLI"), "parse", "--job", jid, outdir, "--format", "csv", NULL};
    assert_int_equal(ts_run(argv, NULL, &out, &err), 0);
    char want[100];
    snprintf(want, sizeof want, "\n%u,tn1,4,4,0,", g_job);
    if (!strstr(out, want)) fail_msg("parse --job: %s", out);
    snprintf(want, sizeof want, "\n%u,tn2,,,,,,,missing,", g_job);
    assert_non_null(strstr(out, want));
    free(out);
    free(err);
}

static void test_errors_never_fail(void **state) {
    (void)state;
    char *args[] = {"dir=/proc/ct-nowhere", "bogus-arg"};
    /* a DIR that cannot be created */
    run_step(args, 2, "/proc/ct-nowhere/x", 0);
    assert_non_null(strstr(g_log, "slurm_error: carbontracker: unknown plugin argument \"bogus-arg\" ignored"));
    assert_non_null(strstr(g_log, "cannot create /proc/ct-nowhere/x/"));
    /* no energy source at all */
    g_log[0] = '\0';
    setenv("CT_POWERCAP_ROOT", "/nonexistent", 1);
    char site[600];
    snprintf(site, sizeof site, "dir=%s", g_dir);
    char *args2[] = {site, "components=cpu", "interval=0.05"};
    setenv("CT_PROC_ROOT", "/nonexistent", 1); /* no TDP estimate either */
    run_step(args2, 3, "", 0);
    unsetenv("CT_PROC_ROOT");
    if (!strstr(g_log, "slurm_error: carbontracker: job ") || !strstr(g_log, "not measured"))
        fail_msg("log: %s", g_log);
    /* components=gpu and no GPU given: not measured, said once */
    g_log[0] = '\0';
    char *args3[] = {site, "components=gpu"};
    run_step(args3, 2, "", 0);
    assert_non_null(strstr(g_log, "no GPUs allocated and components=gpu"));
}

static void test_not_asked(void **state) {
    (void)state;
    char site[600];
    snprintf(site, sizeof site, "dir=%s", g_dir);
    char *args[] = {site};
    /* the option callback is not called: no option given, no "always" */
    assert_int_equal(slurm_spank_init(NULL, 1, args), 0);
    assert_int_equal(slurm_spank_init_post_opt(NULL, 1, args), 0);
    assert_int_equal(slurm_spank_exit(NULL, 1, args), 0);
    /* "always", but the extern step: nothing of the job's own */
    char *args2[] = {site, "always"};
    g_step = SLURM_EXTERN_CONT;
    run_step(args2, 2, NULL, 0);
    /* "always" and --carbontracker=off */
    g_step = 1;
    run_step(args2, 2, "off", 0);
    assert_int_equal(count_files(g_dir, ""), 0);
    assert_string_equal(g_log, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_step_measured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_never_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_asked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
