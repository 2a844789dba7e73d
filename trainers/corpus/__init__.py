"""Saliency corpus built from pinned Debian packages: photographic cut-outs pasted onto photographs.

``tinyai-corpus build --out DIR`` fetches and verifies the pinned .debs, selects objects and backgrounds, and
writes the ``train`` and ``eval`` folds in DUTS layout; ``tinyai-corpus pack --out DIR`` writes the source pack
(pre-scaled cut-outs and backgrounds split train/val/eval) that the trainers composite on the fly.
"""
