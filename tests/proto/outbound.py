"""outbound - the internet stand-ins for the outbound tests: a DNS server
and receiving SMTP servers, all on loopback.

`DNS` is a dnslib server on 127.0.0.1 (UDP) serving the records a test
adds (MX, A, AAAA); a name it does not know is NXDOMAIN.  onebox is pointed
at it with `dns_servers`, so no query reaches the machine's resolver.
Test domains live under `.example` (libunbound answers RFC 6761 names such
as `.test` itself, without asking).

`Sink` is an aiosmtpd server on 127.0.0.x:PORT that keeps what it
receives as (sender, recipients, bytes, TLS used) and can be told to refuse:
`rcpt_reply` / `data_reply` are functions (address / envelope -> reply text
or None for 250); given a certificate it offers STARTTLS.  Every sink of
a test shares one port, which onebox is given as `outbound_smtp_port`.
"""

import ssl
import threading
import time

from aiosmtpd.controller import Controller
from dnslib import AAAA, MX, QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSServer

from obtest import free_port


class _Zone(BaseResolver):
    def __init__(self):
        self.rr = {}            # (name, qtype) -> [rdata]
        self.queries = []
        self.lock = threading.Lock()

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        qtype = QTYPE[request.q.qtype]
        with self.lock:
            self.queries.append((name, qtype))
            known = any(n == name for n, _ in self.rr)
            rdatas = list(self.rr.get((name, qtype), []))
        if not known:
            reply.header.rcode = RCODE.NXDOMAIN
        for rd in rdatas:
            reply.add_answer(RR(request.q.qname, getattr(QTYPE, qtype), rdata=rd, ttl=1))
        return reply


class DNS:
    def __init__(self):
        self.zone = _Zone()
        self.port = free_port("127.0.0.1")
        self.server = DNSServer(self.zone, port=self.port, address="127.0.0.1")
        self.server.start_thread()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _add(self, name, qtype, rdata):
        with self.zone.lock:
            self.zone.rr.setdefault((name.lower(), qtype), []).append(rdata)

    def mx(self, domain, pref, host):
        """host "." is RFC 7505's null MX."""
        self._add(domain, "MX", MX(host if host == "." else host + ".", pref))

    def a(self, name, ip):
        self._add(name, "A", A(ip))

    def aaaa(self, name, ip):
        self._add(name, "AAAA", AAAA(ip))

    def close(self):
        self.server.stop()


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        r = self.sink.rcpt_reply(address) if self.sink.rcpt_reply else None
        if r:
            return r
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        r = self.sink.data_reply(envelope) if self.sink.data_reply else None
        if r:
            return r
        with self.sink.lock:
            self.sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                       session.ssl is not None))
        return "250 2.0.0 OK: taken"


class Sink:
    def __init__(self, ip, port, rcpt_reply=None, data_reply=None, tls_cert=None):
        self.ip, self.port = ip, port
        self.rcpt_reply, self.data_reply = rcpt_reply, data_reply
        self.messages = []
        self.lock = threading.Lock()
        tls = None
        if tls_cert:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(*tls_cert)
        self.controller = Controller(_Handler(self), hostname=ip, port=port, decode_data=False,
                                     server_hostname="sink-" + ip, ready_timeout=5, tls_context=tls)
        self.controller.start()

    def wait(self, n, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError("sink %s: %d messages after %ss, want %d" % (self.ip, len(self.messages),
                                                                           timeout, n))

    def stop(self):
        self.controller.stop()


class Internet:
    """A DNS server and any number of sinks on one port, stopped together."""

    def __init__(self):
        self.dns = DNS()
        self.port = free_port("127.0.0.1")
        self.sinks = []

    def sink(self, ip, **kw):
        s = Sink(ip, self.port, **kw)
        self.sinks.append(s)
        return s

    def configure(self, ob, retry=1):
        """Point ob's queue at this internet, with quick retries."""
        ob.set("outbound_smtp_port", str(self.port))
        ob.set("queue_retry_min", str(retry))
        ob.set("queue_retry_max", str(retry * 4))

    def close(self):
        for s in self.sinks:
            s.stop()
        self.dns.close()
