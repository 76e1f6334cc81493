"""What `tessera demo` shows: the summary tables (rich) and the PNG charts (matplotlib, Agg backend)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display; before pyplot is imported

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tessera.demo_data import BAD_SPELL, DAYS  # noqa: E402

COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}%}"


def _num(value: float | None, digits: int = 0, prefix: str = "") -> str:
    return "–" if value is None else f"{prefix}{value:,.{digits}f}"


def _money(value: float) -> str:
    return f"{'-' if value < 0 else '+'}€{abs(value):,.0f}"


def print_summary(results: dict[str, Any], console: Console) -> None:
    """Every table of the summary, one after the other."""
    console.rule(f"Tessera demo: {results['customers']} customers over six simulated months (seed {results['seed']})")
    for note in results["notes"]:
        console.print(note, style="dim", soft_wrap=True)
    for table in (_segments(results), _clusters(results), _models(results), _campaign(results),
                  _engagement(results), _funnel(results)):  # fmt: skip
        console.print(table)
    clustering = results["clustering"]
    console.print(
        f"[bold]Adjusted Rand index[/bold] of the clusters against the planted personas: "
        f"[bold green]{clustering['adjusted_rand']:.3f}[/bold green] (k = {clustering['k']} chosen by silhouette "
        f"{clustering['silhouette']:.2f}, {clustering['compared']} customers)",
        soft_wrap=True,
    )
    for line in _uplift_lines(results["campaign"]["results"]):
        console.print(line, soft_wrap=True)


def _segments(results: dict[str, Any]) -> Table:
    table = Table(title="Segments (segment reports)")
    for column in ("segment", "size", "revenue", "per customer", "buyers", "avg CLV", "avg sentiment", "email ok"):
        table.add_column(column, justify="left" if column == "segment" else "right")
    for s in results["segments"]:
        table.add_row(s["name"], str(s["size"]), _num(s["revenue"], 0, "€"), _num(s["revenue_per_customer"], 2, "€"),
                      _pct(s["conversion_rate"], 0), _num(s["average_clv"], 2, "€"), _num(s["average_sentiment"], 2),
                      _pct(s["email_consent_share"], 0))  # fmt: skip
    return table


def _clusters(results: dict[str, Any]) -> Table:
    table = Table(title="Clusters (k-means on " + ", ".join(results["clustering"]["features"]) + ")")
    for column in ("cluster", "size", "mostly (planted)", "how it differs from the average"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for c in results["clustering"]["clusters"]:
        table.add_row(c["suggested_name"], str(c["size"]), f"{c['persona']} ({c['persona_share']:.0%})",
                      c["description"])  # fmt: skip
    return table


def _models(results: dict[str, Any]) -> Table:
    clv, rfm = results["clv"], results["rfm"]
    bg, gg = clv["bgnbd"], clv["gamma_gamma"]
    table = Table(title=f"Lifetime value (calibration end {clv['calibration_end']}, per {clv['time_unit'][:-1]}) "
                  f"and RFM")  # fmt: skip
    table.add_column("model")
    table.add_column("parameters")
    table.add_column("log-likelihood", justify="right")
    table.add_row("BG/NBD", f"r={bg['r']:.3f}  α={bg['alpha']:.3f}  a={bg['a']:.3f}  b={bg['b']:.3f}",
                  f"{bg['log_likelihood']:.1f}")  # fmt: skip
    steady = "  (p→∞: each customer's spend is steady, CLV uses their own average)" if "p → ∞" in gg["boundary"] else ""
    table.add_row("Gamma-Gamma", f"p={gg['p']:.4g}  q={gg['q']:.3f}  γ={gg['gamma']:.4g}{steady}",
                  f"{gg['log_likelihood']:.1f}")  # fmt: skip
    ranked = sorted(rfm["segments"], key=lambda s: -s["customers"])[:6]
    table.add_row("RFM", ", ".join(f"{s['segment']} {s['customers']}" for s in ranked), "")
    return table


def _campaign(results: dict[str, Any]) -> Table:
    found = results["campaign"]["results"]
    table = Table(title=f"Win-back campaign to lapsed customers ({found['attribution']['model']}, "
                  f"{found['attribution']['window_days']}-day window)")  # fmt: skip
    for column in ("arm", "users", "sent", "opens (human/machine)", "clicks", "click rate", "orders", "conv. rate",
                   "revenue"):  # fmt: skip
        table.add_column(column, justify="left" if column == "arm" else "right")
    arms = [(v["name"], v) for v in found["variants"]] + (
        [("holdout (10%)", found["holdout"])] if found["holdout"] else []
    )
    for name, arm in arms:
        opens = f"{arm['human_opens']}/{arm['machine_opens']}"
        table.add_row(name, str(arm["users"]), str(arm["sent"]), opens, str(arm["clicks"]), _pct(arm["click_rate"]),
                      str(arm["conversions"]), _pct(arm["conversion_rate"]), _num(arm["revenue"], 0, "€"))  # fmt: skip
    return table


def _uplift_lines(found: dict[str, Any]) -> list[str]:
    """The lift against the holdout and between the variants, in words."""
    versus = found.get("versus_holdout") or {}
    points, lift = ((versus.get("conversion_rate") or {}).get(kind) or {} for kind in ("absolute", "relative"))
    if not points.get("computable"):
        why = points.get("reason") or versus.get("reason", "no holdout")
        holdout = found.get("holdout") or {}
        told = f"; {holdout['conversions']} of {holdout['users']} held out ordered" if holdout.get("users") else ""
        return [f"Uplift against the holdout: not computable ({why}{told})", *_between_lines(found)]
    relative = (f", relative {lift['lift']:+.0%} ({lift['ci_low']:+.0%} to {lift['ci_high']:+.0%}, "
                f"p = {lift['p_value']:.3f})" if lift.get("computable") else "")  # fmt: skip
    line = (f"[bold]Uplift[/bold] of the conversion rate against the holdout: {points['lift'] * 100:+.1f} points "
            f"(95% interval {points['ci_low'] * 100:+.1f} to {points['ci_high'] * 100:+.1f}, "
            f"p = {points['p_value']:.3f}){relative}; incremental orders {versus['incremental_conversions']:.1f}, "
            f"revenue {_money(versus['incremental_revenue'])}")  # fmt: skip
    return [line, *_between_lines(found)]


def _between_lines(found: dict[str, Any]) -> list[str]:
    names = {v["variant_id"]: v["name"] for v in found["variants"]}
    return [f"{names[pair['variant_id']]} vs the first variant: conversion {pair['conversion_rate']['lift']:+.0%}, "
            f"chance to beat it {pair['chance_to_beat_control']:.0%}"
            for pair in found.get("between_variants") or [] if pair["conversion_rate"].get("computable")]  # fmt: skip


def _engagement(results: dict[str, Any]) -> Table:
    total, names = results["feedback"]["total"], {s["segment_id"]: s["name"] for s in results["segments"]}
    table = Table(title="Engagement and sentiment")
    table.add_column("what")
    table.add_column("figures")
    shares = total["sentiment"]
    mix = ", ".join(f"{label} {_pct(shares[label]['share'], 0)}" for label in ("positive", "neutral", "negative"))
    table.add_row("feedback (reviews, comments, surveys)",
                  f"{total['items']} items, mean sentiment {_num(total['mean_compound'], 3)}; {mix}")  # fmt: skip
    for group in results["feedback"]["groups"]:
        if group["key"] in names:
            table.add_row(f"  in {names[group['key']]}", f"{group['items']} items, mean sentiment "
                          f"{_num(group['mean_compound'], 3)}")  # fmt: skip
    social = results["engagement"]["total"]
    table.add_row("our social posts", f"{social['posts']} posts, reach {social['reach']:,}, engagement rate by reach "
                  f"{_pct(social['engagement_rate_by_reach'])}, CTR {_pct(social['ctr'])}")  # fmt: skip
    anna = results["influencer"]
    table.add_row("influencer @anna.style", f"{anna['orders']} orders and €{anna['revenue']:,.0f} through her code "
                  f"and campaign; {anna['sessions']} sessions")  # fmt: skip
    return table


def _funnel(results: dict[str, Any]) -> Table:
    table = Table(title="Funnel of the last 30 days (each step within 7 days of the first visit)")
    for column in ("step", "people", "from previous", "from first"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for step in results["funnel"]["steps"]:
        table.add_row(_step_name(step), str(step["people"]), _pct(step["conversion_from_previous"]),
                      _pct(step["conversion_from_first"]))  # fmt: skip
    return table


def _step_name(step: dict[str, Any]) -> str:
    return str(step["event"]) if step["event"] else "Home page visit" if step["page"] == "/" else f"Page {step['page']}"


def write_charts(results: dict[str, Any], out: Path) -> list[Path]:
    """The five PNG charts under `out`; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    drawings = {"segments.png": _chart_segments, "clusters.png": _chart_clusters, "uplift.png": _chart_uplift,
                "sentiment.png": _chart_sentiment, "funnel.png": _chart_funnel}  # fmt: skip
    paths = []
    for name, draw in drawings.items():
        figure = draw(results)
        figure.tight_layout()
        figure.savefig(out / name, dpi=110)
        plt.close(figure)
        paths.append(out / name)
    return paths


