/*
 * exporter.c - `carbontracker exporter`: the node's energy counters and the
 * runs logged on it as Prometheus metrics (issue 13), served over HTTP
 * (`--listen HOST:PORT`, GET /metrics, libmicrohttpd) and/or written as a
 * file for node_exporter's textfile collector (`--textfile PATH`, written to
 * a temporary name in the same directory and renamed into place). Public API
 * only. Metric names and labels: docs/cluster.md.
 */
#include "cli.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if CT_HAVE_MICROHTTPD
#include <microhttpd.h>
#endif

static void exporter_usage(FILE *f) {
    fputs("Usage: carbontracker exporter [--listen HOST:PORT] [--textfile PATH] [--runs DIR]...\n"
          "                              [--interval S] [--components all|cpu|gpu] [--country CC]\n"
          "                              [--carbon-intensity G] [--once]\n"
          "Publishes this node's energy counters and the runs logged on it as Prometheus metrics.\n"
          "  --listen HOST:PORT   serve GET /metrics over HTTP (e.g. 127.0.0.1:9464)\n"
          "  --textfile PATH      write the metrics to PATH (a node_exporter textfile collector file,\n"
          "                       name ending in .prom), atomically, every --interval\n"
          "  --runs DIR           read the JSON Lines logs of runs in DIR and its subdirectories (repeatable)\n"
          "  --max-age S          leave out runs whose log was last written over S seconds ago (default: keep all)\n"
          "  --interval S         seconds between counter readings and textfile writes (default 5)\n"
          "  --components C       devices to count (default all; none = runs only)\n"
          "  --country CC, --carbon-intensity G   carbon intensity, as for a tracker\n"
          "  --once               write the textfile (or stdout without --textfile) once and exit\n"
          "Exit status: 0 stopped by SIGTERM/SIGINT or after --once, 1 runtime error, 2 bad options.\n",
          f);
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

typedef struct exp_state {
    ct_metrics *m;
    pthread_mutex_t mu; /* guards buf */
    ct_sbuf buf;
} exp_state;

/* Writes the metrics to path atomically: PATH.tmp.PID, fsync, rename. */
static int write_textfile(exp_state *s, const char *path) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    pthread_mutex_lock(&s->mu);
    int rc = ct_metrics_render(s->m, &s->buf);
    FILE *f = rc == 0 ? fopen(tmp, "we") : NULL;
    int ok = 0;
    if (f) {
        ok = fwrite(s->buf.s, 1, s->buf.len, f) == s->buf.len;
        ok = fflush(f) == 0 && ok;
        ok = fsync(fileno(f)) == 0 && ok;
        ok = fclose(f) == 0 && ok;
        if (ok && rename(tmp, path) != 0) ok = 0;
    }
    int err = errno;
    pthread_mutex_unlock(&s->mu);
    if (!ok) {
        fprintf(stderr, "carbontracker exporter: cannot write %s: %s\n", path, rc ? ct_strerror(rc) : strerror(err));
        unlink(tmp);
        return -1;
    }
    return 0;
}

#if CT_HAVE_MICROHTTPD
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_len, void **con_cls) {
    (void)version;
    (void)upload;
    (void)upload_len;
    (void)con_cls;
    exp_state *s = cls;
    struct MHD_Response *r;
    unsigned code = MHD_HTTP_OK;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "only GET\n";
        r = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        code = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") == 0) {
        pthread_mutex_lock(&s->mu);
        int rc = ct_metrics_render(s->m, &s->buf);
        if (rc == 0) r = MHD_create_response_from_buffer(s->buf.len, s->buf.s, MHD_RESPMEM_MUST_COPY);
        else {
            static const char msg[] = "out of memory\n";
            r = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
            code = MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
        pthread_mutex_unlock(&s->mu);
        if (r && rc == 0) MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    } else {
        static const char msg[] = "carbontracker exporter: metrics at /metrics\n";
        r = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        code = strcmp(url, "/") == 0 ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND;
    }
    if (!r) return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}
#endif

