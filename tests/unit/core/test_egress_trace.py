"""The strace parser behind the egress tests and ``greenpair audit``, on recorded lines.

The lines are copied from real ``strace -f --decode-pids=comm -o FILE`` runs (strace 6.1)
and from strace's stderr form (``[pid N]``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.egress import (
    Attempt,
    egress_attempts,
    is_loopback_address,
    parse_line,
    parse_trace,
    read_egress,
    traced_argv,
)
from greenpair.core.errors import PrivacyError

DNS_V4 = ('7397<python3> connect(3, {sa_family=AF_INET, sin_port=htons(53), '
          'sin_addr=inet_addr("10.255.255.53")}, 16) = -1 ENETUNREACH (Network is unreachable)')
DNS_QUERY = ('7397<python3> sendmmsg(3, [{msg_hdr={msg_name=NULL, msg_namelen=0, '
             'msg_iov=[{iov_base="rl\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\7example\\3com\\0\\0\\1\\0\\1", '
             'iov_len=29}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=29}], 2, '
             'MSG_NOSIGNAL) = 2')
ORT_DNS = ('4242<python> sendto(17, "\\252\\21\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\6mobile\\6events\\4data"'
           '..., 49, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), '
           'sin_addr=inet_addr("127.0.0.53")}, 16) = -1 ENETUNREACH (Network is unreachable)')
V6_OUT = ('7326<python3> sendto(3, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(443), '
          'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), '
          'sin6_scope_id=0}, 28) = -1 ENETUNREACH (Network is unreachable)')
V4_MAPPED_LOOPBACK = ('7326<python3> sendto(3, "x", 1, 0, {sa_family=AF_INET6, '
                      'sin6_port=htons(9), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, '
                      '"::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 1')
V4_MAPPED_OUT = V4_MAPPED_LOOPBACK.replace("::ffff:127.0.0.1", "::ffff:93.184.216.34")
V6_LOOPBACK = ('88  connect(5, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), '
               'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0')
LOOPBACK = ('88  connect(5, {sa_family=AF_INET, sin_port=htons(11434), '
            'sin_addr=inet_addr("127.0.0.1")}, 16) = 0')
UNIX = ('7397<python3> connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) '
        '= -1 ENOENT (No such file or directory)')
ABSTRACT = ('501<greenpair> connect(9, {sa_family=AF_UNIX, sun_path=@"/tmp/.X11-unix/X7"}, 20) '
            '= -1 ECONNREFUSED (Connection refused)')
NETLINK = ('501<python3> sendto(4, [{nlmsg_len=20, nlmsg_type=RTM_GETADDR, '
           'nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, nlmsg_seq=1, nlmsg_pid=0}, '
           '{ifa_family=AF_UNSPEC}], 20, 0, {sa_family=AF_NETLINK, nl_pid=0, '
           'nl_groups=00000000}, 12) = 20')
UNSPEC = ('501<python3> connect(6, {sa_family=AF_UNSPEC, sa_data="\\0\\0\\0\\0"}, 16) = 0')
UNFINISHED = ('1203<ort-worker> connect(21, {sa_family=AF_INET, sin_port=htons(443), '
              'sin_addr=inet_addr("13.69.239.73")}, 16 <unfinished ...>')
RESUMED = '1203<ort-worker> <... connect resumed>) = -1 ENETUNREACH (Network is unreachable)'
STDERR_FORM = ('[pid  1203] connect(21, {sa_family=AF_INET, sin_port=htons(443), '
               'sin_addr=inet_addr("13.69.239.73")}, 16) = -1 ENETUNREACH (Network is unreachable)')
SENDMSG = ('77<curl> sendmsg(5, {msg_name={sa_family=AF_INET, sin_port=htons(123), '
           'sin_addr=inet_addr("192.0.2.9")}, msg_namelen=16, msg_iov=[{iov_base="\\33", '
           'iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 1')
CONNECTED_SEND = '77<curl> sendto(5, "GET / HTTP/1.1\\r\\n"..., 78, MSG_NOSIGNAL, NULL, 0) = 78'
PAYLOAD_TRAP = ('77<py> sendto(3, "x\\"}{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_'
                'addr(\\"8.8.8.8\\")}", 60, 0, {sa_family=AF_INET, sin_port=htons(9), '
                'sin_addr=inet_addr("127.0.0.1")}, 16) = 60')


def test_dns_over_ipv4_is_egress_with_who_and_how_it_ended() -> None:
    [attempt] = parse_line(DNS_V4)
    assert attempt == Attempt(pid=7397, command="python3", syscall="connect", family="AF_INET",
                              address="10.255.255.53", port=53,
                              result="-1 ENETUNREACH (Network is unreachable)")
    assert attempt.is_egress
    assert "(DNS)" in attempt.describe()
    assert attempt.to_json()["port"] == 53


def test_dns_to_a_loopback_resolver_stub_still_counts() -> None:
    [attempt] = parse_line(ORT_DNS)
    assert (attempt.address, attempt.port, attempt.syscall) == ("127.0.0.53", 53, "sendto")
    assert attempt.is_egress


def test_ipv6_and_v4_mapped_addresses() -> None:
    [out] = parse_line(V6_OUT)
    assert (out.family, out.address, out.port) == ("AF_INET6", "2001:db8::1", 443)
    assert out.is_egress
    assert "[2001:db8::1]:443" in out.describe()
    [mapped_loopback] = parse_line(V4_MAPPED_LOOPBACK)
    assert not mapped_loopback.is_egress
    [mapped_out] = parse_line(V4_MAPPED_OUT)
    assert mapped_out.is_egress
    [v6_loopback] = parse_line(V6_LOOPBACK)
    assert v6_loopback.pid == 88
    assert v6_loopback.command == ""
    assert not v6_loopback.is_egress


def test_loopback_unix_netlink_and_unspec_are_recorded_not_attempts() -> None:
    lines = [LOOPBACK, UNIX, ABSTRACT, NETLINK, UNSPEC]
    seen = [a for line in lines for a in parse_line(line)]
    assert [a.family for a in seen] == ["AF_INET", "AF_UNIX", "AF_UNIX", "AF_NETLINK",
                                        "AF_UNSPEC"]
    assert seen[1].address == "/var/run/nscd/socket"
    assert seen[2].address == "@/tmp/.X11-unix/X7"
    assert egress_attempts(lines) == []


def test_unfinished_call_keeps_its_address_and_the_resumed_half_adds_nothing() -> None:
    attempts = egress_attempts([UNFINISHED, RESUMED])
    assert [(a.pid, a.command, a.address, a.port, a.result) for a in attempts] == [
        (1203, "ort-worker", "13.69.239.73", 443, "")]


def test_stderr_form_and_sendmsg() -> None:
    [stderr_form] = parse_line(STDERR_FORM)
    assert (stderr_form.pid, stderr_form.address) == (1203, "13.69.239.73")
    [sendmsg] = parse_line(SENDMSG)
    assert (sendmsg.syscall, sendmsg.address, sendmsg.port) == ("sendmsg", "192.0.2.9", 123)
    assert sendmsg.is_egress


def test_sends_without_a_destination_and_other_lines_name_nothing() -> None:
    assert parse_line(CONNECTED_SEND) == []
    assert parse_line(DNS_QUERY) == []  # its socket's connect() is the recorded attempt
    assert parse_line("1203<python3> +++ exited with 0 +++") == []
    assert parse_line("1203 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---") == []
    assert parse_line("") == []


def test_payload_text_cannot_forge_or_hide_an_address() -> None:
    [attempt] = parse_line(PAYLOAD_TRAP)
    assert (attempt.address, attempt.port) == ("127.0.0.1", 9)
    assert not attempt.is_egress


def test_exotic_families_count_as_egress() -> None:
    line = ('9 sendto(3, "", 0, 0, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), '
            'sll_ifindex=2}, 20) = 0')
    [attempt] = parse_line(line)
    assert attempt.family == "AF_PACKET"
    assert attempt.is_egress


@pytest.mark.parametrize(("text", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("10.0.0.1", False), ("::ffff:10.0.0.1", False), ("fe80::1%eth0", False), ("", False),
    ("localhost", False),  # the trace holds addresses; a name here is not trusted
])
def test_is_loopback_address(text: str, loopback: bool) -> None:
    assert is_loopback_address(text) is loopback


def test_a_missing_trace_is_an_error_not_a_clean_result(tmp_path: Path) -> None:
    with pytest.raises(PrivacyError, match="not written"):
        read_egress(tmp_path / "nothing.trace")
    trace = tmp_path / "run.trace"
    trace.write_text("\n".join([UNIX, DNS_V4, UNFINISHED, RESUMED, LOOPBACK]) + "\n")
    assert [a.port for a in read_egress(trace)] == [53, 443]


def test_missing_strace_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrivacyError) as raised:
        traced_argv(["true"], tmp_path / "t.trace")
    assert "strace" in raised.value.message
    assert "apt-get install strace" in (raised.value.hint or "")


# Recorded 2026-12-06 (strace 6.1, this machine): a client speaking nscd's protocol to a
# stub listening at a path with an ordinary name (tests/integration/test_egress_leaks.py
# starts the same stub), a GETAI host request, then a GETPWBYUID user request.
STUB_CONNECT = ('15347<python3> connect(5, {sa_family=AF_UNIX, '
                'sun_path="/tmp/privrec/stub.sock"}, 25) = 0')
STUB_GETAI = ('15347<python3> sendto(5, "\\2\\0\\0\\0\\16\\0\\0\\0\\f\\0\\0\\0example.com\\0", 24, '
              '0, NULL, 0) = 24')
STUB_GETPWUID = ('15347<python3> sendto(5, "\\2\\0\\0\\0\\1\\0\\0\\0\\2\\0\\0\\0000\\0", 14, 0, '
                 'NULL, 0) = 14')
DBUS_RESOLVE1 = ('15347<python3> sendto(4, "l\\0\\1\\1\\0\\0\\0\\0\\1\\0\\0\\0o\\0\\0\\0\\0\\0\\0\\0\\37\\0'
                 '\\0\\0/org/freedesktop/resolve1", 49, 0, {sa_family=AF_UNIX, '
                 'sun_path="/tmp/privrec/none.sock"}, 25) = -1 ENOENT (No such file or directory)')
POINTER = '11573<python3> connect(4, 0x10, 16)     = -1 EFAULT (Bad address)'
IO_URING = ('11573<python3> io_uring_setup(8, {flags=0, sq_thread_cpu=0, sq_thread_idle=0, '
            'sq_entries=8, cq_entries=16, features=IORING_FEAT_SINGLE_MMAP|IORING_FEAT_NODROP, '
            'sq_off={head=0, tail=4, ring_mask=16, ring_entries=24, flags=36, dropped=32, '
            'array=320}, cq_off={head=8, tail=12, ring_mask=20, ring_entries=28, overflow=44, '
            'cqes=64, flags=40}}) = 5')
# The same calls at nscd's own path (the recorded lines, path replaced).
NSCD_CONNECT = STUB_CONNECT.replace("/tmp/privrec/stub.sock", "/var/run/nscd/socket")


def test_a_host_lookup_through_nscd_is_an_attempt_and_a_user_lookup_is_not() -> None:
    [lookup] = egress_attempts([NSCD_CONNECT, STUB_GETAI])
    assert (lookup.kind, lookup.address) == ("lookup", "/var/run/nscd/socket")
    assert "example.com" in lookup.reason
    assert egress_attempts([NSCD_CONNECT, STUB_GETPWUID]) == []
    assert [a.kind for a in egress_attempts([NSCD_CONNECT])] == ["lookup"]  # no request seen


def test_a_resolver_at_any_path_is_caught_by_what_is_sent_to_it() -> None:
    records = list(parse_trace([STUB_CONNECT, STUB_GETAI, STUB_CONNECT, STUB_GETPWUID]))
    assert [(r.kind, r.syscall) for r in records] == [
        ("local", "connect"), ("lookup", "sendto"), ("local", "connect")]
    assert records[1].address == "/tmp/privrec/stub.sock"  # the path the fd was connected to
    assert "nscd host request" in records[1].describe()


@pytest.mark.parametrize("path", [
    "/run/nscd/socket", "/run/systemd/resolve/io.systemd.Resolve",
    "/run/dbus/system_bus_socket", "/run/tor/socks", "/tmp/dnsmasq.sock",
])
def test_reaching_a_resolver_or_proxy_socket_is_a_lookup(path: str) -> None:
    connected = NSCD_CONNECT.replace("/var/run/nscd/socket", path)
    [attempt] = egress_attempts([connected])
    assert attempt.kind == "lookup"
    refused = UNIX.replace("/var/run/nscd/socket", path)  # ENOENT: nothing listens
    assert egress_attempts([refused]) == []
    [record] = parse_line(refused)
    assert "nothing listening" in record.reason


def test_a_message_to_resolved_over_any_unix_socket_is_a_lookup() -> None:
    kinds = sorted(a.kind for a in parse_trace([DBUS_RESOLVE1]))
    assert kinds == ["local", "lookup"]


def test_an_undecodable_address_is_an_attempt_not_silence() -> None:
    [pointer] = parse_line(POINTER)
    assert (pointer.kind, pointer.address, pointer.result) == (
        "undecoded", "0x10", "-1 EFAULT (Bad address)")
    assert pointer.is_egress
    short = ('9 connect(3, {sa_family=AF_INET, sa_data="\\0\\0\\0\\0"}, 4) = -1 EINVAL '
             '(Invalid argument)')
    assert [a.kind for a in parse_line(short)] == ["undecoded"]
    unknown = '9 connect(3, {sa_family=0x2b /* AF_??? */, sa_data="\\0"}, 16) = 0'
    assert [a.kind for a in parse_line(unknown)] == ["undecoded"]
    msg_pointer = ('9 sendmsg(3, {msg_name=0x7ffd00001000, msg_namelen=16, msg_iov=[], '
                   'msg_iovlen=0, msg_controllen=0, msg_flags=0}, 0) = -1 EFAULT (Bad address)')
    assert [a.kind for a in parse_line(msg_pointer)] == ["undecoded"]


def test_io_uring_is_recorded_as_a_blind_spot() -> None:
    [ring] = parse_line(IO_URING)
    assert (ring.kind, ring.syscall, ring.result) == ("io_uring", "io_uring_setup", "5")
    assert not ring.is_egress  # not an attempt: a blind spot the audit's verdict refuses
    assert parse_line(IO_URING.replace(") = 5", ") = -1 ENOSYS (Function not implemented)")
                      ) == []


def test_a_listener_with_internet_sockets_is_a_network_peer(tmp_path: Path) -> None:
    import subprocess
    import sys

    from greenpair.core.egress_local import network_peer

    def listener(with_udp: bool) -> subprocess.Popen[str]:
        path = tmp_path / ("net.sock" if with_udp else "plain.sock")
        program = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
                   f"s.bind({str(path)!r}); s.listen()\n"
                   + ("u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                      "u.bind(('0.0.0.0', 0))\n" if with_udp else "")
                   + "print('ready', flush=True); sys.stdin.read()\n")
        proc = subprocess.Popen([sys.executable, "-c", program], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        return proc

    forwarder, plain = listener(True), listener(False)
    try:
        peer = network_peer(str(tmp_path / "net.sock"))
        assert peer is not None
        assert (peer.pid, peer.internet_sockets) == (forwarder.pid, 1)
        assert network_peer(str(tmp_path / "plain.sock")) is None
        assert network_peer(str(tmp_path / "nobody.sock")) is None
    finally:
        for proc in (forwarder, plain):
            proc.communicate("")


def test_sigint_is_sent_only_once_the_command_catches_it() -> None:
    import subprocess
    import sys

    from greenpair.core.egress import catches_sigint

    program = ("import signal, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
               "print('ready', flush=True)\ntime.sleep(30)\n")
    catcher = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    try:
        assert catcher.stdout is not None
        assert catcher.stdout.readline().strip() == "ready"
        assert catches_sigint(catcher.pid)  # Python's KeyboardInterrupt handler
    finally:
        catcher.kill()
        catcher.wait()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        assert not catches_sigint(sleeper.pid)  # default action: it would die, not stop
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not catches_sigint(2**22 + 12345)  # no such process
