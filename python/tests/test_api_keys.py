"""api_keys reach the library: a mock Electricity Maps service on 127.0.0.1
(env CT_ELECTRICITYMAPS_URL) answers only with the right auth-token."""

import json
import os
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import _support
from _support import FakeRapl

_support.use_library()

import carbontracker  # noqa: E402
from carbontracker.tracker import CarbonTracker  # noqa: E402

LIVE = {"curl", "jansson"} <= set(carbontracker.library_features())


class MockElectricityMaps(BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        MockElectricityMaps.seen.append((self.path.split("?")[0], self.headers.get("auth-token")))
        if self.headers.get("auth-token") != "KEY":
            self.send_response(401)
            self.end_headers()
            return
        if self.path.startswith("/carbon-intensity/latest"):
            hour = time.strftime("%Y-%m-%dT%H:00:00.000Z", time.gmtime())
            body = json.dumps({"zone": "DE", "carbonIntensity": 321, "datetime": hour}).encode()
        else:
            body = b'{"history": [], "forecast": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@unittest.skipUnless(LIVE, "library built without libcurl and jansson: no live intensity")
class ApiKeys(unittest.TestCase):
    def setUp(self):
        MockElectricityMaps.seen = []
        self.server = HTTPServer(("127.0.0.1", 0), MockElectricityMaps)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        env = mock.patch.dict(os.environ, {"CT_ELECTRICITYMAPS_URL": f"http://127.0.0.1:{self.server.server_port}"})
        env.start()
        self.addCleanup(env.stop)
        os.environ.pop("CT_OFFLINE", None)
        os.environ.pop("CT_ELECTRICITYMAPS_KEY", None)
        self.rapl = FakeRapl()
        self.addCleanup(self.rapl.close)

    def run_tracker(self, key):
        t = CarbonTracker(epochs=2, components="cpu", zone="DE", offline=False, verbose=0, pue=1.0,
                          api_keys={"electricitymaps": key})
        # The library asks in its thread, not in the constructor: wait for the
        # three requests (latest, history, forecast), then a moment for the answer.
        deadline = time.monotonic() + 15
        while len(MockElectricityMaps.seen) < (3 if key == "KEY" else 1) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        for _ in range(2):
            t.epoch_start()
            self.rapl.add_uj(3_600_000_000)  # 3600 J = 0.001 kWh
            t.epoch_end()
        t.stop()
        return t

    def test_key_is_sent_and_used(self):
        t = self.run_tracker("KEY")
        self.assertIn(("/carbon-intensity/latest", "KEY"), MockElectricityMaps.seen)
        a = t.actual
        self.assertEqual(a.intensity_kind, "live")
        self.assertAlmostEqual(a.intensity_g_per_kwh, 321.0, places=9)
        self.assertAlmostEqual(a.co2eq_g, 0.002 * 321.0, places=9)
        t.close()

    def test_wrong_key_falls_back(self):
        t = self.run_tracker("WRONG")
        self.assertEqual(MockElectricityMaps.seen[0], ("/carbon-intensity/latest", "WRONG"))
        self.assertNotEqual(t.actual.intensity_kind, "live")
        t.close()

    def tearDown(self):
        os.environ["CT_OFFLINE"] = "1"


if __name__ == "__main__":
    unittest.main()