def _chart_segments(results: dict[str, Any]) -> Any:
    segments = results["segments"]
    names = [s["name"] for s in segments][::-1]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    left.barh(names, [s["size"] for s in segments][::-1], color=COLOURS[0])
    left.set_title("Members")
    right.barh(names, [s["revenue"] for s in segments][::-1], color=COLOURS[2])
    right.set_title("Revenue (€)")
    right.xaxis.set_major_formatter(lambda value, _: f"€{value / 1000:,.0f}k")
    for axis in (left, right):
        axis.bar_label(axis.containers[0], fmt="{:,.0f}", padding=3, fontsize=8)
        axis.margins(x=0.2)
        axis.spines[["top", "right"]].set_visible(False)
    figure.suptitle("Segments: size and revenue")
    return figure


def _chart_clusters(results: dict[str, Any]) -> Any:
    clustering = results["clustering"]
    features, clusters = clustering["features"], clustering["clusters"]
    z = np.array([[c["z_scores"][f] for f in features] for c in clusters])
    figure, axis = plt.subplots(figsize=(10, 1.2 + 0.7 * len(clusters)))
    image = axis.imshow(z, cmap="RdBu_r", vmin=-2.5, vmax=2.5, aspect="auto")
    axis.set_xticks(range(len(features)), [f.replace("_", " ") for f in features], rotation=20, ha="right")
    axis.set_yticks(range(len(clusters)), [f"{c['suggested_name']} (n={c['size']})" for c in clusters])
    for (i, j), value in np.ndenumerate(z):
        axis.text(
            j, i, f"{value:+.1f}", ha="center", va="center", fontsize=8, color="white" if abs(value) > 1.5 else "black"
        )
    figure.colorbar(image, ax=axis, label="σ from the average")
    axis.set_title(
        f"Cluster profiles (z-scores); adjusted Rand index vs planted personas {clustering['adjusted_rand']:.2f}"
    )
    return figure


