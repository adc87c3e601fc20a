/* The live status line (issue 5): the pure renderer with exact strings, and
 * where it shows: on a terminal (a pseudo-terminal here) and nowhere when
 * stderr is a pipe. */
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

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static ct_status sample(void) {
    ct_status st;
    memset(&st, 0, sizeof st);
    st.elapsed_s = 83.4;
    st.epoch = 3;
    st.epochs = 10;
    st.in_epoch = 1;
    st.power_w[CT_COMPONENT_CPU] = 45.2;
    st.power_w[CT_COMPONENT_GPU] = 250.1;
    st.energy_j[CT_COMPONENT_CPU] = 3000;
    st.energy_j[CT_COMPONENT_GPU] = 25000;
    st.energy_kwh = 0.0123;
    st.co2eq_g = 4.1;
    st.has_prediction = 1;
    st.predicted_energy_kwh = 0.041;
    st.predicted_co2eq_g = 13.7;
    st.predicted_remaining_s = 190;
    return st;
}

static const char *const FULL = "elapsed 0:01:23 | epoch 3/10 | cpu 45.2 W gpu 250.1 W | 0.0123 kWh 4.1 g CO2eq | "
                                "predicted 0.041 kWh, 0:03:10 left";

static void test_full_line(void **state) {
    (void)state;
    ct_status st = sample();
    char buf[256];
    int n = ct_format_status_line(&st, buf, sizeof buf);
    assert_string_equal(buf, FULL);
    assert_int_equal(n, (int)strlen(FULL));
    /* the internal name is the same renderer */
    char buf2[256];
    assert_int_equal(ct__status_line_render(&st, buf2, sizeof buf2), n);
    assert_string_equal(buf2, FULL);
}

static void test_variants(void **state) {
    (void)state;
    char buf[256];
    ct_status st = sample();
    st.has_prediction = 0;
    ct_format_status_line(&st, buf, sizeof buf);
    assert_string_equal(buf, "elapsed 0:01:23 | epoch 3/10 | cpu 45.2 W gpu 250.1 W | 0.0123 kWh 4.1 g CO2eq");

    /* a component not measured (no power, no energy) is left out */
    st = sample();
    st.power_w[CT_COMPONENT_CPU] = 0;
    st.energy_j[CT_COMPONENT_CPU] = 0;
    ct_format_status_line(&st, buf, sizeof buf);
    assert_string_equal(buf, "elapsed 0:01:23 | epoch 3/10 | gpu 250.1 W | 0.0123 kWh 4.1 g CO2eq | predicted 0.041 "
                             "kWh, 0:03:10 left");

    /* the predicted total with its 90 % interval (issue 12) */
    st = sample();
    st.predicted_energy_kwh_low = 0.039;
    st.predicted_energy_kwh_high = 0.043;
    ct_format_status_line(&st, buf, sizeof buf);
    assert_string_equal(buf, "elapsed 0:01:23 | epoch 3/10 | cpu 45.2 W gpu 250.1 W | 0.0123 kWh 4.1 g CO2eq | "
                             "predicted 0.041 kWh (0.039-0.043), 0:03:10 left");

    /* before anything: zeros, never garbage; NaN and negative readings show as 0 */
    memset(&st, 0, sizeof st);
    st.epochs = 5;
    st.power_w[CT_COMPONENT_GPU] = NAN;
    st.energy_j[CT_COMPONENT_GPU] = 1;
    st.energy_kwh = -1;
    st.co2eq_g = INFINITY;
    ct_format_status_line(&st, buf, sizeof buf);
    assert_string_equal(buf, "elapsed 0:00:00 | epoch 0/5 | gpu 0.0 W | 0.0000 kWh 0.0 g CO2eq");

    /* unknown total epochs */
    memset(&st, 0, sizeof st);
    st.epoch = 7;
    st.elapsed_s = 3 * 3600 + 61;
    ct_format_status_line(&st, buf, sizeof buf);
    assert_string_equal(buf, "elapsed 3:01:01 | epoch 7 | 0.0000 kWh 0.0 g CO2eq");
}

static void test_truncation_and_errors(void **state) {
    (void)state;
    ct_status st = sample();
    char buf[16];
    memset(buf, 'x', sizeof buf);
    int n = ct_format_status_line(&st, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(FULL));
    assert_int_equal(strlen(buf), 15);
    assert_memory_equal(buf, FULL, 15);
    /* a length-only query */
    assert_int_equal(ct_format_status_line(&st, NULL, 0), n);
    /* every size in between: always terminated, always a prefix */
    for (size_t len = 1; len < strlen(FULL) + 3; len++) {
        char b[256];
        memset(b, 'y', sizeof b);
        assert_int_equal(ct_format_status_line(&st, b, len), n);
        size_t want = len - 1 < strlen(FULL) ? len - 1 : strlen(FULL);
        assert_int_equal(strlen(b), want);
        assert_memory_equal(b, FULL, want);
    }
    assert_int_equal(ct_format_status_line(NULL, buf, sizeof buf), CT_EINVAL);
    assert_int_equal(ct_format_status_line(&st, NULL, 10), CT_EINVAL);
}

/* ------------------------------------------------------------------ */
/* On a terminal and not                                                */
/* ------------------------------------------------------------------ */

/* Reads the pty master until the child exits; returns everything (malloc'd). */
static char *drain_pty(int fd, pid_t pid, int *status) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    double deadline = (double)time(NULL) + 30;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 200);
        if (r > 0) {
            if (n + 4096 > cap) buf = realloc(buf, cap *= 2);
            ssize_t k = read(fd, buf + n, 4096);
            if (k > 0) {
                n += (size_t)k;
                continue;
            }
            if (k < 0 && errno == EINTR) continue;
            break; /* EIO: the child side is closed */
        }
        if ((double)time(NULL) > deadline) {
            kill(pid, SIGKILL);
            break;
        }
    }
    buf[n] = '\0';
    waitpid(pid, status, 0);
    return buf;
}

