/*
 * wrap.c - `carbontracker [options] [--] COMMAND [ARGS...]`: runs a command
 * under a tracker (public API only).
 *
 * Without an epoch pattern the whole run is one epoch. With --epoch-pattern /
 * --epoch-end-pattern the command's stdout and stderr go through pipes, are
 * passed on unchanged as soon as they arrive, and every complete line is
 * matched against the patterns to mark epoch boundaries.
 *
 * Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT received by the tool are
 * forwarded to the command when they were sent to the tool alone (kill(2),
 * si_code <= 0); signals the terminal sends to the whole foreground process
 * group (Ctrl-C, si_code SI_KERNEL) already reach the command, which stays in
 * our process group, so they are not sent a second time. Either way the tool
 * keeps running until the command exits and then writes its results.
 *
 * Everything the tool says itself goes to stderr, so that the command's
 * stdout stays clean for pipelines.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "carbontracker.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WRAP_EXIT_USAGE 2      /* invalid pattern or option: the command was not started */
#define WRAP_EXIT_SETUP 1      /* the tracker could not be created: the command was not started */
#define WRAP_EXIT_NOEXEC 126   /* found but not executable */
#define WRAP_EXIT_NOTFOUND 127 /* not found */
#define WRAP_LINE_MAX 16384    /* bytes of one line kept for matching (the rest still passes through) */
#define WRAP_READ_CHUNK 65536

/* ------------------------------------------------------------------ */
/* Signals: handlers write a note into a self-pipe read by the loop.   */
/* ------------------------------------------------------------------ */

struct sig_note {
    int signo;
    int code;  /* si_code: <= 0 sent by a process, > 0 by the kernel (terminal) */
    pid_t pid; /* sender for si_code <= 0 */
};

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_FORWARDED ((int)(sizeof forwarded_signals / sizeof forwarded_signals[0]))

static int sig_pipe[2] = {-1, -1};

static void on_signal(int signo, siginfo_t *si, void *uctx)
{
    (void)uctx;
    int saved = errno;
    struct sig_note n;
    memset(&n, 0, sizeof n);
    n.signo = signo;
    n.code = si ? si->si_code : SI_USER;
    n.pid = si ? si->si_pid : 0;
    if (sig_pipe[1] >= 0) {
        ssize_t r = write(sig_pipe[1], &n, sizeof n); /* atomic (< PIPE_BUF); dropped if full */
        (void)r;
    }
    errno = saved;
}

/* ------------------------------------------------------------------ */
/* State of one wrapped run.                                           */
/* ------------------------------------------------------------------ */

enum { BUDGET_ENERGY = 0, BUDGET_CO2 = 1, N_BUDGETS = 2 };
enum { KIND_PREDICTED = 0, KIND_ACTUAL = 1, N_KINDS = 2 };

typedef struct stream {
    int fd;      /* read end of the pipe from the command; -1 when closed */
    int out_fd;  /* where its bytes go: 1 or 2 */
    char line[WRAP_LINE_MAX + 1]; /* the current line, for matching */
    size_t len;
    int overflow; /* the current line was longer than WRAP_LINE_MAX */
} stream;

typedef struct wrap {
    const ct_config *cfg;
    ct_tracker *t;        /* NULL when running untracked (ignore_errors) */
    regex_t start_re, end_re;
    int has_start, has_end;
    int piped;            /* output goes through us (a pattern is set) */
    stream st[2];         /* stdout, stderr */

    pid_t pid;
    int child_done;
    int child_status;

    int tracking;         /* 0 once monitoring ended or failed: no more epoch calls */
    int in_epoch;
    int epochs_ended;     /* epochs this wrapper ended successfully */
    int epochs_started;
    int error_reported;

    int on_budget_stop;
    double grace_s;
    int stopping;         /* SIGTERM sent by us */
    double kill_at;       /* monotonic s for SIGKILL; 0 = none */
    int killed;
    int warned[N_BUDGETS][N_KINDS];
    int warned_unknown;

    double next_check;    /* monotonic s of the next budget check (status so far) */
    double check_period;

    /* Live status line on stderr (a terminal), see status_line_*(). */
    int status_enabled;
    int status_drawn;
    int bol[3];           /* per output fd (1, 2): its last byte passed through ended a line */
    int stdout_tty;       /* stdout is a terminal too (then it shares the screen) */
    double next_redraw;
} wrap;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ */
/* Live status line (hook for issue 5's renderer).                     */
/* ------------------------------------------------------------------ */

