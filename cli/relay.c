/*
 * relay.c - the command's output, passed on unchanged and in order.
 *
 * When the tool's output is a terminal the command runs on a pseudo-terminal
 * (the terminal's settings and size, output processing left to the real
 * terminal), so that it prints as it would without the tool: colours,
 * line buffering, \r progress bars, stdout and stderr in the order written.
 * The tool then keeps the terminal's last row for its status line: the
 * command sees one row less, its output scrolls above (a scroll region), and
 * the status line is drawn with the cursor saved and restored, only between
 * escape sequences and whole characters of the command's, so that none of its
 * lines is ever broken.
 *
 * When the output is a pipe or a file, nothing is added: without an epoch
 * pattern the command writes to the same files directly; with one, its output
 * comes through pipes and is written on unchanged, stdout and stderr through
 * one pipe when they are the same file (2>&1), so that their order is the
 * order the command wrote them in.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "wrap_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define READ_CHUNK 65536

static int same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void write_str(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* The pty's size: the terminal's, less the status line's row. */
static void set_pty_size(wrap *wr)
{
    if (wr->st[0].fd < 0 || !wr->st[0].is_pty || wr->term_fd < 0)
        return;
    struct winsize ws;
    if (ioctl(wr->term_fd, TIOCGWINSZ, &ws) != 0)
        return;
    wr->rows = ws.ws_row;
    wr->cols = ws.ws_col;
    if (wr->status_enabled && ws.ws_row >= 3)
        ws.ws_row--;
    ioctl(wr->st[0].fd, TIOCSWINSZ, &ws);
}

static void region_set(wrap *wr)
{
    if (!wr->status_enabled || wr->rows < 3)
        return;
    char buf[64];
    /* Make room for the status line (scrolls when the cursor is on the last
     * row), keep the cursor where it was, then reserve the last row. */
    snprintf(buf, sizeof buf, "\n\0337\033[1;%dr\0338\033[1A", wr->rows - 1);
    write_str(wr->term_fd, buf);
    wr->status_region = 1;
}

