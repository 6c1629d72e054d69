#!/usr/bin/python3
"""The gdb stub's cost on the wire (part of scripts/bench; also runs alone:
`/usr/bin/python3 test/bench/stub_bench.py [--smp 4,64,255] [--no-build]`).

One boot per CPU count of the release kernel with COM2 on a TCP socket (the kernel's stub)
and QEMU's own gdb stub on another. Debian's gdb, with nothing but the ELF loaded, runs the
same four steps against each stub:

    attach        target remote (gdb's qSupported, target description, threads, stop reason)
    info threads  one line per CPU: its extra info and frame #0
    bt            the current CPU's backtrace
    x/64gx $sp    512 bytes of its stack

gdb runs with gdb/kernel.gdb, as scripts/debug starts it. Between gdb and the stub sits a proxy that counts what crosses it each way (bytes,
packets `$...#xx`, acks) and paces each direction to 115,200 baud 8N1 (11,520 bytes/s, what
a real board's serial line carries; QEMU's socket has no line rate), so the time of a step is
what a user at a real serial line would wait, the kernel's own processing included. QEMU's
stub goes through the same proxy: its time is what its protocol would cost on such a line
(QEMU's stub is never on a serial line; it is the yardstick for the packet count).

Also the stub's size in the release image (the symbols of gdbstub:: and debug::gdb::).
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

BAUD_BYTES_PER_S = 115200 / 10  # 8N1: a start bit, eight data bits, a stop bit
GDB = os.environ.get("GDB", "gdb")
GDB_PROMPT = "(kmon-bench-gdb) "
STEPS = ("attach", "info threads", "bt", "x/64gx $sp")
DEFAULT_SMP = [4, 64, 255]
QUICK_SMP = [4]
TARGET_ATTACH_THREADS_S = 10.0  # attach + info threads at 255 CPUs, 115200 baud


class Counter:
    """Bytes and RSP units in one direction of the stream."""

    def __init__(self):
        self.bytes = 0
        self.packets = 0
        self.acks = 0
        self._in = False
        self._tail = 0

    def feed(self, data: bytes):
        self.bytes += len(data)
        for b in data:
            if self._tail:
                self._tail -= 1
            elif self._in:
                if b == 0x23:  # '#': two checksum digits follow
                    self._in = False
                    self._tail = 2
            elif b in (0x24, 0x25):  # '$' packet, '%' notification
                self._in = True
                self.packets += 1
            elif b in (0x2B, 0x2D):  # '+' '-'
                self.acks += 1

    def snap(self):
        return {"bytes": self.bytes, "packets": self.packets, "acks": self.acks}


class PacingProxy(threading.Thread):
    """127.0.0.1:<port> -> target; each direction limited to `rate` bytes/s (None: no limit)."""

    def __init__(self, target_port: int, rate: float | None):
        super().__init__(daemon=True)
        self.target_port = target_port
        self.rate = rate
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.to_target = Counter()
        self.to_gdb = Counter()
        self.lock = threading.Lock()

    def run(self):
        try:
            c, _ = self.srv.accept()
        except OSError:
            return
        t = socket.create_connection(("127.0.0.1", self.target_port))
        for s in (c, t):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        a = threading.Thread(target=self.pump, args=(c, t, self.to_target), daemon=True)
        b = threading.Thread(target=self.pump, args=(t, c, self.to_gdb), daemon=True)
        a.start()
        b.start()
        a.join()
        b.join()

    def pump(self, src, dst, counter):
        """src -> dst. A reader stamps each chunk with its arrival; the line (a queue at
        `rate`) delivers a byte at max(its arrival, the previous byte's delivery) + 1/rate,
        so a late wake-up of this thread never slows the modelled line down."""
        q = queue.Queue()

        def reader():
            try:
                while True:
                    data = src.recv(4096)
                    if not data:
                        break
                    q.put((time.monotonic(), data))
            except OSError:
                pass
            q.put((None, None))

        r = threading.Thread(target=reader, daemon=True)
        r.start()
        line_free = 0.0
        try:
            while True:
                arrived, data = q.get()
                if data is None:
                    break
                with self.lock:
                    counter.feed(data)
                if not self.rate:
                    dst.sendall(data)
                    continue
                # Forward in slices of at most 32 bytes (2.8 ms of line), each once its
                # last byte would have been delivered.
                for i in range(0, len(data), 32):
                    piece = data[i:i + 32]
                    line_free = max(line_free, arrived) + len(piece) / self.rate
                    delay = line_free - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    dst.sendall(piece)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        r.join(timeout=5)

    def snap(self):
        with self.lock:
            return {"to_stub": self.to_target.snap(), "to_gdb": self.to_gdb.snap()}

    def close(self):
        self.srv.close()


def diff(a, b):
    return {d: {k: b[d][k] - a[d][k] for k in a[d]} for d in a}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def gdb_log_packets(path, start):
    """Packets each way in gdb's `set debug remote 1` log from byte offset start on."""
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    return {"to_stub": len(re.findall(r"\[remote\] Sending packet: ", text)),
            "to_gdb": len(re.findall(r"\[remote\] Packet received: ", text))}


def gdb_session(elf, port, rate, timeout, tmpdir):
    """Runs STEPS against 127.0.0.1:port through a proxy; returns per-step figures."""
    proxy = PacingProxy(port, rate)
    proxy.start()
    debug_log = os.path.join(tmpdir, f"remote-{port}.log")
    # gdb as scripts/debug runs it: gdb/kernel.gdb (its settings, the k-commands), here
    # without its own connect so that `target remote` is a step of its own.
    env = dict(os.environ, KMON_ELF=elf, KMON_GDB_NO_CONNECT="1", TERM="dumb")
    g = pexpect.spawn(GDB, ["-q", "-nx", "-iex", f"set prompt {GDB_PROMPT}", "-iex", "set width 0",
                            "-iex", "set height 0", "-iex", "set style enabled off", "-x", "gdb/kernel.gdb",
                            "-ex", "set remotetimeout 120", "-ex", f"set logging file {debug_log}",
                            "-ex", "set logging debugredirect on", "-ex", "set logging enabled on",
                            "-ex", "set debug remote 1"],
                      cwd=bench.ROOT, env=env, encoding="utf-8", codec_errors="replace", timeout=timeout,
                      dimensions=(500, 1000))
    out = {}
    try:
        g.expect_exact(GDB_PROMPT)
        for step in STEPS:
            line = f"target remote 127.0.0.1:{proxy.port}" if step == "attach" else step
            before = proxy.snap()
            log_at = os.path.getsize(debug_log) if os.path.exists(debug_log) else 0
            t0 = time.monotonic()
            g.sendline(line)
            g.expect_exact(GDB_PROMPT)
            secs = time.monotonic() - t0
            text = g.before
            if re.search(r"Remote communication error|Connection timed out|Ignoring packet error", text):
                raise bench.BenchError(f"gdb `{line}`: {text[-300:]!r}")
            d = diff(before, proxy.snap())
            # The packets as gdb's own log counts them; the proxy's count must agree (the
            # bytes are the proxy's: the log shows payloads decoded, not what went over).
            logged = gdb_log_packets(debug_log, log_at)
            for way in ("to_stub", "to_gdb"):
                if logged[way] != d[way]["packets"]:
                    raise bench.BenchError(f"`{line}`: gdb's log has {logged[way]} packets {way}, "
                                           f"the wire {d[way]['packets']}")
            out[step] = {"seconds": secs, **d, "gdb_log_packets": logged}
            if step == "info threads":
                out[step]["threads"] = len(re.findall(r"^\*?\s+\d+\s+Thread ", text, re.M))
        g.sendline("detach")
        g.expect_exact(GDB_PROMPT)
        g.sendline("quit")
        g.expect(pexpect.EOF, timeout=30)
    finally:
        g.close(force=True)
        proxy.close()
    return out


def one_count(iso, elf, smp, rate):
    """Boots once at `smp`; the kernel's stub first (it stops the machine), then QEMU's."""
    com2, qport = free_port(), free_port()
    args = bench.qemu_args(iso, smp)
    args += ["-chardev", f"socket,id=s1,host=127.0.0.1,port={com2},server=on,wait=off,nodelay=on",
             "-serial", "chardev:s1", "-gdb", f"tcp:127.0.0.1:{qport}"]
    timeout = 120 + 2 * smp
    tmpdir = tempfile.mkdtemp(prefix="bench-stub-")
    p, _t0 = bench.spawn(args, timeout)
    try:
        i = p.expect_exact([bench.PROMPT, pexpect.EOF, pexpect.TIMEOUT])
        if i != 0:
            raise bench.BenchError(f"-smp {smp}: no prompt: {(p.before or '')[-300:]!r}")
        res = {"smp": smp}
        res["ours"] = gdb_session(elf, com2, rate, timeout, tmpdir)
        p.expect_exact(bench.PROMPT)  # the monitor is back after the detach
        res["qemu"] = gdb_session(elf, qport, rate, timeout, tmpdir)
        return res
    finally:
        p.terminate(force=True)
        shutil.rmtree(tmpdir, ignore_errors=True)


def stub_size(elf):
    """Bytes of the stub's code and data in the image: symbols in gdbstub:: and debug::gdb::."""
    nm = subprocess.run(["nm", "-C", "-S", elf], capture_output=True, text=True, check=True).stdout
    sizes = {"text": 0, "rodata": 0, "data+bss": 0}
    seen = set()
    for line in nm.splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 4 or parts[0] in seen:  # aliases (C1/C2 constructors) once
            continue
        addr, size, kind, name = parts
        if not re.match(r"(gdbstub::|debug::gdb::|\(anonymous namespace\)::kGdb)", name):
            continue
        seen.add(addr)
        key = "text" if kind in "tTwW" else "rodata" if kind in "rRvV" else "data+bss"
        sizes[key] += int(size, 16)
    return sizes


def run(smps, runs_note=None, out=None):
    iso = os.path.join(bench.RELEASE, "kernel.iso")
    elf = os.path.join(bench.RELEASE, "kernel.elf")
    res = {"baud": 115200, "counts": [], "stub_size": stub_size(elf)}
    for smp in smps:
        bench.log(f"bench: stub: -smp {smp}")
        res["counts"].append(one_count(iso, elf, smp, BAUD_BYTES_PER_S))
    if out:
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
    return res


def tables(res, md=False):
    rows = []
    for c in res["counts"]:
        for step in STEPS:
            cells = [str(c["smp"]), step]
            for side in ("ours", "qemu"):
                s = c[side][step]
                pk = s["to_stub"]["packets"] + s["to_gdb"]["packets"]
                by = s["to_stub"]["bytes"] + s["to_gdb"]["bytes"]
                cells += [str(pk), f"{by:,}", f"{s['seconds']:.2f}"]
            rows.append(cells)
    header = ["smp", "step", "ours pkts", "ours bytes", "ours s", "QEMU pkts", "QEMU bytes", "QEMU s"]
    if md:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    return bench.table(rows, header)


def summary_lines(res):
    s = res["stub_size"]
    out = [f"stub in the release image: {s['text']:,} bytes code, {s['rodata']:,} read-only, "
           f"{s['data+bss']:,} data and bss (symbols in gdbstub:: and debug::gdb::)"]
    for c in res["counts"]:
        ours = sum(c["ours"][k]["to_stub"]["bytes"] + c["ours"][k]["to_gdb"]["bytes"] for k in ("attach", "info threads"))
        qemu = sum(c["qemu"][k]["to_stub"]["bytes"] + c["qemu"][k]["to_gdb"]["bytes"] for k in ("attach", "info threads"))
        secs = c["ours"]["attach"]["seconds"] + c["ours"]["info threads"]["seconds"]
        out.append(f"-smp {c['smp']}: attach + info threads {ours:,} bytes ({ours * 10 / 115200:.1f} s of line at "
                   f"115200 baud; {secs:.1f} s measured through the proxy) against QEMU's stub's {qemu:,} bytes")
    v = verdict(res)
    if v:
        out.append(v)
    return out


def readme_lines(res):
    lines = ["The kernel's gdb stub on the wire against QEMU's own stub, same boot, gdb 13 with "
             "`gdb/kernel.gdb`, each direction paced to 115200 baud (packets from gdb's `set debug remote 1` "
             "log, bytes as they crossed; `test/bench/stub_bench.py`):", ""]
    lines.append(tables(res, md=True))
    lines.append("")
    lines += ["- " + ln for ln in summary_lines(res)]
    return lines


def verdict(res):
    for c in res["counts"]:
        if c["smp"] == 255:
            t = c["ours"]["attach"]["seconds"] + c["ours"]["info threads"]["seconds"]
            ok = t < TARGET_ATTACH_THREADS_S
            return (f"attach + info threads at 255 CPUs over 115200 baud: {t:.1f} s "
                    f"(goal < {TARGET_ATTACH_THREADS_S:.0f} s: {'met' if ok else 'NOT met'})")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smp", default=",".join(map(str, DEFAULT_SMP)))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--out", default=os.path.join(bench.OUT, "stub.json"))
    a = ap.parse_args()
    bench.build(a.no_build)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    res = run([int(x) for x in a.smp.split(",")], out=a.out)
    print(tables(res))
    for line in summary_lines(res):
        print(line)
    print(f"raw: {a.out}")


if __name__ == "__main__":
    main()
