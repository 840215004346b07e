# SPDX-License-Identifier: GPL-3.0-or-later
"""
The TCP relays of the tests and the bench: one class, Relay, that listens on
a free port of 127.0.0.1 and copies each connection's bytes to a target port
and back, one thread a direction; its subclasses see, count, hold back, change
or cut what passes:
  CutProxy      cuts the connection that carries the client's N-th byte
                (test_tus_client.py: a tus upload cut mid-body);
  HalfCutProxy  resets the client's side and keeps the target's open and
                silent (test_tus_client.py: a stalled PATCH);
  FaultProxy    stalls, resets, corrupts, slows or cuts a file server's
                replies on demand (test_faults.py);
  AuthCounter   counts the NTLMSSP AUTHENTICATE messages sent to smbd
                (test_abuse.py: one password try per 401).
Plain Relay is the bench's one relayed hop (the shape of the pinhole: recv()
and send() through a 256 KiB buffer per direction, TCP_NODELAY).
Python 3 standard library only.
"""
import socket
import struct
import threading
import time


def kill(*socks):
    """Shuts both ways and closes each of @socks (errors ignored)."""
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


class Relay:
    """Relays TCP connections from self.port to @target_port on 127.0.0.1.
    Hooks: passing() sees each chunk (None ends the connection), ended() is
    what happens to both sockets at the end (default: both killed), opened()
    sees each new connection before its threads start."""

    def __init__(self, target_port, backlog=16, bufsize=1 << 16, nodelay=False):
        self.target = target_port
        self.bufsize, self.nodelay = bufsize, nodelay
        self.lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(backlog)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()
                continue
            if self.nodelay:
                for x in (c, u):
                    x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            up = threading.Thread(target=self._pump, args=(c, u, True), daemon=True)
            down = threading.Thread(target=self._pump, args=(u, c, False), daemon=True)
            self.opened(c, u, up)
            up.start()
            down.start()

    def _pump(self, src, dst, upstream):
        """Copies @src to @dst (@upstream: client to target) until the end."""
        hooked = type(self).passing is not Relay.passing
        buf = bytearray(self.bufsize)
        view = memoryview(buf)
        state = {}  # the hooks' own, per connection and direction
        while True:
            try:
                n = src.recv_into(buf)
            except OSError:
                n = 0
            if n == 0:
                self.ended(src, dst, upstream, "eof")
                return
            data = self.passing(bytes(view[:n]), state, upstream) if hooked else view[:n]
            if data is None:
                self.ended(src, dst, upstream, "cut")
                return
            try:
                dst.sendall(data)
            except OSError:
                self.ended(src, dst, upstream, "error")
                return

    def opened(self, client, target, upstream_thread):
        """A new connection; its threads start after this."""

    def passing(self, data, state, upstream):
        """The bytes to send on (b"" for none yet), or None to end the
        connection. Runs in the direction's thread."""
        return data

    def ended(self, src, dst, upstream, why):
        """The end of one direction (@why: "eof", "cut" or "error")."""
        kill(src, dst)

    def stop(self):
        self.ls.close()


class BenchRelay(Relay):
    """The bench's hop: the pinhole's buffer size, TCP_NODELAY, and at the
    end of one direction only that direction's write side shut."""

    def __init__(self, target_port):
        super().__init__(target_port, bufsize=256 * 1024, nodelay=True)

    def ended(self, src, dst, upstream, why):
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class CutProxy(Relay):
    """The connection that carries the client's byte number cuts[i] (counted
    over all connections) is closed at once (both ways), each once."""

    def __init__(self, target_port, cuts):
        self.cuts = list(cuts)
        self.done = []  # (client bytes when cut, the connection's bytes)
        self.count = 0
        super().__init__(target_port)

    def passing(self, data, state, upstream):
        if not upstream:
            return data
        with self.lock:
            self.count += len(data)
            state["mine"] = state.get("mine", 0) + len(data)
            if self.cuts and self.count >= self.cuts[0]:
                self.cuts.pop(0)
                self.done.append((self.count, state["mine"]))
                return None
        return data


