/*
 * wrap.c - `carbontracker [options] [--] COMMAND [ARGS...]`: runs a command
 * under a tracker (public API only). This file is the orchestration: the
 * tracker, the loop, the results and the clean-up. The pieces are in
 * relay.c (its output), epochs.c (epochs from the output), budget.c
 * (budgets), spawn.c (starting the command, signals) and term.c (the
 * terminal, the tool's messages); see wrap_int.h for their order.
 *
 * Without an epoch pattern or preset the whole run is one epoch. With one,
 * the command's output goes through the tool, is passed on unchanged as soon
 * as it arrives, and its lines mark the epoch boundaries. When the tool's
 * output is a terminal, the command runs on a pseudo-terminal and the tool
 * draws a status line on the terminal's last row.
 *
 * Everything the tool says itself goes to stderr, so that the command's
 * stdout stays clean for pipelines.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "wrap_int.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void loop(wrap *wr) {
    for (;;) {
        double now = wrap_now();
        spawn_kill_if_due(wr, now);
        if (now >= wr->next_check) {
            spawn_check_child(wr); /* also here: a SIGCHLD note can be dropped when the pipe is full */
            if (wr->in_epoch) budget_check(wr, 0);
            wr->next_check = now + wr->check_period;
        }
        term_status_draw(wr, 0);
        if (wr->child_done) break;

        double wake = wr->next_check;
        if (wr->stopping && !wr->killed && wr->kill_at < wake) wake = wr->kill_at;
        if (wr->status_region && wr->next_redraw < wake) wake = wr->next_redraw;
        int timeout_ms = (int)ceil((wake - now) * 1000.0);
        if (timeout_ms < 0) timeout_ms = 0;

        struct pollfd p[4];
        int np = 0, idx[3] = {-1, -1, -1};
        p[np++] = (struct pollfd){.fd = spawn_signal_fd(), .events = POLLIN};
        for (int i = 0; i < wr->nst; i++)
            if (wr->st[i].fd >= 0) {
                idx[i] = np;
                p[np++] = (struct pollfd){.fd = wr->st[i].fd, .events = POLLIN};
            }
        int r = poll(p, (nfds_t)np, timeout_ms);
        if (r < 0) {
            if (errno == EINTR) continue;
            struct timespec ts = {0, 10000000}; /* should not happen; do not spin */
            nanosleep(&ts, NULL);
            spawn_check_child(wr);
            continue;
        }
        if (p[0].revents & POLLIN) spawn_handle_signals(wr);
        for (int i = 0; i < wr->nst; i++)
            if (idx[i] >= 0 && (p[idx[i]].revents & (POLLIN | POLLHUP | POLLERR))) relay_read(wr, &wr->st[i]);
        if (r == 0) spawn_check_child(wr); /* in case a SIGCHLD note was lost */
    }
    /* Everything the command wrote before it exited is in the pipes now. A
     * process it left behind may hold them open: read what is there, do not
     * wait for EOF. */
    for (int i = 0; i < wr->nst; i++) {
        while (wr->st[i].fd >= 0 && relay_read(wr, &wr->st[i]) == 1)
            ;
        relay_finish(wr, &wr->st[i]);
    }
}

/* The whole run as one epoch, quiet, beside the tracker: what is reported when
 * the output's epochs do not fit --epochs. */
static void meter_open(wrap *wr, const ct_config *tcfg) {
    ct_config m = *tcfg;
    m.log_dir = NULL;
    m.verbose = 0;
    m.stop_and_confirm = 0;
    m.epochs = 1;
    m.epochs_before_pred = 0;
    m.monitor_epochs = -1;
    m.ignore_errors = 1;
    m.offline = 1; /* no second set of requests to a live service: its CO2eq uses the tracker's intensity */
    if (ct_tracker_new(&m, &wr->meter) != 0) wr->meter = NULL;
}

