"""Built-in supervision_evasion rules: history and log tampering, monitors, firewalls and MAC switched off,
masquerading and rootkits, timestomping, sandbox detection."""
import pytest

from vigiles.analysis.engine import Engine
from vigiles.analysis.rules import SEVERITY_RANK, load
from vigiles.events import from_dict

CATEGORY = "supervision_evasion"
ENGINE = Engine(load())


def alerts(command: str) -> set[str]:
    event = from_dict({"kind": "action", "ts": 0, "tool": "bash", "input": command, "sandbox": "t"})
    return {f.rule for f in ENGINE.analyze(event)
            if f.category == CATEGORY and SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]}


def test_rules_load_cleanly():
    ruleset = load()
    assert ruleset.problems == []
    mine = [r for r in ruleset.rules if r.source.split(" item")[0].endswith("supervision_evasion.yaml")]
    assert len(mine) > 20
    assert all(r.attack for r in mine)
    assert not [r.id for r in mine if r.needles is None and r.per_command]


@pytest.mark.parametrize("command, rule", [
    ("history -c && rm -f ~/.zsh_history", "shell_history_cleared"),
    ("shred -u /root/.bash_history", "shell_history_cleared"),
    ("cat /dev/null > /home/ubuntu/.bash_history", "shell_history_cleared"),
    ("ln -sf /dev/null /root/.bash_history", "shell_history_cleared"),
    ("export HISTFILE=/dev/null", "shell_history_disabled"),
    ("unset HISTFILE HISTSIZE", "shell_history_disabled"),
    ("set +o history", "shell_history_disabled"),
    ("echo 'unset HISTFILE' >> ~/.bashrc", "shell_history_disabled"),
    ("rm -rf /var/log/auth.log /var/log/syslog", "system_logs_cleared"),
    (": > /var/log/wtmp", "system_logs_cleared"),
    ("sudo truncate -s 0 /var/log/audit/audit.log", "system_logs_cleared"),
    ("cp /dev/null /var/log/secure", "system_logs_cleared"),
    ("sudo journalctl --vacuum-time=1s", "system_logs_cleared"),
    ("sed -i 's/^#Storage=.*/Storage=none/' /etc/systemd/journald.conf", "logging_or_audit_config_changed"),
    ("echo '*.* ~' | sudo tee /etc/rsyslog.d/00-drop.conf", "logging_or_audit_config_changed"),
    ("sudo auditctl -e 0", "audit_rules_disabled"),
    ("auditctl -D", "audit_rules_disabled"),
    ("sudo systemctl stop auditd && sudo systemctl disable auditd", "monitoring_service_stopped"),
    ("service rsyslog stop", "monitoring_service_stopped"),
    ("systemctl mask systemd-journald.service", "monitoring_service_stopped"),
    ("sudo systemctl disable --now falcon-sensor", "monitoring_service_stopped"),
    ("chkconfig cbdaemon off", "monitoring_service_stopped"),
    ("systemctl stop crond", "core_service_stopped"),
    ("sudo pkill -9 falco", "monitoring_process_killed"),
    ("kill -9 $(pidof auditd)", "monitoring_process_killed"),
    ("killall -STOP osqueryd", "monitoring_process_killed"),
    ("pip uninstall -y vigiles", "vigiles_removed"),
    ("rm -rf ~/.vigiles", "vigiles_removed"),
    ("sudo mdatp config real-time-protection --value disabled", "security_tool_tampered"),
    ("sudo apt-get purge -y auditd", "security_tool_tampered"),
    ("sudo iptables -P INPUT ACCEPT && sudo iptables -F", "firewall_disabled"),
    ("nft flush ruleset", "firewall_disabled"),
    ("sudo ufw --force disable", "firewall_disabled"),
    ("pfctl -d", "firewall_disabled"),
    ("iptables -D OUTPUT -d 10.0.0.0/8 -j REJECT", "firewall_rules_changed"),
    ("setenforce Permissive", "mac_enforcement_disabled"),
    ("sed -i 's/SELINUX=enforcing/SELINUX=disabled/' /etc/selinux/config", "mac_enforcement_disabled"),
    ("sudo aa-teardown", "mac_enforcement_disabled"),
    ("sysctl -w kernel.randomize_va_space=0", "kernel_protection_weakened"),
    ("echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope", "kernel_protection_weakened"),
    ("echo b > /proc/sysrq-trigger", "sysrq_trigger"),
    ("aws cloudtrail stop-logging --name main", "cloud_logging_disabled"),
    ("gcloud logging sinks delete audit-sink", "cloud_logging_disabled"),
    ("touch -r /bin/ls /usr/local/bin/helper", "file_timestamps_forged"),
    ("touch -t 202001010000 payload.sh", "file_timestamps_forged"),
    ("date -s '2020-01-01 00:00:00'", "system_clock_set"),
    ("cp /bin/bash /tmp/kworker", "system_binary_copied_to_new_name"),
    ("cp $(which sh) $HOME/.cache/crond", "system_binary_copied_to_new_name"),
    ("/tmp/.x/sshd -D", "program_run_from_hidden_or_temp_with_daemon_name"),
    ("$HOME/.../run --quiet", "program_run_from_hidden_or_temp_with_daemon_name"),
    ("mkdir -p '/var/tmp/. '", "deceptive_directory_created"),
    ("cp miner /dev/shm/.x && /dev/shm/.x", "hidden_file_in_shared_memory"),
    ("exec -a '[kworker/0:2]' ./miner", "process_name_spoofed"),
    ("python3 -c \"import setproctitle; setproctitle.setproctitle('sshd: root')\"", "process_name_spoofed"),
    ("mount --bind /proc/1 /proc/4242", "process_hidden_by_bind_mount"),
    ("echo /tmp/.l/libhide.so > /etc/ld.so.preload", "dynamic_linker_preload_hijack"),
    ("LD_PRELOAD=/dev/shm/hook.so /usr/bin/top", "dynamic_linker_preload_hijack"),
    ("sudo insmod ./hider.ko", "kernel_module_loaded"),
    ("sudo modprobe reptile_module", "kernel_module_loaded"),
    ("git clone https://github.com/m0nad/Diamorphine && cd Diamorphine && make", "rootkit_named"),
    ("systemd-detect-virt --vm", "vm_or_sandbox_detection"),
    ("cat /sys/class/dmi/id/product_name", "vm_or_sandbox_detection"),
    ("grep -q hypervisor /proc/cpuinfo && echo vm", "vm_or_sandbox_detection"),
    ("sudo dmidecode -s system-product-name | grep -i virtualbox", "vm_or_sandbox_detection"),
])
def test_detected(command, rule):
    assert rule in alerts(command)