def _chart_uplift(results: dict[str, Any]) -> Any:
    found = results["campaign"]["results"]
    versus = found.get("versus_holdout") or {}
    absolute = [("conversion rate\nvs holdout", (versus.get("conversion_rate") or {}).get("absolute") or {})]
    relative = [
        (f"{label}\nvs holdout", (versus.get(metric) or {}).get("relative") or {})
        for label, metric in (("conversion rate", "conversion_rate"), ("revenue per user", "revenue_per_user"))
    ]
    relative += [("conversion rate\nB vs A", pair["conversion_rate"]) for pair in found.get("between_variants") or []]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1, 2.4]})
    _error_bars(left, absolute, "lift (percentage points)", "{:+.1f} pt")
    _error_bars(right, relative, "relative lift (%)", "{:+.0f}%")
    figure.suptitle("Win-back campaign: lift with 95% intervals")
    return figure


def _error_bars(axis: Any, tests: list[tuple[str, dict[str, Any]]], label: str, text: str) -> None:
    """One point per computable test with its 95% interval (in %), its value and p-value beside it."""
    shown = [(name, test) for name, test in tests if test.get("computable")]
    for i, (_, test) in enumerate(shown):
        lift, low, high = (test[k] * 100 for k in ("lift", "ci_low", "ci_high"))
        axis.errorbar(i, lift, yerr=[[lift - low], [high - lift]], fmt="o", capsize=8, color=COLOURS[i])
        axis.annotate(f"{text.format(lift)}\np={test['p_value']:.3f}", (i, lift), xytext=(12, 0),
                      textcoords="offset points", fontsize=8, va="center")  # fmt: skip
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set_xticks(range(len(shown)), [name for name, _ in shown], fontsize=8)
    axis.set_xlim(-0.6, max(len(shown), 1) - 0.1)
    axis.set_ylabel(label)


