/* The tracker end to end with simulated devices, whose energy is known
 * exactly: power x the tracker's own epoch duration. */
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
#include "test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void busy_ms(int ms) { usleep((useconds_t)ms * 1000); }

static void base_config(ct_config *c, int epochs) {
    ct_config_init(c);
    c->epochs = epochs;
    c->verbose = 0;
    c->sim_cpu = "Simulated CPU";
    c->sim_cpu_tdp = 100; /* x 0.5 = 50 W */
    c->sim_gpu = "Simulated GPU";
    c->sim_gpu_watts = 300;
    c->sim_gpu_util = 0.8; /* 240 W */
    c->carbon_intensity = 200;
    c->update_interval = 0.02;
}

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static void test_energy_exact_and_prediction(void **state) {
    (void)state;
    ct_config c;
    base_config(&c, 10);
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    assert_int_equal(ct_device_count(t), 2);
    ct_result r;
    assert_int_equal(ct_get_predicted(t, &r), CT_ENODATA);
    assert_int_equal(ct_get_actual(t, &r), CT_ENODATA);
    for (int e = 0; e < 3; e++) {
        assert_int_equal(ct_epoch_start(t), 0);
        busy_ms(120 + 40 * e);
        assert_int_equal(ct_epoch_end(t), 0);
        busy_ms(30); /* time between epochs is not counted */
    }
    assert_int_equal(ct_epoch_count(t), 3);
    double sum_j = 0, sum_d = 0, sum_co2 = 0;
    for (int e = 0; e < 3; e++) {
        ct_epoch_info in;
        assert_int_equal(ct_get_epoch(t, e, &in), 0);
        assert_int_equal(in.epoch, e + 1);
        assert_true(in.duration_s >= 0.1);
        NEAR(in.energy_j[CT_COMPONENT_CPU], 50.0 * in.duration_s, 1e-9);
        NEAR(in.energy_j[CT_COMPONENT_GPU], 240.0 * in.duration_s, 1e-9);
        NEAR(in.end_unix_s - in.start_unix_s, in.duration_s, 1e-6);
        /* CO2eq = kWh (with PUE) x 200 g/kWh */
        NEAR(in.co2eq_g, 290.0 * in.duration_s / 3.6e6 * 1.58 * 200, 1e-9);
        sum_j += 290.0 * in.duration_s;
        sum_d += in.duration_s;
        sum_co2 += in.co2eq_g;
    }
    assert_int_equal(ct_get_epoch(t, 3, &(ct_epoch_info){0}), CT_ENODATA);
    assert_int_equal(ct_get_predicted(t, &r), 0);
    ct_epoch_info first;
    ct_get_epoch(t, 0, &first);
    assert_int_equal(r.epochs, 10);
    /* refined from all 3 epochs (issue 12), not 10 x epoch 1: the 7 to come at
     * a value between the shortest and the longest epoch seen */
    double dmin = 1e300, dmax = 0;
    for (int e = 0; e < 3; e++) {
        ct_epoch_info in;
        ct_get_epoch(t, e, &in);
        dmin = fmin(dmin, in.duration_s), dmax = fmax(dmax, in.duration_s);
    }
    assert_true(r.duration_s >= sum_d + 7 * dmin - 1e-9 && r.duration_s <= sum_d + 7 * dmax + 1e-9);
    assert_true(r.duration_s_low <= r.duration_s && r.duration_s <= r.duration_s_high);
    NEAR(r.energy_j[CT_COMPONENT_CPU], 50.0 * r.duration_s, 1e-6 * r.energy_j[CT_COMPONENT_CPU]);
    NEAR(r.energy_kwh, 290.0 * r.duration_s / 3.6e6 * 1.58, 1e-6 * r.energy_kwh);
    NEAR(r.co2eq_g, r.energy_kwh * 200, 1e-9);
    assert_true(r.co2eq_g_low <= r.co2eq_g && r.co2eq_g <= r.co2eq_g_high);
    assert_int_equal(r.intensity_kind, CT_INTENSITY_FIXED);
    assert_int_equal(ct_get_actual(t, &r), 0);
    assert_int_equal(r.epochs, 3);
    NEAR(r.duration_s, sum_d, 1e-9);
    NEAR(r.energy_kwh, sum_j / 3.6e6 * 1.58, 1e-12);
    NEAR(r.co2eq_g, sum_co2, 1e-9);
    NEAR(r.intensity_g_per_kwh, 200, 1e-9);
    assert_true(r.energy_kwh_low == r.energy_kwh && r.energy_kwh_high == r.energy_kwh); /* actual: no interval */
    assert_true(r.duration_s_low == r.duration_s && r.co2eq_g_high == r.co2eq_g);
    assert_true(r.has_component[0] && r.has_component[1]);
    assert_true(r.estimated[0] && r.estimated[1]); /* simulated numbers are not measurements */
    ct_device_desc d;
    assert_int_equal(ct_get_device(t, 0, &d), 0);
    assert_string_equal(d.method, "simulated");
    assert_int_equal(ct_get_device(t, 5, &d), CT_ENODATA);
    assert_int_equal(ct_stop(t), 0);
    assert_int_equal(ct_stop(t), 0); /* idempotent */
    assert_int_equal(ct_epoch_start(t), CT_ESTOPPED);
    ct_tracker_free(t);
}