/*
 * The status line (issue 5's renderer, ct_format_status_line) is shown on
 * stderr only when it is a terminal and the output goes through us: it is
 * cleared before each piece of the command's output and before the
 * tracker's or the tool's own text, and redrawn once the output is back at
 * the start of a line (never in the middle of a partial line), and every
 * second. Fills buf, or returns 0 to show nothing.
 */
static int status_line_format(wrap *wr, char *buf, size_t len)
{
    ct_status st;
    if (!wr->t || ct_get_status(wr->t, &st) != 0)
        return 0;
    int n = ct_format_status_line(&st, buf, len);
    if (n <= 0)
        return 0;
    /* A line wider than the terminal wraps, and "\r\033[K" would then
     * clear only its last row: cut it to the width. */
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && (size_t)ws.ws_col - 1 < len)
        buf[ws.ws_col - 1] = '\0';
    return 1;
}

static void status_line_clear(wrap *wr)
{
    if (!wr->status_drawn)
        return;
    static const char clr[] = "\r\033[K";
    ssize_t r = write(STDERR_FILENO, clr, sizeof clr - 1);
    (void)r;
    wr->status_drawn = 0;
}

static void status_line_draw(wrap *wr)
{
    /* Never in the middle of a partial line of the command's, on either
     * stream that shows on the terminal. */
    if (!wr->status_enabled || !wr->bol[STDERR_FILENO] || (wr->stdout_tty && !wr->bol[STDOUT_FILENO]))
        return;
    char text[512];
    if (!status_line_format(wr, text, sizeof text))
        return;
    char buf[600];
    int n = snprintf(buf, sizeof buf, "\r\033[K%s", text);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    ssize_t r = write(STDERR_FILENO, buf, (size_t)n);
    (void)r;
    wr->status_drawn = 1;
    wr->next_redraw = mono_s() + 1.0;
}

/* Before the tool or the library prints: no status line in the way, and
 * the library's stdio output in order with our direct writes. */
static void before_print(wrap *wr)
{
    status_line_clear(wr);
    fflush(stdout);
}

static void after_print(wrap *wr)
{
    fflush(stdout);
    fflush(stderr);
    status_line_draw(wr);
}

