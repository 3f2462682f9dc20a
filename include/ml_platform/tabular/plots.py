"""Evaluation plots as PNG bytes: ROC and PR curves, calibration, feature importance.

Rendered off-screen (Agg) so they work in a scheduler without a display; stored in MLflow and reports.
"""

from __future__ import annotations

import io

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _axes(title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig, ax


def evaluation_plots(name: str, y: np.ndarray, p: np.ndarray, importance: dict[str, float]) -> dict[str, bytes]:
    fig, ax = _axes(f"{name}: ROC on the evaluation day")
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr, label="challenger")
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate")
    ax.legend()
    plots = {"roc_curve.png": _png(fig)}

    fig, ax = _axes(f"{name}: precision-recall")
    precision, recall, _ = precision_recall_curve(y, p)
    ax.plot(recall, precision, label="challenger")
    ax.axhline(y.mean(), ls="--", c="grey", lw=0.8, label="base rate")
    ax.set(xlabel="recall", ylabel="precision")
    ax.legend()
    plots["pr_curve.png"] = _png(fig)

    fig, ax = _axes(f"{name}: calibration")
    true_rate, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    ax.plot(predicted, true_rate, marker="o", label="challenger")
    top = max(predicted.max(), true_rate.max())
    ax.plot([0, top], [0, top], ls="--", c="grey", label="perfectly calibrated")
    ax.set(xlabel="mean predicted probability", ylabel="observed rate")
    ax.legend()
    plots["calibration.png"] = _png(fig)

    top = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)[:15][::-1]
    fig, ax = _axes(f"{name}: feature importance (gain)")
    ax.barh([k for k, _ in top], [v for _, v in top])
    plots["feature_importance.png"] = _png(fig)
    return plots
