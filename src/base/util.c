/* Small utilities shared by the library's parts. */
#include "base/base.h"

#include <errno.h>
#include <stdint.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double ct__monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double ct__unix_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int ct__span_reached(double since_s, double now_s, double span_s) { return now_s - since_s >= span_s - 1e-6; }

char *ct__strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void ct__strlcpy(char *dst, const char *src, size_t len) {
    if (!dst || len == 0) return;
    if (!src) src = "";
    size_t n = strlen(src);
    if (n >= len) n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *file_kind(mode_t m) {
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISDIR(m)) return "a directory";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

int ct__open_regular(const char *path, int nofollow, off_t *size) {
    if (!path) return ct__fail(CT_EINVAL, "no path");
    /* O_NONBLOCK: opening a FIFO or a device never waits for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP && nofollow) ct__fail(CT_EIO, "a symbolic link (not followed)");
        else ct__fail(CT_EIO, "%s", strerror(e));
        errno = e;
        return CT_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        ct__fail(CT_EIO, "%s", strerror(e));
        errno = e;
        return CT_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        ct__fail(CT_EIO, "not a regular file (%s)", file_kind(st.st_mode));
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL; /* callers tell these from a missing file */
        return CT_EIO;
    }
    /* O_NONBLOCK stays: it has no effect on a regular file */
    if (size) *size = st.st_size;
    return fd;
}

int ct__read_file(const char *path, size_t max, char **out, size_t *outlen) {
    *out = NULL;
    if (outlen) *outlen = 0;
    if (!path || max < 2) return ct__fail(CT_EINVAL, "no file or no room to read it");
    int fd = ct__open_regular(path, 0, NULL);
    if (fd < 0) { /* never -errno: -EPERM would read as CT_EINVAL */
        int e = errno;
        char why[256];
        ct__strlcpy(why, ct_last_error_message(), sizeof why);
        ct__fail(e == ENOMEM ? CT_ENOMEM : CT_EIO, "cannot open %s: %s", path, why);
        errno = e;
        return e == ENOMEM ? CT_ENOMEM : CT_EIO;
    }
    size_t cap = max < 4096 ? max : 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return ct__fail(CT_ENOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= max) break;
            size_t ncap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                close(fd);
                errno = ENOMEM;
                return ct__fail(CT_ENOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            close(fd);
            ct__fail_errno(e, "cannot read %s", path);
            errno = e;
            return CT_EIO;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    if (outlen) *outlen = n;
    return 0;
}

int ct__parse_u64(const char *s, uint64_t *out) {
    if (!s) return CT_EPARSE;
    while (*s == ' ' || *s == '\t') s++;
    if (*s < '0' || *s > '9') return CT_EPARSE;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE) return CT_EPARSE;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') end++;
    if (*end != '\0') return CT_EPARSE;
    *out = (uint64_t)v;
    return 0;
}

const char *ct__getenv(const char *name) {
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

void ct__msgf(char *buf, size_t len, const char *fmt, ...) {
    if (!buf || !len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

int ct__path_join(char *buf, size_t len, const char *a, const char *b) {
    int n = snprintf(buf, len, "%s/%s", a, b);
    return (n < 0 || (size_t)n >= len) ? CT_EINVAL : 0;
}

char *ct__printable(const char *s, char *out, size_t len) {
    if (!out || !len) return out;
    size_t k = 0;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            if (k + 4 >= len) break;
            static const char hex[] = "0123456789abcdef";
            out[k++] = '\\', out[k++] = 'x', out[k++] = hex[c >> 4], out[k++] = hex[c & 15];
        } else if (c == '\\') { /* so that a real "\x1b" in a name stays told apart */
            if (k + 2 >= len) break;
            out[k++] = '\\', out[k++] = '\\';
        } else {
            if (k + 1 >= len) break;
            out[k++] = (char)c;
        }
    }
    out[k] = '\0';
    return out;
}

void ct__fput_clean(FILE *f, const char *s) {
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t') continue;
        fwrite(run, 1, (size_t)(s - run), f);
        char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
        fwrite(esc, 1, sizeof esc, f);
        run = s + 1;
    }
    if (run && s > run) fwrite(run, 1, (size_t)(s - run), f);
}

int ct__grow(void **arr, int *cap, int need, size_t elem) {
    if (need <= *cap) return 0;
    if (need < 0 || (size_t)need > SIZE_MAX / 2 / (elem ? elem : 1)) return CT_ENOMEM;
    int nc = *cap > 0 ? *cap : 16;
    while (nc < need) nc = nc > INT_MAX / 2 ? need : nc * 2;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return CT_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}
