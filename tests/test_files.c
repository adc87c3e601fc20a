/* Outside files (issue 10 item 4): a FIFO or a directory where a file is
 * expected never blocks and never turns into a wrong code; log names are not
 * disabled by one planted name; the log seed has no undefined conversion;
 * names with escape codes are printed escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/base.h"
#include "output/output.h"
#include "test_support.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *g_dir;

static int setup(void **state) {
    (void)state;
    g_dir = ts_mkdtemp();
    return g_dir ? 0 : -1;
}
static int teardown(void **state) {
    (void)state;
    ts_rmtree(g_dir);
    free(g_dir);
    return 0;
}

/* Runs fn in a child that SIGALRM kills if it blocks; returns the child's exit
 * code, or 128 + signal. The limit only catches a hang (a FIFO with no writer
 * blocks forever); the calls themselves take microseconds. */
static int in_child(int (*fn)(void *), void *arg) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        _exit(fn(arg));
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int read_fifo(void *arg) {
    char *buf = NULL;
    int rc = ct__read_file(arg, 4096, &buf, NULL);
    free(buf);
    return rc == CT_EIO && buf == NULL ? 0 : 1;
}

static void test_read_file_kinds(void **state) {
    (void)state;
    char path[600];
    snprintf(path, sizeof path, "%s/fifo", g_dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    /* A FIFO with no writer: open(O_RDONLY) without O_NONBLOCK waits forever. */
    assert_int_equal(in_child(read_fifo, path), 0);

    char *buf = (char *)0x1;
    size_t n = 99;
    /* Missing file: CT_EIO (was -ENOENT, which equals CT_ENOMEM). */
    snprintf(path, sizeof path, "%s/missing", g_dir);
    assert_int_equal(ct__read_file(path, 4096, &buf, &n), CT_EIO);
    assert_int_equal(errno, ENOENT);
    assert_null(buf);
    assert_int_equal(n, 0);
    /* A directory: CT_EIO (was -EISDIR from read, not a CT_E* code at all). */
    assert_int_equal(ct__read_file(g_dir, 4096, &buf, &n), CT_EIO);
    assert_int_equal(errno, EISDIR);
    /* A character device. */
    assert_int_equal(ct__read_file("/dev/zero", 4096, &buf, &n), CT_EIO);
    assert_int_equal(ct__read_file("/dev/null", 4096, &buf, &n), CT_EIO);
    /* A regular file reads whole; one longer than max is cut at max - 1. */
    assert_int_equal(ts_write(g_dir, "f", "0123456789"), 0);
    snprintf(path, sizeof path, "%s/f", g_dir);
    assert_int_equal(ct__read_file(path, 4096, &buf, &n), 0);
    assert_string_equal(buf, "0123456789");
    assert_int_equal(n, 10);
    free(buf);
    assert_int_equal(ct__read_file(path, 5, &buf, &n), 0);
    assert_string_equal(buf, "0123");
    free(buf);
    /* An unreadable file (as non-root): CT_EIO, never -EACCES (-13 = CT_ENOTSUP). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(path, 0), 0);
        assert_int_equal(ct__read_file(path, 4096, &buf, &n), CT_EIO);
        assert_int_equal(errno, EACCES);
    }
    /* A real /proc file (size 0 in stat, regular) still reads. */
    assert_int_equal(ct__read_file("/proc/self/stat", 4096, &buf, &n), 0);
    assert_true(n > 10);
    free(buf);
    assert_true(ct__open_regular("/dev/zero", 0, NULL) < 0);
}

/* The Electricity Maps key file is a FIFO: ct_tracker_new promises never to block. */
static int tracker_with_fifo_key(void *arg) {
    unsetenv("CT_OFFLINE");
    setenv("CT_ELECTRICITYMAPS_KEY_FILE", arg, 1);
    /* Any request goes nowhere: a closed local port. */
    setenv("CT_ELECTRICITYMAPS_URL", "http://127.0.0.1:9", 1);
    setenv("CT_ENERGIDATA_URL", "http://127.0.0.1:9", 1);
    setenv("CT_UKGRID_URL", "http://127.0.0.1:9", 1);
    setenv("CT_IPINFO_URL", "http://127.0.0.1:9", 1);
    ct_config c;
    ct_config_init(&c);
    c.epochs = 1;
    c.sim_cpu = "cpu";
    c.sim_cpu_tdp = 100;
    c.components = "cpu";
    c.verbose = 0;
    c.country = "DK";
    ct_tracker *t = NULL;
    int rc = ct_tracker_new(&c, &t);
    ct_tracker_free(t);
    return rc == 0 ? 0 : 2;
}

static void test_fifo_key_file(void **state) {
    (void)state;
    char path[600];
    snprintf(path, sizeof path, "%s/key.fifo", g_dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(in_child(tracker_with_fifo_key, path), 0);
}

static int count_files(const char *dir, const char *suffix) {
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls -1 '%s' | grep -c -- '%s$'", dir, suffix);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

/* A name planted where the first try lands (another user in a shared log
 * directory can guess it): the output log's name only. */
static void test_planted_log_name(void **state) {
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/shared", g_dir);
    ct__logfiles lf;
    char msg[300] = "";
    const double now = 1.8e9;
    assert_int_equal(ct__logfiles_open_seeded(&lf, dir, "p", now, 42u, msg, sizeof msg), 0);
    char planted[PATH_MAX];
    ct__strlcpy(planted, lf.out_path, sizeof planted);
    ct__logfiles_close(&lf);
    /* Only the output log's name stays: the next tracker's first try takes it. */
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cd '%s' && for f in *; do case \"$f\" in *_output.log) ;; *) rm -f \"$f\";; esac; done",
             dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(count_files(dir, "_output.log"), 1);

    assert_int_equal(ct__logfiles_open_seeded(&lf, dir, "p", now, 42u, msg, sizeof msg), 0);
    assert_true(lf.enabled);
    assert_string_not_equal(lf.out_path, planted);
    ct__log_std(&lf, "hello");
    ct__logfiles_close(&lf);
    assert_int_equal(count_files(dir, "_carbontracker.log"), 1);
    assert_int_equal(count_files(dir, "_carbontracker.jsonl"), 1);
    /* The planted file is untouched (not truncated, not unlinked). */
    struct stat st;
    assert_int_equal(stat(planted, &st), 0);

    /* A planted error-log name (created later, on the first error) also moves the names. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(ct__logfiles_open_seeded(&lf, dir, "p", now, 7u, msg, sizeof msg), 0);
    ct__strlcpy(planted, lf.err_path, sizeof planted);
    ct__logfiles_close(&lf);
    snprintf(cmd, sizeof cmd, "rm -f '%s'/* && touch '%s'", dir, planted);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(ct__logfiles_open_seeded(&lf, dir, "p", now, 7u, msg, sizeof msg), 0);
    assert_string_not_equal(lf.err_path, planted);
    ct__log_err(&lf, "an error");
    ct__logfiles_close(&lf);
    assert_int_equal(count_files(dir, "_err.log"), 2);

    /* A planted symlink where the JSON Lines log lands: never written through. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(ct__logfiles_open_seeded(&lf, dir, "p", now, 9u, msg, sizeof msg), 0);
    ct__strlcpy(planted, lf.jsonl_path, sizeof planted);
    ct__logfiles_close(&lf);
    char victim[700];
    snprintf(victim, sizeof victim, "%s/victim", g_dir);
    assert_int_equal(ts_write(g_dir, "victim", "precious\n"), 0);
    snprintf(cmd, sizeof cmd, "rm -f '%s'/* && ln -s '%s' '%s'", dir, victim, planted);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(ct__logfiles_open_seeded(&lf, dir, "p", now, 9u, msg, sizeof msg), 0);
    assert_string_not_equal(lf.jsonl_path, planted);
    int werr = 0;
    assert_int_equal(ct__jsonl_write(&lf, "{}\n", 3, 0, now, &werr), CT__JSONL_WRITTEN);
    ct__logfiles_close(&lf);
    char *v = ts_read(victim);
    assert_string_equal(v, "precious\n");
    free(v);
}

/* Every tracker with logs: unix_s * 1e6 does not fit an unsigned (clang UBSan:
 * float-cast-overflow, which fails this test in the sanitizer build). */
static void test_log_seed_today(void **state) {
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/today", g_dir);
    ct__logfiles lf;
    char msg[300];
    assert_int_equal(ct__logfiles_open(&lf, dir, "", ct__unix_s(), msg, sizeof msg), 0);
    ct__logfiles_close(&lf);
    assert_int_equal(ct__logfiles_open(&lf, dir, "", 1e300, msg, sizeof msg), 0);
    ct__logfiles_close(&lf);
    assert_int_equal(ct__logfiles_open(&lf, dir, "", -5, msg, sizeof msg), 0);
    ct__logfiles_close(&lf);
}

/* A log_dir whose name carries a terminal escape: the message says \x1b, never ESC. */
static void test_escape_codes_printed_escaped(void **state) {
    (void)state;
    assert_int_equal(ts_write(g_dir, "plain-file", "x"), 0);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/plain-file/\x1b]0;owned\x07\x1b[2J", g_dir);
    ct__logfiles lf;
    char msg[600] = "";
    assert_int_equal(ct__logfiles_open(&lf, dir, "", 1.8e9, msg, sizeof msg), CT_EIO);
    ct__logfiles_close(&lf);
    assert_null(strchr(msg, '\x1b'));
    assert_null(strchr(msg, '\x07'));
    assert_non_null(strstr(msg, "\\x1b]0;owned\\x07\\x1b[2J"));

    /* Log records: a name with escapes in a message is written escaped; newlines and tabs stay. */
    char ok[600];
    snprintf(ok, sizeof ok, "%s/esc", g_dir);
    assert_int_equal(ct__logfiles_open(&lf, ok, "", 1.8e9, msg, sizeof msg), 0);
    ct__log_out(&lf, "file \x1b[31mred\x1b[0m\n\tnext\r");
    char path[PATH_MAX];
    ct__strlcpy(path, lf.out_path, sizeof path);
    ct__logfiles_close(&lf);
    char *text = ts_read(path);
    assert_non_null(text);
    assert_null(strchr(text, '\x1b'));
    assert_null(strchr(text, '\r'));
    assert_non_null(strstr(text, "file \\x1b[31mred\\x1b[0m\n\tnext\\x0d"));
    free(text);

    /* The console: a tracker's messages (verbose 2 prints the notices) go through the same filter. */
    char buf[64];
    assert_string_equal(ct__printable("a\x1b"
                                      "b\n",
                                      buf, sizeof buf),
                        "a\\x1bb\\x0a");
    assert_string_equal(ct__printable("abcdef", buf, 4), "abc");
    assert_string_equal(ct__printable("\x01\x02", buf, 6), "\\x01");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_file_kinds),
        cmocka_unit_test(test_fifo_key_file),
        cmocka_unit_test(test_planted_log_name),
        cmocka_unit_test(test_log_seed_today),
        cmocka_unit_test(test_escape_codes_printed_escaped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