static char *const WRAP_ARGS[] = {"--sim-cpu",
                                  "Sim CPU",
                                  "--sim-cpu-tdp",
                                  "100",
                                  "--sim-cpu-util",
                                  "0.5",
                                  "--carbon-intensity",
                                  "100",
                                  "--epochs",
                                  "3",
                                  "--epoch-pattern",
                                  "^epoch",
                                  "--update-interval",
                                  "0.1",
                                  "--",
                                  "sh",
                                  "-c",
                                  "for i in 1 2 3; do echo epoch $i; sleep 1.2; done",
                                  NULL};

/* script: the wrapped shell loop; on a terminal its epochs outlast the once-a-second redraw. */
static void wrap_argv(char **argv, const char *script) {
    argv[0] = (char *)ts_env("CT_CLI");
    int i = 0;
    for (; WRAP_ARGS[i]; i++) argv[i + 1] = WRAP_ARGS[i];
    argv[i] = (char *)script; /* replaces the default script */
    argv[i + 1] = NULL;
}

static void test_cli_wrapper_on_a_terminal(void **state) {
    (void)state;
    char *argv[32];
    wrap_argv(argv, "for i in 1 2 3; do echo epoch $i; sleep 1.2; done");
    int master;
    struct winsize ws = {.ws_row = 24, .ws_col = 200};
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    char *out = drain_pty(master, pid, &status);
    close(master);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* updated in place, with the renderer's text: 50 W = 100 W TDP x 0.5 */
    /* drawn on the terminal's last row (cursor saved and restored; issue 11) */
    char *p = strstr(out, "\033[24;1H\033[2Kelapsed 0:00:0");
    if (!p) fprintf(stderr, "pty output:\n%s\n", out);
    assert_non_null(p);
    assert_non_null(strstr(out, " | epoch 1/3 | cpu 50.0 W | "));
    assert_non_null(strstr(out, "Wh, 0:00:0")); /* the prediction after epoch 1 (the CLI scales the unit) */
    free(out);
}

static void test_cli_wrapper_on_a_pipe(void **state) {
    (void)state;
    char *argv[32];
    wrap_argv(argv, "for i in 1 2 3; do echo epoch $i; sleep 0.4; done");
    char *out = NULL, *err = NULL;
    assert_int_equal(ts_run(argv, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "epoch 3")); /* the command's own output went through */
    assert_null(strstr(err, "elapsed "));
    assert_null(strstr(err, "\033[K"));
    assert_null(strstr(out, "elapsed "));
    assert_null(strstr(out, "\033[K"));
    free(out);
    free(err);
}

/* The library itself, at verbose 1: a tracker in a child whose stderr is a
 * terminal shows the line; verbose 0 does not. */
static int tracker_child(int verbose) {
    ct_config c;
    ct_config_init(&c);
    c.epochs = 2;
    c.verbose = verbose;
    c.sim_cpu = "Sim CPU";
    c.sim_cpu_tdp = 100;
    c.carbon_intensity = 100;
    c.update_interval = 0.1;
    c.status_line = -1; /* auto: on a terminal at verbose >= 1 (the default is off since issue 11) */
    ct_tracker *t = NULL;
    if (ct_tracker_new(&c, &t) != 0) return 3;
    for (int e = 0; e < 2; e++) {
        ct_epoch_start(t);
        usleep(1300000);
        ct_epoch_end(t);
    }
    ct_tracker_free(t);
    return 0;
}

static char *run_tracker_on_pty(int verbose) {
    int master;
    struct winsize ws = {.ws_row = 24, .ws_col = 200};
    fflush(NULL);
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    assert_true(pid >= 0);
    if (pid == 0) _exit(tracker_child(verbose));
    int status = 0;
    char *out = drain_pty(master, pid, &status);
    close(master);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return out;
}

static void test_tracker_on_a_terminal(void **state) {
    (void)state;
    char *out = run_tracker_on_pty(1);
    if (!strstr(out, "\r\033[Kelapsed ")) fprintf(stderr, "pty output:\n%s\n", out);
    assert_non_null(strstr(out, "\r\033[Kelapsed 0:00:0"));
    assert_non_null(strstr(out, " | epoch 1/2 | cpu 50.0 W | "));
    assert_non_null(strstr(out, "Actual consumption")); /* the results still print */
    free(out);
    out = run_tracker_on_pty(0);
    assert_null(strstr(out, "elapsed "));
    assert_null(strstr(out, "\033[K"));
    free(out);
}

static void test_tracker_on_a_pipe(void **state) {
    (void)state;
    int errp[2];
    assert_int_equal(pipe(errp), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(errp[1], 2);
        dup2(errp[1], 1);
        close(errp[0]);
        close(errp[1]);
        _exit(tracker_child(1));
    }
    close(errp[1]);
    int status = 0;
    char *out = drain_pty(errp[0], pid, &status);
    close(errp[0]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(out, "Actual consumption"));
    assert_null(strstr(out, "elapsed "));
    assert_null(strstr(out, "\033[K"));
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_line),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_truncation_and_errors),
        cmocka_unit_test(test_cli_wrapper_on_a_terminal),
        cmocka_unit_test(test_cli_wrapper_on_a_pipe),
        cmocka_unit_test(test_tracker_on_a_terminal),
        cmocka_unit_test(test_tracker_on_a_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
