"""deeprnn: deep recurrent networks from scratch in NumPy, with PyTorch's API."""

__version__ = "0.1.0"
