/* HTTP GET for the intensity providers: libcurl's multi interface, so a
 * request in flight can be abandoned quickly when the tracker is freed.
 * libcurl is loaded on first use (dlopen), never linked. */
#include "http.h"

#include "base/base.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define CT__HTTP_CONNECT_MS_DEFAULT 3000L
#define CT__HTTP_TOTAL_MS_DEFAULT 8000L

void ct__http_timeouts(long *connect_ms, long *total_ms) {
    long c = CT__HTTP_CONNECT_MS_DEFAULT, t = CT__HTTP_TOTAL_MS_DEFAULT;
    const char *env = ct__env(CT__ENV_HTTP_TIMEOUT_MS);
    if (env) {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        if (end && end != env && *end == '\0' && v >= 1 && v <= 600000) t = v;
    }
    if (c > t) c = t;
    if (connect_ms) *connect_ms = c;
    if (total_ms) *total_ms = t;
}

int ct__url_escape(const char *s, char *buf, size_t len) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            if (n + 1 >= len) return CT_EINVAL;
            buf[n++] = (char)*p;
        } else {
            if (n + 3 >= len) return CT_EINVAL;
            buf[n++] = '%';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        }
    }
    if (n >= len) return CT_EINVAL;
    buf[n] = '\0';
    return 0;
}

void ct__http_response_free(ct__http_response *resp) {
    if (!resp) return;
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
    resp->status = 0;
}

#if CT_HAVE_CURL
/* libcurl is not linked: it is loaded with dlopen on the first request, so
 * a tracked program that never asks the network (offline, a fixed or static
 * intensity) never maps libcurl and its TLS stack. curl's headers give the
 * types and constants at build time; the functions come from libcurl.so.4
 * (env CT_CURL_LIBRARY names another file, for tests). */
#define CURL_DISABLE_DEPRECATION /* CURLOPT_PROTOCOLS below serves a libcurl older than 7.85 at run time */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>

#define CT__CURL_SONAME "libcurl.so.4"
#define CT__CURL_MISSING "live intensity needs libcurl.so.4 (apt install libcurl4)"

static struct {
    CURLcode (*global_init)(long);
    curl_version_info_data *(*version_info)(CURLversion);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    void (*easy_cleanup)(CURL *);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
    unsigned version_num; /* of the library loaded, e.g. 0x075801 */
} g_curl;

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static int g_curl_ok;
static char g_curl_why[300];

#define CT__CURL_SYM(field, name)                                                                                 \
    do {                                                                                                          \
        void *p_ = dlsym(lib, name);                                                                              \
        if (!p_) {                                                                                                \
            snprintf(g_curl_why, sizeof g_curl_why, "%s lacks %s (libcurl 7.66 or newer is needed)", path, name); \
            return;                                                                                               \
        }                                                                                                         \
        memcpy(&g_curl.field, &p_, sizeof p_);                                                                    \
    } while (0)

static void curl_load_once(void) {
    const char *env = ct__env(CT__ENV_CURL_LIBRARY);
    const char *path = env ? env : CT__CURL_SONAME;
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(g_curl_why, sizeof g_curl_why, CT__CURL_MISSING);
        return;
    }
    CT__CURL_SYM(global_init, "curl_global_init");
    CT__CURL_SYM(version_info, "curl_version_info");
    CT__CURL_SYM(easy_init, "curl_easy_init");
    CT__CURL_SYM(easy_setopt, "curl_easy_setopt");
    CT__CURL_SYM(easy_getinfo, "curl_easy_getinfo");
    CT__CURL_SYM(easy_strerror, "curl_easy_strerror");
    CT__CURL_SYM(easy_cleanup, "curl_easy_cleanup");
    CT__CURL_SYM(multi_init, "curl_multi_init");
    CT__CURL_SYM(multi_add_handle, "curl_multi_add_handle");
    CT__CURL_SYM(multi_remove_handle, "curl_multi_remove_handle");
    CT__CURL_SYM(multi_perform, "curl_multi_perform");
    CT__CURL_SYM(multi_poll, "curl_multi_poll");
    CT__CURL_SYM(multi_info_read, "curl_multi_info_read");
    CT__CURL_SYM(multi_cleanup, "curl_multi_cleanup");
    const curl_version_info_data *vi = g_curl.version_info(CURLVERSION_NOW);
    g_curl.version_num = vi ? vi->version_num : 0;
    if (g_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(g_curl_why, sizeof g_curl_why, "libcurl could not be initialised");
        return;
    }
    g_curl_ok = 1; /* the library stays loaded for the life of the process */
}
#undef CT__CURL_SYM

int ct__http_available(char *why, size_t whylen) {
    pthread_once(&g_curl_once, curl_load_once);
    if (!g_curl_ok) snprintf(why, whylen, "%s", g_curl_why);
    return g_curl_ok;
}

