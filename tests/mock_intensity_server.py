#!/usr/bin/env python3
"""Mock carbon-intensity services for the tests (Python standard library only).

Serves the shapes of shared/spec/intensity-apis.md on 127.0.0.1 at an ephemeral
port: Electricity Maps (/carbon-intensity/...), the UK Carbon Intensity API
(/intensity..., /regional/...), Energi Data Service (/dataset/...) and ipinfo
(/json). Prints the port on the first line of stdout, then serves until stdin
closes (the test process ended) or SIGTERM.

Control (for the tests):
  GET /_case/NAME   switch the scripted case (see CASES); answers "ok"
  GET /_log         JSON list of {"path", "auth"} of the requests so far
  GET /_reset       clear the log

Key-echo cases (a hostile or careless server): "echo_key" (401 "bad key KEY"),
"echo_key_at_N" (401 whose error text holds the key at character N),
"echo_key_forecast" (latest answers; the forecast's 401 text is the key 400 times),
"echo_key_body" (200 with malformed JSON holding the key as a bare token).

Times in the answers are relative to the current time so that "now" is
covered. The "ok" values are fixed and documented here, so the tests know the
truths:
  Electricity Maps: latest 302 (current hour); history 250 (24 h before);
    forecast hourly from the current hour for 48 h: 400, except hours 3..8
    (from the current hour's start) which are 150.
  UK national: current half hour actual 263 (forecast 266); fw48h: periods
    k = 0..95 from the current half hour: 300, except k = 10..21 which are 100.
  UK regional (postcode): current 180; from/to: 200 except k = 4..9 -> 50.
  Energi Data Service CO2Emis: DK1 120, DK2 80 (last hour, 5-minute);
    CO2EmisProg from the current 5 minutes for 24 h: DK1 150 except hours
    2..4 -> 60; DK2 100.
  ipinfo: country DK, loc 55.6759,12.5655 (DK2).
"""
import json
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"case": "ok", "log": [], "stopping": False}
LOCK = threading.Lock()