static void say(wrap *wr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(wrap *wr, const char *fmt, ...)
{
    va_list ap;
    before_print(wr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    after_print(wr);
}

/* ------------------------------------------------------------------ */
/* Stopping the command.                                               */
/* ------------------------------------------------------------------ */

static void stop_child(wrap *wr, const char *why)
{
    if (wr->stopping || wr->child_done)
        return;
    wr->stopping = 1;
    kill(wr->pid, SIGTERM);
    wr->kill_at = mono_s() + wr->grace_s;
    say(wr, "CarbonTracker: stopping the command (pid %ld) because %s: sent SIGTERM; "
            "SIGKILL follows in %g s if it is still running.",
        (long)wr->pid, why, wr->grace_s);
}

static void kill_child_if_due(wrap *wr, double now)
{
    if (!wr->stopping || wr->killed || wr->child_done || wr->kill_at <= 0 || now < wr->kill_at)
        return;
    wr->killed = 1;
    kill(wr->pid, SIGKILL);
    say(wr, "CarbonTracker: the command (pid %ld) was still running %g s after SIGTERM: sent SIGKILL.",
        (long)wr->pid, wr->grace_s);
}

/* ------------------------------------------------------------------ */
/* Budgets.                                                            */
/* ------------------------------------------------------------------ */

static const char *const budget_name[N_BUDGETS] = {"energy", "CO2eq"};
static const char *const budget_flag[N_BUDGETS] = {"--max-energy-kwh", "--max-co2-g"};
static const char *const budget_unit[N_BUDGETS] = {"kWh", "g"};

/* Warns (once per budget and kind) about value > limit; returns 1 if exceeded. */
static int budget_compare(wrap *wr, int b, int kind, double value, double limit, int epochs)
{
    if (!(limit > 0) || !(value > limit))
        return 0;
    if (!wr->warned[b][kind]) {
        wr->warned[b][kind] = 1;
        char what[96];
        if (kind == KIND_PREDICTED)
            snprintf(what, sizeof what, "the predicted %s for %d epoch(s)", budget_name[b], epochs);
        else
            snprintf(what, sizeof what, "the %s used so far", budget_name[b]);
        say(wr, "CarbonTracker: WARNING - budget exceeded: %s, %.6g %s, exceeds the %s budget "
                "(%s %.6g) by %.6g %s (+%.1f %%)%s",
            what, value, budget_unit[b], budget_name[b], budget_flag[b], limit, value - limit,
            budget_unit[b], 100.0 * (value - limit) / limit,
            wr->on_budget_stop || wr->child_done ? "." : "; the command goes on (--on-budget warn).");
    }
    return 1;
}

/*
 * Compares the prediction, the actual of finished epochs and the status so
 * far with the budgets; warns and, with --on-budget stop, stops the
 * command. lib_said_budget: ct_epoch_end returned CT_EBUDGET.
 */
static void budget_check(wrap *wr, int lib_said_budget)
{
    if (!wr->t)
        return;
    const double lim[N_BUDGETS] = {wr->cfg->max_energy_kwh, wr->cfg->max_co2_g};
    if (!(lim[0] > 0) && !(lim[1] > 0) && !lib_said_budget)
        return;
    int exceeded = 0;
    ct_result r;
    if (ct_get_predicted(wr->t, &r) == 0) {
        exceeded |= budget_compare(wr, BUDGET_ENERGY, KIND_PREDICTED, r.energy_kwh, lim[0], r.epochs);
        exceeded |= budget_compare(wr, BUDGET_CO2, KIND_PREDICTED, r.co2eq_g, lim[1], r.epochs);
    }
    double used[N_BUDGETS] = {0, 0};
    if (ct_get_actual(wr->t, &r) == 0) {
        used[0] = r.energy_kwh;
        used[1] = r.co2eq_g;
    }
    ct_status s;
    if (ct_get_status(wr->t, &s) == 0) { /* includes the epoch in progress */
        if (s.energy_kwh > used[0])
            used[0] = s.energy_kwh;
        if (s.co2eq_g > used[1])
            used[1] = s.co2eq_g;
    }
    exceeded |= budget_compare(wr, BUDGET_ENERGY, KIND_ACTUAL, used[0], lim[0], 0);
    exceeded |= budget_compare(wr, BUDGET_CO2, KIND_ACTUAL, used[1], lim[1], 0);
    if (lib_said_budget && !exceeded && !wr->warned_unknown) {
        wr->warned_unknown = 1;
        say(wr, "CarbonTracker: WARNING - budget exceeded: %s", ct_tracker_message(wr->t));
        exceeded = 1;
    }
    if (exceeded && wr->on_budget_stop) {
        int which = (wr->warned[BUDGET_ENERGY][0] || wr->warned[BUDGET_ENERGY][1]) ? BUDGET_ENERGY
                    : (wr->warned[BUDGET_CO2][0] || wr->warned[BUDGET_CO2][1])   ? BUDGET_CO2
                                                                                  : -1;
        char why[64];
        snprintf(why, sizeof why, "the %s budget is exceeded", which >= 0 ? budget_name[which] : "");
        stop_child(wr, which >= 0 ? why : "a budget is exceeded");
    }
}

/* ------------------------------------------------------------------ */
/* Epochs.                                                             */
/* ------------------------------------------------------------------ */

static void report_error(wrap *wr, const char *what, int rc)
{
    if (wr->error_reported || wr->cfg->ignore_errors)
        return;
    wr->error_reported = 1;
    say(wr, "carbontracker: %s failed: %s (%s); the command keeps running, tracking has stopped.", what,
        ct_strerror(rc), ct_tracker_message(wr->t));
}

static void epoch_start(wrap *wr)
{
    if (!wr->t || !wr->tracking || wr->in_epoch || wr->stopping)
        return;
    before_print(wr);
    int rc = ct_epoch_start(wr->t);
    after_print(wr);
    if (rc == 0) {
        wr->in_epoch = 1;
        wr->epochs_started++;
    } else {
        wr->tracking = 0;
        if (rc != CT_ESTOPPED)
            report_error(wr, "ct_epoch_start", rc);
    }
}

static void epoch_end(wrap *wr)
{
    if (!wr->t || !wr->tracking || !wr->in_epoch)
        return;
    before_print(wr);
    int rc = ct_epoch_end(wr->t);
    after_print(wr);
    wr->in_epoch = 0;
    if (rc == 0 || rc == CT_EBUDGET || rc == CT_EDECLINED)
        wr->epochs_ended++;
    if (rc == CT_EBUDGET) {
        budget_check(wr, 1);
    } else if (rc == CT_EDECLINED) {
        stop_child(wr, "continuing was declined after the prediction");
    } else if (rc == CT_ESTOPPED) {
        wr->tracking = 0;
    } else if (rc != 0) {
        wr->tracking = 0;
        report_error(wr, "ct_epoch_end", rc);
    }
}

enum { LINE_ENDS_EPOCH = 1, LINE_STARTS_EPOCH = 2 };

/* Matches one complete line of the command's output (without its newline;
 * line has room for a NUL after len). */
static int line_matches(wrap *wr, char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    line[len] = '\0';
    int m = 0;
    if (wr->has_end && regexec(&wr->end_re, line, 0, NULL, 0) == 0)
        m |= LINE_ENDS_EPOCH;
    if (wr->has_start && regexec(&wr->start_re, line, 0, NULL, 0) == 0)
        m |= LINE_STARTS_EPOCH;
    return m;
}

static void apply_line(wrap *wr, int m)
{
    if (m & LINE_ENDS_EPOCH) {
        epoch_end(wr);
        /* With only an end pattern the next epoch starts right away, unless
         * all planned epochs are done (then the rest is not an epoch). */
        if (!wr->has_start && wr->epochs_ended < wr->cfg->epochs)
            epoch_start(wr);
    }
    if (m & LINE_STARTS_EPOCH) {
        epoch_end(wr);
        epoch_start(wr);
    }
}

/* ------------------------------------------------------------------ */
/* Output passthrough.                                                 */
/* ------------------------------------------------------------------ */

/* Writes all of buf; 0, or -1 when the reader is gone (EPIPE) or on error. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 1000) < 0 && errno != EINTR)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static void stream_close(stream *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static void pass_through(wrap *wr, stream *s, const char *buf, size_t n)
{
    status_line_clear(wr);
    if (write_all(s->out_fd, buf, n) != 0) {
        /* Our reader went away: close the pipe so that the command sees it
         * too (SIGPIPE/EPIPE on its next write), as it would unwrapped. */
        stream_close(s);
    }
    if (n > 0)
        wr->bol[s->out_fd] = buf[n - 1] == '\n';
}