static void test_monitor_epochs_and_state_errors(void **state) {
    (void)state;
    ct_config c;
    base_config(&c, 5);
    c.monitor_epochs = 2;
    c.epochs_before_pred = 2;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    assert_int_equal(ct_epoch_end(t), CT_ESTATE);
    /* one way to the detail: the calling thread's ct_last_error_message(),
     * the same text as the (deprecated) ct_tracker_message() */
    assert_non_null(strstr(ct_last_error_message(), "without epoch_start"));
    assert_string_equal(ct_last_error_message(), ct_tracker_message(t));
    assert_int_equal(ct_get_epoch(t, 7, &(ct_epoch_info){0}), CT_ENODATA);
    assert_non_null(strstr(ct_last_error_message(), "no epoch at index 7"));
    assert_int_equal(ct_get_epoch(NULL, 0, &(ct_epoch_info){0}), CT_EINVAL);
    assert_non_null(strstr(ct_last_error_message(), "ct_get_epoch"));
    double ej;
    assert_int_equal(ct_get_device_energy(t, 99, &ej), CT_ENODATA);
    assert_non_null(strstr(ct_last_error_message(), "no device at index 99"));
    assert_int_equal(ct_get_intensity_now(NULL, &ej, NULL, NULL, 0), CT_EINVAL);
    assert_non_null(strstr(ct_last_error_message(), "ct_get_intensity_now"));
    assert_int_equal(ct_epoch_start(t), 0);
    assert_int_equal(ct_epoch_start(t), CT_ESTATE);
    assert_int_equal(ct_epoch_end(t), 0);
    ct_result r;
    assert_int_equal(ct_get_predicted(t, &r), 0); /* refined from epoch 1 on (issue 12); printed after 2 */
    assert_int_equal(ct_epoch_start(t), 0);
    assert_int_equal(ct_epoch_end(t), 0);
    assert_int_equal(ct_get_predicted(t, &r), 0);
    assert_int_equal(r.epochs, 5);
    /* monitoring ended after 2 epochs: further epochs are not recorded */
    assert_int_equal(ct_epoch_start(t), CT_ESTOPPED);
    assert_int_equal(ct_epoch_end(t), CT_ESTOPPED);
    assert_int_equal(ct_epoch_count(t), 2);
    ct_tracker_free(t);

    base_config(&c, 3);
    c.ignore_errors = 1;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    assert_int_equal(ct_epoch_end(t), 0); /* ignored, message kept */
    assert_non_null(strstr(ct_tracker_message(t), "without epoch_start"));
    ct_tracker_free(t);
}

