#!/usr/bin/python3
"""The packages build, unpack into a scratch root, start and validate.

Runs cpack (DEB and TGZ) in the build tree into a temporary folder, then for each Debian package:
control fields and maintainer scripts are there, `dpkg -x` into a scratch root gives binaries that
start and print their version, the desktop file and AppStream metainfo pass their validators.
Usage: test_packages.py BUILD_DIR
"""
import pathlib
import subprocess
import sys
import tarfile
import tempfile

problems = []


def need(condition, what):
    if not condition:
        problems.append(what)
    return condition


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def main():
    build = pathlib.Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp)
        r = run("cpack", "-G", "DEB;TGZ", "-B", str(out), cwd=build)
        if not need(r.returncode == 0, f"cpack failed:\n{r.stdout}\n{r.stderr}"):
            return report()
        debs = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
        tgzs = sorted(p.name for p in out.glob("*.tar.gz"))
        print("built:", ", ".join(sorted(p.name for p in out.glob("*.deb")) + tgzs))
        need(set(debs) == {"lifeverse-console", "lifeverse-syncd"}, f"expected two .deb, got {sorted(debs)}")
        need(any(t.startswith("lifeverse-console-") for t in tgzs) and any(t.startswith("lifeverse-syncd-") for t in tgzs),
             f"expected two archives, got {tgzs}")

        for name, deb in debs.items():
            info = run("dpkg-deb", "--info", str(deb)).stdout
            need("Depends:" in info and "libc6" in info, f"{name}: no computed Depends (dpkg-shlibdeps)")
            root = out / f"root-{name}"
            need(run("dpkg-deb", "-x", str(deb), str(root)).returncode == 0, f"{name}: dpkg -x failed")
            for binary in {"lifeverse-console": ["liveops-console"], "lifeverse-syncd": ["syncd", "syncbot"]}[name]:
                exe = root / "usr" / "bin" / binary
                if not need(exe.exists(), f"{name}: no /usr/bin/{binary}"):
                    continue
                env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": tmp}
                v = run(str(exe), "--version", env=env)
                line = v.stdout.strip().splitlines()[-1] if v.stdout.strip() else v.stderr.strip()
                print(f"{name}: {binary} --version -> {line}")
                need(v.returncode == 0 and line.startswith(f"{binary} ") and "(" in line, f"{name}: {binary} --version printed '{line}'")

        console = out / "root-lifeverse-console"
        desktop = console / "usr/share/applications/io.lifeverse.LiveOpsConsole.desktop"
        metainfo = console / "usr/share/metainfo/io.lifeverse.LiveOpsConsole.metainfo.xml"
        icon = console / "usr/share/icons/hicolor/scalable/apps/io.lifeverse.LiveOpsConsole.svg"
        need(icon.exists() and icon.read_text().lstrip().startswith("<svg"), "console: no SVG icon")
        d = run("desktop-file-validate", str(desktop))
        need(d.returncode == 0 and "error" not in d.stdout.lower(), f"desktop-file-validate: {d.stdout}{d.stderr}")
        a = run("appstreamcli", "validate", "--no-net", str(metainfo))
        need(a.returncode == 0, f"appstreamcli validate: {a.stdout}{a.stderr}")
        print("desktop-file-validate:", "ok" if d.returncode == 0 else "FAILED", "| appstreamcli validate:", a.stdout.strip().splitlines()[-1] if a.stdout.strip() else a.returncode)

        server = out / "root-lifeverse-syncd"
        for path in ("lib/systemd/system/syncd.service", "etc/syncd/syncd.toml", "usr/share/lifeverse-syncd/prometheus/syncd-slo.yml",
                     "usr/share/lifeverse-syncd/prometheus/alertmanager-routing.yml"):
            need((server / path).exists(), f"syncd: no /{path}")
        rules = server / "usr/share/lifeverse-syncd/prometheus/syncd-slo.yml"
        if rules.exists():
            c = run("promtool", "check", "rules", str(rules))
            need(c.returncode == 0, f"promtool check rules on the packaged rules: {c.stdout}{c.stderr}")
        control = out / "control-syncd"
        run("dpkg-deb", "-e", str(debs.get("lifeverse-syncd", "")), str(control))
        for script in ("postinst", "prerm", "postrm", "conffiles"):
            need((control / script).exists(), f"syncd: no {script} in the control archive")
        if (control / "conffiles").exists():
            need("/etc/syncd/syncd.toml" in (control / "conffiles").read_text(), "syncd: syncd.toml is not a conffile")
        if (control / "postinst").exists():
            text = (control / "postinst").read_text()
            need("adduser --system" in text, "syncd: postinst makes no system user")
            need(run("sh", "-n", str(control / "postinst")).returncode == 0, "syncd: postinst is not valid sh")
        for archive in out.glob("*.tar.gz"):
            with tarfile.open(archive) as t:
                names = t.getnames()
            want = "usr/bin/liveops-console" if "console" in archive.name else "usr/bin/syncd"
            need(any(n.endswith(want) for n in names), f"{archive.name}: no {want}")
    return report()


def report():
    for p in problems:
        print("PROBLEM:", p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
