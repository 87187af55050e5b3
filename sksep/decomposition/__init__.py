"""Multichannel separation by independent component analysis."""

from ._fastica import FastICASeparator

__all__ = ["FastICASeparator"]
