"""Multichannel separation: ICA for instantaneous mixtures, IVA for rooms."""

from ._fastica import FastICASeparator
from ._iva import IVASeparator

__all__ = ["FastICASeparator", "IVASeparator"]
