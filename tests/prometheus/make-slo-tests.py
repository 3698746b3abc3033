#!/usr/bin/env python3
"""Writes slo-rules.test.yml: `promtool test rules` cases for the rules `syncd slo-rules` generates
(docs/slo.md). Synthetic syncd_rtt_seconds series, one per region, 600 pongs a minute; in a bad
minute every pong is above 0.2 s, in a good one under 0.1 s. Each case states the minute the
SRE workbook's rule fires and resolves, and that it does not a minute earlier.

    python3 tests/prometheus/make-slo-tests.py > tests/prometheus/slo-rules.test.yml
"""

PONGS = 600  # a minute


def series(region, bad_minutes, minutes):
    """The four series of one region: buckets 0.1, 0.15, 0.2 (good pongs only), +Inf and _count."""
    good, total, good_values, total_values = 0, 0, [], []
    for t in range(minutes + 1):
        if t > 0:
            total += PONGS
            if t not in bad_minutes:
                good += PONGS
        good_values.append(good)
        total_values.append(total)
    def compress(values):  # runs of a constant step as promtool's "a+bxn"
        out, i = [], 0
        while i < len(values):
            j = i + 1
            step = values[j] - values[i] if j < len(values) else 0
            while j + 1 < len(values) and values[j + 1] - values[j] == step:
                j += 1
            if j >= len(values):
                out.append(str(values[i]))
                break
            out.append(f"{values[i]}+{step}x{j - i}")
            i = j + 1
        return " ".join(out)
    labels = f'region="{region}",server="s1"'
    lines = []
    for le in ("0.1", "0.15", "0.2"):
        lines.append((f'syncd_rtt_seconds_bucket{{{labels},le="{le}"}}', compress(good_values)))
    lines.append((f'syncd_rtt_seconds_bucket{{{labels},le="+Inf"}}', compress(total_values)))
    lines.append((f'syncd_rtt_seconds_count{{{labels}}}', compress(total_values)))
    return lines


def case(title, region, bad, minutes, checks):
    out = [f"  # {title}", "  - interval: 1m", "    input_series:"]
    for s, v in series(region, bad, minutes):
        out.append(f"      - series: '{s}'")
        out.append(f"        values: '{v}'")
    out.append("    alert_rule_test:")
    for minute, name, severity in checks:
        out.append(f"      - eval_time: {minute}m")
        out.append(f"        alertname: {name}")
        if severity is None:
            out.append("        exp_alerts: []")
        else:
            out.append("        exp_alerts:")
            out.append("          - exp_labels:")
            out.append(f"              region: {region}")
            out.append(f"              severity: {severity}")
            out.append("              slo: syncd-latency")
            rate, long, short, spent = WINDOWS[name]
            out.append("            exp_annotations:")
            out.append(f'              summary: "{region}: latency SLO burning at {rate}x or more over {long} and {short}"')
            out.append(f'              description: "p99 RTT above 150 ms in too many minutes of {long} ({spent}); '
                       f'the burn rates are region:syncd_slo_burn_rate:{long} and :{short}."')
            out.append("              runbook_url: https://lifeverse.example/docs/runbooks.html#latency-slo-burning")
    return "\n".join(out)


FAST, BURNING, SLOWLY = "SyncdLatencySloBurningFast", "SyncdLatencySloBurning", "SyncdLatencySloBurningSlowly"
# What each alert says (backend/src/slorules.cpp writes them from liveops::LatencySlo).
WINDOWS = {FAST: ("14.4", "1h", "5m", "2 % of the month's error budget in an hour"),
           BURNING: ("6", "6h", "30m", "5 % of the month's error budget in six hours"),
           SLOWLY: ("1", "3d", "6h", "10 % of the month's error budget in three days")}
cases = []

# 1. A healthy hour and a half, then bad for 30 minutes, then healthy. The fast page needs 14.4x
#    over 1 h (8.64 of 60 minutes: the 9th bad minute) and over 5 min; it resolves when the last
#    5 minutes are good again.
bad = set(range(91, 121))
cases.append(case("fast burn: pages at the 9th bad minute (8.64 of 60), resolves 5 minutes after recovery", "fast", bad, 150, [
    (98, FAST, None), (99, FAST, "page"), (125, FAST, "page"), (126, FAST, None),
    (99, BURNING, None), (99, SLOWLY, None)]))

# 2. A blip: three bad minutes after a healthy hour and a half. The 5-minute rate is high, the
#    hour's is not: no page.
cases.append(case("a 3-minute blip pages nobody", "blip", set(range(91, 94)), 120, [
    (92, FAST, None), (93, FAST, None), (95, FAST, None), (110, FAST, None)]))

# 3. A slow burn: one bad minute in ten for six and a half hours (burn 10). Not fast (an hour is
#    10x, under 14.4), but 6x over 6 h and 30 min: it pages once six hours are covered.
bad = {t for t in range(1, 391) if t % 10 == 0}
cases.append(case("slow burn: 10x pages on the 6 h / 30 min pair once 6 h are covered, never on the fast pair", "slow", bad, 390, [
    (300, BURNING, None), (358, BURNING, None), (359, BURNING, "page"), (390, BURNING, "page"),
    (120, FAST, None), (359, FAST, None)]))

# 4. Budget trickling away: one bad minute an hour (burn 1.7) for three days and a bit: a ticket
#    on the 3 d / 6 h pair once three days are covered; no page.
bad = {t for t in range(1, 4400) if t % 60 == 30}
cases.append(case("1.7x for three days: a ticket once 3 d are covered, no page", "trickle", bad, 4380, [
    (4300, SLOWLY, None), (4318, SLOWLY, None), (4319, SLOWLY, "ticket"), (4380, SLOWLY, "ticket"),
    (4319, FAST, None), (4319, BURNING, None)]))

print("# Generated by tests/prometheus/make-slo-tests.py; run by CTest (slo_rules) as\n"
      "#   syncd slo-rules > slo-rules.yml && promtool test rules slo-rules.test.yml\n"
      "rule_files:\n  - slo-rules.yml\nevaluation_interval: 1m\ntests:")
print("\n".join(cases))
