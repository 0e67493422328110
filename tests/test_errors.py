"""Every error footfall raises on purpose can be caught as `FootfallError`."""

from __future__ import annotations

import importlib
import pkgutil

import footfall
from footfall.errors import DropEvent, FootfallError

# Not errors: a signal a processor raises to stop an event; nothing outside the chain sees it.
NOT_ERRORS = {DropEvent}


def _exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(footfall.__path__, "footfall."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            # type(obj), not isinstance: a lazy object (Django's settings) must not be touched.
            if issubclass(type(obj), type) and issubclass(obj, BaseException):
                if obj.__module__ == module.__name__:
                    found.append(obj)
    return found


def test_every_footfall_exception_subclasses_footfall_error() -> None:
    classes = _exception_classes()
    assert FootfallError in classes  # the walk does see footfall's modules
    strays = sorted(
        f"{c.__module__}.{c.__qualname__}"
        for c in classes
        if c not in NOT_ERRORS and not issubclass(c, FootfallError)
    )
    assert strays == []
