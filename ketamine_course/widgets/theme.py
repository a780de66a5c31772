"""The course's look in one place: colours, status symbols and messages, panels and cards.

Colours are Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies. Words
in colour use the darker TEXT shades, each with a contrast of at least 4.5:1 on white. A status
message is a polite live region that starts with a symbol, so colour is never the only cue.
Standard library only: ipywidgets loads when a panel is built, not when the theme is imported.
"""

from __future__ import annotations

import html

# Okabe & Ito's palette: figures, borders and fills.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}
SERIES = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]

# Darker shades of the palette's hues for text on white (contrast 5.2:1 to 8.1:1).
TEXT = {
    "blue": "#0072B2",
    "green": "#007a5a",
    "orange": "#7A5000",
    "vermillion": "#A33B00",
    "sky": "#00557F",
    "grey": "#666666",
}
MUTED = "#555"  # secondary text and reference lines (7.5:1 on white)
LINE = "#bbb"  # panel borders and table rules

# Links in the course's text are underlined, so that they stand out by more than their colour (JupyterLab's
# and Voila's own style shows them in blue only). Every module's reference list and question carries it.
LINK_STYLE = (
    "<style>:is(.jp-RenderedHTMLCommon, .jupyter-widgets) a:is(:link, :visited){text-decoration:underline}</style>"
)

CORRECT, PARTLY, WRONG, INFO = "✔", "◐", "✘", "ℹ"
STOP, WARNING = "⛔", "⚠"


def contrast_ratio(foreground: str, background: str = "#ffffff") -> float:
    """WCAG 2.1's contrast ratio of two colours given as "#rgb" or "#rrggbb" (1 to 21; AA text needs 4.5)."""

    def luminance(colour: str) -> float:
        digits = colour.lstrip("#")
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def status_html(text: str, symbol: str = INFO) -> str:
    """A status message for screen readers and eyes alike; `text` is HTML. symbol="" for none."""
    shown = f"{symbol} {text}" if symbol else text
    return f'<div role="status" aria-live="polite">{shown}</div>'


# A panel: the thin grey frame around a question, an explorer or a dashboard section.
PANEL_LAYOUT = {"border": f"1px solid {LINE}", "padding": "8px 12px", "margin": "8px 0"}
PANEL_CSS = f"border:{PANEL_LAYOUT['border']};padding:{PANEL_LAYOUT['padding']}"  # the frame as inline CSS


# ipywidgets' own button colours carry white words at 2.2:1 to 3.7:1; the course's buttons take the TEXT
# shade of a near hue instead (white on each at least 4.5:1).
BUTTON_COLOURS = {
    "primary": TEXT["blue"],
    "info": TEXT["sky"],
    "success": TEXT["green"],
    "warning": TEXT["orange"],
    "danger": TEXT["vermillion"],
}
BUTTON_TEXT = "#ffffff"


def button(description: str, button_style: str = "", **options):
    """An ipywidgets Button; with a button_style, in the course's darker colour for that style."""
    import ipywidgets as w

    if button_style:
        options["style"] = {"button_color": BUTTON_COLOURS[button_style], "text_color": BUTTON_TEXT}
    return w.Button(description=description, button_style=button_style, **options)


def panel(children, *css_classes: str):
    """A framed ipywidgets VBox of `children`, with the given CSS classes."""
    import ipywidgets as w

    box = w.VBox(list(children), layout=w.Layout(**PANEL_LAYOUT))
    for css_class in css_classes:
        box.add_class(css_class)
    return box


def card_html(
    css_class: str,
    heading: str,
    body: str,
    *,
    label: str | None = None,
    colour: str = PALETTE["blue"],
    border_px: int = 2,
) -> str:
    """A card: a coloured, rounded frame around one thing to read (a patient, a step of a session, a verdict).

    With a label it is a named region (aria-label); without, a live status, for a card that changes as the
    learner acts. `heading` and `body` are HTML; `label` is plain text.
    """
    role = (
        f"role='region' aria-label='{html.escape(label)}'" if label is not None else "role='status' aria-live='polite'"
    )
    frame = f"border:{border_px}px solid {colour};border-radius:6px;padding:10px 14px;margin:{PANEL_LAYOUT['margin']}"
    return f"<div class='{css_class}' {role} style='{frame}'><h4 style='margin-top:0'>{heading}</h4>{body}</div>"