int ct_cli_wrap(const ct_config *cfg, const ct_wrap_opts *w, char *const argv[]) {
    static const ct_wrap_opts defaults = {.grace_s = 10.0, .pty = -1, .status_line = 1};
    if (!cfg) return WRAP_EXIT_USAGE;
    if (!w) w = &defaults;
    ct_wrap_opts opts = *w;
    if (!(opts.grace_s >= 0) || !isfinite(opts.grace_s)) opts.grace_s = 10.0;
    int has_command = argv && argv[0];

    wrap wr;
    memset(&wr, 0, sizeof wr);
    wr.cfg = cfg;
    wr.opts = &opts;
    wr.pid = wr.pgid = -1;
    wr.term_fd = wr.pty_slave = -1;
    int status = 1;

    if (epochs_init(&wr, &opts) != 0) return WRAP_EXIT_USAGE;
    wr.piped = has_command && (wr.ep.start.set || wr.ep.end.set || wr.ep.preset != -1);
    if (has_command) {
        int perr = spawn_lookup(argv[0]);
        if (perr) {
            status = spawn_exec_failure(argv[0], perr, 0);
            goto out_epochs;
        }
    }
    /* Python buffers its output in a pipe; epochs need each line as it is
     * printed. (Set before any thread exists; an explicit value is kept.) */
    if (wr.piped) setenv("PYTHONUNBUFFERED", "1", 0);
    if (spawn_signals_install() != 0) goto out_epochs;

    /* The library's own status line and budget warnings would collide with
     * the tool's: the tool draws the one and says the other. */
    ct_config tcfg = *cfg;
    tcfg.status_line = 0;
    if (tcfg.max_energy_kwh > 0) /* a wrong value (< 0) is still the library's to refuse */
        tcfg.max_energy_kwh = 0;
    if (tcfg.max_co2_g > 0) tcfg.max_co2_g = 0;
    int rc = ct_tracker_new(&tcfg, &wr.t);
    if (rc != 0) {
        wr.t = NULL;
        /* Wrong options are refused even with ignore_errors; a tracker that
         * cannot measure (no source, ...) then lets the command run untracked. */
        if (!cfg->ignore_errors || rc == CT_EINVAL) {
            char msg[1024];
            if (opts.say_flags) opts.say_flags(opts.say_ctx, ct_last_error_message(), msg, sizeof msg);
            else snprintf(msg, sizeof msg, "%s", ct_last_error_message());
            fprintf(stderr, "carbontracker: %s; the command was not started\n", msg);
            status = rc == CT_EINVAL ? WRAP_EXIT_USAGE : WRAP_EXIT_SETUP;
            goto out_signals;
        }
    }
    fflush(stdout);
    if (wr.piped && wr.t) meter_open(&wr, &tcfg);
    wr.tracking = wr.t != NULL;
    wr.check_period = cfg->update_interval > 0 && cfg->update_interval < 1.0 ? cfg->update_interval : 1.0;
    if (wr.check_period < 0.1) wr.check_period = 0.1;

    if (!has_command) {
        /* As the original: no command, an empty run measured and reported. */
        fprintf(stderr, "carbontracker: no command given (see --help): measuring an empty run\n");
        epoch_start(&wr);
        epoch_end(&wr);
        status = 0;
        goto out_tracker;
    }

    int out_mode, err_mode;
    if (term_setup(&wr, opts.pty, &out_mode, &err_mode) != 0) goto out_tracker;
    if (wr.meter) /* from before the command starts to after it ended: all of it */
        ct_epoch_start(wr.meter);
    status = spawn_start(&wr, argv, out_mode, err_mode);
    if (status != 0) goto out_tracker;
    status = 1;

    /* The command is running: its first epoch starts now (with a start rule,
     * at the first matching line). */
    if (!wr.ep.start.set && wr.ep.preset != -2) epoch_start(&wr);
    wr.next_check = wrap_now() + wr.check_period;
    wr.next_redraw = wrap_now();
    spawn_signals_unblock(); /* pending signals arrive now */

    loop(&wr);

    status = spawn_exit_status(wr.child_status);
    epoch_end(&wr);       /* the last epoch ends when the program exits */
    budget_check(&wr, 0); /* the actual, at the end */
    if (wr.meter) ct_epoch_end(wr.meter);
    epochs_report(&wr);

out_tracker:
    spawn_signals_block();
    if (wr.t) {
        wrap_before_print(&wr, cfg->verbose >= 1);
        ct_stop(wr.t);
        fflush(stdout);
        const char *log = ct_log_path(wr.t);
        if (log && cfg->verbose >= 1) wrap_say(&wr, "CarbonTracker: Logs: %s", log);
        ct_tracker_free(wr.t);
        wr.t = NULL;
    }
    ct_tracker_free(wr.meter);
    wr.meter = NULL;
    term_close(&wr);
    for (int i = 0; i < wr.nst; i++) relay_close(&wr.st[i]);
    if (wr.pty_slave >= 0) close(wr.pty_slave);
    if (wr.pid > 0 && !wr.child_done) { /* only on internal failure after fork */
        spawn_resume(&wr);
        kill(wr.pid, SIGTERM);
        int st;
        while (waitpid(wr.pid, &st, 0) < 0 && errno == EINTR)
            ;
        status = spawn_exit_status(st);
    }
out_signals:
    spawn_signals_restore();
out_epochs:
    epochs_free(&wr);
    return status;
}
