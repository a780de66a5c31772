"""The mechanism walk-through: a stepped diagram with Previous/Next buttons.

Steps are data (`content/data/m1_mechanism_steps.yaml`). `Stepper` is the pure stepping logic;
`diagram_png()` draws the chain with the current step highlighted (matplotlib, imported only there);
`show()` is what the notebook calls.
"""

from __future__ import annotations

import html
import textwrap
from functools import lru_cache

from ketamine_course.content import dataset
from ketamine_course.content.citations import inline_html
from ketamine_course.widgets import theme
from ketamine_course.widgets.figures import png_html
from ketamine_course.widgets.theme import MUTED, PALETTE

CHAIN = 6  # the first six steps form the chain; the rest are overlays on the whole chain


def steps():
    """The steps in order, as plain dicts."""
    return [row.model_dump() for row in dataset("m1_mechanism_steps").rows]


class Stepper:
    """Which step is showing; moves stop at the first and last step."""

    def __init__(self, count: int, index: int = 0):
        if count < 1:
            raise ValueError("a walk-through needs at least one step")
        self.count = count
        self.index = min(max(index, 0), count - 1)

    @property
    def at_start(self) -> bool:
        return self.index == 0

    @property
    def at_end(self) -> bool:
        return self.index == self.count - 1

    def next(self) -> int:
        if not self.at_end:
            self.index += 1
        return self.index

    def previous(self) -> int:
        if not self.at_start:
            self.index -= 1
        return self.index

    def go(self, index: int) -> int:
        self.index = min(max(index, 0), self.count - 1)
        return self.index


def step_html(step: dict, position: int, count: int) -> str:
    """The text panel of a step: what happens, the evidence, the open questions, with citations."""
    questions = "".join(f"<li>{html.escape(q)}</li>" for q in step["open_questions"])
    return (
        f"<div class='kc-step' role='region' aria-live='polite' aria-label='Step {position} of {count}'>"
        f"<h4 style='margin:4px 0'>{html.escape(step['title'])} <small>(step {position} of {count})</small></h4>"
        f"<p>{html.escape(step['what'].strip())}</p>"
        f"<p><b>Evidence.</b> {html.escape(step['evidence'].strip())} {inline_html(step['refs'])}</p>"
        f"<p><b>Open questions.</b></p><ul>{questions}</ul></div>"
    )


def alt_text(index: int, all_steps) -> str:
    names = [s["diagram"] for s in all_steps[:CHAIN]]
    chain = " → ".join(names)
    if index < CHAIN:
        return f"Diagram of the chain {chain}, with step {index + 1}, {names[index]}, highlighted."
    return f"Diagram of the chain {chain}, with every box outlined by dashes: {all_steps[index]['title']}."


@lru_cache(maxsize=None)
def diagram_png(index: int) -> bytes:
    """The chain as six boxes with arrows; the current step filled in colour (cached per step)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    all_steps = steps()
    names = [s["diagram"] for s in all_steps[:CHAIN]]
    fig = Figure(figsize=(9.0, 2.6), dpi=90)
    ax = fig.add_axes([0, 0, 1, 0.86])
    ax.set_xlim(0, CHAIN)
    ax.set_ylim(0, 1)
    ax.axis("off")
    overlay = index >= CHAIN
    for i, name in enumerate(names):
        current = i == index
        box = FancyBboxPatch(
            (i + 0.08, 0.3),
            0.78,
            0.45,
            boxstyle="round,pad=0.02",
            facecolor=PALETTE["orange"] if current else "white",
            edgecolor=PALETTE["vermillion"] if overlay else PALETTE["blue"],
            linewidth=2.5 if current or overlay else 1.2,
            linestyle="--" if overlay else "-",
        )
        ax.add_patch(box)
        ax.text(
            i + 0.47,
            0.525,
            textwrap.fill(name, 14, break_long_words=False),
            ha="center",
            va="center",
            fontsize=8.5,
            fontweight="bold" if current else "normal",
        )
        ax.text(i + 0.47, 0.18, f"step {i + 1}", ha="center", va="center", fontsize=7, color=MUTED)
        if i < CHAIN - 1:
            ax.add_patch(
                FancyArrowPatch(
                    (i + 0.87, 0.525), (i + 1.07, 0.525), arrowstyle="-|>", mutation_scale=12, color=PALETTE["black"]
                )
            )
    title = (
        "Ketamine's proposed antidepressant chain (mostly rodent evidence)"
        if not overlay
        else f"{all_steps[index]['title']}: they question or add to every link"
    )
    fig.suptitle(title, fontsize=11)
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return buffer.getvalue()


class WalkThrough:
    """The buttons, the diagram and the text panel, kept in step with a Stepper."""

    def __init__(self):
        import ipywidgets as w

        self.steps = steps()
        self.stepper = Stepper(len(self.steps))
        self.previous_button = w.Button(description="◀ Previous", tooltip="Go back one step")
        self.next_button = theme.button("Next ▶", "info", tooltip="Go forward one step")
        self.diagram = w.HTML()
        self.panel = w.HTML()
        self.previous_button.on_click(lambda _: self.move(-1))
        self.next_button.on_click(lambda _: self.move(+1))
        self.box = w.VBox([w.HBox([self.previous_button, self.next_button]), self.diagram, self.panel])
        self.box.add_class("kc-mechanism")
        self.render()

    def move(self, direction: int) -> int:
        index = self.stepper.next() if direction > 0 else self.stepper.previous()
        self.render()
        return index

    def render(self) -> None:
        i = self.stepper.index
        caption = (
            "The disinhibition hypothesis as a chain of steps; the highlighted box is the step described "
            "below. Most links rest on experiments in rats and mice."
        )
        self.diagram.value = png_html(diagram_png(i), caption, alt_text(i, self.steps))
        self.panel.value = step_html(self.steps[i], i + 1, len(self.steps))
        self.previous_button.disabled = self.stepper.at_start
        self.next_button.disabled = self.stepper.at_end


def show():
    """The walk-through, ready to use in a notebook cell."""
    return WalkThrough().box
