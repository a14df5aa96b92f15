"""`govsim-report PATH`: from a finished run or sweep to figures, tables and a readable report.

Writes next to the results (or to ``--out``): ``results.parquet`` (the tidy time
series of every job), ``summary.parquet`` (a row per replication), ``figures/``
(PNG + SVG), ``report.md`` and a self-contained ``report.html`` (figures embedded).
The figures adapt to what was swept: the varied parameter columns choose colour
and facets. Reads results only; the network snapshot alone replays a run's
initial state from its recorded parameters and seed.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import figures
from analysis.load import Results, load_results, varied_parameters
from analysis.stats import effect_sizes, mean_ci

TABLE_OUTCOMES = ("final_public_value", "public_value_auc", "steps_to_90", "production_mean", "final_mean_trust",
                  "burnout_rate_mean", "final_voice_equity", "final_informal_leader_share")
REFERENCE_STYLE = "laissez_faire"


def design(summary: pd.DataFrame) -> tuple[str | None, str | None, list[str]]:
    """Choose the colour factor, the facet factor and all varied parameters of a sweep."""
    varied = varied_parameters(summary)
    if "sample_row" in summary:  # a sensitivity sweep: indices, not condition contrasts
        return None, None, []
    if not varied:
        return None, None, []
    hue = "leadership" if "leadership" in varied else varied[0]
    rest = [v for v in varied if v != hue]
    col = rest[0] if rest and summary[rest[0]].astype(str).nunique() <= 6 else None
    return hue, col, varied


def _fmt_table(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    return out


def condition_table(summary: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean [95 % CI] of the key outcomes per condition, one column per outcome."""
    parts = []
    for outcome in TABLE_OUTCOMES:
        if outcome not in summary or summary[outcome].isna().all():
            continue
        ci = mean_ci(summary, by, outcome, seed=0)
        ci[outcome] = [f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in zip(ci["mean"], ci["ci_low"], ci["ci_high"],
                                                                             strict=True)]
        parts.append(ci[[*by, outcome]].set_index(by) if by else ci[[outcome]])
    table = pd.concat(parts, axis=1).reset_index() if by else pd.concat(parts, axis=1)
    n = summary.groupby(by).size().rename("n").reset_index() if by else None
    return table.merge(n, on=by) if n is not None else table


def effect_table(summary: pd.DataFrame, hue: str, col: str | None) -> tuple[pd.DataFrame, str]:
    """Effect sizes of every level of ``hue`` against a reference level, per facet."""
    levels = figures.order_of(summary, hue)
    reference = REFERENCE_STYLE if REFERENCE_STYLE in levels else levels[0]
    frames = [effect_sizes(summary, hue, reference, o, by=[col] if col else [], seed=0)
              for o in ("final_public_value", "public_value_auc", "production_mean", "final_mean_trust",
                        "burnout_rate_mean") if o in summary]
    table = pd.concat([f for f in frames if not f.empty], ignore_index=True) if frames else pd.DataFrame()
    return table, str(reference)


def make_figures(res: Results, out: Path, hue: str | None, col: str | None, varied: list[str]) -> dict[str, Path]:
    """Draw every figure that fits the sweep; returns PNG paths by figure name."""
    ts, summary = res.timeseries, res.summary
    made: dict[str, Path] = {}

    def keep(name: str, fig: Any) -> None:
        made[name] = figures.save(fig, out / "figures", name)[0]
        print(f"govsim-report: figure {name}", flush=True)

    sensitivity_sweep = "sample_row" in summary
    if not ts.empty and "public_value" in ts and not sensitivity_sweep:
        keep("trajectories", figures.trajectories(ts, hue=hue, col=col))
        keep("trust_burnout", figures.trust_burnout(ts, hue=hue))
    if not summary.empty and "final_public_value" in summary and not sensitivity_sweep:
        keep("final_outcomes", figures.final_outcomes(summary, x=hue or "scenario", hue=col))
        keep("tradeoff", figures.tradeoff(summary, hue=hue, style=col))
        if len(varied) >= 2:
            keep("heatmap_public_value", figures.heatmap(summary, "final_public_value", x=varied[0], y=varied[1]))
    meta = res.first_meta
    if meta.get("params") and "docking" not in summary:
        from sim.params import build_params
        from sim.runner import replication_seeds

        params = build_params(meta["params"])
        seq = replication_seeds(params.run.seed, 1)[0]
        point = ", ".join(f"{k}={v}" for k, v in (meta.get("labels") or {}).items() if k in (hue, col))
        keep("network", figures.network_snapshot(params, seq, title=f"Collaboration network, {params.scenario.name}"
                                                 f" scenario, initial state ({point or 'first job'})"))
    if "docking" in summary:
        from analysis.docking import docking_figures

        for name, fig in docking_figures(summary if ts.empty else ts).items():
            keep(name, fig)
    if sensitivity_sweep:
        from analysis.sensitivity import indices_from_results

        for name, (fig, table) in indices_from_results(res).items():
            keep(name, fig)
            table.to_csv(out / f"{name}.csv", index=False)
    return made


def _md_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_none_\n"
    return _fmt_table(frame).to_markdown(index=False) + "\n"


