/*
 * spawn.c - starting the wrapped command and everything about signals.
 *
 * The command runs in a session of its own (setsid), so that the tool can
 * pause its whole process group while a question waits (--stop-and-confirm)
 * and so that a terminal's signals reach it only through the tool, after the
 * tool has done its part (the pseudo-terminal's size before SIGWINCH). It has
 * no controlling terminal: its stdin is the tool's, readable as before, and
 * /dev/tty is not opened behind the tool's back.
 *
 * Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT received by the tool are
 * passed on: to the command's process group when the terminal sent them
 * (Ctrl-C reaches every process of the foreground job, as without the tool),
 * to the command alone when a process sent them to the tool (kill PID).
 * Ctrl-Z stops the command and then the tool; fg continues both. Either way
 * the tool keeps running until the command exits and then writes its results.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "wrap_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct sig_note {
    int signo;
    int code;  /* si_code: <= 0 sent by a process, > 0 by the kernel (terminal) */
    pid_t pid; /* sender for si_code <= 0 */
};

static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGWINCH, SIGCHLD};
#define N_HANDLED ((int)(sizeof handled_signals / sizeof handled_signals[0]))

static int sig_pipe[2] = {-1, -1};
static struct sigaction old_act[N_HANDLED];
static int installed[N_HANDLED];
static struct sigaction old_pipe_act;
static int pipe_installed;
static sigset_t handled_set, old_mask;

static void on_signal(int signo, siginfo_t *si, void *uctx) {
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

int spawn_signal_fd(void) { return sig_pipe[0]; }

/* Blocks the handled signals (the tracker's threads inherit the mask, so
 * they all come to this thread) and installs the handlers. */
int spawn_signals_install(void) {
    sigemptyset(&handled_set);
    for (int i = 0; i < N_HANDLED; i++) sigaddset(&handled_set, handled_signals[i]);
    sigprocmask(SIG_BLOCK, &handled_set, &old_mask);
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "carbontracker: pipe: %s\n", strerror(errno));
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (int i = 0; i < N_HANDLED; i++) {
        int s = handled_signals[i];
        installed[i] = 0;
        /* A signal ignored when we started (nohup, background jobs) stays ignored. */
        if (sigaction(s, NULL, &old_act[i]) == 0 && old_act[i].sa_handler == SIG_IGN && s != SIGCHLD) continue;
        struct sigaction a = sa;
        if (s == SIGCHLD) a.sa_flags |= SA_NOCLDSTOP;
        if (sigaction(s, &a, &old_act[i]) == 0) installed[i] = 1;
    }
    /* A reader that goes away must not kill the tool before it writes its
     * results (the command gets its own SIGPIPE: see relay.c). */
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    pipe_installed = sigaction(SIGPIPE, &ign, &old_pipe_act) == 0;
    return 0;
}

void spawn_signals_block(void) { sigprocmask(SIG_BLOCK, &handled_set, NULL); }
void spawn_signals_unblock(void) { sigprocmask(SIG_SETMASK, &old_mask, NULL); }

void spawn_signals_restore(void) {
    /* Unblock first: a signal still pending goes to our handler (and is
     * dropped), not to a default action that would end the tool now. */
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    for (int i = 0; i < N_HANDLED; i++)
        if (installed[i]) sigaction(handled_signals[i], &old_act[i], NULL);
    if (pipe_installed) sigaction(SIGPIPE, &old_pipe_act, NULL);
    for (int i = 0; i < 2; i++) {
        if (sig_pipe[i] >= 0) close(sig_pipe[i]);
        sig_pipe[i] = -1;
    }
}

/* ------------------------------------------------------------------ */
/* Finding and starting the command.                                   */
/* ------------------------------------------------------------------ */

/* Whether execvp would find an executable for name: 0, ENOENT or EACCES. */
int spawn_lookup(const char *name) {
    struct stat sb;
    if (strchr(name, '/')) {
        if (stat(name, &sb) != 0) return errno == ENOENT || errno == ENOTDIR ? ENOENT : EACCES;
        return S_ISREG(sb.st_mode) && access(name, X_OK) == 0 ? 0 : EACCES;
    }
    if (name[0] == '\0') return ENOENT;
    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    int found_other = 0;
    size_t nlen = strlen(name);
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        char *full = malloc(dlen + nlen + 3);
        if (!full) return 0; /* let execvp decide */
        if (dlen == 0) snprintf(full, dlen + nlen + 3, "./%s", name);
        else snprintf(full, dlen + nlen + 3, "%.*s/%s", (int)dlen, p, name);
        int ok = stat(full, &sb) == 0;
        if (ok && S_ISREG(sb.st_mode) && access(full, X_OK) == 0) {
            free(full);
            return 0;
        }
        if (ok && !S_ISDIR(sb.st_mode)) found_other = 1;
        free(full);
        if (!colon) break;
        p = colon + 1;
    }
    return found_other ? EACCES : ENOENT;
}