/* "HOST:PORT" (IPv4 address or "localhost"; "[::1]:PORT" for IPv6) into a bound, listening socket. */
static int listen_on(const char *spec, char *err, size_t errlen) {
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof host) {
        snprintf(err, errlen, "--listen needs HOST:PORT, e.g. 127.0.0.1:9464 (got \"%s\")", spec);
        return -2;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535) {
        snprintf(err, errlen, "--listen: bad port \"%s\" (1..65535)", colon + 1);
        return -2;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    int fam;
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1) {
            snprintf(err, errlen, "--listen: bad IPv6 address \"%s\"", host + 1);
            return -2;
        }
        sl = sizeof *a;
        fam = AF_INET6;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
        if (strcmp(host, "*") == 0) snprintf(host, sizeof host, "0.0.0.0");
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
            snprintf(err, errlen, "--listen: bad IPv4 address \"%s\" (use a numeric address, e.g. 127.0.0.1)", host);
            return -2;
        }
        sl = sizeof *a;
        fam = AF_INET;
    }
    int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s: %s%s", spec, strerror(e),
                 e == EADDRINUSE ? " (another exporter or program holds that port; choose another with --listen)" : "");
        close(fd);
        return -1;
    }
    if (listen(fd, 64) != 0) {
        snprintf(err, errlen, "listen on %s: %s", spec, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int ct_cli_exporter(int argc, char **argv) {
    const char *listen_spec = NULL, *textfile = NULL, *components = "all", *country = NULL;
    double interval = 5, intensity = -1, max_age = 0;
    int once = 0;
    const char **dirs = calloc((size_t)argc, sizeof *dirs);
    int ndirs = 0;
    if (!dirs) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            exporter_usage(stdout);
            free(dirs);
            return 0;
        }
        if (strcmp(a, "--once") == 0) {
            once = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "carbontracker exporter: %s needs a value (see --help)\n", a);
            free(dirs);
            return 2;
        }
        i++;
        if (strcmp(a, "--listen") == 0) listen_spec = v;
        else if (strcmp(a, "--textfile") == 0) textfile = v;
        else if (strcmp(a, "--runs") == 0) dirs[ndirs++] = v;
        else if (strcmp(a, "--components") == 0) components = v;
        else if (strcmp(a, "--country") == 0) country = v;
        else if (strcmp(a, "--interval") == 0 || strcmp(a, "--carbon-intensity") == 0 || strcmp(a, "--max-age") == 0) {
            char *end = NULL;
            double d = strtod(v, &end);
            if (end == v || *end || !isfinite(d) || d <= 0) {
                fprintf(stderr, "carbontracker exporter: %s needs a positive number, got \"%s\"\n", a, v);
                free(dirs);
                return 2;
            }
            if (strcmp(a, "--interval") == 0) interval = d;
            else if (strcmp(a, "--max-age") == 0) max_age = d;
            else intensity = d;
        } else {
            fprintf(stderr, "carbontracker exporter: unknown option %s (see --help)\n", a);
            free(dirs);
            return 2;
        }
    }
    if (!listen_spec && !textfile && !once) {
        fprintf(stderr, "carbontracker exporter: give --listen HOST:PORT and/or --textfile PATH (see --help)\n");
        free(dirs);
        return 2;
    }
#if !CT_HAVE_MICROHTTPD
    if (listen_spec) {
        fprintf(stderr, "carbontracker exporter: --listen needs libmicrohttpd, which this build was made without; "
                        "use --textfile with node_exporter's textfile collector\n");
        free(dirs);
        return 2;
    }
#endif
    int rc = 1, lfd = -1;
    char err[512];
    if (listen_spec) {
        /* Bind before anything slow, so a port in use is a clear, immediate error. */
        lfd = listen_on(listen_spec, err, sizeof err);
        if (lfd < 0) {
            fprintf(stderr, "carbontracker exporter: %s\n", err);
            free(dirs);
            return lfd == -2 ? 2 : 1;
        }
    }

    ct_tracker *t = NULL;
    if (strcmp(components, "none") != 0) {
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.epochs = 1;
        cfg.verbose = 0;
        cfg.status_line = 0;
        cfg.components = components;
        cfg.update_interval = interval < 1 ? interval : 1; /* counters fresh within a second */
        cfg.country = country;
        cfg.carbon_intensity = intensity;
        int r = ct_tracker_new(&cfg, &t);
        if (r != 0) {
            fprintf(stderr, "carbontracker exporter: warning: no node counters (%s: %s); serving runs only\n",
                    ct_strerror(r), ct_last_error_message());
            t = NULL;
        }
    }
    char host[256] = "";
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    exp_state s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    s.m = ct_metrics_new(t, dirs, ndirs, host);
    if (!s.m) {
        fprintf(stderr, "carbontracker exporter: out of memory\n");
        goto done;
    }
    ct_metrics_set_max_age(s.m, max_age);

    if (once) {
        if (textfile) rc = write_textfile(&s, textfile) == 0 ? 0 : 1;
        else {
            rc = ct_metrics_render(s.m, &s.buf) == 0 ? 0 : 1;
            if (rc == 0) fwrite(s.buf.s, 1, s.buf.len, stdout);
        }
        goto done;
    }

#if CT_HAVE_MICROHTTPD
    struct MHD_Daemon *d = NULL;
    if (lfd >= 0) {
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &s,
                             MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                             MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_END);
        if (!d) {
            fprintf(stderr, "carbontracker exporter: could not start the HTTP server on %s\n", listen_spec);
            goto done;
        }
        lfd = -1; /* the daemon owns it */
        fprintf(stderr, "carbontracker exporter: serving http://%s/metrics\n", listen_spec);
    }
#endif
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    rc = 0;
    while (!g_stop) {
        if (textfile && write_textfile(&s, textfile) != 0) {
            /* keep serving; the next write may succeed (a full disk freed) */
        }
        struct timespec ts = {(time_t)interval, (long)((interval - floor(interval)) * 1e9)};
        nanosleep(&ts, NULL); /* a signal ends the sleep early */
    }
#if CT_HAVE_MICROHTTPD
    if (d) MHD_stop_daemon(d);
#endif
done:
    if (lfd >= 0) close(lfd);
    ct_metrics_free(s.m);
    ct_sbuf_free(&s.buf);
    pthread_mutex_destroy(&s.mu);
    ct_tracker_free(t);
    free(dirs);
    return rc;
}
