/* fuzz_common.h - what the fuzz targets share: a scratch directory for the
 * targets that go through files, as the library reads them from disk. */
#ifndef CT_FUZZ_COMMON_H
#define CT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private directory for this process (created once, under /dev/shm when it
 * exists, else $TMPDIR or /tmp). */
const char *fz_scratch(void);
/* Writes size bytes to fz_scratch()/name; returns the path (static buffer) or NULL. */
const char *fz_write(const char *name, const uint8_t *data, size_t size);
/* Removes every file in fz_scratch(). */
void fz_clear(void);

#endif
