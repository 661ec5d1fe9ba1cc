"""Command line: ``python -m mlstc book | run | verify | check-data | predict``.

    python -m mlstc book                       # every notebook, cpu profile, then the HTML book
    python -m mlstc book --profile smoke --only 00
    python -m mlstc run 02 -p datasets my_news.csv --profile cpu
    python -m mlstc verify 01 04 --record      # rerun chapters 01 and 04, compare with results/
    python -m mlstc verify --evidence          # recompute every committed number from the committed arrays
    python -m mlstc check-data                 # find and verify every data set
    python -m mlstc readme --write             # the README's findings and time table from the records
    python -m mlstc predict --model results/cpu/02_lstm/models/reuters "Oil prices fell"
    python -m mlstc repository https://github.com/you/mlstc   # buttons, badges and Colab point at it
"""

from __future__ import annotations

import argparse
import sys

# the two headlines each chapter's saved model is asked about (`predict` in chapters 02, 03 and 05)
EXAMPLES = ["Saudi Arabia raises crude oil output as OPEC talks stall",
            "Bundesbank leaves interest rates unchanged, dollar firms against the mark"]


def parser() -> argparse.ArgumentParser:
    """The command line: one subparser per subcommand (:data:`SUBCOMMANDS`), each with
    the function that adds its arguments and the function that runs it."""
    parser = argparse.ArgumentParser(prog="python -m mlstc", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, arguments, handler) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        arguments(sub)
        sub.set_defaults(handler=handler)
    return parser


def _book_arguments(book) -> None:
    book.add_argument("--profile", default="", help="smoke, cpu or gpu (default: $MLSTC_PROFILE or cpu)")
    book.add_argument("--only", nargs="+", metavar="NOTEBOOK",
                      help="run only these notebooks (e.g. 00 01_preprocessing)")
    book.add_argument("--no-execute", action="store_true", help="build from the executed copies already in book/")
    book.add_argument("--no-build", action="store_true", help="execute only")


def _run_arguments(run) -> None:
    run.add_argument("notebook", help="file name, stem or number, e.g. 00 or 00_data")
    run.add_argument("--profile", default="")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                     help="papermill parameter (repeatable)")
    run.add_argument("--output-dir", default=None, help="where the executed copy goes (default book/)")
    run.add_argument("--strategy", default="default", choices=("default", "mirrored", "multi-worker"),
                     help="tf.distribute strategy for the neural models: mirrored = every GPU of this machine, "
                          "multi-worker = several machines described by TF_CONFIG")
    run.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                     help="stop the notebook after this long (default: the profile's limit)")


def _verify_arguments(verify) -> None:
    verify.add_argument("notebook", nargs="*", help="file names, stems or numbers, e.g. 01 04")
    verify.add_argument("--evidence", action="store_true",
                        help="recompute metrics, intervals, comparisons and Holm p from results/<profile>/ "
                             "(default profile cpu) and name every difference; trains nothing")
    verify.add_argument("--profile", default=None, help="default: the profile of the executed copy in book/")
    verify.add_argument("--record", action="store_true",
                        help="keep each chapter's summary in results/<profile>/reproduced.json (the environment page)")


def _fits_arguments(fits) -> None:
    fits.add_argument("base", help="a git commit (0ca32b4 or later), e.g. HEAD or main")
    fits.add_argument("--chapters", nargs="+", default=None, metavar="NN", help="default: 00 to 07")


def _check_arguments(check) -> None:
    check.add_argument("--data-dir", default=None)


def _predict_arguments(predict) -> None:
    predict.add_argument("--model", required=True,
                         help="directory written by mlstc.saved (a network, a pipeline or an ensemble)")
    predict.add_argument("texts", nargs="*", help="texts to classify")
    predict.add_argument("--file", help="a UTF-8 file with one text per line")
    predict.add_argument("--top-k", type=int, default=3, help="always show this many best labels")


def _readme_arguments(readme) -> None:
    readme.add_argument("--write", action="store_true", help="write them into README.md between their markers")


def _repository_arguments(repo) -> None:
    repo.add_argument("url", nargs="?", help="https://github.com/OWNER/NAME")
    repo.add_argument("--none", action="store_true", help="the book has no public repository: no buttons, badges "
                                                          "or clone lines")
    repo.add_argument("--branch", default="main")


def _book(args) -> int:
    from mlstc.book import runner

    runner.book(args.profile, args.only, execute_notebooks=not args.no_execute, build_html=not args.no_build)
    return 0


def _run(args) -> int:
    from pathlib import Path

    from mlstc.book import runner

    # notebooks run with the repository as working directory: make file paths absolute
    parameters = {k: _absolute(v) if k in ("datasets", "data_dir", "hierarchy", "checkpoint")
                  else runner.parse_value(v) for k, v in args.parameter}
    runner.execute(runner.find(args.notebook), args.profile, parameters,
                   output_dir=Path(args.output_dir) if args.output_dir else None, timeout_s=args.timeout,
                   environment={"MLSTC_STRATEGY": args.strategy})
    return 0


