"""The PyTorch reference a sidecar names as ``"module:callable"``, built and put in eval mode, float32.

The parity check imports it only after `reference_roots.within_roots` has accepted it.
"""

from __future__ import annotations

import importlib

from torch import nn

from pytest_tinyai.parity import ParityError


def load_reference(spec: str) -> nn.Module:
    """Import ``module``, call ``callable()`` and return the nn.Module it builds, in eval mode and float32.

    Raises ParityError naming the import string when the module cannot be imported, lacks the callable, the
    call raises, or what it returns is not an nn.Module.
    """
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as error:  # whatever importing the module raises makes the reference broken
        raise ParityError(f"reference '{spec}': cannot import module '{module_name}': {error!r}") from error
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ParityError(f"reference '{spec}': module '{module_name}' has no callable '{attribute}'")
    try:
        built = factory()
    except (Exception, SystemExit) as error:  # whatever the factory raises makes the reference unusable
        raise ParityError(f"reference '{spec}': calling {attribute}() raised {error!r}") from error
    if not isinstance(built, nn.Module):
        raise ParityError(f"reference '{spec}': {attribute}() returned {type(built).__name__}, not a torch nn.Module")
    return built.float().eval().requires_grad_(False)
