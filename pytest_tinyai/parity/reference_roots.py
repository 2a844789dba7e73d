"""Which references may be imported: a sidecar is registry data, so its import string is code it asks us to run.

Only modules inside the import roots that the repository's owner trusts (the `tinyai_reference_roots` ini
option, e.g. `trainers`) are ever imported; a registry folder is never on sys.path, so it cannot shadow them.
"""

from __future__ import annotations


def within_roots(spec: str, roots: tuple[str, ...]) -> bool:
    """Whether the import string's module is one of the trusted roots or a module below one."""
    module_name = spec.partition(":")[0]
    return any(module_name == root or module_name.startswith(f"{root}.") for root in roots)