int spawn_exec_failure(const char *name, int err, int found) {
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

/* The Electricity Maps key is the tool's, not the command's: the command
 * gets the environment without it (and without the key file's name). */
static const char *const secret_vars[] = {"CT_ELECTRICITYMAPS_KEY", "CT_ELECTRICITYMAPS_KEY_FILE"};

char **spawn_scrubbed_env(void) {
    size_t n = 0;
    while (environ && environ[n]) n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int secret = 0;
        for (size_t s = 0; s < sizeof secret_vars / sizeof secret_vars[0]; s++) {
            size_t l = strlen(secret_vars[s]);
            if (strncmp(environ[i], secret_vars[s], l) == 0 && environ[i][l] == '=') secret = 1;
        }
        if (!secret) env[k++] = environ[i];
    }
    env[k] = NULL;
    return env;
}

static void set_nonblock_cloexec(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fl = fcntl(fd, F_GETFD);
    if (fl >= 0) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static void add_stream(wrap *wr, int fd, int out_fd, int is_pty) {
    wrap_stream *s = &wr->st[wr->nst++];
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->out_fd = out_fd;
    s->is_pty = is_pty;
    set_nonblock_cloexec(fd);
}

/*
 * Starts argv with its stdout and stderr connected as out_mode / err_mode
 * say (CONN_*; the pty slave is wr->pty_slave). Returns 0, or the tool's
 * exit status when the command could not be started (the error is said).
 */
int spawn_start(wrap *wr, char *const argv[], int out_mode, int err_mode) {
    int errpipe[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
    int status = WRAP_EXIT_SETUP;
    char **env = spawn_scrubbed_env();
    if (!env) {
        fprintf(stderr, "carbontracker: out of memory\n");
        return WRAP_EXIT_SETUP;
    }
    if (pipe2(errpipe, O_CLOEXEC) != 0 || (out_mode == CONN_PIPE && pipe2(outp, O_CLOEXEC) != 0) ||
        (err_mode == CONN_PIPE && pipe2(errp, O_CLOEXEC) != 0)) {
        fprintf(stderr, "carbontracker: pipe: %s\n", strerror(errno));
        goto out;
    }
    pid_t parent = getpid();
    wr->pid = fork();
    if (wr->pid < 0) {
        fprintf(stderr, "carbontracker: fork: %s\n", strerror(errno));
        goto out;
    }
    if (wr->pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        for (int i = 0; i < N_HANDLED; i++)
            if (installed[i]) sigaction(handled_signals[i], &old_act[i], NULL);
        if (pipe_installed) sigaction(SIGPIPE, &old_pipe_act, NULL);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        setsid();
        /* If the tool is killed outright, the command is told (SIGTERM)
         * rather than left running unseen in its own session. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(WRAP_EXIT_SETUP);
        int fd_for[3] = {-1, -1, -1};
        fd_for[1] = out_mode == CONN_PTY ? wr->pty_slave : out_mode == CONN_PIPE ? outp[1] : -1;
        fd_for[2] = err_mode == CONN_PTY         ? wr->pty_slave
                    : err_mode == CONN_PIPE      ? errp[1]
                    : err_mode == CONN_SAME_PIPE ? outp[1]
                                                 : -1;
        for (int f = 1; f <= 2; f++)
            if (fd_for[f] >= 0 && dup2(fd_for[f], f) < 0) _exit(WRAP_EXIT_NOEXEC);
        if (wr->pty_slave > 2) close(wr->pty_slave);
        execvpe(argv[0], argv, env);
        int e = errno;
        ssize_t wn = write(errpipe[1], &e, sizeof e);
        (void)wn;
        _exit(e == ENOENT ? WRAP_EXIT_NOTFOUND : WRAP_EXIT_NOEXEC);
    }
    wr->pgid = wr->pid; /* setsid: its own session and process group */
    close(errpipe[1]);
    errpipe[1] = -1;
    if (wr->pty_slave >= 0) {
        close(wr->pty_slave); /* the master sees EOF (EIO) once every holder is gone */
        wr->pty_slave = -1;
    }
    if (out_mode == CONN_PIPE) {
        close(outp[1]);
        outp[1] = -1;
        add_stream(wr, outp[0], STDOUT_FILENO, 0);
        outp[0] = -1;
    }
    if (err_mode == CONN_PIPE) {
        close(errp[1]);
        errp[1] = -1;
        add_stream(wr, errp[0], STDERR_FILENO, 0);
        errp[0] = -1;
    }
    /* Did exec succeed? (The error pipe closes on exec.) */
    int exec_err = 0;
    ssize_t got;
    do {
        got = read(errpipe[0], &exec_err, sizeof exec_err);
    } while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof exec_err) {
        int st;
        while (waitpid(wr->pid, &st, 0) < 0 && errno == EINTR)
            ;
        wr->child_done = 1;
        status = spawn_exec_failure(argv[0], exec_err, 1);
        goto out;
    }
    status = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (errpipe[i] >= 0) close(errpipe[i]);
        if (outp[i] >= 0) close(outp[i]);
        if (errp[i] >= 0) close(errp[i]);
    }
    free(env);
    return status;
}

/* ------------------------------------------------------------------ */
/* The running command.                                                */
/* ------------------------------------------------------------------ */

void spawn_check_child(wrap *wr) {
    if (wr->child_done || wr->pid <= 0) return;
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

/* SIGSTOP takes effect when the command next runs: waits until it has (or
 * has exited meanwhile). WNOWAIT: the state stays for spawn_check_child. */
static void wait_stopped(wrap *wr) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    while (waitid(P_PID, (id_t)wr->pid, &info, WSTOPPED | WEXITED | WNOWAIT) != 0 && errno == EINTR)
        ;
}

/* Pauses the whole process group (a training's data loader workers too), so
 * that nothing runs while the question is shown. */
void spawn_pause(wrap *wr) {
    if (wr->paused || wr->child_done || wr->pgid <= 0) return;
    if (kill(-wr->pgid, SIGSTOP) != 0) return;
    wr->paused = 1;
    wait_stopped(wr);
}

void spawn_resume(wrap *wr) {
    if (!wr->paused) return;
    wr->paused = 0;
    if (wr->pgid > 0) kill(-wr->pgid, SIGCONT);
}

void spawn_stop_child(wrap *wr, const char *why) {
    if (wr->stopping || wr->child_done) return;
    wr->stopping = 1;
    kill(wr->pid, SIGTERM);
    spawn_resume(wr); /* a stopped process acts on SIGTERM only once continued */
    wr->kill_at = wrap_now() + wr->opts->grace_s;
    wrap_say(wr,
             "CarbonTracker: stopping the command (pid %ld) because %s: sent SIGTERM; "
             "SIGKILL follows in %g s if it is still running.",
             (long)wr->pid, why, wr->opts->grace_s);
}

void spawn_kill_if_due(wrap *wr, double now) {
    if (!wr->stopping || wr->killed || wr->child_done || wr->kill_at <= 0 || now < wr->kill_at) return;
    wr->killed = 1;
    kill(wr->pid, SIGKILL);
    wrap_say(wr, "CarbonTracker: the command (pid %ld) was still running %g s after SIGTERM: sent SIGKILL.",
             (long)wr->pid, wr->opts->grace_s);
}

/* Ctrl-Z: the command stops, then the tool; when the shell continues the
 * tool (fg, bg), the command goes on too. */
static void suspend_both(wrap *wr) {
    if (wr->pgid > 0 && !wr->child_done && kill(-wr->pgid, SIGSTOP) == 0)
        wait_stopped(wr); /* the command is stopped before the tool is */
    term_status_clear(wr);
    kill(getpid(), SIGSTOP); /* returns when continued */
    term_winch(wr);          /* the terminal may have changed meanwhile */
    if (wr->pgid > 0 && !wr->child_done && !wr->paused) kill(-wr->pgid, SIGCONT);
}

static void handle_signal(wrap *wr, const struct sig_note *n) {
    if (n->signo == SIGCHLD) {
        spawn_check_child(wr);
        return;
    }
    if (n->signo == SIGWINCH) {
        term_winch(wr);
        return;
    }
    if (wr->child_done || wr->pid <= 0) return;
    int from_process = n->code <= 0;
    if (n->signo == SIGTSTP) {
        if (!from_process || n->pid != wr->pid) suspend_both(wr);
        return;
    }
    if (from_process && n->pid == wr->pid) return; /* the command signalling the tool: not sent back */
    /* From the terminal (si_code > 0): the whole foreground job, as the
     * terminal would have reached it. From a process: the command alone. */
    if (!from_process && wr->pgid > 0) kill(-wr->pgid, n->signo);
    else kill(wr->pid, n->signo);
    if (wr->paused && (n->signo == SIGINT || n->signo == SIGTERM || n->signo == SIGHUP || n->signo == SIGQUIT))
        kill(-wr->pgid, SIGCONT); /* so that it can act on it; it stays paused from our side */
}

void spawn_handle_signals(wrap *wr) {
    struct sig_note n;
    while (read(sig_pipe[0], &n, sizeof n) == (ssize_t)sizeof n) handle_signal(wr, &n);
}

int spawn_exit_status(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 1;
}
