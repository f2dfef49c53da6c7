"""What ``nnfit doctor`` shows: the verdict and the plan as they are known, a line per
finished training, then the table of variants against the base and the conclusion."""

from __future__ import annotations

import math

from rich.table import Table

from .console import escape, header
from .tables import fmt_finite, print_advice

GOOD_FIT_KINDS = ("good_fit", "good_fit_data_limited")


class DoctorView:
    """The live part: told ``diagnosed(plan)`` and ``finished(event, done, total)``."""

    def __init__(self, console):
        self.console = console

    def diagnosed(self, plan: dict) -> None:
        d = plan["diagnosis"]
        self.console.print(f"verdict: {d['verdict']} ({d['kind']}): {d['reason']}",
                           markup=False, soft_wrap=True)
        print_advice(self.console, d)  # how close it was, the advice, notes: as train shows them
        if plan["kind"] != d["kind"]:
            self.console.print(f"trying the remedies of {plan['kind']} instead", markup=False)
        if plan["repeats_reason"]:
            self.console.print(plan["repeats_reason"], style="dim", markup=False)
        names = plan["variants"]
        self.console.print(f"trying {len(names)} variant{'s' if len(names) != 1 else ''} × "
                           f"{plan['repeats']} seed{'s' if plan['repeats'] > 1 else ''}: "
                           f"{', '.join(names) or 'none'}", markup=False, soft_wrap=True)

    def finished(self, event: dict, done: int, total: int) -> None:
        what = (f"failed: {event['error']}" if event["error"] else
                f"val loss {fmt_finite(event['val_loss'])}"
                + (" (diverged)" if event["diverged"] else ""))
        self.console.print(f"[{done}/{total}] {event['arm']}, seed {event['seed']}: {what}",
                           style="dim", markup=False, soft_wrap=True)


def _signed(value) -> str:
    """A change with its sign (``+0.012``; lower is better), a dash when there is none."""
    return fmt_finite(value) if value is None or not math.isfinite(value) else f"{value:+.4g}"


def _result(arm: dict) -> str:
    """The table's last column: helped, worse, noise, or why there are no numbers."""
    if arm["status"] in ("failed", "not run") or arm.get("helped") is None:
        return arm["status"]
    word = "helped" if arm["helped"] else "worse" if arm["worse"] else "noise"
    return word if arm["status"] == "ok" else f"{word} ({arm['status']})"


def doctor_table(record: dict) -> Table:
    """The base and every variant: val loss (mean over seeds), the paired change, its
    standard error and z, the headline metric, and whether it helped beyond the noise."""
    rows = (f"all {record['val_rows']} non-test rows (--cv {record['cv']})" if record["cv"]
            else f"the same {record['val_rows']} validation rows")
    seeds = record["repeats"]
    table = Table(title=escape(f"variants against the base, paired over {rows}, "
                               f"{seeds} seed{'s' if seeds > 1 else ''}"), title_justify="left")
    table.add_column("variant", no_wrap=True)
    for title in ("val loss", "change", "± se", "z", header(record["metric"])):
        table.add_column(title, justify="right", no_wrap=True)
    table.add_column("result", no_wrap=True)
    base = record["base"]
    table.add_row("base", fmt_finite(base["val_loss"]), "", "", "", fmt_finite(base["metric"]),
                  record["diagnosis"]["verdict"] if record["diagnosis"] else base["status"],
                  style="dim")
    for arm in record["variants"]:
        style = ("green" if arm.get("helped") else "red" if arm["status"] == "failed"
                 else "yellow" if arm.get("worse") or arm["status"] == "diverged" else None)
        z = arm.get("z")
        table.add_row(escape(arm["name"]), fmt_finite(arm["val_loss"]),
                      _signed(arm.get("change")), fmt_finite(arm.get("se")),
                      "" if z is None or not math.isfinite(z) else f"{z:+.1f}",
                      fmt_finite(arm["metric"]), _result(arm), style=style)
    return table


def conclusion(record: dict, run_dir) -> list[str]:
    """The lines after the table: the best variant and how to reproduce it, or that nothing
    helped beyond the noise; failures; an interruption."""
    lines = [f"variant {a['name']} failed: {a['error']}" for a in record["variants"]
             if a["status"] == "failed"]
    best = next((a for a in record["variants"] if a["name"] == record["best"]), None)
    if best is not None:
        base = record["base"]["val_loss"]
        numbers = (f"change {best['change']:+.4g} ± {best['se']:.2g}, {best['z']:+.1f} standard "
                   f"errors" if best["change"] is not None and math.isfinite(best["change"])
                   else "the base diverged, this variant did not")
        lines.append(f"best: {best['name']} helped beyond the noise: val loss {base:.4g} → "
                     f"{best['val_loss']:.4g} ({numbers}); its run directory is {run_dir}/best")
        others = [n for n in record["helped"] if n != best["name"]]
        if others:
            lines.append(f"also helped: {', '.join(others)}")
        lines.append(f"reproduce: {record['reproduce']}")
    elif record["interrupted"]:
        lines.append("interrupted: the table holds the trainings that finished; no best run "
                     "saved")
        return lines
    elif record["variants"]:
        both = "neither more regularization nor more capacity did better"
        why = (f"{both}: the evidence for the verdict good fit"
               if record["kind_tried"] in GOOD_FIT_KINDS else both
               if record["kind_tried"] == "inconclusive" else
               "the validation rows carry the leaking column too, so they cannot show what "
               "leaving it out is worth; keep it only if it is known when you predict"
               if record["kind_tried"] == "overfitting_leak" else
               "the advice did not prove itself on these rows")
        lines.append(f"nothing helped beyond the noise (2 standard errors of the paired "
                     f"difference): {why}; no best run saved")
    elif record["diagnosis"] is not None:
        lines.append(f"no variant to try for {record['kind_tried']}")
    if record["interrupted"]:
        lines.append("interrupted: the table holds the trainings that finished")
    return lines