typedef struct sink {
    char *buf;
    size_t len, cap;
    int too_big;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *user) {
    sink *s = user;
    size_t n = size * nmemb;
    if (s->len + n + 1 > CT__HTTP_MAX_BODY) {
        s->too_big = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 8192;
        while (cap < s->len + n + 1) cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb) return 0;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

/* Only http and https, whatever the URL says; 0 or a curl error. */
static CURLcode restrict_protocols(CURL *easy) {
#if LIBCURL_VERSION_NUM >= 0x075500
    if (g_curl.version_num >= 0x075500) return g_curl.easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    /* an older libcurl at run time: the bitmask option (deprecated, not removed) */
    return g_curl.easy_setopt(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
}

int ct__http_get(const char *url, char *const *headers, const atomic_int *abort_flag, ct__http_response *resp,
                 char *why, size_t whylen) {
    memset(resp, 0, sizeof *resp);
    if (!ct__http_available(why, whylen)) return CT_ENOTSUP;
    long connect_ms, total_ms;
    ct__http_timeouts(&connect_ms, &total_ms);

    CURL *easy = g_curl.easy_init();
    CURLM *multi = g_curl.multi_init();
    sink s = {0};
    int rc = CT_ENETWORK;
    char errbuf[CURL_ERROR_SIZE] = "";
    /* The header list is built here, not with curl_slist_append: libcurl
     * only reads it, and the strings (the key's header among them) are not
     * copied to the heap. */
    char accept[] = "Accept: application/json";
    struct curl_slist hl[CT__HTTP_MAX_HEADERS + 1];
    int nh = 0;
    hl[nh++] = (struct curl_slist){accept, NULL};
    for (char *const *h = headers; h && *h; h++) {
        if (nh > CT__HTTP_MAX_HEADERS) {
            snprintf(why, whylen, "too many HTTP headers");
            goto done;
        }
        hl[nh - 1].next = &hl[nh];
        hl[nh++] = (struct curl_slist){*h, NULL};
    }
    if (!easy || !multi) {
        snprintf(why, whylen, "out of memory for an HTTP request");
        goto done;
    }
    if (restrict_protocols(easy) != CURLE_OK) {
        snprintf(why, whylen, "libcurl refused to limit requests to http and https");
        goto done;
    }
    g_curl.easy_setopt(easy, CURLOPT_URL, url);
    g_curl.easy_setopt(easy, CURLOPT_HTTPHEADER, hl);
    g_curl.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    g_curl.easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    g_curl.easy_setopt(easy, CURLOPT_TIMEOUT_MS, total_ms);
    g_curl.easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    g_curl.easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CT__HTTP_MAX_BODY);
    g_curl.easy_setopt(easy, CURLOPT_USERAGENT, "carbontracker-c/" CT_VERSION);
    g_curl.easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    g_curl.easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    g_curl.easy_setopt(easy, CURLOPT_WRITEDATA, &s);
    g_curl.easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    g_curl.multi_add_handle(multi, easy);

    int running = 1, aborted = 0;
    while (running) {
        if (abort_flag && atomic_load(abort_flag)) {
            aborted = 1;
            break;
        }
        if (g_curl.multi_perform(multi, &running) != CURLM_OK) break;
        if (!running) break;
        /* Short waits so an abort (tracker freed) is seen within ~10 ms. */
        if (g_curl.multi_poll(multi, NULL, 0, 10, NULL) != CURLM_OK) break;
    }
    CURLcode res = CURLE_FAILED_INIT;
    int msgs = 0;
    CURLMsg *m;
    while ((m = g_curl.multi_info_read(multi, &msgs)))
        if (m->msg == CURLMSG_DONE) res = m->data.result;
    g_curl.multi_remove_handle(multi, easy);

    if (aborted) {
        snprintf(why, whylen, "request abandoned (shutting down)");
    } else if (s.too_big || res == CURLE_FILESIZE_EXCEEDED) {
        snprintf(why, whylen, "response larger than %u bytes", CT__HTTP_MAX_BODY);
    } else if (res == CURLE_OPERATION_TIMEDOUT) {
        snprintf(why, whylen, "no answer within %ld ms", total_ms);
    } else if (res != CURLE_OK) {
        snprintf(why, whylen, "%s", errbuf[0] ? errbuf : g_curl.easy_strerror(res));
        /* curl's text can name the host but never our headers; trim a newline */
        size_t n = strlen(why);
        while (n && (why[n - 1] == '\n' || why[n - 1] == '\r')) why[--n] = '\0';
    } else {
        g_curl.easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->body = s.buf ? s.buf : calloc(1, 1);
        resp->len = s.len;
        s.buf = NULL;
        rc = resp->body ? 0 : CT_ENOMEM;
    }
done:
    free(s.buf);
    if (multi) g_curl.multi_cleanup(multi);
    if (easy) g_curl.easy_cleanup(easy);
    return rc;
}

#else

int ct__http_available(char *why, size_t whylen) {
    snprintf(why, whylen, "built without libcurl");
    return 0;
}

int ct__http_get(const char *url, char *const *headers, const atomic_int *abort_flag, ct__http_response *resp,
                 char *why, size_t whylen) {
    (void)url;
    (void)headers;
    (void)abort_flag;
    memset(resp, 0, sizeof *resp);
    snprintf(why, whylen, "built without libcurl");
    return CT_ENOTSUP;
}

#endif
