/* The planner: the start time with the lowest mean forecast intensity over a
 * training's duration. The window search is pure; ct_plan fetches the
 * forecast (blocking, with the HTTP timeouts) and runs it. */
#include "live.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CT__PLAN_MAX_GAP_S 3600.0
#define CT__PLAN_EPS 1e-6

/* Integral of g dt from p[lo].t0 to t, over the contiguous run p[lo..hi]. */
static double integral_to(const ct__iseries *s, const double *cum, int lo, int hi, double t) {
    int a = lo, b = hi;
    while (a < b) { /* last point with t0 <= t */
        int mid = a + (b - a + 1) / 2;
        if (s->p[mid].t0 <= t) a = mid;
        else b = mid - 1;
    }
    double dt = t - s->p[a].t0;
    if (dt < 0) dt = 0;
    return cum[a - lo] + dt * s->p[a].g;
}

int ct__plan_best_window(const ct__iseries *s, double now, double duration_s, double within_s, ct__plan_window *out,
                         char *why, size_t whylen) {
    memset(out, 0, sizeof *out);
    if (!(duration_s > 0)) {
        snprintf(why, whylen, "the duration must be positive");
        return CT_EINVAL;
    }
    /* The run covering now, or starting within the allowed gap after now. */
    int lo = ct__iseries_find(s, now);
    double first = now;
    if (lo < 0) {
        for (int i = 0; i < s->n; i++)
            if (s->p[i].t0 > now) {
                if (s->p[i].t0 - now <= CT__PLAN_MAX_GAP_S) {
                    lo = i;
                    first = s->p[i].t0;
                }
                break;
            }
    }
    if (lo < 0) {
        snprintf(why, whylen, "the forecast does not cover the present");
        return CT_ENODATA;
    }
    int hi = lo;
    while (hi + 1 < s->n && fabs(s->p[hi + 1].t0 - s->p[hi].t1) < CT__PLAN_EPS) hi++;
    double horizon = s->p[hi].t1;
    out->first_start = first;
    out->horizon_end = horizon;
    if (horizon - first < duration_s - CT__PLAN_EPS) {
        snprintf(why, whylen, "the forecast covers %.1f h from now, less than the %.1f h asked for",
                 (horizon - first) / 3600.0, duration_s / 3600.0);
        return CT_ENODATA;
    }
    double latest = horizon - duration_s;
    if (within_s > 0 && now + within_s < latest) latest = now + within_s;
    if (latest < first) latest = first; /* a window starting at the first forecast time */

    int n = hi - lo + 1;
    double *cum = malloc((size_t)(n + 1) * sizeof *cum);
    if (!cum) {
        snprintf(why, whylen, "out of memory");
        return CT_ENOMEM;
    }
    cum[0] = 0;
    for (int i = 0; i < n; i++) cum[i + 1] = cum[i] + (s->p[lo + i].t1 - s->p[lo + i].t0) * s->p[lo + i].g;

    /* The mean is piecewise linear in the start time, so its minimum is at a
     * start where the window's start or end meets a boundary, or at the ends
     * of the allowed range. */
    double base = integral_to(s, cum, lo, hi, first);
    double best_start = first, best_mean = (integral_to(s, cum, lo, hi, first + duration_s) - base) / duration_s;
    out->now_mean_g = best_mean;
    for (int k = 0; k <= 2 * n + 1; k++) {
        double st;
        if (k < n) st = s->p[lo + k].t0;
        else if (k < 2 * n) st = s->p[lo + k - n].t1 - duration_s;
        else if (k == 2 * n) st = latest;
        else st = first;
        if (st < first - CT__PLAN_EPS || st > latest + CT__PLAN_EPS) continue;
        if (st < first) st = first;
        if (st > latest) st = latest;
        double mean = (integral_to(s, cum, lo, hi, st + duration_s) - integral_to(s, cum, lo, hi, st)) / duration_s;
        if (mean < best_mean - 1e-9 * (fabs(best_mean) + 1) ||
            (fabs(mean - best_mean) <= 1e-9 * (fabs(best_mean) + 1) && st < best_start)) {
            best_mean = mean;
            best_start = st;
        }
    }
    free(cum);
    out->start = best_start;
    out->end = best_start + duration_s;
    out->mean_g = best_mean;
    return 0;
}

int ct_plan(const ct_config *cfg, double duration_s, double within_s, ct_plan_result *out) {
    if (!cfg || !out) return ct__fail(CT_EINVAL, "ct_plan: NULL argument");
    memset(out, 0, sizeof *out);
    if (!(duration_s > 0) || !isfinite(duration_s) || !(within_s >= 0) || !isfinite(within_s))
        return ct__fail(CT_EINVAL, "the duration must be positive and the search window not negative");
    if (ct__offline(cfg)) return ct__fail(CT_ENODATA, "offline (CT_OFFLINE or --offline): no forecast can be fetched");
    ct__location loc;
    char why[CT__MSG_LEN];
    int rc = ct__location_resolve(cfg, &loc, why, sizeof why);
    if (rc) return ct__fail(rc, "%s", why);
    ct__secret *key = NULL;
    rc = ct__key_resolve_secret(cfg, &key, why, sizeof why);
    if (rc == CT_EINVAL || rc == CT_ENOMEM) return ct__fail(rc, "%s", why);
    double now = ct__unix_s();
    ct__intensity_data d;
    rc = ct__live_fetch_once(&loc, key, now, &d, why, sizeof why);
    ct__secret_free(key);
    if (rc) {
        ct__intensity_data_free(&d);
        return ct__fail(rc, "no forecast: %s", why);
    }
    if (d.forecast.n == 0) {
        rc = ct__fail(CT_ENODATA, "%s has no forecast for %s%s%s", d.provider, d.area, d.note[0] ? ": " : "", d.note);
        ct__intensity_data_free(&d);
        return rc;
    }
    ct__iseries tl = {0};
    ct__plan_window w;
    rc = ct__iseries_timeline(&d.measured, &d.forecast, CT__PLAN_MAX_GAP_S, &tl);
    if (!rc) rc = ct__plan_best_window(&tl, now, duration_s, within_s, &w, why, sizeof why);
    else snprintf(why, sizeof why, "out of memory");
    ct__iseries_free(&tl);
    if (rc) {
        rc = ct__fail(rc, "%s forecast for %s: %s", d.provider, d.area, why);
        ct__intensity_data_free(&d);
        return rc;
    }
    out->start_unix_s = w.start;
    out->end_unix_s = w.end;
    out->mean_g_per_kwh = w.mean_g;
    out->now_g_per_kwh = w.now_mean_g;
    out->savings_percent = w.now_mean_g > 0 ? 100.0 * (w.now_mean_g - w.mean_g) / w.now_mean_g : 0;
    out->horizon_end_unix_s = w.horizon_end;
    char iso[32];
    ct__format_iso8601(now, iso, sizeof iso);
    snprintf(out->source, sizeof out->source, "%s forecast, %s, fetched %s", d.provider, d.area, iso);
    ct__intensity_data_free(&d);
    ct__fail_clear();
    return 0;
}