static void stream_append(stream *s, const char *p, size_t n)
{
    if (s->overflow)
        return;
    if (s->len + n > WRAP_LINE_MAX) {
        n = WRAP_LINE_MAX - s->len;
        s->overflow = 1;
    }
    memcpy(s->line + s->len, p, n);
    s->len += n;
}

/*
 * Passes buf on and matches its lines. Everything read is written before
 * the next read; a matching line and what precedes it are written before
 * the epoch boundary is applied, so that the tracker's text for it (the
 * prediction) follows the line that made it. Runs of other lines go out in
 * one write.
 */
static void stream_feed(wrap *wr, stream *s, const char *buf, size_t n)
{
    const char *pending = buf, *p = buf, *end = buf + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            stream_append(s, p, (size_t)(end - p));
            break;
        }
        stream_append(s, p, (size_t)(nl - p));
        int m = line_matches(wr, s->line, s->len);
        s->len = 0;
        s->overflow = 0;
        p = nl + 1;
        if (m) {
            if (s->fd >= 0)
                pass_through(wr, s, pending, (size_t)(p - pending));
            pending = p;
            apply_line(wr, m);
        }
    }
    if (pending < end && s->fd >= 0)
        pass_through(wr, s, pending, (size_t)(end - pending));
    status_line_draw(wr);
}

