/* wrap_harness.c - see wrap_harness.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"
#include "wrap_harness.h"

const run_opts quick = {.timeout_s = 20};


double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ */
/* Running the tool.                                                   */
/* ------------------------------------------------------------------ */


/* The state letter of /proc/PID/stat ('T' stopped), or '?'. */
char proc_state(const char *pid_file) {
    size_t l;
    char *p = read_all(pid_file, &l);
    if (!p) return '?';
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", atol(p));
    free(p);
    char *st = read_all(path, &l);
    if (!st) return '?';
    const char *rp = strrchr(st, ')');
    char c = rp && rp[1] == ' ' ? rp[2] : '?';
    free(st);
    return c;
}

char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    b[n] = '\0';
    *len = n;
    return b;
}

int contains(const char *hay, size_t len, const char *needle) {
    size_t nl = strlen(needle);
    if (!hay || nl > len) return 0;
    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(hay + i, needle, nl) == 0) return 1;
    return 0;
}

int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Runs CT_CLI with args (NULL-terminated, without argv[0]). */
void run_cli(const char *tmp, const run_opts *o, run_result *res, const char *const *args) {
    char outp[1024], errp[1024];
    snprintf(outp, sizeof outp, "%s/tool.out", tmp);
    snprintf(errp, sizeof errp, "%s/tool.err", tmp);
    const char *argv[64];
    int n = 0;
    argv[n++] = ts_env("CT_CLI");
    for (int i = 0; args[i] && n < 63; i++) argv[n++] = args[i];
    argv[n] = NULL;

    int pfd[2] = {-1, -1};
    if (o->stdout_pipe) assert_int_equal(pipe(pfd), 0);
    int master = -1;
    char slave_name[256] = "";
    if (o->ready_ctrl_c) {
        master = posix_openpt(O_RDWR | O_NOCTTY);
        assert_true(master >= 0);
        assert_int_equal(grantpt(master), 0);
        assert_int_equal(unlockpt(master), 0);
        assert_int_equal(ptsname_r(master, slave_name, sizeof slave_name), 0);
    }

    int emaster = -1;
    char eslave_name[256] = "";
    if (o->stderr_pty || o->term_rows > 0) {
        emaster = posix_openpt(O_RDWR | O_NOCTTY);
        assert_true(emaster >= 0);
        assert_int_equal(grantpt(emaster), 0);
        assert_int_equal(unlockpt(emaster), 0);
        assert_int_equal(ptsname_r(emaster, eslave_name, sizeof eslave_name), 0);
        if (o->term_rows > 0) {
            struct winsize ws = {(unsigned short)o->term_rows, (unsigned short)o->term_cols, 0, 0};
            assert_int_equal(ioctl(emaster, TIOCSWINSZ, &ws), 0);
        }
    }
    int inp[2] = {-1, -1};
    if (o->answer) assert_int_equal(pipe(inp), 0);
    memset(res, 0, sizeof *res);
    res->watch_at_s = -1;
    /* No output of an earlier run may be mistaken for this one's. */
    unlink(outp);
    unlink(errp);
    fflush(NULL);
    double t0 = now_s();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Its ./logs (the default log directory) goes with the test's files. */
        if (chdir(tmp) != 0) _exit(89);
        if (o->ready_ctrl_c) {
            /* A session of its own with the pty as controlling terminal:
             * the tool and the command are its foreground process group. */
            setsid();
            int s = open(slave_name, O_RDWR);
            if (s < 0 || ioctl(s, TIOCSCTTY, 0) != 0) _exit(90);
            dup2(s, STDIN_FILENO);
            close(s);
        }
        int fo = o->stdout_pipe ? pfd[1] : open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o->resize_rows > 0 && setsid() < 0) _exit(88);
        /* With resize_rows the terminal is the controlling one (no O_NOCTTY),
         * so that resizing it sends SIGWINCH to the tool. */
        int fe = o->stderr_pty || o->term_rows > 0 ? open(eslave_name, o->resize_rows > 0 ? O_RDWR : O_RDWR | O_NOCTTY)
                                                   : open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o->merge_err) fe = fo;
        if (o->term_rows > 0) fo = fe;
        if ((o->stderr_pty || o->term_rows > 0) && fe >= 0) {
            struct termios tio;
            tcgetattr(fe, &tio);
            cfmakeraw(&tio); /* bytes as written, no \n -> \r\n */
            tcsetattr(fe, TCSANOW, &tio);
        }
        if (fo < 0 || fe < 0) _exit(91);
        dup2(fo, STDOUT_FILENO);
        dup2(fe, STDERR_FILENO);
        if (o->stdout_pipe) {
            close(pfd[0]);
            close(pfd[1]);
        }
        if (o->answer) {
            close(inp[1]);
            dup2(inp[0], STDIN_FILENO);
            close(inp[0]);
        }
        if (o->stdin_text) {
            int ip[2];
            if (pipe(ip) != 0) _exit(93);
            ssize_t w = write(ip[1], o->stdin_text, strlen(o->stdin_text)); /* small: fits the pipe */
            (void)w;
            close(ip[1]);
            dup2(ip[0], STDIN_FILENO);
            close(ip[0]);
        }
        for (int k = 0; k < 4 && o->env[k]; k++) putenv((char *)o->env[k]);
        execv(argv[0], (char *const *)argv);
        _exit(92);
    }
    if (o->answer) close(inp[0]);
    int answered = 0;
    size_t cap = 1 << 16, got = 0;
    char *pbuf = NULL;
    if (o->stdout_pipe) {
        close(pfd[1]);
        pbuf = malloc(cap + 1);
    }
    int st = 0, done = 0, signalled = 0, pipe_open = o->stdout_pipe;
    size_t ecap = 0;
    while (!done || pipe_open) {
        if (!done) {
            pid_t r = waitpid(pid, &st, WNOHANG);
            if (r == pid) {
                done = 1;
                res->elapsed_s = now_s() - t0;
            }
        }
        if (!done && now_s() - t0 > o->timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            res->status = -1;
            res->elapsed_s = now_s() - t0;
            done = 1;
            if (pipe_open) close(pfd[0]);
            pipe_open = 0;
            break;
        }
        if (!done && !answered && o->ready_text && o->answer) {
            size_t l;
            char *cur = read_all(outp, &l);
            if (contains(cur, l, o->ready_text)) {
                res->state_at_ready = o->pid_file ? proc_state(o->pid_file) : '?';
                ssize_t w = write(inp[1], o->answer, strlen(o->answer));
                (void)w;
                close(inp[1]);
                inp[1] = -1;
                answered = 1;
            }
            free(cur);
        }
        if (!done && !signalled && o->ready_text && (o->ready_signal || o->ready_ctrl_c)) {
            size_t l;
            char *cur = o->stdout_pipe ? NULL : read_all(outp, &l);
            int ready = o->stdout_pipe ? contains(pbuf, got, o->ready_text) : contains(cur, l, o->ready_text);
            free(cur);
            if (ready) {
                if (o->ready_ctrl_c == 2) {
                    assert_int_equal(write(master, "\032", 1), 1);
                    char path[64];
                    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
                    for (;;) { /* until the tool and the command have stopped (bounded by the run's
                                * timeout): the two stop independently, in either order */
                        size_t sl;
                        char *stat_text = read_all(path, &sl);
                        const char *rp = stat_text ? strrchr(stat_text, ')') : NULL;
                        int stopped = rp && rp[1] == ' ' && rp[2] == 'T';
                        free(stat_text);
                        if (stopped && o->pid_file && proc_state(o->pid_file) != 'T') stopped = 0;
                        if (stopped || now_s() - t0 > o->timeout_s) break;
                        sleep_s(0.01);
                    }
                    res->state_at_ready = o->pid_file ? proc_state(o->pid_file) : '?';
                    kill(pid, SIGCONT);
                } else if (o->ready_ctrl_c) {
                    assert_int_equal(write(master, "\003", 1), 1);
                } else {
                    kill(pid, o->ready_signal);
                }
                signalled = 1;
            }
        }
        if (!done && !signalled && o->ready_touch && (o->ready_text || o->ready_jsonl)) {
            size_t l = 0;
            int ready;
            if (o->ready_jsonl) {
                char *jp = ts_find_suffix(o->ready_jsonl, "_carbontracker.jsonl");
                char *cur = jp ? read_all(jp, &l) : NULL;
                ready = contains(cur, l, "\"event\":\"epoch\"");
                free(cur);
                free(jp);
            } else {
                char *cur = o->stdout_pipe || (emaster >= 0 && o->term_rows > 0) ? NULL : read_all(outp, &l);
                ready = o->stdout_pipe ? contains(pbuf, got, o->ready_text)
                        : cur          ? contains(cur, l, o->ready_text)
                                       : contains(res->err, res->err_len, o->ready_text);
                free(cur);
            }
            if (ready) {
                int fd = open(o->ready_touch, O_WRONLY | O_CREAT, 0644);
                if (fd >= 0) close(fd);
                signalled = 1;
            }
        }
        if (emaster >= 0 && o->resize_rows > 0 && !signalled && o->ready_text &&
            contains(res->err, res->err_len, o->ready_text)) {
            struct winsize ws = {(unsigned short)o->resize_rows, (unsigned short)o->resize_cols, 0, 0};
            assert_int_equal(ioctl(emaster, TIOCSWINSZ, &ws), 0);
            signalled = 1;
        }
        if (emaster >= 0) {
            struct pollfd p = {.fd = emaster, .events = POLLIN};
            while (poll(&p, 1, done ? 50 : 0) > 0) {
                if (res->err_len + 4096 > ecap) {
                    ecap = 2 * ecap + 4096;
                    res->err = realloc(res->err, ecap + 1);
                }
                ssize_t r = read(emaster, res->err + res->err_len, 4096);
                if (r <= 0) break;
                res->err_len += (size_t)r;
            }
        }
        if (pipe_open) {
            struct pollfd p = {.fd = pfd[0], .events = POLLIN};
            if (poll(&p, 1, 10) > 0) {
                if (got == cap) {
                    cap *= 2;
                    pbuf = realloc(pbuf, cap + 1);
                }
                ssize_t r = read(pfd[0], pbuf + got, cap - got);
                if (r > 0) {
                    got += (size_t)r;
                    if (o->watch_text && res->watch_at_s < 0 && contains(pbuf, got, o->watch_text))
                        res->watch_at_s = now_s() - t0;
                } else if (r == 0 || errno != EINTR) {
                    close(pfd[0]);
                    pipe_open = 0;
                }
            }
        } else if (!done) {
            sleep_s(0.005);
        }
    }
    if (res->status != -1) res->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -2;
    if (o->stdout_pipe) {
        pbuf[got] = '\0';
        res->out = pbuf;
        res->out_len = got;
    } else {
        res->out = read_all(outp, &res->out_len);
    }
    if (emaster >= 0) {
        /* What the terminal still holds after the tool exited. */
        struct pollfd p = {.fd = emaster, .events = POLLIN};
        while (poll(&p, 1, 100) > 0) {
            if (res->err_len + 4096 > ecap) {
                ecap = 2 * ecap + 4096;
                res->err = realloc(res->err, ecap + 1);
            }
            ssize_t r = read(emaster, res->err + res->err_len, 4096);
            if (r <= 0) break;
            res->err_len += (size_t)r;
        }
        if (!res->err) res->err = calloc(1, 1);
        res->err[res->err_len] = '\0';
        close(emaster);
        if (o->term_rows > 0) { /* the terminal showed both */
            free(res->out);
            res->out = res->err;
            res->out_len = res->err_len;
            res->err = calloc(1, 1);
            res->err_len = 0;
        }
    } else {
        res->err = read_all(errp, &res->err_len);
    }
    if (inp[1] >= 0) close(inp[1]);
    if (master >= 0) close(master);
    /* Under CT_SANITIZE the tool is instrumented too: any report fails. */
    if (contains(res->err, res->err_len, "Sanitizer") || contains(res->err, res->err_len, "runtime error:") ||
        ((o->term_rows > 0 || o->merge_err) &&
         (contains(res->out, res->out_len, "Sanitizer") || contains(res->out, res->out_len, "runtime error:")))) {
        fprintf(stderr, "%s\n%s\n", res->err, res->out ? res->out : "");
        fail_msg("sanitizer report from the tool");
    }
    if (getenv("CT_TEST_VERBOSE"))
        fprintf(stderr, "  ran %s ... %s: status %d in %.3f s\n", args[0], args[1] ? args[1] : "", res->status,
                res->elapsed_s);
}

