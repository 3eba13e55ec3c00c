#!/usr/bin/env python3
"""A local stand-in for OCI's Secrets API (GetSecretBundle) and Vault API (UpdateSecret), enough for
the real `oci` CLI pointed at it with `--endpoint http://127.0.0.1:PORT`.
usage: oci_api.py PORT DATA_JSON REQUEST_LOG
DATA_JSON: {"SECRET_OCID": [{"content": "<base64>", "timeCreated": "RFC 3339"}, ...]} (version N is
element N-1; the last is CURRENT, the one before PREVIOUS). Requests are logged one per line as
"METHOD PATH?QUERY". Every request must carry an OCI request signature (the CLI signs with the
throwaway API key the test made); the signature itself is not verified. An unknown secret is the
API's 404 NotAuthorizedOrNotFound."""
import base64, datetime, http.server, json, sys, urllib.parse

port, data_path, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body):
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("opc-request-id", "stub")
        self.end_headers()
        self.wfile.write(raw)

    def signed(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Signature ") and 'version="1"' in auth and 'keyId="' in auth and 'signature="' in auth:
            return True
        self.reply(401, {"code": "NotAuthenticated", "message": "The required information to complete authentication was not provided."})
        return False

    def not_found(self):
        self.reply(404, {"code": "NotAuthorizedOrNotFound", "message": "Authorization failed or requested resource not found."})

    def load(self):
        with open(data_path) as f:
            return json.load(f)

    def route(self):
        url = urllib.parse.urlparse(self.path)
        with open(log_path, "a") as f:
            f.write(f"{self.command} {self.path}\n")
        parts = [p for p in url.path.split("/") if p not in ("", "20190301", "20180608")]
        return url, dict(urllib.parse.parse_qsl(url.query)), parts

    def do_GET(self):
        url, q, parts = self.route()
        if not self.signed():
            return
        if len(parts) != 2 or parts[0] != "secretbundles":
            return self.not_found()
        versions = self.load().get(parts[1])
        if not versions:
            return self.not_found()
        current = len(versions)
        if "versionNumber" in q:
            n = int(q["versionNumber"])
        elif q.get("stage") == "PREVIOUS":
            n = current - 1
        else:  # CURRENT, LATEST, or none
            n = current
        if not 1 <= n <= current:
            return self.not_found()
        v = versions[n - 1]
        stages = ["CURRENT", "LATEST"] if n == current else (["PREVIOUS"] if n == current - 1 else [])
        self.reply(200, {"secretId": parts[1], "versionNumber": n, "versionName": None, "stages": stages,
                         "timeCreated": v["timeCreated"], "timeOfDeletion": None, "timeOfExpiry": None,
                         "metadata": None,
                         "secretBundleContent": {"contentType": "BASE64", "content": v["content"]}})

    def do_PUT(self):
        url, q, parts = self.route()
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if not self.signed():
            return
        if len(parts) != 2 or parts[0] != "secrets":
            return self.not_found()
        data = self.load()
        if parts[1] not in data:
            return self.not_found()
        content = body.get("secretContent") or {}
        if content.get("contentType") != "BASE64" or "content" not in content:
            return self.reply(400, {"code": "InvalidParameter", "message": "secretContent must be BASE64 content"})
        base64.b64decode(content["content"], validate=True)
        data[parts[1]].append({"content": content["content"], "timeCreated": now()})
        with open(data_path, "w") as f:
            json.dump(data, f)
        self.reply(200, {"id": parts[1], "lifecycleState": "UPDATING", "currentVersionNumber": len(data[parts[1]]),
                         "timeCreated": data[parts[1]][0]["timeCreated"], "secretName": "s",
                         "compartmentId": "ocid1.compartment.oc1..stub", "vaultId": "ocid1.vault.oc1..stub",
                         "keyId": "ocid1.key.oc1..stub"})

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