/* Reads once from s; returns 1 if data came, 0 on EOF/close, -1 on EAGAIN. */
static int stream_read(wrap *wr, stream *s)
{
    static char buf[WRAP_READ_CHUNK];
    if (s->fd < 0)
        return 0;
    ssize_t n;
    do {
        n = read(s->fd, buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        stream_feed(wr, s, buf, (size_t)n);
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -1;
    stream_close(s);
    return 0;
}

/* A last line without newline at the end of the output still counts. */
static void stream_finish(wrap *wr, stream *s)
{
    if (s->len > 0) {
        apply_line(wr, line_matches(wr, s->line, s->len));
        s->len = 0;
    }
    stream_close(s);
}

/* ------------------------------------------------------------------ */
/* Child process.                                                      */
/* ------------------------------------------------------------------ */

/* Whether execvp would find an executable for name: 0, ENOENT or EACCES. */
static int lookup_program(const char *name)
{
    struct stat sb;
    if (strchr(name, '/')) {
        if (stat(name, &sb) != 0)
            return errno == ENOENT || errno == ENOTDIR ? ENOENT : EACCES;
        return S_ISREG(sb.st_mode) && access(name, X_OK) == 0 ? 0 : EACCES;
    }
    if (name[0] == '\0')
        return ENOENT;
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    int found_other = 0;
    size_t nlen = strlen(name);
    for (const char *p = path;; ) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        char *full = malloc(dlen + nlen + 3);
        if (!full)
            return 0; /* let execvp decide */
        if (dlen == 0)
            snprintf(full, dlen + nlen + 3, "./%s", name);
        else
            snprintf(full, dlen + nlen + 3, "%.*s/%s", (int)dlen, p, name);
        int ok = stat(full, &sb) == 0;
        if (ok && S_ISREG(sb.st_mode) && access(full, X_OK) == 0) {
            free(full);
            return 0;
        }
        if (ok && !S_ISDIR(sb.st_mode))
            found_other = 1;
        free(full);
        if (!colon)
            break;
        p = colon + 1;
    }
    return found_other ? EACCES : ENOENT;
}

static int exec_failure_status(const char *name, int err, int found)
{
    if (err == ENOENT && found) {
        /* The file is there: its interpreter (#!) or loader is not. */
        fprintf(stderr, "carbontracker: cannot run '%s': %s (its #! interpreter or loader is missing)\n", name,
                strerror(err));
        return WRAP_EXIT_NOEXEC;
    }
    if (err == ENOENT) {
        fprintf(stderr, "carbontracker: cannot run '%s': command not found\n", name);
        return WRAP_EXIT_NOTFOUND;
    }
    fprintf(stderr, "carbontracker: cannot run '%s': %s\n", name, strerror(err));
    return WRAP_EXIT_NOEXEC;
}

static void check_child(wrap *wr)
{
    if (wr->child_done)
        return;
    int st;
    pid_t r;
    do {
        r = waitpid(wr->pid, &st, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == wr->pid) {
        wr->child_done = 1;
        wr->child_status = st;
    } else if (r < 0 && errno == ECHILD) { /* reaped elsewhere: should not happen */
        wr->child_done = 1;
        wr->child_status = 0;
    }
}

/* A signal for the tool: forwarded when it was sent to the tool alone. */
static void handle_signal(wrap *wr, const struct sig_note *n)
{
    if (n->signo == SIGCHLD) {
        check_child(wr);
        return;
    }
    if (wr->child_done)
        return;
    /* si_code > 0 (SI_KERNEL): the terminal sent it to the whole foreground
     * process group, which includes the command. A process that kill()s the
     * tool (si_code <= 0) reaches only the tool: forward. */
    int from_process = n->code <= 0;
    if (from_process && n->pid != wr->pid) {
        kill(wr->pid, n->signo);
        return;
    }
    /* From the terminal, but the command left our process group (setsid,
     * setpgid): the terminal's signal did not reach it. */
    pid_t pg = getpgid(wr->pid);
    if (!from_process && pg >= 0 && pg != getpgrp())
        kill(wr->pid, n->signo);
}

static int exit_status_of(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 1;
}

/* ------------------------------------------------------------------ */
/* The run.                                                            */
/* ------------------------------------------------------------------ */

static void set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fl = fcntl(fd, F_GETFD);
    if (fl >= 0)
        fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static int compile_pattern(regex_t *re, const char *pattern, const char *flag)
{
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, re, msg, sizeof msg);
        fprintf(stderr,
                "carbontracker: invalid %s '%s': %s (a POSIX extended regular expression is "
                "expected); the command was not started\n",
                flag, pattern, msg);
        return -1;
    }
    return 0;
}

