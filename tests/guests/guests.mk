# Test guests: small freestanding kernels loaded as multiboot2 modules
# (filled in by the VMX core work).
guests:
