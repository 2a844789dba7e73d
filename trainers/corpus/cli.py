"""Command line: ``tinyai-corpus build --out DIR`` builds the folds; ``tinyai-corpus hash DIR`` prints a hash."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from pytest_tinyai.dataset import DatasetLayoutError, content_hash
from trainers.corpus.build import build_fold
from trainers.corpus.extract import ExtractError
from trainers.corpus.fetch import FetchError
from trainers.corpus.pipeline import plan_folds, unpack_packages
from trainers.corpus.sources import FOLDS

DEFAULT_SEED = 0
DEFAULT_SIZES = {"train": 4000, "eval": 300}


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinyai-corpus"


def _folds(text: str) -> list[str]:
    folds = [fold.strip() for fold in text.split(",") if fold.strip()]
    unknown = sorted(set(folds) - set(FOLDS))
    if unknown or not folds:
        raise argparse.ArgumentTypeError(f"folds are a comma-separated subset of {','.join(FOLDS)}")
    return folds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinyai-corpus", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="fetch the pinned packages and write the folds under --out")
    build.add_argument("--out", type=Path, required=True, help="folder that receives <fold>/ for each fold")
    build.add_argument("--debs", type=Path, help="folder of the pinned .debs (default: apt-get download)")
    build.add_argument("--cache", type=Path, default=_default_cache(), help="downloads and unpacked packages")
    build.add_argument("--seed", type=int, default=DEFAULT_SEED)
    build.add_argument("--train-size", type=int, default=DEFAULT_SIZES["train"])
    build.add_argument("--eval-size", type=int, default=DEFAULT_SIZES["eval"])
    build.add_argument("--folds", type=_folds, default=list(FOLDS), help="comma-separated: train,eval")
    build.add_argument(
        "--keep-existing", action="store_true", help="skip folds already built completely (their meta.json exists)"
    )
    build.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes")
    digest = commands.add_parser("hash", help="print the content hash of a folder in DUTS layout")
    digest.add_argument("root", type=Path)
    return parser


def _build(args: argparse.Namespace) -> None:
    folds = args.folds
    if args.keep_existing:
        kept = [fold for fold in folds if (args.out / fold / "meta.json").exists()]
        for fold in kept:
            print(f"{args.out / fold}: already built, kept")
        folds = [fold for fold in folds if fold not in kept]
        if not folds:
            return
    trees, packages = unpack_packages(args.debs, args.cache)
    sizes = {"train": args.train_size, "eval": args.eval_size}
    for plan in plan_folds(trees, packages, args.seed, {fold: sizes[fold] for fold in folds}):
        started = time.perf_counter()
        meta = build_fold(plan, args.out, args.workers)
        fractions = meta["foreground_fraction"]
        print(
            f"{args.out / plan.name}: {plan.count} images, {len(plan.objects)} objects, "
            f"{len(plan.backgrounds)} backgrounds, {time.perf_counter() - started:.1f} s; "
            f"foreground fraction min {fractions['min']} median {fractions['median']} max {fractions['max']}; "
            f"content sha256 {meta['content_sha256']}"
        )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tinyai-corpus`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            _build(args)
        else:
            print(content_hash(args.root))
    except (FetchError, ExtractError, DatasetLayoutError, FileExistsError) as error:
        print(f"tinyai-corpus: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
