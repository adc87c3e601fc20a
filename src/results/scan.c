/*
 * scan.c - which files `parse` reads: the log files in the given directories
 * (with CT_PARSE_RECURSIVE, in their subdirectories too; symlinked
 * directories are not followed, so no loop), or files named directly. Files
 * are grouped into runs by the name part before `_carbontracker`.
 */
#include "runs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 64

typedef struct entry {
    char *base; /* path up to _carbontracker */
    int kind;
} entry;

typedef struct scan {
    entry *ents;
    int n, cap;
    dev_t *seen_dev; /* directories read (given twice, or reached twice) */
    ino_t *seen_ino;
    int nseen, capseen;
} scan;

static int entry_cmp(const void *a, const void *b) {
    const entry *x = a, *y = b;
    int c = strcmp(x->base, y->base);
    return c ? c : x->kind - y->kind;
}

static int kind_of(const char *name, size_t *stem) {
    size_t len = strlen(name);
    for (int k = 0; k < CT__K_COUNT; k++) {
        size_t sl = strlen(ct__kind_suffix[k]);
        if (len > sl && strcmp(name + len - sl, ct__kind_suffix[k]) == 0) {
            *stem = len - sl;
            return k;
        }
    }
    return -1;
}

static int add_entry(scan *s, const char *dir, const char *name, size_t stem, int kind) {
    if (s->n == s->cap) {
        int nc = s->cap ? s->cap * 2 : 256;
        entry *ne = realloc(s->ents, (size_t)nc * sizeof(entry));
        if (!ne) return CT_ENOMEM;
        s->ents = ne;
        s->cap = nc;
    }
    size_t dl = dir ? strlen(dir) : 0;
    char *b = malloc(dl + 1 + stem + 1);
    if (!b) return CT_ENOMEM;
    size_t o = 0;
    if (dir) {
        memcpy(b, dir, dl);
        o = dl;
        if (dl == 0 || b[dl - 1] != '/') b[o++] = '/';
    }
    memcpy(b + o, name, stem);
    b[o + stem] = '\0';
    s->ents[s->n].base = b;
    s->ents[s->n].kind = kind;
    s->n++;
    return 0;
}

/* 1 when this directory was read already, else remembers it. */
static int seen_before(scan *s, const struct stat *st, int *oom) {
    for (int i = 0; i < s->nseen; i++)
        if (s->seen_dev[i] == st->st_dev && s->seen_ino[i] == st->st_ino) return 1;
    if (s->nseen == s->capseen) {
        int nc = s->capseen ? s->capseen * 2 : 16;
        dev_t *nd = realloc(s->seen_dev, (size_t)nc * sizeof *nd);
        if (nd) s->seen_dev = nd;
        ino_t *ni = realloc(s->seen_ino, (size_t)nc * sizeof *ni);
        if (ni) s->seen_ino = ni;
        if (!nd || !ni) {
            *oom = 1;
            return 0;
        }
        s->capseen = nc;
    }
    s->seen_dev[s->nseen] = st->st_dev;
    s->seen_ino[s->nseen] = st->st_ino;
    s->nseen++;
    return 0;
}

static int scan_dir(ct_runs *r, scan *s, const char *dir, int recursive, int depth) {
    DIR *d = opendir(dir);
    if (!d) {
        char pp[1100];
        ct__printable(dir, pp, sizeof pp);
        if (depth == 0) return ct__fail(CT_EIO, "cannot read directory %s: %s", pp, strerror(errno));
        return ct__runs_warn(r, "%s: skipped: cannot read directory: %s", pp, strerror(errno));
    }
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        size_t stem;
        int k = kind_of(name, &stem);
        if (k >= 0) {
            rc = add_entry(s, dir, name, stem, k);
            continue;
        }
        if (!recursive || name[0] == '.' || depth >= MAX_DEPTH) continue;
        int is_dir = de->d_type == DT_DIR;
        size_t dl = strlen(dir), nl = strlen(name);
        char *sub = malloc(dl + nl + 2);
        if (!sub) {
            rc = CT_ENOMEM;
            break;
        }
        snprintf(sub, dl + nl + 2, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
        struct stat st;
        if (de->d_type == DT_UNKNOWN) is_dir = lstat(sub, &st) == 0 && S_ISDIR(st.st_mode);
        if (is_dir && lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) { /* never a symlink */
            int oom = 0;
            if (!seen_before(s, &st, &oom)) rc = scan_dir(r, s, sub, recursive, depth + 1);
            if (oom) rc = CT_ENOMEM;
        }
        free(sub);
    }
    closedir(d);
    return rc;
}

/* A file named directly: its run's group (the files next to it of the same stem). */
static int add_file(ct_runs *r, scan *s, const char *path) {
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t stem;
    int k = kind_of(name, &stem);
    char pp[1100];
    ct__printable(path, pp, sizeof pp);
    if (k < 0)
        return ct__runs_warn(r,
                             "%s: skipped: not a carbontracker log name (*_carbontracker.jsonl, "
                             "*_carbontracker.log, *_carbontracker_output.log)",
                             pp);
    size_t dl = slash ? (size_t)(slash - path) : 0;
    char *dir = NULL;
    if (slash) {
        dir = malloc(dl + 1);
        if (!dir) return CT_ENOMEM;
        memcpy(dir, path, dl);
        dir[dl] = '\0';
    }
    /* the other files of the run, when they are there */
    int rc = 0;
    size_t bl = (slash ? dl + 1 : 0) + stem;
    char *b = malloc(bl + 32);
    if (!b) {
        free(dir);
        return CT_ENOMEM;
    }
    for (int kk = 0; kk < CT__K_COUNT && !rc; kk++) {
        snprintf(b, bl + 32, "%.*s%s", (int)bl, path, ct__kind_suffix[kk]);
        struct stat st;
        if (kk == k || lstat(b, &st) == 0) rc = add_entry(s, slash ? (dl ? dir : "") : NULL, name, stem, kk);
    }
    free(b);
    free(dir);
    return rc;
}

int ct__runs_collect(ct_runs *r, const char *const *paths, int npaths, unsigned flags, ct_json_doc *doc) {
    scan s;
    memset(&s, 0, sizeof s);
    int rc = 0;
    for (int i = 0; i < npaths && !rc; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            char pp[1100];
            ct__printable(paths[i], pp, sizeof pp);
            rc = ct__fail(CT_EIO, "cannot read %s: %s", pp, strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            int oom = 0;
            if (seen_before(&s, &st, &oom)) {
                char pp[1100];
                ct__printable(paths[i], pp, sizeof pp);
                rc = ct__runs_warn(r, "%s: given twice; read once", pp);
                continue;
            }
            if (oom) {
                rc = CT_ENOMEM;
                break;
            }
            rc = scan_dir(r, &s, paths[i], (flags & CT_PARSE_RECURSIVE) != 0, 0);
        } else {
            rc = add_file(r, &s, paths[i]);
        }
    }
    if (!rc && s.n > 1) qsort(s.ents, (size_t)s.n, sizeof *s.ents, entry_cmp);
    for (int i = 0; i < s.n && !rc;) {
        int j = i;
        int have[CT__K_COUNT] = {0, 0, 0};
        while (j < s.n && strcmp(s.ents[j].base, s.ents[i].base) == 0) have[s.ents[j++].kind] = 1;
        rc = ct__runs_read_group(r, doc, s.ents[i].base, have);
        i = j;
    }
    for (int i = 0; i < s.n; i++) free(s.ents[i].base);
    free(s.ents);
    free(s.seen_dev);
    free(s.seen_ino);
    return rc;
}