static void region_reset(wrap *wr)
{
    if (!wr->status_region)
        return;
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
int relay_setup(wrap *wr, int want_pty, int *out_mode, int *err_mode)
{
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
            fprintf(stderr, "carbontracker: warning: cannot open a pseudo-terminal (%s); the command's output "
                            "goes through pipes\n", strerror(errno));
            if (m >= 0)
                close(m);
            if (wr->pty_slave >= 0)
                close(wr->pty_slave);
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
        if (fl >= 0)
            fcntl(m, F_SETFL, fl | O_NONBLOCK);
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

void relay_term_close(wrap *wr)
{
    region_reset(wr);
}

/* The terminal changed size (SIGWINCH, or continued after Ctrl-Z): the pty
 * gets the new size first, then the command hears of it. */
void relay_winch(wrap *wr)
{
    if (wr->nst == 0 || wr->st[0].fd < 0 || !wr->st[0].is_pty) {
        /* No pty: the command may still write to the terminal directly; it
         * is in a session of its own, so the terminal's SIGWINCH comes from us. */
        if (wr->pgid > 0 && !wr->child_done)
            kill(-wr->pgid, SIGWINCH);
        return;
    }
    int had_region = wr->status_region;
    set_pty_size(wr);
    if (had_region || wr->status_enabled) {
        wr->status_region = 0;
        if (wr->rows >= 3)
            region_set(wr);
        relay_status_draw(wr, 1);
    }
    if (wr->pgid > 0 && !wr->child_done)
        kill(-wr->pgid, SIGWINCH);
}

/* ------------------------------------------------------------------ */
/* Status line.                                                        */
/* ------------------------------------------------------------------ */

static double clean(double v) { return isfinite(v) && v > 0 ? v : 0.0; }

/* The library's status line (ct_format_status_line) with the energy and the
 * CO2eq in scaled units that keep their digits: "12.3 mWh 3.7 mg CO2eq",
 * not "0.0000 kWh 0.0 g CO2eq". */
static void status_text(const ct_status *st, char *buf, size_t len)
{
    char t[32], e[48], c[48];
    size_t n = 0;
    ct_format_duration(clean(st->elapsed_s), 0, t, sizeof t);
    n += (size_t)snprintf(buf + n, len - n, "elapsed %s | epoch %d", t, st->epoch < 0 ? 0 : st->epoch);
    if (n < len && st->epochs > 0)
        n += (size_t)snprintf(buf + n, len - n, "/%d", st->epochs);
    int shown = 0;
    for (int k = 0; k < CT_COMPONENT_COUNT && n < len; k++) {
        if (clean(st->power_w[k]) == 0 && clean(st->energy_j[k]) == 0)
            continue;
        n += (size_t)snprintf(buf + n, len - n, "%s%s %.1f W", shown++ ? " " : " | ",
                              ct_component_name((ct_component)k), clean(st->power_w[k]));
    }
    fmt_energy(clean(st->energy_kwh), e, sizeof e);
    fmt_co2(clean(st->co2eq_g), c, sizeof c);
    if (n < len)
        n += (size_t)snprintf(buf + n, len - n, " | %s %s CO2eq", e, c);
    if (n < len && st->has_prediction) {
        ct_format_duration(clean(st->predicted_remaining_s), 0, t, sizeof t);
        fmt_energy(clean(st->predicted_energy_kwh), e, sizeof e);
        snprintf(buf + n, len - n, " | predicted %s, %s left", e, t);
    }
}

void relay_status_draw(wrap *wr, int force)
{
    if (!wr->status_region || !wr->t)
        return;
    /* Never inside an escape sequence or a character of the command's. */
    if (wr->st[0].esc != 0 || wr->utf8_left[wr->term_fd] > 0)
        return;
    double now = wrap_now();
    if (!force && now < wr->next_redraw)
        return;
    ct_status st;
    char text[512];
    if (ct_get_status(wr->t, &st) != 0)
        return;
    status_text(&st, text, sizeof text);
    if (wr->cols > 1 && (size_t)wr->cols - 1 < sizeof text)
        text[wr->cols - 1] = '\0';
    char buf[640];
    snprintf(buf, sizeof buf, "\0337\033[%d;1H\033[2K%s\0338", wr->rows, text);
    write_str(wr->term_fd, buf);
    wr->next_redraw = now + 1.0;
}

void relay_status_clear(wrap *wr)
{
    region_reset(wr);
}

/* ------------------------------------------------------------------ */
/* Passing bytes on.                                                   */
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

void relay_close(wrap_stream *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* UTF-8 continuation bytes still to come after buf (for the status line). */
static int utf8_pending(const unsigned char *b, size_t n, int before)
{
    int left = before;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (left > 0 && (c & 0xC0) == 0x80)
            left--;
        else if (c >= 0xF0 && c < 0xF8)
            left = 3;
        else if (c >= 0xE0)
            left = c < 0xF0 ? 2 : 0;
        else if (c >= 0xC0)
            left = 1;
        else
            left = 0;
    }
    return left;
}

static void pass_through(wrap *wr, wrap_stream *s, const char *buf, size_t n)
{
    if (n == 0)
        return;
    if (write_all(s->out_fd, buf, n) != 0) {
        /* Our reader went away: close the pipe so that the command sees it
         * too (SIGPIPE/EPIPE on its next write), as it would unwrapped. */
        relay_close(s);
    }
    wr->at_bol[s->out_fd] = buf[n - 1] == '\n';
    wr->utf8_left[s->out_fd] = utf8_pending((const unsigned char *)buf, n, wr->utf8_left[s->out_fd]);
}

/*
 * Passes buf on and matches its lines (split at \n and \r, ANSI codes left
 * out). Everything read is written before the next read; a matching line and
 * what precedes it are written before the epoch boundary is applied, so that
 * the tracker's text for it (the prediction) follows the line that made it.
 */
static void feed(wrap *wr, wrap_stream *s, const char *buf, size_t n)
{
    const char *pending = buf;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n' || c == '\r') {
            int skip = c == '\n' && s->last_cr && s->len == 0; /* "\r\n" ends one line */
            s->last_cr = c == '\r';
            if (skip || !wr->piped) {
                s->len = 0;
                s->overflow = 0;
                continue;
            }
            int m = epochs_match_line(wr, s);
            s->len = 0;
            s->overflow = 0;
            if (m) {
                const char *upto = buf + i + 1;
                if (s->fd >= 0)
                    pass_through(wr, s, pending, (size_t)(upto - pending));
                pending = upto;
                epochs_apply(wr, m);
            }
            continue;
        }
        s->last_cr = 0;
        int visible = 0;
        epochs_feed_byte_state(s, c, &visible);
        if (visible && !s->overflow) {
            if (s->len < WRAP_LINE_MAX)
                s->line[s->len++] = (char)c;
            else
                s->overflow = 1;
        }
    }
    /* A line not yet ended (a progress bar waiting for its next redraw) that
     * already names a new epoch starts it now, not a training step later. */
    if (wr->piped && s->len > 0 && !s->overflow && epochs_partial_ok(wr)) {
        int m = epochs_match_line(wr, s);
        if (m) {
            if (s->fd >= 0)
                pass_through(wr, s, pending, (size_t)(buf + n - pending));
            pending = buf + n;
            epochs_apply(wr, m);
        }
    }
    if (pending < buf + n && s->fd >= 0)
        pass_through(wr, s, pending, (size_t)(buf + n - pending));
    relay_status_draw(wr, 0);
}

/* Reads once from s; returns 1 if data came, 0 on EOF/close, -1 on EAGAIN. */
int relay_read(wrap *wr, wrap_stream *s)
{
    static char buf[READ_CHUNK];
    if (s->fd < 0)
        return 0;
    ssize_t n;
    do {
        n = read(s->fd, buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        feed(wr, s, buf, (size_t)n);
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -1;
    relay_close(s); /* EOF, or EIO from a pty whose every slave is closed */
    return 0;
}

/* A last line without an end at the end of the output still counts. */
void relay_finish(wrap *wr, wrap_stream *s)
{
    if (s->len > 0 && wr->piped) {
        int m = epochs_match_line(wr, s);
        s->len = 0;
        epochs_apply(wr, m);
    }
    relay_close(s);
}
