#!/usr/bin/python3
"""Every deployment file parses and has what its kind needs.

Kubernetes manifests (packaging/k8s/*.yaml, PyYAML), the configs they embed (TOML, Prometheus
YAML), the container build file and the systemd unit. Exits non-zero naming each problem.
Usage: check_manifests.py PACKAGING_DIR
"""
import configparser
import pathlib
import re
import sys
import tomllib

import yaml

problems = []


def need(condition, where, what):
    if not condition:
        problems.append(f"{where}: {what}")
    return condition


def dig(obj, path):
    for key in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(key)] if key.isdigit() and int(key) < len(obj) else None
        elif isinstance(obj, dict):
            obj = obj.get(key)
        else:
            return None
    return obj


def has(doc, where, *paths):
    for path in paths:
        need(dig(doc, path) is not None, where, f"missing {path}")


def check_pod_template(spec, where):
    containers = dig(spec, "containers") or []
    if need(len(containers) >= 1, where, "no containers"):
        c = containers[0]
        has(c, where, "name", "image")
        need(":" in c.get("image", "") and not c["image"].endswith(":latest"), where, "image needs a pinned tag")
        need(dig(spec, "securityContext.runAsNonRoot") is True, where, "pods must run as non-root")
        need(dig(c, "securityContext.allowPrivilegeEscalation") is False, where, "allowPrivilegeEscalation must be false")
        has(c, where, "resources.requests.cpu", "resources.requests.memory", "resources.limits.memory")


