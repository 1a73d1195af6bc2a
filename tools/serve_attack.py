#!/usr/bin/env python3
"""Hostile clients against a running `graft serve` on loopback, bounded in time (tools/serve_attack.sh runs it).

   serve_attack.py PORT PID BIG.jpg SMALL.jpg [DRIPS=300] [BURST=200] [SECONDS=75]

From t=0, DRIPS connections each send the headers of a 4 MB upload and then one byte every 5 s until the server
answers or the run ends; at t=8 s, BURST uploads of BIG.jpg start at once; from t=3 s, one ordinary client sends
SMALL.jpg, waits for the answer (60 s at most), and sends it again a second later, retrying after a 503 as its
Retry-After says. The server's resident memory (PID) is sampled every 0.2 s. Prints what each kind of client got.
"""
import socket
import statistics
import sys
import threading
import time
from collections import Counter

port, pid = int(sys.argv[1]), int(sys.argv[2])
big, small = open(sys.argv[3], "rb").read(), open(sys.argv[4], "rb").read()
drips = int(sys.argv[5]) if len(sys.argv) > 5 else 300
burst = int(sys.argv[6]) if len(sys.argv) > 6 else 200
seconds = float(sys.argv[7]) if len(sys.argv) > 7 else 75
start = time.monotonic()
end = start + seconds
lock = threading.Lock()


def now():
    return time.monotonic() - start


def headers(length):
    return (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n").encode()


def status_of(sock, timeout):
    """The status code of the answer on sock, or a word for why there is none."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return "closed without an answer" if not data else "cut answer"
            data += chunk
    except socket.timeout:
        return "no answer"
    except OSError as e:
        return "reset" if data == b"" else "cut answer"
    parts = data.split(b" ", 2)
    retry = b"retry-after:" in data.lower()
    return parts[1].decode() + (" (Retry-After)" if retry and parts[1] == b"503" else "")


drip_results, burst_results, normal_results, rss = [], [], [], []


def dripper():
    t0 = now()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as e:
        with lock:
            drip_results.append(("could not connect", 0.0))
        return
    try:
        s.sendall(headers(4 << 20) + b"x")
        s.settimeout(5)
        got = None
        while now() < seconds - 1:
            try:
                chunk = s.recv(4096, socket.MSG_PEEK)
                got = status_of(s, 1) if chunk else "closed without an answer"
                break
            except socket.timeout:
                pass
            except OSError:
                got = "reset"
                break
            try:
                s.sendall(b"x")
            except OSError:
                got = status_of(s, 1)
                break
        with lock:
            drip_results.append((got or "still held at the end", now() - t0))
    finally:
        s.close()


def uploader():
    t0 = now()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        with lock:
            burst_results.append(("could not connect", now() - t0))
        return
    try:
        try:
            s.sendall(headers(len(big)))
            s.sendall(big)
        except OSError:
            pass  # answered (503, 413) before the body was all sent: read that answer
        got = status_of(s, max(1, end - time.monotonic()))
        with lock:
            burst_results.append((got, now() - t0))
    finally:
        s.close()


def normal():
    time.sleep(3)
    while now() < seconds - 2:
        t0 = now()
        got = "no answer"
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(headers(len(small)) + small)
            got = status_of(s, 60)
            s.close()
        except OSError:
            got = "could not connect"
        with lock:
            normal_results.append((t0, got, now() - t0))
        time.sleep(1)


def sampler():
    while now() < seconds:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS"):
                        rss.append((now(), int(line.split()[1]) // 1024))
        except OSError:
            pass
        time.sleep(0.2)


threads = [threading.Thread(target=sampler, daemon=True), threading.Thread(target=normal, daemon=True)]
for _ in range(drips):
    threads.append(threading.Thread(target=dripper, daemon=True))
for t in threads:
    t.start()
time.sleep(max(0, 8 - now()))
burst_start = now()
uploads = [threading.Thread(target=uploader, daemon=True) for _ in range(burst)]
for t in uploads:
    t.start()
for t in threads[1:] + uploads:
    t.join(max(0.1, end + 5 - time.monotonic()))


def summary(results):
    c = Counter(r[0] for r in results)
    return ", ".join(f"{v} {k}" for k, v in sorted(c.items(), key=lambda kv: -kv[1]))


def times(values):
    if not values:
        return "-"
    v = sorted(values)
    return f"median {statistics.median(v):.2f} s, max {v[-1]:.2f} s"


print(f"slow-drip clients ({drips}, one byte every 5 s): {summary(drip_results)}; held the server for "
      f"{times([r[1] for r in drip_results])}")
print(f"burst ({burst} uploads of {len(big) / 1e6:.1f} MB at t={burst_start:.0f} s): {summary(burst_results)}; answered in "
      f"{times([r[1] for r in burst_results])}")
ok = [r for r in normal_results if r[1] == "200"]
during = [r for r in normal_results if burst_start - 1 <= r[0] <= burst_start + 30]
print(f"ordinary client ({len(small) / 1e3:.0f} KB, one at a time): {len(normal_results)} requests: "
      f"{summary([(r[1],) for r in normal_results])}; 200s took {times([r[2] for r in ok])}; "
      f"during the burst: {summary([(r[1],) for r in during])}, {times([r[2] for r in during])}")
if rss:
    before = [m for t, m in rss if t < 1] or [rss[0][1]]
    print(f"server resident memory: {before[0]} MB at the start, peak {max(m for _, m in rss)} MB, {rss[-1][1]} MB at the end")