static void test_stop_in_epoch_and_logs(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ct_config c;
    base_config(&c, 4);
    c.log_dir = dir;
    c.log_file_prefix = "run";
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    assert_non_null(ct_log_path(t));
    assert_int_equal(ct_epoch_start(t), 0);
    busy_ms(100);
    assert_int_equal(ct_epoch_end(t), 0);
    assert_int_equal(ct_epoch_start(t), 0);
    busy_ms(100);
    assert_int_equal(ct_stop(t), 0); /* closes the epoch in progress */
    assert_int_equal(ct_epoch_count(t), 2);
    char *std = strdup(ct_log_path(t));
    char *jsonl = strdup(ct_jsonl_path(t));
    ct_tracker_free(t);
    /* names: run_{pid}.{random}_{YYYY-MM-DDTHHMMSSZ}_carbontracker.log */
    const char *base = strrchr(std, '/') + 1;
    char want_prefix[64];
    snprintf(want_prefix, sizeof want_prefix, "run_%d.", (int)getpid());
    assert_memory_equal(base, want_prefix, strlen(want_prefix));
    assert_non_null(strstr(base, "Z_carbontracker.log"));
    char *out = ts_find_suffix(dir, "_carbontracker_output.log");
    assert_non_null(out);
    assert_null(ts_find_suffix(dir, "_carbontracker_err.log")); /* created only on error */
    assert_int_equal(ts_count_lines_with(std, "Training was interrupted before all 4 epochs were monitored."), 1);
    assert_int_equal(ts_count_lines_with(std, "Epoch "), 2);
    assert_int_equal(ts_count_lines_with(std, "Average power usage (W) for cpu: ["), 2);
    assert_int_equal(ts_count_lines_with(std, "Average power usage (W) for gpu: ["), 2);
    assert_int_equal(
        ts_count_lines_with(
            std,
            "The following components were found: GPU with device(s) Simulated GPU. CPU with device(s) Simulated CPU."),
        1);
    assert_int_equal(ts_count_lines_with(out, "Actual consumption for 2 epoch(s):"), 1);
    assert_int_equal(ts_count_lines_with(out, "Predicted consumption for 4 epoch(s):"), 1);
    assert_int_equal(ts_count_lines_with(jsonl, "\"event\":\"header\""), 1);
    assert_int_equal(ts_count_lines_with(jsonl, "\"event\":\"epoch\""), 2);
    /* the prediction after epoch 1 (the block's), its refinement after epoch 2 (issue 12) */
    assert_int_equal(ts_count_lines_with(jsonl, "\"event\":\"prediction\""), 2);
    assert_int_equal(ts_count_lines_with(jsonl, "\"event\":\"prediction\",\"after_epochs\":1,"), 1);
    assert_int_equal(ts_count_lines_with(jsonl, "\"event\":\"prediction\",\"after_epochs\":2,"), 1);
    assert_int_equal(ts_count_lines_with(jsonl, "\"event\":\"final\""), 1);
    assert_int_equal(ts_count_lines_with(jsonl, "\"early_stop\":true"), 1);
    free(std);
    free(jsonl);
    free(out);
    ts_rmtree(dir);
    free(dir);
}

static void test_unwritable_log_dir(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ts_write(dir, "file", "x");
    char bad[600];
    snprintf(bad, sizeof bad, "%s/file/logs", dir); /* a path below a regular file can never be created */
    ct_config c;
    base_config(&c, 2);
    c.log_dir = bad;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0); /* the training is not affected */
    assert_non_null(strstr(ct_tracker_message(t), "cannot create log_dir"));
    assert_null(ct_log_path(t));
    assert_int_equal(ct_epoch_start(t), 0);
    assert_int_equal(ct_epoch_end(t), 0);
    ct_result r;
    assert_int_equal(ct_get_actual(t, &r), 0);
    ct_tracker_free(t);
    ts_rmtree(dir);
    free(dir);
}

