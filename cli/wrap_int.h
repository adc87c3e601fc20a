/*
 * wrap_int.h - the pieces of `carbontracker COMMAND` (cli/wrap.c), shared by
 * its files and by nothing else. From the top down; each file calls only the
 * ones below it:
 *
 *   wrap.c    orchestration: tracker, the loop, results, clean-up
 *   relay.c   passing the command's output on, byte for byte and in order;
 *             its lines go to epochs.c
 *   epochs.c  epoch boundaries from the output: lines split at \r and \n,
 *             ANSI codes ignored, patterns and framework presets
 *   budget.c  budgets against the prediction and the actual so far
 *   spawn.c   starting the command (pipes or a pseudo-terminal, scrubbed
 *             environment, own session), signals, pausing and stopping it
 *   term.c    the terminal: the pseudo-terminal, its size, the status line
 *             on the last row; the tool's own messages, the clock, numbers
 *
 * Public API only (include/carbontracker.h).
 */
#ifndef CT_CLI_WRAP_INT_H
#define CT_CLI_WRAP_INT_H

#include "carbontracker.h"
#include "cli.h"

#include <regex.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#define WRAP_EXIT_USAGE 2      /* invalid pattern or option: the command was not started */
#define WRAP_EXIT_SETUP 1      /* the tracker could not be created: the command was not started */
#define WRAP_EXIT_NOEXEC 126   /* found but not executable */
#define WRAP_EXIT_NOTFOUND 127 /* not found */
#define WRAP_LINE_MAX 16384    /* bytes of one line kept for matching (the rest still passes through) */

enum { N_BUDGETS = 2 };

/* One epoch rule: a regular expression whose first group, if any, names the
 * epoch ("Epoch 3/10" and "Epoch 3: val_loss" are the same epoch 3). */
typedef struct wrap_rule {
    regex_t re;
    int set;
    int has_group;
} wrap_rule;

/* Epoch detection state (epochs.c). */
typedef struct wrap_epochs {
    wrap_rule start, end; /* --epoch-pattern / --epoch-end-pattern, or a preset's */
    int preset;           /* index into the preset table; -1 none; auto: -2 until one matched */
    int end_is_count;     /* the end rule's group counts completed epochs (transformers' 'epoch': 1.0) */
    char current_id[64];  /* group text of the epoch in progress ("" none) */
    int seen;             /* distinct epochs seen in the output */
    int warned_beyond;    /* told that the output has more epochs than --epochs */
    const char *epochs_flag;
    const char *pattern_text; /* what the user gave, for messages */
} wrap_epochs;

/* One stream of the command's output that goes through the tool. */
typedef struct wrap_stream {
    int fd;     /* read end (pipe or pty master); -1 when closed */
    int out_fd; /* where its bytes go (1 or 2) */
    int is_pty;
    char line[WRAP_LINE_MAX + 1]; /* the current line without ANSI codes, for matching */
    size_t len;
    int overflow;
    int esc;     /* ANSI parser state, see epochs.c */
    int last_cr; /* the previous byte was \r (so "\r\n" is one end of line) */
} wrap_stream;

typedef struct wrap {
    const ct_config *cfg;
    const ct_wrap_opts *opts;
    ct_tracker *t;     /* NULL when running untracked (ignore_errors) */
    ct_tracker *meter; /* the whole run as one epoch, quiet (pattern mode); NULL otherwise */
    wrap_epochs ep;
    int piped;         /* epochs come from the output */
    wrap_stream st[3]; /* pty master, stdout pipe, stderr pipe (or both in one) */
    int nst;

    pid_t pid;
    pid_t pgid; /* the command's process group (its own session) */
    int child_done;
    int child_status;
    int paused; /* SIGSTOP sent to its group, SIGCONT not yet */

    int tracking; /* 0 once monitoring ended or failed: no more epoch calls */
    int in_epoch;
    int epochs_ended;
    int epochs_started;
    int error_reported;

    int stopping;   /* SIGTERM sent by us */
    double kill_at; /* monotonic s for SIGKILL; 0 = none */
    int killed;
    int budget_warned[N_BUDGETS];
    int warned_unknown;
    double next_check;
    double check_period;

    /* The terminal (term.c): the tool's stdout or stderr when it is one. */
    int term_fd;        /* -1: no terminal */
    int pty_slave;      /* in the parent until the command started */
    int rows, cols;     /* the terminal's size */
    int status_enabled; /* draw the status line on the last row */
    int status_region;  /* the scroll region is set (rows 1..rows-1) */
    int at_bol[3];      /* per output fd: its last byte passed through ended a line */
    int utf8_left[3];   /* continuation bytes still due on that fd */
    double next_redraw;
} wrap;

/* wrap.c: ct_cli_wrap (cli.h) */

/* relay.c */
int relay_read(wrap *wr, wrap_stream *s);
void relay_finish(wrap *wr, wrap_stream *s);
void relay_close(wrap_stream *s);

/* epochs.c */
int epochs_init(wrap *wr, const ct_wrap_opts *w);
void epochs_free(wrap *wr);
void epochs_feed_byte_state(wrap_stream *s, unsigned char c, int *visible);
int epochs_match_line(wrap *wr, wrap_stream *s);
int epochs_match_partial(wrap *wr, wrap_stream *s);
int epochs_partial_ok(const wrap *wr);
void epochs_apply(wrap *wr, int m);
void epoch_start(wrap *wr);
void epoch_end(wrap *wr);
void epochs_report(wrap *wr);
const char *epochs_preset_names(void);

/* budget.c */
void budget_check(wrap *wr, int lib_said_budget);

/* spawn.c */
int spawn_lookup(const char *name);
int spawn_exec_failure(const char *name, int err, int found);
int spawn_signals_install(void);
void spawn_signals_restore(void);
void spawn_signals_block(void);
void spawn_signals_unblock(void);
int spawn_signal_fd(void);
int spawn_start(wrap *wr, char *const argv[], int out_mode, int err_mode);
void spawn_handle_signals(wrap *wr);
void spawn_check_child(wrap *wr);
void spawn_pause(wrap *wr);
void spawn_resume(wrap *wr);
void spawn_stop_child(wrap *wr, const char *why);
void spawn_kill_if_due(wrap *wr, double now);
int spawn_exit_status(int st);
char **spawn_scrubbed_env(void);

/* How a standard stream of the command is connected (term_setup, spawn_start). */
enum { CONN_INHERIT = 0, CONN_PTY = 1, CONN_PIPE = 2, CONN_SAME_PIPE = 3 };

/* term.c */
int term_setup(wrap *wr, int want_pty, int *out_mode, int *err_mode);
void term_close(wrap *wr);
void term_winch(wrap *wr);
void term_status_draw(wrap *wr, int force);
void term_status_clear(wrap *wr);
double wrap_now(void);
void wrap_say(wrap *wr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* will_print: text follows (else only stdio is flushed and nothing is added
 * to the terminal: a \r progress bar stays one line). */
void wrap_before_print(wrap *wr, int will_print);
void wrap_after_print(wrap *wr);
void fmt_energy(double kwh, char *buf, size_t len);
void fmt_co2(double g, char *buf, size_t len);

#endif
