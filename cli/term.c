/*
 * term.c - the tool's side of the terminal and everything the tool says
 * itself; the bottom of `carbontracker COMMAND`: it calls no other file of
 * the wrapper (see wrap_int.h for the order).
 *
 * When the tool's output is a terminal the command runs on a pseudo-terminal
 * (the terminal's settings and size, output processing left to the real
 * terminal), so that it prints as it would without the tool: colours,
 * line buffering, \r progress bars, stdout and stderr in the order written.
 * The tool then keeps the terminal's last row for its status line: the
 * command sees one row less, its output scrolls above (a scroll region), and
 * the status line is drawn with the cursor saved and restored, only between
 * escape sequences and whole characters of the command's (relay.c keeps
 * count), so that none of its lines is ever broken.
 *
 * The tool's own messages (wrap_say) go to stderr, after the library's stdio
 * output and never glued to a partial line of the command's; the clock and
 * the scaled numbers (kWh, Wh, mWh) are here too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "wrap_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The clock, numbers for people.                                      */
/* ------------------------------------------------------------------ */

double wrap_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Numbers with their significant digits: the unit is scaled (kWh, Wh, mWh)
 * rather than printing "0.000 kWh" or "7.5e-05 kWh". */
static void fmt_scaled(double v, const char *const units[], const double scale[], int n, char *buf, size_t len) {
    int k = v == 0 ? 1 : 0; /* nothing yet: "0 Wh", "0 g" */
    while (k + 1 < n && fabs(v) < scale[k] && v != 0) k++;
    snprintf(buf, len, "%.4g %s", v / scale[k], units[k]);
}

void fmt_energy(double kwh, char *buf, size_t len) {
    static const char *const units[] = {"kWh", "Wh", "mWh"};
    static const double scale[] = {1.0, 1e-3, 1e-6};
    fmt_scaled(kwh, units, scale, 3, buf, len);
}

void fmt_co2(double g, char *buf, size_t len) {
    static const char *const units[] = {"kg", "g", "mg"};
    static const double scale[] = {1000.0, 1.0, 1e-3};
    fmt_scaled(g, units, scale, 3, buf, len);
}

/* ------------------------------------------------------------------ */
/* The pseudo-terminal, its size, the scroll region.                  */
/* ------------------------------------------------------------------ */