void result_free(run_result *r) {
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

void dump_on_failure(const run_result *r) {
    fprintf(stderr, "---- tool status %d, %.2f s\n---- stdout:\n%s\n---- stderr:\n%s\n----\n", r->status, r->elapsed_s,
            r->out ? r->out : "(none)", r->err ? r->err : "(none)");
}


/* ------------------------------------------------------------------ */
/* A minimal reader for the JSON Lines log (docs/jsonl-schema.md).      */
/* ------------------------------------------------------------------ */

/* The value of "key": as a number (first occurrence as a key, searched
 * from p); NAN if absent. */
double json_num(const char *p, const char *key) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    for (const char *k = p ? strstr(p, pat) : NULL; k; k = strstr(k + 1, pat)) {
        const char *v = k + strlen(pat);
        while (*v == ' ') v++;
        if (*v != ':') continue; /* a string value that happens to equal key */
        v++;
        char *end;
        double d = strtod(v, &end);
        return end == v ? NAN : d;
    }
    return NAN;
}

/* "energy_j": {"cpu": X, ...} (the object form, not a device's number). */
double json_energy_cpu(const char *line) {
    for (const char *k = strstr(line, "\"energy_j\""); k; k = strstr(k + 1, "\"energy_j\"")) {
        const char *v = k + strlen("\"energy_j\"");
        while (*v == ' ' || *v == ':') v++;
        if (*v == '{') return json_num(v, "cpu");
    }
    return NAN;
}

