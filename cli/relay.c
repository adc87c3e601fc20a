/*
 * relay.c - the command's output, passed on unchanged and in order, and its
 * lines handed to epochs.c for the epoch boundaries.
 *
 * When the tool's output is a terminal the command writes to a
 * pseudo-terminal (term.c opens it) and its bytes come through here. When the
 * output is a pipe or a file, nothing is added: without an epoch pattern the
 * command writes to the same files directly; with one, its output comes
 * through pipes and is written on unchanged, stdout and stderr through one
 * pipe when they are the same file (2>&1), so that their order is the order
 * the command wrote them in.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "wrap_int.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <unistd.h>

#define READ_CHUNK 65536

/* ------------------------------------------------------------------ */
/* Passing bytes on.                                                   */
/* ------------------------------------------------------------------ */

/* Writes all of buf; 0, or -1 when the reader is gone (EPIPE) or on error. */
static int write_all(int fd, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 1000) < 0 && errno != EINTR) return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

void relay_close(wrap_stream *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

/* UTF-8 continuation bytes still to come after buf (for the status line). */
static int utf8_pending(const unsigned char *b, size_t n, int before) {
    int left = before;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (left > 0 && (c & 0xC0) == 0x80) left--;
        else if (c >= 0xF0 && c < 0xF8) left = 3;
        else if (c >= 0xE0) left = c < 0xF0 ? 2 : 0;
        else if (c >= 0xC0) left = 1;
        else left = 0;
    }
    return left;
}

static void pass_through(wrap *wr, wrap_stream *s, const char *buf, size_t n) {
    if (n == 0) return;
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
static void feed(wrap *wr, wrap_stream *s, const char *buf, size_t n) {
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
                if (s->fd >= 0) pass_through(wr, s, pending, (size_t)(upto - pending));
                pending = upto;
                epochs_apply(wr, m);
            }
            continue;
        }
        s->last_cr = 0;
        int visible = 0;
        epochs_feed_byte_state(s, c, &visible);
        if (visible && !s->overflow) {
            if (s->len < WRAP_LINE_MAX) s->line[s->len++] = (char)c;
            else s->overflow = 1;
        }
    }
    /* A line not yet ended (a progress bar waiting for its next redraw) that
     * already names a new epoch starts it now, not a training step later. */
    if (wr->piped && s->len > 0 && !s->overflow && epochs_partial_ok(wr)) {
        int m = epochs_match_partial(wr, s);
        if (m) {
            if (s->fd >= 0) pass_through(wr, s, pending, (size_t)(buf + n - pending));
            pending = buf + n;
            epochs_apply(wr, m);
        }
    }
    if (pending < buf + n && s->fd >= 0) pass_through(wr, s, pending, (size_t)(buf + n - pending));
    term_status_draw(wr, 0);
}

/* Reads once from s; returns 1 if data came, 0 on EOF/close, -1 on EAGAIN. */
int relay_read(wrap *wr, wrap_stream *s) {
    static char buf[READ_CHUNK];
    if (s->fd < 0) return 0;
    ssize_t n;
    do {
        n = read(s->fd, buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        feed(wr, s, buf, (size_t)n);
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
    relay_close(s); /* EOF, or EIO from a pty whose every slave is closed */
    return 0;
}

/* A last line without an end at the end of the output still counts. */
void relay_finish(wrap *wr, wrap_stream *s) {
    if (s->len > 0 && wr->piped) {
        int m = epochs_match_line(wr, s);
        s->len = 0;
        epochs_apply(wr, m);
    }
    relay_close(s);
}
