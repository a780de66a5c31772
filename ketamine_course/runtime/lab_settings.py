"""The course's own JupyterLab settings, shipped in the package's lab_settings/ folder.

`overrides.json` holds JupyterLab defaults (no news prompt, no update check, every cell rendered);
`custom/custom.css` is a style sheet that shows no code: no placeholder of a hidden code cell and no
prompt numbers. `./course.sh open` passes them as command-line options, the workshop server writes
them into each participant's Jupyter settings (workshop/folders.py).
"""

from __future__ import annotations

import json
from pathlib import Path

LAB_SETTINGS = Path(__file__).resolve().parents[1] / "lab_settings"


def lab_config(show_no_code: bool = True) -> dict:
    """Jupyter Server configuration applying the course's settings (and its style sheet, unless asked not to)."""
    config = {"LabApp": {"app_settings_dir": str(LAB_SETTINGS)}}
    if show_no_code:
        # JupyterLab loads <its custom folder>/custom.css when custom_css is on; the folder is the course's.
        config["LabApp"]["custom_css"] = True
        config["ServerApp"] = {"tornado_settings": {"static_custom_path": [str(LAB_SETTINGS / "custom")]}}
    return config


def command_line_options(config: dict) -> list:
    """The same configuration as `--Class.trait=value` options (dictionaries and lists as literals)."""
    return [
        f"--{section}.{name}={json.dumps(value) if isinstance(value, (dict, list)) else value}"
        for section, traits in config.items()
        for name, value in traits.items()
    ]
