#!/usr/bin/python3
"""Prints the reference values used by nn.TestAdamMatchesPyTorch and
nn.TestLinearDecayMatchesReference. Run with Debian's python3-torch."""
import torch

p = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
o = torch.optim.Adam([p], lr=0.1, betas=(0.5, 0.999))
for g in ([0.1, -0.2, 0.3], [1.0, 0.5, -2.0], [-0.3, 0.0, 0.7]):
    p.grad = torch.tensor(g, dtype=torch.float64)
    o.step()
print("adam", repr(p.data.tolist()))
# CycleGAN's lambda rule, epoch_count=1, n_epochs=3, n_epochs_decay=4
print("decay", [1.0 - max(0, e + 1 - 3) / float(4 + 1) for e in range(8)])
