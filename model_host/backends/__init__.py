"""Engines that turn prompt ids into generated ids, behind one seam (`base.Backend`)."""
