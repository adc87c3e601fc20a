/* intensity_live_support.h - what the live intensity tests share: the mock
 * server (tests/mock_intensity_server.py, one per test process), the notices
 * the fetch thread gives, and waits on conditions with a 10 s cap. */
#ifndef CT_TEST_INTENSITY_LIVE_SUPPORT_H
#define CT_TEST_INTENSITY_LIVE_SUPPORT_H

#include "intensity/live.h"
#include "intensity_mock.h"

extern im_server il_srv;

/* cmocka group setup/teardown (start and stop the mock) and per-test setup
 * (location and key variables unset, case "ok", request log and notices cleared). */
int il_group_setup(void **state);
int il_group_teardown(void **state);
int il_setup(void **state);

/* The notice sink given to the fetch thread ("LEVEL:message\n" each), and a copy of what it holds. */
void il_collect(void *user, int level, const char *msg);
void il_ctx_notice(void *user, int level, const char *msg);
void il_notices(char *buf, size_t len);

double il_mono(void);
void il_sleep(double s);
/* Waits until the fetch thread finished n refreshes; fails after 10 s. */
void il_wait_done(ct__live *lv, long n);
/* Waits until the notices hold needle; fails after 10 s. */
void il_wait_notice(const char *needle);
/* Waits until the intensity object has its first live value; fails after 10 s. */
void il_wait_live(ct_intensity *in);
/* Starts the live service for a configured location (notices to il_collect). */
ct__live *il_start(ct_config *cfg, const char *key);
/* 1 when a file whose name holds needle is mapped into this process. */
int il_mapped(const char *needle);
/* The UK mock's national series: the current half hour 263, then 300 except
 * periods 10..21 (100), 96 periods from t0. Mean over [a, b]. */
double il_uk_mean(double t0, double a, double b);

#endif
