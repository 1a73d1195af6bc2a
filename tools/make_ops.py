#!/usr/bin/env python3
"""Writes core/src/main/resources/dev/graft/model/nn/ops/*.pt: single libtorch operators that DJL 0.36 does not expose,
each as a tiny TorchScript module (a few KB, no weights) that graft runs through DJL's module call.

- relu6, hardswish, hardsigmoid, silu: one op with a one-pass backward each. Composed from DJL's operators
  (clip, mul, sigmoid) their backward takes several passes over every activation (MobileNet v1 trained at 55
  instead of 87 images/s on 2 cores with ReLU6 as clip).
- bfloat16, float32: dtype casts that keep autograd; DJL 0.36 aborts on toType(BFLOAT16).

Run with Debian's torch: /usr/bin/python3 tools/make_ops.py
"""
import os
import torch


class ToBFloat16(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.bfloat16)


class ToFloat32(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.float32)


OPS = {
    "relu6": torch.nn.ReLU6(),
    "hardswish": torch.nn.Hardswish(),
    "hardsigmoid": torch.nn.Hardsigmoid(),
    "silu": torch.nn.SiLU(),
    "bfloat16": ToBFloat16(),
    "float32": ToFloat32(),
}

out = os.path.join(os.path.dirname(__file__), "..", "core", "src", "main", "resources", "dev", "graft", "model", "nn", "ops")
os.makedirs(out, exist_ok=True)
for name, module in OPS.items():
    path = os.path.join(out, name + ".pt")
    torch.jit.save(torch.jit.script(module), path)
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