def _verify(args) -> int:
    from mlstc.book import verify as verifying

    if args.evidence:
        return verifying.evidence_check(args.profile or "cpu")
    if not args.notebook:
        raise ValueError("verify needs the chapters to rerun (e.g. 01 04), or --evidence")
    import pandas as pd

    from mlstc.book import shown

    ok = True
    for notebook in args.notebook:
        found = verifying.verify(notebook, args.profile)
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(found.metrics.to_string(index=False))
        n = found.summary()
        bad = n["metrics judged"] - n["metrics agreeing"]
        print(f"{found.notebook}: {n['metrics agreeing']} of {n['metrics judged']} judged metrics agree within "
              "their tolerance" + (f"; {bad} disagree" if bad else "")
              + f" ({n['metrics'] - n['metrics judged']} more shown, not judged: no seed spread recorded); "
              f"{n['probability files identical']} of {n['probability files']} probability files are "
              "identical to the committed ones" + (f"; different: {', '.join(found.different_files)}"
                                                  if found.different_files else ""), flush=True)
        if args.record:
            print(f"recorded in {shown.path(verifying.record(found))}")
        ok = ok and found.agree
    return 0 if ok else 1


def _fits_compare(args) -> int:
    from mlstc.book import equivalence

    rows, keys = equivalence.compare(args.base, args.chapters or equivalence.CHAPTERS)
    different = [r for r in rows if not r["identical"]]
    for r in different:
        print(f"different: {r['kind']} {r['a']} -> {r['b']} (largest difference {r['largest_difference']:.3g})")
    print(f"{len(rows) - len(different)} of {len(rows)} trainings identical")
    print("code keys for fitcompare.EQUIVALENT: " + (str(keys) if not different else "none (not identical)"))
    return 1 if different else 0


def _readme(args) -> int:
    from mlstc.book import readme

    if args.write:
        changed = readme.write()
        print(f"README.md: {', '.join(changed) if changed else 'nothing'} rewritten")
    for name, make in readme.BLOCKS.items():
        print(f"\n{name}:\n{make()}")
    return 0


def _check_data(args) -> int:
    from mlstc import data

    for name in data.LOADERS:
        ds = data.load(name, args.data_dir)
        sizes = ", ".join(f"{k} {len(v)}" for k, v in ds.splits.items())
        count = len(ds.provenance.files)
        print(f"{name}: {count} file{'s' if count != 1 else ''} verified in {ds.provenance.location}; {sizes}")
    return 0


def _repository(args) -> int:
    from mlstc.book import repository

    if args.url or args.none:
        changed = repository.point_at(None if args.none else args.url, args.branch)
        print(f"_config.yml and {changed} notebooks now point at {args.url or 'no repository'}")
    url, branch = repository.configured()
    problems = repository.disagreements()
    print(f"repository: {url or 'none'}" + (f" ({branch})" if url else "")
          + "".join(f"\n  disagrees: {p}" for p in problems))
    return 1 if problems else 0


def _predict(args) -> int:
    texts = list(args.texts)
    if args.file:
        from pathlib import Path

        texts += [line for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise ValueError("give texts as arguments or --file FILE")
    from mlstc import saved

    predictor = saved.load(args.model)
    for text, labels in zip(texts, predictor.predict(texts, top_k=args.top_k)):
        print(text)
        for label, score, chosen in labels:
            print(f"  {'*' if chosen else ' '} {label:<24} {score:.3f}")
    return 0


SUBCOMMANDS = {  # name -> (help, the function that adds its arguments, the function that runs it)
    "book": ("execute the notebooks with papermill and build the HTML book", _book_arguments, _book),
    "run": ("execute one notebook into book/", _run_arguments, _run),
    "verify": ("rerun chapters into a temporary folder and compare with results/; with --evidence, recompute "
               "every number from the committed probabilities instead (no training)", _verify_arguments, _verify),
    "fits-compare": ("whether the working tree trains what a commit trained, byte for byte (smoke passes under "
                     "both; see mlstc/models/fitcompare.py)", _fits_arguments, _fits_compare),
    "check-data": ("find and verify every data set", _check_arguments, _check_data),
    "predict": ("labels and scores of new texts from a saved model", _predict_arguments, _predict),
    "readme": ("the README's findings and time table from the committed records (claims and "
               "results/cpu/run_log.jsonl)", _readme_arguments, _readme),
    "repository": ("show the book's repository URL, or set one (or --none): _config.yml's buttons, every Colab "
                   "badge and clone line", _repository_arguments, _repository),
}


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run its subcommand's function; 1 with the error's message
    for a mistake a reader can make (a wrong name, path or argument)."""
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except (RuntimeError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _absolute(value: str) -> str:
    """Make each relative path in a comma-separated list absolute (names stay)."""
    from pathlib import Path

    def one(item):
        name, _, path = item.rpartition("=") if "=" in item else ("", "", item)
        path = str(Path(path).expanduser().resolve()) if Path(path).expanduser().exists() else path
        return f"{name}={path}" if name else path

    return ",".join(one(item.strip()) for item in value.split(","))
