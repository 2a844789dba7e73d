"""Command line: ``tinyai-corpus build --out DIR`` builds the folds, ``tinyai-corpus pack --out DIR`` the source
pack; ``tinyai-corpus hash DIR`` prints the content hash of a fold or of a pack (verifying its files)."""

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
from trainers.corpus.pack import build_pack, curation_sha256
from trainers.corpus.pack_format import PackError, is_pack, pack_content_hash, read_manifest
from trainers.corpus.pipeline import curated_sources, plan_folds, unpack_packages
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


def _package_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--debs", type=Path, help="folder of the pinned .debs (default: apt-get download)")
    command.add_argument("--cache", type=Path, default=_default_cache(), help="downloads and unpacked packages")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinyai-corpus", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="fetch the pinned packages and write the folds under --out")
    build.add_argument("--out", type=Path, required=True, help="folder that receives <fold>/ for each fold")
    _package_options(build)
    build.add_argument("--seed", type=int, default=DEFAULT_SEED)
    build.add_argument("--train-size", type=int, default=DEFAULT_SIZES["train"])
    build.add_argument("--eval-size", type=int, default=DEFAULT_SIZES["eval"])
    build.add_argument("--folds", type=_folds, default=list(FOLDS), help="comma-separated: train,eval")
    build.add_argument(
        "--keep-existing", action="store_true", help="skip folds already built completely (their meta.json exists)"
    )
    build.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes")
    pack = commands.add_parser("pack", help="fetch the pinned packages and write the source pack to --out")
    pack.add_argument("--out", type=Path, required=True, help="the pack's folder (e.g. data/source-pack)")
    _package_options(pack)
    pack.add_argument(
        "--keep-existing",
        action="store_true",
        help="skip the build when --out holds a valid pack of the current curation",
    )
    digest = commands.add_parser("hash", help="print the content hash of a fold (DUTS layout) or a source pack")
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


def _pack(args: argparse.Namespace) -> None:
    if args.keep_existing and is_pack(args.out):
        manifest = read_manifest(args.out)
        if manifest.get("curation_sha256") == curation_sha256():
            print(f"{args.out}: already built, kept (content sha256 {manifest['content_sha256']})")
            return
        print(f"{args.out}: built from another curation (pins, curated lists or selection code differ): rebuilding")
    trees, packages = unpack_packages(args.debs, args.cache)
    started = time.perf_counter()
    manifest = build_pack(*curated_sources(trees), packages, args.out)
    size = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    counts = ", ".join(
        f"{split} {c['objects']} objects {c['backgrounds']} backgrounds" for split, c in manifest["counts"].items()
    )
    print(
        f"{args.out}: {counts}; {size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s; "
        f"content sha256 {manifest['content_sha256']}"
    )


def _hash(root: Path) -> str:
    return pack_content_hash(root, read_manifest(root)) if is_pack(root) else content_hash(root)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tinyai-corpus`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            _build(args)
        elif args.command == "pack":
            _pack(args)
        else:
            print(_hash(args.root))
    except (FetchError, ExtractError, DatasetLayoutError, PackError, FileExistsError) as error:
        print(f"tinyai-corpus: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