def iso_min(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def iso_ms(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def iso_eds(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def em_latest(zone, now):
    hour = now - now % 3600
    return {"zone": zone, "carbonIntensity": 302, "datetime": iso_ms(hour), "updatedAt": iso_ms(now),
            "emissionFactorType": "lifecycle", "isEstimated": True, "estimationMethod": "TIME_SLICER_AVERAGE"}


def em_history(zone, now):
    hour = now - now % 3600
    return {"zone": zone, "history": [{"carbonIntensity": 250, "datetime": iso_ms(hour - 3600 * k)}
                                      for k in range(24, 0, -1)]}


def em_forecast(zone, now):
    hour = now - now % 3600
    return {"zone": zone, "forecast": [{"datetime": iso_ms(hour + 3600 * k),
                                        "carbonIntensity": 150 if 3 <= k <= 8 else 400} for k in range(48)]}


def uk_period(t0, forecast, actual=None):
    return {"from": iso_min(t0), "to": iso_min(t0 + 1800),
            "intensity": {"forecast": forecast, "actual": actual, "index": "moderate"}}


def uk_national_now(now):
    t0 = now - now % 1800
    return {"data": [uk_period(t0, 266, 263)]}


def uk_national_fw(now):
    t0 = now - now % 1800
    return {"data": [uk_period(t0 + 1800 * k, 100 if 10 <= k <= 21 else 300, 263 if k == 0 else None)
                     for k in range(96)]}


def uk_region(periods, pc):
    return {"regionid": 3, "dnoregion": "SSE South", "shortname": "South England", "postcode": pc,
            "data": periods}


def uk_regional_now(now, pc):
    t0 = now - now % 1800
    p = {"from": iso_min(t0), "to": iso_min(t0 + 1800), "intensity": {"forecast": 180, "index": "moderate"},
         "generationmix": [{"fuel": "gas", "perc": 40.0}]}
    return {"data": [uk_region([p], pc)]}


def uk_regional_fw(now, pc, as_object):
    t0 = now - now % 1800
    periods = [{"from": iso_min(t0 + 1800 * k), "to": iso_min(t0 + 1800 * (k + 1)),
                "intensity": {"forecast": 50 if 4 <= k <= 9 else 200, "index": "low"}} for k in range(96)]
    region = uk_region(periods, pc)
    return {"data": region if as_object else [region]}


def eds_areas(query):
    try:
        f = json.loads(query.get("filter", ['{"PriceArea":["DK1","DK2"]}'])[0])
        return f.get("PriceArea", ["DK1", "DK2"])
    except ValueError:
        return ["DK1", "DK2"]


def eds_now(now, areas):
    t = now - now % 300 - 300
    recs = []
    for k in range(12):
        for a in areas:
            recs.append({"Minutes5UTC": iso_eds(t - 300 * k), "Minutes5DK": iso_eds(t - 300 * k + 3600),
                         "PriceArea": a, "CO2Emission": 120.0 if a == "DK1" else 80.0})
    return {"total": 576, "limit": 24, "dataset": "CO2Emis", "records": recs}


def eds_prog(now, areas):
    t = now - now % 300
    recs = []
    for k in range(288):
        for a in areas:
            h = k // 12
            v = (60.0 if 2 <= h <= 4 else 150.0) if a == "DK1" else 100.0
            recs.append({"Minutes5UTC": iso_eds(t + 300 * k), "Minutes5DK": iso_eds(t + 300 * k + 3600),
                         "PriceArea": a, "CO2Emission": v})
    return {"total": len(recs), "limit": 2000, "dataset": "CO2EmisProg", "records": recs}


def ok_answer(path, query, now):
    """(status, body) of the documented shapes."""
    zone = query.get("zone", ["LATLON"])[0]
    if path.startswith("/carbon-intensity/latest"):
        return 200, em_latest(zone, now)
    if path.startswith("/carbon-intensity/history"):
        return 200, em_history(zone, now)
    if path.startswith("/carbon-intensity/forecast"):
        return 200, em_forecast(zone, now)
    if path.startswith("/regional/postcode/"):
        return 200, uk_regional_now(now, path.rsplit("/", 1)[1])
    if path.startswith("/regional/intensity/"):
        return 200, uk_regional_fw(now, path.rsplit("/", 1)[1], STATE["case"] == "regional_object")
    if path == "/intensity":
        return 200, uk_national_now(now)
    if path.startswith("/intensity/"):
        return 200, uk_national_fw(now)
    if path.startswith("/dataset/CO2EmisProg"):
        return 200, eds_prog(now, eds_areas(query))
    if path.startswith("/dataset/CO2Emis"):
        return 200, eds_now(now, eds_areas(query))
    if path == "/json":
        return 200, {"ip": "192.0.2.1", "city": "Copenhagen", "region": "Capital Region", "country": "DK",
                     "loc": "55.6759,12.5655", "postal": "1050"}
    return 404, {"error": "no such route in the mock: " + path}


def null_answer(path):
    if path.startswith("/carbon-intensity/latest"):
        return {"zone": "DE", "carbonIntensity": None, "datetime": None}
    if path.startswith("/carbon-intensity/"):
        return {"zone": "DE", "history": [{"carbonIntensity": None, "datetime": None}],
                "forecast": [{"carbonIntensity": None, "datetime": None}]}
    if path.startswith("/regional/"):
        return {"data": [{"regionid": 3, "data": [{"from": None, "to": None, "intensity": {"forecast": None}}]}]}
    if path.startswith("/intensity"):
        return {"data": [{"from": "2020-01-01T00:00Z", "to": "2020-01-01T00:30Z",
                          "intensity": {"forecast": None, "actual": None, "index": None}}]}
    if path.startswith("/dataset/"):
        return {"records": [{"Minutes5UTC": None, "PriceArea": "DK1", "CO2Emission": None}]}
    return {"country": None, "loc": None}


def missing_answer(path):
    if path.startswith("/carbon-intensity/latest"):
        return {"zone": "DE"}
    if path.startswith("/carbon-intensity/"):
        return {"zone": "DE"}
    if path.startswith("/regional/"):
        return {"data": [{"regionid": 3}]}
    if path.startswith("/intensity"):
        return {"data": [{"from": "2020-01-01T00:00Z"}]}
    if path.startswith("/dataset/"):
        return {"total": 0}
    return {"ip": "192.0.2.1"}


def empty_answer(path):
    if path.startswith("/carbon-intensity/latest"):
        return {}
    if path.startswith("/carbon-intensity/"):
        return {"zone": "DE", "history": [], "forecast": []}
    if path.startswith("/regional/") or path.startswith("/intensity"):
        return {"data": []}
    if path.startswith("/dataset/"):
        return {"total": 0, "records": []}
    return {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        path, query = u.path, urllib.parse.parse_qs(u.query)
        if path.startswith("/_case/"):
            with LOCK:
                STATE["case"] = path[len("/_case/"):]
            return self.send(200, "ok", "text/plain")
        if path == "/_log":
            with LOCK:
                return self.send(200, list(STATE["log"]))
        if path == "/_reset":
            with LOCK:
                STATE["log"].clear()
            return self.send(200, "ok", "text/plain")
        with LOCK:
            case = STATE["case"]
            STATE["log"].append({"path": self.path, "auth": self.headers.get("auth-token"),
                                 "accept": self.headers.get("Accept")})
        now = time.time()
        if case == "hang":
            end = now + 60
            while time.time() < end and not STATE["stopping"]:
                time.sleep(0.05)
            self.close_connection = True
            return
        if case in ("401", "403", "429", "500"):
            status = int(case)
            if path.startswith("/intensity") or path.startswith("/regional"):
                body = {"error": {"code": "%d" % status, "message": "mock error %d" % status}}
            else:
                body = {"error": "mock error %d" % status, "message": "mock message %d" % status}
            return self.send(status, body)
        if case == "forecast_denied" and path.startswith("/carbon-intensity/forecast"):
            return self.send(403, {"error": "forecast is not in your plan"})
        if case == "echo_key":  # a hostile server echoing the key in its error text
            return self.send(401, {"error": "bad key %s" % self.headers.get("auth-token")})
        if case.startswith("echo_key_at_"):  # the key echoed at character N of the error text
            pad = "x" * int(case[len("echo_key_at_"):])
            return self.send(401, {"error": "%s%s is not a valid key" % (pad, self.headers.get("auth-token"))})
        if case == "echo_key_body":  # malformed JSON: the key as a bare token (jansson quotes part of it)
            return self.send(200, '{"zone": %s}' % self.headers.get("auth-token"))
        if case == "echo_key_forecast" and path.startswith("/carbon-intensity/forecast"):
            # latest and history answer; the forecast's error text is the key, 400 times over
            return self.send(401, {"error": (self.headers.get("auth-token") or "") * 400})
        if case == "ip_fr" and path == "/json":  # a country without a free service
            return self.send(200, {"ip": "192.0.2.7", "country": "FR", "loc": "48.8534,2.3488"})
        if case == "garbage":
            return self.send(200, "<html><body>Service temporarily unavailable</body></html>", "text/html")
        if case == "truncated":
            status, body = ok_answer(path, query, now)
            text = json.dumps(body)
            return self.send(status, text[: max(1, len(text) // 2)])
        if case == "nulls":
            return self.send(200, null_answer(path))
        if case == "missing":
            return self.send(200, missing_answer(path))
        if case == "empty":
            return self.send(200, empty_answer(path))
        if case == "big":  # more than the client's 4 MiB cap
            return self.send(200, '{"pad":"' + "x" * (5 * 1024 * 1024) + '"}')
        if case == "no_forecast" and (path.startswith("/intensity/") or path.startswith("/regional/intensity/")
                                      or path.startswith("/dataset/CO2EmisProg")
                                      or path.startswith("/carbon-intensity/forecast")):
            return self.send(500, {"error": "forecast down"})
        status, body = ok_answer(path, query, now)
        return self.send(status, body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients hang up on purpose (size cap, timeouts, shutdown): not news.
        if isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        sys.stdin.read()  # returns when the test closes the pipe or exits
    except KeyboardInterrupt:
        pass
    STATE["stopping"] = True
    srv.shutdown()


if __name__ == "__main__":
    main()