static void loop(wrap *wr)
{
    for (;;) {
        double now = mono_s();
        kill_child_if_due(wr, now);
        if (now >= wr->next_check) {
            check_child(wr); /* also here: a SIGCHLD note can be dropped when the pipe is full */
            if (wr->in_epoch)
                budget_check(wr, 0);
            wr->next_check = now + wr->check_period;
        }
        if (wr->status_enabled && now >= wr->next_redraw) {
            status_line_draw(wr);
            wr->next_redraw = now + 1.0;
        }
        if (wr->child_done)
            break;

        double wake = wr->next_check;
        if (wr->stopping && !wr->killed && wr->kill_at < wake)
            wake = wr->kill_at;
        if (wr->status_enabled && wr->next_redraw < wake)
            wake = wr->next_redraw;
        int timeout_ms = (int)ceil((wake - now) * 1000.0);
        if (timeout_ms < 0)
            timeout_ms = 0;

        struct pollfd p[3];
        int np = 0;
        p[np++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
        int idx[2] = {-1, -1};
        for (int i = 0; i < 2; i++)
            if (wr->st[i].fd >= 0) {
                idx[i] = np;
                p[np++] = (struct pollfd){.fd = wr->st[i].fd, .events = POLLIN};
            }
        int r = poll(p, (nfds_t)np, timeout_ms);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            /* Should not happen; do not spin. */
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
            check_child(wr);
            continue;
        }
        if (p[0].revents & POLLIN) {
            struct sig_note n;
            while (read(sig_pipe[0], &n, sizeof n) == (ssize_t)sizeof n)
                handle_signal(wr, &n);
        }
        for (int i = 0; i < 2; i++)
            if (idx[i] >= 0 && (p[idx[i]].revents & (POLLIN | POLLHUP | POLLERR)))
                stream_read(wr, &wr->st[i]);
        if (r == 0)
            check_child(wr); /* in case a SIGCHLD note was lost */
    }
    /* Everything the command wrote before it exited is in the pipes now. A
     * process it left behind may hold them open: read what is there, do not
     * wait for EOF. */
    for (int i = 0; i < 2; i++) {
        while (wr->st[i].fd >= 0 && stream_read(wr, &wr->st[i]) == 1)
            ;
        stream_finish(wr, &wr->st[i]);
    }
}

