#!/usr/bin/env python3
"""Writes core/src/main/resources/dev/graft/model/nn/ops/*.pt: single libtorch operators that DJL 0.36 does not expose,
each as a tiny TorchScript module (a few KB, no weights) that graft runs through DJL's module call.

- relu6, hardswish, hardsigmoid, silu: one op with a one-pass backward each. Composed from DJL's operators
  (clip, mul, sigmoid) their backward takes several passes over every activation (MobileNet v1 trained at 55
  instead of 87 images/s on 2 cores with ReLU6 as clip).
- bfloat16, float32: dtype casts that keep autograd; DJL 0.36 aborts on toType(BFLOAT16).
- relu_inplace: ReLU in place (torch.nn.ReLU(inplace=True)), for ResNet in training too: its gradient reads its
  output, so autograd keeps that and copies nothing (unlike ReLU6's, which reads the input).
- relu6_inplace, relu6_pad: inference only (no autograd). ReLU6 in place (as torch.nn.ReLU6(inplace=True)), and
  ReLU6 written straight into a buffer one row and column larger whose extra row and column are zero: Keras's
  ReLU6 followed by ZeroPadding2D(((0, 1), (0, 1))) (TensorFlow's 'same' padding before a stride-2 convolution)
  in one pass instead of a pass and a copy (MobileNet v1 inference had four such copies of its largest maps).
- pad_channels_last: x (in any memory order) padded by one zero row and column at the bottom and right, in
  channels-last order, in one copy: the network input of a Keras model whose stem is a stride-2 'same' convolution,
  which otherwise took a copy into channels-last order and a second, padded one (and a fill of the whole buffer).
  Not differentiated (the input of a network needs no gradient).

Run with Debian's torch: /usr/bin/python3 tools/make_ops.py [name ...]   (no names: all of them)
"""
import os
import sys
import torch


class ToBFloat16(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.bfloat16)


class ToFloat32(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.float32)


class ReluInPlace(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu_(x)


class Relu6InPlace(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.hardtanh_(x, 0.0, 6.0)


def padded_bottom_right(x: torch.Tensor) -> torch.Tensor:
    """An empty channels-last buffer one row and column larger than x, that row and column zero."""
    n, c, h, w = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    y = torch.empty([n, c, h + 1, w + 1], dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
    y[:, :, h, :].zero_()
    y[:, :, :h, w].zero_()
    return y


class Relu6PadBottomRight(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = padded_bottom_right(x)
        torch.clamp(x, 0.0, 6.0, out=y[:, :, :x.shape[2], :x.shape[3]])
        return y


class PadChannelsLast(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = padded_bottom_right(x)
        y[:, :, :x.shape[2], :x.shape[3]].copy_(x)
        return y


OPS = {
    "relu6": torch.nn.ReLU6(),
    "hardswish": torch.nn.Hardswish(),
    "hardsigmoid": torch.nn.Hardsigmoid(),
    "silu": torch.nn.SiLU(),
    "bfloat16": ToBFloat16(),
    "float32": ToFloat32(),
    "relu_inplace": ReluInPlace(),
    "relu6_inplace": Relu6InPlace(),
    "relu6_pad": Relu6PadBottomRight(),
    "pad_channels_last": PadChannelsLast(),
}

out = os.path.join(os.path.dirname(__file__), "..", "core", "src", "main", "resources", "dev", "graft", "model", "nn", "ops")
os.makedirs(out, exist_ok=True)
for name, module in OPS.items():
    if sys.argv[1:] and name not in sys.argv[1:]:
        continue
    path = os.path.join(out, name + ".pt")
    torch.jit.save(torch.jit.script(module), path)
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
