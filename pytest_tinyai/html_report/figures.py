"""The report's figures, drawn with matplotlib onto its Agg canvas (a `Figure` of its own, never pyplot: no global
state, no display) and returned as PNG bytes. One function per figure, each a function of the results document's
records; every text drawn comes from there, so labels are cut to a bounded length first.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from pytest_tinyai.html_report.tiles import decode_tile

DPI = 100
MAX_NAME = 40  # characters of a model id or label in a figure
COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "undecided": "#bf8700"}
MODEL_COLOUR = "#0969da"
BASELINE_COLOUR = "#8250df"
FLOOR_COLOUR = "#cf222e"
TRUTH_OVERLAY = np.array([0.1, 0.85, 0.3])


def short(text: Any, limit: int = MAX_NAME) -> str:
    """A label as a figure shows it: one line, at most `limit` characters."""
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def _finite(values: Sequence[Any]) -> np.ndarray:
    array = np.asarray([v for v in values if isinstance(v, int | float) and math.isfinite(v)], dtype=np.float64)
    return array


def score_histogram(gate: dict[str, Any]) -> bytes:
    """The gate's per-sample scores over its fold as a histogram (the baseline's as an outline on the same bins),
    with the model's mean, the baseline's mean and the floor marked."""
    record, fold = gate["record"], gate["fold"]
    scores = _finite(fold["scores"])
    theirs = _finite(fold.get("baseline_scores", []))
    low = min(0.0, *(scores.min(initial=0.0), theirs.min(initial=0.0)))
    high = max(1.0, *(scores.max(initial=1.0), theirs.max(initial=1.0)))
    bins = np.linspace(low, high, 21)
    figure = Figure(figsize=(5.6, 2.9))
    axes = figure.subplots()
    axes.hist(scores, bins=bins, color=MODEL_COLOUR, alpha=0.75, label=short(record["model"]))
    if theirs.size:
        axes.hist(
            theirs, bins=bins, histtype="step", linewidth=1.6, color=BASELINE_COLOUR, label=short(record["baseline"])
        )
    marks = (
        (record["measured"], MODEL_COLOUR, "-", "mean"),
        (record["baseline_measured"], BASELINE_COLOUR, "--", "baseline mean"),
        (record["floor"], FLOOR_COLOUR, ":", "floor"),
    )
    for value, colour, style, label in marks:
        if isinstance(value, int | float) and math.isfinite(value):
            axes.axvline(value, color=colour, linestyle=style, linewidth=1.6, label=f"{label} {value:.4g}")
    axes.set_xlabel(f"{per_sample_name(record['metric'])} per sample ({len(scores)} of fold {short(record['fold'])})")
    axes.set_ylabel("samples")
    axes.legend(fontsize=7, loc="upper right", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def _overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The image with the truth mask's pixels tinted green."""
    rgb = image.astype(np.float64) / 255.0
    tint = (mask > 127)[..., None]
    return np.where(tint, 0.45 * rgb + 0.55 * TRUTH_OVERLAY, 0.8 * rgb)