int json_is_event(const char *line, const char *event) {
    char a[64], b[64];
    snprintf(a, sizeof a, "\"event\":\"%s\"", event);
    snprintf(b, sizeof b, "\"event\": \"%s\"", event);
    return strstr(line, a) != NULL || strstr(line, b) != NULL;
}


/* Loads the run's _carbontracker.jsonl from logdir; 0 if there is none. */
int jsonl_load(const char *logdir, jsonl *j) {
    memset(j, 0, sizeof *j);
    char *path = ts_find_suffix(logdir, "_carbontracker.jsonl");
    if (!path) return 0;
    size_t len;
    j->text = read_all(path, &len);
    free(path);
    if (!j->text) return 0;
    for (char *save = NULL, *l = strtok_r(j->text, "\n", &save); l && j->n < 256; l = strtok_r(NULL, "\n", &save))
        j->lines[j->n++] = l;
    return 1;
}

int jsonl_count(const jsonl *j, const char *event) {
    int n = 0;
    for (int i = 0; i < j->n; i++) n += json_is_event(j->lines[i], event);
    return n;
}

const char *jsonl_nth(const jsonl *j, const char *event, int nth) {
    for (int i = 0; i < j->n; i++)
        if (json_is_event(j->lines[i], event) && nth-- == 0) return j->lines[i];
    return NULL;
}