@pytest.mark.parametrize("command", [
    "history",
    "history | tail -20",
    "cat ~/.bashrc",
    "echo 'export HISTCONTROL=ignoredups' >> notes.txt",
    "export HISTSIZE=10000",
    "tail -n 100 /var/log/syslog",
    "grep -i error /var/log/nginx/error.log",
    "echo started >> /var/log/myapp.log",
    "./server > /var/log/server.out 2>&1",
    "journalctl -u nginx --since today",
    "sudo systemctl restart nginx",
    "systemctl status auditd",
    "sudo systemctl start rsyslog",
    "kill %1",
    "pkill -f 'python train.py'",
    "killall node",
    "sudo ufw allow 22/tcp",
    "sudo ufw status verbose",
    "sudo iptables -L -n",
    "sudo iptables-save > /etc/iptables/rules.v4",
    "getenforce",
    "sestatus",
    "touch newfile.txt",
    "touch -c build/stamp",
    "date +%Y-%m-%d",
    "date -u -Iseconds",
    "cp /bin/bash ./bash-copy-for-tests/bash",
    "mkdir -p build/output",
    "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 ./server",
    "modprobe -r nvidia_uvm",
    "sudo modprobe br_netfilter",
    "lsmod | grep nvidia",
    "dmidecode -t memory",
    "cat /proc/cpuinfo | grep 'model name'",
    "singularity exec image.sif python run.py",
    "sync; echo 3 | sudo tee /proc/sys/vm/drop_caches",
    "sudo swapoff -a",
])
def test_not_alerted(command):
    assert alerts(command) == set()