def _chart_sentiment(results: dict[str, Any]) -> Any:
    daily = [d for d in results["feedback"]["total"]["daily"] if d["mean_compound"] is not None]
    days = np.array([date.fromisoformat(d["day"]) for d in daily])
    counts = np.array([d["count"] for d in daily], dtype=float)
    means = np.array([d["mean_compound"] for d in daily], dtype=float)
    weeks = np.array([(d - days.min()).days // 7 for d in days]) if len(days) else np.array([], dtype=int)
    figure, axis = plt.subplots(figsize=(10, 4))
    if len(days):
        starts = [days.min() + timedelta(weeks=int(w)) for w in np.unique(weeks)]
        weekly = [np.average(means[weeks == w], weights=counts[weeks == w]) for w in np.unique(weeks)]
        axis.plot(starts, weekly, marker="o", color=COLOURS[0], label="weekly mean sentiment (VADER compound)")
        spell = [results["today"] - timedelta(days=DAYS - d) for d in BAD_SPELL]
        axis.axvspan(spell[0], spell[1], color=COLOURS[3], alpha=0.12, label="late deliveries")
        twin = axis.twinx()
        twin.bar(starts, [counts[weeks == w].sum() for w in np.unique(weeks)], width=5, alpha=0.2, color="grey")
        twin.set_ylabel("feedback items per week")
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set_ylabel("mean compound score")
    axis.legend(loc="lower left", fontsize=8)
    axis.set_title("Sentiment of reviews, comments and survey answers")
    figure.autofmt_xdate()
    return figure


def _chart_funnel(results: dict[str, Any]) -> Any:
    steps = results["funnel"]["steps"]
    names = [_step_name(s) for s in steps]
    people = [s["people"] for s in steps]
    figure, axis = plt.subplots(figsize=(8, 4))
    top = max(people + [1])
    for i, (name, n) in enumerate(zip(names, people, strict=True)):
        axis.barh(i, n, left=(top - n) / 2, color=COLOURS[i % len(COLOURS)], height=0.7)
        share = f" ({n / people[0]:.0%})" if people[0] else ""
        axis.text(top / 2, i, f"{name}: {n:,}{share}", ha="center", va="center", fontsize=9, color="white")
    axis.invert_yaxis()
    axis.axis("off")
    axis.set_title("Funnel, last 30 days: first visit → product → basket → order (within 7 days)")
    return figure
