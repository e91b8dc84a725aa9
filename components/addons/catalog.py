"""The add-ons every cluster gets, in one list: adding or dropping one is one line here.

Each entry is an `AddOn` record defined in its own module of this package.
"""

from __future__ import annotations

from components.addons.base import AddOn

ADDONS: tuple[AddOn, ...] = ()
