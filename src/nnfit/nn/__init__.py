"""The engine: NumPy only. Layers, activations, losses, optimizers, the Network and its builder."""
