"""Showing figures: the course's style (colours from `theme.py`), and every figure with a caption and alt text.

matplotlib is imported only when a figure is made (`new_figure`), never when the package loads.
"""

from __future__ import annotations

import base64
import html
import io

from ketamine_course.widgets.theme import SERIES


def new_figure(width=7.5, height=4.0, ncols=1, width_ratios=None):
    """A matplotlib figure and axes in the course's style (Agg backend: no window needed).

    With ncols > 1 the axes come as a list, left to right.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        ncols=ncols,
        figsize=(width, height),
        dpi=100,
        gridspec_kw={"width_ratios": width_ratios} if width_ratios else None,
        squeeze=False,
    )
    axes = list(axes[0])
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_prop_cycle(color=SERIES)
    return (fig, axes) if ncols > 1 else (fig, axes[0])


def figure_html(fig, caption: str, alt: str) -> str:
    """The figure as an <img> with alt text, and its caption underneath. Closes the figure."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return png_html(buffer.getvalue(), caption, alt)


def png_html(png: bytes, caption: str, alt: str) -> str:
    """A PNG image as an <img> with alt text, and its caption underneath."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure style="margin:8px 0"><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
        f'style="max-width:100%"><figcaption><small>{html.escape(caption)}</small></figcaption></figure>'
    )


def show(fig, caption: str, alt: str):
    """Display a figure with its caption and alt text in the notebook."""
    from IPython.display import HTML, display

    display(HTML(figure_html(fig, caption, alt)))
