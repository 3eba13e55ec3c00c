#!/usr/bin/env python3
"""A local stand-in for GitHub's REST API, the endpoints a GitHub App uses for installation
tokens, as docs.github.com documents them (no GitHub account exists on the test machine).
usage: github_api.py PORT CONFIG_JSON REQUEST_LOG [CERT KEY]
CONFIG_JSON: {"app_id": "12345", "public_key": "<path of the App's public key, PEM>",
  "prefix": "" (github.com) or "/api/v3" (GitHub Enterprise Server),
  "installations": {"42": {"account": {"login": "my-org", "type": "Organization"},
                           "repositories": [{"id": 1, "name": "app"}, ...],
                           "permissions": {"contents": "write", "metadata": "read", ...}}}}
With CERT and KEY it serves HTTPS.

Every App request must carry a JWT that PyJWT verifies against the App's public key (RS256), with
`iss` the app_id, `iat` in the past, `exp` in the future, and exp - iat at most 10 minutes; else
401, as GitHub answers. Every request must send GitHub's Accept and X-GitHub-Api-Version headers
and a User-Agent; else 400. Each request is logged as one JSON line: method, path, body, the JWT's
claims (or the reason it was refused), the installation token used (tokens here are test data),
and the token issued."""
import datetime, http.server, json, secrets, ssl, sys, time

import jwt

port, config_path, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(config_path) as f:
    config = json.load(f)
with open(config["public_key"]) as f:
    public_key = f.read()
prefix = config.get("prefix", "")
installations = config["installations"]
live = {}  # token -> {"installation": id, "repositories": [...], "permissions": {...}}
RANK = {"read": 1, "write": 2, "admin": 3}


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, entry):
        entry["status"] = code
        with open(log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def bearer(self):
        auth = self.headers.get("Authorization", "")
        return auth[len("Bearer "):] if auth.startswith("Bearer ") else None

    def app_jwt(self, entry):
        """The verified claims of the request's JWT, or None (and the reason in the log)."""
        token = self.bearer()
        try:
            claims = jwt.decode(token or "", public_key, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"], "verify_aud": False})
        except jwt.PyJWTError as e:
            entry["jwt_refused"] = f"{type(e).__name__}: {e}"
            return None
        now = time.time()
        problems = []
        if str(claims["iss"]) != config["app_id"]:
            problems.append(f"iss {claims['iss']!r} is not the app's id")
        if not claims["iat"] <= now:
            problems.append("iat is not in the past")
        if claims["exp"] - claims["iat"] > 600 or claims["exp"] - now > 600:
            problems.append("lives more than 10 minutes")
        entry["jwt"] = claims
        if problems:
            entry["jwt_refused"] = "; ".join(problems)
            return None
        return claims

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        entry = {"method": method, "path": self.path,
                 "body": json.loads(raw) if raw.strip() else None}
        headers_ok = (self.headers.get("Accept") == "application/vnd.github+json"
                      and self.headers.get("X-GitHub-Api-Version") == "2022-11-28"
                      and bool(self.headers.get("User-Agent")))
        entry["headers_ok"] = headers_ok
        if not headers_ok:
            return self.reply(400, {"message": "missing GitHub API headers"}, entry)
        if not self.path.startswith(prefix + "/"):
            return self.reply(404, {"message": "Not Found"}, entry)
        parts = self.path[len(prefix):].split("?")[0].strip("/").split("/")
        route = (method, *parts)

        if route == ("DELETE", "installation", "token"):
            token = self.bearer()
            entry["token"] = token
            if token not in live:
                return self.reply(401, {"message": "Bad credentials"}, entry)
            del live[token]
            return self.reply(204, None, entry)
        if route == ("GET", "installation", "repositories"):
            token = self.bearer()
            entry["token"] = token
            if token not in live:
                return self.reply(401, {"message": "Bad credentials"}, entry)
            repos = live[token]["repositories"]
            return self.reply(200, {"total_count": len(repos), "repositories": repos}, entry)

        # Everything else is the App's own: a JWT.
        if self.app_jwt(entry) is None:
            return self.reply(401, {"message": "A JSON web token could not be decoded"}, entry)
        if method == "GET" and len(parts) == 3 and parts[0] in ("orgs", "users") and parts[2] == "installation":
            kind = "Organization" if parts[0] == "orgs" else "User"
            for iid, inst in installations.items():
                if inst["account"]["login"].lower() == parts[1].lower() and inst["account"]["type"] == kind:
                    return self.reply(200, {"id": int(iid), "account": inst["account"]}, entry)
            return self.reply(404, {"message": "Not Found"}, entry)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["app", "installations"]:
            inst = installations.get(parts[2])
            if inst is None:
                return self.reply(404, {"message": "Not Found"}, entry)
            return self.reply(200, {"id": int(parts[2]), "account": inst["account"],
                                    "permissions": inst["permissions"],
                                    "repository_selection": "selected"}, entry)
        if method == "POST" and len(parts) == 4 and parts[:2] == ["app", "installations"] and parts[3] == "access_tokens":
            return self.access_token(parts[2], entry)
        return self.reply(404, {"message": "Not Found"}, entry)

    def access_token(self, iid, entry):
        inst = installations.get(iid)
        if inst is None:
            return self.reply(404, {"message": "Not Found"}, entry)
        body = entry["body"] or {}
        repos = inst["repositories"]
        if "repositories" in body or "repository_ids" in body:
            names = [n.lower() for n in body.get("repositories", [])]
            ids = body.get("repository_ids", [])
            known = {r["name"].lower() for r in repos} | {r["id"] for r in repos}
            if any(w not in known for w in names + ids):
                return self.reply(422, {"message": "There is at least one repository that does not exist or is not accessible to the parent installation."}, entry)
            repos = [r for r in repos if r["name"].lower() in names or r["id"] in ids]
        permissions = body.get("permissions") or inst["permissions"]
        for name, level in permissions.items():
            if RANK.get(level, 9) > RANK.get(inst["permissions"].get(name), 0):
                return self.reply(422, {"message": "The permissions requested are not granted to this installation."}, entry)
        token = "ghs_" + secrets.token_hex(18)
        live[token] = {"installation": iid, "repositories": repos, "permissions": permissions}
        entry["issued"] = token
        # Not on the hour, so a client that assumed an hour would be seen.
        entry["expires_at"] = iso(time.time() + 3517)
        answer = {"token": token, "expires_at": entry["expires_at"],
                  "permissions": permissions, "repository_selection": "selected"}
        if "repositories" in body or "repository_ids" in body:
            answer["repositories"] = repos
        return self.reply(201, answer, entry)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
if len(sys.argv) > 5:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[4], sys.argv[5])
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
