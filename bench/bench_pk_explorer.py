"""Kernel time of one redraw of the time-course explorer (run: python bench/bench_pk_explorer.py).

Prints the median over repeated redraws (each a new slider value: model, windows, caption, figure
and PNG), and the ratio against drawing an empty figure of the same size in the same process.
No assertion on time: machines differ.
"""

import statistics
import time

REPEATS = 30


def median_ms(action, repeats=REPEATS):
    """(wall-clock median, CPU-time median) in ms; CPU time is less disturbed by other processes."""
    wall, cpu = [], []
    for i in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        action(i)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ketamine_course.widgets import pk_explorer

    explorer = pk_explorer.Explorer()  # builds the widgets and draws once (warm-up)
    doses = [round(0.1 + 0.05 * k, 2) for k in range(30)]
    routes = ["iv", "sublingual", "oral", "intranasal_esketamine"]

    def redraw_dose(i):
        explorer.dose_kg.value = doses[i % len(doses)]  # the observer triggers the redraw

    def redraw_weight(i):
        explorer.weight.value = 45 + 3 * i  # new weight: new disposition and absorption rate

    def redraw_route(i):
        explorer.route.value = routes[i % len(routes)]

    def empty_figure(_):
        import io

        fig = Figure(figsize=(7.5, 4.6), dpi=80)
        fig.add_subplot(111)
        FigureCanvasAgg(fig).print_png(io.BytesIO())

    empty_figure(0)
    baseline, baseline_cpu = median_ms(empty_figure)
    print(
        f"baseline: empty figure drawn to PNG      median {baseline:6.1f} ms wall, {baseline_cpu:6.1f} ms CPU "
        f"over {REPEATS}"
    )
    for name, action in (
        ("dose slider", redraw_dose),
        ("weight slider", redraw_weight),
        ("route dropdown", redraw_route),
    ):
        explorer.route.value = "iv"
        value, value_cpu = median_ms(action)
        print(
            f"redraw after a change of {name:15s} median {value:6.1f} ms wall, {value_cpu:6.1f} ms CPU "
            f"over {REPEATS} (x{value / baseline:.1f} the empty figure, wall)"
        )


if __name__ == "__main__":
    main()