class HalfCutProxy(Relay):
    """cut_client() resets the client's side of the connections open (RST:
    SO_LINGER 0) and leaves the target's side open and silent.
    upstream_closed: the target closed a side kept."""

    def __init__(self, target_port):
        self.relayed = 0  # client bytes sent on to the target
        self.cut = False
        self.pairs, self.kept = [], []
        self.upstream_closed = threading.Event()
        super().__init__(target_port, backlog=4)

    def opened(self, client, target, upstream_thread):
        with self.lock:
            self.pairs.append((client, target, upstream_thread))

    def passing(self, data, state, upstream):
        with self.lock:
            if self.cut:
                return None
            if upstream:
                self.relayed += len(data)
        return data

    def ended(self, src, dst, upstream, why):
        # Both sides stay as they are.
        with self.lock:
            if not upstream and why == "eof" and self.cut:
                self.upstream_closed.set()

    def cut_client(self):
        with self.lock:
            self.cut = True
            pairs, self.pairs = self.pairs, []
        for c, u, t in pairs:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # The relay's recv() holds the socket: it must end before the
            # close can reset the connection.
            c.shutdown(socket.SHUT_RD)
            t.join(5)
            c.close()
            self.kept.append(u)

    def close(self):
        self.ls.close()
        for u in self.kept:
            u.close()


def smb_frames(state, data):
    """The whole NetBIOS-framed messages (0x00, a 24-bit length, the SMB2
    message) that @data completes; the rest waits in @state."""
    pending = state.get("pending", b"") + data
    out = []
    while len(pending) >= 4:
        n = int.from_bytes(pending[1:4], "big")
        if len(pending) < 4 + n:
            break
        out.append(pending[:4 + n])
        pending = pending[4 + n:]
    state["pending"] = pending
    return out


class FaultProxy(Relay):
    """In front of smbd. mode: "pass"; "stall" (the server's bytes are held
    back); "reset" (every connection is closed at the next server bytes);
    "corrupt" (the next server message's SMB2 magic is flipped); "cut-upload"
    (connections are closed once `after` client bytes went through since the
    mode was set); "slow" (each of the server's replies waits `after` ms)."""

    def __init__(self, target_port):
        self.mode, self.after, self.count = "pass", 0, 0
        super().__init__(target_port, backlog=64)

    def set(self, mode, after=0):
        with self.lock:
            self.mode, self.after, self.count = mode, after, 0

    def passing(self, data, state, upstream):
        if upstream:
            with self.lock:
                if self.mode != "cut-upload":
                    return data
                self.count += len(data)
                return None if self.count >= self.after else data
        while True:
            with self.lock:
                mode = self.mode
            if mode != "stall":
                break
            time.sleep(0.05)
        if mode == "reset":
            return None
        if mode == "slow":
            time.sleep(self.after / 1000)
        out = b""
        for msg in smb_frames(state, data):
            with self.lock:
                if self.mode == "corrupt" and msg[4:8] == b"\xfeSMB":
                    msg = msg[:4] + b"\xfeXMB" + msg[8:]
                    self.mode = "pass"
            out += msg
        return out


class AuthCounter(Relay):
    """In front of smbd: counts the NTLMSSP AUTHENTICATE messages (one per
    password tried) in SMB2 SESSION_SETUP requests."""

    def __init__(self, target_port):
        self.count = 0
        super().__init__(target_port, backlog=512)

    def passing(self, data, state, upstream):
        if upstream:
            for msg in smb_frames(state, data):
                frame = msg[4:]
                if frame[:4] == b"\xfeSMB" and struct.unpack("<H", frame[12:14])[0] == 1 \
                        and b"NTLMSSP\x00\x03\x00\x00\x00" in frame:
                    with self.lock:
                        self.count += 1
        return data
