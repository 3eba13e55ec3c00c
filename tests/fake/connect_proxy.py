#!/usr/bin/env python3
"""An HTTP proxy that only tunnels (CONNECT), as corporate proxies do for HTTPS, for tests of
HTTPS_PROXY. Every host it is asked for is this machine (127.0.0.1, the requested port), so a
client that reached a made-up host name went through the proxy: it never resolved the name.
usage: connect_proxy.py PORT LOG (each CONNECT line is appended to LOG)."""
import socket, sys, threading

port, log_path = int(sys.argv[1]), sys.argv[2]


def relay(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(client):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = client.recv(4096)
        if not chunk:
            client.close()
            return
        head += chunk
    request_line = head.split(b"\r\n", 1)[0].decode()
    with open(log_path, "a") as f:
        f.write(request_line + "\n")
    method, target, _ = request_line.split(" ", 2)
    if method != "CONNECT":
        client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    upstream = socket.create_connection(("127.0.0.1", int(target.rsplit(":", 1)[1])))
    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=relay, args=(upstream, client), daemon=True).start()
    relay(client, upstream)


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(16)
while True:
    conn, _ = server.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