/* Checks epoch record k: duration near want_s, energy = 50 W x its own duration. */
void check_epoch(const jsonl *j, int k, double want_s) {
    const char *e = jsonl_nth(j, "epoch", k);
    assert_non_null(e);
    double d = json_num(e, "duration_s");
    double ej = json_energy_cpu(e);
    if (!(fabs(d - want_s) < 0.2) || !(fabs(ej - SIM_W * d) < 0.01 * SIM_W * d + 0.05))
        fprintf(stderr, "epoch %d: duration %.4f s (want %.2f), energy %.4f J (want %.4f)\n%s\n", k + 1, d, want_s, ej,
                SIM_W * d, e);
    /* The child's sleep sets the epoch, but its boundaries are the moments
     * the tool read the lines: on a loaded machine either read can be late,
     * so the duration is not bounded tightly either way (the nominal window
     * above is reported, not asserted; no timing margin a busy 2-core
     * machine can miss). It is positive and not absurd. */
    assert_true(d > 0 && d < want_s + 5.0);
    /* Constant simulated power: energy is 50 W times the tracker's own
     * duration up to the few ms between its clock reads (1 %). */
    assert_true(fabs(ej - SIM_W * d) < 0.01 * SIM_W * d + 0.05);
    assert_int_equal((int)json_num(e, "epoch"), k + 1);
}

/* ------------------------------------------------------------------ */
/* Tests.                                                              */
/* ------------------------------------------------------------------ */

int setup(void **state) {
    *state = ts_mkdtemp();
    return 0;
}

int teardown(void **state) {
    ts_rmtree(*state);
    free(*state);
    return 0;
}