def _prediction_overlay(image: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """The image in grey, dimmed, with the predicted probability laid over it in orange (opaque where it is 1)."""
    grey = image.astype(np.float64).mean(axis=2, keepdims=True) / 255.0 * 0.55
    alpha = (probability.astype(np.float64) / 255.0)[..., None]
    return (1.0 - alpha) * np.repeat(grey, 3, axis=2) + alpha * np.array([1.0, 0.55, 0.0])


def _fit(tile: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if tile.shape[:2] != shape[:2]:
        raise ValueError(f"a tile of {list(tile.shape[:2])} pixels does not match its image of {list(shape[:2])}")
    return tile


def per_sample_name(metric: str) -> str:
    """What a metric calls one sample's value: `mean_iou@0.5` is a mean of per-image `IoU@0.5`."""
    name = short(metric, 24).removeprefix("mean_")
    return "IoU" + name[3:] if name.startswith("iou") else name


def worst_samples(gate: dict[str, Any], pictured: list[dict[str, Any]]) -> bytes:
    """One column per worst sample, lowest score first; its rows: the image, the truth over it, the model's
    prediction and the baseline's on the same image, each laid over it with the truth's outline and its score."""
    record = gate["record"]
    has_baseline = any("baseline_prediction" in sample for sample in pictured)
    rows = ["image", "truth", f"{short(record['model'], 22)}"]
    if has_baseline:
        rows.append(f"baseline\n{short(record['baseline'], 22)}")
    figure = Figure(figsize=(0.6 + 1.5 * len(pictured), 1.75 * len(rows)))
    grid = figure.subplots(len(rows), len(pictured), squeeze=False)
    name = per_sample_name(record["metric"])
    for column, sample in enumerate(pictured):
        image = decode_tile(sample["image"], "RGB")
        truth = _fit(decode_tile(sample["truth"], "L"), image.shape)
        prediction = _fit(decode_tile(sample["prediction"], "L"), image.shape)
        panels: list[tuple[np.ndarray | None, str]] = [
            (image / 255.0, ""),
            (_overlay(image, truth), ""),
            (_prediction_overlay(image, prediction), f"{name} {_score(sample.get('score'))}"),
        ]
        if has_baseline:
            theirs = sample.get("baseline_prediction")
            if theirs is None:
                panels.append((None, "not pictured"))
            else:
                overlay = _prediction_overlay(image, _fit(decode_tile(theirs, "L"), image.shape))
                panels.append((overlay, f"{name} {_score(sample.get('baseline_score'))}"))
        for row, (pixels, caption) in enumerate(panels):
            axes = grid[row][column]
            axes.set_xticks([])
            axes.set_yticks([])
            if pixels is not None:
                axes.imshow(np.clip(pixels, 0.0, 1.0), interpolation="nearest")
                if row >= 2:
                    axes.contour(truth > 127, levels=[0.5], colors=["#39ff6a"], linewidths=0.9)
            axes.set_xlabel(caption, fontsize=8, labelpad=2)
            if row == 0:
                axes.set_title(short(sample["label"], 18), fontsize=8)
            if column == 0:
                axes.set_ylabel(rows[row], fontsize=8)
    figure.subplots_adjust(wspace=0.05, hspace=0.22)
    return _png(figure)


def _score(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) and math.isfinite(value) else "n/a"


def latency_chart(latency: list[dict[str, Any]]) -> bytes:
    """Median latency per model, grouped by resolution (horizontal bars, a log scale when they differ widely)."""
    resolutions = sorted({entry["resolution"] for entry in latency}, key=_pixels)
    models = list(dict.fromkeys(entry["model"] for entry in latency))
    # a bench item's median, where there is one, over the median of a budget's paired timing
    ordered = sorted(latency, key=lambda entry: entry["source"] == "bench")
    medians = {(entry["model"], entry["resolution"]): entry["median_ms"] for entry in ordered}
    rows = [(r, m) for r in resolutions for m in models if isinstance(medians.get((m, r)), int | float)]
    figure = Figure(figsize=(7.5, 0.9 + 0.32 * len(rows)))
    axes = figure.subplots()
    colours = _palette(len(models))
    positions = np.arange(len(rows))[::-1]
    values = [medians[(model, resolution)] for resolution, model in rows]
    axes.barh(positions, values, color=[colours[models.index(model)] for _, model in rows], height=0.7)
    for position, value in zip(positions, values, strict=True):
        axes.text(value, position, f" {value:.4g} ms", va="center", fontsize=8)
    axes.set_yticks(positions, [f"{short(model)} @ {resolution}" for resolution, model in rows], fontsize=8)
    positive = [value for value in values if value > 0]
    if positive and max(positive) / min(positive) > 30:
        axes.set_xscale("log")
    axes.set_xlabel("median latency, ms (onnxruntime CPU)")
    axes.margins(x=0.25)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def _pixels(resolution: str) -> tuple[int, str]:
    height, _, width = resolution.partition("x")
    return (int(height) * int(width) if height.isdigit() and width.isdigit() else 0, resolution)


def _palette(count: int) -> list[str]:
    base = ["#0969da", "#8250df", "#1a7f37", "#bf8700", "#cf222e", "#1b7c83", "#953800", "#57606a"]
    return [base[index % len(base)] for index in range(count)]


def budget_chart(budgets: list[dict[str, Any]]) -> bytes:
    """Each latency budget's ratio with its interval, against the budget it must stay under (red bar), coloured by
    verdict; the axis spans the intervals, the budgets and 1x (as fast as the other model)."""
    figure = Figure(figsize=(7.5, 1.1 + 0.55 * len(budgets)))
    axes = figure.subplots()
    positions = np.arange(len(budgets))[::-1]
    labels, span = [], [1.0]
    for position, budget in zip(positions, budgets, strict=True):
        record = budget["record"]
        colour = COLOURS.get(record["verdict"], "#57606a")
        ratio, low, high, limit = (record[key] for key in ("ratio", "low", "high", "max_ratio"))
        if all(isinstance(v, int | float) and math.isfinite(v) for v in (ratio, low, high)):
            axes.errorbar(
                ratio, position, xerr=[[ratio - low], [high - ratio]], fmt="o", color=colour, capsize=4, linewidth=2
            )
            caption = f"{ratio:.3f}x [{low:.3f}, {high:.3f}] {record['verdict']}"
            axes.text(low, position + 0.22, caption, fontsize=8, color=colour)
            span += [low, high]
        if isinstance(limit, int | float) and math.isfinite(limit):
            axes.plot([limit, limit], [position - 0.35, position + 0.35], color=FLOOR_COLOUR, linewidth=2.5)
            span.append(limit)
        labels.append(f"{short(record['model'])} / {short(record['relative_to'])} @ {record['resolution']}")
    axes.axvline(1.0, color="#8c959f", linestyle=":", linewidth=1)
    width = max(span) - min(span)
    axes.set_xlim(max(0.0, min(span) - 0.15 * width - 0.02), max(span) + 0.35 * width + 0.02)
    axes.set_yticks(positions, labels, fontsize=8)
    axes.set_ylim(-0.7, len(budgets) - 0.2)
    axes.set_xlabel("latency ratio: median of interleaved pairs, its 95% interval; red bar: the budget")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def parity_chart(parity: list[dict[str, Any]]) -> bytes:
    """Max-abs difference between PyTorch and onnxruntime per model and kind of input (log scale), with each
    model's tolerance."""
    kinds = list(dict.fromkeys(kind for entry in parity for kind in entry["record"].get("by_input", {})))
    kinds = kinds or ["all inputs"]
    figure = Figure(figsize=(7.5, 1.0 + 0.55 * len(parity) * max(1, len(kinds)) / 2 + 0.6))
    axes = figure.subplots()
    colours = _palette(len(kinds) + 1)[1:]
    height = 0.8 / len(kinds)
    positions = np.arange(len(parity))[::-1]
    floor = 1e-12
    labelled: set[str] = set()
    for position, entry in zip(positions, parity, strict=True):
        record = entry["record"]
        by_input = record.get("by_input") or {"all inputs": record["max_abs_diff"]}
        for index, kind in enumerate(kinds):
            value = by_input.get(kind)
            if not isinstance(value, int | float):
                continue
            y = position + 0.4 - height * (index + 0.5)
            label = None if kind in labelled else kind
            labelled.add(kind)
            axes.barh(y, max(value, floor), height=height * 0.9, color=colours[index], label=label)
            axes.text(max(value, floor), y, f" {value:.2g}", va="center", fontsize=7)
        tolerance = record.get("tolerance")
        if isinstance(tolerance, int | float) and tolerance > 0:
            axes.plot([tolerance, tolerance], [position - 0.45, position + 0.45], color=FLOOR_COLOUR, linewidth=2.5)
    axes.set_xscale("log")
    axes.set_yticks(
        positions, [f"{short(e['record']['model'])}\n{short(e['record']['parity'])}" for e in parity], fontsize=8
    )
    axes.set_xlabel("max-abs difference, PyTorch vs onnxruntime (red bar: the tolerance)")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes.margins(x=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)
