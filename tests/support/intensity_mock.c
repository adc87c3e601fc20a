/* Starts and drives tests/mock_intensity_server.py (issue 4). */
#include "intensity_mock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int im_start(im_server *s) {
    memset(s, 0, sizeof *s);
    const char *src = getenv("CT_TEST_SOURCE_DIR");
    const char *py = getenv("CT_PYTHON");
    char script[1024];
    snprintf(script, sizeof script, "%s/mock_intensity_server.py", src ? src : ".");
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execlp(py && *py ? py : "python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    char buf[32];
    size_t n = 0;
    while (n + 1 < sizeof buf) {
        ssize_t r = read(out[0], buf + n, 1);
        if (r <= 0 || buf[n] == '\n') break;
        n++;
    }
    buf[n] = '\0';
    close(out[0]);
    s->pid = pid;
    s->stdin_fd = in[1];
    s->port = atoi(buf);
    if (s->port <= 0) {
        im_stop(s);
        return -1;
    }
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    setenv("CT_ELECTRICITYMAPS_URL", s->base, 1);
    setenv("CT_UKGRID_URL", s->base, 1);
    setenv("CT_ENERGIDATA_URL", s->base, 1);
    setenv("CT_IPINFO_URL", s->base, 1);
    return 0;
}

char *im_get(im_server *s, const char *path) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return NULL;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)s->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    char req[512];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (write(fd, req, (size_t)len) != len) {
        close(fd);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    char *res = body ? strdup(body + 4) : NULL;
    free(buf);
    return res;
}

int im_case(im_server *s, const char *name) {
    char path[128];
    snprintf(path, sizeof path, "/_case/%s", name);
    char *b = im_get(s, path);
    int ok = b && strcmp(b, "ok") == 0;
    free(b);
    return ok ? 0 : -1;
}

int im_requests(im_server *s) {
    char *b = im_get(s, "/_log");
    int n = 0;
    for (const char *p = b; p && (p = strstr(p, "\"path\"")); p++) n++;
    free(b);
    return n;
}

void im_reset(im_server *s) { free(im_get(s, "/_reset")); }

void im_stop(im_server *s) {
    if (s->stdin_fd > 0) close(s->stdin_fd);
    s->stdin_fd = -1;
    if (s->pid > 0) {
        for (int i = 0; i < 100; i++) {
            if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
                s->pid = 0;
                return;
            }
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

void im_clear_location_env(void) {
    const char *unset[] = {"CT_COUNTRY",
                           "CT_ZONE",
                           "CT_POSTCODE",
                           "CT_LATITUDE",
                           "CT_LONGITUDE",
                           "CT_OFFLINE",
                           "CT_CLOUD_PROVIDER",
                           "CT_CLOUD_REGION",
                           "CT_ELECTRICITYMAPS_KEY",
                           "CT_ELECTRICITYMAPS_KEY_FILE",
                           "CT_HTTP_TIMEOUT_MS",
                           NULL};
    for (int i = 0; unset[i]; i++) unsetenv(unset[i]);
    setenv("XDG_CONFIG_HOME", "/nonexistent-ct-test", 1);
}
