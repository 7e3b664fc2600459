"""Built-in reconnaissance rules: scanning, host discovery, sniffing, wordlist scans."""
import pytest

from rulecheck import category_alerts, check_category_loads

CATEGORY = "reconnaissance"
alerts = category_alerts(CATEGORY)


def test_rules_load_cleanly():
    check_category_loads(CATEGORY, minimum=1)


@pytest.mark.parametrize("command, rule", [
    ('nmap -sV -p- 10.0.0.0/24', 'network_scanner'),
    ('sudo masscan 172.16.0.0/12 -p22,80 --rate 5000', 'network_scanner'),
    ('nc -zv 10.0.0.5 20-1024', 'netcat_port_scan'),
    ('for p in $(seq 1 1024); do timeout 1 bash -c "echo > /dev/tcp/10.0.0.5/$p" && echo $p; done', 'dev_tcp_port_probe'),
    ('python3 -c \'import socket\nfor p in range(1,1025):\n s=socket.socket(); r=s.connect_ex(("10.0.0.5",p))\'', 'interpreter_port_scan'),
    ('for i in {1..254}; do ping -c1 -W1 10.1.2.$i & done', 'ping_sweep'),
    ('fping -a -g 192.168.0.0/24', 'packet_crafting_scan'),
    ('ip neigh show', 'neighbour_table_discovery'),
    ('arp -an', 'neighbour_table_discovery'),
    ('ip -4 n', 'neighbour_table_discovery'),  # an option between: no `ip n` in the text
    ('dig axfr corp.example.com @ns1.corp.example.com', 'lateral_discovery_commands'),
    ('tcpdump -i any -w /tmp/cap.pcap port 80', 'packet_capture'),
    ('tshark -i eth0 -Y http.authorization', 'packet_capture'),
    ("python3 -c 'import socket; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(3))'", 'raw_socket_capture_code'),
    ('sudo ./rawsniffer -i eth0', 'packet_capture_program'),
    ('ffuf -w words.txt -u http://10.0.0.5/FUZZ', 'web_wordlist_scan'),
    ('gobuster dir -u http://intranet.local -w /usr/share/wordlists/dirb/common.txt', 'web_wordlist_scan'),
    ('ip link set eth0 promisc on', 'promiscuous_mode'),
    ("pgrep -l 'auditd|osqueryd'", "security_software_discovery"),
    ("systemctl is-active falco wazuh-agent 2>/dev/null", "security_software_discovery"),
    ("kubectl auth can-i --list", "cloud_permissions_enumerated"),
    ("aws iam get-account-authorization-details > iam.json", "cloud_permissions_enumerated"),
    ("az role assignment list --assignee me@example.com", "cloud_permissions_enumerated"),
    ("python3 -c \"import socket as s\nfor p in range(20, 1024):\n    c = s.socket(); c.settimeout(0.2)\n    if not c.connect_ex(('10.1.1.1', p)): print(p)\"", "interpreter_port_scan"),
    ("awk '$1 == \"Host\" {print $2}' ~/.ssh/config", "lateral_discovery_commands"),
])
def test_detected(command, rule):
    assert rule in alerts(command)


@pytest.mark.parametrize("command", [
    'ip addr',
    'ip route show',
    'ping -c 3 example.com',
    'ss -tlnp',
    'cat /etc/hosts',
    'nmap --version',
    'tcpdump -r capture.pcap',
    'tshark -r trace.pcapng -q -z io,stat,1',
    'nc -zv localhost 5432',
    'hostname -I',
    'dig +short example.com',
    'ip neigh flush dev eth0',
    'sudo ip n f dev eth0',
    'editcap -c 1000 big.pcap small.pcap',
    'systemctl status falco',
    'pgrep -f gunicorn',
    'kubectl auth can-i create pods',
    'aws s3 ls',
    'grep -n IdentityFile ~/.ssh/config',
    'sinfo',
])
def test_benign_not_alerted(command):
    assert alerts(command) == set()


@pytest.mark.parametrize("command", [
    "sudo bpftool prog list",
    "bpftool link show",
    "bpftool prog",
    "cat /sys/kernel/debug/kprobes/list",
    "ls -la /sys/fs/bpf/",
    "cat /sys/kernel/debug/tracing/kprobe_events",
    "sudo auditctl -l",
])
def test_kernel_monitors_listed_is_recorded_not_alerted(command):
    """An administrator's routine, and what comes before detaching them: low, in the timeline."""
    from rulecheck import ENGINE
    from vigiles.events import from_dict
    found = {f.rule: f.severity for f in ENGINE.analyze(from_dict({
        "kind": "action", "ts": 0, "tool": "bash", "sandbox": "bpf", "input": command}))}
    assert found.get("kernel_monitors_listed") == "low"
    assert alerts(command) == set()


def test_loading_a_bpf_program_is_not_listing_one():
    from rulecheck import ENGINE
    from vigiles.events import from_dict
    found = {f.rule for f in ENGINE.analyze(from_dict({
        "kind": "action", "ts": 0, "tool": "bash", "sandbox": "bpf", "input": "bpftool prog load x.o /sys/fs/bpf/x"}))}
    assert "kernel_monitors_listed" not in found
