/* test_support.h - helpers shared by the tests: temporary trees, files, commands. */
#ifndef CT_TEST_SUPPORT_H
#define CT_TEST_SUPPORT_H

#include <stddef.h>

/* Creates a fresh temporary directory (removed by ts_rmtree). Returns a static-lifetime malloc'd path. */
char *ts_mkdtemp(void);
/* rm -rf path. */
void ts_rmtree(const char *path);
/* mkdir -p dir/rel; returns 0. */
int ts_mkdirs(const char *dir, const char *rel);
/* Writes text to dir/rel (parents created). Returns 0. */
int ts_write(const char *dir, const char *rel, const char *text);
int ts_writef(const char *dir, const char *rel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reads a whole file into a malloc'd string (NULL on failure). */
char *ts_read(const char *path);
/* Finds the first file in dir whose name ends with suffix; malloc'd full path or NULL. */
char *ts_find_suffix(const char *dir, const char *suffix);
/* Counts lines of a file that contain needle. */
int ts_count_lines_with(const char *path, const char *needle);
/* Runs argv, capturing stdout and stderr (each malloc'd, may be NULL args), with
 * extra environment entries "K=V" (NULL-terminated, may be NULL). Returns the
 * wait status decoded: exit code, or 128+signal. */
int ts_run(char *const argv[], char *const env_extra[], char **out, char **err);
/* Environment lookups with a fatal message if unset. */
const char *ts_env(const char *name);

#endif
