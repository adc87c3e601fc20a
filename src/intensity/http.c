/* HTTP GET for the intensity providers: libcurl multi interface, so a request
 * in flight can be abandoned quickly when the tracker is freed. */
#include "http.h"

#include "base/base.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define CT__HTTP_CONNECT_MS_DEFAULT 3000L
#define CT__HTTP_TOTAL_MS_DEFAULT 8000L

void ct__http_timeouts(long *connect_ms, long *total_ms) {
    long c = CT__HTTP_CONNECT_MS_DEFAULT, t = CT__HTTP_TOTAL_MS_DEFAULT;
    const char *env = ct__getenv("CT_HTTP_TIMEOUT_MS");
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
#include <curl/curl.h>
#include <pthread.h>

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static int g_curl_ok;

static void curl_init_once(void) { g_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

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

int ct__http_get(const char *url, const char *const *headers, const atomic_int *abort_flag,
                 ct__http_response *resp, char *why, size_t whylen) {
    memset(resp, 0, sizeof *resp);
    pthread_once(&g_curl_once, curl_init_once);
    if (!g_curl_ok) {
        snprintf(why, whylen, "libcurl could not be initialised");
        return CT_ENETWORK;
    }
    long connect_ms, total_ms;
    ct__http_timeouts(&connect_ms, &total_ms);

    CURL *easy = curl_easy_init();
    CURLM *multi = curl_multi_init();
    struct curl_slist *hl = NULL;
    sink s = {0};
    int rc = CT_ENETWORK;
    char errbuf[CURL_ERROR_SIZE] = "";
    if (!easy || !multi) {
        snprintf(why, whylen, "out of memory for an HTTP request");
        goto done;
    }
    hl = curl_slist_append(hl, "Accept: application/json");
    for (const char *const *h = headers; h && *h; h++) {
        struct curl_slist *n = curl_slist_append(hl, *h);
        if (!n) goto done;
        hl = n;
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, total_ms);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CT__HTTP_MAX_BODY);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "carbontracker-c/" CT_VERSION);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    curl_multi_add_handle(multi, easy);

    int running = 1, aborted = 0;
    while (running) {
        if (abort_flag && atomic_load(abort_flag)) {
            aborted = 1;
            break;
        }
        if (curl_multi_perform(multi, &running) != CURLM_OK) break;
        if (!running) break;
        /* Short waits so an abort (tracker freed) is seen within ~10 ms. */
        if (curl_multi_poll(multi, NULL, 0, 10, NULL) != CURLM_OK) break;
    }
    CURLcode res = CURLE_FAILED_INIT;
    int msgs = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(multi, &msgs)))
        if (m->msg == CURLMSG_DONE) res = m->data.result;
    curl_multi_remove_handle(multi, easy);

    if (aborted) {
        snprintf(why, whylen, "request abandoned (shutting down)");
    } else if (s.too_big || res == CURLE_FILESIZE_EXCEEDED) {
        snprintf(why, whylen, "response larger than %u bytes", CT__HTTP_MAX_BODY);
    } else if (res == CURLE_OPERATION_TIMEDOUT) {
        snprintf(why, whylen, "no answer within %ld ms", total_ms);
    } else if (res != CURLE_OK) {
        snprintf(why, whylen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(res));
        /* curl's text can name the host but never our headers; trim a newline */
        size_t n = strlen(why);
        while (n && (why[n - 1] == '\n' || why[n - 1] == '\r')) why[--n] = '\0';
    } else {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->body = s.buf ? s.buf : calloc(1, 1);
        resp->len = s.len;
        s.buf = NULL;
        rc = resp->body ? 0 : CT_ENOMEM;
    }
done:
    free(s.buf);
    curl_slist_free_all(hl);
    if (multi) curl_multi_cleanup(multi);
    if (easy) curl_easy_cleanup(easy);
    return rc;
}

#else

int ct__http_get(const char *url, const char *const *headers, const atomic_int *abort_flag,
                 ct__http_response *resp, char *why, size_t whylen) {
    (void)url;
    (void)headers;
    (void)abort_flag;
    memset(resp, 0, sizeof *resp);
    snprintf(why, whylen, "built without libcurl");
    return CT_ENOTSUP;
}

#endif
