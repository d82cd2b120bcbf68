"""What the vaesh kernelspec runs: `python launch_kernel.py -f CONNECTION_FILE`.

Run by its path, so this folder is on sys.path and vaesh_kernel imports without being installed.
The vaesh binary to drive comes from $VAESH_KERNEL_BINARY, which the kernelspec sets.
"""

from ipykernel.kernelapp import IPKernelApp

from vaesh_kernel import VaeshKernel

if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=VaeshKernel)