int ct_cli_wrap(const ct_config *cfg, const ct_wrap_opts *w, char *const argv[])
{
    if (!cfg || !argv || !argv[0]) {
        fprintf(stderr, "carbontracker: no command to run\n");
        return WRAP_EXIT_USAGE;
    }
    ct_wrap_opts defaults = {NULL, NULL, 0, 10.0};
    if (!w)
        w = &defaults;

    wrap wr;
    memset(&wr, 0, sizeof wr);
    wr.cfg = cfg;
    wr.on_budget_stop = w->on_budget_stop;
    wr.grace_s = w->grace_s >= 0 && isfinite(w->grace_s) ? w->grace_s : 10.0;
    wr.st[0] = (stream){.fd = -1, .out_fd = STDOUT_FILENO};
    wr.st[1] = (stream){.fd = -1, .out_fd = STDERR_FILENO};
    wr.bol[STDOUT_FILENO] = wr.bol[STDERR_FILENO] = 1;
    wr.pid = -1;
    int status = 1;

    if (w->epoch_pattern) {
        if (compile_pattern(&wr.start_re, w->epoch_pattern, "--epoch-pattern") != 0)
            return WRAP_EXIT_USAGE;
        wr.has_start = 1;
    }
    if (w->epoch_end_pattern) {
        if (compile_pattern(&wr.end_re, w->epoch_end_pattern, "--epoch-end-pattern") != 0) {
            if (wr.has_start)
                regfree(&wr.start_re);
            return WRAP_EXIT_USAGE;
        }
        wr.has_end = 1;
    }
    wr.piped = wr.has_start || wr.has_end;

    int perr = lookup_program(argv[0]);
    if (perr) {
        status = exec_failure_status(argv[0], perr, 0);
        goto out_regex;
    }

    /* Python buffers its output in a pipe; epochs need each line as it is
     * printed. (Set before any thread exists; an explicit value is kept.) */
    if (wr.piped)
        setenv("PYTHONUNBUFFERED", "1", 0);

    /* Block the signals we handle from here on: the tracker's measurement
     * thread inherits the mask, so they are all delivered to this thread,
     * and the child starts with none of our handlers. */
    sigset_t handled, old_mask;
    sigemptyset(&handled);
    for (int i = 0; i < N_FORWARDED; i++)
        sigaddset(&handled, forwarded_signals[i]);
    sigaddset(&handled, SIGCHLD);
    sigprocmask(SIG_BLOCK, &handled, &old_mask);

    struct sigaction old_act[N_FORWARDED], old_chld, old_pipe;
    int installed[N_FORWARDED] = {0};
    int chld_installed = 0, pipe_installed = 0;
    int errpipe[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "carbontracker: pipe: %s\n", strerror(errno));
        goto out_mask;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (int i = 0; i < N_FORWARDED; i++) {
        /* A signal ignored when we started (nohup, background jobs) stays ignored. */
        if (sigaction(forwarded_signals[i], NULL, &old_act[i]) == 0 && old_act[i].sa_handler == SIG_IGN)
            continue;
        if (sigaction(forwarded_signals[i], &sa, &old_act[i]) == 0)
            installed[i] = 1;
    }
    struct sigaction sa_chld = sa;
    sa_chld.sa_flags |= SA_NOCLDSTOP;
    chld_installed = sigaction(SIGCHLD, &sa_chld, &old_chld) == 0;
    /* A reader that goes away must not kill the tool before it writes its
     * results (the command gets its own SIGPIPE: see pass_through). */
    struct sigaction sa_ign;
    memset(&sa_ign, 0, sizeof sa_ign);
    sa_ign.sa_handler = SIG_IGN;
    pipe_installed = sigaction(SIGPIPE, &sa_ign, &old_pipe) == 0;

    /* The library's own status line would collide with the command's
     * output, which it cannot see; the wrapper draws its own (pattern mode). */
    ct_config tcfg = *cfg;
    tcfg.status_line = 0;
    int rc = ct_tracker_new(&tcfg, &wr.t);
    if (rc != 0) {
        wr.t = NULL;
        /* Wrong options are refused even with ignore_errors; a tracker that
         * cannot measure (no source, ...) then lets the command run untracked. */
        if (!cfg->ignore_errors || rc == CT_EINVAL) {
            fprintf(stderr, "carbontracker: %s; the command was not started\n", ct_last_error_message());
            status = rc == CT_EINVAL ? WRAP_EXIT_USAGE : WRAP_EXIT_SETUP;
            goto out_handlers;
        }
    }
    fflush(stdout);
    wr.tracking = wr.t != NULL;
    wr.check_period = cfg->update_interval > 0 && cfg->update_interval < 1.0 ? cfg->update_interval : 1.0;
    if (wr.check_period < 0.1)
        wr.check_period = 0.1;

    if (pipe2(errpipe, O_CLOEXEC) != 0 ||
        (wr.piped && (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0))) {
        fprintf(stderr, "carbontracker: pipe: %s\n", strerror(errno));
        goto out_tracker;
    }

    wr.pid = fork();
    if (wr.pid < 0) {
        fprintf(stderr, "carbontracker: fork: %s\n", strerror(errno));
        goto out_tracker;
    }
    if (wr.pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        for (int i = 0; i < N_FORWARDED; i++)
            if (installed[i])
                sigaction(forwarded_signals[i], &old_act[i], NULL);
        if (chld_installed)
            sigaction(SIGCHLD, &old_chld, NULL);
        if (pipe_installed)
            sigaction(SIGPIPE, &old_pipe, NULL);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        if (wr.piped) {
            if (dup2(outp[1], STDOUT_FILENO) < 0 || dup2(errp[1], STDERR_FILENO) < 0)
                _exit(WRAP_EXIT_NOEXEC);
        }
        execvp(argv[0], argv);
        int e = errno;
        ssize_t wn = write(errpipe[1], &e, sizeof e);
        (void)wn;
        _exit(e == ENOENT ? WRAP_EXIT_NOTFOUND : WRAP_EXIT_NOEXEC);
    }

    /* Parent: did exec succeed? (The error pipe closes on exec.) */
    close(errpipe[1]);
    errpipe[1] = -1;
    if (wr.piped) {
        close(outp[1]);
        close(errp[1]);
        outp[1] = errp[1] = -1;
        wr.st[0].fd = outp[0];
        wr.st[1].fd = errp[0];
        outp[0] = errp[0] = -1;
        set_nonblock_cloexec(wr.st[0].fd);
        set_nonblock_cloexec(wr.st[1].fd);
    }
    int exec_err = 0;
    ssize_t got;
    do {
        got = read(errpipe[0], &exec_err, sizeof exec_err);
    } while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof exec_err) {
        int st;
        while (waitpid(wr.pid, &st, 0) < 0 && errno == EINTR)
            ;
        wr.child_done = 1;
        status = exec_failure_status(argv[0], exec_err, 1);
        goto out_tracker;
    }

    /* The command is running: its first epoch starts now (with only a start
     * pattern, at the first matching line). */
    if (!wr.has_start)
        epoch_start(&wr);
    wr.next_check = mono_s() + wr.check_period;
    wr.status_enabled = wr.piped && wr.t && cfg->verbose >= 1 && isatty(STDERR_FILENO);
    wr.stdout_tty = isatty(STDOUT_FILENO);
    wr.next_redraw = mono_s();
    sigprocmask(SIG_SETMASK, &old_mask, NULL); /* pending signals arrive now */

    loop(&wr);

    status = exit_status_of(wr.child_status);
    status_line_clear(&wr);
    epoch_end(&wr); /* the last epoch ends when the program exits */
    budget_check(&wr, 0); /* the actual, at the end */
    if (wr.t && wr.has_start && wr.epochs_started == 0)
        say(&wr, "CarbonTracker: WARNING - no line of the command's output matched --epoch-pattern '%s', so no "
                 "epoch was measured (the pattern is a POSIX extended regular expression matched against each "
                 "line of stdout and stderr).",
            w->epoch_pattern);

