"""The reference of the engine's torch test assignment (trusted side only)."""

import torch.nn.functional as F
from torch import nn


def conv(x, w, b, stride=1, pad=0):
    return F.conv2d(x, w, b, stride=stride, padding=pad)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, padding=1)
        self.fc = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        return self.fc(F.dropout(F.relu(self.conv1(x)), 0.5, self.training).flatten(1))
