/*
 * nvml_support.h - what test_nvml.c and test_nvml_devices.c share: the fake
 * libnvidia-ml (tests/fake_nvml) loaded for its test hooks, the setup and
 * teardown of every test, the notices collected, the fake's scenario file,
 * power traces whose energy is known exactly, and three GPUs on the virtual
 * clock read at ~10 Hz.
 */
#ifndef CT_TEST_NVML_SUPPORT_H
#define CT_TEST_NVML_SUPPORT_H

#include <stddef.h>

#include "core/core.h"
#include "sources/source.h"

extern char *g_dir;  /* this test's temporary directory */
extern void *g_fake; /* our own reference to the fake, for its test hooks */
extern void (*fake_set_time)(double);
extern int (*fake_calls)(const char *);
extern int (*fake_refcount)(void);
extern ct_config g_cfg;

#define MAX_NOTES 32
extern char g_notes[MAX_NOTES][CT__MSG_LEN];
extern int g_note_level[MAX_NOTES];
extern int g_nnotes;

/* The notice callback: every notice into g_notes. */
void collect(void *user, int level, const char *msg);
/* Number of notices containing needle (at level, or any level when level < 0). */
int notes_with(const char *needle, int level);
/* dlopens the fake at path into g_fake and finds its test hooks. */
void load_fake(const char *path);
/* cmocka setup and teardown: a temporary directory, no notices, the current
 * fake loaded (CT_NVML_LIBRARY); the teardown checks that every NVML session
 * was ended. */
int setup(void **st);
int teardown(void **st);

/* Writes the fake's scenario file (FAKE_NVML_SCENARIO). */
void scenario(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens the NVML source with g_cfg and collect(). */
int open_src(void **state, char *why);

/* ---- exact energy of a trace, computed here independently of the fake ---- */
typedef struct trace {
    int linear, n;
    double t[16], p[16];
} trace;

double power_of(const trace *tr, double t);
/* Energy over [a, b] (s since the origin), J. Exact for steps and lines: the
 * breakpoints split [a, b] into pieces where power is constant or linear. */
double truth(const trace *tr, double a, double b);
/* The trace as a line of the fake's scenario. */
void trace_line(const trace *tr, char *buf, size_t len);

/* Power changing every 1-2 s (steps) and a ramped one (lines). */
extern const trace STEPS;
extern const trace RAMPS;

#define UUID_A "GPU-a0a0a0a0-1111-2222-3333-444444444444"
#define UUID_B "GPU-b1b1b1b1-1111-2222-3333-444444444444"
#define UUID_C "GPU-c2c2c2c2-1111-2222-3333-444444444444"

/* Three GPUs on the virtual clock: A counter + steps, B polled + steps, C polled + ramps. */
double three_gpus(const char *extra_a, const char *extra_b, const char *extra_c);
/* Reads at ~10 Hz, each up to 20 ms late, on the virtual clock, from t = from to t = to (s since origin). */
void run_reads(void *s, double t0, double from, double to, double *e);
/* Fails when got is further than tol (relative) from want. */
void check_rel(const char *what, double got, double want, double tol);

#endif
