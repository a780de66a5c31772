"""Headless Chromium (Debian's), driven by Playwright, on the course's pages: what a learner does there.

The `browser` and `page` fixtures are in conftest.py; the browser test modules import these helpers.
"""

from __future__ import annotations

import shutil

from conftest import ARTIFACTS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def open_notebook(page, base, token, path, workspace):
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{path}?reset&token={token}")
    page.locator(".jp-NotebookPanel").first.wait_for()
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=120_000)


def run_all(page, expected_widgets: int, css: str, keyboard=False):
    """Run All from the menu (with `keyboard`, from the command palette, keys only); wait until the widgets
    have rendered and the kernel has finished every cell.

    Run All is chosen once the status bar shows the kernel Idle, and chosen again if no output has
    appeared after 30 s: on a busy machine a freshly opened notebook can miss the first choice.
    Only the notebook in front counts (several may be open in one JupyterLab).
    """
    current = ".jp-NotebookPanel:not(.lm-mod-hidden)"
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=120_000)
    for attempt in range(3):
        if keyboard:
            page.keyboard.press("Control+Shift+c")
            page.keyboard.type("Run All Cells")
            page.locator(".lm-CommandPalette-item.lm-mod-active", has_text="Run All Cells").wait_for()
            page.keyboard.press("Enter")
        else:
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.locator("#jp-mainmenu-run").get_by_text("Run All Cells", exact=True).click()
        try:
            page.locator(f"{current} .jp-OutputArea-output").first.wait_for(timeout=30_000)
            break
        except Exception:
            if attempt == 2:
                page.screenshot(path=str(ARTIFACTS / "run_all_timeout.png"))
                raise
    try:
        page.wait_for_function(
            f"() => document.querySelectorAll('{current} {css}').length >= {expected_widgets}", timeout=180_000
        )
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "run_all_timeout.png"))
        raise
    page.locator(f"{current} .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=180_000)
    errors = page.locator(f'{current} [data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == 0, errors.first.inner_text()


def question_box(page, item_id):
    return page.locator(".kc-question", has=page.locator(".kc-stem", has_text=f"[{item_id}]"))


def answer_item(page, item, value):
    """Answer one graded item the way a learner does: clicking, choosing and typing."""
    box = question_box(page, item.id)
    box.scroll_into_view_if_needed()
    status = box.locator(".kc-status")
    if item.type == "single":
        text = next(o.text for o in item.options if o.id == value)
        box.get_by_role("radio", name=text, exact=True).check()  # found by its accessible name
    elif item.type == "multiple":
        for option in item.options:
            if option.id in value:
                box.get_by_role("checkbox", name=option.text, exact=True).check()
    elif item.type == "numeric":
        box.locator(".widget-dropdown select").select_option(label=value["unit"])
        field = box.locator(".widget-text input")
        field.fill(str(value["value"]))
        field.press("Enter")
    elif item.type == "ordering":
        steps = {s.id: s.text for s in item.steps}
        for position, step_id in zip(box.locator(".widget-dropdown select").all(), value):
            position.select_option(label=steps[step_id])
    else:
        field = box.locator(".widget-textarea textarea")
        field.fill(value)
        field.press("Tab")
    status.get_by_text("Saved").wait_for()


# ---------------------------------------------------------------- keys only


def tab_to(page, target, limit=400) -> None:
    """Move the focus to `target` (a locator) with Tab, or Shift+Tab when it lies before the focus."""
    for _ in range(limit):
        position = target.evaluate(
            """el => el === document.activeElement ? 0
                     : (el.compareDocumentPosition(document.activeElement) & Node.DOCUMENT_POSITION_FOLLOWING) ? -1 : 1"""
        )
        if position == 0:
            return
        page.keyboard.press("Tab" if position > 0 else "Shift+Tab")
    focus = page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"{limit} presses of Tab did not reach {target}; the focus is on {focus}")


def choose_by_keys(page, select, label: str) -> None:
    """Choose an option of a focused drop-down list with the arrow keys."""
    labels = select.evaluate(
        r"el => [...el.options].map(o => o.text.replace(/\s+/g, ' ').trim())"
    )  # ipywidgets: no-break spaces
    steps = labels.index(" ".join(label.split())) - select.evaluate("el => el.selectedIndex")
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")


def answer_by_keys(page, box, question, value) -> None:
    """Answer one question (its box a locator) with Tab, Shift+Tab, Space, the arrow keys and typing only,
    over any answer it shows."""
    if question.type == "single":
        radios = box.get_by_role("radio")
        index = [o.id for o in question.options].index(value)
        chosen = radios.evaluate_all("rs => rs.findIndex(r => r.checked)")
        tab_to(page, radios.nth(max(chosen, 0)))  # Tab stops at the chosen option, or the first if none is
        if chosen < 0:
            page.keyboard.press("Space")
            chosen = 0
        for _ in range(abs(index - chosen)):
            page.keyboard.press("ArrowDown" if index > chosen else "ArrowUp")  # moves to an option and chooses it
    elif question.type == "multiple":
        for option in question.options:
            checkbox = box.get_by_role("checkbox", name=option.text, exact=True)
            if checkbox.is_checked() != (option.id in value):
                tab_to(page, checkbox)
                page.keyboard.press("Space")
    elif question.type == "numeric":
        tab_to(page, box.locator(".widget-text input"))
        page.keyboard.press("Control+a")  # whatever the field held is typed over
        page.keyboard.type(f"{value['value']:g}" if isinstance(value["value"], float) else str(value["value"]))
        tab_to(page, box.locator(".widget-dropdown select"))
        choose_by_keys(page, box.locator(".widget-dropdown select"), value["unit"])
    elif question.type == "ordering":
        steps = {s.id: s.text for s in question.steps}
        for position, step_id in zip(box.locator(".widget-dropdown select").all(), value):
            tab_to(page, position)
            choose_by_keys(page, position, steps[step_id])
    else:
        tab_to(page, box.locator("textarea"))
        page.keyboard.press("Control+a")
        page.keyboard.type(value)
    check = box.get_by_role("button", name="Check my answer")
    if check.count():
        tab_to(page, check)
        page.keyboard.press("Enter")
    else:
        page.keyboard.press("Tab")  # leaving a field sends its value


# ---------------------------------------------------------------- accessibility (axe-core)

NAME_RULES = [  # axe-core's rules that every control and image has a name or a text alternative
    "button-name",
    "input-button-name",
    "label",
    "select-name",
    "aria-input-field-name",
    "aria-toggle-field-name",
    "image-alt",
    "role-img-alt",
    "svg-img-alt",
]

SERIOUS = ("serious", "critical")


def wait_until_settled(page, quiet_ms=1000, cap_ms=20_000) -> None:
    """Wait until the page has stopped changing for `quiet_ms` (widgets, Output areas and images arrive
    after the page itself), at most `cap_ms`."""
    page.evaluate(
        """([quiet, cap]) => new Promise(resolve => {
             let timer;
             const observer = new MutationObserver(() => restart());
             const done = () => { observer.disconnect(); resolve(); };
             const restart = () => { clearTimeout(timer); timer = setTimeout(done, quiet); };
             observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
             restart();
             setTimeout(done, cap);
           })""",
        [quiet_ms, cap_ms],
    )


def axe_violations(page, context=None, rules=None, impacts=SERIOUS) -> list:
    """axe-core's serious and critical violations on the page (or within `context`, a CSS selector or
    axe context; with `rules`, of those rules only, of any impact given), each as one readable line:
    rule, impact, what it asks, and the first elements."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    results = Axe().run(page, context=context, options=options)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(f"{n['target']} {n.get('failureSummary', '')[:300]}" for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in impacts
    ]


def file_violations(browser, path) -> list:
    """axe_violations of an HTML file the course writes (a handout, a report, a certificate)."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    try:
        page = context.new_page()
        page.goto(path.resolve().as_uri(), wait_until="load")
        return axe_violations(page)
    finally:
        context.close()


def axe_report(page, context=None) -> dict:
    """Every violation axe-core finds, by rule: {rule: (impact, number of elements)}."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context, options={"resultTypes": ["violations"]})
    return {v["id"]: (v["impact"], len(v["nodes"])) for v in results.response["violations"]}
