#!/usr/bin/env python3
"""A local stand-in for Doppler's API, enough for the real `doppler` CLI's `secrets download`.
usage: doppler_api.py PORT DATA_JSON REQUEST_LOG
DATA_JSON: {"project/config": {"NAME": "value", ...}, ...}; requests are logged one per line as
"METHOD PATH?QUERY" (the token header is checked, never logged)."""
import http.server, json, sys, urllib.parse

port, data_path, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body):
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        with open(log_path, "a") as f:
            f.write(f"GET {self.path}\n")
        if not self.headers.get("Authorization", "").startswith("Bearer dp."):
            return self.reply(401, {"messages": ["Invalid Auth token"], "success": False})
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path != "/v3/configs/config/secrets/download":
            return self.reply(404, {"messages": ["Not found"], "success": False})
        with open(data_path) as f:
            data = json.load(f)
        key = f"{q.get('project', '')}/{q.get('config', '')}"
        if key not in data:
            return self.reply(404, {"messages": [f"Could not find requested config '{q.get('config', '')}'"], "success": False})
        self.reply(200, data[key])

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
