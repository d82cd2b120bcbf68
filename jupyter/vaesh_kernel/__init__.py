"""The vaesh Jupyter kernel: ipykernel speaks Jupyter's protocol, one vaesh process does the work.

kernel.py maps Jupyter's requests onto vaesh's; child.py runs `vaesh --kernel-protocol` and
speaks its JSON lines. See ../README.md.
"""

from .kernel import VaeshKernel

__all__ = ["VaeshKernel"]
