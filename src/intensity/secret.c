/* The Electricity Maps key in a page of its own: mmap'd, left out of core
 * dumps, locked in memory where the limit allows, zeroed before unmapping. */
#include "providers/providers.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void ct__explicit_zero(void *p, size_t n) {
    volatile unsigned char *v = p;
    while (n--) *v++ = 0;
}

static size_t page_len(void) {
    long pg = sysconf(_SC_PAGESIZE);
    size_t len = pg > 0 ? (size_t)pg : 4096;
    while (len < sizeof(ct__secret)) len *= 2;
    return len;
}

ct__secret *ct__secret_new(void) {
    size_t len = page_len();
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_DONTDUMP
    (void)madvise(p, len, MADV_DONTDUMP); /* not in core dumps */
#endif
    /* No MADV_DONTFORK: a forked child that frees its copy of a tracker
     * (Python data-loader workers) would fault on a missing page. */
    (void)mlock(p, len); /* never swapped out, where RLIMIT_MEMLOCK allows; best effort */
    return p;            /* zero-filled by mmap */
}

void ct__secret_free(ct__secret *s) {
    if (!s) return;
    size_t len = page_len();
    ct__explicit_zero(s, len);
    (void)munlock(s, len);
    (void)munmap(s, len);
}

ct__secret *ct__secret_from(const char *key) {
    if (!key || !*key || strlen(key) > CT__KEY_MAX) return NULL;
    ct__secret *s = ct__secret_new();
    if (s) ct__strlcpy(s->key, key, sizeof s->key);
    return s;
}
