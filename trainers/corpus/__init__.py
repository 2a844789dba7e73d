"""Saliency corpus built from pinned Debian packages: photographic cut-outs pasted onto photographs.

``python -m trainers.corpus.cli build --out DIR`` (console script ``tinyai-corpus``) fetches and verifies the
pinned .debs, selects objects and backgrounds, and writes the ``train`` and ``eval`` folds in DUTS layout.
"""
