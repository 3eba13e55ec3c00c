#!/usr/bin/python3
"""A recording, fault-injecting proxy in front of moto, for tests of the in-process AWS route.

    aws_proxy.py PORT UPSTREAM_URL LOG CONTROL

Every request is forwarded to UPSTREAM_URL as is. LOG gets one JSON line per call: the
operation (from X-Amz-Target) and the ids or names it asked for, never a value.

CONTROL, when the file exists, is read at each request: {"when": OPERATION, "fail": {"code":
C, "message": M}} answers that operation with AWS's error C instead of forwarding it;
{"when": OPERATION, "before": [ARGV…]} runs ARGV once (against moto directly) before
forwarding it, as another writer landing between our read and our write would.
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, LOG, CONTROL = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
DONE = CONTROL + ".done"


def control():
    try:
        with open(CONTROL) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


class Proxy(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = self.headers.get("X-Amz-Target", "")
        operation = target.split(".")[-1]
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            doc = {}
        asked = (doc.get("SecretIdList") or doc.get("Names") or doc.get("SecretId")
                 or doc.get("Name"))
        with open(LOG, "a") as f:
            f.write(json.dumps({"operation": operation, "asked": asked}) + "\n")
        rule = control()
        if rule.get("when") == operation:
            if "fail" in rule:
                reply = json.dumps({"__type": rule["fail"]["code"],
                                    "message": rule["fail"]["message"]}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                return
            if "before" in rule and not os.path.exists(DONE):
                open(DONE, "w").close()
                env = dict(os.environ, AWS_ENDPOINT_URL=UPSTREAM)
                subprocess.run(rule["before"], env=env, check=True, stdout=subprocess.DEVNULL)
        request = urllib.request.Request(UPSTREAM + self.path, data=body, method="POST")
        for name, value in self.headers.items():
            if name.lower() not in ("host", "content-length", "connection"):
                request.add_header(name, value)
        try:
            with urllib.request.urlopen(request) as answer:
                status, headers, reply = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as e:
            status, headers, reply = e.code, e.headers, e.read()
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding",
                                    "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


ThreadingHTTPServer(("127.0.0.1", PORT), Proxy).serve_forever()
