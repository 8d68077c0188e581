"""Behind an egress proxy: the API clients route through HTTP_PROXY / HTTPS_PROXY (HTTPS tunnelled with CONNECT
and verified against REQUESTS_CA_BUNDLE), and NO_PROXY sends a host around the proxy."""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapter.errors import NetworkError
from adapter.helpdesk.admin_client import HelpdeskAdminClient
from adapter.meta.client import GraphClient
from tests.conftest import GRAPH_TOKEN, HELPDESK_TOKEN, PNID, WABA
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

# Headers that describe one hop, not the message: a proxy never forwards them.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade"})  # fmt: skip
TEXT = {"messaging_product": "whatsapp", "to": "5511988887777", "type": "text", "text": {"body": "olá"}}


def _pipe(one: socket.socket, other: socket.socket) -> None:
    """Bytes both ways until either side closes (or nothing moves for 5 s)."""
    while True:
        readable, _, _ = select.select([one, other], [], [], 5)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (other if sock is one else one).sendall(data)


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.forwarded: list[str] = []  # "METHOD absolute-URI", or "CONNECT host:port"
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a tunnel the client dropped (an untrusted certificate): the test's assertions say what matters

    def record(self, line: str) -> None:
        with self.lock:
            self.forwarded.append(line)


class _ProxyHandler(BaseHTTPRequestHandler):
    """A forward proxy: absolute-URI requests forwarded whole, CONNECT tunnelled."""

    protocol_version = "HTTP/1.1"
    server: _Proxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_CONNECT(self) -> None:
        host, _, port = self.path.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=5) as upstream:
            self.server.record(f"CONNECT {self.path}")
            self.send_response(200, "Connection established")
            self.end_headers()
            _pipe(self.connection, upstream)
        self.close_connection = True

    def _forward(self) -> None:
        target = urlsplit(self.path)
        assert target.scheme == "http" and target.hostname, f"not an absolute URI: {self.path}"
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=5)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path or "/", body=body or None, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
        finally:
            upstream.close()
        self.server.record(f"{self.command} {self.path}")
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward


class _TlsFront:
    """TLS on a loopback port, relayed in the clear to a simulator: an HTTPS Graph whose certificate only the
    CA bundle written to `ca_file` vouches for."""

    def __init__(self, backend_port: int, ca_file: Path) -> None:
        self.backend_port = backend_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*_self_signed_certificate(ca_file))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._relay, args=(sock,), daemon=True).start()

    def _relay(self, sock: socket.socket) -> None:
        try:
            with self.context.wrap_socket(sock, server_side=True) as tls, \
                    socket.create_connection(("127.0.0.1", self.backend_port), timeout=5) as backend:  # fmt: skip
                _pipe(tls, backend)
        except OSError:
            pass  # a handshake refused by a client that does not trust the certificate

    def close(self) -> None:
        self.listener.close()


def _self_signed_certificate(ca_file: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, signed by its own key; written as the CA bundle too."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    ca_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file = ca_file.with_suffix(".key")
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return ca_file, key_file


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Proxy]:
    """The proxy, named by HTTP_PROXY and HTTPS_PROXY; no other proxy setting of the machine's left in place."""
    server = _Proxy()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name in ("http_proxy", "https_proxy", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("HTTPS_PROXY", server.url)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def graph_number(graph: GraphSimulator) -> GraphSimulator:
    graph.add_phone_number(PNID, display_phone_number="15550783881", waba_id=WABA, access_token=GRAPH_TOKEN)
    return graph


def test_graph_calls_go_through_the_proxy(proxy: _Proxy, graph_number: GraphSimulator) -> None:
    client = GraphClient(graph_number.graph_url, timeout=5, media_max_bytes=1000)
    wamid = client.send_message(PNID, GRAPH_TOKEN, TEXT)
    assert client.get(f"/{PNID}", GRAPH_TOKEN, params={"fields": "verified_name"})["verified_name"] == "Acme Support"
    assert proxy.forwarded == [f"POST {graph_number.graph_url}/{PNID}/messages",
                               f"GET {graph_number.graph_url}/{PNID}?fields=verified_name"]  # fmt: skip
    assert graph_number.sent_messages[-1]["wamid"] == wamid and graph_number.sent_messages[-1]["body"] == TEXT


def test_helpdesk_calls_go_through_the_proxy(proxy: _Proxy, helpdesk: HelpdeskSimulator) -> None:
    helpdesk.add_account(1)
    helpdesk.add_user(1, token=HELPDESK_TOKEN)
    client = HelpdeskAdminClient(helpdesk.base_url, timeout=5, media_max_bytes=1000)
    assert [account["id"] for account in client.get_profile(HELPDESK_TOKEN)["accounts"]] == [1]
    assert client.search_contacts(1, HELPDESK_TOKEN, "+55 11") == []
    assert proxy.forwarded == [f"GET {helpdesk.base_url}/api/v1/profile",
                               f"GET {helpdesk.base_url}/api/v1/accounts/1/contacts/search?q=%2B55+11"]  # fmt: skip


def test_https_is_tunnelled_and_verified_against_the_ca_bundle(
    proxy: _Proxy, graph_number: GraphSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    front = _TlsFront(int(urlsplit(graph_number.base_url).port or 0), tmp_path / "graph-ca.pem")
    try:
        graph_url = f"https://127.0.0.1:{front.port}/{graph_number.version}"
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "graph-ca.pem"))
        wamid = GraphClient(graph_url, timeout=5, media_max_bytes=1000).send_message(PNID, GRAPH_TOKEN, TEXT)
        assert graph_number.sent_messages[-1]["wamid"] == wamid
        assert proxy.forwarded == [f"CONNECT 127.0.0.1:{front.port}"]
        monkeypatch.delenv("REQUESTS_CA_BUNDLE")
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)  # so requests trusts only its own bundle
        with pytest.raises(NetworkError, match="connection failed"):
            GraphClient(graph_url, timeout=5, media_max_bytes=1000).send_message(PNID, GRAPH_TOKEN, TEXT)
    finally:
        front.close()


def test_no_proxy_sends_the_host_around_the_proxy(
    proxy: _Proxy, graph_number: GraphSimulator, helpdesk: HelpdeskSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    helpdesk.add_account(1)
    helpdesk.add_user(1, token=HELPDESK_TOKEN)
    GraphClient(graph_number.graph_url, timeout=5, media_max_bytes=1000).send_message(PNID, GRAPH_TOKEN, TEXT)
    assert HelpdeskAdminClient(helpdesk.base_url, timeout=5, media_max_bytes=1000).get_profile(HELPDESK_TOKEN)
    assert proxy.forwarded == []
