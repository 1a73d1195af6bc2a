#!/usr/bin/env python3
"""Checks a `graft export` folder with PyTorch: torchvision's model of that architecture accepts the state_dict
with strict=True and computes the same logits as graft on the same input.

    /usr/bin/python3 tools/check_export.py EXPORT_DIR

Needs torch and torchvision (Debian: apt-get install python3-torch python3-torchvision). Reads safetensors
itself (the format is an 8-byte header length, a JSON header and raw data), so no extra package is needed.
"""
import json
import struct
import sys

import numpy as np
import torch
import torchvision

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


def main(folder):
    state, meta = load_safetensors(f"{folder}/model.safetensors")
    labels = json.load(open(f"{folder}/labels.json"))
    arch = meta.get("graft_architecture", "resnet18")
    model = torchvision.models.get_model(arch, num_classes=len(labels))
    result = model.load_state_dict(state, strict=True)
    model.eval()
    x = torch.from_numpy(np.load(f"{folder}/example_input.npy"))
    want = np.load(f"{folder}/example_logits.npy")
    with torch.no_grad():
        got = model(x).numpy()
    diff = float(np.abs(got - want).max())
    rel = float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-12))
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}: {arch}(num_classes={len(labels)}) "
          f"load_state_dict(strict=True): {result}; logits max |diff| {diff:.2e}, relative L2 {rel:.2e}")
    # float32 rounding grows with the logits' size: the largest difference is judged against the largest logit
    ok = diff < 1e-3 * max(1.0, float(np.abs(want).max())) and rel < 1e-4
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