out_tracker:
    sigprocmask(SIG_BLOCK, &handled, NULL);
    if (wr.t) {
        before_print(&wr);
        ct_stop(wr.t);
        ct_tracker_free(wr.t);
        wr.t = NULL;
        fflush(stdout);
    }
    for (int i = 0; i < 2; i++)
        stream_close(&wr.st[i]);
    if (wr.pid > 0 && !wr.child_done) { /* only on internal failure after fork */
        kill(wr.pid, SIGTERM);
        int st;
        while (waitpid(wr.pid, &st, 0) < 0 && errno == EINTR)
            ;
        status = exit_status_of(st);
    }
    for (int i = 0; i < 2; i++) {
        if (errpipe[i] >= 0)
            close(errpipe[i]);
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
out_handlers:
    /* Unblock first: a signal still pending goes to our handler (and is
     * dropped), not to a default action that would end the tool now. */
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    for (int i = 0; i < N_FORWARDED; i++)
        if (installed[i])
            sigaction(forwarded_signals[i], &old_act[i], NULL);
    if (chld_installed)
        sigaction(SIGCHLD, &old_chld, NULL);
    if (pipe_installed)
        sigaction(SIGPIPE, &old_pipe, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
out_mask:
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
out_regex:
    if (wr.has_start)
        regfree(&wr.start_re);
    if (wr.has_end)
        regfree(&wr.end_re);
    return status;
}
