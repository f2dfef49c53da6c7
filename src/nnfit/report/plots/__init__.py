"""The PNG plots: learning curves, the size curve, the learning-rate range test, the sweep."""
