/*
 * ct_child.c - a scriptable command for the CLI wrapper's tests
 * (tests/test_cli_wrap.c). Its arguments are a list of actions run in order:
 *
 *   out TEXT      write TEXT to stdout with write(2) (escapes: \n \r \t \\ \0 \xHH)
 *   err TEXT      the same on stderr
 *   bytes N       write N bytes (i*7+3) % 256, i = 0..N-1, to stdout
 *   sleep S       sleep S seconds (fractional), the whole time even when signals arrive
 *   exit N        exit with status N
 *   raise SIG     send SIG to itself (INT, TERM, KILL, ... or a number)
 *   ignore SIG    ignore SIG
 *   count SIG     count deliveries of SIG (handler, SA_RESTART)
 *   counts FILE   write "INT=a TERM=b HUP=c QUIT=d\n" (counts so far) to FILE
 *   touch FILE    create FILE (marks that the command was started)
 *   repeat TEXT S forever: write TEXT to stdout, sleep S
 *   spin          busy-loop forever
 *   alternate N   lines "0\n" .. "N-1\n", even ones on stdout, odd ones on stderr, one write(2) each
 *   stdio TEXT    printf TEXT to stdout through stdio (its own buffering: a line on a terminal, a block
 *                 in a pipe or file); flushed at exit
 *   cat FILE N    write FILE's bytes to stdout in writes of N bytes (a recording, replayed)
 *   pid FILE      write getpid() to FILE
 *   env NAME FILE write the value of NAME (or "(unset)") to FILE
 *   waitfor FILE  wait until FILE exists (checked every 10 ms); after 20 s exit 95
 *   tty FILE      write "out=A err=B rows=R cols=C" (isatty of 1 and 2, stdout's window size) to FILE
 *   winch FILE    wait (at most 10 s) for a SIGWINCH (handler installed at start), then write
 *                 "rows=R cols=C" (stdout's window size as read in the handler's wake) to FILE
 *
 * Without an exit action it exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t counts[65];
static volatile sig_atomic_t winched;

static void on_winch(int sig) {
    (void)sig;
    winched = 1;
}

static void on_count(int sig) {
    if (sig > 0 && sig < 65) counts[sig]++;
}

static int sig_by_name(const char *s) {
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"INT", SIGINT},   {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"HUP", SIGHUP},
                 {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"PIPE", SIGPIPE}, {"SEGV", SIGSEGV}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) return names[i].sig;
    int n = atoi(s);
    if (n <= 0 || n >= 65) {
        fprintf(stderr, "ct_child: unknown signal %s\n", s);
        exit(99);
    }
    return n;
}

static size_t unescape(const char *in, char *out) {
    size_t n = 0;
    while (*in) {
        if (*in != '\\' || !in[1]) {
            out[n++] = *in++;
            continue;
        }
        in++;
        switch (*in) {
        case 'n':
            out[n++] = '\n';
            in++;
            break;
        case 'r':
            out[n++] = '\r';
            in++;
            break;
        case 't':
            out[n++] = '\t';
            in++;
            break;
        case '0':
            out[n++] = '\0';
            in++;
            break;
        case 'x': {
            char hex[3] = {0, 0, 0};
            if (in[1] && in[2]) {
                hex[0] = in[1];
                hex[1] = in[2];
                out[n++] = (char)strtol(hex, NULL, 16);
                in += 3;
            } else {
                out[n++] = 'x';
                in++;
            }
            break;
        }
        default: out[n++] = *in++; break;
        }
    }
    return n;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) exit(98);
        p += w;
        n -= (size_t)w;
    }
}

static void write_text(int fd, const char *text) {
    char *buf = malloc(strlen(text) + 1);
    if (!buf) exit(97);
    size_t n = unescape(text, buf);
    write_all(fd, buf, n);
    free(buf);
}

static void sleep_s(double s) {
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += (time_t)s;
    end.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) == EINTR)
        ;
}

int main(int argc, char **argv) {
    struct sigaction wa;
    memset(&wa, 0, sizeof wa);
    wa.sa_handler = on_winch;
    sigaction(SIGWINCH, &wa, NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "spin") == 0) {
            for (volatile unsigned long x = 0;; x++)
                ;
        }
        if (!v) {
            fprintf(stderr, "ct_child: action %s needs an argument\n", a);
            return 99;
        }
        i++;
        if (strcmp(a, "out") == 0) {
            write_text(STDOUT_FILENO, v);
        } else if (strcmp(a, "err") == 0) {
            write_text(STDERR_FILENO, v);
        } else if (strcmp(a, "bytes") == 0) {
            long n = atol(v);
            char buf[4096];
            for (long k = 0; k < n;) {
                size_t m = 0;
                for (; m < sizeof buf && k < n; m++, k++) buf[m] = (char)((k * 7 + 3) % 256);
                write_all(STDOUT_FILENO, buf, m);
            }
        } else if (strcmp(a, "sleep") == 0) {
            sleep_s(atof(v));
        } else if (strcmp(a, "exit") == 0) {
            return atoi(v);
        } else if (strcmp(a, "raise") == 0) {
            kill(getpid(), sig_by_name(v));
            sleep_s(5); /* a caught or ignored signal: go on */
        } else if (strcmp(a, "ignore") == 0) {
            signal(sig_by_name(v), SIG_IGN);
        } else if (strcmp(a, "count") == 0) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_count;
            sa.sa_flags = SA_RESTART;
            sigaction(sig_by_name(v), &sa, NULL);
        } else if (strcmp(a, "counts") == 0 || strcmp(a, "touch") == 0) {
            FILE *f = fopen(v, "w");
            if (!f) return 96;
            if (a[0] == 'c')
                fprintf(f, "INT=%d TERM=%d HUP=%d QUIT=%d\n", (int)counts[SIGINT], (int)counts[SIGTERM],
                        (int)counts[SIGHUP], (int)counts[SIGQUIT]);
            fclose(f);
        } else if (strcmp(a, "alternate") == 0) {
            long n = atol(v);
            for (long k = 0; k < n; k++) {
                char line[32];
                int len = snprintf(line, sizeof line, "%ld\n", k);
                write_all(k % 2 ? STDERR_FILENO : STDOUT_FILENO, line, (size_t)len);
            }
        } else if (strcmp(a, "stdio") == 0) {
            char *buf = malloc(strlen(v) + 1);
            if (!buf) return 97;
            size_t n = unescape(v, buf);
            fwrite(buf, 1, n, stdout);
            free(buf);
        } else if (strcmp(a, "cat") == 0) {
            if (i + 1 >= argc) return 99;
            size_t chunk = (size_t)atol(argv[++i]);
            FILE *f = fopen(v, "rb");
            if (!f || chunk == 0) return 96;
            char buf[4096];
            size_t n;
            while ((n = fread(buf, 1, chunk < sizeof buf ? chunk : sizeof buf, f)) > 0)
                write_all(STDOUT_FILENO, buf, n);
            fclose(f);
        } else if (strcmp(a, "pid") == 0 || strcmp(a, "tty") == 0) {
            FILE *f = fopen(v, "w");
            if (!f) return 96;
            if (a[0] == 'p') {
                fprintf(f, "%ld\n", (long)getpid());
            } else {
                struct winsize ws = {0, 0, 0, 0};
                ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
                fprintf(f, "out=%d err=%d rows=%d cols=%d\n", isatty(STDOUT_FILENO), isatty(STDERR_FILENO),
                        (int)ws.ws_row, (int)ws.ws_col);
            }
            fclose(f);
        } else if (strcmp(a, "winch") == 0) {
            for (int k = 0; k < 1000 && !winched; k++) sleep_s(0.01);
            FILE *f = fopen(v, "w");
            if (!f) return 96;
            struct winsize ws = {0, 0, 0, 0};
            ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
            fprintf(f, "%s rows=%d cols=%d\n", winched ? "winch" : "no-winch", (int)ws.ws_row, (int)ws.ws_col);
            fclose(f);
        } else if (strcmp(a, "waitfor") == 0) {
            int k = 0;
            for (; k < 2000 && access(v, F_OK) != 0; k++) sleep_s(0.01);
            if (k == 2000) return 95; /* never came: the test fails on the status */
        } else if (strcmp(a, "env") == 0) {
            if (i + 1 >= argc) return 99;
            FILE *f = fopen(argv[++i], "w");
            if (!f) return 96;
            const char *e = getenv(v);
            fprintf(f, "%s", e ? e : "(unset)");
            fclose(f);
        } else if (strcmp(a, "repeat") == 0) {
            if (i + 1 >= argc) return 99;
            double s = atof(argv[++i]);
            for (;;) {
                write_text(STDOUT_FILENO, v);
                sleep_s(s);
            }
        } else {
            fprintf(stderr, "ct_child: unknown action %s\n", a);
            return 99;
        }
    }
    return 0;
}
