"""lrlint: find misuse of PyTorch learning-rate schedulers before the training run."""

__version__ = "0.1.0"