static void test_missing_gpu(void **state) {
    (void)state;
    setenv("CT_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
    setenv("CT_DRM_ROOT", "/nonexistent/drm", 1);
    ct_config c;
    ct_config_init(&c);
    c.epochs = 1;
    c.verbose = 0;
    c.components = "gpu";
    ct_tracker *t = (ct_tracker *)0x1;
    assert_int_equal(ct_tracker_new(&c, &t), CT_ENOSOURCE);
    assert_null(t);
    assert_non_null(strstr(ct_last_error_message(), "component \"gpu\" was requested but no gpu energy source"));
    /* "all" goes on with the CPU */
    c.components = "all";
    c.sim_cpu = "cpu";
    c.sim_cpu_tdp = 10;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    ct_device_desc d;
    assert_int_equal(ct_device_count(t), 1);
    ct_get_device(t, 0, &d);
    assert_int_equal(d.component, CT_COMPONENT_CPU);
    ct_tracker_free(t);
    unsetenv("CT_NVML_LIBRARY");
    unsetenv("CT_DRM_ROOT");
}

static void test_budget(void **state) {
    (void)state;
    ct_config c;
    base_config(&c, 100);
    c.max_energy_kwh = 1e-3; /* 290 W x ~0.1 s x 100 epochs x 1.58 = ~0.0013 kWh predicted */
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    assert_int_equal(ct_epoch_start(t), 0);
    busy_ms(100);
    assert_int_equal(ct_epoch_end(t), CT_EBUDGET);
    assert_non_null(strstr(ct_tracker_message(t), "predicted energy"));
    assert_non_null(strstr(ct_tracker_message(t), "exceeds the energy budget of 0.001 kWh by"));
    assert_int_equal(ct_epoch_count(t), 1); /* the epoch is recorded anyway */
    ct_status st;
    assert_int_equal(ct_get_status(t, &st), 0);
    assert_int_equal(st.budget_exceeded, CT_BUDGET_ENERGY); /* energy only */
    assert_non_null(strstr(ct_last_error_message(), "exceeds the energy budget"));
    ct_tracker_free(t);
}

static void test_status_and_series(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ct_config c;
    base_config(&c, 2);
    c.log_dir = dir;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    assert_int_equal(ct_epoch_start(t), 0);
    busy_ms(300);
    ct_status st;
    assert_int_equal(ct_get_status(t, &st), 0);
    assert_int_equal(st.epoch, 1);
    assert_int_equal(st.in_epoch, 1);
    NEAR(st.power_w[CT_COMPONENT_CPU], 50.0, 1e-6); /* from the background samples */
    NEAR(st.power_w[CT_COMPONENT_GPU], 240.0, 1e-6);
    assert_true(st.energy_j[CT_COMPONENT_CPU] > 50 * 0.2);
    assert_int_equal(ct_epoch_end(t), 0);
    assert_int_equal(ct_get_status(t, &st), 0);
    assert_int_equal(st.has_prediction, 1);
    char *jsonl = strdup(ct_jsonl_path(t));
    ct_tracker_free(t);
    char *text = ts_read(jsonl);
    assert_non_null(text);
    const char *ps = strstr(text, "\"power_series\":{\"t\":[");
    assert_non_null(ps); /* ~15 samples at 20 ms in 300 ms */
    assert_non_null(strstr(ps, "\"cpu\":[50.000"));
    free(text);
    free(jsonl);
    ts_rmtree(dir);
    free(dir);
}

static void test_intensity_default_and_country(void **state) {
    (void)state;
    unsetenv("CT_COUNTRY");
    ct_config c;
    base_config(&c, 1);
    c.carbon_intensity = -1;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    ct_epoch_start(t);
    ct_epoch_end(t);
    ct_result r;
    assert_int_equal(ct_get_actual(t, &r), 0);
    assert_int_equal(r.intensity_kind, CT_INTENSITY_DEFAULT);
    NEAR(r.intensity_g_per_kwh, 481.0, 1e-9);
    ct_tracker_free(t);
    c.country = "al";
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    ct_epoch_start(t);
    ct_epoch_end(t);
    assert_int_equal(ct_get_actual(t, &r), 0);
    assert_int_equal(r.intensity_kind, CT_INTENSITY_STATIC);
    NEAR(r.intensity_g_per_kwh, 24.285715, 1e-6);
    assert_non_null(strstr(r.intensity_source, "Albania (AL), yearly average 2022, Our World in Data"));
    ct_tracker_free(t);
}

/* stop_and_confirm reads the answer from stdin: "n" declines, "y" continues,
 * end of input continues. Run in a child whose stdin is a pipe. */
static int confirm_child(const char *answer) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[1]);
        dup2(fd[0], 0);
        ct_config c;
        base_config(&c, 3);
        c.stop_and_confirm = 1;
        ct_tracker *t = NULL;
        if (ct_tracker_new(&c, &t) != 0) _exit(90);
        ct_epoch_start(t);
        int rc = ct_epoch_end(t);
        int n = ct_epoch_start(t); /* after a "no", monitoring has ended */
        ct_tracker_free(t);
        _exit(rc == CT_EDECLINED ? (n == CT_ESTOPPED ? 10 : 11) : rc == 0 ? (n == 0 ? 20 : 21) : 30);
    }
    close(fd[0]);
    if (answer) {
        ssize_t w = write(fd[1], answer, strlen(answer));
        (void)w;
    }
    close(fd[1]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_stop_and_confirm(void **state) {
    (void)state;
    assert_int_equal(confirm_child("n\n"), 10);
    assert_int_equal(confirm_child("y\n"), 20);
    assert_int_equal(confirm_child("maybe\nY\n"), 20);
    assert_int_equal(confirm_child(NULL), 20); /* no answer: training goes on */
}

static int confirm_calls;
static int answer_no(void *user) {
    confirm_calls++;
    return *(int *)user;
}

static void test_confirm_hook(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ct_config c;
    base_config(&c, 4);
    c.stop_and_confirm = 1;
    c.log_dir = dir;
    ct_tracker *t = NULL;
    int answer = 0;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    assert_int_equal(ct_set_confirm_fn(t, answer_no, &answer), 0);
    confirm_calls = 0;
    ct_epoch_start(t);
    assert_int_equal(ct_epoch_end(t), CT_EDECLINED);
    assert_int_equal(confirm_calls, 1);
    assert_int_equal(ct_epoch_start(t), CT_ESTOPPED);
    char *std = strdup(ct_log_path(t));
    ct_tracker_free(t);
    assert_int_equal(ts_count_lines_with(std, "Session ended by user."), 1);
    assert_int_equal(ts_count_lines_with(std, "Training was interrupted before all 4 epochs were monitored."), 1);
    free(std);
    /* Without stop_and_confirm the hook is never called. */
    c.stop_and_confirm = 0;
    c.log_dir = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    ct_set_confirm_fn(t, answer_no, &answer);
    ct_epoch_start(t);
    assert_int_equal(ct_epoch_end(t), 0);
    assert_int_equal(confirm_calls, 1);
    ct_tracker_free(t);
    assert_int_equal(ct_set_confirm_fn(NULL, answer_no, NULL), CT_EINVAL);
    ts_rmtree(dir);
    free(dir);
}

/* A full disk (RLIMIT_FSIZE with SIGXFSZ ignored: writes past the limit fail
 * with EFBIG as they fail with ENOSPC on a full disk). Every line of the JSON
 * Lines log stays one whole record, the user is told once, writing resumes
 * when space returns and a "gap" record names the epochs that are missing. */
static void test_jsonl_full_disk(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ct_config c;
    base_config(&c, 12);
    c.verbose = 1;
    c.status_line = 0;
    c.log_dir = dir;
    char capture[700];
    snprintf(capture, sizeof capture, "%s/stdout.txt", dir);
    fflush(stdout);
    int saved_stdout = dup(1);
    FILE *cap = fopen(capture, "w");
    assert_non_null(cap);
    dup2(fileno(cap), 1);
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    char *jsonl = strdup(ct_jsonl_path(t));
    struct rlimit old;
    getrlimit(RLIMIT_FSIZE, &old);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    for (int e = 1; e <= 12; e++) {
        if (e == 5) { /* the disk fills up: the next record does not fit */
            struct stat st;
            assert_int_equal(stat(jsonl, &st), 0);
            struct rlimit lim = {(rlim_t)st.st_size + 40, old.rlim_max};
            assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        }
        if (e == 9) assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0); /* space returns */
        assert_int_equal(ct_epoch_start(t), 0);
        busy_ms(20);
        assert_int_equal(ct_epoch_end(t), 0);
    }
    ct_tracker_free(t);
    signal(SIGXFSZ, old_sig);
    fflush(stdout);
    dup2(saved_stdout, 1);
    close(saved_stdout);
    fclose(cap);

    char *text = ts_read(jsonl);
    assert_non_null(text);
    int lines = 0, epochs = 0, gaps = 0;
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        assert_non_null(nl); /* every record ends its line */
        *nl = '\0';
        lines++;
        /* one whole record per line: starts and ends an object, one "event" */
        assert_true(line[0] == '{' && nl[-1] == '}');
        char *ev = strstr(line, "\"event\":");
        assert_non_null(ev);
        assert_null(strstr(ev + 1, "\"event\":"));
        if (strstr(line, "\"event\":\"epoch\"")) {
            int n = atoi(strstr(line, "\"epoch\":") + 8);
            assert_true(n < 5 || n > 8);
            epochs++;
        }
        if (strstr(line, "\"event\":\"gap\"")) {
            gaps++;
            assert_non_null(strstr(line, "\"epochs_missing\":[5,6,7,8]"));
        }
    }
    assert_int_equal(epochs, 8);
    assert_int_equal(gaps, 1);
    assert_int_equal(ts_count_lines_with(jsonl, "\"event\":\"final\""), 1);
    /* told once, on the console */
    assert_int_equal(ts_count_lines_with(capture, "cannot write the JSON Lines log"), 1);
    free(text);
    free(jsonl);
    ts_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_energy_exact_and_prediction),
        cmocka_unit_test(test_monitor_epochs_and_state_errors),
        cmocka_unit_test(test_stop_in_epoch_and_logs),
        cmocka_unit_test(test_unwritable_log_dir),
        cmocka_unit_test(test_missing_gpu),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_status_and_series),
        cmocka_unit_test(test_intensity_default_and_country),
        cmocka_unit_test(test_stop_and_confirm),
        cmocka_unit_test(test_confirm_hook),
        cmocka_unit_test(test_jsonl_full_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
