"""A plain HTML snapshot of stored ipywidgets, for pages read offline.

Jupyter's widget library draws stored widget state only when it can be fetched from the internet;
offline a handout would show nothing where a question or tool is. `snapshot_html` draws the same
state as static HTML instead: the question, its options, the settings and any figure.
"""

from __future__ import annotations

import html


def snapshot_html(state: dict, model_id: str) -> str:
    """Static HTML of a widget and its children, drawn from the stored widget state."""
    model = state.get(model_id)
    if not model:
        return ""
    kind, s = model.get("model_name", ""), model.get("state", {})
    layout = state.get(_ref(s.get("layout")), {}).get("state", {})
    if layout.get("display") == "none" or layout.get("visibility") == "hidden":
        return ""
    classes = " ".join(html.escape(c) for c in s.get("_dom_classes", []))
    label = f'<span class="kc-s-label">{html.escape(s["description"])}</span> ' if s.get("description") else ""
    if kind in ("VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel"):
        children = "".join(snapshot_html(state, _ref(c)) for c in s.get("children", []))
        row = " kc-s-row" if kind == "HBoxModel" else ""
        return f'<div class="kc-s-box{row} {classes}" style="{_box_style(layout)}">{children}</div>'
    if kind in ("HTMLModel", "HTMLMathModel"):
        return f'<div class="kc-s-html {classes}">{label}{s.get("value", "")}</div>'
    if kind == "LabelModel":
        return f'<div class="kc-s-html {classes}">{html.escape(str(s.get("value", "")))}</div>'
    if kind in ("RadioButtonsModel", "SelectModel", "ToggleButtonsModel"):
        chosen = s.get("index")
        options = "".join(
            f"<li>{'◉' if i == chosen else '○'} {html.escape(text)}</li>"
            for i, text in enumerate(s.get("_options_labels", []))
        )
        return f'<div class="kc-s-choice {classes}">{label}<ul class="kc-s-options">{options}</ul></div>'
    if kind == "CheckboxModel":
        return f'<div class="kc-s-check {classes}">{"☑" if s.get("value") else "☐"} {html.escape(s.get("description", ""))}</div>'
    if kind == "ButtonModel":
        return f'<span class="kc-s-button {classes}">{html.escape(s.get("description", ""))}</span>'
    if kind == "DropdownModel":  # a real list, so a reader can open it and see every choice
        index = s.get("index")
        options = "".join(
            f"<option{' selected' if i == index else ''}>{html.escape(text)}</option>"
            for i, text in enumerate(s.get("_options_labels", []))
        )
        name = html.escape(s.get("description", ""), quote=True)
        return f'<div class="kc-s-field-row {classes}">{label}<select aria-label="{name}">{options}</select></div>'
    if kind == "SelectionSliderModel":
        labels, index = s.get("_options_labels", []), s.get("index")
        shown = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
        return f'<div class="kc-s-field-row {classes}">{label}<span class="kc-s-field">{html.escape(str(shown))}</span></div>'
    if kind.endswith("SliderModel") or kind.endswith("TextModel") or kind == "TextareaModel":
        value = s.get("value")
        if value in (None, ""):
            shown = f'<span class="kc-s-placeholder">{html.escape(s.get("placeholder", ""))}</span>'
        else:
            shown = html.escape(str(value))
        tall = " kc-s-tall" if kind == "TextareaModel" else ""
        return f'<div class="kc-s-field-row {classes}">{label}<span class="kc-s-field{tall}">{shown}</span></div>'
    if kind == "OutputModel":
        return f'<div class="kc-s-output {classes}">{"".join(_output_html(o) for o in s.get("outputs", []))}</div>'
    return ""


def _ref(value) -> str:
    return value[len("IPY_MODEL_") :] if isinstance(value, str) and value.startswith("IPY_MODEL_") else ""


def _box_style(layout: dict) -> str:
    names = ("border_top", "border_right", "border_bottom", "border_left", "border", "padding", "margin")
    return ";".join(f"{name.replace('_', '-')}:{html.escape(str(layout[name]))}" for name in names if layout.get(name))


def _output_html(output: dict) -> str:
    data = output.get("data", {})
    if "text/html" in data:
        return "".join(data["text/html"])
    if "image/png" in data:
        return f'<img src="data:image/png;base64,{data["image/png"]}" alt="">'
    if output.get("output_type") == "stream" and output.get("name") == "stdout":
        return f"<pre>{html.escape(''.join(output.get('text', '')))}</pre>"
    if "text/markdown" in data or "text/plain" in data:
        return f"<pre>{html.escape(''.join(data.get('text/markdown', data.get('text/plain', ''))))}</pre>"
    return ""