static int same_file(int a, int b) {
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void write_str(int fd, const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

/* The pty's size: the terminal's, less the status line's row. */
static void set_pty_size(wrap *wr) {
    if (wr->st[0].fd < 0 || !wr->st[0].is_pty || wr->term_fd < 0) return;
    struct winsize ws;
    if (ioctl(wr->term_fd, TIOCGWINSZ, &ws) != 0) return;
    wr->rows = ws.ws_row;
    wr->cols = ws.ws_col;
    if (wr->status_enabled && ws.ws_row >= 3) ws.ws_row--;
    ioctl(wr->st[0].fd, TIOCSWINSZ, &ws);
}

static void region_set(wrap *wr) {
    if (!wr->status_enabled || wr->rows < 3) return;
    char buf[64];
    /* Make room for the status line (scrolls when the cursor is on the last
     * row), keep the cursor where it was, then reserve the last row. */
    snprintf(buf, sizeof buf, "\n\0337\033[1;%dr\0338\033[1A", wr->rows - 1);
    write_str(wr->term_fd, buf);
    wr->status_region = 1;
}

static void region_reset(wrap *wr) {
    if (!wr->status_region) return;
    char buf[64];
    snprintf(buf, sizeof buf, "\0337\033[r\033[%d;1H\033[2K\0338", wr->rows);
    write_str(wr->term_fd, buf);
    wr->status_region = 0;
}

/*
 * Decides how the command's stdout and stderr are connected and opens the
 * pseudo-terminal when one is used. want_pty: -1 when the output is a
 * terminal, 0 never, 1 always. Returns 0; without a pseudo-terminal (none can
 * be opened) the command gets pipes or the tool's files, with a warning.
 */
int term_setup(wrap *wr, int want_pty, int *out_mode, int *err_mode) {
    int tty1 = isatty(STDOUT_FILENO), tty2 = isatty(STDERR_FILENO);
    wr->term_fd = tty1 ? STDOUT_FILENO : tty2 ? STDERR_FILENO : -1;
    wr->pty_slave = -1;
    int to_pty[3] = {0, 0, 0};
    if (want_pty == 1) {
        to_pty[1] = 1;
        to_pty[2] = same_file(STDOUT_FILENO, STDERR_FILENO);
    } else if (want_pty == -1 && tty1) {
        to_pty[1] = 1;
        to_pty[2] = tty2 && same_file(STDOUT_FILENO, STDERR_FILENO);
    } else if (want_pty == -1 && tty2) {
        to_pty[2] = 1;
    }
    if (to_pty[1] || to_pty[2]) {
        int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        char name[128];
        if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0 ||
            (wr->pty_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
            /* Not fatal: the command runs with pipes (or the tool's files) instead. */
            fprintf(stderr,
                    "carbontracker: warning: cannot open a pseudo-terminal (%s); the command's output "
                    "goes through pipes\n",
                    strerror(errno));
            if (m >= 0) close(m);
            if (wr->pty_slave >= 0) close(wr->pty_slave);
            wr->pty_slave = -1;
            to_pty[1] = to_pty[2] = 0;
            goto modes;
        }
        struct termios tio;
        if (wr->term_fd >= 0 && tcgetattr(wr->term_fd, &tio) == 0) {
            tio.c_oflag &= ~(tcflag_t)OPOST; /* the real terminal does its own output processing */
            tcsetattr(wr->pty_slave, TCSANOW, &tio);
        } else if (tcgetattr(wr->pty_slave, &tio) == 0) {
            tio.c_oflag &= ~(tcflag_t)OPOST;
            tio.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(wr->pty_slave, TCSANOW, &tio);
        }
        int out_fd = to_pty[1] ? STDOUT_FILENO : STDERR_FILENO;
        wr->nst = 0;
        wrap_stream *s = &wr->st[wr->nst++];
        memset(s, 0, sizeof *s);
        s->fd = m;
        s->out_fd = out_fd;
        s->is_pty = 1;
        int fl = fcntl(m, F_GETFL);
        if (fl >= 0) fcntl(m, F_SETFL, fl | O_NONBLOCK);
        if (wr->term_fd >= 0) {
            struct winsize ws;
            if (ioctl(wr->term_fd, TIOCGWINSZ, &ws) == 0) {
                wr->rows = ws.ws_row;
                wr->cols = ws.ws_col;
            }
        }
        /* The status line needs a terminal that the command's output shares. */
        wr->status_enabled = wr->opts->status_line && wr->t && wr->cfg->verbose >= 1 && wr->term_fd >= 0 &&
                             out_fd == wr->term_fd && wr->rows >= 3 && wr->cols >= 10;
        set_pty_size(wr);
    }
modes:
    for (int f = 1; f <= 2; f++) {
        int *mode = f == 1 ? out_mode : err_mode;
        *mode = to_pty[f] ? CONN_PTY : wr->piped ? CONN_PIPE : CONN_INHERIT;
    }
    if (*out_mode == CONN_PIPE && *err_mode == CONN_PIPE && same_file(STDOUT_FILENO, STDERR_FILENO))
        *err_mode = CONN_SAME_PIPE;
    wr->at_bol[1] = wr->at_bol[2] = 1;
    region_set(wr);
    return 0;
}

void term_close(wrap *wr) { region_reset(wr); }

/* The terminal changed size (SIGWINCH, or continued after Ctrl-Z): the pty
 * gets the new size first, then the command hears of it. */
void term_winch(wrap *wr) {
    if (wr->nst == 0 || wr->st[0].fd < 0 || !wr->st[0].is_pty) {
        /* No pty: the command may still write to the terminal directly; it
         * is in a session of its own, so the terminal's SIGWINCH comes from us. */
        if (wr->pgid > 0 && !wr->child_done) kill(-wr->pgid, SIGWINCH);
        return;
    }
    int had_region = wr->status_region;
    set_pty_size(wr);
    if (had_region || wr->status_enabled) {
        wr->status_region = 0;
        if (wr->rows >= 3) region_set(wr);
        term_status_draw(wr, 1);
    }
    if (wr->pgid > 0 && !wr->child_done) kill(-wr->pgid, SIGWINCH);
}

/* ------------------------------------------------------------------ */
/* Status line.                                                        */
/* ------------------------------------------------------------------ */

static double clean(double v) { return isfinite(v) && v > 0 ? v : 0.0; }

/* The library's status line (ct_format_status_line) with the energy and the
 * CO2eq in scaled units that keep their digits: "12.3 mWh 3.7 mg CO2eq",
 * not "0.0000 kWh 0.0 g CO2eq". */
static void status_text(const ct_status *st, char *buf, size_t len) {
    char t[32], e[48], c[48];
    size_t n = 0;
    ct_format_duration(clean(st->elapsed_s), 0, t, sizeof t);
    n += (size_t)snprintf(buf + n, len - n, "elapsed %s | epoch %d", t, st->epoch < 0 ? 0 : st->epoch);
    if (n < len && st->epochs > 0) n += (size_t)snprintf(buf + n, len - n, "/%d", st->epochs);
    int shown = 0;
    for (int k = 0; k < CT_COMPONENT_COUNT && n < len; k++) {
        if (clean(st->power_w[k]) == 0 && clean(st->energy_j[k]) == 0) continue;
        n += (size_t)snprintf(buf + n, len - n, "%s%s %.1f W", shown++ ? " " : " | ",
                              ct_component_name((ct_component)k), clean(st->power_w[k]));
    }
    fmt_energy(clean(st->energy_kwh), e, sizeof e);
    fmt_co2(clean(st->co2eq_g), c, sizeof c);
    if (n < len) n += (size_t)snprintf(buf + n, len - n, " | %s %s CO2eq", e, c);
    if (n < len && st->has_prediction) {
        ct_format_duration(clean(st->predicted_remaining_s), 0, t, sizeof t);
        fmt_energy(clean(st->predicted_energy_kwh), e, sizeof e);
        snprintf(buf + n, len - n, " | predicted %s, %s left", e, t);
    }
}

void term_status_draw(wrap *wr, int force) {
    if (!wr->status_region || !wr->t) return;
    /* Never inside an escape sequence or a character of the command's. */
    if (wr->st[0].esc != 0 || wr->utf8_left[wr->term_fd] > 0) return;
    double now = wrap_now();
    if (!force && now < wr->next_redraw) return;
    ct_status st;
    char text[512];
    if (ct_get_status(wr->t, &st) != 0) return;
    status_text(&st, text, sizeof text);
    if (wr->cols > 1 && (size_t)wr->cols - 1 < sizeof text) text[wr->cols - 1] = '\0';
    char buf[640];
    snprintf(buf, sizeof buf, "\0337\033[%d;1H\033[2K%s\0338", wr->rows, text);
    write_str(wr->term_fd, buf);
    wr->next_redraw = now + 1.0;
}

void term_status_clear(wrap *wr) { region_reset(wr); }

/* ------------------------------------------------------------------ */
/* The tool's own messages.                                           */
/* ------------------------------------------------------------------ */

/* Before the tool or the library prints: the library's stdio output in order
 * with our direct writes, and on a terminal never glued to the end of a
 * partial line of the command's (a progress bar). */
void wrap_before_print(wrap *wr, int will_print) {
    fflush(stdout);
    for (int i = 0; will_print && i < wr->nst; i++) {
        wrap_stream *s = &wr->st[i];
        if (s->is_pty && wr->term_fd >= 0 && s->out_fd == wr->term_fd && !wr->at_bol[s->out_fd]) {
            ssize_t r = write(s->out_fd, "\n", 1);
            (void)r;
            wr->at_bol[s->out_fd] = 1;
        }
    }
}

void wrap_after_print(wrap *wr) {
    fflush(stdout);
    fflush(stderr);
    term_status_draw(wr, 1);
}

void wrap_say(wrap *wr, const char *fmt, ...) {
    va_list ap;
    wrap_before_print(wr, 1);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    wrap_after_print(wr);
}
