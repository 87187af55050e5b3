"""The torch device a separator runs on (torch only: the light inference
path, sksep.pretrained.load_network, imports it without scikit-learn)."""


def resolve_device(device):
    """``device`` with ``'auto'`` made a CUDA GPU when torch sees one, else
    the CPU; any other value as it is."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
