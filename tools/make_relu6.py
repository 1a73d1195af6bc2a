#!/usr/bin/env python3
"""Writes src/main/resources/dev/graft/model/relu6.pt: torch.nn.ReLU6 as a TorchScript module.

DJL 0.36 has no ReLU6/hardtanh operator; as clamp, ReLU6's backward takes several passes over each activation
(MobileNet v1 training about 55 instead of 87 images/s on 2 cores). This module gives graft libtorch's one-pass
hardtanh and hardtanh_backward. Run with Debian's torch: /usr/bin/python3 tools/make_relu6.py
"""
import os
import torch

out = os.path.join(os.path.dirname(__file__), "..", "src", "main", "resources", "dev", "graft", "model", "relu6.pt")
torch.jit.save(torch.jit.script(torch.nn.ReLU6()), out)
print("wrote", os.path.normpath(out))