def main():
    root = pathlib.Path(sys.argv[1])
    docs = {}
    for path in sorted((root / "k8s").glob("*.yaml")):
        try:
            loaded = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as e:
            problems.append(f"{path.name}: not YAML: {e}")
            continue
        for i, doc in enumerate(loaded):
            where = f"{path.name}[{i}]"
            has(doc, where, "apiVersion", "kind")
            if doc.get("kind") != "Kustomization":
                has(doc, where, "metadata.name")
            docs.setdefault(doc.get("kind"), []).append((where, doc))
    for kind in ("Fleet", "FleetAutoscaler", "Service", "ServiceMonitor", "ConfigMap", "Kustomization", "PrometheusRule"):
        need(kind in docs, "packaging/k8s", f"no {kind}")

    # The SLO's rules: every alert has a severity the Alertmanager example routes, and a runbook.
    for where, d in docs.get("PrometheusRule", []):
        need(d["apiVersion"] == "monitoring.coreos.com/v1", where, "PrometheusRule is monitoring.coreos.com/v1")
        rules = [r for g in (dig(d, "spec.groups") or []) for r in g.get("rules", [])]
        alerts = [r for r in rules if "alert" in r]
        need(alerts, where, "no alerts")
        for r in alerts:
            need(dig(r, "labels.severity") in ("page", "ticket"), where, f"{r['alert']}: severity page or ticket")
            need(dig(r, "annotations.runbook_url"), where, f"{r['alert']}: a runbook_url")
    routing = root / "syncd" / "alertmanager-routing.yml"
    try:
        am = yaml.safe_load(routing.read_text())
        routed = {m for r in dig(am, "route.routes") or [] for m in r.get("matchers", [])}
        for severity in ("page", "ticket"):
            need(f'severity="{severity}"' in routed, routing.name, f"routes severity {severity}")
        names = {r["name"] for r in am.get("receivers", [])}
        for r in [am["route"]] + (dig(am, "route.routes") or []):
            need(r.get("receiver") in names, routing.name, f"receiver {r.get('receiver')} is defined")
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        problems.append(f"{routing.name}: {e}")

    fleets = {d["metadata"]["name"]: d for _, d in docs.get("Fleet", [])}
    for where, d in docs.get("Fleet", []):
        need(d["apiVersion"] == "agones.dev/v1", where, "Fleet is agones.dev/v1")
        has(d, where, "spec.replicas", "spec.template.spec.ports", "spec.template.spec.health", "spec.template.spec.template.spec")
        ports = dig(d, "spec.template.spec.ports") or []
        for p in ports:
            has(p, where, "name", "containerPort", "portPolicy")
            need(p.get("protocol", "UDP") in ("UDP", "TCP", "TCPUDP"), where, f"port {p.get('name')}: bad protocol")
        need(any(p.get("protocol", "UDP") == "UDP" for p in ports), where, "the game port must be UDP")
        check_pod_template(dig(d, "spec.template.spec.template.spec"), where)
    for where, d in docs.get("FleetAutoscaler", []):
        need(d["apiVersion"] == "autoscaling.agones.dev/v1", where, "FleetAutoscaler is autoscaling.agones.dev/v1")
        need(dig(d, "spec.fleetName") in fleets, where, "fleetName names no Fleet here")
        need(dig(d, "spec.policy.type") in ("Buffer", "Webhook", "Counter", "List"), where, "unknown policy type")
        if dig(d, "spec.policy.type") == "Buffer":
            has(d, where, "spec.policy.buffer.bufferSize", "spec.policy.buffer.maxReplicas")
            need(dig(d, "spec.policy.buffer.minReplicas") <= dig(d, "spec.policy.buffer.maxReplicas"), where, "minReplicas > maxReplicas")
    service_labels, service_ports = [], set()
    for where, d in docs.get("Service", []):
        need(d["apiVersion"] == "v1", where, "Service is v1")
        has(d, where, "spec.selector", "spec.ports")
        for p in dig(d, "spec.ports") or []:
            has(p, where, "name", "port")
            service_ports.add(p.get("name"))
        service_labels.append(dig(d, "metadata.labels") or {})
        pod_labels = dig(next(iter(fleets.values()), {}), "spec.template.spec.template.metadata.labels") or {}
        need(all(pod_labels.get(k) == v for k, v in dig(d, "spec.selector").items()), where, "selector matches no Fleet pod labels")
    for where, d in docs.get("ServiceMonitor", []):
        need(d["apiVersion"] == "monitoring.coreos.com/v1", where, "ServiceMonitor is monitoring.coreos.com/v1")
        match = dig(d, "spec.selector.matchLabels") or {}
        need(any(all(l.get(k) == v for k, v in match.items()) for l in service_labels), where, "selector matches no Service")
        for e in dig(d, "spec.endpoints") or []:
            need(e.get("port") in service_ports, where, f"endpoint port {e.get('port')} is no Service port")
    for where, d in docs.get("ConfigMap", []):
        for name, text in (d.get("data") or {}).items():
            if name.endswith(".toml"):
                try:
                    cfg = tomllib.loads(text)
                    has(cfg, f"{where}:{name}", "syncd.grpc_address", "syncd.token_file", "syncd.token_key_file", "syncd.store", "region.0.name")
                except tomllib.TOMLDecodeError as e:
                    problems.append(f"{where}:{name}: not TOML: {e}")
            elif name.endswith((".yml", ".yaml")):
                cfg = yaml.safe_load(text)
                need(bool(dig(cfg, "scrape_configs.0.job_name")), f"{where}:{name}", "no scrape_configs[0].job_name")
    for where, d in docs.get("Kustomization", []):
        for r in d.get("resources", []):
            need((root / "k8s" / r).exists(), where, f"resource {r} does not exist")

    # The installed default config is TOML with the keys syncd requires.
    cfg = tomllib.loads((root / "syncd" / "syncd.toml").read_text())
    has(cfg, "syncd/syncd.toml", "syncd.grpc_address", "syncd.token_file", "syncd.token_key_file", "syncd.store", "region.0.name", "region.0.udp")

    # The container: multi-stage on Debian 12, runs as a non-root user, starts syncd.
    dockerfile = (root / "container" / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    need(len(froms) >= 2, "Dockerfile", "not multi-stage")
    need(all(f.startswith("debian:12") for f in froms), "Dockerfile", "every stage on debian:12")
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    need(bool(users) and users[-1].split(":")[0] not in ("0", "root"), "Dockerfile", "the final stage must run as non-root")
    need(re.search(r'^ENTRYPOINT\s+\["/usr/bin/syncd"\]', dockerfile, re.M) is not None, "Dockerfile", "ENTRYPOINT is not syncd")

    # The systemd unit: the service runs as its user with sandboxing on.
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(root / "syncd" / "syncd.service")
    service = unit["Service"] if unit.has_section("Service") else {}
    need(service.get("User") == "syncd", "syncd.service", "User=syncd")
    need(service.get("ExecStart", "").startswith("/usr/bin/syncd --config /etc/syncd/syncd.toml"), "syncd.service", "ExecStart")
    for key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "RestrictAddressFamilies", "SystemCallFilter",
                "CapabilityBoundingSet", "StateDirectory"):
        need(key in service, "syncd.service", f"no {key}")
    need(unit.has_option("Install", "WantedBy"), "syncd.service", "no [Install] WantedBy")

    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in {sum(len(v) for v in docs.values())} manifest document(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
