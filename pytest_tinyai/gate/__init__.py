"""The held-out gate: a ratchet ledger of declared gates and the per-run evaluation of models on their fold."""