def write_report(res: Results, out: Path) -> Path:
    """Write results, figures, report.md and report.html to ``out``; returns the HTML path."""
    out.mkdir(parents=True, exist_ok=True)
    if not res.timeseries.empty:
        res.timeseries.to_parquet(out / "results.parquet", index=False)
    if not res.summary.empty:
        res.summary.to_parquet(out / "summary.parquet", index=False)
    hue, col, varied = design(res.summary) if not res.summary.empty else (None, None, [])
    made = make_figures(res, out, hue, col, varied)
    by = [c for c in (hue, col) if c]
    docking = "docking" in res.summary
    cond = condition_table(res.summary, by) if not res.summary.empty and "final_public_value" in res.summary \
        else pd.DataFrame()
    if docking:
        from analysis.docking import docking_table

        cond = docking_table(res.summary)
    effects, reference = effect_table(res.summary, hue, col) if hue and "final_public_value" in res.summary \
        else (pd.DataFrame(), "")
    meta = res.first_meta
    prov = {
        "results": str(res.root.name),
        "jobs complete": len(res.meta),
        "jobs missing": len(res.missing),
        "jobs failed": len(res.failed),
        "replications per job": meta.get("replications_scheduled"),
        "steps": meta.get("steps"),
        "experiment seed": meta.get("seed"),
        "git commit": (meta.get("git") or {}).get("commit"),
        "uncommitted changes": (meta.get("git") or {}).get("dirty"),
        "python": (meta.get("environment") or {}).get("python"),
        **{f"version {k}": v for k, v in (meta.get("versions") or {}).items() if v},
    }
    scenario = (meta.get("params") or {}).get("scenario", {})
    lines = ["# govsim report", ""]
    if res.note:
        lines += [f"_{res.note}_", ""]
    lines += [f"Results: `{res.root.name}` — {len(res.meta)} complete jobs, {len(res.missing)} missing, "
              f"{len(res.failed)} failed. Varied parameters: {', '.join(varied) or 'none'}.", ""]
    if scenario.get("description"):
        lines += [f"**Scenario {scenario.get('name')}.** {scenario['description']} _Source: "
                  f"{scenario.get('source', '')}_", ""]
    if res.missing or res.failed:
        lines += ["## Missing and failed jobs", ""] + [f"- missing: {m}" for m in res.missing] + \
                 [f"- failed: {f}" for f in res.failed] + [""]
    intro = ("Mean ± standard error over landscapes, beside the published or theoretical value where one exists "
             "(see docs/validation.md)." if docking else "Mean and 95 % confidence interval across replications "
             "(t-interval where the replications look normal, bootstrap otherwise).")
    lines += ["## Conditions", "", intro, "", _md_table(cond)]
    if not effects.empty:
        cols = [c for c in (col, hue, "outcome", "difference", "diff_ci_low", "diff_ci_high", "hedges_g", "g_ci_low",
                            "g_ci_high", "paired") if c]
        lines += ["## Effect sizes", "", f"Each {hue} against `{reference}`: difference of means and Hedges' g with "
                  "bootstrap 95 % CIs (paired by replication where conditions share seeds).", "",
                  _md_table(effects[cols])]
    lines += ["## Figures", ""]
    for name, path in made.items():
        lines += [f"### {name.replace('_', ' ').capitalize()}", "", f"![{name}](figures/{path.name})", ""]
    lines += ["## Provenance", "", _md_table(pd.DataFrame({"item": list(prov), "value": [str(v) for v in
                                                                                       prov.values()]}))]
    if meta.get("overrides") is not None:
        lines += ["Overrides of the first job: `" + " ".join(meta.get("overrides", [])) + "`", ""]
    if meta.get("config"):
        lines += ["<details><summary>Resolved config of the first job</summary>", "", "```json",
                  json.dumps(meta["config"], indent=1, default=str), "```", "", "</details>", ""]
    md = "\n".join(lines)
    (out / "report.md").write_text(md)
    html_path = out / "report.html"
    html_path.write_text(_to_html(md, made))
    return html_path


def _to_html(md: str, made: dict[str, Path]) -> str:
    """A self-contained HTML rendering of the report (figures as base64)."""
    try:
        import markdown  # type: ignore[import-not-found]

        body = markdown.markdown(md, extensions=["tables", "fenced_code"])
    except ImportError:
        body = _minimal_markdown(md)
    for _name, path in made.items():
        data = base64.b64encode(path.read_bytes()).decode()
        body = body.replace(f'src="figures/{path.name}"', f'src="data:image/png;base64,{data}"')
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;font-size:0.85em;margin:1em 0}td,th{border:1px solid #ccc;"
             "padding:3px 6px;text-align:left}img{max-width:100%}pre{background:#f6f6f6;padding:1em;overflow:auto;"
             "font-size:0.8em}")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>govsim report</title><style>{style}</style>" \
           f"</head><body>{body}</body></html>"


def _minimal_markdown(md: str) -> str:
    out, in_table, in_code = [], False, False
    for line in md.splitlines():
        if line.startswith("```"):
            out.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:
            out.append(html.escape(line))
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("!["):
            name, src = line[2:].split("](")
            out.append(f'<img alt="{name}" src="{src[:-1]}">')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.startswith("<"):
            out.append(line)
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        out.append("</table>")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``govsim-report``."""
    parser = argparse.ArgumentParser(prog="govsim-report", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a job directory, a sweep directory, or a folder of sweeps")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: next to the results)")
    args = parser.parse_args(argv)
    try:
        res = load_results(args.path, progress=True)
    except FileNotFoundError as err:
        print(f"govsim-report: {err}", file=sys.stderr)
        return 2
    if res.note:
        print(f"govsim-report: {res.note}")
    if res.summary.empty:
        print(f"govsim-report: no complete jobs in {res.root}", file=sys.stderr)
        for line in res.missing + res.failed:
            print(f"  {line}", file=sys.stderr)
        return 1
    for line in res.missing:
        print(f"govsim-report: missing {line}", file=sys.stderr)
    for line in res.failed:
        print(f"govsim-report: failed {line}", file=sys.stderr)
    out = args.out or res.root
    path = write_report(res, out)
    print(f"govsim-report: wrote {out / 'report.md'}")
    print(f"govsim-report: report at {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
